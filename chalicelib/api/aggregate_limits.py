"""`GET /api/projects/<uuid>/stats/` and `GET /api/customers/<uuid>/stats/`: the usage and limits of
the project's (the customer's) resources per offering component, in Waldur's ComponentsUsageStats
shape (services/aggregate_limits.py says who sees what). HomePort's project and organisation
dashboards show them as "Aggregate usage and limits"."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api import customers, projects
from chalicelib.api.rest import Call, ResponseModel, endpoint, object_id, render
from chalicelib.domain.resources import ComponentTotal
from chalicelib.services import aggregate_limits as service

bp = Blueprint(__name__)


class ComponentStatsOut(ResponseModel):
    type: str
    name: str
    description: str
    measured_unit: str
    billing_type: str
    usage: float
    limit_usage: float  # what counts against the limits: Cirrus counts the current usage
    usage_terminated: float
    limit_usage_terminated: float
    limit: float
    offering_name: str
    offering_uuid: str


class ComponentsUsageStatsOut(ResponseModel):
    components: list[ComponentStatsOut]


def _row(total: ComponentTotal) -> dict[str, Any]:
    c = total.component
    return {
        "type": c.type,
        "name": c.name,
        "description": c.description,
        "measured_unit": c.measured_unit,
        "billing_type": c.billing_type.value,
        "usage": total.usage,
        "limit_usage": total.usage,
        "usage_terminated": total.usage_terminated,
        "limit_usage_terminated": total.usage_terminated,
        "limit": total.limit,
        "offering_name": total.offering_name,
        "offering_uuid": total.offering_id,
    }


def _stats(totals: list[ComponentTotal]) -> dict[str, Any]:
    return render(ComponentsUsageStatsOut, {"components": [_row(t) for t in totals]})


@endpoint(
    bp,
    "/api/projects/{uuid}/stats",
    "GET",
    name="projects_stats_retrieve",
    tag=projects.TAG,
    response=ComponentsUsageStatsOut,
    summary="Usage and limits of the project's resources per offering component",
)
def project_stats(call: Call, uuid: str) -> Any:
    return _stats(service.project_stats(call.user, object_id(uuid, projects.MODEL)))


@endpoint(
    bp,
    "/api/customers/{uuid}/stats",
    "GET",
    name="customers_stats_retrieve",
    tag=customers.TAG,
    response=ComponentsUsageStatsOut,
    summary="Usage and limits of the customer's resources (those the caller sees) per offering component",
)
def customer_stats(call: Call, uuid: str) -> Any:
    return _stats(service.customer_stats(call.user, object_id(uuid, customers.MODEL)))
