"""Zammad through its REST API v1 (`/api/v1`), authenticated with an access token
(`Authorization: Token token=...`).

A Zammad ticket has no description of its own: it is the ticket's first article. This adapter
creates the ticket with that article (customer-visible), reads it back as the description in
`get_issue`, leaves it out of `comments()`, and records a later description change as an internal
note (Zammad has no endpoint that edits an article's body). Tickets carry no resolution.

Zammad answers relations as ids (`state_id`, `priority_id`) unless asked with `expand=true`;
every call here asks for names, and when an answer still lacks them the adapter resolves the ids
through `/api/v1/ticket_states` and `/api/v1/ticket_priorities` (read once per adapter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.support_backends.base import (
    BackendRefused,
    BackendUnavailable,
    NewIssue,
    RemoteComment,
    RemoteIssue,
    SettingsError,
    WebhookEvent,
    WebhookRefused,
    header,
    parse_time,
    require,
    verify_hub_signature,
)
from chalicelib.support_backends.http import JsonHttp, Timeouts, check_base_url
from chalicelib.support_backends.wire import array, ident, obj, timeouts_from

EXPAND = {"expand": "true"}
PAGE = 100
MAX_PAGES = 50
REQUIRED = ("base_url", "api_token", "group", "default_customer")


@dataclass(frozen=True)
class ZammadSettings:
    base_url: str  # https://<host>
    api_token: str = field(repr=False)
    group: str  # the group new tickets go to ("Users", "2nd Level")
    default_customer: str  # the customer (email) of a ticket whose caller has no email
    webhook_secret: str | None = field(default=None, repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", check_base_url(self.base_url))
        if "@" not in self.default_customer:
            raise SettingsError("Zammad default_customer must be an email address")


def from_settings(settings: Mapping[str, str]) -> Zammad:
    """The adapter from a flat dict of strings: base_url, api_token, group, default_customer;
    optional webhook_secret, connect_timeout, read_timeout (seconds)."""
    s = require(settings, REQUIRED, "Zammad")
    try:
        return Zammad(
            ZammadSettings(
                base_url=s["base_url"],
                api_token=s["api_token"],
                group=s["group"],
                default_customer=s["default_customer"],
                webhook_secret=s.get("webhook_secret") or None,
                timeouts=timeouts_from(s),
            )
        )
    except ValueError as error:
        raise SettingsError(str(error)) from error


class Zammad:
    """`SupportBackend` on Zammad."""

    def __init__(self, settings: ZammadSettings) -> None:
        self.settings = settings
        self.http = JsonHttp(settings.base_url, f"Token token={settings.api_token}", settings.timeouts)
        self._names: dict[str, dict[int, str]] = {}

    # -- writes ---------------------------------------------------------------------------------

    def create_issue(self, issue: NewIssue) -> RemoteIssue:
        ticket: dict[str, Any] = {
            "title": issue.summary,
            "group": self.settings.group,
            # `guess:` finds the customer by email or creates them (Zammad's documented shortcut).
            "customer_id": f"guess:{issue.caller_email or self.settings.default_customer}",
            "article": {
                "subject": issue.summary,
                "body": issue.description,
                "type": "note",
                "internal": False,
                "content_type": "text/plain",
            },
        }
        if issue.priority:
            ticket["priority"] = issue.priority
        answer = obj(self.http.request("POST", "/api/v1/tickets", query=EXPAND, body=ticket))
        return self._issue(answer, description=issue.description)

    def update_issue(
        self,
        backend_id: str,
        *,
        summary: str | None = None,
        description: str | None = None,
        status: str | None = None,
        priority: str | None = None,
    ) -> RemoteIssue:
        changes: dict[str, Any] = {}
        if summary is not None:
            changes["title"] = summary
        if status is not None:
            changes["state"] = status
        if priority is not None:
            changes["priority"] = priority
        if description is not None:
            changes["article"] = {
                "subject": "Description changed",
                "body": description,
                "type": "note",
                "internal": True,
                "content_type": "text/plain",
            }
        if changes:
            path = f"/api/v1/tickets/{_ticket_id(backend_id)}"
            self.http.request("PUT", path, query=EXPAND, body=changes)
        return self.get_issue(backend_id)

    def add_comment(
        self, issue_backend_id: str, body: str, *, is_public: bool, author_email: str | None = None
    ) -> RemoteComment:
        # The article's author is the token's user; acting "on behalf" needs admin.user rights.
        article = {
            "ticket_id": _ticket_id(issue_backend_id),
            "body": body,
            "type": "note",
            "internal": not is_public,
            "content_type": "text/plain",
        }
        answer = self.http.request("POST", "/api/v1/ticket_articles", query=EXPAND, body=article)
        return _article(obj(answer))

    # -- reads ----------------------------------------------------------------------------------

    def get_issue(self, backend_id: str) -> RemoteIssue:
        ticket = obj(self.http.request("GET", f"/api/v1/tickets/{_ticket_id(backend_id)}", query=EXPAND))
        issue = self._issue(ticket, description=None)  # a malformed ticket fails before more calls
        articles = self._articles(backend_id)
        return replace(issue, description=articles[0].body if articles else None)

    def comments(self, issue_backend_id: str) -> list[RemoteComment]:
        return self._articles(issue_backend_id)[1:]  # the first article is the description

    def changed_since(self, when: datetime) -> list[RemoteIssue]:
        # Zammad's search is Elasticsearch's query_string: a range on updated_at, colons escaped.
        since = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S").replace(":", r"\:")
        found: list[RemoteIssue] = []
        for page in range(1, MAX_PAGES + 1):
            query = {
                "query": f"updated_at:>={since}Z",
                "sort_by": "updated_at",
                "order_by": "asc",
                "per_page": str(PAGE),
                "page": str(page),
                **EXPAND,
            }
            tickets = _search_records(self.http.request("GET", "/api/v1/tickets/search", query=query))
            found.extend(self._issue(ticket, description=None) for ticket in tickets)
            if len(tickets) < PAGE:
                break
        return [issue for issue in found if issue.updated >= when]

    # -- webhooks -------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """A Zammad webhook with an "HMAC SHA1 Signature Token": `X-Hub-Signature: sha1=<hex>`;
        the default payload carries `ticket` and, for article triggers, `article`."""
        payload = verify_hub_signature(headers, body, self.settings.webhook_secret, "sha1")
        try:
            ticket = obj(payload.get("ticket"))
            raw_article = payload.get("article")
            article = _article(raw_article) if isinstance(raw_article, dict) and raw_article else None
            number = ticket.get("number")
            return WebhookEvent(
                event=header(headers, "X-Zammad-Trigger") or "zammad",
                issue_backend_id=ident(ticket.get("id")),
                issue_key=str(number) if isinstance(number, str | int) else None,
                comment=article,
            )
        except BackendUnavailable as error:
            raise WebhookRefused(f"webhook body is not a Zammad ticket payload: {error}") from error

    # -- helpers --------------------------------------------------------------------------------

    def _articles(self, backend_id: str) -> list[RemoteComment]:
        path = f"/api/v1/ticket_articles/by_ticket/{_ticket_id(backend_id)}"
        articles = [_article(obj(a)) for a in array(self.http.request("GET", path, query=EXPAND))]
        return sorted(articles, key=lambda a: (a.created, a.backend_id.zfill(20)))

    def _issue(self, ticket: dict[str, Any], *, description: str | None) -> RemoteIssue:
        ticket_id = ident(ticket.get("id"))
        customer = ticket.get("customer")
        return RemoteIssue(
            backend_id=ticket_id,
            key=ident(ticket.get("number")),
            summary=str(ticket.get("title") or ""),
            description=description,
            status=self._name(ticket, "state", "ticket_states"),
            resolution=None,
            priority=self._name(ticket, "priority", "ticket_priorities"),
            link=f"{self.settings.base_url}/#ticket/zoom/{ticket_id}",
            updated=parse_time(ticket.get("updated_at")),
            caller_email=customer if isinstance(customer, str) and "@" in customer else None,
        )

    def _name(self, ticket: dict[str, Any], relation: str, collection: str) -> str:
        """A relation's name: expanded in the answer, or looked up by its id."""
        named = ticket.get(relation)
        if isinstance(named, str) and named:
            return named
        if isinstance(named, dict) and isinstance(named.get("name"), str):  # webhook payloads
            return str(named["name"])
        relation_id = ticket.get(f"{relation}_id")
        if not isinstance(relation_id, int):
            raise BackendUnavailable(f"ticket without {relation} or {relation}_id")
        if collection not in self._names:
            listed = array(self.http.request("GET", f"/api/v1/{collection}"))
            items = [obj(item) for item in listed]
            self._names[collection] = {
                int(item["id"]): str(item["name"]) for item in items if "id" in item and "name" in item
            }
        try:
            return self._names[collection][relation_id]
        except KeyError as error:
            raise BackendUnavailable(f"unknown {relation}_id {relation_id}") from error


def _ticket_id(backend_id: str) -> int:
    if not backend_id.isdigit() or len(backend_id) > 18:
        raise BackendRefused(None, f"not a Zammad ticket id: {backend_id!r:.40}")
    return int(backend_id)


def _search_records(answer: Any) -> list[dict[str, Any]]:
    """Ticket search answers a list of tickets, or (`full=true`, some versions) record ids and
    assets."""
    if isinstance(answer, list):
        return [obj(ticket) for ticket in answer]
    answer = obj(answer)
    tickets = obj(obj(answer.get("assets", {})).get("Ticket", {}))
    return [obj(tickets[str(i)]) for i in array(answer.get("record_ids", [])) if str(i) in tickets]


_ADDRESS = re.compile(r"^\s*\"?(?P<name>[^\"<]*?)\"?\s*<(?P<email>[^>]+)>\s*$")


def _article(article: dict[str, Any]) -> RemoteComment:
    """An article from the API (`created_by` is a login when expanded) or from a webhook
    (`created_by` is the user object)."""
    author_name, author_email = None, None
    sender = article.get("from")
    if isinstance(sender, str) and sender.strip():
        match = _ADDRESS.match(sender)
        author_name = (match.group("name") or None) if match else sender.strip()
        author_email = match.group("email") if match else None
    created_by = article.get("created_by")
    if isinstance(created_by, dict):
        email = created_by.get("email")
        author_email = email if isinstance(email, str) and email else author_email
        full = " ".join(str(created_by.get(k) or "") for k in ("firstname", "lastname")).strip()
        author_name = author_name or full or None
    elif isinstance(created_by, str) and "@" in created_by and not author_email:
        author_email = created_by
    internal = article.get("internal")
    return RemoteComment(
        backend_id=ident(article.get("id")),
        issue_backend_id=ident(article.get("ticket_id")),
        body=str(article.get("body") or ""),
        is_public=internal is False,
        author_name=author_name,
        author_email=author_email,
        created=parse_time(article.get("created_at")),
    )
