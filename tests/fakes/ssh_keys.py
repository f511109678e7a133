"""In-memory SSH keys (the port `SshKeys`, stored by `chalicelib/store/ssh_keys.py`): keyed by owner
and name as the store keys them, with its per-user cap and its read bound."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.config import get_settings
from chalicelib.domain.errors import TooBroad, ValidationError
from chalicelib.domain.ssh_keys import MAX_KEYS_PER_USER, NAME_TAKEN, TOO_MANY, SshKey
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.pages import TOO_BROAD
from tests.fakes.world import World, lost_race, work


class FakeSshKeys:
    def __init__(self, world: World) -> None:
        self._keys = world.table("ssh_keys")  # (user id, name) -> SshKey
        self._counts = world.table("ssh_key_counts")  # user id -> keys held

    def get(self, key_id: str) -> SshKey | None:
        return next((k for k in self._keys.values() if k.id == key_id), None)

    def of_user(self, user_id: str) -> list[SshKey]:
        """By name, as the store's sort key orders them (UTF-8 bytes)."""
        mine = [k for k in self._keys.values() if k.user_id == user_id]
        return sorted(mine, key=lambda k: k.name.encode())

    def of_users(self, user_ids: Iterable[str]) -> list[SshKey]:
        return [k for user_id in dict.fromkeys(user_ids) for k in self.of_user(user_id)]

    def _by_name(self, descending: bool = False) -> list[SshKey]:
        """The store's index order: `<name>#<id>` as UTF-8 bytes."""
        return sorted(self._keys.values(), key=lambda k: f"{k.name}#{k.id}".encode(), reverse=descending)

    def page_all(self, request: PageRequest, descending: bool = False) -> Page[SshKey]:
        return paginate(self._by_name(descending), request)

    def read_all(self) -> list[SshKey]:
        limit = get_settings().filter_read_limit
        if len(self._keys) > limit:
            raise TooBroad(TOO_BROAD.format(what="SSH keys", limit=limit, hint=" with user_uuid"))
        return self._by_name()

    def add(self, uow: UnitOfWork, key: SshKey) -> None:
        slot = (key.user_id, key.name)
        work(uow).stage(
            "ssh_keys",
            slot,
            lambda: ValidationError.field("name", NAME_TAKEN) if slot in self._keys else None,
            lambda: self._keys.__setitem__(slot, key),
        )
        work(uow).stage(
            "ssh_key_counts",
            key.user_id,
            lambda: (
                ValidationError.field("public_key", TOO_MANY)
                if self._counts.get(key.user_id, 0) >= MAX_KEYS_PER_USER
                else None
            ),
            lambda: self._counts.__setitem__(key.user_id, self._counts.get(key.user_id, 0) + 1),
        )

    def remove(self, uow: UnitOfWork, key: SshKey) -> None:
        slot = (key.user_id, key.name)

        def still_there() -> bool:
            found = self._keys.get(slot)
            return found is not None and found.id == key.id

        work(uow).stage(
            "ssh_keys",
            slot,
            lambda: None if still_there() else lost_race(),
            lambda: self._keys.pop(slot, None) and None,
        )
        work(uow).stage(
            "ssh_key_counts",
            key.user_id,
            None,
            lambda: self._counts.__setitem__(key.user_id, self._counts.get(key.user_id, 0) - 1),
        )

    def forget_count(self, uow: UnitOfWork, user_id: str) -> None:
        work(uow).stage("ssh_key_counts", user_id, None, lambda: self._counts.pop(user_id, None) and None)
