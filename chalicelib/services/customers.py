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
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.rbac import Scope
from chalicelib.domain.roles import CUSTOMER_OWNER, P, ScopeType
from chalicelib.services import access as access_service
from chalicelib.services import memberships
from chalicelib.services.paging import Ordering, PageRequest
from chalicelib.store import counters, grants, pages, projects
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

    def matches(self, customer: Customer) -> bool:
        if self.name_exact is not None and customer.name != self.name_exact:
            return False
        predicate = self.predicate()
        return predicate is None or predicate(customer)

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
        return lambda item: all(
            check(item if isinstance(item, Customer) else store.from_item(item)) for check in checks
        )


_SORT_KEYS = {
    "abbreviation": lambda item: store.from_item(item).abbreviation,
    "native_name": lambda item: store.from_item(item).native_name,
}
ORDERING_FIELDS = ("name", "created", "abbreviation", "native_name")


def get_visible(principal: Principal, customer_id: str) -> Customer:
    """The customer, if `principal` may see it; NotFound otherwise (Waldur hides, not forbids)."""
    visible = access_service.access(principal).sees_customer(customer_id)
    customer = store.get(customer_id) if visible else None
    if customer is None:
        raise NotFound(MODEL)
    return customer


def scope(customer: Customer) -> Scope:
    return Scope(ScopeType.CUSTOMER, customer.id, customer.id, customer.name)


def _owned_by(principal: Principal) -> set[str]:
    """Customers where the caller is an owner now (read directly: staff's access holds no grants)."""
    roles = access_service.all_roles()
    owner_id = next(r.id for r in roles.values() if r.name == CUSTOMER_OWNER)
    now = utcnow()
    return {
        g.scope_id
        for g in grants.for_user(principal.user_id)
        if g.scope_type is ScopeType.CUSTOMER and g.role_id == owner_id and g.active(now)
    }


def list_customers(
    principal: Principal, filters: CustomerFilters, ordering: Ordering, request: PageRequest
) -> Page:
    rights = access_service.access(principal)
    if not rights.reads_everything or filters.owned_by_current_user:
        ids = rights.customer_ids() if not rights.reads_everything else None
        if filters.owned_by_current_user:
            owned = _owned_by(principal)
            ids = owned if ids is None else ids & owned
        return _page_of(store.get_many(sorted(ids or ())), filters, ordering, request)
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
        listing = pages.platform_total(listing, counters.CUSTOMERS)
    page = pages.fetch_page(listing, request.page, request.page_size)
    return Page([store.from_item(i) for i in page.items], page.total)


_ORDER_BY = {
    "name": lambda c: (c.name, c.id),
    "created": lambda c: c.id,
    "abbreviation": lambda c: c.abbreviation,
    "native_name": lambda c: c.native_name,
}


def _page_of(
    found: list[Customer], filters: CustomerFilters, ordering: Ordering, request: PageRequest
) -> Page:
    """Filter, order and page customers read by id (a caller's own few)."""
    rows = [c for c in found if filters.matches(c)]
    rows.sort(key=_ORDER_BY[ordering.field or "name"], reverse=ordering.descending)
    start = (request.page - 1) * request.page_size
    return Page(rows[start : start + request.page_size], len(rows))


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
    """Change a customer (CUSTOMER.UPDATE): its staff-only fields (domain.STAFF_ONLY_FIELDS) by
    staff alone, and a blocked or archived customer by staff alone."""
    principal = ctx.actor
    before = get_visible(principal, customer_id)
    access_service.access(principal).require(P.UPDATE_CUSTOMER, scope(before))
    rbac.refuse_staff_only(principal, domain.STAFF_ONLY_FIELDS, before, changes)
    if not principal.is_staff:
        before.require_available()  # a locked customer is not its people's to change; staff unlock it
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


def require_available(customer_id: str) -> None:
    """400 if the customer is blocked or archived (Waldur's words); a missing one is the caller's
    NotFound to raise."""
    customer = store.get(customer_id)
    if customer is not None:
        customer.require_available()


def delete_customer(ctx: EventContext, customer_id: str) -> None:
    principal = ctx.actor
    customer = get_visible(principal, customer_id)
    rbac.require_staff(principal)
    if customer.projects_count:
        raise Conflict(store.HAS_PROJECTS)
    # Its team goes first (the customer's user count moves with each revocation).
    memberships.revoke_all(ctx, grants.for_customer(customer.id))
    customer = store.get(customer.id) or customer
    uow = UnitOfWork()
    store.remove(uow, customer)
    uow.record(domain.event(customer, events.DELETION, ctx))
    uow.commit()
