"""Fakes of the organisation repositories: customers (ports.Customers), with the quota counters
other aggregates move in their own commits (projects, members, resources)."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import Conflict, DomainError, NotFound, QuotaExceeded
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, UNLIMITED
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import World, lost_race, work

HAS_PROJECTS = "Cannot delete organization with existing projects."


class FakeCustomers:
    def __init__(self, world: World) -> None:
        self._customers = world.table("customers")  # id -> Customer (its quota usage is the truth)

    def get(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    def get_many(self, customer_ids: list[str]) -> list[Customer]:
        return [self._customers[c] for c in dict.fromkeys(customer_ids) if c in self._customers]

    def add(self, uow: UnitOfWork, customer: Customer) -> None:
        stored = replace(
            customer,
            quota_usage={q: 0 for q in CUSTOMER_QUOTAS},
            quota_limits={q: UNLIMITED for q in CUSTOMER_QUOTAS},
            version=1,
        )
        work(uow).stage(
            "customers",
            customer.id,
            lambda: lost_race() if customer.id in self._customers else None,
            lambda: self._customers.__setitem__(customer.id, stored),
        )

    def _unchanged(self, customer: Customer) -> bool:
        found = self._customers.get(customer.id)
        return found is not None and found.version == customer.version

    def save_changes(self, uow: UnitOfWork, before: Customer, after: Customer) -> None:
        def apply() -> None:
            current = self._customers[before.id]
            self._customers[before.id] = replace(
                after,
                quota_usage=current.quota_usage,
                quota_limits=current.quota_limits,
                version=current.version + 1,
            )

        work(uow).stage(
            "customers", before.id, lambda: None if self._unchanged(before) else lost_race(), apply
        )

    def remove(self, uow: UnitOfWork, customer: Customer) -> None:
        def refused() -> DomainError | None:
            if not self._unchanged(customer) or self._usage(customer.id, "nc_project_count"):
                return Conflict(HAS_PROJECTS)
            return None

        work(uow).stage("customers", customer.id, refused, lambda: self._customers.pop(customer.id, None))

    def take_one(self, uow: UnitOfWork, customer_id: str, quota: str) -> None:
        """One more unit of `quota`, refused at its limit (as the store's conditional update)."""

        def refused() -> DomainError | None:
            current = self._customers.get(customer_id)
            if current is None:
                return NotFound("Customer")
            usage, limit = self._usage(customer_id, quota), current.quota_limits.get(quota, UNLIMITED)
            if limit != UNLIMITED and usage >= limit:
                return QuotaExceeded(quota, limit, usage + 1)
            return None

        work(uow).stage("customers", customer_id, refused, lambda: self._move(customer_id, quota, 1))

    def release_one(self, uow: UnitOfWork, customer_id: str, quota: str) -> None:
        work(uow).stage(
            "customers",
            customer_id,
            lambda: None if customer_id in self._customers else NotFound("Customer"),
            lambda: self._move(customer_id, quota, -1),
        )

    def set_quota_limits(self, uow: UnitOfWork, customer: Customer, limits: dict[str, int]) -> None:
        def apply() -> None:
            current = self._customers[customer.id]
            self._customers[customer.id] = replace(
                current, quota_limits={**current.quota_limits, **limits}, version=current.version + 1
            )

        work(uow).stage(
            "customers", customer.id, lambda: None if self._unchanged(customer) else lost_race(), apply
        )

    def _usage(self, customer_id: str, quota: str) -> int:
        return int(self._customers[customer_id].quota_usage.get(quota, 0))

    def _move(self, customer_id: str, quota: str, delta: int) -> None:
        current = self._customers[customer_id]
        usage = {**current.quota_usage, quota: current.quota_usage.get(quota, 0) + delta}
        self._customers[customer_id] = replace(current, quota_usage=usage)
