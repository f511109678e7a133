"""Resource use cases (Waldur's `marketplace-resources/` and `marketplace-provider-resources/`).

Resources are made by Create orders (services/orders.py), never directly. The consumer changes one
by ordering: `terminate`, `update_limits` and `switch_plan` each place an order (refused with 409
outside the resource's states, and with 400 while another order of it is open). The provider (its
agent) reports on one: `set_backend_id`, `set_backend_metadata`, `submit_report` (bookkeeping: no
event, as in Waldur), `set_limits`, `set_as_erred`, `set_as_ok` (state changes, with events).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain import orders as order_rules
from chalicelib.domain import resources as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import Conflict, NotFound, ValidationError
from chalicelib.domain.ids import id_from_url
from chalicelib.domain.offering_users import OfferingUser
from chalicelib.domain.orders import Order
from chalicelib.domain.rbac import require_staff as rbac_require_staff
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P, ScopeType
from chalicelib.domain.slugs import CHANGED, UNCHANGED, SlugKind
from chalicelib.domain.slugs import check as check_slug
from chalicelib.domain.vocabulary import OrderType, ResourceState
from chalicelib.providers import registry
from chalicelib.services import billing, offering_users, orders, slugs, teams
from chalicelib.services import offerings as catalog
from chalicelib.services import order_sides as sides
from chalicelib.services.ports import grants as grant_store
from chalicelib.services.ports import orders as order_store
from chalicelib.services.ports import resources as store
from chalicelib.services.ports import unit_of_work

MODEL = domain.MODEL
BACKEND_ID_CHANGED = "Resource backend_id has been changed."
BACKEND_ID_UNCHANGED = "Resource backend_id is not changed."
NOT_TERMINATED = frozenset(s for s in ResourceState if s is not ResourceState.TERMINATED)


# --- reads -------------------------------------------------------------------------------------------
def get_visible(principal: Principal, resource_id: str, provider_view: bool = False) -> Resource:
    """The resource, if the caller sees it: in the provider view only from the provider's side,
    otherwise from either side. Else NotFound."""
    resource = store.get(resource_id)
    rights = sides.rights(principal)
    seen = sides.sees_as_provider if provider_view else sides.sees
    if resource is None or not seen(rights, resource):
        raise NotFound(MODEL)
    return resource


def team(principal: Principal, resource_id: str, provider_view: bool) -> list[teams.Member]:
    """The resource's project team (who holds a role in its project); from the provider's side
    only with RESOURCE.LIST_USERS on the offering."""
    return _team(principal, get_visible(principal, resource_id, provider_view), provider_view)


def _team(principal: Principal, resource: Resource, provider_view: bool) -> list[teams.Member]:
    if provider_view:
        sides.rights(principal).require(P.LIST_RESOURCE_USERS, sides.provider_scope(resource))
    found = grant_store.for_scope(resource.customer_id, ScopeType.PROJECT, resource.project_id)
    return teams.members(found, utcnow())


def team_accounts(
    principal: Principal, resource_id: str, provider_view: bool
) -> list[tuple[teams.Member, OfferingUser | None]]:
    """The team with each member's account in the resource's offering (Waldur's ProjectUser
    `offering_user_username` / `offering_user_state`)."""
    resource = get_visible(principal, resource_id, provider_view)
    members = _team(principal, resource, provider_view)
    user_ids = [m.user.id for m in members]
    accounts = offering_users.of_team(resource.provider_id, resource.offering_id, user_ids)
    return [(m, accounts.get(m.user.id)) for m in members]


def _for_change(principal: Principal, resource_id: str, provider_view: bool) -> Resource:
    seen = get_visible(principal, resource_id, provider_view)
    resource = store.load(seen.customer_id, seen.project_id, seen.id)
    if resource is None:
        raise NotFound(MODEL)
    return resource


def _consumer(principal: Principal, resource: Resource, permission: str) -> None:
    sides.rights(principal).require(permission, sides.consumer_scope(resource))


def _provider(principal: Principal, resource: Resource, permission: str) -> None:
    sides.rights(principal).require(permission, sides.provider_scope(resource))


# --- orders from the consumer (or the provider, for termination) -------------------------------------
def terminate(
    ctx: EventContext,
    resource_id: str,
    attributes: Mapping[str, Any] | None = None,
    provider_view: bool = False,
) -> Order:
    """Order the resource's termination (RESOURCE.TERMINATE on its project, or on its offering from
    the provider's side)."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, provider_view)
    if provider_view:
        _provider(principal, resource, P.TERMINATE_RESOURCE)
    else:
        _consumer(principal, resource, P.TERMINATE_RESOURCE)
    domain.require_action(resource, "terminate")
    return orders.place_resource_order(ctx, resource, OrderType.TERMINATE, attributes=attributes)


def update_limits(ctx: EventContext, resource_id: str, limits: Mapping[str, Any]) -> Order:
    principal = ctx.actor
    resource = _for_change(principal, resource_id, False)
    _consumer(principal, resource, P.UPDATE_RESOURCE_LIMITS)
    domain.require_action(resource, "update_limits")
    checked = order_rules.check_limits(limits)
    registry.validate_limits(catalog.get_offering(resource.offering_id), checked)
    return orders.place_resource_order(ctx, resource, OrderType.UPDATE, limits=checked)


def switch_plan(ctx: EventContext, resource_id: str, plan_reference: str) -> Order:
    principal = ctx.actor
    resource = _for_change(principal, resource_id, False)
    _consumer(principal, resource, P.SWITCH_RESOURCE_PLAN)
    domain.require_action(resource, "switch_plan")
    plan_id = id_from_url(plan_reference)
    offering = catalog.get_offering(resource.offering_id)
    plan = offering.plan(plan_id) if plan_id else None
    if plan is None:
        raise ValidationError.field("plan", orders.INVALID_HYPERLINK)
    if plan.archived:
        raise ValidationError.field("plan", order_rules.PLAN_ARCHIVED)
    if plan.id == resource.plan_id:
        raise ValidationError.field("plan", order_rules.SAME_PLAN)
    return orders.place_resource_order(
        ctx, resource, OrderType.UPDATE, plan=plan, components=offering.components
    )


# --- reports from the provider -----------------------------------------------------------------------
def _bookkeeping(resource: Resource, after: Resource) -> Resource:
    """A change the provider reports that Waldur logs no event for."""
    uow = unit_of_work()
    stored = store.save_changes(uow, resource, after)
    uow.commit()
    return stored


def set_backend_id(ctx: EventContext, resource_id: str, backend_id: str) -> bool:
    """True if the backend id changed."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, True)
    _provider(principal, resource, P.SET_RESOURCE_BACKEND_ID)
    if backend_id == resource.backend_id:
        return False
    _bookkeeping(resource, replace(resource, backend_id=backend_id, modified=utcnow()))
    return True


def set_backend_metadata(ctx: EventContext, resource_id: str, metadata: Mapping[str, Any]) -> Resource:
    """Replace the resource's backend metadata. The site agent posts it for every resource at every
    membership sync, mostly unchanged: the same metadata again writes nothing (and leaves
    `modified`, as `set_backend_id/` does for the same id)."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, True)
    _provider(principal, resource, P.SET_RESOURCE_BACKEND_METADATA)
    if dict(metadata) == dict(resource.backend_metadata):
        return resource
    return _bookkeeping(resource, replace(resource, backend_metadata=dict(metadata), modified=utcnow()))


def refresh_last_sync(ctx: EventContext, resource_id: str) -> Resource:
    """The provider's agent says it has just reconciled the resource with its backend (Waldur's
    `refresh_last_sync/`, which the site agent posts after every membership sync). Only `last_sync`
    changes: `modified` stays, so a sync is not an edit."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, True)
    _provider(principal, resource, P.SET_RESOURCE_BACKEND_METADATA)
    return _bookkeeping(resource, replace(resource, last_sync=utcnow()))


def submit_report(ctx: EventContext, resource_id: str, report: Any) -> Resource:
    principal = ctx.actor
    resource = _for_change(principal, resource_id, True)
    _provider(principal, resource, P.SUBMIT_RESOURCE_REPORT)
    sections = domain.check_report(report)
    return _bookkeeping(resource, replace(resource, report=tuple(sections), modified=utcnow()))


def _changed(ctx: EventContext, resource: Resource, after: Resource, event_type: str) -> Resource:
    uow = unit_of_work()
    stored = store.save_changes(uow, resource, after)
    uow.record(domain.event(stored, event_type, ctx))
    uow.commit()
    return stored


def set_limits(ctx: EventContext, resource_id: str, limits: Mapping[str, Any]) -> Resource:
    """The provider reports the limits the backend actually has (no order)."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, True)
    _provider(principal, resource, P.SET_RESOURCE_STATE)
    checked = order_rules.check_limits(limits)
    offering = catalog.get_offering(resource.offering_id)
    order_rules.check_components(offering, checked)
    now = utcnow()
    after = replace(resource, limits=checked, modified=now)
    uow = unit_of_work()
    stored = store.save_changes(uow, resource, after)
    billing.on_limits_set(uow, resource, after, offering, now)
    uow.record(domain.event(stored, domain.LIMITS_SUCCEEDED, ctx))
    uow.commit()
    return stored


def _require_live(resource: Resource) -> None:
    if resource.state is ResourceState.TERMINATED:
        raise Conflict(order_rules.states_message(NOT_TERMINATED))


def set_as_erred(
    ctx: EventContext, resource_id: str, error_message: str = "", error_traceback: str = ""
) -> Resource:
    principal = ctx.actor
    resource = _for_change(principal, resource_id, True)
    _provider(principal, resource, P.SET_RESOURCE_STATE)
    _require_live(resource)
    after = replace(
        resource,
        state=ResourceState.ERRED,
        error_message=error_message,
        error_traceback=error_traceback,
        modified=utcnow(),
    )
    return _changed(ctx, resource, after, domain.ERRED_ON_BACKEND)


def set_as_ok(ctx: EventContext, resource_id: str) -> Resource:
    principal = ctx.actor
    resource = _for_change(principal, resource_id, True)
    _provider(principal, resource, P.SET_RESOURCE_STATE)
    _require_live(resource)
    after = replace(resource, state=ResourceState.OK, error_message="", error_traceback="", modified=utcnow())
    return _changed(ctx, resource, after, domain.UPDATE_SUCCEEDED)


# --- changes without an order: name, description, end date, slug, options -------------------------------
def update(ctx: EventContext, resource_id: str, changes: Mapping[str, Any], provider_view: bool) -> Resource:
    """PUT/PATCH: a new name or description (RESOURCE.UPDATE_OPTIONS on the project, or
    OFFERING.UPDATE from the provider's side) and, from the consumer's side, a new end date
    (RESOURCE.SET_END_DATE too; not in the past). Cirrus logs `marketplace_resource_update_succeeded`
    and, for the end date, `marketplace_resource_update_end_date_succeeded`."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, provider_view)
    if provider_view:
        _provider(principal, resource, P.UPDATE_OFFERING)
        if "end_date" in changes:
            raise ValidationError.field("end_date", domain.FIELD_NOT_ALLOWED)
    else:
        _consumer(principal, resource, P.UPDATE_RESOURCE_OPTIONS)
    after = replace(resource, **{k: v for k, v in changes.items() if k in ("name", "description")})
    new_end = "end_date" in changes and changes["end_date"] != resource.end_date
    if new_end:
        _consumer(principal, resource, P.SET_RESOURCE_END_DATE)
        domain.check_end_date(changes["end_date"], utcnow().date())
        after = replace(after, end_date=changes["end_date"])
    if after == resource:
        return resource
    after = replace(after, modified=utcnow())
    uow = unit_of_work()
    stored = store.save_changes(uow, resource, after)
    changed = domain.changed_event(resource, stored, ctx)
    if changed is not None:
        uow.record(changed)
    if new_end:
        uow.record(domain.end_date_event(stored, ctx))
    uow.commit()
    return stored


def set_end_date(ctx: EventContext, resource_id: str, end_date: Any, by: str) -> Resource:
    """`set_end_date/` by the consumer (RESOURCE.SET_END_DATE on the project; not in the past), the
    provider (`set_end_date/` and `set_end_date_by_provider/` in its view: RESOURCE.SET_END_DATE on
    the offering) or staff (`set_end_date_by_staff/`); the latter two at least 7 days ahead. None
    clears it."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, by == "provider")
    if by == "staff":
        rbac_require_staff(principal)
    elif by == "provider":
        _provider(principal, resource, P.SET_RESOURCE_END_DATE)
    else:
        _consumer(principal, resource, P.SET_RESOURCE_END_DATE)
    domain.check_end_date(end_date, utcnow().date(), by)
    if end_date == resource.end_date:
        return resource
    uow = unit_of_work()
    stored = store.save_changes(uow, resource, replace(resource, end_date=end_date, modified=utcnow()))
    uow.record(domain.end_date_event(stored, ctx, by))
    uow.commit()
    return stored


def set_slug(ctx: EventContext, resource_id: str, given: Any, provider_view: bool) -> str:
    """`set_slug/`: staff, or a RESOURCE.SET_SLUG holder (on the project, or on the offering from the
    provider's side) before the provider started making the resource. Waldur's status message."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, provider_view)
    if provider_view:
        _provider(principal, resource, P.SET_RESOURCE_SLUG)
    else:
        _consumer(principal, resource, P.SET_RESOURCE_SLUG)
    slug = check_slug(given)
    if slug == resource.slug:
        return UNCHANGED.format(model="Resource")
    if not principal.is_staff and not _slug_still_free(resource):
        raise ValidationError([domain.SLUG_IN_USE])
    uow = unit_of_work()
    store.save_changes(uow, resource, replace(resource, slug=slug, modified=utcnow()))
    slugs.change(uow, SlugKind.RESOURCE, resource.id, resource.slug, slug)
    uow.commit()  # Waldur only logs it (no event)
    return CHANGED.format(model="Resource")


def _slug_still_free(resource: Resource) -> bool:
    if not domain.slug_settable_by_holder(resource):
        return False
    creation = order_store.get(resource.creation_order_id) if resource.creation_order_id else None
    return creation is None or creation.state.value.startswith("pending")


def update_options(ctx: EventContext, resource_id: str, options: Any) -> None:
    """`update_options/` (RESOURCE.UPDATE_OPTIONS): Cirrus's offerings define no resource options
    (their `resource_options` is always empty), so this is Waldur's 400 for such an offering."""
    principal = ctx.actor
    resource = _for_change(principal, resource_id, False)
    _consumer(principal, resource, P.UPDATE_RESOURCE_OPTIONS)
    raise ValidationError.field("options", domain.NO_OPTIONS)
