"""Fakes of the identity repositories: users, tokens, roles (ports.Users, ports.Tokens, ports.Roles)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.roles import ROLE_IN_USE, ROLE_NAME_TAKEN, SYSTEM_ROLES, Role
from chalicelib.domain.tokens import LoginFailures, Token
from chalicelib.domain.usernames import lookalike_key
from chalicelib.domain.users import User
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork, UserQuery
from chalicelib.store.keys import user_by_name_sk
from tests.fakes.world import World, lost_race, work

USERNAME_TAKEN = "A user with that username already exists."
MAX_TOKENS_IN_TRANSACTION = 50


class FakeUsers:
    def __init__(self, world: World) -> None:
        self._users = world.table("users")  # id -> User
        self._names = world.table("usernames")  # username -> id

    def get(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def load(self, user_id: str) -> User | None:
        """As stored now (the store's consistent read before a change)."""
        return self._users.get(user_id)

    def get_many(self, user_ids: list[str]) -> dict[str, User]:
        return {u: self._users[u] for u in dict.fromkeys(user_ids) if u in self._users}

    def get_by_username(self, username: str) -> User | None:
        user_id = self._names.get(username)
        return None if user_id is None else self._users.get(user_id)

    def lookalike_ids(self, username: str) -> set[str]:
        wanted = lookalike_key(username)
        return {u.id for u in self._users.values() if lookalike_key(u.username) == wanted}

    def page(self, query: UserQuery, request: PageRequest) -> Page[User]:
        """In the store's orders: by username (its index's key), other fields sorted stably after
        it (so ties stay by username, ascending)."""
        rows = [
            u
            for u in self._users.values()
            if (query.username_exact is None or u.username == query.username_exact)
            and (query.matches is None or query.matches(u))
        ]
        by_name = query.order == "username"
        rows.sort(key=lambda u: user_by_name_sk(u.username, u.id), reverse=by_name and query.descending)
        if not by_name:
            rows.sort(key=lambda u: _sort_value(u, query.order), reverse=query.descending)
        return paginate(rows, request)

    def _guard(self, uow: UnitOfWork, user: User) -> None:
        work(uow).stage(
            "usernames",
            user.username,
            lambda: (
                ValidationError.field("username", USERNAME_TAKEN) if user.username in self._names else None
            ),
            lambda: self._names.__setitem__(user.username, user.id),
        )

    def add(self, uow: UnitOfWork, user: User) -> None:
        self._guard(uow, user)
        stored = replace(user, version=1)
        work(uow).stage(
            "users",
            user.id,
            lambda: lost_race() if user.id in self._users else None,
            lambda: self._users.__setitem__(user.id, stored),
        )

    def save_changes(self, uow: UnitOfWork, before: User, after: User) -> None:
        if after.username != before.username:
            work(uow).stage(
                "usernames", before.username, None, lambda: self._names.pop(before.username, None)
            )
            self._guard(uow, after)
        stored = replace(after, version=before.version + 1)
        work(uow).stage(
            "users",
            after.id,
            lambda: None if self._version(after.id) == before.version else lost_race(),
            lambda: self._users.__setitem__(after.id, stored),
        )

    def remove(self, uow: UnitOfWork, user: User) -> None:
        work(uow).stage(
            "users",
            user.id,
            lambda: None if self._version(user.id) == user.version else lost_race(),
            lambda: self._users.pop(user.id, None),
        )
        work(uow).stage("usernames", user.username, None, lambda: self._names.pop(user.username, None))

    def _version(self, user_id: str) -> int | None:
        found = self._users.get(user_id)
        return None if found is None else found.version


def _sort_value(user: User, field: str) -> Any:
    value = getattr(user, field)
    return value.lower() if isinstance(value, str) else value


class FakeTokens:
    def __init__(self, world: World) -> None:
        self._tokens = world.table("tokens")  # key hash -> Token
        self._failures = world.table("login_failures")  # (username, ip) -> LoginFailures

    def get(self, key_hash: str) -> Token | None:
        return self._tokens.get(key_hash)

    def put(self, uow: UnitOfWork, token: Token) -> None:
        work(uow).stage(
            "tokens",
            token.key_hash,
            lambda: lost_race() if token.key_hash in self._tokens else None,
            lambda: self._tokens.__setitem__(token.key_hash, token),
        )

    def extend(self, token: Token) -> None:
        current = self._tokens.get(token.key_hash)
        if current is not None and token.expires is not None:
            self._tokens[token.key_hash] = replace(current, expires=token.expires)

    def revoke(self, uow: UnitOfWork, key_hash: str) -> None:
        work(uow).stage("tokens", key_hash, None, lambda: self._tokens.pop(key_hash, None))

    def _of(self, user_id: str) -> list[str]:
        return [h for h, t in self._tokens.items() if t.user_id == user_id]

    def _snapshot(self, token: Token, user: User) -> Token:
        return replace(
            token,
            username=user.username,
            full_name=user.full_name,
            is_staff=user.is_staff,
            is_support=user.is_support,
            is_active=user.is_active,
            lifetime=user.token_lifetime,
        )

    def refresh_snapshots(self, user: User) -> None:
        for key_hash in self._of(user.id):
            if user.is_active:
                self._tokens[key_hash] = self._snapshot(self._tokens[key_hash], user)
            else:
                del self._tokens[key_hash]

    def refresh_snapshots_in(self, uow: UnitOfWork, user: User) -> bool:
        hashes = self._of(user.id)
        if len(hashes) > MAX_TOKENS_IN_TRANSACTION:
            return False
        for key_hash in hashes:
            work(uow).stage("tokens", key_hash, None, self._refresher(key_hash, user))
        return True

    def _refresher(self, key_hash: str, user: User) -> Callable[[], None]:
        def apply() -> None:
            token = self._tokens.get(key_hash)
            if token is None:
                return
            if user.is_active:
                self._tokens[key_hash] = self._snapshot(token, user)
            else:
                del self._tokens[key_hash]

        return apply

    def revoke_others(self, user_id: str, keep: str | None) -> None:
        for key_hash in self._of(user_id):
            if key_hash != keep:
                del self._tokens[key_hash]

    def revoke_others_in(self, uow: UnitOfWork, user_id: str, keep: str | None) -> bool:
        hashes = [h for h in self._of(user_id) if h != keep]
        if len(hashes) > MAX_TOKENS_IN_TRANSACTION:
            return False
        for key_hash in hashes:
            work(uow).stage("tokens", key_hash, None, self._dropper(key_hash))
        return True

    def _dropper(self, key_hash: str) -> Callable[[], None]:
        return lambda: self._tokens.pop(key_hash, None) and None

    def login_failures(self, username: str, ip_address: str) -> LoginFailures | None:
        return self._failures.get((username, ip_address))

    def count_login_failure(
        self,
        uow: UnitOfWork,
        username: str,
        ip_address: str,
        known: LoginFailures | None,
        now: datetime,
        window_ends: datetime,
    ) -> None:
        key = (username, ip_address)
        if known is not None and known.window_ends > now:

            def live() -> bool:
                found = self._failures.get(key)
                return found is not None and found.window_ends > now

            work(uow).stage(
                "login_failures",
                key,
                lambda: None if live() else lost_race(),
                lambda: self._failures.__setitem__(
                    key, replace(self._failures[key], count=self._failures[key].count + 1)
                ),
            )
            return

        def absent_or_over() -> bool:
            found = self._failures.get(key)
            return found is None or found.window_ends <= now

        work(uow).stage(
            "login_failures",
            key,
            lambda: None if absent_or_over() else lost_race(),
            lambda: self._failures.__setitem__(key, LoginFailures(count=1, window_ends=window_ends)),
        )

    def clear_login_failures(self, uow: UnitOfWork, username: str, ip_address: str) -> None:
        key = (username, ip_address)
        work(uow).stage("login_failures", key, None, lambda: self._failures.pop(key, None))


class FakeRoles:
    def __init__(self, world: World) -> None:
        self._roles = world.table("roles")  # id -> stored Role (custom roles, system overrides)
        self._names = world.table("role_names")  # name -> id (custom and renamed roles)
        self.users = world.table("role_users")  # id -> how many grants hold it

    def all_roles(self) -> dict[str, Role]:
        return {**{r.id: r for r in SYSTEM_ROLES.values()}, **self._roles}

    def load(self, role_id: str) -> Role | None:
        return self.all_roles().get(role_id)

    def with_users_counts(self, roles: list[Role]) -> list[Role]:
        return [replace(r, users_count=self.users.get(r.id, 0)) for r in roles]

    def _guard(self, uow: UnitOfWork, role: Role) -> None:
        work(uow).stage(
            "role_names",
            role.name,
            lambda: ValidationError.field("name", ROLE_NAME_TAKEN) if role.name in self._names else None,
            lambda: self._names.__setitem__(role.name, role.id),
        )

    def add(self, uow: UnitOfWork, role: Role) -> None:
        self._guard(uow, role)
        stored = replace(role, version=role.version + 1)
        work(uow).stage(
            "roles",
            role.id,
            lambda: lost_race() if role.id in self._roles else None,
            lambda: self._roles.__setitem__(role.id, stored),
        )

    def save(self, uow: UnitOfWork, before: Role, after: Role) -> None:
        if after.name != before.name:
            work(uow).stage("role_names", before.name, None, lambda: self._names.pop(before.name, None))
            self._guard(uow, after)

        def unchanged() -> bool:
            found = self._roles.get(before.id)
            return (
                found is None
                if before.version == 0
                else (found is not None and found.version == before.version)
            )

        stored = replace(after, version=before.version + 1)
        work(uow).stage(
            "roles",
            before.id,
            lambda: None if unchanged() else lost_race(),
            lambda: self._roles.__setitem__(before.id, stored),
        )

    def remove(self, uow: UnitOfWork, role: Role) -> None:
        work(uow).stage(
            "role_users",
            role.id,
            lambda: ValidationError([ROLE_IN_USE]) if self.users.get(role.id, 0) else None,
            lambda: self.users.pop(role.id, None),
        )

        def unchanged() -> bool:
            found = self._roles.get(role.id)
            return found is not None and found.version == role.version

        work(uow).stage(
            "roles",
            role.id,
            lambda: None if unchanged() else lost_race(),
            lambda: self._roles.pop(role.id, None),
        )
        work(uow).stage("role_names", role.name, None, lambda: self._names.pop(role.name, None))
