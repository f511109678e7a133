"""Lists of orders and resources, with Waldur's filters, from the narrowest partition that holds
them (ACCESS_PATTERNS.md says what each costs):

- a customer (`customer_uuid`, or the project or resource named) → its partition;
- a provider (`provider_uuid`) or an offering (`offering_uuid`) → the provider's gsi2 partition,
  one offering's prefix;
- staff and support with no such filter → the global gsi1 partition (one page read, when nothing
  else filters or reorders);
- anybody else → the partitions of the customers, projects and offerings they hold roles in.

What no key narrows (states, types, names, approvability) is filtered in memory, and every row is
checked against the caller's sight (either side; the provider view: the provider's side only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.context import Principal
from chalicelib.domain.errors import NotFound
from chalicelib.domain.marketplace import OrderState
from chalicelib.domain.orders import Order
from chalicelib.domain.rbac import Access
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P, ScopeType
from chalicelib.services import marketplace as sides
from chalicelib.services import offerings as catalog
from chalicelib.services.paging import Ordering, Page, PageRequest
from chalicelib.services.ports import projects as project_store
from chalicelib.store import orders as order_store
from chalicelib.store import pages
from chalicelib.store import resources as resource_store
from chalicelib.store.pages import Listing


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


# --- sources -----------------------------------------------------------------------------------------
class _Kind:
    """Orders or resources: how to list each partition and read an item."""

    def __init__(self, store: Any, from_item: Callable[[Any], Any]) -> None:
        self.store = store
        self.from_item = from_item

    def customer(self, customer_id: str) -> Listing:
        return self.store.listing_of_customer(customer_id)  # type: ignore[no-any-return]

    def provider(self, provider_id: str, offering_id: str | None = None) -> Listing:
        return self.store.listing_of_provider(provider_id, offering_id)  # type: ignore[no-any-return]


ORDERS = _Kind(order_store, order_store.from_item)
RESOURCES = _Kind(resource_store, resource_store.from_item)


def _narrow_sources(kind: _Kind, narrowing: Narrowing) -> list[Listing] | None:
    """The partitions a uuid filter names (an empty list: it names nothing); None: no such filter."""
    if narrowing.customer_id:
        return [kind.customer(narrowing.customer_id)]
    if narrowing.project_id:
        project = project_store.get(narrowing.project_id)
        return [kind.customer(project.customer_id)] if project else []
    if narrowing.resource_id:
        resource = resource_store.get(narrowing.resource_id)
        return [kind.customer(resource.customer_id)] if resource else []
    if narrowing.provider_id:
        offerings = narrowing.offering_ids or (None,)
        return [kind.provider(narrowing.provider_id, o) for o in offerings]
    if narrowing.offering_ids:
        found = []
        for offering_id in narrowing.offering_ids:
            try:
                offering = catalog.get_offering(offering_id)
            except NotFound:
                continue
            found.append(kind.provider(offering.customer_id, offering.id))
        return found
    return None


def _own_sources(kind: _Kind, rights: Access, provider_view: bool) -> list[Listing]:
    """The partitions a caller without global sight may find rows in."""
    customers = sorted(rights.customer_role_ids())
    listings = [kind.provider(c) for c in customers]
    if not provider_view:
        consumer_customers = sorted(set(customers) | set(rights.project_grants().values()))
        listings += [kind.customer(c) for c in consumer_customers]
    for offering_id, provider_id in sorted(sides.provided_offerings(rights).items()):
        if provider_id not in customers:
            listings.append(kind.provider(provider_id, offering_id))
    return listings


def _gather(kind: _Kind, listings: Iterable[Listing], bounded: bool) -> list[Any]:
    """The rows of `listings`, each once. `bounded` (a filter or ordering to apply in memory): stop
    after the configured number of items with a 400 asking to narrow the request."""
    seen: dict[str, Any] = {}
    chosen = list(listings)
    items = pages.read_filtered(chosen) if bounded else [i for s in chosen for i in pages.read_all(s)]
    for item in items:
        row = kind.from_item(item)
        seen[row.id] = row
    return list(seen.values())


def _page(rows: list[Any], sort: Callable[[Any], Any], ordering: Ordering, request: PageRequest) -> Page[Any]:
    descending = ordering.field is None or ordering.descending
    rows.sort(key=sort, reverse=descending)
    start = (request.page - 1) * request.page_size
    return Page(rows[start : start + request.page_size], len(rows))


def _visible(rights: Access, provider_view: bool) -> Callable[[Any], bool]:
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


def _listed(
    kind: _Kind,
    principal: Principal,
    narrowing: Narrowing,
    keep: Callable[[Any], bool],
    filtered: bool,
    sort: Callable[[Any], Any],
    ordering: Ordering,
    request: PageRequest,
    provider_view: bool = False,
) -> Page[Any]:
    rights = sides.rights(principal)
    sources = _narrow_sources(kind, narrowing)
    if sources is None and rights.reads_everything and not filtered and ordering.field in (None, "created"):
        listing = kind.store.listing_all(descending=ordering.field is None or ordering.descending)
        page = pages.fetch_page(listing, request.page, request.page_size)
        return Page([kind.from_item(i) for i in page.items], page.total)
    if sources is None:
        sources = (
            [kind.store.listing_all()]
            if rights.reads_everything
            else _own_sources(kind, rights, provider_view)
        )
    visible = _visible(rights, provider_view)
    bounded = filtered or ordering.field not in (None, "created")
    rows = [
        r
        for r in _gather(kind, sources, bounded)
        if _matches_narrowing(r, narrowing) and keep(r) and visible(r)
    ]
    return _page(rows, sort, ordering, request)


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
) -> Page[Any]:
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
        )
        return all(checks)

    filtered = bool(f.states or f.types or f.offering_types or f.resource_name is not None) or (
        f.can_approve_as_consumer is not None or f.can_approve_as_provider is not None
    )
    sort = ORDER_SORT[ordering.field or "created"]
    return _listed(ORDERS, principal, f.narrowing, keep, filtered, sort, ordering, request)


# --- resources ----------------------------------------------------------------------------------------
def list_resources(
    principal: Principal,
    filters: ResourceFilters,
    ordering: Ordering,
    request: PageRequest,
    provider_view: bool = False,
) -> Page[Any]:
    f = filters

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
        )
        return all(checks)

    filtered = any(
        v for v in (f.states, f.name, f.name_exact, f.backend_id, f.offering_type, f.plan_id, f.query)
    )
    sort = RESOURCE_SORT[ordering.field or "created"]
    return _listed(RESOURCES, principal, f.narrowing, keep, filtered, sort, ordering, request, provider_view)


def team(principal: Principal, resource_id: str, provider_view: bool) -> list[Any]:
    """The resource's project team (teams.Member rows); the provider needs LIST_USERS."""
    from chalicelib.domain.clock import utcnow
    from chalicelib.services import resources as resource_service
    from chalicelib.services import teams
    from chalicelib.services.ports import grants

    resource = resource_service.get_visible(principal, resource_id, provider_view)
    if provider_view:
        sides.rights(principal).require(P.LIST_RESOURCE_USERS, sides.provider_scope(resource))
    found = grants.for_scope(resource.customer_id, ScopeType.PROJECT, resource.project_id)
    return teams.members(found, utcnow())
