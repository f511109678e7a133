"""`Idempotency-Key`s of creations (`REQKEY#<user>#<sha256 of the key>` / `META`), each written in
the transaction of the creation it names, so a key is stored if and only if its object is.

A key is kept a day (DynamoDB's TTL deletes it some time later; until then a key past its expiry is
treated as gone, and a new creation may take it over).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from chalicelib.domain.errors import DomainError
from chalicelib.domain.request_keys import KeyAlreadyUsed, RequestKey
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.items import RequestKeyItem
from chalicelib.store.unit_of_work import transaction

RETENTION = timedelta(days=1)  # how long a retried creation finds its first result


def _pk(user_id: str, key: str) -> str:
    return keys.request_key_pk(user_id, hashlib.sha256(key.encode()).hexdigest())


def _item(user_id: str, key: str) -> RequestKeyItem | None:
    try:
        return RequestKeyItem.get(_pk(user_id, key), keys.META, consistent_read=True)
    except RequestKeyItem.DoesNotExist:
        return None


def _live(item: RequestKeyItem | None, now: datetime) -> bool:
    return item is not None and (item.expires_at is None or item.expires_at > now)


def find(user_id: str, key: str, now: datetime) -> RequestKey | None:
    """What `user_id`'s creation with `key` made, and the hash of its request, if the key is still
    kept at `now` (keys are per user: another user's same key is another key)."""
    item = _item(user_id, key)
    return _request_key(item) if item is not None and _live(item, now) else None


def remember(uow: Work, user_id: str, key: str, used: RequestKey, now: datetime) -> None:
    """Store the key with what its creation makes, in that creation's transaction; a concurrent
    request with the same key loses (KeyAlreadyUsed, naming what the winner made), so only one of
    them creates anything. An expired key is taken over."""
    free = RequestKeyItem.pk.does_not_exist() | (RequestKeyItem.expires_at < now)
    transaction(uow).put(
        RequestKeyItem(
            pk=_pk(user_id, key),
            sk=keys.META,
            object_id=used.object_id,
            scope_id=used.scope_id,
            request_hash=used.request_hash,
            expires_at=now + RETENTION,
        ),
        condition=free,
        on_conflict=lambda: _used(user_id, key),
    )


def _request_key(item: RequestKeyItem) -> RequestKey:
    return RequestKey(item.object_id, item.scope_id, item.request_hash or "")


def _used(user_id: str, key: str) -> DomainError:
    item = _item(user_id, key)
    if item is None:  # expired and deleted between the commit and this read: still not ours
        return KeyAlreadyUsed(RequestKey("", "", ""))
    return KeyAlreadyUsed(_request_key(item))
