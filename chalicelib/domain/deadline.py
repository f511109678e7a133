"""The request's deadline: work a caller has given up on is not committed.

API Gateway ends a request after 29 s (its integration timeout) and the client sees a 504 while the
Lambda goes on; if that Lambda still committed, the client's retry would make the object a second
time. So each API request starts a deadline (settings.request_deadline_seconds after it arrives,
well inside the 29 s) and every unit of work checks it right before it commits a transaction: past
it, nothing is written and the request answers 503 with Retry-After (the client's retry is then
the only attempt that creates anything). Time is read from `domain.clock`, so tests move a fake
clock. Background work (queue tasks, workflows) has no deadline of this kind: its own timeouts and
idempotent steps bound it.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from datetime import datetime, timedelta

from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import ServiceUnavailable

PASSED = "The request took too long and was not carried out; send it again."
RETRY_AFTER_SECONDS = 1

_deadline: ContextVar[datetime | None] = ContextVar("cirrus_request_deadline", default=None)


def begin(seconds: float | None) -> Token[datetime | None]:
    """Start the current request's deadline `seconds` from now (None or 0: none); `end()` it with
    the token when the request is answered."""
    return _deadline.set(utcnow() + timedelta(seconds=seconds) if seconds else None)


def end(token: Token[datetime | None]) -> None:
    _deadline.reset(token)


def check() -> None:
    """Raise ServiceUnavailable (503, Retry-After) if the current request's deadline has passed:
    called right before a commit, so a late request writes nothing."""
    ends = _deadline.get()
    if ends is not None and utcnow() >= ends:
        raise ServiceUnavailable(PASSED, retry_after=RETRY_AFTER_SECONDS)
