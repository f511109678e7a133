"""Fakes of the organisation repositories: customers and projects (ports.Customers,
ports.Projects), with the quota counters other aggregates move in their own commits (projects,
members, resources), and their lists in the store's orders with the store's totals (exact here: the
platform-wide counts the store reads lag, but never below what a page shows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import Conflict, DomainError, NotFound, QuotaExceeded
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, PROJECT_COUNT, PROJECT_QUOTAS, UNLIMITED
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import CustomerQuery, ProjectQuery, UnitOfWork
from chalicelib.store.keys import customer_by_name_sk
from tests.fakes.world import World, lost_race, work

# The store's by-name index orders customers by this key (name, then id); `o=` fields no index
# orders by are sorted stably after it.
_CUSTOMERS_SORTED: dict[str, Callable[[Customer], Any]] = {
    "abbreviation": lambda c: c.abbreviation,
    "native_name": lambda c: c.native_name,
}
_PROJECTS_SORTED: dict[str, Callable[[Project], Any]] = {
    "name": lambda p: p.name.lower(),
    "customer_name": lambda p: p.customer_name.lower(),
}

HAS_PROJECTS = "Cannot delete organization with existing projects."


class FakeCustomers:
    def __init__(self, world: World) -> None:
        self._customers = world.table("customers")  # id -> Customer (its quota usage is the truth)

    def get(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    def load(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    def get_many(self, customer_ids: list[str]) -> list[Customer]:
        return [self._customers[c] for c in dict.fromkeys(customer_ids) if c in self._customers]

    def page(self, query: CustomerQuery, request: PageRequest) -> Page[Customer]:
        rows = [
            c
            for c in self._customers.values()
            if (query.name_exact is None or c.name == query.name_exact)
            and (query.matches is None or query.matches(c))
        ]
        if query.order == "created":
            rows.sort(key=lambda c: c.id, reverse=query.descending)
        else:
            rows.sort(key=lambda c: customer_by_name_sk(c.name, c.id), reverse=query.descending)
        sort_key = _CUSTOMERS_SORTED.get(query.order)
        if sort_key is not None:
            rows.sort(key=sort_key, reverse=query.descending)  # stable: ties stay by name
        return paginate(rows, request)

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


HAS_RESOURCES = "Project has resources. Please remove them before deleting the project."


class FakeProjects:
    """Live projects by id; a removed one moves to `removed_projects` (soft deletion, as the store)."""

    def __init__(self, world: World) -> None:
        self._projects = world.table("projects")  # id -> live Project
        self._removed = world.table("removed_projects")  # id -> removed Project
        # id -> the customer version whose names a live project holds (the rename task's guard)
        self._names_of = world.table("project_customer_versions")
        self._customers = FakeCustomers(world)

    def get(self, project_id: str) -> Project | None:
        return self._projects.get(project_id)

    def load(self, project_id: str) -> Project | None:
        return self._projects.get(project_id)

    def load_in(self, customer_id: str, project_id: str) -> Project | None:
        found = self._projects.get(project_id)
        return found if found is not None and found.customer_id == customer_id else None

    def get_many(self, project_customers: dict[str, str]) -> list[Project]:
        return [p for p in (self.load_in(c, i) for i, c in project_customers.items()) if p is not None]

    def of_customer(self, customer_id: str) -> list[Project]:
        found = [p for p in self._projects.values() if p.customer_id == customer_id]
        return sorted(found, key=lambda p: p.id, reverse=True)

    def page(self, query: ProjectQuery, request: PageRequest) -> Page[Project]:
        wanted = set(query.customer_ids)
        rows = [
            p
            for p in self._projects.values()
            if (not wanted or p.customer_id in wanted) and (query.matches is None or query.matches(p))
        ]
        rows.sort(key=lambda p: p.id, reverse=query.descending)
        sort_key = _PROJECTS_SORTED.get(query.order)
        if sort_key is not None:
            rows.sort(key=sort_key, reverse=query.descending)  # stable: ties stay by creation
        return paginate(rows, request)

    def follow_customer_rename(
        self, customer_id: str, name: str, abbreviation: str, native_name: str, customer_version: int
    ) -> int:
        changed = 0
        for project in self.of_customer(customer_id):
            if self._names_of.get(project.id, 0) >= customer_version:
                continue  # holds these names or newer ones already
            self._projects[project.id] = replace(
                project,
                customer_name=name,
                customer_abbreviation=abbreviation,
                customer_native_name=native_name,
            )
            self._names_of[project.id] = customer_version
            changed += 1
        return changed

    def add(self, uow: UnitOfWork, project: Project) -> None:
        stored = replace(
            project,
            quota_usage=project.quota_usage or {q: 0 for q in PROJECT_QUOTAS},
            quota_limits=project.quota_limits or {q: UNLIMITED for q in PROJECT_QUOTAS},
            version=1,
        )
        work(uow).stage(
            "projects",
            project.id,
            lambda: lost_race() if project.id in self._projects else None,
            lambda: self._projects.__setitem__(project.id, stored),
        )
        self._customers.take_one(uow, project.customer_id, PROJECT_COUNT)

    def _unchanged(self, project: Project) -> bool:
        found = self._projects.get(project.id)
        return found is not None and found.version == project.version

    def save_changes(self, uow: UnitOfWork, before: Project, after: Project) -> None:
        def apply() -> None:
            current = self._projects[before.id]
            self._projects[before.id] = replace(
                current,
                name=after.name,
                description=after.description,
                backend_id=after.backend_id,
                start_date=after.start_date,
                end_date=after.end_date,
                is_industry=after.is_industry,
                slug=after.slug,
                customer_slug=after.customer_slug,
                version=current.version + 1,
            )

        work(uow).stage(
            "projects", before.id, lambda: None if self._unchanged(before) else lost_race(), apply
        )

    def remove(self, uow: UnitOfWork, project: Project, when: datetime) -> None:
        def refused() -> DomainError | None:
            current = self._projects.get(project.id)
            if current is not None and current.resources_count:
                return Conflict(HAS_RESOURCES)
            return None if self._unchanged(project) else lost_race()

        def apply() -> None:
            current = self._projects.pop(project.id)
            self._names_of.pop(project.id, None)
            self._removed[project.id] = replace(current, removed=when, version=current.version + 1)

        work(uow).stage("projects", project.id, refused, apply)
        self._customers.release_one(uow, project.customer_id, PROJECT_COUNT)

    def take_one(self, uow: UnitOfWork, customer_id: str, project_id: str, quota: str) -> None:
        def refused() -> DomainError | None:
            current = self.load_in(customer_id, project_id)
            if current is None:
                return NotFound("Project")
            usage, limit = current.quota_usage.get(quota, 0), current.quota_limits.get(quota, UNLIMITED)
            if limit != UNLIMITED and usage >= limit:
                return QuotaExceeded(quota, limit, usage + 1)
            return None

        work(uow).stage("projects", project_id, refused, lambda: self._move(project_id, quota, 1))

    def release_one(self, uow: UnitOfWork, customer_id: str, project_id: str, quota: str) -> None:
        work(uow).stage(
            "projects",
            project_id,
            lambda: None if self.load_in(customer_id, project_id) else NotFound("Project"),
            lambda: self._move(project_id, quota, -1),
        )

    def set_quota_limits(self, uow: UnitOfWork, project: Project, limits: dict[str, int]) -> None:
        def apply() -> None:
            current = self._projects[project.id]
            self._projects[project.id] = replace(
                current, quota_limits={**current.quota_limits, **limits}, version=current.version + 1
            )

        work(uow).stage(
            "projects", project.id, lambda: None if self._unchanged(project) else lost_race(), apply
        )

    def _move(self, project_id: str, quota: str, delta: int) -> None:
        current = self._projects[project_id]
        usage = {**current.quota_usage, quota: current.quota_usage.get(quota, 0) + delta}
        self._projects[project_id] = replace(current, quota_usage=usage)
