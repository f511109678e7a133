"""Fakes of the catalog repositories: categories, offerings (with their plans), service providers
(ports.Categories, ports.Offerings, ports.ServiceProviders)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.offerings import Category, ServiceProvider
from chalicelib.domain.vocabulary import Offering
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import Apply, Check, World, lost_race, work

PROVIDER_ALREADY = "service provider with this customer already exists."


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


class FakeOfferings:
    """Offerings by id, and a pointer per plan to its offering, unique in its provider customer
    (the store's pointer item lives in the customer's partition). Whether an offering has
    resources is read from the world's `resources` table (id -> Resource), which the resources
    fake keeps."""

    def __init__(self, world: World) -> None:
        self._offerings = world.table("offerings")  # id -> Offering
        self._plans = world.table("plan_pointers")  # (customer id, plan id) -> offering id
        self._resources = world.table("resources")  # id -> Resource (kept by the resources fake)

    def get(self, offering_id: str) -> Offering | None:
        return self._offerings.get(offering_id)

    def load(self, customer_id: str, offering_id: str) -> Offering | None:
        found = self._offerings.get(offering_id)
        return found if found is not None and found.customer_id == customer_id else None

    def plan_owner(self, plan_id: str) -> tuple[str, str] | None:
        return next(((c, o) for (c, p), o in self._plans.items() if p == plan_id), None)

    def has_resources(self, offering: Offering) -> bool:
        return any(
            r.offering_id == offering.id and r.provider_id == offering.customer_id
            for r in self._resources.values()
        )

    def for_customer(self, customer_id: str) -> list[Offering]:
        return sorted((o for o in self._offerings.values() if o.customer_id == customer_id), key=_by_id)

    def get_many(self, ids: Iterable[tuple[str, str]]) -> list[Offering]:
        found = (self.load(customer_id, offering_id) for customer_id, offering_id in dict.fromkeys(ids))
        return [o for o in found if o is not None]

    def read_all(self) -> list[Offering]:
        return sorted(self._offerings.values(), key=_by_id, reverse=True)

    def page_all(self, request: PageRequest) -> Page[Offering]:
        return paginate(self.read_all(), request)

    def add(self, uow: UnitOfWork, offering: Offering) -> None:
        stored = replace(offering, version=1)
        work(uow).stage(
            "offerings",
            offering.id,
            lambda: lost_race() if offering.id in self._offerings else None,
            lambda: self._offerings.__setitem__(offering.id, stored),
        )
        self._point(uow, offering, {p.id for p in offering.plans})

    def save(self, uow: UnitOfWork, before: Offering, after: Offering) -> None:
        stored = replace(after, version=before.version + 1)
        work(uow).stage(
            "offerings",
            before.id,
            lambda: None if self._version(before.id) == before.version else lost_race(),
            lambda: self._offerings.__setitem__(before.id, stored),
        )
        self._point(uow, after, {p.id for p in after.plans} - {p.id for p in before.plans})

    def remove(self, uow: UnitOfWork, offering: Offering) -> None:
        work(uow).stage(
            "offerings",
            offering.id,
            lambda: None if self._version(offering.id) == offering.version else lost_race(),
            lambda: self._offerings.pop(offering.id, None),
        )
        for plan in offering.plans:
            key = (offering.customer_id, plan.id)
            work(uow).stage("plan_pointers", key, None, self._unpointer(key))

    def _point(self, uow: UnitOfWork, offering: Offering, plan_ids: set[str]) -> None:
        for plan in offering.plans:
            if plan.id in plan_ids:
                key = (offering.customer_id, plan.id)
                work(uow).stage("plan_pointers", key, self._unused(key), self._pointer(key, offering.id))

    def _unused(self, key: tuple[str, str]) -> Check:
        return lambda: lost_race() if key in self._plans else None

    def _pointer(self, key: tuple[str, str], offering_id: str) -> Apply:
        return lambda: self._plans.__setitem__(key, offering_id)

    def _unpointer(self, key: tuple[str, str]) -> Apply:
        return lambda: self._plans.pop(key, None) and None

    def _version(self, offering_id: str) -> int | None:
        found = self._offerings.get(offering_id)
        return None if found is None else found.version


class FakeServiceProviders:
    """At most one provider record per customer (the store's key guards it)."""

    def __init__(self, world: World) -> None:
        self._providers = world.table("service_providers")  # customer id -> ServiceProvider

    def get(self, provider_id: str) -> ServiceProvider | None:
        return next((p for p in self._providers.values() if p.id == provider_id), None)

    def for_customer(self, customer_id: str) -> ServiceProvider | None:
        return self._providers.get(customer_id)

    def read_all(self) -> list[ServiceProvider]:
        return sorted(self._providers.values(), key=lambda p: p.id)

    def add(self, uow: UnitOfWork, provider: ServiceProvider) -> None:
        work(uow).stage(
            "service_providers",
            provider.customer_id,
            lambda: (
                ValidationError({"customer": [PROVIDER_ALREADY]})
                if provider.customer_id in self._providers
                else None
            ),
            lambda: self._providers.__setitem__(provider.customer_id, provider),
        )


def _by_id(offering: Offering) -> str:
    return offering.id
