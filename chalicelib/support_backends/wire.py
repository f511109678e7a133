"""Reading the loosely typed JSON a remote desk answers: each helper checks one shape and raises
`BackendUnavailable` (an answer not as documented) rather than a KeyError or TypeError."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chalicelib.support_backends.base import BackendRefused, BackendUnavailable, SettingsError
from chalicelib.support_backends.http import Timeouts


def obj(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BackendUnavailable(f"expected a JSON object, got {type(value).__name__}")
    return value


def array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise BackendUnavailable(f"expected a JSON array, got {type(value).__name__}")
    return value


def ident(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise BackendUnavailable(f"expected an id or name, got {value!r:.40}")
    return str(value)


def segment(value: str) -> str:
    """An id or key as one path segment (never a way to reach another endpoint)."""
    if not value or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise BackendRefused(None, f"not an issue id or key: {value!r:.70}")
    return value


def timeouts_from(settings: Mapping[str, str]) -> Timeouts:
    default = Timeouts()
    try:
        connect = float(settings.get("connect_timeout") or default.connect)
        read = float(settings.get("read_timeout") or default.read)
    except ValueError as error:
        raise SettingsError("connect_timeout and read_timeout must be numbers of seconds") from error
    if not (0 < connect <= 30 and 0 < read <= 60):
        raise SettingsError("connect_timeout must be in (0, 30] and read_timeout in (0, 60] seconds")
    return Timeouts(connect=connect, read=read, total=max(default.total, connect + read))
