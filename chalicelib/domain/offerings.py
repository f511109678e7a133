"""The catalog's rules: service providers, categories, and offerings with their components and
plans (the shared types are in `domain/vocabulary.py`).

- An offering's state moves only along OFFERING_TRANSITIONS; another move is Waldur's 400
  "Offering state is invalid.". Activating or unpausing needs a plan that is not archived.
- An archived offering is not changed any more (Waldur's `validate_offering_update`).
- Component types are unique within an offering; plan prices and quotas name its components.
- Prices given inline in an offering's plans at creation are kept (Waldur ignores them and sets
  prices with `update_prices/` only; accepting them is friendlier and changes nothing else).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.domain import events
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.vocabulary import (
    OFFERING_TRANSITIONS,
    BillingType,
    Component,
    LimitPeriod,
    Offering,
    OfferingState,
    Plan,
    PlanUnit,
)

MODEL = "Offering"
PLAN_MODEL = "Plan"
PROVIDER_MODEL = "ServiceProvider"
CATEGORY_MODEL = "Category"

# Waldur's wording.
STATE_INVALID = "Offering state is invalid."
ARCHIVED = "It is not possible to update archived offering."
NO_PLANS = "Offering does not have any billing plans."
PLAN_ARCHIVED = "Plan is already archived."
NOT_AN_OBJECT = "Dictionary is expected."
DUPLICATE_COMPONENT = "Component types must be unique."
INVALID_CHOICE = '"{}" is not a valid choice.'

# Offering fields the `update_*` actions may change, by action (Waldur's serializers per action).
UPDATE_FIELDS: Mapping[str, frozenset[str]] = {
    "update_overview": frozenset(
        {
            "name",
            "description",
            "full_description",
            "terms_of_service",
            "privacy_policy_link",
            "access_url",
            "getting_started",
            "integration_guide",
            "vendor_details",
        }
    ),
    "update_description": frozenset({"category_id"}),
    "update_location": frozenset({"latitude", "longitude", "country"}),
    "update_options": frozenset({"options"}),
    "update_integration": frozenset({"plugin_options", "secret_options", "backend_id"}),
    "update_attributes": frozenset({"attributes"}),
}


@dataclass(frozen=True)
class ServiceProvider:
    """A customer registered as a seller in the marketplace (one per customer)."""

    id: str
    customer_id: str
    created: datetime
    description: str = ""
    enable_notifications: bool = True
    image: str | None = None
    version: int = 0


@dataclass(frozen=True)
class Category:
    """A heading of the catalog (staff-defined)."""

    id: str
    title: str
    created: datetime
    description: str = ""
    icon: str | None = None
    default_vm_category: bool = False
    default_volume_category: bool = False
    default_tenant_category: bool = False
    group: str | None = None
    version: int = 0


@dataclass(frozen=True)
class ComponentTemplate:
    """A component every offering of a type gets (a plugin's built-in components)."""

    type: str
    name: str
    measured_unit: str = ""
    billing_type: BillingType = BillingType.USAGE
    description: str = ""

    def component(self) -> Component:
        return Component(
            id=new_id(),
            type=self.type,
            name=self.name,
            measured_unit=self.measured_unit,
            billing_type=self.billing_type,
            description=self.description,
        )


# --- state ---------------------------------------------------------------------------------------
def next_state(offering: Offering, action: str) -> OfferingState:
    """The state `action` leads to from the offering's state (400 if it may not start there)."""
    sources, target = OFFERING_TRANSITIONS[action]
    if offering.state not in sources:
        raise ValidationError([STATE_INVALID])
    if target is OfferingState.ACTIVE and not any(not p.archived for p in offering.plans):
        raise ValidationError([NO_PLANS])
    return target


def check_updatable(offering: Offering) -> None:
    if offering.state is OfferingState.ARCHIVED:
        raise ValidationError([ARCHIVED])


def is_public(offering: Offering) -> bool:
    """Orderable from the public catalog: shared, and Active or Paused (Paused shows, orders fail)."""
    return offering.shared and offering.state in (OfferingState.ACTIVE, OfferingState.PAUSED)


# --- building from input -------------------------------------------------------------------------
def _choice(value: Any, enum: type[Any], name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise ValidationError({name: [INVALID_CHOICE.format(value)]}) from None


def _decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({name: ["A valid number is required."]}) from None
    if not number.is_finite():
        raise ValidationError({name: ["A valid number is required."]})
    return number


def _optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError({name: ["A valid integer is required."]})
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: ["A valid integer is required."]}) from None


def _text(value: Any, name: str) -> str:
    return str(value if value is not None else "")


def _period(value: Any, name: str) -> LimitPeriod | None:
    return None if value in (None, "") else _choice(value, LimitPeriod, name)


# Input field → how to read it (each reader refuses bad input with DRF's message for that field).
_COMPONENT_READERS: Mapping[str, Any] = {
    **{n: _text for n in ("type", "name", "measured_unit", "description", "article_code")},
    "billing_type": lambda v, n: _choice(v, BillingType, n),
    "limit_period": _period,
    **{
        n: _optional_int
        for n in ("limit_amount", "min_value", "max_value", "max_available_limit", "default_limit")
    },
    "is_boolean": lambda v, n: bool(v),
}


def _read(spec: Mapping[str, Any], readers: Mapping[str, Any]) -> dict[str, Any]:
    return {name: read(spec[name], name) for name, read in readers.items() if name in spec}


def component_from(spec: Component | Mapping[str, Any], existing: Component | None = None) -> Component:
    """A component from input (`spec` a mapping of Waldur's fields, or a Component); with
    `existing`, the fields given change it (its id and type stay)."""
    if isinstance(spec, Component):
        return spec if existing is None else replace(spec, id=existing.id, type=existing.type)
    values = _read(spec, _COMPONENT_READERS)
    if existing is not None:
        values.pop("type", None)
        return replace(existing, **values)
    missing = [n for n in ("type", "name") if not values.get(n)]
    if missing:
        raise ValidationError({n: ["This field is required."] for n in missing})
    return Component(id=new_id(), **values)


def components_from(
    specs: Iterable[Component | Mapping[str, Any]], defaults: Iterable[ComponentTemplate] = ()
) -> tuple[Component, ...]:
    """The offering's components: those given, then the type's built-ins not given (by type)."""
    given = [component_from(spec) for spec in specs]
    types = [c.type for c in given]
    if len(types) != len(set(types)):
        raise ValidationError({"components": [DUPLICATE_COMPONENT]})
    extra = [t.component() for t in defaults if t.type not in set(types)]
    return tuple(given + extra)


def _amounts(value: Any, name: str, known: set[str], as_price: bool) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError({name: [NOT_AN_OBJECT]})
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise ValidationError({name: [f"Invalid components: {', '.join(unknown)}."]})
    if as_price:
        return {str(k): _decimal(v, name) for k, v in value.items()}
    return {str(k): _optional_int(v, name) or 0 for k, v in value.items()}


_PLAN_READERS: Mapping[str, Any] = {
    **{n: _text for n in ("name", "description", "article_code")},
    "unit": lambda v, n: _choice(v, PlanUnit, n),
    "unit_price": _decimal,
    "max_amount": _optional_int,
    "archived": lambda v, n: bool(v),
}


def plan_from(
    offering_id: str,
    spec: Plan | Mapping[str, Any],
    components: Iterable[Component],
    now: datetime,
    existing: Plan | None = None,
) -> Plan:
    """A plan from input; with `existing`, the fields given change it (its id and offering stay).
    Prices and quotas must name components of the offering."""
    known = {c.type for c in components}
    if isinstance(spec, Plan):
        _amounts(dict(spec.prices), "prices", known, as_price=True)
        _amounts(dict(spec.quotas), "quotas", known, as_price=False)
        return replace(spec, offering_id=offering_id, created=spec.created or now)
    values = _read(spec, _PLAN_READERS)
    if "prices" in spec:
        values["prices"] = _amounts(spec["prices"], "prices", known, as_price=True)
    if "quotas" in spec:
        values["quotas"] = _amounts(spec["quotas"], "quotas", known, as_price=False)
    if existing is not None:
        return replace(existing, **values)
    if not values.get("name"):
        raise ValidationError({"name": ["This field is required."]})
    return Plan(id=new_id(), offering_id=offering_id, created=now, **values)


def check_object(value: Any, name: str) -> dict[str, Any]:
    """Options, plugin options and attributes are JSON objects (the site agent reads them as such)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError({name: [NOT_AN_OBJECT]})
    return dict(value)


@dataclass(frozen=True)
class OfferingChanges:
    """What an `update_*` action changes, checked against the fields it may change."""

    action: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def apply(self, offering: Offering) -> Offering:
        allowed = UPDATE_FIELDS[self.action]
        unknown = sorted(set(self.values) - allowed)
        if unknown:
            raise ValueError(f"{self.action} may not change {unknown}")
        values = dict(self.values)
        for name in ("options", "plugin_options", "secret_options", "attributes"):
            if name in values:
                values[name] = check_object(values[name], name)
        return replace(offering, **values)


# --- events --------------------------------------------------------------------------------------
OFFERING_CREATED = "marketplace_offering_created"
OFFERING_UPDATED = "marketplace_offering_updated"
COMPONENT_CREATED = "marketplace_offering_component_created"
COMPONENT_UPDATED = "marketplace_offering_component_updated"
COMPONENT_DELETED = "marketplace_offering_component_deleted"
PLAN_CREATED = "marketplace_plan_created"
PLAN_UPDATED = "marketplace_plan_updated"
PLAN_ARCHIVED_EVENT = "marketplace_plan_archived"

EVENT_TYPES = (
    OFFERING_CREATED,
    OFFERING_UPDATED,
    COMPONENT_CREATED,
    COMPONENT_UPDATED,
    COMPONENT_DELETED,
    PLAN_CREATED,
    PLAN_UPDATED,
    PLAN_ARCHIVED_EVENT,
)


def offering_fields(offering: Offering, provider_name: str) -> dict[str, str]:
    return {
        "offering_uuid": offering.id,
        "offering_name": offering.name,
        "offering_type": offering.type,
        "customer_uuid": offering.customer_id,
        "customer_name": provider_name,
    }


def offering_event(
    event_type: str, message: str, offering: Offering, provider_name: str, ctx: EventContext
) -> events.Event:
    fields = offering_fields(offering, provider_name)
    return events.make_event(event_type, message, ctx, fields, offering.customer_id)


def component_event(
    event_type: str, offering: Offering, component: Component, provider_name: str, ctx: EventContext
) -> events.Event:
    done = {COMPONENT_CREATED: "created", COMPONENT_UPDATED: "updated", COMPONENT_DELETED: "deleted"}
    message = f"Offering component {component.type} of offering {offering.name} has been {done[event_type]}."
    fields = {
        **offering_fields(offering, provider_name),
        "component_type": component.type,
        "component_name": component.name,
    }
    return events.make_event(event_type, message, ctx, fields, offering.customer_id)


def plan_event(
    event_type: str, offering: Offering, plan: Plan, provider_name: str, ctx: EventContext
) -> events.Event:
    done = {PLAN_CREATED: "created", PLAN_UPDATED: "updated", PLAN_ARCHIVED_EVENT: "archived"}
    message = f"Plan {plan.name} of offering {offering.name} has been {done[event_type]}."
    fields = {**offering_fields(offering, provider_name), "plan_uuid": plan.id, "plan_name": plan.name}
    return events.make_event(event_type, message, ctx, fields, offering.customer_id)
