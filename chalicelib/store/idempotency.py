"""Idempotency records: a redelivered task message has no second effect.

A worker claims a delivery with a conditional put; a claim whose worker died is taken over once its
lease ends; a finished delivery stays `done` (for `RETENTION`, then TTL removes it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import PutError

from chalicelib.store import keys
from chalicelib.store.errors import lost_condition
from chalicelib.store.items import IdempotencyItem

IN_PROGRESS, DONE = "in_progress", "done"
RETENTION = timedelta(days=14)  # longer than any queue's message retention


class StillRunning(Exception):
    """Another worker holds this delivery; the message comes back after its visibility timeout."""


def claim(digest: str, task: str, now: datetime, lease: timedelta) -> bool:
    """True if this worker may run the delivery; False if it already ran to completion."""
    item = IdempotencyItem(
        pk=keys.idempotency_pk(digest),
        sk=keys.META,
        status=IN_PROGRESS,
        task=task,
        lease_ends=now + lease,
        expires_at=now + RETENTION,
    )
    free = IdempotencyItem.pk.does_not_exist() | (
        (IdempotencyItem.status == IN_PROGRESS) & (IdempotencyItem.lease_ends < now)
    )
    try:
        item.save(condition=free)
        return True
    except PutError as exc:
        if not lost_condition(exc):
            raise
    current = IdempotencyItem.get(keys.idempotency_pk(digest), keys.META, consistent_read=True)
    if current.status == DONE:
        return False
    raise StillRunning(digest)


def finish(digest: str) -> None:
    IdempotencyItem(pk=keys.idempotency_pk(digest), sk=keys.META).update(
        actions=[IdempotencyItem.status.set(DONE)], add_version_condition=False
    )


def release(digest: str) -> None:
    """Give the delivery back after a failure, so the retry runs it."""
    IdempotencyItem(pk=keys.idempotency_pk(digest), sk=keys.META).delete(add_version_condition=False)
