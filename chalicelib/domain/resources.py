"""Marketplace resources: what a project holds from an offering, made, changed and ended by orders.

A resource is created with its Create order (`Creating`) and counted at once in its project's and
customer's `nc_resource_count`. While an Update or Terminate order executes it is `Updating` or
`Terminating`; when the order ends it takes the state of the tables in `domain/vocabulary.py`
(done: OK / Terminated; failed: Erred; refused: as it was, or Terminated if it was never made). A
Terminated resource no longer counts. One order at a time: an action while another order of the
resource is open is Waldur's 400.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.events import Event, make_event
from chalicelib.domain.orders import Order, Placing, estimate_cost, initial_state, states_message
from chalicelib.domain.vocabulary import (
    RESOURCE_AFTER_DONE,
    RESOURCE_AFTER_FAILED,
    RESOURCE_AFTER_REFUSED,
    RESOURCE_DURING,
    RESOURCE_ORDER_ACTIONS,
    Component,
    Offering,
    OrderType,
    Plan,
    ResourceState,
)

MODEL = "Resource"
ORDER_IN_PROGRESS = "Pending order for resource already exists."

CREATE_REQUESTED = "marketplace_resource_create_requested"
CREATE_SUCCEEDED = "marketplace_resource_create_succeeded"
CREATE_FAILED = "marketplace_resource_create_failed"
CREATE_CANCELED = "marketplace_resource_create_canceled"
UPDATE_REQUESTED = "marketplace_resource_update_requested"
UPDATE_SUCCEEDED = "marketplace_resource_update_succeeded"
UPDATE_FAILED = "marketplace_resource_update_failed"
UPDATE_CANCELED = "marketplace_resource_update_canceled"
TERMINATE_REQUESTED = "marketplace_resource_terminate_requested"
TERMINATE_SUCCEEDED = "marketplace_resource_terminate_succeeded"
TERMINATE_FAILED = "marketplace_resource_terminate_failed"
TERMINATE_CANCELED = "marketplace_resource_terminate_canceled"
LIMITS_SUCCEEDED = "marketplace_resource_update_limits_succeeded"
LIMITS_FAILED = "marketplace_resource_update_limits_failed"
ERRED_ON_BACKEND = "marketplace_resource_erred_on_backend"
END_DATE_UPDATED = "marketplace_resource_update_end_date_succeeded"
# Waldur's structure event for a resource imported from its provider (`import_resource/`).
IMPORT_SUCCEEDED = "resource_import_succeeded"
# Waldur (2024) logs a rename as `marketplace_resource_has_been_changed`, a type its current schema
# (waldur-api-client 8.1.3's EventTypesEnum) no longer knows: a client reading the event or a hook
# on it would fail to parse, so Cirrus logs the resource's update event instead.
CHANGED = UPDATE_SUCCEEDED

RESOURCE_EVENT_TYPES: tuple[str, ...] = (
    CREATE_REQUESTED,
    CREATE_SUCCEEDED,
    CREATE_FAILED,
    CREATE_CANCELED,
    UPDATE_REQUESTED,
    UPDATE_SUCCEEDED,
    UPDATE_FAILED,
    UPDATE_CANCELED,
    TERMINATE_REQUESTED,
    TERMINATE_SUCCEEDED,
    TERMINATE_FAILED,
    TERMINATE_CANCELED,
    LIMITS_SUCCEEDED,
    LIMITS_FAILED,
    ERRED_ON_BACKEND,
    END_DATE_UPDATED,
    IMPORT_SUCCEEDED,
)
# Waldur's templates.
_MESSAGES = {
    CREATE_REQUESTED: "Resource {} creation has been requested.",
    CREATE_SUCCEEDED: "Resource {} has been created.",
    CREATE_FAILED: "Resource {} creation has failed.",
    CREATE_CANCELED: "Resource {} creation has been canceled.",
    UPDATE_REQUESTED: "Resource {} update has been requested.",
    UPDATE_SUCCEEDED: "Resource {} has been updated.",
    UPDATE_FAILED: "Resource {} update has failed.",
    UPDATE_CANCELED: "Resource {} update has canceled.",
    TERMINATE_REQUESTED: "Resource {} deletion has been requested.",
    TERMINATE_SUCCEEDED: "Resource {} has been deleted.",
    TERMINATE_FAILED: "Resource {} deletion has failed.",
    TERMINATE_CANCELED: "Resource {} terminate has canceled.",
    LIMITS_SUCCEEDED: "Limits of resource {} have been updated.",
    LIMITS_FAILED: "Updating limits of resource {} has failed.",
    ERRED_ON_BACKEND: "Resource {} got error on backend.",
    IMPORT_SUCCEEDED: "Resource {} has been imported.",
}


@dataclass(frozen=True)
class Resource:
    id: str
    name: str
    state: ResourceState
    customer_id: str
    project_id: str
    offering_id: str
    provider_id: str
    created: datetime
    modified: datetime
    plan_id: str | None = None
    description: str = ""
    limits: Mapping[str, int] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    backend_id: str = ""
    backend_metadata: Mapping[str, Any] = field(default_factory=dict)
    current_usages: Mapping[str, Any] = field(default_factory=dict)
    report: Sequence[Mapping[str, str]] = ()
    error_message: str = ""
    error_traceback: str = ""
    end_date: date | None = None
    order_in_progress_id: str | None = None
    creation_order_id: str | None = None
    customer_name: str = ""
    project_name: str = ""
    offering_name: str = ""
    offering_type: str = ""
    provider_name: str = ""
    plan_name: str = ""
    offering_plugin_options: Mapping[str, Any] = field(default_factory=dict)
    version: int = 0
    # Unique among resources, kept on rename (domain/slugs.py); the project's and customer's as
    # they were when it was ordered. "" on a resource made before slugs, until the ops backfill.
    slug: str = ""
    project_slug: str = ""
    customer_slug: str = ""
    # When the provider's agent last reconciled the resource with its backend (refresh_last_sync/).
    last_sync: datetime | None = None

    @property
    def counted(self) -> bool:
        """Whether it uses a unit of nc_resource_count (every resource until it is Terminated)."""
        return self.state is not ResourceState.TERMINATED

    def event_fields(self) -> dict[str, str]:
        return {
            "resource_uuid": self.id,
            "resource_name": self.name,
            "resource_type": self.offering_type,
            "offering_uuid": self.offering_id,
            "offering_name": self.offering_name,
            "project_uuid": self.project_id,
            "project_name": self.project_name,
            "customer_uuid": self.customer_id,
            "customer_name": self.customer_name,
        }


def event(resource: Resource, event_type: str, ctx: EventContext) -> Event:
    message = _MESSAGES[event_type].format(resource.name)
    return make_event(event_type, message, ctx, resource.event_fields(), resource.customer_id)


# --- changes the consumer (or provider, or staff) makes without an order ----------------------------
# Waldur's words (ResourceUpdateSerializer, ResourceEndDateByProviderSerializer, ResourceOptions...).
END_DATE_IN_PAST = "Cannot be earlier than the current date."
END_DATE_TOO_SOON = "Please set at least 7 days in advance."
PROVIDER_NOTICE_DAYS = 7
FIELD_NOT_ALLOWED = "Update of this field is not allowed."
NO_OPTIONS = "Metadata for resource options is not defined."
SLUG_IN_USE = "Resource slug cannot be changed once its creation order is executing."
_END_DATE_BY = {"consumer": "", "provider": " by provider", "staff": " by staff"}


def check_end_date(end_date: date | None, today: date, by: str = "consumer") -> None:
    """An end date (None clears it): the consumer's not in the past; the provider's and staff's
    at least a week ahead, so the consumer hears of it in time."""
    if end_date is None:
        return
    if by == "consumer" and end_date < today:
        raise ValidationError.field("end_date", END_DATE_IN_PAST)
    if by != "consumer" and (end_date - today).days < PROVIDER_NOTICE_DAYS:
        raise ValidationError.field("end_date", END_DATE_TOO_SOON)


def end_date_event(resource: Resource, ctx: EventContext, by: str = "consumer") -> Event:
    """Waldur's `log_marketplace_resource_end_date_has_been_updated` (and its provider/staff forms)."""
    user = ctx.principal.username if ctx.principal else ""
    message = (
        f"End date of marketplace resource {resource.name} has been updated{_END_DATE_BY[by]}."
        f" End date: {resource.end_date}. User: {user}."
    )
    return make_event(END_DATE_UPDATED, message, ctx, resource.event_fields(), resource.customer_id)


def changed_event(before: Resource, after: Resource, ctx: EventContext) -> Event | None:
    """A `marketplace_resource_update_succeeded` for a new name or description (None if
    neither changed)."""
    changed = [f for f in ("name", "description") if getattr(before, f) != getattr(after, f)]
    if not changed:
        return None
    parts = [f"'{f}': from {getattr(before, f)} to {getattr(after, f)}" for f in changed]
    message = f"Marketplace resource '{after.name}' has been changed. Field " + ", field ".join(parts) + "."
    return make_event(CHANGED, message, ctx, after.event_fields(), after.customer_id)


def slug_settable_by_holder(resource: Resource) -> bool:
    """Whether a RESOURCE.SET_SLUG holder who is not staff may still change the slug: only before
    the provider started making it (no backend id, still Creating; the service also checks that
    its creation order is not executing yet)."""
    return resource.state is ResourceState.CREATING and not resource.backend_id


# --- made by orders ---------------------------------------------------------------------------------
def made_by(order: Order, slug: str = "") -> Resource:
    """The resource a Create order makes at once: `Creating`, with the order's plan, limits,
    attributes and names (its description is the attributes' `description`)."""
    return Resource(
        slug=slug,
        project_slug=order.project_slug,
        customer_slug=order.customer_slug,
        id=order.resource_id,
        name=order.resource_name,
        state=ResourceState.CREATING,
        customer_id=order.customer_id,
        project_id=order.project_id,
        offering_id=order.offering_id,
        provider_id=order.provider_id,
        created=order.created,
        modified=order.created,
        plan_id=order.plan_id,
        description=str(order.attributes.get("description") or ""),
        limits=dict(order.limits),
        attributes=dict(order.attributes),
        order_in_progress_id=order.id,
        creation_order_id=order.id,
        customer_name=order.customer_name,
        project_name=order.project_name,
        offering_name=order.offering_name,
        offering_type=order.offering_type,
        provider_name=order.provider_name,
        plan_name=order.plan_name,
        offering_plugin_options=order.offering_plugin_options,
    )


def change_order(
    resource: Resource,
    order_type: OrderType,
    placing: Placing,
    *,
    order_id: str,
    plan: Plan | None = None,
    limits: Mapping[str, int] | None = None,
    attributes: Mapping[str, Any] | None = None,
    components: Sequence[Component] = (),
) -> Order:
    """An Update or Terminate order of `resource`: a new plan or new limits (else the resource's),
    priced when it names a plan (with the offering's `components`: a switch adds its charge)."""
    now, approved = placing.now, placing.consumer_approved
    new_limits = dict(limits) if limits is not None else dict(resource.limits)
    return Order(
        id=order_id,
        type=order_type,
        state=initial_state(approved, placing.provider_review),
        customer_id=resource.customer_id,
        project_id=resource.project_id,
        offering_id=resource.offering_id,
        provider_id=resource.provider_id,
        resource_id=resource.id,
        created=now,
        modified=now,
        plan_id=plan.id if plan else resource.plan_id,
        old_plan_id=resource.plan_id,
        attributes=dict(attributes or {}),
        limits=new_limits,
        old_limits=dict(resource.limits),
        created_by=placing.creator,
        consumer_reviewed_by=placing.creator if approved else None,
        consumer_reviewed_at=now if approved else None,
        cost=estimate_cost(plan, new_limits, components, order_type) if plan else None,
        customer_name=resource.customer_name,
        project_name=resource.project_name,
        project_slug=resource.project_slug,
        customer_slug=resource.customer_slug,
        offering_name=resource.offering_name,
        offering_type=resource.offering_type,
        provider_name=resource.provider_name,
        plan_name=plan.name if plan else resource.plan_name,
        resource_name=resource.name,
        offering_plugin_options=dict(resource.offering_plugin_options),
    )


# --- which event each order outcome writes --------------------------------------------------------
def _is_limits_change(order: Order) -> bool:
    return order.type is OrderType.UPDATE and order.plan_id == order.old_plan_id


def requested_event(order: Order) -> str:
    return {
        OrderType.CREATE: CREATE_REQUESTED,
        OrderType.UPDATE: UPDATE_REQUESTED,
        OrderType.TERMINATE: TERMINATE_REQUESTED,
    }[order.type]


def succeeded_event(order: Order) -> str:
    if _is_limits_change(order):
        return LIMITS_SUCCEEDED
    return {
        OrderType.CREATE: CREATE_SUCCEEDED,
        OrderType.UPDATE: UPDATE_SUCCEEDED,
        OrderType.TERMINATE: TERMINATE_SUCCEEDED,
    }[order.type]


def failed_event(order: Order) -> str:
    if _is_limits_change(order):
        return LIMITS_FAILED
    return {
        OrderType.CREATE: CREATE_FAILED,
        OrderType.UPDATE: UPDATE_FAILED,
        OrderType.TERMINATE: TERMINATE_FAILED,
    }[order.type]


def canceled_event(order: Order) -> str:
    return {
        OrderType.CREATE: CREATE_CANCELED,
        OrderType.UPDATE: UPDATE_CANCELED,
        OrderType.TERMINATE: TERMINATE_CANCELED,
    }[order.type]


# --- rules -----------------------------------------------------------------------------------------
def require_action(resource: Resource, action: str) -> None:
    """An order-making action (terminate, update_limits, switch_plan) from its states only, and
    never while another order of the resource is open."""
    allowed = RESOURCE_ORDER_ACTIONS[action]
    if resource.state not in allowed:
        raise Conflict(states_message(allowed))
    if resource.order_in_progress_id:
        raise ValidationError([ORDER_IN_PROGRESS])


def order_opened(resource: Resource, order: Order, now: datetime) -> Resource:
    """An Update or Terminate order was placed: the resource knows it, nothing else changes yet."""
    return replace(resource, order_in_progress_id=order.id, modified=now)


def order_executing(resource: Resource, order: Order, now: datetime) -> Resource:
    return replace(resource, state=RESOURCE_DURING[order.type], modified=now)


def order_done(resource: Resource, order: Order, now: datetime) -> Resource:
    changes: dict[str, Any] = {}
    if order.type is OrderType.UPDATE:
        changes = {"limits": dict(order.limits), "plan_id": order.plan_id, "plan_name": order.plan_name}
    if order.type is OrderType.TERMINATE:
        changes["end_date"] = now.date()
    return replace(
        resource,
        state=RESOURCE_AFTER_DONE[order.type],
        order_in_progress_id=None,
        error_message="",
        error_traceback="",
        modified=now,
        **changes,
    )


def order_failed(resource: Resource, order: Order, now: datetime) -> Resource:
    return replace(
        resource,
        state=RESOURCE_AFTER_FAILED[order.type],
        order_in_progress_id=None,
        error_message=order.error_message,
        error_traceback=order.error_traceback,
        modified=now,
    )


def order_refused(resource: Resource, order: Order, now: datetime) -> Resource:
    """Rejected or canceled (only ever while pending, before the resource changed): one never made
    is Terminated; an existing one keeps the state it had (OK, or Erred for a refused termination of
    an erred resource)."""
    state = RESOURCE_AFTER_REFUSED[order.type] if order.type is OrderType.CREATE else resource.state
    return replace(resource, state=state, order_in_progress_id=None, modified=now)


def order_retried(resource: Resource, order: Order, now: datetime) -> Resource:
    """An erred order executes again: the resource is back in the order's working state."""
    return replace(
        resource,
        state=RESOURCE_DURING[order.type],
        order_in_progress_id=order.id,
        error_message="",
        error_traceback="",
        modified=now,
    )


def check_report(report: Any) -> list[dict[str, str]]:
    """`submit_report`: a list of sections, each `{"header": str, "body": str}`."""
    sections = report if isinstance(report, list) else None
    if not sections or not all(
        isinstance(s, Mapping)
        and set(s) <= {"header", "body"}
        and all(isinstance(v, str) for v in s.values())
        for s in sections
    ):
        raise ValidationError({"report": ["Report must be a non-empty list of {header, body} sections."]})
    return [{"header": str(s.get("header", "")), "body": str(s.get("body", ""))} for s in sections]


@dataclass(frozen=True)
class ComponentTotal:
    """One component of one offering, summed over some resources of it (Waldur's aggregate limits):
    the usage and limits of those in use, the usage and limits of the terminated ones."""

    offering_id: str
    offering_name: str
    component: Component
    usage: float
    limit: float
    usage_terminated: float
    limit_terminated: float


def _sums(resources: Sequence[Resource], component_type: str) -> tuple[float, float]:
    usage = sum(float(r.current_usages.get(component_type) or 0) for r in resources)
    limit = sum(float(r.limits.get(component_type) or 0) for r in resources)
    return usage, limit


def component_totals(resources: Sequence[Resource], offerings: Sequence[Offering]) -> list[ComponentTotal]:
    """Waldur's `components` of `stats/`: a row per component of each offering the resources are of,
    in the order of `offerings`, with the sums of the resources' current usages and limits (0: no
    limit set, which HomePort shows as usage alone), those still in use apart from the terminated."""
    rows: list[ComponentTotal] = []
    for offering in offerings:
        mine = [r for r in resources if r.offering_id == offering.id]
        if not mine:
            continue
        live = [r for r in mine if r.counted]
        gone = [r for r in mine if not r.counted]
        for c in offering.components:
            usage, limit = _sums(live, c.type)
            usage_gone, limit_gone = _sums(gone, c.type)
            rows.append(ComponentTotal(offering.id, offering.name, c, usage, limit, usage_gone, limit_gone))
    return rows
