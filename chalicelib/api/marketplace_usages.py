"""`/api/marketplace-component-usages/`: the usages providers report for resources' usage-based
components, read from either side of the resource; `set_usage/` is the provider's report (201,
empty body, as Waldur's)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import ConfigDict, Field, field_validator

from chalicelib.api.fields import (
    DateFilter,
    IsoDateTime,
    ReferenceFilter,
    UuidFilter,
    any_given,
    each_of,
    one_of,
)
from chalicelib.api.marketplace_orders import uuid_filter
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
from chalicelib.domain import usages as domain
from chalicelib.domain.ids import id_from_url
from chalicelib.domain.usages import ComponentUsage, UsageReport
from chalicelib.services import market_queries as lists
from chalicelib.services import usages as service

bp = Blueprint(__name__)
TAG = "marketplace-component-usages"
COLLECTION = "marketplace-component-usages"
BASE = f"/api/{COLLECTION}"
MODEL = domain.MODEL
Day = date  # `date` is also a field name below


def _policy(value: str | None) -> str | None:
    if value is not None and value not in domain.MISSING_USAGE_POLICIES:
        raise ValueError(f'"{value}" is not a valid choice.')
    return value


class UsageLineIn(BodyModel):
    """Waldur's ComponentUsageItemRequest."""

    type: str = Field(min_length=1, max_length=255)
    amount: Decimal = Field(ge=0, max_digits=20, decimal_places=2)
    description: str = Field("", max_length=10_000)
    recurring: bool | None = None
    missing_usage_policy: str | None = Field(None, json_schema_extra=one_of(domain.MISSING_USAGE_POLICIES))

    _known_policy = field_validator("missing_usage_policy")(_policy)

    def report(self) -> UsageReport:
        policy = self.missing_usage_policy or ("reuse" if self.recurring else "none")
        # DRF's DecimalField keeps two places (`10` is reported as `10.00`).
        return UsageReport(self.type, self.amount.quantize(Decimal("0.01")), self.description, policy)


class SetUsageIn(BodyModel):
    """Waldur's ComponentUsageCreateRequest: the report names its resource, or its plan period (the
    service says "This field is required." of `resource` when neither is sent; blank is no uuid,
    as Waldur's UUIDField has it)."""

    model_config = ConfigDict(json_schema_extra=any_given("resource", "plan_period"))

    usages: list[UsageLineIn] = Field(max_length=50)
    resource: str | None = Field(None, min_length=1, max_length=2000)
    plan_period: str | None = Field(None, min_length=1, max_length=2000)
    date: IsoDateTime | None = None


class UsageOut(ResponseModel):
    """Waldur's ComponentUsage."""

    url: str
    uuid: str
    created: datetime
    description: str
    type: str
    name: str
    measured_unit: str
    usage: str
    date: datetime
    missing_usage_policy: str
    recurring: bool
    resource_name: str
    resource_uuid: str
    offering_name: str
    offering_uuid: str
    project_name: str
    project_uuid: str
    customer_name: str
    customer_uuid: str
    billing_period: Day
    modified_by_username: str


class UsageQuery(ListQuery):
    resource_uuid: UuidFilter | None = None
    resource: ReferenceFilter | None = None
    offering_uuid: UuidFilter | None = None
    project_uuid: UuidFilter | None = None
    customer_uuid: UuidFilter | None = None
    type: list[str] = []
    billing_period: DateFilter | None = None
    billing_period_year: int | None = Field(None, ge=1, le=9999)
    billing_period_month: int | None = Field(None, ge=1, le=12)
    date_after: DateFilter | None = None
    date_before: DateFilter | None = None
    missing_usage_policy: list[str] = Field([], json_schema_extra=each_of(domain.MISSING_USAGE_POLICIES))

    ordering_fields = tuple(service.SORT)

    @field_validator("missing_usage_policy")
    @classmethod
    def _known_policies(cls, values: list[str]) -> list[str]:
        for value in values:
            _policy(value)
        return values


def to_data(call: Call, usage: ComponentUsage) -> dict[str, Any]:
    return {
        "url": call.url(COLLECTION, usage.id),
        "uuid": usage.id,
        "created": usage.created,
        "description": usage.description,
        "type": usage.component_type,
        "name": usage.name,
        "measured_unit": usage.measured_unit,
        "usage": str(usage.amount),
        "date": usage.date,
        "missing_usage_policy": usage.missing_usage_policy,
        "recurring": usage.recurring,
        "resource_name": usage.resource_name,
        "resource_uuid": usage.resource_id,
        "offering_name": usage.offering_name,
        "offering_uuid": usage.offering_id,
        "project_name": usage.project_name,
        "project_uuid": usage.project_id,
        "customer_name": usage.customer_name,
        "customer_uuid": usage.customer_id,
        "billing_period": usage.billing_period,
        "modified_by_username": usage.modified_by_username,
    }


def _resource_filter(q: UsageQuery) -> str | None:
    if q.resource is not None:
        resource_id = id_from_url(q.resource)
        if resource_id is None:
            return uuid_filter("resource", q.resource)
        return resource_id
    return uuid_filter("resource_uuid", q.resource_uuid)


@endpoint(
    bp,
    BASE,
    "GET",
    name="marketplace_component_usages_list",
    tag=TAG,
    query=UsageQuery,
    response=UsageOut,
    many=True,
    summary="Usages of the resources the caller sees from either side",
)
def list_usages(call: Call) -> Any:
    q: UsageQuery = call.query
    offering_id = uuid_filter("offering_uuid", q.offering_uuid)
    filters = service.UsageFilters(
        narrowing=lists.Narrowing(
            customer_id=uuid_filter("customer_uuid", q.customer_uuid),
            project_id=uuid_filter("project_uuid", q.project_uuid),
            resource_id=_resource_filter(q),
            offering_ids=(offering_id,) if offering_id else (),
        ),
        types=tuple(q.type),
        billing_period=q.billing_period,
        billing_period_year=q.billing_period_year,
        billing_period_month=q.billing_period_month,
        date_after=q.date_after,
        date_before=q.date_before,
        missing_usage_policies=tuple(q.missing_usage_policy),
    )
    page = service.list_usages(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, UsageOut, lambda u: to_data(call, u))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "GET",
    name="marketplace_component_usages_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=UsageOut,
)
def retrieve_usage(call: Call, uuid: str) -> Any:
    usage = service.get_visible(call.user, object_id(uuid, MODEL))
    return render(UsageOut, to_data(call, usage), call.query.field)


@endpoint(
    bp,
    f"{BASE}/set_usage",
    "POST",
    name="marketplace_component_usages_set_usage",
    tag=TAG,
    body=SetUsageIn,
    status=201,
    summary="The provider reports a resource's usage of the billing period",
)
def set_usage(call: Call) -> Any:
    body: SetUsageIn = call.body
    reports = [line.report() for line in body.usages]
    service.set_usage(call.ctx, reports, body.resource, body.plan_period, body.date)
    return Empty()
