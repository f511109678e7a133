"""Marketplace orders: a request to create, change or terminate a resource, approved by the consumer
(the project's side) and the provider (the offering's side), then carried out.

    pending-consumer ──approve_by_consumer──► pending-provider ──approve_by_provider──► executing
          │                        └──(no provider review)──────────────────────────────►  │
          ├─reject_by_consumer─► rejected        pending-provider ─reject_by_provider─► rejected
          └─cancel (any pending)─► canceled                       executing ─set_state_done─► done
                                                                  executing ─set_state_erred─► erred

Waldur's auto-approval: an order whose creator is staff or holds ORDER.APPROVE on its project (or
the project's customer) skips `pending-consumer`; an offering whose type needs no provider review
(see the provider registry) skips `pending-provider`. An action from a state the table does not
allow is Waldur's 409 "Valid states for operation: ...".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.events import Event, make_event
from chalicelib.domain.numbers import MAX_INTEGER, MONEY, at_most
from chalicelib.domain.projects import Project
from chalicelib.domain.vocabulary import (
    ORDER_FINAL,
    ORDER_TRANSITIONS,
    BillingType,
    Component,
    Offering,
    OrderState,
    OrderType,
    Plan,
)

MODEL = "Order"

ORDER_CREATED = "marketplace_order_created"
ORDER_APPROVED = "marketplace_order_approved"
ORDER_REJECTED = "marketplace_order_rejected"
ORDER_COMPLETED = "marketplace_order_completed"
ORDER_TERMINATED = "marketplace_order_terminated"  # Waldur's type for a canceled order
ORDER_FAILED = "marketplace_order_failed"
ORDER_EVENT_TYPES: tuple[str, ...] = (
    ORDER_CREATED,
    ORDER_APPROVED,
    ORDER_REJECTED,
    ORDER_COMPLETED,
    ORDER_TERMINATED,
    ORDER_FAILED,
)
_MESSAGES = {
    ORDER_CREATED: "Marketplace order has been created.",
    ORDER_APPROVED: "Marketplace order has been approved.",
    ORDER_REJECTED: "Marketplace order has been rejected.",
    ORDER_COMPLETED: "Marketplace order has been completed.",
    ORDER_TERMINATED: "Marketplace order has been terminated.",
    ORDER_FAILED: "Marketplace order has been marked as failed.",
}

TERMS_NOT_ACCEPTED = 'Terms of service for offering "{}" have not been accepted.'
OFFERING_UNAVAILABLE = "Offering is not available."
PLAN_NOT_OF_OFFERING = "This plan is not available for selected offering."
PLAN_ARCHIVED = "Plan is archived."
PLAN_REQUIRED = "Plan is required for this offering."
INTEGER_REQUIRED = "A valid integer is required."  # DRF's IntegerField
NOT_NEGATIVE = "Ensure this value is greater than or equal to 0."  # min_value=0
SAME_PLAN = "Resource already uses this plan."
NOT_APPROVED_IN_TIME = "The order was not approved in time."
AGENT_TIMED_OUT = "The service provider did not finish the order in time."


@dataclass(frozen=True)
class Actor:
    """Who did something to an order, as Waldur shows it (`*_by`, `*_by_username`, ...)."""

    id: str
    username: str = ""
    full_name: str = ""
    email: str = ""

    @classmethod
    def of(cls, principal: Principal, email: str = "") -> Actor:
        return cls(principal.user_id, principal.username, principal.full_name, email)


@dataclass(frozen=True)
class Order:
    id: str
    type: OrderType
    state: OrderState
    customer_id: str  # the consumer's customer (the project's)
    project_id: str
    offering_id: str
    provider_id: str  # the offering's customer (Waldur's `provider_uuid`)
    resource_id: str
    created: datetime
    modified: datetime
    plan_id: str | None = None
    old_plan_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, int] = field(default_factory=dict)
    old_limits: Mapping[str, int] = field(default_factory=dict)
    created_by: Actor | None = None
    consumer_reviewed_by: Actor | None = None
    consumer_reviewed_at: datetime | None = None
    provider_reviewed_by: Actor | None = None
    provider_reviewed_at: datetime | None = None
    error_message: str = ""
    error_traceback: str = ""
    completed_at: datetime | None = None
    cost: Decimal | None = None
    # Copied when the order is made, so a page of orders renders without reading their neighbours.
    customer_name: str = ""
    project_name: str = ""
    offering_name: str = ""
    offering_type: str = ""
    provider_name: str = ""
    plan_name: str = ""
    resource_name: str = ""
    offering_plugin_options: Mapping[str, Any] = field(default_factory=dict)
    # How many times its workflow has been started (a retry after `erred` starts another).
    executions: int = 1
    # The provider's id for the order in its own system (`set_backend_id/`; the site agent records
    # an asynchronous backend's pending request there).
    backend_id: str = ""
    version: int = 0
    # The project's and customer's slugs when the order was made (the site agent names accounts
    # after them); "" on an order made before slugs.
    project_slug: str = ""
    customer_slug: str = ""

    @property
    def is_final(self) -> bool:
        return self.state in ORDER_FINAL

    @property
    def execution_name(self) -> str:
        """The Step Functions execution that runs it: the order's uuid, then `<uuid>-<n>`."""
        return self.id if self.executions <= 1 else f"{self.id}-{self.executions}"

    def event_fields(self) -> dict[str, str]:
        return {
            "order_uuid": self.id,
            "order_type": self.type.value,
            "order_state": self.state.value,
            "resource_uuid": self.resource_id,
            "resource_name": self.resource_name,
            "offering_uuid": self.offering_id,
            "offering_name": self.offering_name,
            "project_uuid": self.project_id,
            "project_name": self.project_name,
            "customer_uuid": self.customer_id,
            "customer_name": self.customer_name,
        }


def event(order: Order, event_type: str, ctx: EventContext) -> Event:
    return make_event(event_type, _MESSAGES[event_type], ctx, order.event_fields(), order.customer_id)


# --- rules -----------------------------------------------------------------------------------------
def states_message(states: Iterable[Any]) -> str:
    """Waldur's 409 text, the states in their declared order."""
    wanted = set(states)
    enum: Any = type(next(iter(wanted)))
    declared = list(enum)  # the enum's members, in their declared order
    return "Valid states for operation: " + ", ".join(s.value for s in declared if s in wanted) + "."


def require(order: Order, action: str) -> None:
    allowed = ORDER_TRANSITIONS[action]
    if order.state not in allowed:
        raise Conflict(states_message(allowed))


def initial_state(consumer_approved: bool, provider_review: bool) -> OrderState:
    if not consumer_approved:
        return OrderState.PENDING_CONSUMER
    return OrderState.PENDING_PROVIDER if provider_review else OrderState.EXECUTING


def approve_by_consumer(order: Order, actor: Actor, now: datetime, provider_review: bool) -> Order:
    require(order, "approve_by_consumer")
    return replace(
        order,
        state=OrderState.PENDING_PROVIDER if provider_review else OrderState.EXECUTING,
        consumer_reviewed_by=actor,
        consumer_reviewed_at=now,
        modified=now,
    )


def approve_by_provider(order: Order, actor: Actor, now: datetime) -> Order:
    require(order, "approve_by_provider")
    return replace(
        order,
        state=OrderState.EXECUTING,
        provider_reviewed_by=actor,
        provider_reviewed_at=now,
        modified=now,
    )


def reject(order: Order, side: str, actor: Actor, now: datetime) -> Order:
    """`side`: "consumer" or "provider"."""
    require(order, f"reject_by_{side}")
    reviewed = {f"{side}_reviewed_by": actor, f"{side}_reviewed_at": now}
    return replace(order, state=OrderState.REJECTED, modified=now, **reviewed)  # type: ignore[arg-type]


def cancel(order: Order, now: datetime, message: str = "") -> Order:
    require(order, "cancel")
    return replace(order, state=OrderState.CANCELED, modified=now, error_message=message)


def withdraw(order: Order, now: datetime, message: str) -> Order:
    """An executing order its provider's people declined (a request-based offering's ticket was
    canceled: Waldur's resource_creation_canceled): canceled, with why."""
    if order.state is not OrderState.EXECUTING:
        raise Conflict(states_message({OrderState.EXECUTING}))
    return replace(order, state=OrderState.CANCELED, modified=now, error_message=message)


def set_executing(order: Order, now: datetime) -> Order:
    """The provider takes a pending order (an approval without a reviewer) or retries an erred one."""
    require(order, "set_state_executing")
    retry = order.state is OrderState.ERRED
    return replace(
        order,
        state=OrderState.EXECUTING,
        modified=now,
        error_message="" if retry else order.error_message,
        error_traceback="" if retry else order.error_traceback,
        executions=order.executions + 1 if retry else order.executions,
    )


def complete(order: Order, now: datetime) -> Order:
    require(order, "set_state_done")
    return replace(order, state=OrderState.DONE, modified=now, completed_at=now)


def fail(order: Order, now: datetime, message: str, traceback: str = "") -> Order:
    require(order, "set_state_erred")
    return replace(
        order, state=OrderState.ERRED, modified=now, error_message=message, error_traceback=traceback
    )


# --- creation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placing:
    """Who places an order and how it starts: its creator, whether their placing is the consumer's
    approval, and whether the offering's type waits for the provider's."""

    creator: Actor
    consumer_approved: bool
    provider_review: bool
    now: datetime


def create_order(
    placing: Placing,
    *,
    ids: tuple[str, str],
    project: Project,
    offering: Offering,
    plan: Plan | None,
    attributes: Mapping[str, Any],
    limits: Mapping[str, int],
    provider_name: str,
    resource_name: str,
) -> Order:
    """A Create order (`ids`: the order's and its new resource's), priced on the plan and carrying
    the names a page of orders shows, so it renders without reading its neighbours."""
    order_id, resource_id = ids
    now, approved = placing.now, placing.consumer_approved
    return Order(
        id=order_id,
        type=OrderType.CREATE,
        state=initial_state(approved, placing.provider_review),
        customer_id=project.customer_id,
        project_id=project.id,
        offering_id=offering.id,
        provider_id=offering.customer_id,
        resource_id=resource_id,
        created=now,
        modified=now,
        plan_id=plan.id if plan else None,
        attributes=dict(attributes),
        limits=dict(limits),
        created_by=placing.creator,
        consumer_reviewed_by=placing.creator if approved else None,
        consumer_reviewed_at=now if approved else None,
        cost=estimate_cost(plan, limits, offering.components, OrderType.CREATE),
        customer_name=project.customer_name,
        project_name=project.name,
        project_slug=project.slug,
        customer_slug=project.customer_slug,
        offering_name=offering.name,
        offering_type=offering.type,
        provider_name=provider_name,
        plan_name=plan.name if plan else "",
        resource_name=resource_name,
        offering_plugin_options=dict(offering.plugin_options),
    )


def check_limits(limits: Mapping[str, Any]) -> dict[str, int]:
    """Limits are whole, non-negative amounts per component type, at most Waldur's IntegerField's
    maximum (a larger one would only overflow the cost estimate and the invoice). Refused as
    Waldur's DictField of integers refuses them: by key, only the bad ones."""
    problems = {str(k): [p] for k, v in limits.items() if (p := _limit_problem(v))}
    if problems:
        raise ValidationError({"limits": problems})
    return dict(limits)


def _limit_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return INTEGER_REQUIRED
    if value < 0:
        return NOT_NEGATIVE
    return at_most(MAX_INTEGER) if value > MAX_INTEGER else None


def check_components(offering: Offering, limits: Mapping[str, int]) -> None:
    """Each limit names a component of the offering (what a provider reports of its backend)."""
    unknown = [name for name in limits if offering.component(name) is None]
    if unknown:
        raise ValidationError({"limits": [f"{n} is not a component of this offering." for n in unknown]})


def check_offering_plan(offering: Offering, plan: Plan | None) -> None:
    if plan is None:
        if any(not p.archived for p in offering.plans):
            raise ValidationError({"plan": [PLAN_REQUIRED]})
        return
    if plan.offering_id != offering.id or offering.plan(plan.id) is None:
        raise ValidationError({"plan": [PLAN_NOT_OF_OFFERING]})
    if plan.archived:
        raise ValidationError({"plan": [PLAN_ARCHIVED]})


def check_terms(offering: Offering, accepted: bool) -> None:
    if offering.terms_of_service and not accepted:
        raise ValidationError({"non_field_errors": [TERMS_NOT_ACCEPTED.format(offering.name)]})


def _component_prices(plan: Plan, components: Iterable[Component], kind: BillingType) -> Decimal:
    return sum(
        (Decimal(plan.prices.get(c.type, 0)) for c in components if c.billing_type is kind), Decimal(0)
    )


def init_price(plan: Plan, components: Iterable[Component]) -> Decimal:
    """What ordering a resource on the plan costs once (Waldur's `init_price`): its one-time
    components' prices."""
    return _component_prices(plan, components, BillingType.ONE)


def switch_price(plan: Plan, components: Iterable[Component]) -> Decimal:
    """What switching a resource to the plan costs once (Waldur's `switch_price`): its plan-switch
    components' prices."""
    return _component_prices(plan, components, BillingType.FEW)


def estimate_cost(
    plan: Plan | None,
    limits: Mapping[str, int],
    components: Iterable[Component] = (),
    order_type: OrderType = OrderType.CREATE,
) -> Decimal | None:
    """An order's cost (Waldur's `Order.init_cost`): the plan's price for one unit of its period
    plus each limit-based component's limit times its price (fixed and usage components are not
    counted), plus the one-time charge of a creation or the plan-switch charge of an update."""
    if plan is None:
        return None
    offered = tuple(components)
    limited = {c.type for c in offered if c.billing_type is BillingType.LIMIT}
    total = plan.unit_price + sum(
        (
            Decimal(plan.prices[name]) * amount
            for name, amount in limits.items()
            if name in limited and name in plan.prices
        ),
        Decimal("0"),
    )
    if order_type is OrderType.CREATE:
        total += init_price(plan, offered)
    elif order_type is OrderType.UPDATE:
        total += switch_price(plan, offered)
    return total.quantize(Decimal("0.01"), context=MONEY)
