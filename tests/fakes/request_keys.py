"""In-memory `Idempotency-Key`s (the port `RequestKeys`, stored by `chalicelib/store/request_keys.py`):
per user and key digest, kept a day, taken over once expired, staged in the creation's commit."""

from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib.domain.errors import DomainError
from chalicelib.domain.request_keys import KeyAlreadyUsed, RequestKey
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.request_keys import RETENTION
from tests.fakes.world import World, work


class FakeRequestKeys:
    def __init__(self, world: World) -> None:
        # (user id, sha256 of the key) -> (RequestKey, expires at)
        self._keys = world.table("request_keys")

    @staticmethod
    def _at(user_id: str, key: str) -> tuple[str, str]:
        return user_id, hashlib.sha256(key.encode()).hexdigest()

    def _kept(self, at: tuple[str, str], now: datetime) -> RequestKey | None:
        found = self._keys.get(at)
        if found is None or found[1] <= now:
            return None
        used: RequestKey = found[0]
        return used

    def find(self, user_id: str, key: str, now: datetime) -> RequestKey | None:
        return self._kept(self._at(user_id, key), now)

    def remember(self, uow: UnitOfWork, user_id: str, key: str, used: RequestKey, now: datetime) -> None:
        at = self._at(user_id, key)

        def taken() -> DomainError | None:
            earlier = self._kept(at, now)
            return None if earlier is None else KeyAlreadyUsed(earlier)

        work(uow).stage(
            "request_keys", at, taken, lambda: self._keys.__setitem__(at, (used, now + RETENTION))
        )
