"""`/api/marketplace-plans/`: the provider's plans (Waldur's ProviderPlanDetails): list, create,
retrieve, update, partial update, `archive/`, `update_prices/`, `update_quotas/`. Plans are
archived, not deleted (DELETE: 405)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api import marketplace_catalog as wire
from chalicelib.api.fields import UuidFilter, partial, patch_changes
from chalicelib.api.marketplace_catalog import PLANS, TAG, PlanIn, Prices, ProviderPlanOut, Quotas
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    Empty,
    FieldsQuery,
    ListQuery,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import offerings as domain
from chalicelib.domain.ids import id_from_url, parse_id
from chalicelib.services import plans as service
from chalicelib.services.paging import paginate
from chalicelib.services.plans import PlanFilters, PlanView

bp = Blueprint(__name__)
BASE = f"/api/{PLANS}"
MODEL = domain.PLAN_MODEL


class ProviderPlanIn(PlanIn):
    offering: str = Field(min_length=1)


ProviderPlanPatch = partial(PlanIn, "ProviderPlanPatch", nullable=frozenset({"max_amount"}))


class PricesIn(BodyModel):
    prices: Prices


class QuotasIn(BodyModel):
    quotas: Quotas


class DetailOut(ResponseModel):
    detail: str


class PlanQuery(ListQuery):
    offering: str | None = None
    offering_uuid: UuidFilter | None = None
    customer_provider_uuid: UuidFilter | None = None

    def filters(self) -> PlanFilters:
        offering = self.offering_uuid or (id_from_url(self.offering) or "-" if self.offering else None)
        return PlanFilters(
            offering_id=parse_id(offering) or offering if offering else None,
            customer_id=parse_id(self.customer_provider_uuid) if self.customer_provider_uuid else None,
        )


def to_data(call: Call, view: PlanView) -> dict[str, Any]:
    return wire.provider_plan_data(call, view.offering, view.plan)


def _one(call: Call, view: PlanView) -> dict[str, Any]:
    return render(ProviderPlanOut, to_data(call, view), getattr(call.query, "field", ()))


@endpoint(bp, BASE, "GET", name="marketplace_plans_list", tag=TAG, query=PlanQuery, response=ProviderPlanOut,
          many=True, summary="Plans of the offerings the caller manages")  # fmt: skip
def list_plans(call: Call) -> Any:
    q: PlanQuery = call.query
    page = paginate(service.list_plans(call.user, q.filters()), q.page_request())
    return listed(call, page, ProviderPlanOut, lambda v: to_data(call, v))


@endpoint(bp, BASE, "POST", name="marketplace_plans_create", tag=TAG, body=ProviderPlanIn,
          response=ProviderPlanOut, status=201, retry_key=True,
          summary="Add a plan to an offering")  # fmt: skip
def create_plan(call: Call) -> Any:
    body: ProviderPlanIn = call.body
    spec = {k: v for k, v in wire.plan_spec(body).items() if k != "offering"}
    return Created(_one(call, service.create_plan(call.ctx, id_from_url(body.offering), spec)))


@endpoint(bp, f"{BASE}/{{uuid}}", "GET", name="marketplace_plans_retrieve", tag=TAG, query=FieldsQuery,
          response=ProviderPlanOut)  # fmt: skip
def retrieve_plan(call: Call, uuid: str) -> Any:
    return _one(call, service.get_visible(call.user, object_id(uuid, MODEL)))


@endpoint(bp, f"{BASE}/{{uuid}}", "PUT", name="marketplace_plans_update", tag=TAG, body=PlanIn,
          response=ProviderPlanOut, summary="Change a plan")  # fmt: skip
def update_plan(call: Call, uuid: str) -> Any:
    return _one(call, service.update_plan(call.ctx, object_id(uuid, MODEL), wire.plan_spec(call.body)))


@endpoint(bp, f"{BASE}/{{uuid}}", "PATCH", name="marketplace_plans_partial_update", tag=TAG,
          body=ProviderPlanPatch, response=ProviderPlanOut,
          summary="Change some fields of a plan")  # fmt: skip
def partial_update_plan(call: Call, uuid: str) -> Any:
    sent = patch_changes(call.body)
    return _one(call, service.update_plan(call.ctx, object_id(uuid, MODEL), sent))


@endpoint(bp, f"{BASE}/{{uuid}}/archive", "POST", name="marketplace_plans_archive", tag=TAG,
          response=DetailOut, summary="Archive a plan (no new orders name it)")  # fmt: skip
def archive_plan(call: Call, uuid: str) -> Any:
    service.archive_plan(call.ctx, object_id(uuid, MODEL))
    return {"detail": "Plan has been archived."}


@endpoint(bp, f"{BASE}/{{uuid}}/update_prices", "POST", name="marketplace_plans_update_prices", tag=TAG,
          body=PricesIn, summary="Set prices per unit of components: {prices: {type: price}}")  # fmt: skip
def update_prices(call: Call, uuid: str) -> Any:
    body: PricesIn = call.body
    service.update_prices(call.ctx, object_id(uuid, MODEL), body.prices)
    return Empty()


@endpoint(bp, f"{BASE}/{{uuid}}/update_quotas", "POST", name="marketplace_plans_update_quotas", tag=TAG,
          body=QuotasIn, summary="Set amounts of fixed components: {quotas: {type: amount}}")  # fmt: skip
def update_quotas(call: Call, uuid: str) -> Any:
    body: QuotasIn = call.body
    service.update_quotas(call.ctx, object_id(uuid, MODEL), body.quotas)
    return Empty()
