"""`/api/component-user-usage-limits/`: per-user usage limits on resources' components. The consumer
side sets them (RESOURCE.CONSUMPTION_LIMITATION: the customer's owners, the project's managers,
staff); both sides read them (the provider's agent applies them in its backend). An empty list is
the answer where no limit is set."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import BaseModel, Field

from chalicelib.api.fields import ReferenceFilter, UuidFilter, changes, partial
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.marketplace_user_usages import OFFERING_USERS, resource_filter
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
from chalicelib.domain import user_usages as domain
from chalicelib.domain.user_usages import UserUsageLimit
from chalicelib.services import market_queries as lists
from chalicelib.services import user_limits as service

bp = Blueprint(__name__)
TAG = "component-user-usage-limits"
COLLECTION = "component-user-usage-limits"
BASE = f"/api/{COLLECTION}"
MODEL = domain.LIMIT_MODEL


class LimitIn(BodyModel):
    """Waldur's ComponentUserUsageLimitRequest (python-waldur-client sends `limit` as a number)."""

    resource: str = Field(min_length=1, max_length=2000)
    component: str = Field(min_length=1, max_length=2000)
    user: str = Field(min_length=1, max_length=2000)
    limit: Decimal | None = Field(None, ge=0, max_digits=20, decimal_places=2)


LimitPatch = partial(LimitIn, "LimitPatch", nullable=frozenset({"limit"}))


def limit_request(body: BaseModel) -> service.LimitRequest:
    """The fields a create, PUT or PATCH sent (a PATCH's absent ones stay None)."""
    sent = changes(body)
    limit = sent.get("limit")
    return service.LimitRequest(
        resource=sent.get("resource"),
        component=sent.get("component"),
        user=sent.get("user"),
        limit=limit.quantize(Decimal("0.01")) if limit is not None else None,
    )


class LimitOut(ResponseModel):
    """Waldur's ComponentUserUsageLimit."""

    url: str
    uuid: str
    resource: str
    component: str
    component_type: str
    user: str
    limit: str


class LimitQuery(ListQuery):
    resource: ReferenceFilter | None = None
    resource_uuid: UuidFilter | None = None
    offering_uuid: UuidFilter | None = None
    component_type: str | None = Field(None, max_length=255)
    username: str | None = Field(None, max_length=domain.USERNAME_LENGTH)

    ordering_fields = tuple(service.SORT)


def to_data(call: Call, limit: UserUsageLimit) -> dict[str, Any]:
    return {
        "url": call.url(COLLECTION, limit.id),
        "uuid": limit.id,
        "resource": call.url("marketplace-resources", limit.resource_id),
        "component": limit.component_id,
        "component_type": limit.component_type,
        "user": call.url(OFFERING_USERS, limit.offering_user_id),
        "limit": str(limit.limit),
    }


def one(call: Call, limit: UserUsageLimit) -> dict[str, Any]:
    return render(LimitOut, to_data(call, limit), getattr(call.query, "field", ()))


@endpoint(
    bp,
    BASE,
    "GET",
    name="component_user_usage_limits_list",
    tag=TAG,
    query=LimitQuery,
    response=LimitOut,
    many=True,
    summary="Per-user usage limits on the resources the caller sees from either side",
)
def list_limits(call: Call) -> Any:
    q: LimitQuery = call.query
    offering_id = uuid_filter("offering_uuid", q.offering_uuid)
    filters = service.LimitFilters(
        narrowing=lists.Narrowing(
            resource_id=resource_filter(q.resource, q.resource_uuid),
            offering_ids=(offering_id,) if offering_id else (),
        ),
        component_type=q.component_type,
        username=q.username,
    )
    page = service.list_limits(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, LimitOut, lambda limit: to_data(call, limit))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "GET",
    name="component_user_usage_limits_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=LimitOut,
)
def retrieve_limit(call: Call, uuid: str) -> Any:
    return one(call, service.get_visible(call.user, object_id(uuid, MODEL)))


@endpoint(
    bp,
    BASE,
    "POST",
    name="component_user_usage_limits_create",
    tag=TAG,
    body=LimitIn,
    response=LimitOut,
    status=201,
    summary="Limit what one offering user of a resource may use of a component",
)
def create_limit(call: Call) -> Any:
    body: LimitIn = call.body
    return Created(one(call, service.create_limit(call.ctx, limit_request(body))))


def _update(call: Call, uuid: str) -> Any:
    return one(call, service.update_limit(call.ctx, object_id(uuid, MODEL), limit_request(call.body)))


@endpoint(bp, f"{BASE}/{{uuid}}", "PUT", name="component_user_usage_limits_update", tag=TAG,
          body=LimitIn, response=LimitOut, summary="Change a per-user usage limit")  # fmt: skip
def update_limit(call: Call, uuid: str) -> Any:
    return _update(call, uuid)


@endpoint(bp, f"{BASE}/{{uuid}}", "PATCH", name="component_user_usage_limits_partial_update", tag=TAG,
          body=LimitPatch, response=LimitOut, summary="Change some fields of a limit")  # fmt: skip
def partial_update_limit(call: Call, uuid: str) -> Any:
    return _update(call, uuid)


@endpoint(bp, f"{BASE}/{{uuid}}", "DELETE", name="component_user_usage_limits_destroy", tag=TAG,
          status=204, summary="Remove a per-user usage limit")  # fmt: skip
def delete_limit(call: Call, uuid: str) -> Any:
    service.delete_limit(call.ctx, object_id(uuid, MODEL))
    return NoContent()
