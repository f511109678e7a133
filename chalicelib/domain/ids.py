"""Identifiers: UUIDv7 (time-ordered) rendered as 32 hex characters, as Waldur renders uuids."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid

_HEX = re.compile(r"^[0-9a-f]{32}$")
# A uuid as a client may write it (32 hex digits, or dashed; any case), in words that read the same
# to ECMA-262 (OpenAPI) and to Python's `re`. `parse_id` takes this and, as Django's and DRF's
# UUIDFields do (they call `uuid.UUID`), a few rarer spellings besides (braces, `urn:uuid:`).
UUID_CORE = "([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
UUID_PATTERN = f"^{UUID_CORE}$"
# A hyperlink to an object (`https://host/api/customers/<uuid>/`) or its bare uuid: what
# `id_from_url` resolves (it takes the last path segment that is a uuid), in the plain form clients
# send (RFC 3986 characters spelled out: `\s` differs between the two regex dialects).
URL_HOST = r"[A-Za-z0-9.:\[\]-]+"
URL_SEGMENT = r"[A-Za-z0-9._~%!$&'()*+,;=:@-]+"
UUID_OR_URL_PATTERN = f"^(https?://{URL_HOST}(/{URL_SEGMENT})*/)?{UUID_CORE}/?$"

_lock = threading.Lock()
_last = [0, 0]  # last millisecond, last sequence: keeps ids monotonic within a process


def new_id() -> str:
    """Return a new UUIDv7 as 32 lowercase hex characters.

    Ids made in the same millisecond by this process still sort in creation order: the 12-bit
    `rand_a` field carries a counter seeded at random each millisecond (RFC 9562, method 3).
    """
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last[0]:
            ms = _last[0]
            seq = _last[1] + 1
            if seq > 0xFFF:  # counter exhausted: borrow the next millisecond
                ms, seq = ms + 1, int.from_bytes(os.urandom(2), "big") & 0x7FF
        else:
            seq = int.from_bytes(os.urandom(2), "big") & 0x7FF
        _last[0], _last[1] = ms, seq
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand_b
    return f"{value:032x}"


def parse_id(value: str) -> str | None:
    """Normalise a uuid given in hex or dashed form (any case) to 32 hex chars; None if malformed."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    candidate = value.strip().lower()
    if _HEX.match(candidate):
        return candidate
    try:
        return uuid.UUID(candidate).hex
    except ValueError:
        return None


def id_from_url(value: str) -> str | None:
    """Resolve a hyperlinked reference (`https://host/api/customers/<uuid>/`) or a bare uuid to an id.

    Waldur resolves hyperlinks by the last uuid in the path; so do we.
    """
    if not isinstance(value, str):
        return None
    parts = [p for p in value.split("?")[0].split("/") if p]
    for part in reversed(parts):
        parsed = parse_id(part)
        if parsed:
            return parsed
    return None


def id_bounds(start_ms: int | None, end_ms: int | None) -> tuple[str, str]:
    """The smallest and largest UUIDv7 made in [start_ms, end_ms] (Unix milliseconds; None: open),
    so a time range becomes a sort-key range over ids."""
    low = max(0, start_ms or 0) & ((1 << 48) - 1)
    high = min((1 << 48) - 1, end_ms if end_ms is not None else (1 << 48) - 1)
    return f"{low:012x}" + "0" * 20, f"{max(high, 0):012x}" + "f" * 20
