"""`/api/invoice-items/`: the items of the invoices the caller sees (Waldur's InvoiceItemViewSet);
staff correct or remove the items of pending invoices."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.fields import IsoDateTime, UuidFilter, omitted
from chalicelib.api.invoices import INVOICES, ITEMS, ItemFields, item_data
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.rest import (
    BodyModel,
    Call,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import invoices as domain
from chalicelib.services import invoices as service
from chalicelib.services.invoices import ItemView

bp = Blueprint(__name__)
TAG = "invoice-items"
BASE = f"/api/{ITEMS}"
MODEL = service.ITEM_MODEL


class InvoiceItemDetailOut(ItemFields):
    """Waldur's InvoiceItemDetail (`invoice-items/`): the item with its invoice, offering and
    customer. No tax or total: the tax percent is the invoice's (as in Waldur's serializer)."""

    invoice: str
    offering_uuid: str | None = None
    offering_name: str | None = None
    offering_component_type: str | None = None
    customer_uuid: str
    customer_name: str


def item_detail_data(call: Call, view: ItemView) -> dict[str, Any]:
    item = view.item
    return {
        **item_data(call, item, Decimal(0)),  # its tax and total are not shown here
        "invoice": call.url(INVOICES, domain.invoice_id(item.customer_id, item.year, item.month)),
        "offering_uuid": item.offering_id or None,
        "offering_name": item.details.get("offering_name"),
        "offering_component_type": item.component_type or None,
        "customer_uuid": item.customer_id,
        "customer_name": view.customer_name,
    }


def _item_detail(call: Call, view: ItemView) -> dict[str, Any]:
    return render(InvoiceItemDetailOut, item_detail_data(call, view), getattr(call.query, "field", ()))


class ItemQuery(ListQuery):
    customer_uuid: UuidFilter | None = None
    project_uuid: UuidFilter | None = None
    resource_uuid: UuidFilter | None = None
    offering_uuid: UuidFilter | None = None
    credit_uuid: UuidFilter | None = None
    year: int | None = Field(None, ge=1, le=9999)
    month: int | None = Field(None, ge=1, le=12)
    start_year: int | None = Field(None, ge=1, le=9999)
    start_month: int | None = Field(None, ge=1, le=12)


class ItemUpdateIn(BodyModel):
    """Waldur's InvoiceItemUpdateSerializer: a fixed item's quantity follows its span; other items
    keep their span (the rule is domain/invoice_corrections.edit_item's)."""

    # Each may be left out, none may be null (the type refuses it, in DRF's words).
    article_code: Annotated[str, Field(max_length=30)] = omitted()
    quantity: Annotated[Decimal, Field(ge=0, max_digits=22, decimal_places=10)] = omitted()
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=22, decimal_places=10)] = omitted()
    start: IsoDateTime = omitted()
    end: IsoDateTime = omitted()

    def changes(self) -> dict[str, Any]:
        sent = {k: getattr(self, k) for k in self.model_fields_set}
        for name in ("start", "end"):
            if name in sent and sent[name].tzinfo is None:
                sent[name] = sent[name].replace(tzinfo=UTC)
        return sent


# --- endpoints -------------------------------------------------------------------------------------------
@endpoint(
    bp,
    BASE,
    "GET",
    name="invoice_items_list",
    tag=TAG,
    query=ItemQuery,
    response=InvoiceItemDetailOut,
    many=True,
    summary="Items of the invoices the caller sees",
)
def list_items(call: Call) -> Any:
    q: ItemQuery = call.query
    filters = service.ItemFilters(
        customer_id=uuid_filter("customer_uuid", q.customer_uuid),
        project_id=uuid_filter("project_uuid", q.project_uuid),
        resource_id=uuid_filter("resource_uuid", q.resource_uuid),
        offering_id=uuid_filter("offering_uuid", q.offering_uuid),
        credit_id=uuid_filter("credit_uuid", q.credit_uuid),
        year=q.year,
        month=q.month,
        start_year=q.start_year,
        start_month=q.start_month,
    )
    page = service.list_items(call.user, filters, q.page_request())
    return listed(call, page, InvoiceItemDetailOut, lambda v: item_detail_data(call, v))


class InvoiceCostOut(ResponseModel):
    """Waldur's InvoiceCost: a month's price to the cent, its incurred costs (unrounded) and its
    compensations (Cirrus has none)."""

    price: float
    year: int
    month: int
    compensation: float
    incurred: float


class CostsQuery(ListQuery):
    project_uuid: UuidFilter | None = None


def _cost_data(row: service.MonthCost) -> dict[str, Any]:
    return {
        "price": float(row.price),
        "year": row.year,
        "month": row.month,
        "compensation": 0.0,
        "incurred": float(row.incurred),
    }


@endpoint(
    bp,
    f"{BASE}/costs",
    "GET",
    name="invoice_items_costs_list",
    tag=TAG,
    query=CostsQuery,
    response=InvoiceCostOut,
    many=True,
    summary="A project's cost per invoice month, newest first (HomePort's project cost chart)",
)
def project_costs(call: Call) -> Any:
    q: CostsQuery = call.query
    page = service.project_costs(call.user, uuid_filter("project_uuid", q.project_uuid), q.page_request())
    return listed(call, page, InvoiceCostOut, _cost_data)


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "GET",
    name="invoice_items_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=InvoiceItemDetailOut,
)
def retrieve_item(call: Call, uuid: str) -> Any:
    return _item_detail(call, service.get_visible_item(call.user, object_id(uuid, MODEL)))


def _update(call: Call, uuid: str) -> Any:
    body: ItemUpdateIn = call.body
    view = service.update_item(call.ctx, object_id(uuid, MODEL), body.changes())
    return _item_detail(call, view)


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "PUT",
    name="invoice_items_update",
    tag=TAG,
    body=ItemUpdateIn,
    response=InvoiceItemDetailOut,
    summary="Staff correct an item of a pending invoice",
)
def update_item(call: Call, uuid: str) -> Any:
    return _update(call, uuid)


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "PATCH",
    name="invoice_items_partial_update",
    tag=TAG,
    body=ItemUpdateIn,
    response=InvoiceItemDetailOut,
    summary="Staff correct an item of a pending invoice",
)
def partial_update_item(call: Call, uuid: str) -> Any:
    return _update(call, uuid)


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "DELETE",
    name="invoice_items_destroy",
    tag=TAG,
    status=204,
    summary="Staff remove an item of a pending invoice",
)
def delete_item(call: Call, uuid: str) -> Any:
    service.delete_item(call.ctx, object_id(uuid, MODEL))
    return NoContent()
