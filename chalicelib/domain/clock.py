"""Time, in one place, so rules can be checked at any instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: list[Callable[[], datetime]] = [_system_now]


def utcnow() -> datetime:
    return _source[0]()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Read time from `source` (tests move a fake clock); None restores the system clock."""
    _source[0] = source or _system_now


def isoformat(value: datetime) -> str:
    """Waldur's datetime rendering: `2024-10-25T00:02:05.123456Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
