"""Creations that are safe to send again: the one helper every creation honouring an
`Idempotency-Key` uses (domain/request_keys.py says what a key means).

A creation service wraps its work in `once(ctx, create, load)` and, in its unit of work, stages
`remember(uow, ctx, object_id)` before the commit: the key and the object then land together or not
at all. A retry finds the key and is answered with `load` (the object as it is now; no second object,
no second event); two concurrent requests with one key race on the key's conditional put, and the
loser is answered like a retry. Without a key (`ctx.request_key` None) both are no-ops.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Unprocessable
from chalicelib.domain.request_keys import KEY_REUSED, KeyAlreadyUsed, KeyUse, RequestKey
from chalicelib.services.ports import UnitOfWork
from chalicelib.services.ports import request_keys as store

T = TypeVar("T")


def request_hash(operation: str, params: Mapping[str, Any], body: Any) -> str:
    """sha256 of the canonical request: its operation, path parameters and parsed body as JSON with
    sorted keys (so spacing and key order do not matter, any value does)."""
    canonical = json.dumps(
        {"operation": operation, "params": dict(params), "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def once(ctx: EventContext, create: Callable[[], T], load: Callable[[RequestKey], T]) -> T:
    """`create()`, unless this user's key was used before: then `load` what that creation made
    (a retry of the same request) or refuse (422: the same key with another request)."""
    use = ctx.request_key
    if use is None:
        return create()
    earlier = store.find(ctx.actor.user_id, use.key, utcnow())
    if earlier is not None:
        return load(_retried(earlier, use))
    try:
        return create()
    except KeyAlreadyUsed as raced:  # a concurrent request with the key committed first
        return load(_retried(raced.used, use))


def remember(uow: UnitOfWork, ctx: EventContext, object_id: str, scope_id: str = "") -> None:
    """Stage the request's key (if it has one) with the object its creation makes, in the
    creation's own unit of work. `scope_id`: what `load` needs besides the id to find it again."""
    use = ctx.request_key
    if use is not None:
        used = RequestKey(object_id, scope_id, use.request_hash)
        store.remember(uow, ctx.actor.user_id, use.key, used, utcnow())


def _retried(used: RequestKey, use: KeyUse) -> RequestKey:
    if not used.answers(use):
        raise Unprocessable(KEY_REUSED)
    return used
