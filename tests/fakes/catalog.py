"""Fakes of the catalog repositories (ports.Categories)."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.offerings import Category
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import World, lost_race, work


class FakeCategories:
    def __init__(self, world: World) -> None:
        self._categories = world.table("categories")  # id -> Category

    def get(self, category_id: str) -> Category | None:
        return self._categories.get(category_id)

    def load(self, category_id: str) -> Category | None:
        return self._categories.get(category_id)

    def get_many(self, category_ids: list[str]) -> dict[str, Category]:
        return {c: self._categories[c] for c in dict.fromkeys(category_ids) if c in self._categories}

    def read_all(self) -> list[Category]:
        return sorted(self._categories.values(), key=lambda c: c.id)

    def add(self, uow: UnitOfWork, category: Category) -> None:
        work(uow).stage(
            "categories",
            category.id,
            lambda: lost_race() if category.id in self._categories else None,
            lambda: self._categories.__setitem__(category.id, category),
        )

    def save(self, uow: UnitOfWork, before: Category, after: Category) -> None:
        def unchanged() -> bool:
            found = self._categories.get(before.id)
            return found is not None and found.version == before.version

        stored = replace(after, version=before.version + 1)
        work(uow).stage(
            "categories",
            before.id,
            lambda: None if unchanged() else lost_race(),
            lambda: self._categories.__setitem__(before.id, stored),
        )

    def remove(self, uow: UnitOfWork, category: Category) -> None:
        work(uow).stage(
            "categories",
            category.id,
            lambda: None if category.id in self._categories else lost_race(),
            lambda: self._categories.pop(category.id, None),
        )
