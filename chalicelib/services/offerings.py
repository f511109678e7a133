"""Offering use cases (Waldur's `marketplace-provider-offerings/` and the catalog reads the order
side needs): create with components and plans, state actions, `update_*` actions, components.

Who may do what (Waldur's permission paths: the offering, then its provider customer):
- create: staff, or OFFERING.CREATE on the customer (CUSTOMER.OWNER, CUSTOMER.MANAGER);
- `activate/`: staff only (Waldur); `pause/`, `unpause/`, `archive/`: OFFERING.PAUSE, .UNPAUSE,
  .ARCHIVE; `draft/`: OFFERING.UPDATE;
- `update_*` and components: the matching OFFERING.UPDATE_* permission, which OFFERING.MANAGER of
  the offering holds as well; an archived offering is not changed any more.

Visibility on the provider side: staff and support see every offering; anybody else those of
customers where they hold a customer role and those they hold an offering role on. Other
providers' offerings are seen through the public catalog (`services/catalog.py`).

For the order side: `get_offering(id)`, `find_plan(plan_id)`, `find_plan_of(offering_id, plan_id)`
read without a permission check (the caller decides who may order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import offerings as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.offerings import OfferingChanges, ServiceProvider
from chalicelib.domain.rbac import Access, Scope
from chalicelib.domain.roles import P, ScopeType
from chalicelib.domain.vocabulary import Component, Offering, OfferingState, Plan
from chalicelib.providers import registry
from chalicelib.services import access as access_service
from chalicelib.services import memberships, request_keys
from chalicelib.services.ports import categories as category_store
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import grants, unit_of_work
from chalicelib.services.ports import offerings as store
from chalicelib.services.ports import service_providers as provider_store

INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."
COMPONENT_NOT_GIVEN = "UUID for offering component was not provided."
COMPONENT_BUILTIN = "The component {} cannot be removed because it is builtin"
COMPONENT_USED = "The component {} cannot be removed because it is already used"
HAS_RESOURCES = "Offering was not deleted since it has resources."
NOT_DRAFT = "Offering was not deleted since offering is not in draft state."

# State action → the permission it needs (None: staff only, as Waldur's `activate`).
STATE_PERMISSIONS: Mapping[str, str | None] = {
    "activate": None,
    "pause": P.PAUSE_OFFERING,
    "unpause": P.UNPAUSE_OFFERING,
    "archive": P.ARCHIVE_OFFERING,
    "draft": P.UPDATE_OFFERING,
}
# `update_*` action → the permission it needs.
UPDATE_PERMISSIONS: Mapping[str, str] = {
    "update_overview": P.UPDATE_OFFERING,
    "update_description": P.UPDATE_OFFERING_DESCRIPTION,
    "update_location": P.UPDATE_OFFERING_LOCATION,
    "update_options": P.UPDATE_OFFERING_OPTIONS,
    "update_integration": P.UPDATE_OFFERING_INTEGRATION,
    "update_attributes": P.UPDATE_OFFERING_ATTRIBUTES,
}
_STATE_DONE = {
    "activate": "activated",
    "pause": "paused",
    "unpause": "unpaused",
    "archive": "archived",
    "draft": "moved to draft",
}


# --- reads for the order side ------------------------------------------------------------------------
def get_offering(offering_id: str) -> Offering:
    """The offering (no permission check), or NotFound."""
    offering = store.get(offering_id)
    if offering is None:
        raise NotFound(domain.MODEL)
    return offering


def in_category(category_id: str) -> frozenset[str]:
    """The ids of the offerings filed under the category (reads every offering: catalogs are
    small, as the public catalog's filtered lists read them)."""
    return frozenset(o.id for o in store.read_all() if o.category_id == category_id)


def find_plan(plan_id: str) -> tuple[Offering, Plan]:
    """A plan and its offering from the plan's id alone (two round trips), or NotFound."""
    owner = store.plan_owner(plan_id)
    offering = store.load(*owner) if owner else None
    plan = offering.plan(plan_id) if offering else None
    if offering is None or plan is None:
        raise NotFound(domain.PLAN_MODEL)
    return offering, plan


def find_plan_of(offering_id: str, plan_id: str) -> tuple[Offering, Plan]:
    """A plan named with its offering (`marketplace-public-offerings/<o>/plans/<p>/`): one Query."""
    offering = store.get(offering_id)
    plan = offering.plan(plan_id) if offering else None
    if offering is None or plan is None:
        raise NotFound(domain.PLAN_MODEL)
    return offering, plan


# --- scopes and visibility ---------------------------------------------------------------------------
def scope(offering: Offering) -> Scope:
    return Scope(ScopeType.OFFERING, offering.id, offering.customer_id, offering.name)


def _scope_by_id(offering_id: str) -> Scope | None:
    offering = store.get(offering_id)
    return scope(offering) if offering else None


def register_role_scope() -> None:
    """Make offerings a scope of roles (offering teams: add_user/, list_users/): memberships finds
    an offering's scope through this. Called by the composition root (bootstrap.wire_services),
    not at import, so what is wired does not depend on what happened to be imported."""
    memberships.RESOLVERS[ScopeType.OFFERING] = _scope_by_id


def manages(rights: Access, offering: Offering) -> bool:
    """Sees the offering on the provider side: reads everything, holds a customer role in its
    provider, or a role on the offering itself."""
    if rights.reads_everything or offering.customer_id in rights.customer_role_ids():
        return True
    return any(g.scope_key == (ScopeType.OFFERING, offering.id) for g in rights.active_grants())


@dataclass(frozen=True)
class OfferingRights:
    """What the caller may change of one offering, as its provider view shows it."""

    integration: bool  # plugin_options, secret_options: and so whether they see the secrets
    options: bool


def rights_on(principal: Principal, offering: Offering) -> OfferingRights:
    """Staff, or OFFERING.UPDATE_INTEGRATION / UPDATE_OPTIONS on the offering or its customer
    (CUSTOMER.OWNER, CUSTOMER.MANAGER, OFFERING.MANAGER by default). Waldur shows secret_options
    only to who may set them; a CUSTOMER.SUPPORT or global support user reads the rest."""
    rights = access_service.access(principal)
    where = scope(offering)
    return OfferingRights(
        integration=rights.has(P.UPDATE_OFFERING_INTEGRATION, where),
        options=rights.has(P.UPDATE_OFFERING_OPTIONS, where),
    )


def get_visible(principal: Principal, offering_id: str) -> Offering:
    """The offering, if the caller sees it on the provider side; otherwise NotFound."""
    offering = store.get(offering_id)
    if offering is None or not manages(access_service.access(principal), offering):
        raise NotFound(domain.MODEL)
    return offering


def _for_change(principal: Principal, offering_id: str, permission: str | None) -> Offering:
    """The offering read consistently, after the visibility and permission checks."""
    seen = get_visible(principal, offering_id)
    if permission is None:
        if not principal.is_staff:
            raise PermissionDenied()
    else:
        access_service.access(principal).require(permission, scope(seen))
    offering = store.load(seen.customer_id, seen.id)
    if offering is None:
        raise NotFound(domain.MODEL)
    return offering


def provider_name(customer_id: str) -> str:
    customer = customer_store.get(customer_id)
    return customer.name if customer else ""


# --- commands ----------------------------------------------------------------------------------------
def _category_id(data: Mapping[str, Any]) -> str | None:
    category_id = data.get("category_id")
    if category_id is not None and category_store.get(category_id) is None:
        raise ValidationError.field("category", INVALID_HYPERLINK)
    return None if category_id is None else str(category_id)


def _plugin_options(offering_type: registry.OfferingType, given: Any) -> dict[str, Any]:
    options = offering_type.plugin_options(domain.check_object(given, "plugin_options"))
    if offering_type.validate_plugin_options is not None:
        try:
            offering_type.validate_plugin_options(options)
        except ValueError as exc:
            raise ValidationError.field("plugin_options", str(exc)) from None
    return options


def _secret_options(offering_type: registry.OfferingType, given: Any) -> dict[str, Any]:
    """The offering's secret options, checked by its type unless a value is a Secrets Manager
    reference (read, and so checked, when the type's backend is built)."""
    secrets = domain.check_object(given, "secret_options")
    problems = [p for n, v in secrets.items() if (p := registry.secret_reference_problem(n, v))]
    if problems:
        raise ValidationError({"secret_options": problems})
    deferred = any(
        isinstance(v, str) and v.startswith(registry.SECRETS_MANAGER_PREFIX) for v in secrets.values()
    )
    if offering_type.validate_secret_options is not None and not deferred:
        try:
            offering_type.validate_secret_options(secrets)
        except ValueError as exc:
            raise ValidationError.field("secret_options", str(exc)) from None
    return secrets


_OFFERING_FIELDS = (
    "description",
    "full_description",
    "terms_of_service",
    "shared",
    "billable",
    "backend_id",
    "vendor_details",
    "getting_started",
    "integration_guide",
    "access_url",
    "privacy_policy_link",
    "latitude",
    "longitude",
    "country",
)


def create_offering(ctx: EventContext, customer_id: str | None, data: Mapping[str, Any]) -> Offering:
    """Create a Draft offering of customer `customer_id` with its components and plans.

    `data`: name, type (a registered offering type), category_id (optional here; the API requires
    it), components (mappings of Waldur's component fields, or Components), plans (mappings with
    name, unit, unit_price, prices, quotas, ... or Plans), attributes, options, plugin_options and
    secret_options (objects), description and the other text fields of an offering. The type's
    built-in components are added unless given; its plugin option defaults are filled in. A
    customer that is not yet a service provider becomes one. A retry with the request's
    `Idempotency-Key` answers with the offering it made (services/request_keys.py).
    """
    return request_keys.once(
        ctx,
        lambda: _create_offering(ctx, customer_id, data),
        lambda used: get_visible(ctx.actor, used.object_id),
    )


def _create_offering(ctx: EventContext, customer_id: str | None, data: Mapping[str, Any]) -> Offering:
    rights = access_service.access(ctx.actor)
    customer = customer_store.get(customer_id) if customer_id and rights.sees_customer(customer_id) else None
    if customer is None:
        raise ValidationError.field("customer", INVALID_HYPERLINK)
    rights.require(P.CREATE_OFFERING, Scope(ScopeType.CUSTOMER, customer.id, customer.id, customer.name))
    offering_type = registry.require_type(str(data.get("type", "")))
    name = str(data.get("name") or "")
    if not name:
        raise ValidationError.field("name", "This field is required.")
    now = utcnow()
    offering_id = new_id()
    components = domain.components_from(data.get("components") or (), offering_type.components)
    plans = tuple(domain.plan_from(offering_id, spec, components, now) for spec in data.get("plans") or ())
    offering = Offering(
        id=offering_id,
        customer_id=customer.id,
        name=name,
        type=offering_type.name,
        category_id=_category_id(data),
        attributes=domain.check_object(data.get("attributes"), "attributes"),
        options=domain.check_object(data.get("options"), "options"),
        plugin_options=_plugin_options(offering_type, data.get("plugin_options")),
        secret_options=_secret_options(offering_type, data.get("secret_options")),
        components=components,
        plans=plans,
        created=now,
        **{k: data[k] for k in _OFFERING_FIELDS if k in data and data[k] is not None},
    )
    uow = unit_of_work()
    if provider_store.for_customer(customer.id) is None:
        provider_store.add(uow, ServiceProvider(id=new_id(), customer_id=customer.id, created=now, version=1))
    store.add(uow, offering)
    request_keys.remember(uow, ctx, offering.id)
    message = f"Offering {offering.name} has been created."
    uow.record(domain.offering_event(domain.OFFERING_CREATED, message, offering, customer.name, ctx))
    uow.commit()
    return replace(offering, version=1)


def _commit(ctx: EventContext, before: Offering, after: Offering, event: Any) -> Offering:
    uow = unit_of_work()
    store.save(uow, before, after)
    uow.record(event)
    uow.commit()
    return replace(after, version=before.version + 1)


def set_state(ctx: EventContext, offering_id: str, action: str, paused_reason: str = "") -> Offering:
    """`activate`, `pause` (with a reason), `unpause`, `archive` or `draft`, along Waldur's
    transitions (anything else from the current state: 400 "Offering state is invalid.")."""
    if action not in STATE_PERMISSIONS:
        raise ValueError(f"unknown offering action {action!r}")
    before = _for_change(ctx.actor, offering_id, STATE_PERMISSIONS[action])
    state = domain.next_state(before, action)
    reason = paused_reason if state is OfferingState.PAUSED else ""
    after = replace(before, state=state, paused_reason=reason)
    message = f"Offering {after.name} has been {_STATE_DONE[action]}."
    event = domain.offering_event(
        domain.OFFERING_UPDATED, message, after, provider_name(after.customer_id), ctx
    )
    return _commit(ctx, before, after, event)


def update_offering(ctx: EventContext, offering_id: str, action: str, values: Mapping[str, Any]) -> Offering:
    """One of the `update_*` actions (UPDATE_PERMISSIONS): change the fields it covers."""
    before = _for_change(ctx.actor, offering_id, UPDATE_PERMISSIONS[action])
    domain.check_updatable(before)
    changes = dict(values)
    if "category_id" in changes:
        changes["category_id"] = _category_id(changes)
    offering_type = registry.get_type(before.type) or registry.OfferingType(before.type)
    if "plugin_options" in changes:
        changes["plugin_options"] = _plugin_options(offering_type, changes["plugin_options"])
    if "secret_options" in changes:
        changes["secret_options"] = _secret_options(offering_type, changes["secret_options"])
    after = OfferingChanges(action, changes).apply(before)
    if after == before:
        return before
    message = f"Offering {after.name} has been updated."
    event = domain.offering_event(
        domain.OFFERING_UPDATED, message, after, provider_name(after.customer_id), ctx
    )
    return _commit(ctx, before, after, event)


# --- components --------------------------------------------------------------------------------------
def create_component(ctx: EventContext, offering_id: str, spec: Mapping[str, Any]) -> Component:
    before = _for_change(ctx.actor, offering_id, P.UPDATE_OFFERING_COMPONENTS)
    domain.check_updatable(before)
    component = domain.component_from(spec)
    if before.component(component.type) is not None:
        raise ValidationError({"type": [domain.DUPLICATE_COMPONENT]})
    after = replace(before, components=(*before.components, component))
    event = domain.component_event(
        domain.COMPONENT_CREATED, after, component, provider_name(after.customer_id), ctx
    )
    _commit(ctx, before, after, event)
    return component


def _component(offering: Offering, component_id: Any) -> Component:
    if not component_id:
        raise ValidationError([COMPONENT_NOT_GIVEN])
    found = next((c for c in offering.components if c.id == component_id), None)
    if found is None:
        raise NotFound("OfferingComponent")
    return found


def update_component(
    ctx: EventContext, offering_id: str, component_id: str | None, spec: Mapping[str, Any]
) -> Component:
    """Change the fields given of a component (its type stays)."""
    before = _for_change(ctx.actor, offering_id, P.UPDATE_OFFERING_COMPONENTS)
    domain.check_updatable(before)
    existing = _component(before, component_id)
    changed = domain.component_from(spec, existing)
    if changed == existing:
        return existing
    components = tuple(changed if c.id == existing.id else c for c in before.components)
    after = replace(before, components=components)
    event = domain.component_event(
        domain.COMPONENT_UPDATED, after, changed, provider_name(after.customer_id), ctx
    )
    _commit(ctx, before, after, event)
    return changed


def remove_component(ctx: EventContext, offering_id: str, component_id: str | None) -> None:
    """Remove a component that is not one of its type's built-ins; plans forget its prices."""
    before = _for_change(ctx.actor, offering_id, P.UPDATE_OFFERING_COMPONENTS)
    domain.check_updatable(before)
    existing = _component(before, component_id)
    if store.has_resources(before):
        raise ValidationError([COMPONENT_USED.format(existing.name)])
    offering_type = registry.get_type(before.type)
    if offering_type and existing.type in {t.type for t in offering_type.components}:
        raise ValidationError([COMPONENT_BUILTIN.format(existing.type)])
    plans = tuple(
        replace(
            p,
            prices={k: v for k, v in p.prices.items() if k != existing.type},
            quotas={k: v for k, v in p.quotas.items() if k != existing.type},
        )
        for p in before.plans
    )
    components = tuple(c for c in before.components if c.id != existing.id)
    after = replace(before, components=components, plans=plans)
    event = domain.component_event(
        domain.COMPONENT_DELETED, before, existing, provider_name(before.customer_id), ctx
    )
    _commit(ctx, before, after, event)


def delete_offering(ctx: EventContext, offering_id: str) -> None:
    """Delete an offering nobody ordered (Waldur's 403s): a Draft one, or any for staff. Its team's
    roles are revoked first (each with its role_revoked). Waldur logs no event for the deletion."""
    principal = ctx.actor
    offering = _for_change(principal, offering_id, P.DELETE_OFFERING)
    if store.has_resources(offering):
        raise PermissionDenied(HAS_RESOURCES)
    if not principal.is_staff and offering.state is not OfferingState.DRAFT:
        raise PermissionDenied(NOT_DRAFT)
    team = grants.for_scope(offering.customer_id, ScopeType.OFFERING, offering.id)
    if team:
        memberships.revoke_all(ctx, team, scope(offering))
        offering = store.load(offering.customer_id, offering.id) or offering
    uow = unit_of_work()
    store.remove(uow, offering)
    uow.commit()
