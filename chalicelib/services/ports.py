"""Ports: what the use cases need from the world, as Protocols, and the one place they are bound.

Services never import an adapter. They reach storage, queues, workflows, mail and time through the
handles below (`from chalicelib.services.ports import users`), typed by the Protocols in this
module. A handle resolves, at call time, to whatever the composition root (`chalicelib.bootstrap`)
bound with `use()`: the DynamoDB store modules on AWS and under `make run`, the in-memory fakes of
`tests/fakes.py` in the service specifications. Nothing registers itself on import.

The store modules implement these Protocols as modules (mypy checks each one against its Protocol
where bootstrap binds it); the fakes implement them as classes; `tests/contract/` runs one suite
against both, so a fake cannot drift from the store it stands for.

Writes go through a unit of work: repositories stage their writes (with their conditions) on the
`UnitOfWork` they are given, and `commit()` applies all of them or none. A repository accepts only
the unit of work of its own kind (a DynamoDB repository refuses a fake's and the reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from chalicelib.domain.events import Event

if TYPE_CHECKING:
    from chalicelib.domain.offerings import Category
    from chalicelib.domain.orders import Order, RequestKey
    from chalicelib.domain.rbac import Grant
    from chalicelib.domain.resources import Resource
    from chalicelib.domain.roles import Role, ScopeType
    from chalicelib.domain.tokens import LoginFailures, Token
    from chalicelib.domain.usages import ComponentUsage
    from chalicelib.domain.users import User
    from chalicelib.services.paging import Page, PageRequest


# Carries out effects (`services/effects.py`: start a workflow, answer one, queue a task), in order.
Executor = Callable[[Sequence[object]], None]


class UnitOfWork(Protocol):
    """The writes of one command, committed atomically, with the audit events that describe them."""

    def record(self, event: Event) -> None:
        """Write `event` to the audit log in the same commit as the change it describes."""

    def after_commit(self, *effects: object) -> None:
        """Have `effects` carried out, in order, once the writes committed (never if they fail)."""

    def commit(self) -> None:
        """Apply every staged write or none; a failed condition raises the domain error its write
        was staged with (or a Conflict)."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class Mailer(Protocol):
    def send_email(self, to: str, subject: str, body: str) -> None: ...


# --- repositories -----------------------------------------------------------------------------------


class Categories(Protocol):
    def get(self, category_id: str) -> Category | None: ...
    def get_many(self, category_ids: list[str]) -> dict[str, Category]: ...
    def read_all(self) -> list[Category]: ...
    def add(self, uow: UnitOfWork, category: Category) -> None: ...
    def save(self, uow: UnitOfWork, before: Category, after: Category) -> None: ...
    def remove(self, uow: UnitOfWork, category: Category) -> None: ...


class Users(Protocol):
    def get(self, user_id: str) -> User | None: ...
    def get_many(self, user_ids: list[str]) -> dict[str, User]: ...
    def get_by_username(self, username: str) -> User | None: ...
    def lookalike_ids(self, username: str) -> set[str]: ...
    def add(self, uow: UnitOfWork, user: User) -> None: ...
    def save_changes(self, uow: UnitOfWork, before: User, after: User) -> None: ...
    def remove(self, uow: UnitOfWork, user: User) -> None: ...


class Tokens(Protocol):
    def get(self, key_hash: str) -> Token | None: ...
    def put(self, uow: UnitOfWork, token: Token) -> None: ...
    def extend(self, token: Token) -> None: ...
    def revoke(self, uow: UnitOfWork, key_hash: str) -> None: ...
    def refresh_snapshots(self, user: User) -> None: ...
    def refresh_snapshots_in(self, uow: UnitOfWork, user: User) -> bool: ...
    def revoke_others(self, user_id: str, keep: str | None) -> None: ...
    def revoke_others_in(self, uow: UnitOfWork, user_id: str, keep: str | None) -> bool: ...
    def login_failures(self, username: str, ip_address: str) -> LoginFailures | None: ...
    def count_login_failure(
        self,
        uow: UnitOfWork,
        username: str,
        ip_address: str,
        known: LoginFailures | None,
        now: datetime,
        window_ends: datetime,
    ) -> None: ...
    def clear_login_failures(self, uow: UnitOfWork, username: str, ip_address: str) -> None: ...


class Roles(Protocol):
    def all_roles(self) -> dict[str, Role]: ...
    def with_users_counts(self, roles: list[Role]) -> list[Role]: ...
    def add(self, uow: UnitOfWork, role: Role) -> None: ...
    def save(self, uow: UnitOfWork, before: Role, after: Role) -> None: ...
    def remove(self, uow: UnitOfWork, role: Role) -> None: ...


class Grants(Protocol):
    def for_user(self, user_id: str) -> list[Grant]: ...
    def for_scope(self, customer_id: str, scope_type: ScopeType, scope_id: str) -> list[Grant]: ...
    def for_customer(self, customer_id: str) -> list[Grant]: ...
    def get(
        self, customer_id: str, scope_type: ScopeType, scope_id: str, user_id: str, role_id: str
    ) -> Grant | None: ...
    def get_by_id(self, grant_id: str) -> Grant | None: ...
    def all_grants(self) -> list[Grant]: ...
    def member_grants(self, customer_id: str, user_id: str) -> int: ...
    def add(self, uow: UnitOfWork, grant: Grant, held: int, *, stored_role: bool = False) -> None: ...
    def set_expiration(self, uow: UnitOfWork, before: Grant, expiration_time: datetime | None) -> None: ...
    def remove(self, uow: UnitOfWork, grant: Grant, held: int) -> None: ...


# --- marketplace: orders, resources, usages ---------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a list of orders, resources or usages is read from: a consumer customer's (`customer_id`,
    one project's of it with `project_id`), a service provider's (`provider_id`, one offering's of it
    with `offering_id`), or, with neither, every one (staff's list)."""

    customer_id: str | None = None
    project_id: str | None = None
    provider_id: str | None = None
    offering_id: str | None = None

    @classmethod
    def consumer(cls, customer_id: str, project_id: str | None = None) -> Source:
        return cls(customer_id=customer_id, project_id=project_id)

    @classmethod
    def provider(cls, provider_id: str, offering_id: str | None = None) -> Source:
        return cls(provider_id=provider_id, offering_id=offering_id)


class Orders(Protocol):
    def get(self, order_id: str) -> Order | None: ...
    def load(self, customer_id: str, order_id: str) -> Order | None: ...
    def add(self, uow: UnitOfWork, order: Order) -> Order: ...
    def save_transition(self, uow: UnitOfWork, before: Order, after: Order) -> Order: ...
    def remove(self, uow: UnitOfWork, order: Order) -> None: ...
    def find_request_key(self, user_id: str, key: str) -> RequestKey | None: ...
    def remember_request_key(
        self, uow: UnitOfWork, user_id: str, key: str, request_hash: str, order: Order, now: datetime
    ) -> None: ...
    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[Order]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[Order]: ...


class Resources(Protocol):
    def get(self, resource_id: str) -> Resource | None: ...
    def load(self, customer_id: str, project_id: str, resource_id: str) -> Resource | None: ...
    def add(self, uow: UnitOfWork, resource: Resource) -> Resource: ...
    def release_count(self, uow: UnitOfWork, resource: Resource) -> None: ...
    def save_changes(self, uow: UnitOfWork, before: Resource, after: Resource) -> Resource: ...
    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[Resource]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[Resource]: ...


class Usages(Protocol):
    def get(self, usage_id: str) -> ComponentUsage | None: ...
    def of_resource(self, customer_id: str, project_id: str, resource_id: str) -> list[ComponentUsage]: ...
    def save(
        self, uow: UnitOfWork, changes: list[tuple[ComponentUsage | None, ComponentUsage]]
    ) -> list[ComponentUsage]: ...
    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[ComponentUsage]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[ComponentUsage]: ...


# --- the bound set -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ports:
    """Everything the services reach outside themselves. Built by the composition root only."""

    unit_of_work: Callable[[], UnitOfWork]
    effects: Executor
    categories: Categories
    users: Users
    tokens: Tokens
    roles: Roles
    orders: Orders
    resources: Resources
    usages: Usages


_bound: list[Ports | None] = [None]


def use(ports: Ports | None) -> None:
    """Bind the ports the services use from now on (the composition root and test fixtures call
    this; None unbinds)."""
    _bound[0] = ports


def bound() -> Ports | None:
    return _bound[0]


def current() -> Ports:
    found = _bound[0]
    if found is None:
        raise RuntimeError("no ports bound: call chalicelib.bootstrap.ensure_ready() first")
    return found


def unit_of_work() -> UnitOfWork:
    """A fresh unit of work of the bound kind."""
    return current().unit_of_work()


class _Handle:
    """Stands for one port of whatever `Ports` is bound when it is used (so a module-level alias in a
    service follows the composition root, and tests swap the whole set at once)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(getattr(current(), self._name), attribute)

    def __repr__(self) -> str:
        return f"<port {self._name}>"


PORT_NAMES = tuple(f.name for f in fields(Ports) if f.name not in ("unit_of_work", "effects"))

categories = cast(Categories, _Handle("categories"))
users = cast(Users, _Handle("users"))
tokens = cast(Tokens, _Handle("tokens"))
roles = cast(Roles, _Handle("roles"))
orders = cast(Orders, _Handle("orders"))
resources = cast(Resources, _Handle("resources"))
usages = cast(Usages, _Handle("usages"))
