"""Per-user usage limits (Waldur's `component-user-usage-limits/`).

A limit is the consumer's control over what one offering user of a resource may use of a component:
setting, changing and removing one takes RESOURCE.CONSUMPTION_LIMITATION on the resource's project
(then its customer) — Waldur's rule; its tests give it to the customer's owners and the project's
managers, and refuse project administrators and members — or staff. The provider's agent reads the
limits of its resources to apply them in its backend, so limits are read from either side of their
resource (support reads all). A resource the caller does not see is a 404 (the `resource` field's
"does not exist" on create); seen but not allowed to act is a 403.

The offering user (`user`) must be an account in the resource's offering (else the field's "does
not exist", 400: a limit may not name another offering's account); its username is kept with the
limit for the `username` filter, as it was when the limit was set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from chalicelib.domain import user_usages as rules
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import id_from_url, new_id
from chalicelib.domain.offering_users import OfferingUser
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P
from chalicelib.domain.user_usages import UserUsageLimit
from chalicelib.services import market_queries as lists
from chalicelib.services import offering_users
from chalicelib.services import offerings as catalog
from chalicelib.services import order_sides as sides
from chalicelib.services.paging import Ordering, Page, PageRequest
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import unit_of_work
from chalicelib.services.ports import user_limits as store

MODEL = rules.LIMIT_MODEL
INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."


@dataclass(frozen=True)
class LimitRequest:
    """A create's or an update's fields (None: not given; references as hyperlinks or uuids)."""

    resource: str | None = None
    component: str | None = None
    user: str | None = None
    limit: Decimal | None = None


# --- reads -------------------------------------------------------------------------------------------
def get_visible(principal: Principal, limit_id: str) -> UserUsageLimit:
    """The limit, if the caller sees its resource from either side; else NotFound."""
    found = store.get(limit_id)
    if found is None or not sides.sees(sides.rights(principal), found):
        raise NotFound(MODEL)
    return found


@dataclass(frozen=True)
class LimitFilters:
    narrowing: lists.Narrowing = field(default_factory=lists.Narrowing)
    component_type: str | None = None
    username: str | None = None

    def keep(self, limit: UserUsageLimit) -> bool:
        return (self.component_type is None or limit.component_type == self.component_type) and (
            self.username is None or limit.username == self.username
        )

    @property
    def filtered(self) -> bool:
        return self.component_type is not None or self.username is not None


SORT: dict[str, Callable[[UserUsageLimit], Any]] = {"created": lambda limit: limit.id}


def list_limits(
    principal: Principal, filters: LimitFilters, ordering: Ordering, request: PageRequest
) -> Page[UserUsageLimit]:
    query = lists.Query(filters.narrowing, filters.keep, filters.filtered, SORT, ordering, request)
    return lists.listed(store, principal, query)


# --- changes -----------------------------------------------------------------------------------------
def _resource(principal: Principal, reference: str) -> Resource:
    """The resource a request names; one the caller does not see does not exist for them."""
    resource_id = id_from_url(reference)
    found = resource_store.get(resource_id) if resource_id else None
    if found is None or not sides.sees(sides.rights(principal), found):
        raise ValidationError.field("resource", INVALID_HYPERLINK)
    return found


def _component_type(resource: Resource, reference: str) -> tuple[str, str]:
    """(id, type) of the resource's offering component `reference` names."""
    component_id = id_from_url(reference)
    offering = catalog.get_offering(resource.offering_id)
    for component in offering.components:
        if component.id == component_id:
            return component.id, component.type
    raise ValidationError.field("component", rules.NOT_A_COMPONENT.format(component=reference))


def _offering_user(reference: str, offering_id: str) -> OfferingUser:
    """The offering user `reference` names, an account in the resource's offering (else 400)."""
    return offering_users.in_offering(id_from_url(reference), offering_id)


def _require(principal: Principal, resource: Resource | UserUsageLimit) -> None:
    sides.rights(principal).require(P.CONSUMPTION_LIMITATION, sides.consumer_scope(resource))


def _placed(limit: UserUsageLimit, resource: Resource) -> UserUsageLimit:
    return replace(
        limit,
        resource_id=resource.id,
        customer_id=resource.customer_id,
        project_id=resource.project_id,
        offering_id=resource.offering_id,
        provider_id=resource.provider_id,
        resource_name=resource.name,
        offering_name=resource.offering_name,
        project_name=resource.project_name,
    )


def create_limit(ctx: EventContext, request: LimitRequest) -> UserUsageLimit:
    """A new limit (Waldur's required fields: resource, component, user; limit defaults to 0)."""
    given = {"resource": request.resource, "component": request.component, "user": request.user}
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise ValidationError({name: ["This field is required."] for name in missing})
    resource = _resource(ctx.actor, given["resource"] or "")
    _require(ctx.actor, resource)
    component_id, component_type = _component_type(resource, given["component"] or "")
    account = _offering_user(given["user"] or "", resource.offering_id)
    now = utcnow()
    limit = UserUsageLimit(
        id=new_id(),
        resource_id=resource.id,
        customer_id=resource.customer_id,
        project_id=resource.project_id,
        offering_id=resource.offering_id,
        provider_id=resource.provider_id,
        component_id=component_id,
        component_type=component_type,
        offering_user_id=account.id,
        username=account.username,
        limit=request.limit if request.limit is not None else Decimal("0"),
        created=now,
        modified=now,
    )
    uow = unit_of_work()
    made = store.add(uow, _placed(limit, resource))
    uow.commit()
    return made


def _for_change(principal: Principal, limit_id: str) -> UserUsageLimit:
    """The visible limit, read again consistently (the id lookup may be a version behind, and the
    write is conditioned on the version)."""
    seen = get_visible(principal, limit_id)
    _require(principal, seen)
    for limit in store.of_resource(seen.customer_id, seen.project_id, seen.resource_id):
        if limit.id == seen.id:
            return limit
    raise NotFound(MODEL)


def update_limit(ctx: EventContext, limit_id: str, request: LimitRequest) -> UserUsageLimit:
    """PUT/PATCH: the given fields change (a PUT gives the required ones); the caller must be
    allowed on the limit's resource and, if it moves, on the new one."""
    principal = ctx.actor
    current = _for_change(principal, limit_id)
    after = current
    resource: Resource | None = None
    if request.resource is not None:
        resource = _resource(principal, request.resource)
        _require(principal, resource)
        after = _placed(after, resource)
    if request.component is not None or resource is not None:
        target = resource or resource_store.get(current.resource_id)
        if target is None:
            raise NotFound(MODEL)
        component_id, component_type = _component_type(target, request.component or current.component_id)
        after = replace(after, component_id=component_id, component_type=component_type)
    if request.user is not None or resource is not None:
        # A limit moved to another resource must still name an account of that resource's offering.
        account = _offering_user(request.user or current.offering_user_id, after.offering_id)
        after = replace(after, offering_user_id=account.id, username=account.username)
    if request.limit is not None:
        after = replace(after, limit=request.limit)
    uow = unit_of_work()
    saved = store.save(uow, current, replace(after, modified=utcnow()))
    uow.commit()
    return saved


def delete_limit(ctx: EventContext, limit_id: str) -> None:
    current = _for_change(ctx.actor, limit_id)
    uow = unit_of_work()
    store.remove(uow, current)
    uow.commit()
