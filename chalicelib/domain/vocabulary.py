"""The marketplace's shared vocabulary: offerings with their components and plans, orders and
resources with their states and the transitions between them (one source of truth: the API's 409s,
the services and the order workflow all read these tables).

Catalog details live in `domain/offerings.py`, orders in `domain/orders.py`, resources in
`domain/resources.py`; this module holds what all of them (and the provider plugins) share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


# --- catalog -------------------------------------------------------------------------------------
class OfferingState(StrEnum):
    DRAFT = "Draft"
    ACTIVE = "Active"
    PAUSED = "Paused"
    ARCHIVED = "Archived"


# Offering actions → the states they may start from and the state they lead to (Waldur's FSM).
OFFERING_TRANSITIONS: Mapping[str, tuple[frozenset[OfferingState], OfferingState]] = {
    "activate": (frozenset({OfferingState.DRAFT, OfferingState.PAUSED}), OfferingState.ACTIVE),
    "pause": (frozenset({OfferingState.ACTIVE}), OfferingState.PAUSED),
    "unpause": (frozenset({OfferingState.PAUSED}), OfferingState.ACTIVE),
    "archive": (
        frozenset({OfferingState.DRAFT, OfferingState.ACTIVE, OfferingState.PAUSED}),
        OfferingState.ARCHIVED,
    ),
    "draft": (
        frozenset({OfferingState.ACTIVE, OfferingState.PAUSED, OfferingState.ARCHIVED}),
        OfferingState.DRAFT,
    ),
}


class BillingType(StrEnum):
    FIXED = "fixed"
    USAGE = "usage"
    LIMIT = "limit"
    ONE = "one"  # one-time, on creation
    FEW = "few"  # one-time, on plan switch


class LimitPeriod(StrEnum):
    MONTH = "month"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    TOTAL = "total"


class PlanUnit(StrEnum):
    MONTH = "month"
    HALF_MONTH = "half_month"
    DAY = "day"
    HOUR = "hour"
    QUANTITY = "quantity"


@dataclass(frozen=True)
class Component:
    """A measurable part of an offering (cores, storage, node hours...)."""

    id: str
    type: str  # the key used in limits, prices and usages
    name: str
    measured_unit: str = ""
    billing_type: BillingType = BillingType.FIXED
    description: str = ""
    limit_period: LimitPeriod | None = None
    limit_amount: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    max_available_limit: int | None = None
    default_limit: int | None = None
    article_code: str = ""
    is_boolean: bool = False


@dataclass(frozen=True)
class Plan:
    id: str
    offering_id: str
    name: str
    unit: PlanUnit = PlanUnit.MONTH
    unit_price: Decimal = Decimal("0")
    prices: Mapping[str, Decimal] = field(default_factory=dict)  # component type → price per unit
    quotas: Mapping[str, int] = field(default_factory=dict)  # component type → amount (fixed components)
    description: str = ""
    article_code: str = ""
    max_amount: int | None = None
    archived: bool = False
    created: datetime | None = None


@dataclass(frozen=True)
class Offering:
    """What a service provider (a customer) sells; `type` names its provider plugin."""

    id: str
    customer_id: str  # the service provider's customer
    name: str
    type: str
    state: OfferingState = OfferingState.DRAFT
    category_id: str | None = None
    description: str = ""
    full_description: str = ""
    terms_of_service: str = ""
    shared: bool = True
    billable: bool = True
    attributes: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    plugin_options: Mapping[str, Any] = field(default_factory=dict)  # always an object (site agent)
    secret_options: Mapping[str, Any] = field(default_factory=dict)
    components: tuple[Component, ...] = ()
    plans: tuple[Plan, ...] = ()
    backend_id: str = ""
    created: datetime | None = None
    version: int = 0
    # Catalog details (added by the catalog; defaults keep older callers working).
    paused_reason: str = ""
    vendor_details: str = ""
    getting_started: str = ""
    integration_guide: str = ""
    access_url: str = ""
    privacy_policy_link: str = ""
    latitude: float | None = None
    longitude: float | None = None
    country: str = ""

    def component(self, component_type: str) -> Component | None:
        return next((c for c in self.components if c.type == component_type), None)

    def plan(self, plan_id: str) -> Plan | None:
        return next((p for p in self.plans if p.id == plan_id), None)


# --- orders ------------------------------------------------------------------------------------
class OrderType(StrEnum):
    CREATE = "Create"
    UPDATE = "Update"
    TERMINATE = "Terminate"


class OrderState(StrEnum):
    PENDING_CONSUMER = "pending-consumer"
    PENDING_PROVIDER = "pending-provider"
    PENDING_PROJECT = "pending-project"
    EXECUTING = "executing"
    DONE = "done"
    ERRED = "erred"
    CANCELED = "canceled"
    REJECTED = "rejected"


ORDER_FINAL: frozenset[OrderState] = frozenset(
    {OrderState.DONE, OrderState.ERRED, OrderState.CANCELED, OrderState.REJECTED}
)
ORDER_PENDING: frozenset[OrderState] = frozenset(
    {OrderState.PENDING_CONSUMER, OrderState.PENDING_PROVIDER, OrderState.PENDING_PROJECT}
)

# Order actions → the states they may start from (the target depends on the action's rules).
ORDER_TRANSITIONS: Mapping[str, frozenset[OrderState]] = {
    "approve_by_consumer": frozenset({OrderState.PENDING_CONSUMER}),
    "reject_by_consumer": frozenset({OrderState.PENDING_CONSUMER}),
    "approve_by_provider": frozenset({OrderState.PENDING_PROVIDER}),
    "reject_by_provider": frozenset({OrderState.PENDING_PROVIDER}),
    "cancel": ORDER_PENDING,
    "set_state_executing": frozenset({OrderState.PENDING_PROVIDER, OrderState.ERRED}),
    "set_state_done": frozenset({OrderState.EXECUTING}),
    "set_state_erred": frozenset({OrderState.EXECUTING, OrderState.PENDING_PROVIDER}),
    "destroy": ORDER_PENDING,
}


# --- resources ---------------------------------------------------------------------------------
class ResourceState(StrEnum):
    CREATING = "Creating"
    OK = "OK"
    ERRED = "Erred"
    UPDATING = "Updating"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"


# Resource actions that create an order → the states they may start from (else 409).
RESOURCE_ORDER_ACTIONS: Mapping[str, frozenset[ResourceState]] = {
    "terminate": frozenset({ResourceState.OK, ResourceState.ERRED}),
    "update_limits": frozenset({ResourceState.OK}),
    "switch_plan": frozenset({ResourceState.OK}),
}

# While an order of this type executes, its resource is in this state; when it ends, in these.
RESOURCE_DURING: Mapping[OrderType, ResourceState] = {
    OrderType.CREATE: ResourceState.CREATING,
    OrderType.UPDATE: ResourceState.UPDATING,
    OrderType.TERMINATE: ResourceState.TERMINATING,
}
RESOURCE_AFTER_DONE: Mapping[OrderType, ResourceState] = {
    OrderType.CREATE: ResourceState.OK,
    OrderType.UPDATE: ResourceState.OK,
    OrderType.TERMINATE: ResourceState.TERMINATED,
}
# An order that fails or is refused: a new resource is Erred (create) / Terminated (never made);
# an existing one goes back to OK (update, terminate refused) or Erred (the provider failed).
RESOURCE_AFTER_FAILED: Mapping[OrderType, ResourceState] = {
    OrderType.CREATE: ResourceState.ERRED,
    OrderType.UPDATE: ResourceState.ERRED,
    OrderType.TERMINATE: ResourceState.ERRED,
}
RESOURCE_AFTER_REFUSED: Mapping[OrderType, ResourceState] = {
    OrderType.CREATE: ResourceState.TERMINATED,
    OrderType.UPDATE: ResourceState.OK,
    OrderType.TERMINATE: ResourceState.OK,
}
