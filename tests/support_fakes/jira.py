"""A fake Jira Service Management Cloud site: the endpoints chalicelib/support_backends/jira.py
uses, with the JSON shapes of Atlassian's Cloud REST references (Jira platform REST API v2 and the
Jira Service Management REST API; see chalicelib/support_backends/README.md for what each shape
was taken from). Unknown fields a real site adds (avatars, `self` links of every object, custom
fields) are left out; the fields present are named and typed as documented.

The workflow is a small service-desk one: "Waiting for support" -> "In Progress" -> "Resolved"
(resolution "Done") and back ("Reopen"). Priorities are Jira's defaults.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from tests.support_fakes.server import Answer, FakeDesk, Handler, RemoteError, Request, post_webhook

EMAIL = "integration@example.com"
TOKEN = "jira-api-token-123"
PROJECT = "SD"
SERVICE_DESK_ID = "4"
REQUEST_TYPE_IDS = ("10", "11")
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
TRANSITIONS = (  # id, name, target status, status category, resolution it sets
    ("11", "Start progress", "In Progress", "indeterminate", None),
    ("21", "Resolve", "Resolved", "done", "Done"),
    ("31", "Reopen", "Waiting for support", "new", None),
)
NOT_FOUND = "Issue does not exist or you do not have permission to see it."
JQL = re.compile(
    r'^project = "(?P<project>[A-Z0-9_]+)" AND updated >= "(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d)"'
    r" ORDER BY updated ASC$"
)


def jira_time(when: datetime) -> str:
    """Jira's timestamp format: 2026-01-05T10:01:00.000+0000."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}" + when.strftime("%z")


def date_dto(when: datetime) -> dict[str, Any]:
    """The service desk API's DateDTO."""
    return {
        "iso8601": when.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "jira": jira_time(when),
        "friendly": when.strftime("%d/%b/%y %I:%M %p"),
        "epochMillis": int(when.timestamp() * 1000),
    }


@dataclass
class User:
    account_id: str
    email: str
    display_name: str
    account_type: str = "customer"

    def platform(self, site: str) -> dict[str, Any]:
        """A Jira platform User (GET /rest/api/2/user/search)."""
        return {
            "self": f"{site}/rest/api/2/user?accountId={self.account_id}",
            "accountId": self.account_id,
            "accountType": self.account_type,
            "emailAddress": self.email,
            "displayName": self.display_name,
            "active": True,
            "timeZone": "Etc/UTC",
            "locale": "en_US",
        }

    def dto(self, site: str) -> dict[str, Any]:
        """The service desk API's UserDTO."""
        return {
            "accountId": self.account_id,
            "emailAddress": self.email,
            "displayName": self.display_name,
            "active": True,
            "timeZone": "Etc/UTC",
            "_links": {"jiraRest": f"{site}/rest/api/2/user?accountId={self.account_id}", "self": ""},
        }


@dataclass
class Comment:
    id: str
    body: str
    public: bool
    author: User
    created: datetime


@dataclass
class Issue:
    id: str
    key: str
    summary: str
    description: str | None
    reporter: User
    request_type_id: str
    created: datetime
    updated: datetime
    status: str = "Waiting for support"
    status_category: str = "new"
    resolution: str | None = None
    priority: str = "Medium"
    comments: list[Comment] = field(default_factory=list)


@dataclass
class FakeJira(FakeDesk):
    users: dict[str, User] = field(default_factory=dict)
    issues: dict[str, Issue] = field(default_factory=dict)
    user_time_zone: str = "UTC"  # the API account's profile zone, in which JQL dates are read
    agent: User = field(
        default_factory=lambda: User("5b10ac8d82e05b22cc7d4ef5", EMAIL, "Integration", "atlassian")
    )
    _next: int = 10000

    def __post_init__(self) -> None:
        self.users[self.agent.account_id] = self.agent

    # -- auth -----------------------------------------------------------------------------------

    def authorized(self, headers: dict[str, str]) -> bool:
        expected = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        return headers.get("authorization") == expected

    def unauthorized(self) -> Answer:
        # Jira Cloud answers a failed Basic login with a plain-text 401.
        return Answer(
            401, "Client must be authenticated to access this resource.", "text/plain;charset=UTF-8"
        )

    def not_found(self) -> Answer:
        return Answer(404, {"errorMessages": ["null for uri: not an endpoint of this fake"], "errors": {}})

    def routes(self) -> list[tuple[str, str, Handler]]:
        issue = r"/rest/api/2/issue/([A-Za-z0-9-]+)"
        request = r"/rest/servicedeskapi/request/([A-Za-z0-9-]+)"
        return [
            ("POST", r"/rest/servicedeskapi/request", self.create_request),
            ("POST", r"/rest/servicedeskapi/customer", self.create_customer),
            ("GET", r"/rest/api/2/user/search", self.user_search),
            ("GET", issue, self.get_issue),
            ("PUT", issue, self.edit_issue),
            ("GET", issue + "/transitions", self.get_transitions),
            ("POST", issue + "/transitions", self.do_transition),
            ("POST", request + "/comment", self.create_comment),
            ("GET", request + "/comment", self.list_comments),
            ("GET", r"/rest/api/2/search/jql", self.search),
            ("GET", r"/rest/api/2/search", self.removed_search),
        ]

    # -- the remote side, as a test drives it ---------------------------------------------------

    def issue(self, id_or_key: str) -> Issue:
        for issue in self.issues.values():
            if id_or_key in (issue.id, issue.key):
                return issue
        raise RemoteError(Answer(404, {"errorMessages": [NOT_FOUND], "errors": {}}))

    def agent_comment(
        self, id_or_key: str, body: str, *, public: bool, author: User | None = None
    ) -> Comment:
        """An agent (or the customer, in the portal) comments on the issue in Jira."""
        with self.lock:
            issue = self.issue(id_or_key)
            comment = Comment(self._id(), body, public, author or self.agent, self.tick())
            issue.comments.append(comment)
            issue.updated = comment.created
            return comment

    def agent_transition(self, id_or_key: str, status: str) -> None:
        with self.lock:
            issue = self.issue(id_or_key)
            (transition,) = [t for t in TRANSITIONS if t[2] == status]
            self._apply(issue, transition)

    def webhook_payload(self, id_or_key: str, event: str, comment: Comment | None = None) -> dict[str, Any]:
        """What a Jira admin webhook POSTs: `timestamp`, `webhookEvent`, the issue with its fields
        and, for comment events, the comment (platform shape, with `jsdPublic`)."""
        issue = self.issue(id_or_key)
        payload: dict[str, Any] = {
            "timestamp": int(self.clock.timestamp() * 1000),
            "webhookEvent": event,
            "issue": self._issue_json(issue, None),
        }
        if event.startswith("jira:issue"):
            payload["issue_event_type_name"] = "issue_generic"
            payload["user"] = self.agent.platform(self.url)
        if comment is not None:
            payload["comment"] = {
                "self": f"{self.url}/rest/api/2/issue/{issue.id}/comment/{comment.id}",
                "id": comment.id,
                "author": comment.author.platform(self.url),
                "body": comment.body,
                "updateAuthor": comment.author.platform(self.url),
                "created": jira_time(comment.created),
                "updated": jira_time(comment.created),
                "jsdPublic": comment.public,
            }
        return payload

    def send_webhook(self, url: str, payload: dict[str, Any], secret: str | None) -> int:
        return post_webhook(url, payload, secret=secret, algorithm="sha256")

    # -- endpoints ------------------------------------------------------------------------------

    def create_request(self, request: Request) -> Answer:
        body = request.body or {}
        if body.get("serviceDeskId") != SERVICE_DESK_ID:
            return Answer(404, {"errorMessage": "The service desk does not exist.", "i18nErrorMessage": {}})
        if body.get("requestTypeId") not in REQUEST_TYPE_IDS:
            return Answer(400, {"errorMessage": "The request type you are trying to use does not exist."})
        values = body.get("requestFieldValues") or {}
        if not isinstance(values.get("summary"), str) or not values["summary"].strip():
            return Answer(400, {"errorMessage": "Summary: You must specify a summary of the issue."})
        unknown = set(values) - {"summary", "description"}
        if unknown:
            return Answer(400, {"errorMessage": f"Field '{sorted(unknown)[0]}' cannot be set."})
        reporter: User | None = self.agent
        if "raiseOnBehalfOf" in body:
            reporter = self.users.get(str(body["raiseOnBehalfOf"]))
        if reporter is None:
            return Answer(400, {"errorMessage": f"The user '{body['raiseOnBehalfOf']}' does not exist."})
        now = self.tick()
        self._next += 1
        issue = Issue(
            id=str(self._next),
            key=f"{PROJECT}-{len(self.issues) + 1}",
            summary=values["summary"],
            description=values.get("description"),
            reporter=reporter,
            request_type_id=body["requestTypeId"],
            created=now,
            updated=now,
        )
        self.issues[issue.id] = issue
        return Answer(201, self._request_dto(issue))

    def create_customer(self, request: Request) -> Answer:
        body = request.body or {}
        email = body.get("email")
        if not isinstance(email, str) or "@" not in email:
            return Answer(400, {"errorMessage": "Enter a valid email address."})
        if any(u.email.casefold() == email.casefold() for u in self.users.values()):
            return Answer(400, {"errorMessage": "An account already exists for this email."})
        user = User(f"qm:{len(self.users):08d}", email, str(body.get("displayName") or email))
        self.users[user.account_id] = user
        return Answer(201, user.dto(self.url))

    def user_search(self, request: Request) -> Answer:
        query = request.query.get("query", "").casefold()
        found = [
            u.platform(self.url)
            for u in self.users.values()
            if query and (u.email.casefold().startswith(query) or u.display_name.casefold().startswith(query))
        ]
        return Answer(200, found)

    def get_issue(self, request: Request, id_or_key: str) -> Answer:
        wanted = request.query.get("fields")
        return Answer(200, self._issue_json(self.issue(id_or_key), wanted.split(",") if wanted else None))

    def edit_issue(self, request: Request, id_or_key: str) -> Answer:
        issue = self.issue(id_or_key)
        fields = (request.body or {}).get("fields") or {}
        errors: dict[str, str] = {}
        for name, value in fields.items():
            if name == "summary" and isinstance(value, str) and value.strip():
                continue
            if name == "description" and (value is None or isinstance(value, str)):
                continue
            if name == "priority" and isinstance(value, dict) and value.get("name") in PRIORITIES:
                continue
            errors[name] = (
                "Specify a valid 'id' or 'name' for Priority"
                if name == "priority"
                else f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            )
        if errors:
            return Answer(400, {"errorMessages": [], "errors": errors})
        issue.summary = fields.get("summary", issue.summary)
        issue.description = fields.get("description", issue.description)
        if "priority" in fields:
            issue.priority = fields["priority"]["name"]
        issue.updated = self.tick()
        return Answer(204)

    def get_transitions(self, request: Request, id_or_key: str) -> Answer:
        issue = self.issue(id_or_key)
        return Answer(
            200,
            {
                "expand": "transitions",
                "transitions": [
                    {
                        "id": tid,
                        "name": name,
                        "to": {
                            "self": f"{self.url}/rest/api/2/status/{tid}",
                            "description": "",
                            "name": status,
                            "id": str(int(tid) * 100),
                            "statusCategory": {
                                "id": 2,
                                "key": category,
                                "colorName": "blue-gray",
                                "name": category,
                            },
                        },
                        "hasScreen": False,
                        "isGlobal": True,
                        "isInitial": False,
                        "isAvailable": True,
                        "isConditional": False,
                        "isLooped": False,
                    }
                    for tid, name, status, category, _ in TRANSITIONS
                    if status != issue.status
                ],
            },
        )

    def do_transition(self, request: Request, id_or_key: str) -> Answer:
        issue = self.issue(id_or_key)
        wanted = ((request.body or {}).get("transition") or {}).get("id")
        for transition in TRANSITIONS:
            if transition[0] == wanted and transition[2] != issue.status:
                self._apply(issue, transition)
                return Answer(204)
        return Answer(
            400, {"errorMessages": [f"Transition id '{wanted}' is not valid for this issue."], "errors": {}}
        )

    def create_comment(self, request: Request, id_or_key: str) -> Answer:
        issue = self.issue(id_or_key)
        body = request.body or {}
        if not isinstance(body.get("body"), str) or not body["body"].strip():
            return Answer(400, {"errorMessage": "Comment body must not be empty."})
        if not isinstance(body.get("public"), bool):
            return Answer(400, {"errorMessage": "'public' must be true or false."})
        comment = Comment(self._id(), body["body"], body["public"], self.agent, self.tick())
        issue.comments.append(comment)
        issue.updated = comment.created
        return Answer(201, self._comment_dto(issue, comment))

    def list_comments(self, request: Request, id_or_key: str) -> Answer:
        issue = self.issue(id_or_key)
        start = int(request.query.get("start", "0"))
        limit = int(request.query.get("limit", "50"))
        public = request.query.get("public", "true") == "true"
        internal = request.query.get("internal", "true") == "true"
        chosen = [c for c in issue.comments if (c.public and public) or (not c.public and internal)]
        page = chosen[start : start + limit]
        base = f"{self.url}/rest/servicedeskapi/request/{issue.id}/comment"
        links: dict[str, str] = {"base": self.url, "context": "", "self": base}
        if start + limit < len(chosen):
            links["next"] = f"{base}?start={start + limit}&limit={limit}"
        return Answer(
            200,
            {
                "_expands": ["attachment", "renderedBody"],
                "size": len(page),
                "start": start,
                "limit": limit,
                "isLastPage": start + limit >= len(chosen),
                "_links": links,
                "values": [self._comment_dto(issue, c) for c in page],
            },
        )

    def search(self, request: Request) -> Answer:
        match = JQL.match(request.query.get("jql", ""))
        if not match:
            return Answer(
                400,
                {
                    "errorMessages": [
                        "Error in the JQL Query: the fake reads only "
                        '\'project = "X" AND updated >= "yyyy-MM-dd HH:mm" ORDER BY updated ASC\'.'
                    ],
                    "errors": {},
                },
            )
        zone: tzinfo = ZoneInfo(self.user_time_zone)
        since = datetime.strptime(match["at"], "%Y-%m-%d %H:%M").replace(tzinfo=zone)
        hits = sorted(
            (
                i
                for i in self.issues.values()
                if i.key.startswith(match["project"] + "-") and i.updated >= since
            ),
            key=lambda i: i.updated,
        )
        offset = int(request.query.get("nextPageToken") or 0)
        size = min(int(request.query.get("maxResults", "50")), 5000)
        page = hits[offset : offset + size]
        fields = request.query.get("fields")
        answer: dict[str, Any] = {
            "issues": [self._issue_json(i, fields.split(",") if fields else ["id"]) for i in page],
            "isLast": offset + size >= len(hits),
        }
        if not answer["isLast"]:
            answer["nextPageToken"] = str(offset + size)
        return Answer(200, answer)

    def removed_search(self, request: Request) -> Answer:
        # Jira Cloud removed GET /rest/api/2/search (CHANGE-2046); it answers 410 Gone.
        return Answer(
            410,
            {
                "errorMessages": [
                    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
                ],
                "errors": {},
            },
        )

    # -- shapes ---------------------------------------------------------------------------------

    def _issue_json(self, issue: Issue, wanted: list[str] | None) -> dict[str, Any]:
        all_fields: dict[str, Any] = {
            "summary": issue.summary,
            "description": issue.description,
            "status": {
                "self": f"{self.url}/rest/api/2/status/1",
                "name": issue.status,
                "id": "1",
                "statusCategory": {"id": 2, "key": issue.status_category, "name": issue.status_category},
            },
            "resolution": None
            if issue.resolution is None
            else {
                "self": f"{self.url}/rest/api/2/resolution/10000",
                "id": "10000",
                "description": "Work has been completed on this issue.",
                "name": issue.resolution,
            },
            "priority": {
                "self": f"{self.url}/rest/api/2/priority/3",
                "name": issue.priority,
                "id": str(PRIORITIES.index(issue.priority) + 1),
            },
            "updated": jira_time(issue.updated),
            "created": jira_time(issue.created),
            "reporter": issue.reporter.platform(self.url),
        }
        fields = all_fields if wanted is None else {k: v for k, v in all_fields.items() if k in wanted}
        return {
            "expand": "renderedFields,names,schema",
            "id": issue.id,
            "self": f"{self.url}/rest/api/2/issue/{issue.id}",
            "key": issue.key,
            "fields": fields,
        }

    def _request_dto(self, issue: Issue) -> dict[str, Any]:
        """The service desk API's CustomerRequestDTO (POST /rest/servicedeskapi/request)."""
        return {
            "_expands": [
                "participant",
                "status",
                "sla",
                "requestType",
                "serviceDesk",
                "attachment",
                "action",
                "comment",
            ],
            "issueId": issue.id,
            "issueKey": issue.key,
            "requestTypeId": issue.request_type_id,
            "serviceDeskId": SERVICE_DESK_ID,
            "createdDate": date_dto(issue.created),
            "reporter": issue.reporter.dto(self.url),
            "requestFieldValues": [
                {"fieldId": "summary", "label": "Summary", "value": issue.summary},
                {"fieldId": "description", "label": "Description", "value": issue.description},
            ],
            "currentStatus": {
                "status": issue.status,
                "statusCategory": issue.status_category.upper(),
                "statusDate": date_dto(issue.updated),
            },
            "_links": {
                "jiraRest": f"{self.url}/rest/api/2/issue/{issue.id}",
                "web": f"{self.url}/servicedesk/customer/portal/{SERVICE_DESK_ID}/{issue.key}",
                "self": f"{self.url}/rest/servicedeskapi/request/{issue.id}",
                "agent": f"{self.url}/browse/{issue.key}",
            },
        }

    def _comment_dto(self, issue: Issue, comment: Comment) -> dict[str, Any]:
        """The service desk API's CommentDTO."""
        return {
            "_expands": ["attachment", "renderedBody"],
            "id": comment.id,
            "body": comment.body,
            "public": comment.public,
            "author": comment.author.dto(self.url),
            "created": date_dto(comment.created),
            "_links": {"self": f"{self.url}/rest/servicedeskapi/request/{issue.id}/comment/{comment.id}"},
        }

    def _apply(self, issue: Issue, transition: tuple[str, str, str, str, str | None]) -> None:
        _, _, issue.status, issue.status_category, issue.resolution = transition
        issue.updated = self.tick()

    def _id(self) -> str:
        self._next += 1
        return str(self._next)
