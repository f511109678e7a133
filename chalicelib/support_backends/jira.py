"""Jira Service Management Cloud through its REST APIs.

Followed (see README.md for the sources): Jira Cloud platform REST API v2 (`/rest/api/2`, plain-text
descriptions and comments rather than v3's Atlassian Document Format) for reading, editing,
transitioning and searching issues, and the Jira Service Management Cloud REST API
(`/rest/servicedeskapi`) for creating customer requests and their public/internal comments.
Authentication is HTTP Basic with an Atlassian account's email and API token.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import quote

from chalicelib.support_backends.base import (
    BackendRefused,
    BackendUnavailable,
    NewIssue,
    RemoteComment,
    RemoteIssue,
    SettingsError,
    WebhookEvent,
    WebhookRefused,
    parse_time,
    require,
    verify_hub_signature,
)
from chalicelib.support_backends.http import JsonHttp, Timeouts, check_base_url
from chalicelib.support_backends.wire import array, ident, obj, segment, timeouts_from

ISSUE_FIELDS = "summary,description,status,resolution,priority,updated,reporter"
PAGE = 100
MAX_PAGES = 50  # a sync pull reads at most PAGE * MAX_PAGES issues or comments per call
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")
REQUIRED = ("base_url", "email", "api_token", "project_key", "service_desk_id", "request_type_id")


@dataclass(frozen=True)
class JiraSettings:
    base_url: str  # https://<site>.atlassian.net
    email: str
    api_token: str = field(repr=False)
    project_key: str  # the service project's key, for JQL ("SD")
    service_desk_id: str
    request_type_id: str  # the request type new issues are raised with
    request_type_ids: Mapping[str, str] = field(default_factory=dict)  # Waldur issue type -> id
    webhook_secret: str | None = field(default=None, repr=False)
    jql_time_zone: str = "UTC"  # the API account's profile time zone: JQL dates are read in it
    timeouts: Timeouts = field(default_factory=Timeouts)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", check_base_url(self.base_url))
        if not PROJECT_KEY.match(self.project_key):
            raise SettingsError("Jira project_key must be upper-case letters, digits and _")
        for name in ("service_desk_id", "request_type_id"):
            if not getattr(self, name).isdigit():
                raise SettingsError(f"Jira {name} must be a number")


def from_settings(settings: Mapping[str, str]) -> JiraServiceManagement:
    """The adapter from a flat dict of strings (what a Secrets Manager JSON secret holds):
    base_url, email, api_token, project_key, service_desk_id, request_type_id; optional
    request_types ("Incident=11,Service Request=10"), webhook_secret, jql_time_zone,
    connect_timeout, read_timeout (seconds)."""
    s = require(settings, REQUIRED, "Jira")
    try:
        return JiraServiceManagement(
            JiraSettings(
                base_url=s["base_url"],
                email=s["email"],
                api_token=s["api_token"],
                project_key=s["project_key"],
                service_desk_id=s["service_desk_id"],
                request_type_id=s["request_type_id"],
                request_type_ids=_pairs(s.get("request_types", "")),
                webhook_secret=s.get("webhook_secret") or None,
                jql_time_zone=s.get("jql_time_zone") or "UTC",
                timeouts=timeouts_from(s),
            )
        )
    except ValueError as error:
        raise SettingsError(str(error)) from error


class JiraServiceManagement:
    """`SupportBackend` on Jira Service Management Cloud."""

    def __init__(self, settings: JiraSettings) -> None:
        self.settings = settings
        token = base64.b64encode(f"{settings.email}:{settings.api_token}".encode()).decode()
        self.http = JsonHttp(settings.base_url, f"Basic {token}", settings.timeouts, message_of=_jira_message)
        self._zone = _zone(settings.jql_time_zone)

    # -- writes ---------------------------------------------------------------------------------

    def create_issue(self, issue: NewIssue) -> RemoteIssue:
        request: dict[str, Any] = {
            "serviceDeskId": self.settings.service_desk_id,
            "requestTypeId": self.settings.request_type_ids.get(
                issue.issue_type or "", self.settings.request_type_id
            ),
            "requestFieldValues": {"summary": issue.summary, "description": issue.description},
        }
        if issue.caller_email:
            request["raiseOnBehalfOf"] = self._customer_account(issue.caller_email, issue.caller_name)
        created = obj(self.http.request("POST", "/rest/servicedeskapi/request", body=request))
        issue_id = ident(created.get("issueId"))
        if issue.priority:
            self._edit(issue_id, {"priority": {"name": issue.priority}})
        return self.get_issue(issue_id)

    def update_issue(
        self,
        backend_id: str,
        *,
        summary: str | None = None,
        description: str | None = None,
        status: str | None = None,
        priority: str | None = None,
    ) -> RemoteIssue:
        fields: dict[str, Any] = {}
        if summary is not None:
            fields["summary"] = summary
        if description is not None:
            fields["description"] = description
        if priority is not None:
            fields["priority"] = {"name": priority}
        if fields:
            self._edit(backend_id, fields)
        if status is not None:
            self._transition(backend_id, status)
        return self.get_issue(backend_id)

    def add_comment(
        self, issue_backend_id: str, body: str, *, is_public: bool, author_email: str | None = None
    ) -> RemoteComment:
        # The comment's author is the API account; Jira has no "on behalf of" for comments.
        answer = self.http.request(
            "POST",
            f"/rest/servicedeskapi/request/{segment(issue_backend_id)}/comment",
            body={"body": body, "public": is_public},
        )
        return _comment(obj(answer), issue_backend_id)

    # -- reads ----------------------------------------------------------------------------------

    def get_issue(self, backend_id: str) -> RemoteIssue:
        answer = self.http.request(
            "GET", f"/rest/api/2/issue/{segment(backend_id)}", query={"fields": ISSUE_FIELDS}
        )
        return self._issue(obj(answer))

    def comments(self, issue_backend_id: str) -> list[RemoteComment]:
        found: list[RemoteComment] = []
        for page in range(MAX_PAGES):
            answer = obj(
                self.http.request(
                    "GET",
                    f"/rest/servicedeskapi/request/{segment(issue_backend_id)}/comment",
                    query={"start": str(page * PAGE), "limit": str(PAGE)},
                )
            )
            values = array(answer.get("values"))
            found.extend(_comment(obj(v), issue_backend_id) for v in values)
            if answer.get("isLastPage", True) or not values:
                break
        return found

    def changed_since(self, when: datetime) -> list[RemoteIssue]:
        # JQL compares dates to the minute, in the API account's time zone: ask from the minute
        # `when` falls in, then keep exactly what changed at or after `when`.
        local = when.astimezone(self._zone)
        jql = (
            f'project = "{self.settings.project_key}" AND updated >= "{local:%Y-%m-%d %H:%M}" '
            "ORDER BY updated ASC"
        )
        query = {"jql": jql, "fields": ISSUE_FIELDS, "maxResults": str(PAGE)}
        found: list[RemoteIssue] = []
        for _ in range(MAX_PAGES):
            answer = obj(self.http.request("GET", "/rest/api/2/search/jql", query=query))
            found.extend(self._issue(obj(i)) for i in array(answer.get("issues")))
            token = answer.get("nextPageToken")
            if answer.get("isLast", True) or not isinstance(token, str) or not token:
                break
            query = {**query, "nextPageToken": token}
        return [issue for issue in found if issue.updated >= when]

    # -- webhooks -------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """A Jira admin webhook registered with a secret: `X-Hub-Signature: sha256=<hex>`."""
        payload = verify_hub_signature(headers, body, self.settings.webhook_secret, "sha256")
        try:
            issue = obj(payload.get("issue"))
            issue_id = ident(issue.get("id"))
            raw_comment = payload.get("comment")
            comment = _comment(obj(raw_comment), issue_id) if isinstance(raw_comment, dict) else None
            return WebhookEvent(
                event=ident(payload.get("webhookEvent") or "jira"),
                issue_backend_id=issue_id,
                issue_key=issue.get("key") if isinstance(issue.get("key"), str) else None,
                comment=comment,
            )
        except BackendUnavailable as error:
            raise WebhookRefused(f"webhook body is not a Jira issue event: {error}") from error

    # -- helpers --------------------------------------------------------------------------------

    def _edit(self, backend_id: str, fields: dict[str, Any]) -> None:
        self.http.request("PUT", f"/rest/api/2/issue/{segment(backend_id)}", body={"fields": fields})

    def _transition(self, backend_id: str, status: str) -> None:
        path = f"/rest/api/2/issue/{segment(backend_id)}/transitions"
        transitions = array(obj(self.http.request("GET", path)).get("transitions"))
        wanted = status.casefold()
        for transition in map(obj, transitions):
            target = obj(transition.get("to") or {})
            if wanted in (str(target.get("name", "")).casefold(), str(transition.get("name", "")).casefold()):
                self.http.request("POST", path, body={"transition": {"id": ident(transition.get("id"))}})
                return
        if self.get_issue(backend_id).status.casefold() != wanted:
            raise BackendRefused(None, f"no transition of {backend_id} leads to status {status!r}")

    def _customer_account(self, email: str, name: str | None) -> str:
        """The accountId `raiseOnBehalfOf` needs on Cloud: an existing user with this email, or a
        new service desk customer."""
        users = array(self.http.request("GET", "/rest/api/2/user/search", query={"query": email}))
        for user in map(obj, users):
            if str(user.get("emailAddress", "")).casefold() == email.casefold():
                return ident(user.get("accountId"))
        created = self.http.request(
            "POST", "/rest/servicedeskapi/customer", body={"email": email, "displayName": name or email}
        )
        return ident(obj(created).get("accountId"))

    def _issue(self, payload: dict[str, Any]) -> RemoteIssue:
        fields = obj(payload.get("fields"))
        key = ident(payload.get("key"))
        reporter = _maybe_obj(fields.get("reporter"))
        email = reporter.get("emailAddress") if isinstance(reporter.get("emailAddress"), str) else None
        return RemoteIssue(
            backend_id=ident(payload.get("id")),
            key=key,
            summary=str(fields.get("summary") or ""),
            description=_text(fields.get("description")),
            status=ident(obj(fields.get("status")).get("name")),
            resolution=_name(fields.get("resolution")),
            priority=_name(fields.get("priority")),
            link=f"{self.settings.base_url}/browse/{quote(key)}",
            updated=parse_time(fields.get("updated")),
            reporter_email=email,
            caller_email=email,  # a request raised on behalf of a customer has them as reporter
        )


def _comment(payload: dict[str, Any], issue_backend_id: str) -> RemoteComment:
    """A comment from the service desk API (`public`, `created.epochMillis`) or from a webhook
    (`jsdPublic`, `created` as a string; a comment whose visibility is not stated counts as
    internal, so nothing private is ever shown to a customer by mistake)."""
    author = _maybe_obj(payload.get("author"))
    public = payload.get("public", payload.get("jsdPublic"))
    created = payload.get("created")
    if isinstance(created, dict):
        millis = created.get("epochMillis")
        if not isinstance(millis, int):
            raise BackendUnavailable("comment without created.epochMillis")
        when = datetime.fromtimestamp(millis / 1000, UTC)
    else:
        when = parse_time(created)
    return RemoteComment(
        backend_id=ident(payload.get("id")),
        issue_backend_id=issue_backend_id,
        body=_text(payload.get("body")) or "",
        is_public=public is True,
        author_name=author.get("displayName") if isinstance(author.get("displayName"), str) else None,
        author_email=author.get("emailAddress") if isinstance(author.get("emailAddress"), str) else None,
        created=when,
    )


def _maybe_obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _jira_message(payload: Any) -> str:
    """Jira's `{"errorMessages": [...], "errors": {field: message}}`, or the service desk API's
    `{"errorMessage": "..."}`."""
    if not isinstance(payload, dict):
        return ""
    parts = [str(m) for m in payload.get("errorMessages") or [] if isinstance(m, str)]
    errors = payload.get("errors")
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    if isinstance(payload.get("errorMessage"), str):
        parts.append(payload["errorMessage"])
    return "; ".join(parts)


def _text(value: Any) -> str | None:
    """A v2 plain-text field, or the text of an Atlassian Document Format node (webhooks may send
    ADF)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        if value.get("type") == "text" and isinstance(value.get("text"), str):
            return str(value["text"])
        parts = [_text(child) or "" for child in array(value.get("content") or [])]
        joiner = "\n" if value.get("type") == "doc" else ""
        return joiner.join(parts)
    raise BackendUnavailable(f"unexpected text field of type {type(value).__name__}")


def _name(value: Any) -> str | None:
    return str(value["name"]) if isinstance(value, dict) and isinstance(value.get("name"), str) else None


def _pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise SettingsError("Jira request_types must read 'Issue type=id,Other type=id'")
        pairs[name.strip()] = value.strip()
    return pairs


def _zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(f"unknown jql_time_zone {name!r}") from error
