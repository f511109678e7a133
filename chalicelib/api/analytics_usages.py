"""Component usage statistics in Waldur's shapes, read from the analytics series
(services/analytics_usages.py says who sees what and what each number is):

- `marketplace-stats/component_usages/`, `component_usages_per_month/`, `component_usages_per_project/`
  (staff and support);
- `marketplace-customer-usage/<customer>/components-usage/`, `components-usage-timeseries/`,
  `components-usage-by-project/`; `marketplace-project-usage/<project>/components-usage/`,
  `components-usage-timeseries/`;
- `marketplace-component-usage-monthly/`.

Each route is its own (other areas serve other `marketplace-stats/` names)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import AfterValidator, Field, StringConstraints, field_validator

from chalicelib.api.fields import DateFilter, UuidFilter, each_of, schema_facts
from chalicelib.api.rest import (
    Call,
    ListQuery,
    QueryModel,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import analytics_usages as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.services import analytics_usages as service
from chalicelib.services import customers, projects

bp = Blueprint(__name__)
STATS = "marketplace-stats"
CUSTOMER_USAGE = "marketplace-customer-usage"
PROJECT_USAGE = "marketplace-project-usage"
MONTHLY = "marketplace-component-usage-monthly"

_YEAR_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")
YEAR_MONTH_INVALID = "Value must be in YYYY-MM format."
# What `_year_month` takes, as the schema states it: a year 0001-9999, a month 1-12 (one or two digits).
YEAR_MONTH_PATTERN = r"^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0?[1-9]|1[0-2])$"


def _year_month(value: str) -> str:
    found = _YEAR_MONTH.fullmatch(value)
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
        raise ValueError(YEAR_MONTH_INVALID)
    return value


def month_of(value: str) -> date:
    year, month = value.split("-")
    return date(int(year), int(month), 1)


# Waldur's YearMonthField: `?start=2026-01`.
YearMonth = Annotated[
    str,
    StringConstraints(max_length=7),
    AfterValidator(_year_month),
    schema_facts(pattern=YEAR_MONTH_PATTERN, description="A month: YYYY-MM"),
]
ComponentType = Annotated[str, StringConstraints(max_length=255)]


# --- marketplace-stats/ ------------------------------------------------------------------------------
class ComponentUsagesStatsOut(ResponseModel):
    usage: str
    offering_uuid: str
    component_type: str
    offering_country: str
    organization_group_name: str
    organization_group_uuid: str


class ComponentUsagesPerMonthStatsOut(ComponentUsagesStatsOut):
    month: int
    year: int


class ComponentUsagesPerProjectOut(ResponseModel):
    project_uuid: str
    component_type: str
    usage: int | float


class MonthRangeQuery(QueryModel):
    start: YearMonth | None = None
    end: YearMonth | None = None


@endpoint(
    bp,
    f"/api/{STATS}/component_usages",
    "GET",
    name="marketplace_stats_component_usages_list",
    tag=STATS,
    response=ComponentUsagesStatsOut,
    unpaged=True,
    summary="This month's component usage per offering and component type (staff and support)",
)
def stats_component_usages(call: Call) -> Any:
    return [render(ComponentUsagesStatsOut, row) for row in service.component_usages(call.user)]


@endpoint(
    bp,
    f"/api/{STATS}/component_usages_per_month",
    "GET",
    name="marketplace_stats_component_usages_per_month_list",
    tag=STATS,
    query=MonthRangeQuery,
    response=ComponentUsagesPerMonthStatsOut,
    unpaged=True,
    summary="Component usage per offering, component type and month (staff and support)",
)
def stats_component_usages_per_month(call: Call) -> Any:
    q: MonthRangeQuery = call.query
    start = month_of(q.start) if q.start else None
    end = month_of(q.end) if q.end else None
    rows = service.component_usages_per_month(call.user, start, end)
    return [render(ComponentUsagesPerMonthStatsOut, row) for row in rows]


@endpoint(
    bp,
    f"/api/{STATS}/component_usages_per_project",
    "GET",
    name="marketplace_stats_component_usages_per_project_list",
    tag=STATS,
    response=ComponentUsagesPerProjectOut,
    unpaged=True,
    summary="This month's component usage per project and component type (staff and support)",
)
def stats_component_usages_per_project(call: Call) -> Any:
    return [
        render(ComponentUsagesPerProjectOut, row) for row in service.component_usages_per_project(call.user)
    ]


# --- a customer's and a project's usage --------------------------------------------------------------
class _PeriodOut(ResponseModel):
    limit_period: str | None
    limit: float | None
    current_period_label: str
    current_period_start: date | None
    current_period_end: date | None


class ComponentStatsPerOfferingOut(_PeriodOut):
    type: str
    name: str
    description: str
    measured_unit: str
    billing_type: str
    usage: float
    limit_usage: float
    usage_terminated: float
    limit_usage_terminated: float
    offering_name: str
    offering_uuid: str


class ComponentsUsageStatsPerOfferingOut(ResponseModel):
    components: list[ComponentStatsPerOfferingOut]


class UsageTimeseriesBucketOut(ResponseModel):
    billing_period: date
    usage: float
    usage_terminated: float


class _OfferingSeriesOut(_PeriodOut):
    offering_uuid: str
    offering_name: str
    type: str
    name: str
    measured_unit: str
    billing_type: str
    today: date


class OfferingUsageTimeseriesOut(_OfferingSeriesOut):
    buckets: list[UsageTimeseriesBucketOut]


class ProjectUsageEntryOut(ResponseModel):
    project_uuid: str
    project_name: str
    is_removed: bool
    usage: float
    usage_terminated: float
    buckets: list[UsageTimeseriesBucketOut]


class OfferingUsageByProjectOut(_OfferingSeriesOut):
    total_usage: float
    projects: list[ProjectUsageEntryOut]


class UsageQuery(QueryModel):
    include_terminated: bool | None = None


class UsageSeriesQuery(UsageQuery):
    offering_uuid: UuidFilter | None = None  # required by Waldur; missing: a 400 after the scope's 404
    component_type: ComponentType | None = None
    period_offset: int = Field(0, ge=0, le=rules.MAX_MONTHS)


def _offering(q: UsageSeriesQuery) -> str:
    if q.offering_uuid is None:
        raise ValidationError.field("offering_uuid", "This field is required.")
    return str(q.offering_uuid)


@endpoint(
    bp,
    f"/api/{CUSTOMER_USAGE}/{{uuid}}/components-usage",
    "GET",
    name="marketplace_customer_usage_components_usage_retrieve",
    tag=CUSTOMER_USAGE,
    query=UsageQuery,
    response=ComponentsUsageStatsPerOfferingOut,
    summary="A customer's usage and limits per offering component, over each one's limit period",
)
def customer_components_usage(call: Call, uuid: str) -> Any:
    scope = service.customer_scope(call.user, object_id(uuid, customers.MODEL))
    return render(
        ComponentsUsageStatsPerOfferingOut,
        service.components_usage(scope, bool(call.query.include_terminated)),
    )


@endpoint(
    bp,
    f"/api/{CUSTOMER_USAGE}/{{uuid}}/components-usage-timeseries",
    "GET",
    name="marketplace_customer_usage_components_usage_timeseries_retrieve",
    tag=CUSTOMER_USAGE,
    query=UsageSeriesQuery,
    response=OfferingUsageTimeseriesOut,
    summary="A customer's usage of one offering component per month of its limit period",
)
def customer_components_usage_timeseries(call: Call, uuid: str) -> Any:
    scope = service.customer_scope(call.user, object_id(uuid, customers.MODEL))
    q: UsageSeriesQuery = call.query
    answer = service.components_usage_timeseries(
        call.user, scope, _offering(q), q.component_type, q.period_offset
    )
    return render(OfferingUsageTimeseriesOut, answer)


@endpoint(
    bp,
    f"/api/{CUSTOMER_USAGE}/{{uuid}}/components-usage-by-project",
    "GET",
    name="marketplace_customer_usage_components_usage_by_project_retrieve",
    tag=CUSTOMER_USAGE,
    query=UsageSeriesQuery,
    response=OfferingUsageByProjectOut,
    summary="A customer's usage of one offering component per project, most used first",
)
def customer_components_usage_by_project(call: Call, uuid: str) -> Any:
    scope = service.customer_scope(call.user, object_id(uuid, customers.MODEL))
    q: UsageSeriesQuery = call.query
    answer = service.components_usage_by_project(
        call.user, scope, _offering(q), q.component_type, q.period_offset
    )
    return render(OfferingUsageByProjectOut, answer)


@endpoint(
    bp,
    f"/api/{PROJECT_USAGE}/{{uuid}}/components-usage",
    "GET",
    name="marketplace_project_usage_components_usage_retrieve",
    tag=PROJECT_USAGE,
    query=UsageQuery,
    response=ComponentsUsageStatsPerOfferingOut,
    summary="A project's usage and limits per offering component, over each one's limit period",
)
def project_components_usage(call: Call, uuid: str) -> Any:
    scope = service.project_scope(call.user, object_id(uuid, projects.MODEL))
    return render(
        ComponentsUsageStatsPerOfferingOut,
        service.components_usage(scope, bool(call.query.include_terminated)),
    )


@endpoint(
    bp,
    f"/api/{PROJECT_USAGE}/{{uuid}}/components-usage-timeseries",
    "GET",
    name="marketplace_project_usage_components_usage_timeseries_retrieve",
    tag=PROJECT_USAGE,
    query=UsageSeriesQuery,
    response=OfferingUsageTimeseriesOut,
    summary="A project's usage of one offering component per month of its limit period",
)
def project_components_usage_timeseries(call: Call, uuid: str) -> Any:
    scope = service.project_scope(call.user, object_id(uuid, projects.MODEL))
    q: UsageSeriesQuery = call.query
    answer = service.components_usage_timeseries(
        call.user, scope, _offering(q), q.component_type, q.period_offset
    )
    return render(OfferingUsageTimeseriesOut, answer)


# --- marketplace-component-usage-monthly/ ----------------------------------------------------------------
# The keys of a row (`?field=` takes them: Waldur's ComponentUsageMonthlyFieldEnum).
MONTHLY_FIELDS = (
    "billing_period",
    "billing_type",
    "category_title",
    "category_uuid",
    "component_name",
    "component_type",
    "limit_amount",
    "limit_period",
    "measured_unit",
    "offering_name",
    "offering_type",
    "offering_uuid",
    "service_provider_name",
    "service_provider_uuid",
    "total_allocated",
    "total_consumed",
    "usage_percent",
)


class ComponentUsageMonthlyOut(ResponseModel):
    omit_when_null: ClassVar[frozenset[str]] = frozenset(set(MONTHLY_FIELDS) - {"usage_percent"})

    offering_uuid: str | None = None
    offering_name: str | None = None
    offering_type: str | None = None
    service_provider_uuid: str | None = None
    service_provider_name: str | None = None
    category_uuid: str | None = None
    category_title: str | None = None
    component_type: str | None = None
    component_name: str | None = None
    measured_unit: str | None = None
    billing_type: str | None = None
    limit_amount: int | None = None
    limit_period: str | None = None
    billing_period: date | None = None
    total_consumed: str | None = None
    total_allocated: str | None = None  # Cirrus keeps no allocation per month: left out
    usage_percent: str | None = None


Choice = Annotated[str, StringConstraints(max_length=255)]


class MonthlyQuery(ListQuery):
    ordering_fields = service.MONTHLY_ORDERING

    field: list[str] = Field(
        default_factory=list, max_length=len(MONTHLY_FIELDS), json_schema_extra=each_of(MONTHLY_FIELDS)
    )
    billing_period: DateFilter | None = None
    start: DateFilter | None = None
    end: DateFilter | None = None
    billing_type: Choice | None = None
    component_type: ComponentType | None = None
    offering_type: Choice | None = None
    offering_uuid: UuidFilter | None = None
    customer_uuid: UuidFilter | None = None
    project_uuid: UuidFilter | None = None

    @field_validator("field")
    @classmethod
    def _known_fields(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in MONTHLY_FIELDS:
                raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
        return values


@endpoint(
    bp,
    f"/api/{MONTHLY}",
    "GET",
    name="marketplace_component_usage_monthly_list",
    tag=MONTHLY,
    query=MonthlyQuery,
    response=ComponentUsageMonthlyOut,
    many=True,
    summary="Component usage per offering, component and month (this month unless a range is given)",
)
def component_usage_monthly(call: Call) -> Any:
    q: MonthlyQuery = call.query
    filters = service.MonthlyFilters(
        billing_period=q.billing_period,
        start=q.start,
        end=q.end,
        billing_type=q.billing_type,
        component_type=q.component_type,
        offering_type=q.offering_type,
        offering_id=q.offering_uuid,
        customer_id=q.customer_uuid,
        project_id=q.project_uuid,
    )
    page = service.monthly(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, ComponentUsageMonthlyOut, lambda row: row)
