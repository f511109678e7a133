"""`GET /api/customer-quotas/?quota_name=` and `GET /api/project-quotas/?quota_name=`: every customer
(every available project) with its current usage of one quota, most first; paged as every list
(page, page_size, Link, X-Result-Count). Staff and support only (services/analytics_quota_lists.py)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import AfterValidator, Field

from chalicelib.api.fields import UuidFilter, one_of
from chalicelib.api.rest import Call, ListQuery, ResponseModel, endpoint, listed
from chalicelib.domain.analytics_quota_lists import Row
from chalicelib.domain.ids import parse_id
from chalicelib.services import analytics_quota_lists as service

bp = Blueprint(__name__)

# Waldur's enum (waldur-api-client's CustomerQuotasQuotaNameEnum, both lists) and Cirrus's customer
# quotas; `estimated_price` is not served (see docs/analytics/quotas.md).
QUOTA_NAMES = (
    "nc_resource_count",
    "nc_project_count",
    "nc_user_count",
    "os_cpu_count",
    "os_ram_size",
    "os_storage_size",
    "vpc_cpu_count",
    "vpc_floating_ip_count",
    "vpc_instance_count",
    "vpc_ram_size",
    "vpc_storage_size",
)


def _quota_name(value: str) -> str:
    if value not in QUOTA_NAMES:
        raise ValueError(f'"{value}" is not a valid choice.')
    return value


QuotaName = Annotated[str, AfterValidator(_quota_name), Field(json_schema_extra=one_of(QUOTA_NAMES))]


class QuotasQuery(ListQuery):
    quota_name: QuotaName = Field(description="The quota whose usage is listed")
    customer_uuid: UuidFilter | None = None

    # Waldur's `o=value` (the default) and `o=name` order most first; `-` reverses (Waldur: 400)
    ordering_fields: ClassVar[tuple[str, ...]] = ("value", "name")


class CustomerQuotasOut(ResponseModel):
    customer_name: str
    customer_abbreviation: str
    value: int


class ProjectQuotasOut(ResponseModel):
    project_name: str
    customer_name: str
    customer_abbreviation: str
    value: int


def _customer(row: Row) -> dict[str, Any]:
    return {
        "customer_name": row.customer_name,
        "customer_abbreviation": row.customer_abbreviation,
        "value": row.value,
    }


def _project(row: Row) -> dict[str, Any]:
    return {"project_name": row.name, **_customer(row)}


def _page(call: Call, kind: str) -> Any:
    q: QuotasQuery = call.query
    customer = parse_id(q.customer_uuid) if q.customer_uuid else None
    ordering = q.ordering()
    by, ascending = ordering.field or "value", ordering.descending
    return service.listing(call.user, kind, q.quota_name, q.page_request(), customer, by, ascending)


@endpoint(bp, "/api/customer-quotas", "GET", name="customer_quotas_list", tag="customer-quotas",
          query=QuotasQuery, response=CustomerQuotasOut, many=True,
          summary="Every customer's current usage of one quota, most first (staff and support)")  # fmt: skip
def customer_quotas(call: Call) -> Any:
    return listed(call, _page(call, "customer"), CustomerQuotasOut, _customer)


@endpoint(bp, "/api/project-quotas", "GET", name="project_quotas_list", tag="project-quotas",
          query=QuotasQuery, response=ProjectQuotasOut, many=True,
          summary="Every project's current usage of one quota, most first (staff and support)")  # fmt: skip
def project_quotas(call: Call) -> Any:
    return listed(call, _page(call, "project"), ProjectQuotasOut, _project)
