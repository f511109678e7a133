"""Customer use cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import customers as domain
from chalicelib.domain import events, rbac
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import new_id
from chalicelib.services.paging import Ordering, PageRequest
from chalicelib.store import counters, pages, projects
from chalicelib.store import customers as store
from chalicelib.store.pages import Page
from chalicelib.store.unit_of_work import UnitOfWork

MODEL = "Customer"


@dataclass(frozen=True)
class CustomerFilters:
    name: str | None = None
    name_exact: str | None = None
    abbreviation: str | None = None
    query: str | None = None
    owned_by_current_user: bool | None = None

    def predicate(self) -> Any:
        checks = []
        if self.name is not None:
            name = self.name.lower()
            checks.append(lambda c: name in c.name.lower())
        if self.abbreviation is not None:
            abbreviation = self.abbreviation.lower()
            checks.append(lambda c: abbreviation in c.abbreviation.lower())
        if self.query is not None:
            query = self.query
            checks.append(lambda c: c.matches_query(query))
        if not checks:
            return None
        return lambda item: all(check(store.from_item(item)) for check in checks)


_SORT_KEYS = {
    "abbreviation": lambda item: store.from_item(item).abbreviation,
    "native_name": lambda item: store.from_item(item).native_name,
}
ORDERING_FIELDS = ("name", "created", "abbreviation", "native_name")


def get_visible(principal: Principal, customer_id: str) -> Customer:
    """The customer, if `principal` may see it; NotFound otherwise (Waldur hides, not forbids)."""
    customer = store.get(customer_id) if rbac.sees_all_tenants(principal) else None
    if customer is None:
        raise NotFound(MODEL)
    return customer


def list_customers(
    principal: Principal, filters: CustomerFilters, ordering: Ordering, request: PageRequest
) -> Page:
    if not rbac.sees_all_tenants(principal) or filters.owned_by_current_user:
        # No roles exist yet, so nobody owns a customer.
        return Page([], 0)
    predicate = filters.predicate()
    listing = store.listing(
        name_exact=filters.name_exact,
        by_created=ordering.field == "created",
        descending=ordering.descending,
    )
    if ordering.field in _SORT_KEYS:
        listing = replace(listing, order_by=_SORT_KEYS[ordering.field], descending=ordering.descending)
    if predicate is not None:
        listing = replace(listing, predicate=_both(listing.predicate, predicate))
    if listing.predicate is None and listing.order_by is None:
        listing = replace(listing, known_total=counters.value(counters.CUSTOMERS))
    page = pages.fetch_page(listing, request.page, request.page_size)
    return Page([store.from_item(i) for i in page.items], page.total)


def _both(first: Any, second: Any) -> Any:
    if first is None:
        return second
    return lambda item: first(item) and second(item)


def create_customer(ctx: EventContext, fields: Mapping[str, Any]) -> Customer:
    principal = ctx.actor
    rbac.require_staff(principal)
    customer = Customer(id=new_id(), created=utcnow(), **fields)
    uow = UnitOfWork()
    store.add(uow, customer)
    uow.record(domain.event(customer, events.CREATION, ctx))
    uow.commit()
    return replace(customer, version=1, quota_usage={q.name: 0 for q in customer.quotas})


def update_customer(ctx: EventContext, customer_id: str, changes: Mapping[str, Any]) -> Customer:
    principal = ctx.actor
    before = get_visible(principal, customer_id)
    rbac.require_staff(principal)
    after = replace(before, **changes)
    if after == before:
        return before
    uow = UnitOfWork()
    store.save_changes(uow, before, after)
    uow.record(domain.event(after, events.UPDATE, ctx))
    uow.commit()
    if (after.name, after.abbreviation, after.native_name) != (
        before.name,
        before.abbreviation,
        before.native_name,
    ):
        projects.follow_customer_rename(after.id, after.name, after.abbreviation, after.native_name)
    return replace(after, version=before.version + 1)


def delete_customer(ctx: EventContext, customer_id: str) -> None:
    principal = ctx.actor
    customer = get_visible(principal, customer_id)
    rbac.require_staff(principal)
    uow = UnitOfWork()
    store.remove(uow, customer)
    uow.record(domain.event(customer, events.DELETION, ctx))
    uow.commit()
