"""Service providers' statistics in Waldur's shapes, read from the analytics aggregates
(services/analytics_providers.py says what each number is and who sees it):

- `GET /api/marketplace-stats/top_service_providers_by_resources/?limit=`: providers by active
  resources, with their distinct projects (staff and support);
- `GET /api/marketplace-stats/count_active_resources_grouped_by_offering/`: active resources per
  offering (staff and support);
- `GET /api/marketplace-stats/provider_customers/?provider_uuid=`, `provider_resources/`,
  `provider_offerings/`: one service provider's dashboard figures (its team, staff, support;
  empty for anybody else and for a uuid naming no provider);
- `GET /api/marketplace-provider-offerings/<uuid>/stats/`: an offering's live resources and their
  distinct customers (whoever sees the offering on the provider side).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.fields import UuidFilter
from chalicelib.api.rest import Call, ListQuery, QueryModel, ResponseModel, endpoint, listed, object_id
from chalicelib.domain.ids import parse_id
from chalicelib.domain.offerings import MODEL as OFFERING_MODEL
from chalicelib.services import analytics_providers as service
from chalicelib.services.paging import paginate

bp = Blueprint(__name__)
TAG = "marketplace-stats"
STATS = "/api/marketplace-stats"


# --- top_service_providers_by_resources ------------------------------------------------------------
class TopProvidersQuery(ListQuery):
    limit: int | None = Field(None, ge=1, le=service.MAX_LIMIT)


class TopServiceProviderByResourcesOut(ResponseModel):
    customer_uuid: str
    customer_name: str
    resources_count: int
    projects_count: int


@endpoint(
    bp,
    f"{STATS}/top_service_providers_by_resources",
    "GET",
    name="marketplace_stats_top_service_providers_by_resources_list",
    tag=TAG,
    query=TopProvidersQuery,
    response=TopServiceProviderByResourcesOut,
    many=True,
    summary="Service providers by their active resources, with their distinct projects (staff, support)",
)
def top_service_providers(call: Call) -> Any:
    found = service.top_providers(call.user, call.query.limit)
    return listed(
        call,
        paginate(found, call.query.page_request()),
        TopServiceProviderByResourcesOut,
        lambda p: {
            "customer_uuid": p.customer_id,
            "customer_name": p.customer_name,
            "resources_count": p.resources_count,
            "projects_count": p.projects_count,
        },
    )


# --- count_active_resources_grouped_by_offering -----------------------------------------------------
class OfferingStatsOut(ResponseModel):
    count: int
    name: str
    uuid: str
    country: str


@endpoint(
    bp,
    f"{STATS}/count_active_resources_grouped_by_offering",
    "GET",
    name="marketplace_stats_count_active_resources_grouped_by_offering_list",
    tag=TAG,
    query=ListQuery,
    response=OfferingStatsOut,
    many=True,
    summary="Active resources (OK, Updating, Terminating) per offering (staff, support)",
)
def active_resources_by_offering(call: Call) -> Any:
    found = service.active_by_offering(call.user)
    return listed(
        call,
        paginate(found, call.query.page_request()),
        OfferingStatsOut,
        lambda o: {"count": o.count, "name": o.name, "uuid": o.offering_id, "country": o.country},
    )


# --- one provider -------------------------------------------------------------------------------------
class ProviderQuery(QueryModel):
    provider_uuid: UuidFilter  # required, as in Waldur: the service provider's uuid


def _provider_id(call: Call) -> str:
    return parse_id(call.query.provider_uuid) or ""  # well formed: checked by the query model


class ProviderCustomerTopRevenueOut(ResponseModel):
    customer_uuid: str
    customer_name: str
    revenue: str | None


class ProviderCustomerTopResourceOut(ResponseModel):
    customer_uuid: str
    customer_name: str
    resource_count: int


class ProviderCustomerMonthlyOut(ResponseModel):
    month: str
    customer_count: int


class ProviderCustomerStatsOut(ResponseModel):
    total: int
    new_this_month: int
    top_by_revenue: list[ProviderCustomerTopRevenueOut]
    top_by_resources: list[ProviderCustomerTopResourceOut]
    monthly: list[ProviderCustomerMonthlyOut]


@endpoint(
    bp,
    f"{STATS}/provider_customers",
    "GET",
    name="marketplace_stats_provider_customers_retrieve",
    tag=TAG,
    query=ProviderQuery,
    response=ProviderCustomerStatsOut,
    summary="A service provider's consumer customers: how many, the newest, the top ones, per month",
)
def provider_customers(call: Call) -> Any:
    found = service.customers(call.user, _provider_id(call))
    return ProviderCustomerStatsOut(
        total=found.total,
        new_this_month=found.new_this_month,
        top_by_revenue=[
            ProviderCustomerTopRevenueOut(
                customer_uuid=c.customer_id, customer_name=c.customer_name, revenue=str(c.revenue)
            )
            for c in found.top_by_revenue
        ],
        top_by_resources=[
            ProviderCustomerTopResourceOut(
                customer_uuid=c.customer_id, customer_name=c.customer_name, resource_count=c.resource_count
            )
            for c in found.top_by_resources
        ],
        monthly=[ProviderCustomerMonthlyOut(month=m, customer_count=n) for m, n in found.monthly],
    ).model_dump(mode="json")


class ProviderResourceTopOfferingOut(ResponseModel):
    offering_uuid: str
    offering_name: str
    count: int


class ProviderResourceMonthlyOut(ResponseModel):
    month: str
    count: int


class ProviderResourceStatsOut(ResponseModel):
    total: int
    by_state: dict[str, int]
    by_offering: list[ProviderResourceTopOfferingOut]
    monthly: list[ProviderResourceMonthlyOut]


@endpoint(
    bp,
    f"{STATS}/provider_resources",
    "GET",
    name="marketplace_stats_provider_resources_retrieve",
    tag=TAG,
    query=ProviderQuery,
    response=ProviderResourceStatsOut,
    summary="A service provider's resources: by state, by offering, created per month",
)
def provider_resources(call: Call) -> Any:
    found = service.resources(call.user, _provider_id(call))
    return ProviderResourceStatsOut(
        total=found.total,
        by_state=found.by_state,
        by_offering=[
            ProviderResourceTopOfferingOut(
                offering_uuid=o.offering_id, offering_name=o.offering_name, count=o.count
            )
            for o in found.by_offering
        ],
        monthly=[ProviderResourceMonthlyOut(month=m, count=n) for m, n in found.monthly],
    ).model_dump(mode="json")


class ProviderOfferingPlanStatsOut(ResponseModel):
    plan_uuid: str
    plan_name: str
    usage: int
    limit: int | None
    utilization: float | None


class ProviderOfferingStatsItemOut(ResponseModel):
    offering_uuid: str
    offering_name: str
    category_name: str
    state: str
    active_resources: int
    total_resources: int
    revenue: str | None
    plans: list[ProviderOfferingPlanStatsOut]


class ProviderOfferingStatsOut(ResponseModel):
    offerings: list[ProviderOfferingStatsItemOut]


@endpoint(
    bp,
    f"{STATS}/provider_offerings",
    "GET",
    name="marketplace_stats_provider_offerings_retrieve",
    tag=TAG,
    query=ProviderQuery,
    response=ProviderOfferingStatsOut,
    summary="A service provider's offerings: resources, revenue and the use of their plans",
)
def provider_offerings(call: Call) -> Any:
    found = service.offerings(call.user, _provider_id(call))
    return ProviderOfferingStatsOut(
        offerings=[
            ProviderOfferingStatsItemOut(
                offering_uuid=o.offering.id,
                offering_name=o.offering.name,
                category_name=o.category_name,
                state=o.offering.state.value,
                active_resources=o.active_resources,
                total_resources=o.total_resources,
                revenue=str(o.revenue) if o.revenue is not None else None,
                plans=[
                    ProviderOfferingPlanStatsOut(
                        plan_uuid=p.plan_id,
                        plan_name=p.plan_name,
                        usage=p.usage,
                        limit=p.limit,
                        utilization=p.utilization,
                    )
                    for p in o.plans
                ],
            )
            for o in found
        ]
    ).model_dump(mode="json")


# --- an offering's stats -------------------------------------------------------------------------------
class OfferingResourceStatsOut(ResponseModel):
    resources_count: int
    customers_count: int


@endpoint(
    bp,
    "/api/marketplace-provider-offerings/{uuid}/stats",
    "GET",
    name="marketplace_provider_offerings_stats_retrieve",
    tag="marketplace-provider-offerings",
    response=OfferingResourceStatsOut,
    summary="An offering's resources that are not Terminated, and their distinct customers",
)
def offering_stats(call: Call, uuid: str) -> Any:
    found = service.offering_stats(call.user, object_id(uuid, OFFERING_MODEL))
    return OfferingResourceStatsOut(
        resources_count=found.resources_count, customers_count=found.customers_count
    ).model_dump(mode="json")
