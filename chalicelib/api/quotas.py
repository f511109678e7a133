"""`POST /api/customers/<uuid>/set_quotas/` and `POST /api/projects/<uuid>/set_quotas/` (staff):
quota limits, e.g. `{"quotas": {"nc_resource_count": 10}}` (-1: unlimited). Answers the customer or
project with its `quotas`. (Cirrus's own: Waldur's API sets these limits only through its admin.)"""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, Strict

from chalicelib.api import customers, projects
from chalicelib.api.fields import some_of
from chalicelib.api.rest import BodyModel, Call, endpoint, object_id, render
from chalicelib.domain.numbers import MAX_INTEGER
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, PROJECT_QUOTAS, UNLIMITED
from chalicelib.services import quotas as service

bp = Blueprint(__name__)

# A limit: a whole number (a JSON integer, as domain.quotas.check_limits takes it), -1 (unlimited)
# or more, at most what Waldur's IntegerField holds.
Limit = Annotated[int, Strict(), Field(ge=UNLIMITED, le=MAX_INTEGER)]


class CustomerQuotasIn(BodyModel):
    quotas: some_of(CUSTOMER_QUOTAS, Limit, "quota")  # type: ignore[valid-type]


class ProjectQuotasIn(BodyModel):
    quotas: some_of(PROJECT_QUOTAS, Limit, "quota")  # type: ignore[valid-type]


@endpoint(
    bp,
    "/api/customers/{uuid}/set_quotas",
    "POST",
    name="customers_set_quotas",
    tag=customers.TAG,
    body=CustomerQuotasIn,
    response=customers.CustomerOut,
    summary="Set the customer's quota limits (staff)",
)
def set_customer_quotas(call: Call, uuid: str) -> Any:
    body: CustomerQuotasIn = call.body
    customer = service.set_customer_limits(call.ctx, object_id(uuid, customers.MODEL), body.quotas)
    return render(customers.CustomerOut, customers.to_data(call, customer))


@endpoint(
    bp,
    "/api/projects/{uuid}/set_quotas",
    "POST",
    name="projects_set_quotas",
    tag=projects.TAG,
    body=ProjectQuotasIn,
    response=projects.ProjectOut,
    summary="Set the project's quota limits (staff)",
)
def set_project_quotas(call: Call, uuid: str) -> Any:
    body: ProjectQuotasIn = call.body
    project = service.set_project_limits(call.ctx, object_id(uuid, projects.MODEL), body.quotas)
    return render(projects.ProjectOut, projects.to_data(call, project))
