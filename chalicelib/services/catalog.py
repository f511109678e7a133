"""Catalog reads: the provider's view of offerings (`marketplace-provider-offerings/`) and the public
catalog (`marketplace-public-offerings/`, with its plans).

- Provider view: staff and support see every offering; anybody else the offerings of customers
  where they hold a customer role and those they hold an offering role on (services/offerings.py
  `manages`). Waldur lists every offering to every signed-in user here; Cirrus keeps drafts and
  other providers' settings to their provider (another provider's offering is a 404, as across
  tenants everywhere) and shows the rest through the public catalog.
- Public catalog, anonymous allowed: shared offerings that are Active or Paused; a signed-in caller
  also sees the Active and Paused offerings, shared or not, of providers they manage (staff: all).
  Paused ones show (Waldur does) though new orders for them are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import offerings as domain
from chalicelib.domain.context import Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import parse_id
from chalicelib.domain.offerings import Category
from chalicelib.domain.rbac import Access
from chalicelib.domain.roles import ScopeType
from chalicelib.domain.vocabulary import Component, Offering, OfferingState, Plan
from chalicelib.services import access as access_service
from chalicelib.services import offerings
from chalicelib.services.paging import Ordering, Page, PageRequest, order_rows, paginate
from chalicelib.services.ports import categories as category_store
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import offerings as store


@dataclass(frozen=True)
class OfferingView:
    """An offering with what its rendering names: its provider customer and its category."""

    offering: Offering
    customer: Customer | None
    category: Category | None


def describe(found: list[Offering]) -> list[OfferingView]:
    """Join offerings with their customers and categories (one BatchGetItem of each)."""
    customers = {c.id: c for c in customer_store.get_many([o.customer_id for o in found])} if found else {}
    wanted = [o.category_id for o in found if o.category_id]
    categories = category_store.get_many(wanted) if wanted else {}
    return [OfferingView(o, customers.get(o.customer_id), categories.get(o.category_id or "")) for o in found]


@dataclass(frozen=True)
class OfferingFilters:
    """Waldur's OfferingFilter (the part Cirrus keeps)."""

    name: str | None = None  # contains
    name_exact: str | None = None
    customer_id: str | None = None  # customer / customer_uuid
    states: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    category_id: str | None = None
    shared: bool | None = None
    billable: bool | None = None
    keyword: str | None = None  # name or description contains
    description: str | None = None
    uuids: tuple[str, ...] = ()
    # Waldur's `allowed_customer_uuid`: what this customer may order (shared offerings and its own).
    allowed_customer_id: str | None = None

    def any(self) -> bool:
        return any(getattr(self, f) not in (None, ()) for f in self.__dataclass_fields__)

    def matches(self, offering: Offering) -> bool:
        return all(check(offering) for check in self._checks())

    def _checks(self) -> list[Callable[[Offering], bool]]:
        checks: list[Callable[[Offering], bool]] = []
        if self.name is not None:
            checks.append(_contains(self.name, lambda o: o.name))
        if self.name_exact is not None:
            checks.append(lambda o: o.name == self.name_exact)
        if self.customer_id is not None:
            checks.append(lambda o: o.customer_id == self.customer_id)
        if self.states:
            checks.append(lambda o: o.state.value in self.states)
        if self.types:
            checks.append(lambda o: o.type in self.types)
        if self.category_id is not None:
            checks.append(lambda o: o.category_id == self.category_id)
        checks += self._flag_checks()
        return checks

    def _flag_checks(self) -> list[Callable[[Offering], bool]]:
        checks: list[Callable[[Offering], bool]] = []
        if self.shared is not None:
            checks.append(lambda o: o.shared is self.shared)
        if self.billable is not None:
            checks.append(lambda o: o.billable is self.billable)
        if self.keyword is not None:
            checks.append(_contains(self.keyword, lambda o: f"{o.name}\n{o.description}"))
        if self.description is not None:
            checks.append(_contains(self.description, lambda o: o.description))
        if self.uuids:
            wanted = {parse_id(u) for u in self.uuids}
            checks.append(lambda o: o.id in wanted)
        if self.allowed_customer_id is not None:
            checks.append(lambda o: o.shared or o.customer_id == self.allowed_customer_id)
        return checks


def _contains(needle: str, text: Callable[[Offering], str]) -> Callable[[Offering], bool]:
    lowered = needle.lower()
    return lambda o: lowered in text(o).lower()


# `o=` keys (newest first by default, as Waldur's `-created`).
ORDERING: dict[str, Callable[[OfferingView], Any]] = {
    "name": lambda v: (v.offering.name.lower(), v.offering.id),
    "created": lambda v: v.offering.id,
    "type": lambda v: (v.offering.type, v.offering.id),
    "state": lambda v: (v.offering.state.value, v.offering.id),
}


def _page(views: list[OfferingView], ordering: Ordering, request: PageRequest) -> Page[OfferingView]:
    """Newest first unless `o=` names a key (an unknown key sorts by creation, in its direction)."""
    wanted = ordering if ordering.field else Ordering("created", descending=True)
    if wanted.field not in ORDERING:
        wanted = Ordering("created", wanted.descending)
    return paginate(order_rows(views, wanted, ORDERING), request)


def _managed(rights: Access) -> list[Offering]:
    """The offerings a non-staff caller manages: their customers' (one Query each) and the ones
    they hold an offering role on (one Query each)."""
    found = {o.id: o for c in sorted(rights.customer_role_ids()) for o in store.for_customer(c)}
    for grant in rights.active_grants():
        if grant.scope_type is ScopeType.OFFERING and grant.scope_id not in found:
            offering = store.get(grant.scope_id)
            if offering is not None:
                found[offering.id] = offering
    return list(found.values())


def list_provider_offerings(
    principal: Principal, filters: OfferingFilters, ordering: Ordering, request: PageRequest
) -> Page[OfferingView]:
    """The offerings the caller manages (staff and support: all), filtered and ordered; staff's
    unfiltered newest-first list is read one page at a time."""
    rights = access_service.access(principal)
    newest_first = not ordering.field or (ordering.field == "created" and ordering.descending)
    if rights.reads_everything and not filters.any() and newest_first:
        found = store.page_all(request)
        return Page(describe(found.items), found.total)
    candidates = store.read_all() if rights.reads_everything else _managed(rights)
    return _page(describe([o for o in candidates if filters.matches(o)]), ordering, request)


def retrieve_provider_offering(principal: Principal, offering_id: str) -> OfferingView:
    return describe([offerings.get_visible(principal, offering_id)])[0]


# --- the public catalog --------------------------------------------------------------------------
_ORDERABLE = (OfferingState.ACTIVE, OfferingState.PAUSED)


def _for_consumers(offering: Offering) -> Offering:
    """The offering as the catalog shows it to who orders: without the provider's secret options
    (credentials of its backend), whoever asks; the provider reads them on its own side."""
    return replace(offering, secret_options={}) if offering.secret_options else offering


def _public_to(principal: Principal | None) -> Callable[[Offering], bool]:
    if principal is None:
        return domain.is_public
    rights = access_service.access(principal)
    if rights.reads_everything:
        return lambda o: o.state in _ORDERABLE
    return lambda o: domain.is_public(o) or (o.state in _ORDERABLE and offerings.manages(rights, o))


def list_public_offerings(
    principal: Principal | None, filters: OfferingFilters, ordering: Ordering, request: PageRequest
) -> Page[OfferingView]:
    """The catalog (reads every offering and filters in memory: catalogs are small)."""
    shown = _public_to(principal)
    candidates = [_for_consumers(o) for o in store.read_all() if shown(o) and filters.matches(o)]
    return _page(describe(candidates), ordering, request)


def for_consumers(offering: Offering) -> OfferingView:
    """The offering as consumers read it (no secret options), whether or not the catalog lists it."""
    return describe([_for_consumers(offering)])[0]


def get_public(principal: Principal | None, offering_id: str) -> OfferingView:
    """One offering of the catalog the caller may see (else NotFound), without its secrets."""
    offering = store.get(offering_id)
    if offering is None or not _public_to(principal)(offering):
        raise NotFound(domain.MODEL)
    return describe([_for_consumers(offering)])[0]


@dataclass(frozen=True)
class PublicPlan:
    offering: Offering
    plan: Plan


def public_plans(principal: Principal | None, offering_id: str) -> list[PublicPlan]:
    """The plans a customer may choose: those not archived."""
    view = get_public(principal, offering_id)
    return [PublicPlan(view.offering, p) for p in view.offering.plans if not p.archived]


def public_plan(principal: Principal | None, offering_id: str, plan_id: str) -> PublicPlan:
    view = get_public(principal, offering_id)
    plan = view.offering.plan(plan_id)
    if plan is None:
        raise NotFound(domain.PLAN_MODEL)
    return PublicPlan(view.offering, plan)


# --- what HomePort's catalog pages count and price ---------------------------------------------------
def orderable_counts(principal: Principal | None, filters: OfferingFilters) -> dict[str, int]:
    """Per category id, the catalog offerings the caller sees that match `filters` (Waldur's
    category `offering_count`: the Active and Paused offerings available to the caller). One read
    of the catalog, as the public list makes."""
    shown = _public_to(principal)
    counts: dict[str, int] = {}
    for o in store.read_all():
        if o.category_id and shown(o) and filters.matches(o):
            counts[o.category_id] = counts.get(o.category_id, 0) + 1
    return counts


def _priced_to(principal: Principal | None) -> Callable[[Offering], bool]:
    public = _public_to(principal)
    if principal is None:
        return public
    rights = access_service.access(principal)
    return lambda o: public(o) or rights.reads_everything or offerings.manages(rights, o)


@dataclass(frozen=True)
class PlanComponentRow:
    """One component's price in one plan (Waldur's PlanComponent)."""

    offering: Offering
    plan: Plan
    component: Component


@dataclass(frozen=True)
class PlanComponentFilters:
    """Waldur's PlanComponentFilter."""

    offering_id: str | None = None
    plan_id: str | None = None
    shared: bool | None = None
    archived: bool | None = None

    def keeps(self, offering: Offering, plan: Plan) -> bool:
        return (
            (self.offering_id is None or offering.id == self.offering_id)
            and (self.plan_id is None or plan.id == self.plan_id)
            and (self.shared is None or offering.shared is self.shared)
            and (self.archived is None or plan.archived is self.archived)
        )


def plan_components(principal: Principal | None, filters: PlanComponentFilters) -> list[PlanComponentRow]:
    """The price of each component in each plan of the catalog offerings the caller sees, and of
    the offerings they manage whatever their state (a provider prices its drafts too), by
    offering name, plan name, then the offering's component order. One read of one offering
    when `offering_id` names it, else of the catalog."""
    shown = _priced_to(principal)
    if filters.offering_id is not None:
        one = store.get(filters.offering_id)
        candidates = [one] if one is not None else []
    else:
        candidates = store.read_all()
    rows = [
        PlanComponentRow(o, plan, component)
        for o in sorted((o for o in candidates if shown(o)), key=lambda o: (o.name.lower(), o.id))
        for plan in sorted(o.plans, key=lambda p: (p.name.lower(), p.id))
        if filters.keeps(o, plan)
        for component in o.components
    ]
    return rows
