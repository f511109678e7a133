"""The port between Cirrus's support desk and an external service desk (Jira Service Management,
Zammad): what an adapter reads and writes, in plain dataclasses, and the errors it raises.

Nothing here talks to a network or to AWS: the adapters (`jira.py`, `zammad.py`) implement
`SupportBackend` over HTTP (`http.py`); the sync that calls them, and where their settings come from,
belong to the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

MAX_REMOTE_MESSAGE = 500  # characters of a remote error message kept in an exception
MAX_WEBHOOK_BYTES = 1024 * 1024  # a webhook body larger than this is refused unread


class BackendError(Exception):
    """Anything that went wrong talking to an external service desk."""


class BackendUnavailable(BackendError):
    """The remote desk could not be reached or failed: connection refused, timeout, a 5xx answer,
    an answer that is not the JSON it documents, or one too large. Worth retrying later."""


class BackendRefused(BackendError):
    """The remote desk understood the request and said no (a 4xx answer: bad credentials, no such
    issue, a field it rejects, a status no transition reaches). Retrying the same request will not
    help. `message` is the remote explanation, bounded and stripped of control characters."""

    def __init__(self, status: int | None, message: str) -> None:
        self.status = status
        self.message = bounded(message)
        super().__init__(f"{status or 'refused'}: {self.message}" if status else self.message)


class WebhookRefused(BackendError):
    """An incoming webhook is not signed with the configured secret (or no secret is configured,
    or the body is not the JSON the desk sends). Answer it with 401/400; never act on it."""


@dataclass(frozen=True)
class RemoteIssue:
    """An issue as the remote desk holds it. `description` is None where the read does not carry
    one (Zammad's ticket list: the description is the first article), so a sync must not blank it."""

    backend_id: str  # the remote's stable id (Jira issue id, Zammad ticket id)
    key: str  # what people call it (Jira "SD-12", Zammad ticket number "31001")
    summary: str
    description: str | None
    status: str
    resolution: str | None
    priority: str | None
    link: str
    updated: datetime  # timezone-aware
    reporter_email: str | None = None
    caller_email: str | None = None


@dataclass(frozen=True)
class RemoteComment:
    backend_id: str
    issue_backend_id: str
    body: str
    is_public: bool
    author_name: str | None
    author_email: str | None
    created: datetime  # timezone-aware


@dataclass(frozen=True)
class NewIssue:
    summary: str
    description: str
    issue_type: str | None = None  # Waldur's type ("Informational", "Service Request", ...)
    priority: str | None = None  # the remote's priority name
    caller_email: str | None = None
    caller_name: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified webhook says: which issue changed and, when it carries one, a new comment."""

    event: str  # the remote's own event name ("jira:issue_updated", "comment_created", a Zammad trigger)
    issue_backend_id: str
    issue_key: str | None
    comment: RemoteComment | None = None


@runtime_checkable
class SupportBackend(Protocol):
    """An external service desk, as the support sync uses it."""

    def create_issue(self, issue: NewIssue) -> RemoteIssue: ...

    def update_issue(
        self,
        backend_id: str,
        *,
        summary: str | None = None,
        description: str | None = None,
        status: str | None = None,
        priority: str | None = None,
    ) -> RemoteIssue: ...

    def add_comment(
        self, issue_backend_id: str, body: str, *, is_public: bool, author_email: str | None = None
    ) -> RemoteComment: ...

    def get_issue(self, backend_id: str) -> RemoteIssue: ...

    def comments(self, issue_backend_id: str) -> list[RemoteComment]: ...

    def changed_since(self, when: datetime) -> list[RemoteIssue]: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent: ...


def bounded(text: str, limit: int = MAX_REMOTE_MESSAGE) -> str:
    """`text` without control characters, at most `limit` characters (a remote message ends up in
    logs and API errors)."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name (API Gateway lower-cases them, others don't)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify_hub_signature(
    headers: Mapping[str, str], body: bytes, secret: str | None, algorithm: str
) -> dict[str, Any]:
    """Check a WebSub-style `X-Hub-Signature: <algorithm>=<hex HMAC of the raw body>` and return
    the body's JSON object. Refuses when no secret is configured: an unverifiable webhook is never
    accepted."""
    if not secret:
        raise WebhookRefused("no webhook secret is configured; unsigned webhooks are not accepted")
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookRefused("webhook body too large")
    signature = header(headers, "X-Hub-Signature")
    if not signature:
        raise WebhookRefused("missing X-Hub-Signature header")
    method, _, digest = signature.strip().partition("=")
    if method.lower() != algorithm:
        raise WebhookRefused(f"X-Hub-Signature must be {algorithm}=<hex>")
    expected = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    if not hmac.compare_digest(expected, digest.strip().lower()):
        raise WebhookRefused("webhook signature does not match")
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise WebhookRefused("webhook body is not JSON") from error
    if not isinstance(payload, dict):
        raise WebhookRefused("webhook body is not a JSON object")
    return payload


def sign_hub(body: bytes, secret: str, algorithm: str) -> str:
    """The `X-Hub-Signature` value a desk sends for `body` (for tests and fakes)."""
    return f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


class SettingsError(ValueError):
    """A backend's settings are missing or malformed (names the keys, never the secret values)."""


def require(settings: Mapping[str, str], required: tuple[str, ...], backend: str) -> dict[str, str]:
    """The settings as a dict of stripped strings, after checking every required key has a value."""
    clean = {str(k): str(v).strip() for k, v in settings.items() if v is not None}
    missing = [key for key in required if not clean.get(key)]
    if missing:
        raise SettingsError(f"{backend} settings lack: {', '.join(missing)}")
    return clean


def parse_time(value: Any) -> datetime:
    """A remote timestamp as an aware datetime: ISO 8601 with `Z` or an offset (Zammad), or Jira's
    `2024-01-15T10:30:00.000+0000`."""
    if not isinstance(value, str):
        raise BackendUnavailable(f"expected a timestamp, got {type(value).__name__}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
        except ValueError as error:
            raise BackendUnavailable(f"unreadable timestamp {bounded(text, 40)!r}") from error
    if parsed.tzinfo is None:
        raise BackendUnavailable(f"timestamp without a time zone {bounded(text, 40)!r}")
    return parsed
