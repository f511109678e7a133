"""`marketplace-stats/<name>/` for orders and organisations (Waldur's StatsViewSet actions):
`order_stats/`, `resource_provisioning_stats/`, `project_creation_trend/`,
`resource_creation_trend/`, `organization_project_count/`, `organization_resource_count/`,
`customer_member_count/`. Read from the analytics aggregates (services/analytics_orders.py says
what each reads and who may). Waldur answers the lists whole (its actions are not paginated):
so do these; HEAD reports a list's length in X-Result-Count (the client's `*_count`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.fields import DateFilter, UuidFilter
from chalicelib.api.rest import Call, QueryModel, ResponseModel, endpoint
from chalicelib.domain import analytics_orders as domain
from chalicelib.domain.ids import parse_id
from chalicelib.services import analytics_orders as service

bp = Blueprint(__name__)
TAG = "marketplace-stats"
BASE = "/api/marketplace-stats"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


# --- order_stats ----------------------------------------------------------------------------------
class OrderStatsQuery(QueryModel):
    start: DateFilter | None = None
    end: DateFilter | None = None
    customer_uuid: UuidFilter | None = None
    provider_uuid: UuidFilter | None = None


class OrderStatsSummaryOut(ResponseModel):
    total: int
    total_cost: str | None
    total_revenue: str | None
    pending: int
    executing: int
    done: int
    erred: int
    canceled: int
    rejected: int


class DailyOrderStatsOut(ResponseModel):
    date: date
    total: int
    total_cost: str | None
    revenue: str | None
    by_state: dict[str, int]
    by_type: dict[str, int]


class OrderStatsOut(ResponseModel):
    summary: OrderStatsSummaryOut
    by_state: dict[str, int]
    by_type: dict[str, int]
    daily: list[DailyOrderStatsOut]


def _day(day: service.Day) -> dict[str, Any]:
    totals = day.totals
    return {
        "date": day.day,
        "total": totals.total,
        # Waldur's Sum("cost") of the day: null when no order of the day has a cost
        "total_cost": _money(totals.cost) if totals.costed else None,
        "revenue": _money(totals.revenue),
        "by_state": totals.by_state,
        "by_type": totals.by_type,
    }


@endpoint(
    bp,
    f"{BASE}/order_stats",
    "GET",
    name="marketplace_stats_order_stats_retrieve",
    tag=TAG,
    query=OrderStatsQuery,
    response=OrderStatsOut,
    summary="Orders created in a period (default the last 30 days): by state and type, cost, per day",
)
def order_stats(call: Call) -> Any:
    q: OrderStatsQuery = call.query
    stats = service.order_stats(
        call.user,
        q.start,
        q.end,
        customer_id=parse_id(q.customer_uuid) if q.customer_uuid else None,
        provider_id=parse_id(q.provider_uuid) if q.provider_uuid else None,
    )
    totals = stats.totals
    data = {
        "summary": {
            "total": totals.total,
            "total_cost": _money(totals.cost),
            "total_revenue": _money(totals.revenue),
            **domain.summary_counts(totals.by_state),
        },
        "by_state": totals.by_state,
        "by_type": totals.by_type,
        "daily": [_day(day) for day in stats.days],
    }
    return OrderStatsOut.model_validate(data).model_dump(mode="json")


# --- resource_provisioning_stats ------------------------------------------------------------------
class ProvisioningQuery(QueryModel):
    last_minutes: int | None = Field(None, ge=1, le=service.MAX_MINUTES)


class ResourceProvisioningStatsOut(ResponseModel):
    offering_uuid: str
    offering_name: str
    service_provider_uuid: str
    service_provider_name: str
    provisioning_count: int
    provisioning_success_count: int
    provisioning_error_count: int
    provisioning_in_progress_count: int
    provisioning_success_rate: float
    avg_provisioning_duration: float
    avg_pending_duration: float


@endpoint(
    bp,
    f"{BASE}/resource_provisioning_stats",
    "GET",
    name="marketplace_stats_resource_provisioning_stats_list",
    tag=TAG,
    query=ProvisioningQuery,
    response=ResourceProvisioningStatsOut,
    unpaged=True,
    summary="Per offering: creation orders in progress, and those ended in the last N minutes",
)
def resource_provisioning_stats(call: Call) -> Any:
    q: ProvisioningQuery = call.query
    return [
        {
            "offering_uuid": entry.offering_id,
            "offering_name": entry.offering_name,
            "service_provider_uuid": entry.provider_id,
            "service_provider_name": entry.provider_name,
            "provisioning_count": entry.finished,
            "provisioning_success_count": entry.done,
            "provisioning_error_count": entry.erred,
            "provisioning_in_progress_count": entry.in_progress,
            "provisioning_success_rate": entry.success_rate,
            "avg_provisioning_duration": entry.avg_provisioning,
            "avg_pending_duration": entry.avg_pending,
        }
        for entry in service.provisioning_stats(call.user, q.last_minutes)
    ]


# --- creation trends ------------------------------------------------------------------------------
class CreationTrendOut(ResponseModel):
    month: str
    count: int


@endpoint(
    bp,
    f"{BASE}/project_creation_trend",
    "GET",
    name="marketplace_stats_project_creation_trend_list",
    tag=TAG,
    response=CreationTrendOut,
    unpaged=True,
    summary="Projects created per month (those not removed)",
)
def project_creation_trend(call: Call) -> Any:
    return [{"month": m, "count": n} for m, n in service.project_creation_trend(call.user)]


@endpoint(
    bp,
    f"{BASE}/resource_creation_trend",
    "GET",
    name="marketplace_stats_resource_creation_trend_list",
    tag=TAG,
    response=CreationTrendOut,
    unpaged=True,
    summary="Resources created per month",
)
def resource_creation_trend(call: Call) -> Any:
    return [{"month": m, "count": n} for m, n in service.resource_creation_trend(call.user)]


# --- per organisation -----------------------------------------------------------------------------
class CustomerStatsOut(ResponseModel):
    name: str
    uuid: str
    count: int
    abbreviation: str


class CustomerMemberCountOut(ResponseModel):
    uuid: str
    name: str
    abbreviation: str
    count: int
    has_resources: bool


def _organisation(org: service.Organisation) -> dict[str, Any]:
    return {"name": org.name, "uuid": org.id, "count": org.count, "abbreviation": org.abbreviation}


@endpoint(
    bp,
    f"{BASE}/organization_project_count",
    "GET",
    name="marketplace_stats_organization_project_count_list",
    tag=TAG,
    response=CustomerStatsOut,
    unpaged=True,
    summary="Customers with projects, and how many",
)
def organization_project_count(call: Call) -> Any:
    return [_organisation(org) for org in service.organization_project_count(call.user)]


@endpoint(
    bp,
    f"{BASE}/organization_resource_count",
    "GET",
    name="marketplace_stats_organization_resource_count_list",
    tag=TAG,
    response=CustomerStatsOut,
    unpaged=True,
    summary="Customers with resources in OK, and how many",
)
def organization_resource_count(call: Call) -> Any:
    return [_organisation(org) for org in service.organization_resource_count(call.user)]


@endpoint(
    bp,
    f"{BASE}/customer_member_count",
    "GET",
    name="marketplace_stats_customer_member_count_list",
    tag=TAG,
    response=CustomerMemberCountOut,
    unpaged=True,
    summary="Every customer's user count, and whether it has active resources",
)
def customer_member_count(call: Call) -> Any:
    return [
        {
            "uuid": org.id,
            "name": org.name,
            "abbreviation": org.abbreviation,
            "count": org.count,
            "has_resources": org.has_resources,
        }
        for org in service.customer_member_count(call.user)
    ]
