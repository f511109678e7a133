"""Hooks (Waldur's `hooks-web/`, `hooks-email/`): a user's standing order to be told about the events
they may see, by a signed HTTP POST or by email.

- A hook subscribes to event types and event groups. As in Waldur, the groups are expanded into the
  stored `event_types` when they are given, and `event_groups` keeps what was given.
- A hook fires only for an event its owner may see at the time (checked at dispatch); a hook whose
  owner lost sight of a scope stays valid and simply stops matching its events.
- Each web hook has a secret; every POST carries `X-Cirrus-Signature: t=<unix>,v1=<hex>` where hex is
  HMAC-SHA256 of `"<t>." + body` under that secret, so a receiver can tell Cirrus sent it.
- Delivery health (`last_published`, `last_failure`, `last_error`, `failure_count`) is bookkeeping,
  not an edit: it does not move the hook's version or `modified`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode, urlsplit

from chalicelib.domain import clock
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.events import EVENT_GROUPS, all_event_types, expand_groups

WEB_MODEL = "WebHook"
EMAIL_MODEL = "EmailHook"

# Waldur's wording.
SPECIFY_EVENTS = "Please specify list of event_types or event_groups."
INVALID_CHOICE = '"{}" is not a valid choice.'
NOT_A_LIST = 'Expected a list of items but got type "{}".'
INVALID_URL = "Enter a valid URL."

SECRET_MIN, SECRET_MAX = 16, 256
URL_MAX = 200  # Django's URLField
EMAIL_MAX = 320
ERROR_MAX = 500  # characters of a delivery error kept on the hook

SIGNATURE_HEADER = "X-Cirrus-Signature"
EVENT_UUID_HEADER = "X-Cirrus-Event-Uuid"
MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds


class HookKind(StrEnum):
    WEB = "webhook"
    EMAIL = "email"


class ContentType(StrEnum):
    JSON = "json"
    FORM = "form"


@dataclass(frozen=True)
class Hook:
    id: str
    user_id: str
    kind: HookKind
    created: datetime
    modified: datetime
    event_types: tuple[str, ...] = ()
    event_groups: tuple[str, ...] = ()
    is_active: bool = True
    destination_url: str = ""  # web hooks
    content_type: ContentType = ContentType.JSON  # web hooks
    email: str = ""  # email hooks
    secret: str = ""  # web hooks; never shown after creation
    last_published: datetime | None = None
    last_failure: datetime | None = None
    last_error: str = ""
    failure_count: int = 0
    version: int = 0

    @property
    def model(self) -> str:
        return WEB_MODEL if self.kind is HookKind.WEB else EMAIL_MODEL

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in self.event_types

    def subscriptions(self) -> frozenset[str]:
        """The event types dispatch finds this hook under: none while it is inactive."""
        return frozenset(self.event_types) if self.is_active else frozenset()

    def changed(self, changes: Mapping[str, Any], now: datetime) -> Hook:
        """The hook after an update (`changes` already validated by `subscription_changes`)."""
        return replace(self, **changes, modified=now, version=self.version + 1)


# --- input rules -------------------------------------------------------------------------------------
def choices(value: Any, known: Iterable[str]) -> list[str]:
    """A DRF MultipleChoiceField: a list whose every item is a known choice (first bad one reported)."""
    if isinstance(value, str) or not isinstance(value, list | tuple | set):
        raise ValueError(NOT_A_LIST.format(type(value).__name__))
    allowed = set(known)
    for item in value:
        if str(item) not in allowed:
            raise ValueError(INVALID_CHOICE.format(item))
    return list(dict.fromkeys(str(item) for item in value))


def event_type_choices(value: Any) -> list[str]:
    # Read now, not at import: extensions register their groups at bootstrap (Waldur's get_fields).
    return choices(value, all_event_types())


def event_group_choices(value: Any) -> list[str]:
    return choices(value, EVENT_GROUPS)


def content_type_choice(value: Any) -> str:
    if not isinstance(value, str) or value not in {c.value for c in ContentType}:
        raise ValueError(INVALID_CHOICE.format(value))
    return str(value)


def destination_url(value: str) -> str:
    """An absolute http(s) URL with a host (Django's URLValidator, less ftp)."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(INVALID_URL)
    return value


def secret_value(value: str) -> str:
    if len(value) < SECRET_MIN:
        raise ValueError(f"Ensure this field has at least {SECRET_MIN} characters.")
    if len(value) > SECRET_MAX:
        raise ValueError(f"Ensure this field has no more than {SECRET_MAX} characters.")
    return value


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def subscription_changes(fields: Mapping[str, Any], creating: bool) -> dict[str, Any]:
    """Waldur's `BaseHookSerializer.validate`: a new hook names event types or groups; given groups
    are expanded into `event_types` (with the types given alongside); `event_groups` keeps the groups
    as given. Returns `fields` with both as sorted tuples where they were sent."""
    out = dict(fields)
    if creating and "event_types" not in fields and "event_groups" not in fields:
        raise ValidationError({"non_field_errors": [SPECIFY_EVENTS]})
    if "event_groups" in fields:
        groups = list(fields["event_groups"])
        types = expand_groups(groups) | set(fields.get("event_types") or ())
        out["event_types"], out["event_groups"] = tuple(sorted(types)), tuple(groups)
    elif "event_types" in fields:
        out["event_types"] = tuple(sorted(set(fields["event_types"])))
    return out


# --- what a delivery sends ------------------------------------------------------------------------------
def payload(document: Mapping[str, Any]) -> dict[str, Any]:
    """Waldur's web hook payload from a published event document."""
    return {
        "created": clock.isoformat(clock.parse_iso(str(document["created"]))),
        "message": document["message"],
        "context": document.get("context") or {},
        "event_type": document["event_type"],
    }


def encode(content_type: ContentType, body: Mapping[str, Any]) -> tuple[bytes, str]:
    """The request body and its media type: JSON, or a form whose `context` is a JSON string."""
    if content_type is ContentType.FORM:
        fields = {k: json.dumps(v) if k == "context" else str(v) for k, v in body.items()}
        return urlencode(fields).encode(), "application/x-www-form-urlencoded"
    return json.dumps(body).encode(), "application/json"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does (tests use it): recompute the signature and compare in constant time."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not parts.get("t", "").isdigit():
        return False
    return hmac.compare_digest(signature(secret, int(parts["t"]), body), header)


def email_message(document: Mapping[str, Any]) -> tuple[str, str]:
    """Subject (the event's message) and body (the message, then the context) of an email hook."""
    message = str(document["message"])
    context = document.get("context") or {}
    lines = [message, "", f"Event type: {document['event_type']}", f"Created: {payload(document)['created']}"]
    lines += ["", "Context:"] + [f"  {k}: {v}" for k, v in sorted(context.items())]
    return message, "\n".join(lines)


# --- retries ------------------------------------------------------------------------------------------
def retry_delay(attempt: int, base_seconds: int) -> int:
    """Seconds before try `attempt + 1`: base * 2^(attempt-1), at most SQS's 900."""
    return int(min(MAX_DELAY_SECONDS, base_seconds * 2 ** max(0, attempt - 1)))


def short_error(error: str) -> str:
    return error[:ERROR_MAX]


def sorted_newest_first(hooks: Sequence[Hook]) -> list[Hook]:
    """Waldur's order (`-created`): ids are UUIDv7, so newest first is by id, descending."""
    return sorted(hooks, key=lambda h: h.id, reverse=True)
