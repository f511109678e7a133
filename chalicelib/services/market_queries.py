"""Lists of orders, resources and usages, with Waldur's filters, from the narrowest sources that
hold them (store/ACCESS_PATTERNS.md says what each costs):

- a customer (`customer_uuid`, or the project or resource named) → its partition;
- a provider (`provider_uuid`) or an offering (`offering_uuid`) → the provider's, one offering's;
- staff and support with no such filter → every one (one page read, when nothing else filters or
  reorders);
- anybody else → the customers, projects and offerings they hold roles in.

What no key narrows (states, types, names, approvability) is filtered in memory, and every row is
checked against the caller's sight (either side; the provider view: the provider's side only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.domain.context import Principal
from chalicelib.domain.errors import NotFound, TooBroad
from chalicelib.domain.orders import Order
from chalicelib.domain.rbac import Access
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P
from chalicelib.domain.vocabulary import OrderState, ResourceState
from chalicelib.services import offerings as catalog
from chalicelib.services import order_sides as sides
from chalicelib.services.paging import Ordering, Page, PageRequest, order_rows, paginate
from chalicelib.services.ports import Source
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import orders as order_store
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import resources as resource_store

T = TypeVar("T", bound=sides.Placed)
NEWEST = Ordering("created", descending=True)  # every list's default order


@dataclass(frozen=True)
class Narrowing:
    """The uuid filters a key can serve (already parsed)."""

    customer_id: str | None = None
    project_id: str | None = None
    resource_id: str | None = None
    provider_id: str | None = None
    offering_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderFilters:
    narrowing: Narrowing = Narrowing()
    states: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    offering_types: tuple[str, ...] = ()
    resource_name: str | None = None
    can_approve_as_consumer: bool | None = None
    can_approve_as_provider: bool | None = None
    # Waldur's `modified` (modified at or after) and `modified_before` (strictly before): the site
    # agent's reconciliation asks for its offering's orders stuck since a cutoff. No key orders
    # orders by `modified`, so they filter what the narrowed source reads (bounded, pages.py).
    modified_after: datetime | None = None
    modified_before: datetime | None = None

    def in_window(self, order: Order) -> bool:
        return (self.modified_after is None or order.modified >= self.modified_after) and (
            self.modified_before is None or order.modified < self.modified_before
        )

    @property
    def windowed(self) -> bool:
        return self.modified_after is not None or self.modified_before is not None


@dataclass(frozen=True)
class ResourceFilters:
    narrowing: Narrowing = Narrowing()
    states: tuple[str, ...] = ()
    name: str | None = None
    name_exact: str | None = None
    backend_id: str | None = None
    offering_type: str | None = None
    plan_id: str | None = None
    query: str | None = None
    slug: str | None = None
    category_id: str | None = None  # the resource's offering is filed under this category


ORDER_SORT: dict[str, Callable[[Order], Any]] = {
    "created": lambda o: o.id,
    "state": lambda o: o.state.value,
    "cost": lambda o: o.cost or 0,
    "consumer_reviewed_at": lambda o: o.consumer_reviewed_at.isoformat() if o.consumer_reviewed_at else "",
}
RESOURCE_SORT: dict[str, Callable[[Resource], Any]] = {
    "created": lambda r: r.id,
    "name": lambda r: r.name.lower(),
    "state": lambda r: r.state.value,
    "backend_id": lambda r: r.backend_id,
    "customer_name": lambda r: r.customer_name.lower(),
    "project_name": lambda r: r.project_name.lower(),
    "offering_name": lambda r: r.offering_name.lower(),
    "plan_name": lambda r: r.plan_name.lower(),
    "end_date": lambda r: r.end_date.isoformat() if r.end_date else "",
}


class Rows(Protocol[T]):
    """The listing half of the orders, resources and usages repositories (services/ports.py)."""

    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[T]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[T]: ...


@dataclass(frozen=True)
class Query(Generic[T]):
    """One list request: its key filters, the in-memory ones (`keep`; `filtered` when any is set),
    its `o=` ordering among `sort_keys` (by default newest first) and its page."""

    narrowing: Narrowing
    keep: Callable[[T], bool]
    filtered: bool
    sort_keys: Mapping[str, Callable[[T], Any]]
    ordering: Ordering
    request: PageRequest
    provider_view: bool = False


# --- sources -----------------------------------------------------------------------------------------
def _narrow_sources(narrowing: Narrowing) -> list[Source] | None:
    """The sources a uuid filter names (an empty list: it names nothing); None: no such filter."""
    if narrowing.customer_id:
        return [Source.consumer(narrowing.customer_id)]
    if narrowing.project_id:
        project = project_store.get(narrowing.project_id)
        return [Source.consumer(project.customer_id)] if project else []
    if narrowing.resource_id:
        resource = resource_store.get(narrowing.resource_id)
        return [Source.consumer(resource.customer_id)] if resource else []
    if narrowing.provider_id:
        offerings = narrowing.offering_ids or (None,)
        return [Source.provider(narrowing.provider_id, o) for o in offerings]
    if narrowing.offering_ids:
        found = []
        for offering_id in narrowing.offering_ids:
            try:
                offering = catalog.get_offering(offering_id)
            except NotFound:
                continue
            found.append(Source.provider(offering.customer_id, offering.id))
        return found
    return None


def _own_sources(rights: Access, provider_view: bool) -> list[Source]:
    """The sources a caller without global sight may find rows in."""
    customers = sorted(rights.customer_role_ids())
    sources = [Source.provider(c) for c in customers]
    if not provider_view:
        consumer_customers = sorted(set(customers) | set(rights.project_grants().values()))
        sources += [Source.consumer(c) for c in consumer_customers]
    for offering_id, provider_id in sorted(sides.provided_offerings(rights).items()):
        if provider_id not in customers:
            sources.append(Source.provider(provider_id, offering_id))
    return sources


def _visible(rights: Access, provider_view: bool) -> Callable[[sides.Placed], bool]:
    if rights.reads_everything:
        return lambda row: True
    if provider_view:
        return lambda row: sides.sees_as_provider(rights, row)
    return lambda row: sides.sees(rights, row)


def _matches_narrowing(row: Any, n: Narrowing) -> bool:
    return (
        (n.customer_id is None or row.customer_id == n.customer_id)
        and (n.project_id is None or row.project_id == n.project_id)
        and (n.provider_id is None or row.provider_id == n.provider_id)
        and (not n.offering_ids or row.offering_id in n.offering_ids)
        and (n.resource_id is None or getattr(row, "resource_id", row.id) == n.resource_id)
    )


def listed(rows: Rows[T], principal: Principal, query: Query[T]) -> Page[T]:
    """Page `query.request` of what the caller sees of `rows`, filtered and ordered by `query`."""
    rights = sides.rights(principal)
    sources = _narrow_sources(query.narrowing)
    ordering = query.ordering if query.ordering.field else NEWEST
    plain = not query.filtered and ordering.field == "created"
    if sources is None and rights.reads_everything and plain:
        return rows.newest_page(query.request, descending=ordering.descending)
    if sources is None:
        sources = [Source()] if rights.reads_everything else _own_sources(rights, query.provider_view)
    visible = _visible(rights, query.provider_view)
    found = [
        r
        for r in rows.read(sources, bounded=not plain)
        if _matches_narrowing(r, query.narrowing) and query.keep(r) and visible(r)
    ]
    return paginate(order_rows(found, ordering, query.sort_keys), query.request)


# --- orders -------------------------------------------------------------------------------------------
def _approvable(rights: Access, order: Order, side: str) -> bool:
    if side == "consumer":
        return order.state is OrderState.PENDING_CONSUMER and rights.has(
            P.APPROVE_ORDER, sides.consumer_scope(order)
        )
    return order.state is OrderState.PENDING_PROVIDER and rights.has(
        P.SET_RESOURCE_STATE, sides.provider_scope(order)
    )


def list_orders(
    principal: Principal, filters: OrderFilters, ordering: Ordering, request: PageRequest
) -> Page[Order]:
    rights = sides.rights(principal)
    f = filters

    def keep(order: Order) -> bool:
        checks: Sequence[bool] = (
            not f.states or order.state.value in f.states,
            not f.types or order.type.value in f.types,
            not f.offering_types or order.offering_type in f.offering_types,
            f.resource_name is None or f.resource_name.lower() in order.resource_name.lower(),
            f.can_approve_as_consumer is None
            or _approvable(rights, order, "consumer") == f.can_approve_as_consumer,
            f.can_approve_as_provider is None
            or _approvable(rights, order, "provider") == f.can_approve_as_provider,
            f.in_window(order),
        )
        return all(checks)

    filtered = bool(f.states or f.types or f.offering_types or f.resource_name is not None) or (
        f.can_approve_as_consumer is not None or f.can_approve_as_provider is not None or f.windowed
    )
    return listed(order_store, principal, Query(f.narrowing, keep, filtered, ORDER_SORT, ordering, request))


# --- resources ----------------------------------------------------------------------------------------
def list_resources(
    principal: Principal,
    filters: ResourceFilters,
    ordering: Ordering,
    request: PageRequest,
    provider_view: bool = False,
) -> Page[Resource]:
    f = filters
    in_category = catalog.in_category(f.category_id) if f.category_id else frozenset()

    def keep(resource: Resource) -> bool:
        query = (f.query or "").lower()
        checks = (
            not f.states or resource.state.value in f.states,
            f.name is None or f.name.lower() in resource.name.lower(),
            f.name_exact is None or resource.name == f.name_exact,
            f.backend_id is None or resource.backend_id == f.backend_id,
            f.offering_type is None or resource.offering_type == f.offering_type,
            f.plan_id is None or resource.plan_id == f.plan_id,
            not query or query in resource.name.lower() or query in resource.backend_id.lower(),
            f.slug is None or resource.slug == f.slug,
            f.category_id is None or resource.offering_id in in_category,
        )
        return all(checks)

    named = (f.name, f.name_exact, f.backend_id, f.offering_type, f.plan_id, f.query, f.slug, f.category_id)
    filtered = bool(f.states) or any(v for v in named)
    query = Query(f.narrowing, keep, filtered, RESOURCE_SORT, ordering, request, provider_view)
    return listed(resource_store, principal, query)


def live_resources_by_category(
    principal: Principal, customer_id: str | None = None, project_id: str | None = None
) -> dict[str, int]:
    """Waldur's `marketplace-global-categories/`: per category id, how many of the resources the
    caller sees (of `customer_id` / `project_id` when given) are not Terminated. The resources are
    read from the narrowest sources, as a filtered list reads them; past `filter_read_limit` rows
    the answer is empty (HomePort shows these as badges on every page: an empty map shows none,
    where an error would break the page; the README says so). The offerings' categories come in
    one BatchGetItem."""
    rights = sides.rights(principal)
    narrowing = Narrowing(customer_id=customer_id, project_id=project_id)
    sources = _narrow_sources(narrowing)
    if sources is None:
        sources = [Source()] if rights.reads_everything else _own_sources(rights, provider_view=False)
    visible = _visible(rights, provider_view=False)
    try:
        rows = resource_store.read(sources, bounded=True)
    except TooBroad:
        return {}
    live = [
        r
        for r in rows
        if r.state is not ResourceState.TERMINATED and _matches_narrowing(r, narrowing) and visible(r)
    ]
    offerings = offering_store.get_many({(r.provider_id, r.offering_id) for r in live}) if live else []
    category_of = {o.id: o.category_id for o in offerings}
    counts: dict[str, int] = {}
    for r in live:
        category = category_of.get(r.offering_id)
        if category:
            counts[category] = counts.get(category, 0) + 1
    return counts
