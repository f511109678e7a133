"""Hooks (Waldur's `hooks-web/`, `hooks-email/`): a user's standing order to be told about the events
they may see, by a signed HTTP POST or by email.

- A hook subscribes to event types and event groups. As in Waldur, the groups are expanded into the
  stored `event_types` when they are given, and `event_groups` keeps what was given.
- A hook fires only for an event its owner may see at the time (checked at dispatch); a hook whose
  owner lost sight of a scope stays valid and simply stops matching its events.
- Each web hook has a secret; every POST carries `X-Cirrus-Signature: t=<unix>,v1=<hex>` where hex is
  HMAC-SHA256 of `"<t>." + body` under that secret, so a receiver can tell Cirrus sent it.
- Delivery health (`last_published`, `last_failure`, `last_error`, `failure_count`) is bookkeeping,
  not an edit: it does not move the hook's version or `modified`. `last_error` is coarse on purpose
  ("connection failed", "HTTP 5xx", "address not allowed"): a finer one would tell the owner what
  answered where (a port and status oracle).
- A web hook reaches public addresses only: a destination that is, or resolves to, a loopback,
  private, link-local, multicast, reserved or unspecified address is refused (at creation and update
  when the URL names one literally, in any form a client takes for an address; at every delivery
  after resolving the name), unless it is in a network the operator allows
  (`CIRRUS_HOOK_ALLOWED_NETWORKS`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit

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
# Cirrus's own.
URL_WITH_CREDENTIALS = "Enter a URL without a user name or password."
DESTINATION_NOT_ALLOWED = (
    "Web hooks may not be sent to loopback, private, link-local, multicast, reserved or "
    "unspecified addresses."
)
# What `last_error` says of a failed try; nothing finer (no port, no answer, no exception text).
ADDRESS_NOT_ALLOWED = "address not allowed"
CONNECTION_FAILED = "connection failed"
MAIL_NOT_SENT = "mail not sent"

SECRET_MIN, SECRET_MAX = 16, 256
URL_MAX = 200  # Django's URLField
EMAIL_MAX = 320
# What `destination` accepts, as the schema's pattern can say it (and every URL it matches is
# accepted): http(s), a DNS name whose last label starts with a letter (not a number) or a dotted
# IPv4 address, a port up to 65535, then a path, query or fragment without spaces, controls or
# backslashes. Bracketed IPv6 hosts and international names are accepted but not described; whether
# the address is one a delivery may reach is not a shape (`check_destination`).
_LABEL = "[A-Za-z0-9-]{1,63}"
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
URL_PATTERN = (
    f"^[Hh][Tt][Tt][Pp][Ss]?://(({_LABEL}\\.)*[A-Za-z][A-Za-z0-9-]{{0,62}}\\.?|{_OCTET}(\\.{_OCTET}){{3}})"
    f"(:{_PORT})?([/?#][^\\u0000-\\u0020\\u007f\\\\]*)?$"
)
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
    """An absolute http(s) URL with a host and no credentials (Django's URLValidator, less ftp and
    userinfo); whether its address is allowed is `check_destination`'s (it needs the settings)."""
    destination(value)
    return value


# --- destinations ----------------------------------------------------------------------------------
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_UNSAFE_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
_HOST_NAME = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*")
_DECIMAL, _OCTAL, _HEX = re.compile(r"[0-9]+"), re.compile(r"[0-7]+"), re.compile(r"[0-9a-f]*")
_LOOPBACK_NAMES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Destination:
    """A web hook's URL taken apart for a delivery: where to connect and what to ask for."""

    scheme: str
    host: str  # lower case, ASCII (IDNA), no brackets, no trailing dot
    port: int
    target: str  # path and query, as sent in the request line

    @property
    def literal(self) -> tuple[IPAddress, ...] | None:
        """The addresses the host names by itself (an IP in any form, or `localhost`), else None."""
        return literal_addresses(self.host)


def destination(url: str) -> Destination:
    """Parse a web hook URL, or raise ValueError with the message a client sees."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = _normal_host(parts)
    except (ValueError, UnicodeError):
        raise ValueError(INVALID_URL) from None
    if parts.scheme not in ("http", "https") or _UNSAFE_URL_CHARACTERS.search(url):
        raise ValueError(INVALID_URL)
    if parts.username is not None or parts.password is not None:
        raise ValueError(URL_WITH_CREDENTIALS)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), target)


def _normal_host(parts: SplitResult) -> str:
    """The host as a resolver or a connection sees it; ValueError unless it is a DNS name, an
    IPv4 address (in any form `inet_aton` reads) or a bracketed IPv6 address."""
    host = parts.hostname or ""
    if ":" in host:  # urlsplit allows a colon only between brackets
        return str(ipaddress.IPv6Address(host))
    # IDNA folds full-width digits and ideographic dots into ASCII, as clients do before resolving.
    host = host.encode("idna").decode("ascii").lower().removesuffix(".")
    if not _HOST_NAME.fullmatch(host):
        raise ValueError(host)
    if _ends_in_number(host) and _inet_aton(host) is None:
        raise ValueError(host)  # 999.1.1.1, 1.2.3.4.5: no name, and no address either
    return host


def _ends_in_number(host: str) -> bool:
    """The URL standard's test for a host that must be read as an IPv4 address."""
    last = host.rsplit(".", 1)[-1]
    return bool(_DECIMAL.fullmatch(last)) or (last.startswith("0x") and bool(_HEX.fullmatch(last[2:])))


def _ipv4_part(part: str) -> int | None:
    """One part of an `inet_aton` address: decimal, 0x hex or 0-led octal."""
    if part.startswith("0x"):
        return int(part[2:] or "0", 16) if _HEX.fullmatch(part[2:]) else None
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8) if _OCTAL.fullmatch(part[1:]) else None
    return int(part) if _DECIMAL.fullmatch(part) else None


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """What `inet_aton` (and the URL standard) make of 1 to 4 numeric parts, the last filling the
    remaining bytes: `127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1` are all 127.0.0.1."""
    parts = host.split(".")
    numbers = [_ipv4_part(p) for p in parts]
    if not 1 <= len(parts) <= 4 or any(n is None for n in numbers):
        return None
    *head, last = [int(n or 0) for n in numbers]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):
        return None
    return ipaddress.IPv4Address(sum(n << (24 - 8 * i) for i, n in enumerate(head)) + last)


def literal_addresses(host: str) -> tuple[IPAddress, ...] | None:
    """The addresses a normalised host names without DNS: an IP literal, or `localhost` (which
    resolvers answer themselves, RFC 6761); None for any other name."""
    if ":" in host:
        return (ipaddress.IPv6Address(host),)
    if host == "localhost" or host.endswith(".localhost"):
        return _LOOPBACK_NAMES
    found = _inet_aton(host) if _ends_in_number(host) else None
    return (found,) if found is not None else None


def _embedded_ipv4(address: IPAddress) -> list[IPAddress]:
    """The IPv4 address inside an IPv6 one that carries it (mapped, 6to4, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address in _NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def _public(address: IPAddress) -> bool:
    # is_global alone lets multicast (and, before Python 3.13, some IPv6 ranges) through.
    special = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or getattr(address, "is_site_local", False)
    )
    return address.is_global and not special


def address_allowed(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> bool:
    """Whether a delivery may connect to `address`: a public one, or one in a network the operator
    allows (`CIRRUS_HOOK_ALLOWED_NETWORKS`). An IPv6 address carrying an IPv4 one is judged by both."""
    candidates = [address, *_embedded_ipv4(address)]
    if any(a in network for a in candidates for network in allowed if a.version == network.version):
        return True
    return all(_public(a) for a in candidates)


def check_destination(url: str, allowed: Sequence[IPNetwork] = ()) -> None:
    """Refuse (400 on `destination_url`) a URL whose host is itself an address not allowed. A name
    is judged at each delivery, after resolving it (its answer may change)."""
    try:
        literal = destination(url).literal
    except ValueError as exc:
        raise ValidationError({"destination_url": [str(exc)]}) from None
    if literal is not None and not all(address_allowed(a, allowed) for a in literal):
        raise ValidationError({"destination_url": [DESTINATION_NOT_ALLOWED]})


def http_error(status: int) -> str:
    """`last_error` of a non-2xx answer: its class only ("HTTP 4xx")."""
    return f"HTTP {status // 100}xx"


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


@dataclass(frozen=True)
class Subscription:
    """Hook `hook_id` of `user_id` wants the event type it is found under (what dispatch reads)."""

    hook_id: str
    user_id: str
    kind: HookKind


def sorted_newest_first(hooks: Sequence[Hook]) -> list[Hook]:
    """Waldur's order (`-created`): ids are UUIDv7, so newest first is by id, descending."""
    return sorted(hooks, key=lambda h: h.id, reverse=True)
