"""The fake of the slug guards and counters (store/slugs.py)."""

from __future__ import annotations

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.slugs import TAKEN
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import World, work


class FakeSlugs:
    def __init__(self, world: World) -> None:
        self._holders = world.table("slugs")  # (kind, slug) -> holder id
        self._counters = world.table("slug_counters")  # (kind, base) -> last number

    def next_number(self, kind: str, base: str) -> int:
        number = int(self._counters.get((kind, base), 0)) + 1
        self._counters[(kind, base)] = number
        return number

    def holder(self, kind: str, slug: str) -> str | None:
        found = self._holders.get((kind, slug))
        return str(found) if found is not None else None

    def claim(self, uow: UnitOfWork, kind: str, slug: str, holder_id: str) -> None:
        key = (kind, slug)

        def check() -> ValidationError | None:
            taken = self._holders.get(key) not in (None, holder_id)
            return ValidationError.field("slug", TAKEN) if taken else None

        work(uow).stage("slugs", key, check, lambda: self._holders.__setitem__(key, holder_id))

    def release(self, uow: UnitOfWork, kind: str, slug: str) -> None:
        key = (kind, slug)
        work(uow).stage("slugs", key, None, lambda: self._holders.pop(key, None))
