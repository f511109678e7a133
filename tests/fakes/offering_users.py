"""Fake of the offering users repository (ports.OfferingUsers): accounts keyed by (provider,
offering, user), as the store's key makes them one per user per offering."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.domain import offering_users as offering_users_domain
from chalicelib.domain.errors import DomainError, ValidationError
from chalicelib.domain.offering_users import AttributeConfig, OfferingUser
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import World, lost_race, work

ALREADY = offering_users_domain.ALREADY
Key = tuple[str, str, str]


def _key(user: OfferingUser) -> Key:
    return (user.provider_id, user.offering_id, user.user_id)


class FakeOfferingUsers:
    def __init__(self, world: World) -> None:
        self._users: dict[Key, OfferingUser] = world.table("offering_users")
        self._configs: dict[tuple[str, str], AttributeConfig] = world.table("offering_user_configs")

    @staticmethod
    def _drop(table: dict[Any, Any], key: Any) -> None:
        table.pop(key, None)

    def _sorted(self) -> list[OfferingUser]:
        return [self._users[k] for k in sorted(self._users)]

    def get(self, offering_user_id: str) -> OfferingUser | None:
        return next((u for u in self._users.values() if u.id == offering_user_id), None)

    def load(self, provider_id: str, offering_id: str, user_id: str) -> OfferingUser | None:
        return self._users.get((provider_id, offering_id, user_id))

    def get_many(self, provider_id: str, offering_id: str, user_ids: list[str]) -> dict[str, OfferingUser]:
        found = (self._users.get((provider_id, offering_id, u)) for u in dict.fromkeys(user_ids))
        return {u.user_id: u for u in found if u is not None}

    def of_provider(self, provider_id: str, offering_id: str | None = None) -> list[OfferingUser]:
        return [
            u
            for u in self._sorted()
            if u.provider_id == provider_id and (offering_id is None or u.offering_id == offering_id)
        ]

    def of_user(self, user_id: str) -> list[OfferingUser]:
        return sorted((u for u in self._users.values() if u.user_id == user_id), key=lambda u: u.offering_id)

    def attribute_config(self, provider_id: str, offering_id: str) -> AttributeConfig | None:
        return self._configs.get((provider_id, offering_id))

    def add(self, uow: UnitOfWork, user: OfferingUser) -> None:
        key = _key(user)
        work(uow).stage(
            "offering_users",
            key,
            lambda: ValidationError([ALREADY]) if key in self._users else None,
            lambda: self._users.__setitem__(key, user),
        )

    def save(self, uow: UnitOfWork, before: OfferingUser, after: OfferingUser) -> OfferingUser:
        key = _key(before)
        stored = replace(after, version=before.version + 1)

        def stale() -> DomainError | None:
            current = self._users.get(key)
            return lost_race() if current is None or current.version != before.version else None

        work(uow).stage("offering_users", key, stale, lambda: self._users.__setitem__(key, stored))
        return stored

    def remove(self, uow: UnitOfWork, user: OfferingUser) -> None:
        key = _key(user)
        work(uow).stage(
            "offering_users",
            key,
            lambda: None if key in self._users else lost_race(),
            lambda: self._drop(self._users, key),
        )

    def save_attribute_config(
        self, uow: UnitOfWork, before: AttributeConfig | None, after: AttributeConfig
    ) -> AttributeConfig:
        key = (after.provider_id, after.offering_id)
        saved_before = before is not None and before.saved
        version = before.version + 1 if before is not None and saved_before else 1
        stored = replace(after, version=version, saved=True)

        def stale() -> DomainError | None:
            current = self._configs.get(key)
            if not saved_before:
                return lost_race() if current is not None else None
            return (
                lost_race()
                if current is None or before is None or current.version != before.version
                else None
            )

        work(uow).stage("offering_user_configs", key, stale, lambda: self._configs.__setitem__(key, stored))
        return stored

    def remove_attribute_config(self, uow: UnitOfWork, config: AttributeConfig) -> None:
        key = (config.provider_id, config.offering_id)
        work(uow).stage("offering_user_configs", key, None, lambda: self._drop(self._configs, key))
