"""Costs and limits of the platform, for staff and support (services/analytics_costs.py):

- `GET /api/marketplace-stats/total_cost_of_active_resources_per_offering/?start=YYYY-MM&end=YYYY-MM`
  each offering's cost over those months (default this month), a plain list of Waldur's OfferingCost;
- `GET /api/marketplace-stats/offering_costs_summary/` (same months): Waldur's OfferingCostsSummary;
- `GET /api/marketplace-stats/resources_limits/`: the `OK` resources' limits summed per offering and
  component, Waldur's ResourcesLimits (a plain list);
- `GET /api/billing-total-cost/?year=&month=&name=&customer_uuid=`: Waldur's TotalCustomerCost, the
  price and total of the month's invoices.

Each route is its own (other areas serve other `marketplace-stats/` names)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.analytics_usages import YEAR_MONTH_PATTERN
from chalicelib.api.fields import UuidFilter, schema_facts, text
from chalicelib.api.rest import Call, QueryModel, ResponseModel, endpoint, render
from chalicelib.services import analytics_costs as service

bp = Blueprint(__name__)
STATS = "/api/marketplace-stats"
STATS_TAG = "marketplace-stats"
MONTH_TEXT = "A month, YYYY-MM (with `end`/`start`; neither: the current month)"


# The schema states the months the service takes (it checks them again, with Waldur's messages).
Month = Annotated[str, schema_facts(pattern=YEAR_MONTH_PATTERN)]


class MonthRangeQuery(QueryModel):
    """Waldur's DateRangeFilterSerializer: `start` and `end`, both or neither (checked by the
    service, with Waldur's messages)."""

    start: Month | None = Field(None, max_length=20, description=MONTH_TEXT)
    end: Month | None = Field(None, max_length=20, description=MONTH_TEXT)


class OfferingCostOut(ResponseModel):
    offering_uuid: str
    offering_name: str
    cost: float


class OfferingCostsSummaryOut(ResponseModel):
    total_cost: str
    offering_count: int
    average_cost: str


class ResourcesLimitsOut(ResponseModel):
    offering_uuid: str
    name: str
    value: int
    offering_country: str
    organization_group_name: str  # Cirrus has no organization groups: ""
    organization_group_uuid: str


class TotalCostQuery(QueryModel):
    accounting_is_running: bool | None = None  # taken and ignored, as Waldur's default settings do
    customer_uuid: UuidFilter | None = None
    name: text(150) | None = None  # type: ignore[valid-type]
    year: int | None = Field(None, ge=1, le=9999)
    month: int | None = Field(None, ge=1, le=12)


class TotalCustomerCostOut(ResponseModel):
    total: float
    price: float


def _number(value: Decimal) -> float:
    return float(value)


@endpoint(
    bp,
    f"{STATS}/total_cost_of_active_resources_per_offering",
    "GET",
    name="marketplace_stats_total_cost_of_active_resources_per_offering_list",
    tag=STATS_TAG,
    query=MonthRangeQuery,
    response=OfferingCostOut,
    unpaged=True,
    summary="Each offering's cost in the months asked (default: this month); staff and support",
)
def total_cost_of_active_resources_per_offering(call: Call) -> Any:
    q: MonthRangeQuery = call.query
    return [
        render(
            OfferingCostOut,
            {"offering_uuid": c.offering_id, "offering_name": c.offering_name, "cost": _number(c.cost)},
        )
        for c in service.offering_costs(call.user, q.start, q.end)
    ]


@endpoint(
    bp,
    f"{STATS}/offering_costs_summary",
    "GET",
    name="marketplace_stats_offering_costs_summary_retrieve",
    tag=STATS_TAG,
    query=MonthRangeQuery,
    response=OfferingCostsSummaryOut,
    summary="The offerings' costs in the months asked, added up; staff and support",
)
def offering_costs_summary(call: Call) -> Any:
    q: MonthRangeQuery = call.query
    found = service.costs_summary(call.user, q.start, q.end)
    data = {
        "total_cost": f"{found.total_cost:f}",
        "offering_count": found.offering_count,
        "average_cost": f"{found.average_cost:f}",
    }
    return render(OfferingCostsSummaryOut, data)


@endpoint(
    bp,
    f"{STATS}/resources_limits",
    "GET",
    name="marketplace_stats_resources_limits_list",
    tag=STATS_TAG,
    response=ResourcesLimitsOut,
    unpaged=True,
    summary="The limits of the OK resources summed per offering and component; staff and support",
)
def resources_limits(call: Call) -> Any:
    return [
        render(
            ResourcesLimitsOut,
            {
                "offering_uuid": limit.offering_id,
                "name": limit.name,
                "value": limit.value,
                "offering_country": country,
                "organization_group_name": "",
                "organization_group_uuid": "",
            },
        )
        for limit, country in service.resources_limits(call.user)
    ]


@endpoint(
    bp,
    "/api/billing-total-cost",
    "GET",
    name="billing_total_cost_retrieve",
    tag="billing-total-cost",
    query=TotalCostQuery,
    response=TotalCustomerCostOut,
    summary="The price and total of a month's invoices (default: this month); staff and support",
)
def billing_total_cost(call: Call) -> Any:
    q: TotalCostQuery = call.query
    total, price = service.total_cost(call.user, q.year, q.month, q.name or "", q.customer_uuid)
    return render(TotalCustomerCostOut, {"total": _number(total), "price": _number(price)})
