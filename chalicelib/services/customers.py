"""Customer use cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib import observability
from chalicelib.domain import customers as domain
from chalicelib.domain import events, rbac
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.rbac import Scope
from chalicelib.domain.roles import CUSTOMER_OWNER, P, ScopeType
from chalicelib.domain.slugs import SlugKind
from chalicelib.services import access as access_service
from chalicelib.services import effects, memberships, request_keys, slugs
from chalicelib.services.effects import Enqueue
from chalicelib.services.paging import Ordering, Page, PageRequest, order_rows, paginate
from chalicelib.services.ports import CustomerQuery, grants, projects, unit_of_work
from chalicelib.services.ports import customers as store

MODEL = "Customer"
FOLLOW_RENAME_TASK = "customers.follow_rename"


@dataclass(frozen=True)
class CustomerFilters:
    name: str | None = None
    name_exact: str | None = None
    abbreviation: str | None = None
    query: str | None = None
    owned_by_current_user: bool | None = None
    slug: str | None = None

    def matches(self, customer: Customer) -> bool:
        if self.name_exact is not None and customer.name != self.name_exact:
            return False
        return self.narrowed(customer)

    def narrowed(self, customer: Customer) -> bool:
        """The filters beyond `name_exact` (which the store's key narrows to)."""
        if self.name is not None and self.name.lower() not in customer.name.lower():
            return False
        if self.abbreviation is not None and self.abbreviation.lower() not in customer.abbreviation.lower():
            return False
        if self.slug is not None and customer.slug != self.slug:
            return False
        return self.query is None or customer.matches_query(self.query)

    def narrows(self) -> bool:
        return any(v is not None for v in (self.name, self.abbreviation, self.query, self.slug))


ORDERING_FIELDS = ("name", "created", "abbreviation", "native_name")


def get_visible(principal: Principal, customer_id: str) -> Customer:
    """The customer, if `principal` may see it; NotFound otherwise (Waldur hides, not forbids)."""
    visible = access_service.access(principal).sees_customer(customer_id)
    customer = store.get(customer_id) if visible else None
    if customer is None:
        raise NotFound(MODEL)
    return customer


def get_reported(principal: Principal, customer_id: str) -> Customer:
    """A customer whose spend the caller sees (Waldur's financial report): staff, support and its
    customer-level roles; NotFound for anybody else, a project-only member included."""
    visible = access_service.access(principal).sees_whole_customer(customer_id)
    customer = store.get(customer_id) if visible else None
    if customer is None:
        raise NotFound(MODEL)
    return customer


def for_change(principal: Principal, customer_id: str) -> Customer:
    """The customer as stored now (`store.load`), if `principal` may see it; NotFound otherwise."""
    visible = access_service.access(principal).sees_customer(customer_id)
    customer = store.load(customer_id) if visible else None
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
) -> Page[Customer]:
    rights = access_service.access(principal)
    if not rights.reads_everything or filters.owned_by_current_user:
        ids = rights.customer_ids() if not rights.reads_everything else None
        if filters.owned_by_current_user:
            owned = _owned_by(principal)
            ids = owned if ids is None else ids & owned
        return _page_of(store.get_many(sorted(ids or ())), filters, ordering, request)
    query = CustomerQuery(
        name_exact=filters.name_exact,
        matches=filters.narrowed if filters.narrows() else None,
        order=ordering.field or "name",
        descending=ordering.descending,
    )
    return store.page(query, request)


def list_reported(
    principal: Principal,
    filters: CustomerFilters,
    ordering: Ordering,
    request: PageRequest,
    customer_id: str | None = None,
) -> Page[Customer]:
    """The customers whose spend the caller sees (`get_reported`'s rule: staff and support every
    one, anybody else those where they hold a customer-level role), filtered as the customers list
    (`customer_id`: that one only); for staff and support with no customer named, the customers
    list's own page (one Query), else the caller's few read by id (one BatchGetItem)."""
    rights = access_service.access(principal)
    if rights.reads_everything and customer_id is None:
        return list_customers(principal, filters, ordering, request)
    ids = rights.customer_role_ids() if not rights.reads_everything else {customer_id}
    if customer_id is not None:
        ids &= {customer_id}
    if filters.owned_by_current_user:
        ids &= _owned_by(principal)
    return _page_of(store.get_many(sorted(i for i in ids if i)), filters, ordering, request)


_ORDER_BY: dict[str, Callable[[Customer], Any]] = {
    "name": lambda c: (c.name, c.id),
    "created": lambda c: c.id,
    "abbreviation": lambda c: c.abbreviation,
    "native_name": lambda c: c.native_name,
}


def _page_of(
    found: list[Customer], filters: CustomerFilters, ordering: Ordering, request: PageRequest
) -> Page[Customer]:
    """Filter, order and page customers read by id (a caller's own few)."""
    rows = [c for c in found if filters.matches(c)]
    return paginate(order_rows(rows, ordering, _ORDER_BY, default="name"), request)


def create_customer(ctx: EventContext, fields: Mapping[str, Any]) -> Customer:
    """Make a customer (staff only); a retry with the request's `Idempotency-Key` answers with the
    customer it made (services/request_keys.py)."""
    return request_keys.once(
        ctx, lambda: _create_customer(ctx, fields), lambda used: get_visible(ctx.actor, used.object_id)
    )


def _create_customer(ctx: EventContext, fields: Mapping[str, Any]) -> Customer:
    principal = ctx.actor
    rbac.require_staff(principal)
    given = dict(fields)
    slug = slugs.for_new(SlugKind.CUSTOMER, str(given.get("name", "")), given.pop("slug", None))
    customer = Customer(id=new_id(), created=utcnow(), slug=slug, **given)
    uow = unit_of_work()
    store.add(uow, customer)
    slugs.claim(uow, SlugKind.CUSTOMER, slug, customer.id)
    request_keys.remember(uow, ctx, customer.id)
    uow.record(domain.event(customer, events.CREATION, ctx))
    uow.commit()
    # As stored (and as a read returns it): no usage yet, no limits.
    return replace(
        customer,
        version=1,
        quota_usage={q.name: 0 for q in customer.quotas},
        quota_limits={q.name: q.limit for q in customer.quotas},
    )


def update_customer(ctx: EventContext, customer_id: str, changes: Mapping[str, Any]) -> Customer:
    """Change a customer (CUSTOMER.UPDATE): its staff-only fields (domain.STAFF_ONLY_FIELDS) by
    staff alone, and a blocked or archived customer by staff alone."""
    principal = ctx.actor
    before = for_change(principal, customer_id)
    access_service.access(principal).require(P.UPDATE_CUSTOMER, scope(before))
    rbac.refuse_staff_only(principal, domain.STAFF_ONLY_FIELDS, before, changes)
    if not principal.is_staff:
        before.require_available()  # a locked customer is not its people's to change; staff unlock it
    rest = dict(changes)
    new_slug = slugs.wanted_change(rest, before.slug)
    after = replace(before, **rest, slug=new_slug or before.slug)
    if after == before:
        return before
    uow = unit_of_work()
    store.save_changes(uow, before, after)
    if new_slug:
        slugs.change(uow, SlugKind.CUSTOMER, before.id, before.slug, new_slug)
    uow.record(domain.event(after, events.UPDATE, ctx))
    uow.commit()
    if (after.name, after.abbreviation, after.native_name) != (
        before.name,
        before.abbreviation,
        before.native_name,
    ):
        _follow_rename(ctx, after.id, before.version + 1)
    return replace(after, version=before.version + 1)


def _follow_rename(ctx: EventContext, customer_id: str, version: int) -> None:
    """After the rename committed: queue the copy of the names to the customer's projects (task
    `customers.follow_rename` on `background`, once per customer and version), so the request
    does not grow with the customer's projects. If the queue refuses, the rename stands and says
    so in the log; the next rename's task copies the names then."""
    key = f"{FOLLOW_RENAME_TASK}:{customer_id}:{version}"
    try:
        effects.execute(
            Enqueue(FOLLOW_RENAME_TASK, {"customer_uuid": customer_id, "version": version}, ctx, key)
        )
    except Exception:
        observability.logger().exception("customer rename not queued", extra={"customer": customer_id})


def copy_names_to_projects(customer_id: str) -> int:
    """The rename task: copy the customer's names as they are now (read consistently, whatever
    version the task was queued for) to its live projects; returns how many changed. A task
    queued for an older version thus converges on the current names, and the projects' version
    condition keeps a late task from writing older names over newer ones."""
    customer = store.load(customer_id)
    if customer is None:  # deleted since: it had no projects left
        return 0
    return projects.follow_customer_rename(
        customer.id, customer.name, customer.abbreviation, customer.native_name, customer.version
    )


def require_available(customer_id: str) -> None:
    """400 if the customer is blocked or archived (Waldur's words); a missing one is the caller's
    NotFound to raise."""
    customer = store.get(customer_id)
    if customer is not None:
        customer.require_available()


def delete_customer(ctx: EventContext, customer_id: str) -> None:
    principal = ctx.actor
    customer = for_change(principal, customer_id)
    rbac.require_staff(principal)
    if customer.projects_count:
        raise Conflict(domain.HAS_PROJECTS)
    # Its team goes first (the customer's user count moves with each revocation).
    memberships.revoke_all(ctx, grants.for_customer(customer.id))
    customer = store.load(customer.id) or customer
    uow = unit_of_work()
    store.remove(uow, customer)
    uow.record(domain.event(customer, events.DELETION, ctx))
    uow.commit()
