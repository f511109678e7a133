"""`/api/marketplace-orders/`: Waldur's orders. POST places a Create order (201 with the order,
`marketplace_resource_uuid` set at once; an `Idempotency-Key` header makes a retry answer with the
first order); DELETE removes a pending one; actions approve, reject, cancel (202) and the
provider's `set_state_*`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, field_validator

from chalicelib.api.fields import (
    Amounts,
    Attributes,
    DateTimeFilter,
    UuidFilter,
    each_of,
    one_of,
    stored_text,
)
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import bounds
from chalicelib.domain import orders as domain
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import parse_id
from chalicelib.domain.orders import Actor, Order
from chalicelib.domain.vocabulary import ORDER_TRANSITIONS, OrderState, OrderType
from chalicelib.services import market_queries as lists
from chalicelib.services import orders as service

bp = Blueprint(__name__)
TAG = "marketplace-orders"
COLLECTION = "marketplace-orders"
BASE = f"/api/{COLLECTION}"
MODEL = domain.MODEL

_STATES = frozenset(s.value for s in OrderState)
_TYPES = frozenset(t.value for t in OrderType)
_PLACED = frozenset({OrderType.CREATE.value})  # the types POST /api/marketplace-orders/ places


class OrderIn(BodyModel):
    project: str = Field(min_length=1, max_length=2000)
    offering: str = Field(min_length=1, max_length=2000)
    plan: str | None = Field(None, max_length=2000)
    attributes: Attributes = Field(default_factory=dict)
    limits: Amounts = Field(default_factory=dict)
    # Only creations are placed here (the others are the resource's actions): the schema lists that.
    type: str = Field(OrderType.CREATE.value, json_schema_extra=one_of(_PLACED))
    accepting_terms_of_service: bool = False
    # Both accepted, neither stored (Cirrus has web hooks for callbacks).
    callback_url: str | None = Field(None, max_length=2000)
    request_comment: str | None = Field(None, max_length=2000)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in _TYPES:
            raise ValueError(f'"{value}" is not a valid choice.')
        if value not in _PLACED:
            raise ValueError(service.ONLY_CREATE)
        return value


class ErredIn(BodyModel):
    error_message: stored_text(10_000, bounds.ERROR_MESSAGE_BYTES) = ""  # type: ignore[valid-type]
    error_traceback: stored_text(100_000, bounds.ERROR_TRACEBACK_BYTES) = ""  # type: ignore[valid-type]


class DetailOut(ResponseModel):
    detail: str


class OrderOut(ResponseModel):
    """Waldur's OrderDetails (what Cirrus knows of it)."""

    omit_when_null = frozenset({"customer_slug", "error_traceback", "plan", "project_slug"})

    url: str
    uuid: str
    created: datetime
    modified: datetime
    type: str
    state: str
    offering: str
    offering_uuid: str
    offering_name: str
    offering_type: str
    offering_plugin_options: dict[str, Any]
    provider_uuid: str
    provider_name: str
    plan: str | None = None
    plan_uuid: str | None = None
    plan_name: str | None = None
    plan_unit: str | None = None
    new_plan_name: str | None = None  # the order's plan (Waldur: `plan.name`, whatever the type)
    attributes: dict[str, Any]
    limits: dict[str, int]
    old_plan_uuid: str | None = None
    new_plan_uuid: str | None = None
    resource_uuid: str | None = None
    resource_type: str | None = None
    marketplace_resource_uuid: str
    resource_name: str
    cost: str | None = None
    error_message: str
    backend_id: str
    error_traceback: str | None = None  # staff and support only (Waldur conceals it from the rest)
    callback_url: str | None = None
    completed_at: datetime | None = None
    consumer_reviewed_by: str | None = None
    consumer_reviewed_by_username: str | None = None
    consumer_reviewed_by_full_name: str | None = None
    consumer_reviewed_at: datetime | None = None
    provider_reviewed_by: str | None = None
    provider_reviewed_by_username: str | None = None
    provider_reviewed_by_full_name: str | None = None
    provider_reviewed_at: datetime | None = None
    created_by_username: str
    created_by_full_name: str
    created_by_email: str | None = None
    customer_uuid: str
    customer_name: str
    project_uuid: str
    project_name: str
    can_terminate: bool
    # The site agent names SLURM accounts after them (absent on orders made before slugs).
    project_slug: str | None = None
    customer_slug: str | None = None


class OrderQuery(ListQuery):
    state: list[str] = Field([], json_schema_extra=each_of(_STATES))
    type: list[str] = Field([], json_schema_extra=each_of(_TYPES))
    project_uuid: UuidFilter | None = None
    customer_uuid: UuidFilter | None = None
    offering_uuid: UuidFilter | None = None
    provider_uuid: UuidFilter | None = None
    resource_uuid: UuidFilter | None = None
    offering_type: list[str] = []
    resource_name: str | None = None
    can_approve_as_consumer: bool | None = None
    can_approve_as_provider: bool | None = None
    modified: DateTimeFilter | None = None  # Waldur's "Modified after" (at or after)
    modified_after: DateTimeFilter | None = None  # the same, by the name the issue gives it
    modified_before: DateTimeFilter | None = None

    ordering_fields = tuple(lists.ORDER_SORT)

    def modified_window(self) -> tuple[datetime | None, datetime | None]:
        """(at or after, strictly before), naive times read as UTC (Waldur's TIME_ZONE)."""
        after = [aware(t) for t in (self.modified, self.modified_after) if t is not None]
        before = aware(self.modified_before) if self.modified_before is not None else None
        return (max(after) if after else None), before

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        return _choices(values, _STATES)

    @field_validator("type")
    @classmethod
    def _known_types(cls, values: list[str]) -> list[str]:
        return _choices(values, _TYPES)


def _choices(values: list[str], known: frozenset[str]) -> list[str]:
    for value in values:
        if value not in known:
            raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
    return values


def aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def uuid_filter(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    parsed = parse_id(value)
    if parsed is None:
        raise ValidationError.field(name, "Enter a valid UUID.")
    return parsed


def offering_url(call: Call, offering_id: str) -> str:
    return call.url("marketplace-public-offerings", offering_id)


def plan_url(call: Call, offering_id: str, plan_id: str) -> str:
    return f"{offering_url(call, offering_id)}plans/{plan_id}/"


def _reviewer(prefix: str, actor: Actor | None, when: datetime | None) -> dict[str, Any]:
    if actor is None:
        return {}
    return {
        f"{prefix}_by": actor.username,
        f"{prefix}_by_username": actor.username,
        f"{prefix}_by_full_name": actor.full_name,
        f"{prefix}_at": when,
    }


def to_data(call: Call, order: Order) -> dict[str, Any]:
    creator = order.created_by or Actor("")
    data: dict[str, Any] = {
        "url": call.url(COLLECTION, order.id),
        "uuid": order.id,
        "created": order.created,
        "modified": order.modified,
        "type": order.type.value,
        "state": order.state.value,
        "offering": offering_url(call, order.offering_id),
        "offering_uuid": order.offering_id,
        "offering_name": order.offering_name,
        "offering_type": order.offering_type,
        "offering_plugin_options": dict(order.offering_plugin_options),
        "provider_uuid": order.provider_id,
        "provider_name": order.provider_name,
        "attributes": dict(order.attributes),
        "limits": dict(order.limits),
        "resource_uuid": None,
        "resource_type": None,
        "marketplace_resource_uuid": order.resource_id,
        "resource_name": order.resource_name,
        "cost": f"{order.cost:.2f}" if order.cost is not None else None,
        "error_message": order.error_message,
        "backend_id": order.backend_id,
        "error_traceback": order.error_traceback if call.user.reads_everything else None,
        "callback_url": None,
        "completed_at": order.completed_at,
        "created_by_username": creator.username,
        "created_by_full_name": creator.full_name,
        "created_by_email": creator.email or None,
        "customer_uuid": order.customer_id,
        "customer_name": order.customer_name,
        "project_uuid": order.project_id,
        "project_name": order.project_name,
        "project_slug": order.project_slug or None,
        "customer_slug": order.customer_slug or None,
        "can_terminate": order.state in ORDER_TRANSITIONS["cancel"],
    }
    if order.plan_id:
        data.update(
            plan=plan_url(call, order.offering_id, order.plan_id),
            plan_uuid=order.plan_id,
            plan_name=order.plan_name,
            new_plan_name=order.plan_name,
        )
    if order.type is OrderType.UPDATE and order.plan_id != order.old_plan_id:
        data.update(old_plan_uuid=order.old_plan_id, new_plan_uuid=order.plan_id)
    data.update(_reviewer("consumer_reviewed", order.consumer_reviewed_by, order.consumer_reviewed_at))
    data.update(_reviewer("provider_reviewed", order.provider_reviewed_by, order.provider_reviewed_at))
    return data


def one(call: Call, order: Order) -> dict[str, Any]:
    return render(OrderOut, to_data(call, order), getattr(call.query, "field", ()))


# --- endpoints ----------------------------------------------------------------------------------------
@endpoint(
    bp,
    BASE,
    "GET",
    name="marketplace_orders_list",
    tag=TAG,
    query=OrderQuery,
    response=OrderOut,
    many=True,
    summary="Orders the caller sees, as consumer or as provider",
)
def list_orders(call: Call) -> Any:
    q: OrderQuery = call.query
    narrowing = lists.Narrowing(
        customer_id=uuid_filter("customer_uuid", q.customer_uuid),
        project_id=uuid_filter("project_uuid", q.project_uuid),
        resource_id=uuid_filter("resource_uuid", q.resource_uuid),
        provider_id=uuid_filter("provider_uuid", q.provider_uuid),
        offering_ids=tuple(o for o in [uuid_filter("offering_uuid", q.offering_uuid)] if o),
    )
    filters = lists.OrderFilters(
        narrowing=narrowing,
        states=tuple(q.state),
        types=tuple(q.type),
        offering_types=tuple(q.offering_type),
        resource_name=q.resource_name,
        can_approve_as_consumer=q.can_approve_as_consumer,
        can_approve_as_provider=q.can_approve_as_provider,
        modified_after=q.modified_window()[0],
        modified_before=q.modified_window()[1],
    )
    page = lists.list_orders(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, OrderOut, lambda o: to_data(call, o))


class OfferingOrderQuery(ListQuery):
    state: list[str] = Field([], json_schema_extra=each_of(_STATES))
    type: list[str] = Field([], json_schema_extra=each_of(_TYPES))

    ordering_fields = tuple(lists.ORDER_SORT)

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        return _choices(values, _STATES)

    @field_validator("type")
    @classmethod
    def _known_types(cls, values: list[str]) -> list[str]:
        return _choices(values, _TYPES)


@endpoint(
    bp,
    "/api/marketplace-provider-offerings/{uuid}/orders",
    "GET",
    name="marketplace_provider_offerings_orders_list",
    tag=TAG,
    query=OfferingOrderQuery,
    response=OrderOut,
    many=True,
    summary="The orders of one offering, for its provider (python-waldur-client's provider order list)",
)
def list_offering_orders(call: Call, uuid: str) -> Any:
    from chalicelib.services import offerings

    q: OfferingOrderQuery = call.query
    offering = offerings.get_visible(call.user, object_id(uuid, "Offering"))
    narrowing = lists.Narrowing(provider_id=offering.customer_id, offering_ids=(offering.id,))
    filters = lists.OrderFilters(narrowing=narrowing, states=tuple(q.state), types=tuple(q.type))
    page = lists.list_orders(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, OrderOut, lambda o: to_data(call, o))


@endpoint(
    bp,
    BASE,
    "POST",
    name="marketplace_orders_create",
    tag=TAG,
    body=OrderIn,
    response=OrderOut,
    status=201,
    retry_key=True,
    summary="Order a resource from an offering (a Create order)",
)
def create_order(call: Call) -> Any:
    body: OrderIn = call.body
    request = service.OrderRequest(
        project=body.project,
        offering=body.offering,
        plan=body.plan,
        attributes=body.attributes,
        limits=body.limits,
        type=body.type,
        accepting_terms_of_service=body.accepting_terms_of_service,
    )
    return Created(one(call, service.create_order(call.ctx, request)))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "GET",
    name="marketplace_orders_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=OrderOut,
)
def retrieve_order(call: Call, uuid: str) -> Any:
    return one(call, service.get_visible(call.user, object_id(uuid, MODEL)))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "DELETE",
    name="marketplace_orders_destroy",
    tag=TAG,
    status=204,
    summary="Delete a pending order",
)
def delete_order(call: Call, uuid: str) -> Any:
    service.delete_order(call.ctx, object_id(uuid, MODEL))
    return NoContent()


def _action(name: str, summary: str, message: str, status: int = 200) -> None:
    command = getattr(service, name if name != "cancel" else "cancel_order")

    @endpoint(
        bp,
        f"{BASE}/{{uuid}}/{name}",
        "POST",
        name=f"marketplace_orders_{name}",
        tag=TAG,
        response=DetailOut,
        status=status,
        summary=summary,
    )
    def act(call: Call, uuid: str) -> Any:
        command(call.ctx, object_id(uuid, MODEL))
        return {"detail": message}


_action("approve_by_consumer", "The consumer approves a pending order", "Order has been approved.")
_action("approve_by_provider", "The provider approves a pending order", "Order has been approved.")
_action("reject_by_consumer", "The consumer rejects a pending order", "Order has been rejected.")
_action("reject_by_provider", "The provider rejects a pending order", "Order has been rejected.")
_action("cancel", "Cancel a pending order", "Order has been canceled.", status=202)
_action("set_state_executing", "The provider starts (or retries) the order", "Order state has been changed.")
_action("set_state_done", "The provider reports the order done", "Order has been marked as done.")


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/set_state_erred",
    "POST",
    name="marketplace_orders_set_state_erred",
    tag=TAG,
    body=ErredIn,
    response=DetailOut,
    summary="The provider reports the order failed",
)
def set_state_erred(call: Call, uuid: str) -> Any:
    body: ErredIn = call.body
    service.set_state_erred(call.ctx, object_id(uuid, MODEL), body.error_message, body.error_traceback)
    return {"detail": "Order has been marked as erred."}


class BackendIdIn(BodyModel):
    """Waldur's OrderBackendIDRequest."""

    backend_id: str = Field(max_length=255)  # as the resource's (Waldur's CharField)


class StatusOut(ResponseModel):
    status: str


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/set_backend_id",
    "POST",
    name="marketplace_orders_set_backend_id",
    tag=TAG,
    body=BackendIdIn,
    response=StatusOut,
    summary="The provider records its own id for the order",
)
def set_backend_id(call: Call, uuid: str) -> Any:
    body: BackendIdIn = call.body
    changed = service.set_backend_id(call.ctx, object_id(uuid, MODEL), body.backend_id)
    return {"status": "Order backend_id has been changed." if changed else "Order backend_id is not changed."}


@endpoint(
    bp,
    "/api/marketplace-provider-offerings/{uuid}/orders/{order_uuid}",
    "GET",
    name="marketplace_provider_offerings_orders_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=OrderOut,
    summary="One order of an offering, for its provider (python-waldur-client's provider order detail)",
)
def retrieve_offering_order(call: Call, uuid: str, order_uuid: str) -> Any:
    offering_id = object_id(uuid, "Offering")
    return one(call, service.get_offering_order(call.user, offering_id, object_id(order_uuid, MODEL)))
