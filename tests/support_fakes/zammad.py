"""A fake Zammad: the REST API v1 endpoints chalicelib/support_backends/zammad.py uses, with the
JSON shapes of Zammad's API documentation (docs.zammad.org, api/intro, api/ticket/index,
api/ticket/articles, api/ticket/states, api/ticket/priorities) and the default webhook payload of
its admin documentation (admin-docs.zammad.org, manage/webhook/payload). Escalation, SLA and
time-accounting fields a real ticket carries are answered as the documented nulls and empties.

Relations are answered as ids (`state_id`, `priority_id`, ...) and, with `expand=true`, also by
name, as Zammad does; `honour_expand = False` makes the fake answer ids only (the adapter must then
look the names up). States and priorities are Zammad's defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.support_fakes.server import Answer, FakeDesk, Handler, RemoteError, Request, post_webhook

TOKEN = "zammad-access-token-123"
STATES = {1: "new", 2: "open", 3: "pending reminder", 4: "closed", 5: "merged", 7: "pending close"}
PRIORITIES = {1: "1 low", 2: "2 normal", 3: "3 high"}
GROUPS = {1: "Users", 2: "2nd Level"}
SEARCH = re.compile(r"^updated_at:>=(?P<at>\d{4}-\d\d-\d\dT\d\d\\:\d\d\\:\d\dZ)$")


def zammad_time(when: datetime) -> str:
    """Zammad's timestamp format: 2026-01-05T10:01:00.000Z."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass
class User:
    id: int
    login: str
    firstname: str
    lastname: str

    @property
    def email(self) -> str:
        return self.login

    def webhook(self) -> dict[str, Any]:
        """A user as the default webhook payload nests it."""
        return {
            "active": True,
            "email": self.email,
            "firstname": self.firstname,
            "id": self.id,
            "lastname": self.lastname,
            "login": self.login,
            "roles": ["Agent"] if self.id < 10 else ["Customer"],
        }


@dataclass
class Article:
    id: int
    ticket_id: int
    body: str
    internal: bool
    type: str
    sender: str
    author: User
    subject: str | None
    content_type: str
    created_at: datetime


@dataclass
class Ticket:
    id: int
    number: str
    title: str
    group_id: int
    customer: User
    state_id: int
    priority_id: int
    created_by: User
    created_at: datetime
    updated_at: datetime
    updated_by: User
    article_ids: list[int] = field(default_factory=list)


@dataclass
class FakeZammad(FakeDesk):
    users: dict[int, User] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    articles: dict[int, Article] = field(default_factory=dict)
    honour_expand: bool = True
    agent: User = field(default_factory=lambda: User(3, "agent@example.com", "Emma", "Taylor"))
    _next_article: int = 100

    def __post_init__(self) -> None:
        self.users[self.agent.id] = self.agent
        nicole = User(2, "nicole.braun@zammad.org", "Nicole", "Braun")
        self.users[nicole.id] = nicole

    # -- auth -----------------------------------------------------------------------------------

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Token token={TOKEN}"

    def unauthorized(self) -> Answer:
        return Answer(401, {"error": "Authentication failed", "error_human": "Authentication failed"})

    def not_found(self) -> Answer:
        return Answer(404, {"error": "No route matches", "error_human": "No route matches"})

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", r"/api/v1/tickets", self.create_ticket),
            ("GET", r"/api/v1/tickets/search", self.search),
            ("GET", r"/api/v1/tickets/(\d+)", self.show_ticket),
            ("PUT", r"/api/v1/tickets/(\d+)", self.update_ticket),
            ("POST", r"/api/v1/ticket_articles", self.create_article),
            ("GET", r"/api/v1/ticket_articles/by_ticket/(\d+)", self.articles_by_ticket),
            ("GET", r"/api/v1/ticket_states", self.list_states),
            ("GET", r"/api/v1/ticket_priorities", self.list_priorities),
        ]

    # -- the remote side, as a test drives it ---------------------------------------------------

    def ticket(self, ticket_id: int | str) -> Ticket:
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            raise RemoteError(
                Answer(
                    404,
                    {
                        "error": f"Couldn't find Ticket with 'id'={ticket_id}",
                        "error_human": f"Couldn't find Ticket with 'id'={ticket_id}",
                    },
                )
            )
        return ticket

    def agent_article(
        self, ticket_id: int | str, body: str, *, internal: bool, author: User | None = None
    ) -> Article:
        """An agent (or the customer by mail) adds an article to the ticket in Zammad."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            by = author or self.agent
            sender = "Agent" if by.id < 10 else "Customer"
            return self._add_article(
                ticket, body, internal, "note" if internal else "email", sender, by, None, "text/html"
            )

    def agent_set_state(self, ticket_id: int | str, state: str) -> None:
        with self.lock:
            ticket = self.ticket(ticket_id)
            ticket.state_id = self._lookup(STATES, state, "state")
            ticket.updated_at, ticket.updated_by = self.tick(), self.agent

    def webhook_payload(self, ticket_id: int | str, article: Article | None = None) -> dict[str, Any]:
        """The default webhook payload: the ticket with its relations as objects and, for triggers
        on articles, the article (admin docs, "Webhook Payload")."""
        ticket = self.ticket(ticket_id)
        payload: dict[str, Any] = {
            "ticket": {
                **self._ticket_json(ticket, expand=False),
                "customer": ticket.customer.webhook(),
                "created_by": ticket.created_by.webhook(),
                "updated_by": ticket.updated_by.webhook(),
                "group": {"active": True, "id": ticket.group_id, "name": GROUPS[ticket.group_id]},
                "priority": {
                    "active": True,
                    "id": ticket.priority_id,
                    "name": PRIORITIES[ticket.priority_id],
                },
                "state": STATES[ticket.state_id],
                "article_ids": list(ticket.article_ids),
            },
            "article": {},
        }
        if article is not None:
            payload["article"] = {
                **self._article_json(article, expand=False),
                "attachments": [],
                "created_by": article.author.webhook(),
                "updated_by": article.author.webhook(),
                "sender": article.sender,
                "type": article.type,
            }
        return payload

    def send_webhook(
        self, url: str, payload: dict[str, Any], secret: str | None, trigger: str = "Cirrus sync"
    ) -> int:
        headers = {"User-Agent": "Zammad User Agent", "X-Zammad-Trigger": trigger, "X-Zammad-Delivery": "d-1"}
        return post_webhook(url, payload, secret=secret, algorithm="sha1", headers=headers)

    # -- endpoints ------------------------------------------------------------------------------

    def create_ticket(self, request: Request) -> Answer:
        body = request.body or {}
        if not isinstance(body.get("title"), str) or not body["title"].strip():
            return self._unprocessable("Title can't be blank")
        group_id = self._lookup(GROUPS, body.get("group"), "group")
        customer = self._customer(body)
        now = self.tick()
        ticket_id = len(self.tickets) + 1
        ticket = Ticket(
            id=ticket_id,
            number=str(31000 + ticket_id),
            title=body["title"],
            group_id=group_id,
            customer=customer,
            state_id=self._lookup(STATES, body.get("state", "new"), "state"),
            priority_id=self._lookup(PRIORITIES, body.get("priority", "2 normal"), "priority"),
            created_by=self.agent,
            created_at=now,
            updated_at=now,
            updated_by=self.agent,
        )
        self.tickets[ticket.id] = ticket
        article = body.get("article")
        if isinstance(article, dict):
            self._article_from(ticket, article)
        return Answer(201, self._ticket_json(ticket, expand=self._expand(request)))

    def show_ticket(self, request: Request, ticket_id: str) -> Answer:
        return Answer(200, self._ticket_json(self.ticket(ticket_id), expand=self._expand(request)))

    def update_ticket(self, request: Request, ticket_id: str) -> Answer:
        ticket = self.ticket(ticket_id)
        body = request.body or {}
        if "title" in body:
            if not isinstance(body["title"], str) or not body["title"].strip():
                return self._unprocessable("Title can't be blank")
            ticket.title = body["title"]
        if "state" in body:
            ticket.state_id = self._lookup(STATES, body["state"], "state")
        if "priority" in body:
            ticket.priority_id = self._lookup(PRIORITIES, body["priority"], "priority")
        if "group" in body:
            ticket.group_id = self._lookup(GROUPS, body["group"], "group")
        if isinstance(body.get("article"), dict):
            self._article_from(ticket, body["article"])
        ticket.updated_at, ticket.updated_by = self.tick(), self.agent
        return Answer(200, self._ticket_json(ticket, expand=self._expand(request)))

    def create_article(self, request: Request) -> Answer:
        body = request.body or {}
        ticket_id = body.get("ticket_id")
        if not isinstance(ticket_id, int):
            return self._unprocessable("Need ticket_id!")
        article = self._article_from(self.ticket(ticket_id), body)
        return Answer(201, self._article_json(article, expand=self._expand(request)))

    def articles_by_ticket(self, request: Request, ticket_id: str) -> Answer:
        ticket = self.ticket(ticket_id)
        expand = self._expand(request)
        return Answer(200, [self._article_json(self.articles[i], expand=expand) for i in ticket.article_ids])

    def search(self, request: Request) -> Answer:
        match = SEARCH.match(request.query.get("query", ""))
        if not match:
            return self._unprocessable("the fake understands only updated_at:>=<escaped ISO time>")
        since = datetime.strptime(match["at"].replace("\\", ""), "%Y-%m-%dT%H:%M:%S%z")
        hits = [t for t in self.tickets.values() if t.updated_at >= since]
        if request.query.get("sort_by") == "updated_at":
            hits.sort(key=lambda t: t.updated_at, reverse=request.query.get("order_by") == "desc")
        per_page = min(int(request.query.get("per_page", "50")), 100)
        page = int(request.query.get("page", "1"))
        chosen = hits[(page - 1) * per_page : page * per_page]
        return Answer(200, [self._ticket_json(t, expand=self._expand(request)) for t in chosen])

    def list_states(self, request: Request) -> Answer:
        return Answer(
            200,
            [
                {
                    "id": i,
                    "state_type_id": i,
                    "name": name,
                    "next_state_id": None,
                    "ignore_escalation": i > 2,
                    "default_create": i == 1,
                    "default_follow_up": i == 2,
                    "note": None,
                    "active": True,
                    "updated_by_id": 1,
                    "created_by_id": 1,
                    "created_at": "2021-11-03T11:51:13.504Z",
                    "updated_at": "2021-11-03T11:51:13.520Z",
                }
                for i, name in STATES.items()
            ],
        )

    def list_priorities(self, request: Request) -> Answer:
        return Answer(
            200,
            [
                {
                    "id": i,
                    "name": name,
                    "default_create": i == 2,
                    "ui_icon": None,
                    "ui_color": None,
                    "note": None,
                    "active": True,
                    "updated_by_id": 1,
                    "created_by_id": 1,
                    "created_at": "2021-11-03T11:51:13.540Z",
                    "updated_at": "2021-11-03T11:51:13.540Z",
                }
                for i, name in PRIORITIES.items()
            ],
        )

    # -- helpers and shapes ---------------------------------------------------------------------

    def _expand(self, request: Request) -> bool:
        return self.honour_expand and request.query.get("expand") == "true"

    def _unprocessable(self, message: str) -> Answer:
        return Answer(422, {"error": message, "error_human": message})

    def _lookup(self, table: dict[int, str], name: Any, what: str) -> int:
        for key, value in table.items():
            if value == name:
                return key
        raise RemoteError(self._unprocessable(f"No lookup value found for '{what}': {name!r}"))

    def _customer(self, body: dict[str, Any]) -> User:
        wanted = body.get("customer_id")
        if isinstance(wanted, str) and wanted.startswith("guess:"):
            email = wanted.removeprefix("guess:")
            for user in self.users.values():
                if user.email.casefold() == email.casefold():
                    return user
            user = User(10 + len(self.users), email.lower(), "", "")
            self.users[user.id] = user
            return user
        for user in self.users.values():
            if user.email == body.get("customer") or user.id == wanted:
                return user
        raise RemoteError(
            self._unprocessable(f"No lookup value found for 'customer': {body.get('customer')!r}")
        )

    def _article_from(self, ticket: Ticket, body: dict[str, Any]) -> Article:
        if not isinstance(body.get("body"), str) or not body["body"]:
            raise RemoteError(self._unprocessable("Need at least an article body"))
        internal = body.get("internal", False)
        if not isinstance(internal, bool):
            raise RemoteError(self._unprocessable("internal must be true or false"))
        return self._add_article(
            ticket,
            body["body"],
            internal,
            str(body.get("type", "note")),
            str(body.get("sender", "Agent")),
            self.agent,
            body.get("subject"),
            str(body.get("content_type", "text/plain")),
        )

    def _add_article(
        self,
        ticket: Ticket,
        body: str,
        internal: bool,
        type_: str,
        sender: str,
        author: User,
        subject: Any,
        content_type: str,
    ) -> Article:
        self._next_article += 1
        now = self.tick()
        article = Article(
            self._next_article,
            ticket.id,
            body,
            internal,
            type_,
            sender,
            author,
            subject if isinstance(subject, str) else None,
            content_type,
            now,
        )
        self.articles[article.id] = article
        ticket.article_ids.append(article.id)
        ticket.updated_at, ticket.updated_by = now, author
        return article

    def _ticket_json(self, ticket: Ticket, *, expand: bool) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": ticket.id,
            "group_id": ticket.group_id,
            "priority_id": ticket.priority_id,
            "state_id": ticket.state_id,
            "organization_id": None,
            "number": ticket.number,
            "title": ticket.title,
            "owner_id": 1,
            "customer_id": ticket.customer.id,
            "note": None,
            "first_response_at": None,
            "first_response_escalation_at": None,
            "first_response_in_min": None,
            "first_response_diff_in_min": None,
            "close_at": None,
            "close_escalation_at": None,
            "close_in_min": None,
            "close_diff_in_min": None,
            "update_escalation_at": None,
            "update_in_min": None,
            "update_diff_in_min": None,
            "last_close_at": None,
            "last_contact_at": zammad_time(ticket.created_at),
            "last_contact_agent_at": None,
            "last_contact_customer_at": zammad_time(ticket.created_at),
            "last_owner_update_at": None,
            "create_article_type_id": 10,
            "create_article_sender_id": 1,
            "article_count": len(ticket.article_ids),
            "escalation_at": None,
            "pending_time": None,
            "type": None,
            "time_unit": None,
            "preferences": {},
            "updated_by_id": ticket.updated_by.id,
            "created_by_id": ticket.created_by.id,
            "created_at": zammad_time(ticket.created_at),
            "updated_at": zammad_time(ticket.updated_at),
            "article_ids": list(ticket.article_ids),
            "ticket_time_accounting_ids": [],
        }
        if expand:
            shown.update(
                {
                    "group": GROUPS[ticket.group_id],
                    "organization": None,
                    "ticket_time_accounting": [],
                    "state": STATES[ticket.state_id],
                    "priority": PRIORITIES[ticket.priority_id],
                    "owner": "-",
                    "customer": ticket.customer.login,
                    "created_by": ticket.created_by.login,
                    "updated_by": ticket.updated_by.login,
                    "create_article_type": "note",
                    "create_article_sender": "Agent",
                }
            )
        return shown

    def _article_json(self, article: Article, *, expand: bool) -> dict[str, Any]:
        author = article.author
        name = f"{author.firstname} {author.lastname}".strip()
        shown: dict[str, Any] = {
            "id": article.id,
            "ticket_id": article.ticket_id,
            "type_id": 10,
            "sender_id": 1,
            "from": f"{name} <{author.email}>" if name else author.email,
            "to": None,
            "cc": None,
            "subject": article.subject,
            "reply_to": None,
            "message_id": None,
            "message_id_md5": None,
            "in_reply_to": None,
            "content_type": article.content_type,
            "references": None,
            "body": article.body,
            "internal": article.internal,
            "preferences": {},
            "updated_by_id": author.id,
            "created_by_id": author.id,
            "origin_by_id": None,
            "created_at": zammad_time(article.created_at),
            "updated_at": zammad_time(article.created_at),
            "attachments": [],
        }
        if expand:
            shown.update(
                {
                    "type": article.type,
                    "sender": article.sender,
                    "created_by": author.login,
                    "updated_by": author.login,
                    "time_unit": None,
                }
            )
        return shown
