"""`/api/marketplace-component-user-usages/`: users' shares of component usages, read from either
side of their resource; a component usage's `set_user_usage/` (one user) and `set_user_usages/`
(several, all or none) are the provider's reports (201, empty body, as Waldur's). The shares are
informational: the component usage's total (`set_usage/`) is what billing reads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.fields import DateFilter, IsoDateTime, ReferenceFilter, UuidFilter, name_text
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.marketplace_usages import COLLECTION as USAGES
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Empty,
    FieldsQuery,
    ListQuery,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import user_usages as domain
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import id_from_url
from chalicelib.domain.usages import MODEL as USAGE_MODEL
from chalicelib.domain.user_usages import ComponentUserUsage, UserUsageReport
from chalicelib.services import market_queries as lists
from chalicelib.services import user_usages as service

bp = Blueprint(__name__)
TAG = "marketplace-component-user-usages"
COLLECTION = "marketplace-component-user-usages"
BASE = f"/api/{COLLECTION}"
OFFERING_USERS = "marketplace-offering-users"
MODEL = domain.MODEL
INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."
Day = date  # `date` is also a field name below
MAX_USERS = 100  # one report is one transaction (DynamoDB writes at most 100 items in one)


class UserUsageIn(BodyModel):
    """Waldur's ComponentUserUsageCreateRequest."""

    username: name_text(domain.USERNAME_LENGTH)  # type: ignore[valid-type]
    usage: Decimal = Field(Decimal("0"), ge=0, max_digits=20, decimal_places=2)
    user: str | None = Field(None, max_length=2000)  # an offering user's URL (or uuid)
    date: IsoDateTime | None = None  # accepted; the component usage fixes the period

    def report(self) -> UserUsageReport:
        offering_user = None
        if self.user:
            offering_user = id_from_url(self.user)
            if offering_user is None:
                raise ValidationError.field("user", INVALID_HYPERLINK)
        # DRF's DecimalField keeps two places (`10` is stored as `10.00`).
        return UserUsageReport(self.username, self.usage.quantize(Decimal("0.01")), offering_user)


class UserUsagesIn(BodyModel):
    """Waldur's ComponentUserUsageBulkCreateRequest."""

    usages: list[UserUsageIn] = Field(max_length=MAX_USERS)


class UserUsageOut(ResponseModel):
    """Waldur's ComponentUserUsage."""

    omit_when_null = frozenset({"user"})

    uuid: str
    user: str | None = None
    username: str
    component_usage: str
    usage: str
    measured_unit: str
    description: str
    created: datetime
    modified: datetime
    backend_id: str
    resource_name: str
    resource_uuid: str
    offering_name: str
    offering_uuid: str
    project_name: str
    project_uuid: str
    customer_name: str
    customer_uuid: str
    component_type: str
    date: datetime
    billing_period: Day


class UserUsageQuery(ListQuery):
    resource_uuid: UuidFilter | None = None
    resource: ReferenceFilter | None = None
    offering_uuid: UuidFilter | None = None
    project_uuid: UuidFilter | None = None
    customer_uuid: UuidFilter | None = None
    type: str | None = Field(None, max_length=255)
    component_usage__billing_period: DateFilter | None = None
    billing_period_year: int | None = Field(None, ge=1, le=9999)
    billing_period_month: int | None = Field(None, ge=1, le=12)
    date_after: DateFilter | None = None
    date_before: DateFilter | None = None
    username: str | None = Field(None, max_length=domain.USERNAME_LENGTH)

    ordering_fields = tuple(service.SORT)


def resource_filter(resource: str | None, resource_uuid: str | None) -> str | None:
    """`resource` (a URL, or a uuid) else `resource_uuid`; a malformed one is a 400."""
    if resource is not None:
        return id_from_url(resource) or uuid_filter("resource", resource)
    return uuid_filter("resource_uuid", resource_uuid)


def to_data(call: Call, usage: ComponentUserUsage) -> dict[str, Any]:
    return {
        "uuid": usage.id,
        "user": call.url(OFFERING_USERS, usage.offering_user_id) if usage.offering_user_id else None,
        "username": usage.username,
        "component_usage": call.url(USAGES, usage.component_usage_id),
        "usage": str(usage.amount),
        "measured_unit": usage.measured_unit,
        "description": usage.description,
        "created": usage.created,
        "modified": usage.modified,
        "backend_id": usage.backend_id,
        "resource_name": usage.resource_name,
        "resource_uuid": usage.resource_id,
        "offering_name": usage.offering_name,
        "offering_uuid": usage.offering_id,
        "project_name": usage.project_name,
        "project_uuid": usage.project_id,
        "customer_name": usage.customer_name,
        "customer_uuid": usage.customer_id,
        "component_type": usage.component_type,
        "date": usage.date,
        "billing_period": usage.billing_period,
    }


@endpoint(
    bp,
    BASE,
    "GET",
    name="marketplace_component_user_usages_list",
    tag=TAG,
    query=UserUsageQuery,
    response=UserUsageOut,
    many=True,
    summary="Users' shares of the component usages the caller sees from either side",
)
def list_user_usages(call: Call) -> Any:
    q: UserUsageQuery = call.query
    offering_id = uuid_filter("offering_uuid", q.offering_uuid)
    filters = service.UserUsageFilters(
        narrowing=lists.Narrowing(
            customer_id=uuid_filter("customer_uuid", q.customer_uuid),
            project_id=uuid_filter("project_uuid", q.project_uuid),
            resource_id=resource_filter(q.resource, q.resource_uuid),
            offering_ids=(offering_id,) if offering_id else (),
        ),
        type=q.type,
        billing_period=q.component_usage__billing_period,
        billing_period_year=q.billing_period_year,
        billing_period_month=q.billing_period_month,
        date_after=q.date_after,
        date_before=q.date_before,
        username=q.username,
    )
    page = service.list_user_usages(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, UserUsageOut, lambda u: to_data(call, u))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "GET",
    name="marketplace_component_user_usages_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=UserUsageOut,
)
def retrieve_user_usage(call: Call, uuid: str) -> Any:
    usage = service.get_visible(call.user, object_id(uuid, MODEL))
    return render(UserUsageOut, to_data(call, usage), call.query.field)


@endpoint(
    bp,
    f"/api/{USAGES}/{{uuid}}/set_user_usage",
    "POST",
    name="marketplace_component_usages_set_user_usage",
    tag="marketplace-component-usages",
    body=UserUsageIn,
    status=201,
    summary="The provider reports one user's share of a component usage",
)
def set_user_usage(call: Call, uuid: str) -> Any:
    body: UserUsageIn = call.body
    service.set_user_usages(call.ctx, object_id(uuid, USAGE_MODEL), [body.report()])
    return Empty()


@endpoint(
    bp,
    f"/api/{USAGES}/{{uuid}}/set_user_usages",
    "POST",
    name="marketplace_component_usages_set_user_usages",
    tag="marketplace-component-usages",
    body=UserUsagesIn,
    status=201,
    summary="The provider reports several users' shares of a component usage, all or none",
)
def set_user_usages(call: Call, uuid: str) -> Any:
    body: UserUsagesIn = call.body
    reports = [line.report() for line in body.usages]
    service.set_user_usages(call.ctx, object_id(uuid, USAGE_MODEL), reports)
    return Empty()
