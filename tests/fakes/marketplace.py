"""Fakes of the marketplace repositories: orders (with their Idempotency-Keys), resources (counted
against their project's and customer's nc_resource_count through the organisation fakes) and
component usages (ports.Orders, ports.Resources, ports.Usages)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, Generic, TypeVar

from chalicelib.config import get_settings
from chalicelib.domain.errors import DomainError, TooBroad, ValidationError
from chalicelib.domain.orders import Order
from chalicelib.domain.quotas import RESOURCE_COUNT
from chalicelib.domain.resources import Resource
from chalicelib.domain.robot_accounts import RobotAccount
from chalicelib.domain.usages import ComponentUsage
from chalicelib.domain.user_usages import LIMIT_TAKEN, ComponentUserUsage, UserUsageLimit
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import Source, UnitOfWork
from tests.fakes.organizations import FakeCustomers, FakeProjects
from tests.fakes.world import World, lost_race, work

# The slow path's 400 (as store/pages.py words it): what is listed, and what narrows the request.
TOO_BROAD = "Too many {what} to filter or sort (more than {limit}); narrow the request with {hint}."
NARROW = {
    "orders": "customer_uuid=, project_uuid=, provider_uuid= or offering_uuid=",
    "resources": "customer_uuid=, project_uuid=, provider_uuid= or offering_uuid=",
    "usages": "customer_uuid=, project_uuid=, resource_uuid= or offering_uuid=",
    "user usages": "customer_uuid=, project_uuid=, resource_uuid= or offering_uuid=",
    "user usage limits": "resource_uuid= or offering_uuid=",
    "robot accounts": "resource_uuid=, project_uuid=, customer_uuid= or provider_uuid=",
}

Row = TypeVar("Row", Order, Resource, ComponentUsage, ComponentUserUsage, UserUsageLimit, RobotAccount)


class _Rows(Generic[Row]):
    """The listing half the three repositories share: rows by id in one world table."""

    what = "rows"
    # Orders of all a customer's projects share its partition (a project's are filtered from it:
    # the store reads them all); resources and usages have a prefix per project.
    project_in_key = True

    def __init__(self, rows: dict[Any, Row]) -> None:
        self._rows: dict[Any, Row] = rows  # by id (usages: by the slot the store keys them by)

    def _all(self) -> list[Row]:
        return sorted(self._rows.values(), key=lambda r: r.id)

    def _in(self, source: Source) -> tuple[list[Row], int]:
        """The rows of `source` and how many items the store reads to find them."""
        rows = self._all()
        if source.customer_id:
            rows = [r for r in rows if r.customer_id == source.customer_id]
            read = len(rows)
            if source.project_id:
                rows = [r for r in rows if r.project_id == source.project_id]
                read = len(rows) if self.project_in_key else read
            return rows, read
        if source.provider_id:
            rows = [r for r in rows if r.provider_id == source.provider_id]
            if source.offering_id:
                rows = [r for r in rows if r.offering_id == source.offering_id]
        return rows, len(rows)

    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[Row]:
        limit = get_settings().filter_read_limit
        found: dict[str, Row] = {}
        read = 0
        for source in sources:
            rows, cost = self._in(source)
            read += cost
            # A project's orders are filtered from their customer's: that read is bounded alone.
            filtered = bool(source.customer_id and source.project_id and not self.project_in_key)
            if (bounded and read > limit) or (filtered and cost > limit):
                raise TooBroad(TOO_BROAD.format(what=self.what, limit=limit, hint=NARROW[self.what]))
            found.update((r.id, r) for r in rows)
        return [found[k] for k in sorted(found)]

    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[Row]:
        rows = self._all()
        return paginate(rows[::-1] if descending else rows, request)


class FakeOrders(_Rows[Order]):
    what = "orders"
    project_in_key = False

    def __init__(self, world: World) -> None:
        super().__init__(world.table("orders"))  # id -> Order
        self._orders = self._rows

    def get(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)

    def load(self, customer_id: str, order_id: str) -> Order | None:
        found = self._orders.get(order_id)
        return found if found is not None and found.customer_id == customer_id else None

    def add(self, uow: UnitOfWork, order: Order) -> Order:
        stored = replace(order, version=1)
        work(uow).stage(
            "orders",
            order.id,
            lambda: lost_race() if order.id in self._orders else None,
            lambda: self._orders.__setitem__(order.id, stored),
        )
        return stored

    def _unchanged(self, order: Order) -> DomainError | None:
        found = self._orders.get(order.id)
        same = found is not None and (found.version, found.state) == (order.version, order.state)
        return None if same else lost_race()

    def save_transition(self, uow: UnitOfWork, before: Order, after: Order) -> Order:
        stored = replace(after, version=before.version + 1)
        work(uow).stage(
            "orders",
            before.id,
            lambda: self._unchanged(before),
            lambda: self._orders.__setitem__(before.id, stored),
        )
        return stored

    def remove(self, uow: UnitOfWork, order: Order) -> None:
        def apply() -> None:
            del self._orders[order.id]

        work(uow).stage("orders", order.id, lambda: self._unchanged(order), apply)


class FakeResources(_Rows[Resource]):
    what = "resources"

    def __init__(self, world: World) -> None:
        super().__init__(world.table("resources"))  # id -> Resource
        self._resources = self._rows
        self._customers = FakeCustomers(world)
        self._projects = FakeProjects(world)

    def get(self, resource_id: str) -> Resource | None:
        return self._resources.get(resource_id)

    def load(self, customer_id: str, project_id: str, resource_id: str) -> Resource | None:
        found = self._resources.get(resource_id)
        if found is None or (found.customer_id, found.project_id) != (customer_id, project_id):
            return None
        return found

    def add(self, uow: UnitOfWork, resource: Resource) -> Resource:
        stored = replace(resource, version=1)
        work(uow).stage(
            "resources",
            resource.id,
            lambda: lost_race() if resource.id in self._resources else None,
            lambda: self._resources.__setitem__(resource.id, stored),
        )
        self._customers.take_one(uow, resource.customer_id, RESOURCE_COUNT)
        self._projects.take_one(uow, resource.customer_id, resource.project_id, RESOURCE_COUNT)
        return stored

    def release_count(self, uow: UnitOfWork, resource: Resource) -> None:
        self._customers.release_one(uow, resource.customer_id, RESOURCE_COUNT)
        self._projects.release_one(uow, resource.customer_id, resource.project_id, RESOURCE_COUNT)

    def save_changes(self, uow: UnitOfWork, before: Resource, after: Resource) -> Resource:
        stored = replace(after, version=before.version + 1)

        def stale() -> DomainError | None:
            found = self._resources.get(before.id)
            return None if found is not None and found.version == before.version else lost_race()

        work(uow).stage("resources", before.id, stale, lambda: self._resources.__setitem__(before.id, stored))
        return stored


class FakeUsages(_Rows[ComponentUsage]):
    """Usages keyed as the store keys them: one per resource, billing period and component."""

    what = "usages"

    def __init__(self, world: World) -> None:
        super().__init__(world.table("usages"))  # (resource, period, component) -> ComponentUsage
        self._by_slot = self._rows

    @staticmethod
    def _slot(usage: ComponentUsage) -> tuple[str, str, str]:
        return usage.resource_id, usage.billing_period.isoformat(), usage.component_type

    def get(self, usage_id: str) -> ComponentUsage | None:
        return next((u for u in self._by_slot.values() if u.id == usage_id), None)

    def of_resource(self, customer_id: str, project_id: str, resource_id: str) -> list[ComponentUsage]:
        found = [
            u
            for u in self._by_slot.values()
            if (u.customer_id, u.project_id, u.resource_id) == (customer_id, project_id, resource_id)
        ]
        return sorted(found, key=lambda u: (u.billing_period.isoformat(), u.component_type))

    def save(
        self, uow: UnitOfWork, changes: list[tuple[ComponentUsage | None, ComponentUsage]]
    ) -> list[ComponentUsage]:
        stored: list[ComponentUsage] = []
        for before, after in changes:
            made = replace(after, version=1 if before is None else before.version + 1)
            slot = self._slot(made)
            check = self._new_check(slot) if before is None else self._version_check(slot, before.version)
            work(uow).stage("usages", slot, check, self._setter(slot, made))
            stored.append(made)
        return stored

    def _new_check(self, slot: tuple[str, str, str]) -> Callable[[], DomainError | None]:
        return lambda: lost_race() if slot in self._by_slot else None

    def _version_check(self, slot: tuple[str, str, str], version: int) -> Callable[[], DomainError | None]:
        def check() -> DomainError | None:
            found = self._by_slot.get(slot)
            return None if found is not None and found.version == version else lost_race()

        return check

    def _setter(self, slot: tuple[str, str, str], usage: ComponentUsage) -> Callable[[], None]:
        return lambda: self._by_slot.__setitem__(slot, usage)


class FakeUserUsages(_Rows[ComponentUserUsage]):
    """Per-user usages keyed as the store keys them: one per component usage and username."""

    what = "user usages"

    def __init__(self, world: World) -> None:
        super().__init__(world.table("user_usages"))  # (resource, period, component, username) -> row
        self._by_slot = self._rows

    @staticmethod
    def _slot(usage: ComponentUserUsage) -> tuple[str, str, str, str]:
        return usage.resource_id, usage.billing_period.isoformat(), usage.component_type, usage.username

    def get(self, user_usage_id: str) -> ComponentUserUsage | None:
        return next((u for u in self._by_slot.values() if u.id == user_usage_id), None)

    def of_component_usage(
        self, customer_id: str, project_id: str, resource_id: str, billing_period: date, component_type: str
    ) -> list[ComponentUserUsage]:
        wanted = (customer_id, project_id, resource_id, billing_period, component_type)
        found = [
            u
            for u in self._by_slot.values()
            if (u.customer_id, u.project_id, u.resource_id, u.billing_period, u.component_type) == wanted
        ]
        return sorted(found, key=lambda u: u.username)

    def save(
        self, uow: UnitOfWork, changes: list[tuple[ComponentUserUsage | None, ComponentUserUsage]]
    ) -> list[ComponentUserUsage]:
        stored: list[ComponentUserUsage] = []
        for before, after in changes:
            made = replace(after, version=1 if before is None else before.version + 1)
            slot = self._slot(made)
            check = (
                _absent(self._by_slot, slot) if before is None else _at(self._by_slot, slot, before.version)
            )
            work(uow).stage("user_usages", slot, check, _setter(self._by_slot, slot, made))
            stored.append(made)
        return stored


class FakeUserLimits(_Rows[UserUsageLimit]):
    """Per-user usage limits keyed as the store keys them: one per resource, component and user."""

    what = "user usage limits"

    def __init__(self, world: World) -> None:
        super().__init__(world.table("user_limits"))  # (resource, component, offering user) -> limit
        self._by_slot = self._rows

    @staticmethod
    def _slot(limit: UserUsageLimit) -> tuple[str, str, str]:
        return limit.resource_id, limit.component_id, limit.offering_user_id

    def get(self, limit_id: str) -> UserUsageLimit | None:
        return next((u for u in self._by_slot.values() if u.id == limit_id), None)

    def of_resource(self, customer_id: str, project_id: str, resource_id: str) -> list[UserUsageLimit]:
        wanted = (customer_id, project_id, resource_id)
        found = [u for u in self._by_slot.values() if (u.customer_id, u.project_id, u.resource_id) == wanted]
        return sorted(found, key=lambda u: (u.component_id, u.offering_user_id))

    def add(self, uow: UnitOfWork, limit: UserUsageLimit) -> UserUsageLimit:
        made = replace(limit, version=1)
        self._stage_new(uow, made)
        return made

    def _stage_new(self, uow: UnitOfWork, limit: UserUsageLimit) -> None:
        slot = self._slot(limit)

        def taken() -> DomainError | None:
            return ValidationError({"non_field_errors": [LIMIT_TAKEN]}) if slot in self._by_slot else None

        work(uow).stage("user_limits", slot, taken, _setter(self._by_slot, slot, limit))

    def save(self, uow: UnitOfWork, before: UserUsageLimit, after: UserUsageLimit) -> UserUsageLimit:
        made = replace(after, version=before.version + 1)
        old = self._slot(before)
        if old == self._slot(made):
            work(uow).stage(
                "user_limits", old, _at(self._by_slot, old, before.version), _setter(self._by_slot, old, made)
            )
            return made
        self.remove(uow, before)
        self._stage_new(uow, made)
        return made

    def remove(self, uow: UnitOfWork, limit: UserUsageLimit) -> None:
        slot = self._slot(limit)

        def apply() -> None:
            del self._by_slot[slot]

        work(uow).stage("user_limits", slot, _at(self._by_slot, slot, limit.version), apply)


def _absent(rows: dict[Any, Any], slot: Any) -> Callable[[], DomainError | None]:
    return lambda: lost_race() if slot in rows else None


def _at(rows: dict[Any, Any], slot: Any, version: int) -> Callable[[], DomainError | None]:
    def check() -> DomainError | None:
        found = rows.get(slot)
        return None if found is not None and found.version == version else lost_race()

    return check


def _setter(rows: dict[Any, Any], slot: Any, row: Any) -> Callable[[], None]:
    return lambda: rows.__setitem__(slot, row)
