"""`/api/invoices/`: Waldur's invoices, read by a customer's owners, staff and support; staff mark
issued invoices paid and set their references. The item shapes shared with `/api/invoice-items/`
(api/invoice_items.py) and the customers' and projects' month estimate live here too.

Shapes are Waldur's serializers': an invoice's price, tax and total are strings with 10 decimal
places, its items' price a JSON number, their tax and total strings to the cent; `due_date` is
left out until the invoice is issued (waldur-api-client types it non-nullable). `paid/` answers
200 with the invoice (Waldur's body is empty; python-waldur-client returns whatever it gets, the
waldur-api-client at hand ignores it).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlparse

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import AfterValidator, Field, StringConstraints, field_validator

from chalicelib.api.fields import each_of, schema_facts
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Empty,
    FieldsQuery,
    ListQuery,
    QueryModel,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import invoices as domain
from chalicelib.domain import money
from chalicelib.domain.clock import isoformat
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import id_from_url
from chalicelib.domain.invoices import InvoiceItem, InvoiceState
from chalicelib.services import billing
from chalicelib.services import invoices as service
from chalicelib.services.invoices import InvoiceView, OfferingStats
from chalicelib.services.paging import Ordering, paginate

bp = Blueprint(__name__)
TAG = "invoices"
INVOICES = "invoices"
ITEMS = "invoice-items"
BASE = f"/api/{INVOICES}"
MODEL = service.MODEL

_STATES = frozenset(s.value for s in InvoiceState)
Day = date  # `date` is also a field name below


def ten(value: Decimal) -> str:
    """DRF's DecimalField(decimal_places=10) rendering (half-even)."""
    return f"{value:.10f}"


def _cents(value: Decimal) -> str:
    return f"{money.cents(value):.2f}"


# --- response models --------------------------------------------------------------------------------
class ItemFields(ResponseModel):
    uuid: str
    url: str
    name: str
    price: float
    unit_price: str
    unit: str
    measured_unit: str
    start: str
    end: str
    article_code: str
    project_name: str
    project_uuid: str | None = None
    quantity: str
    details: dict[str, Any]
    resource: str | None = None
    resource_uuid: str | None = None
    resource_name: str | None = None
    billing_type: str | None = None
    backend_uuid: str | None = None
    credit: bool


class InvoiceItemOut(ItemFields):
    """Waldur's InvoiceItem (nested in an invoice, and `items/`)."""

    omit_when_null = frozenset({"billing_type", "resource_name", "resource_uuid"})

    tax: str
    total: str


class InvoiceOut(ResponseModel):
    """Waldur's Invoice (`customer_uuid` is Cirrus's addition)."""

    omit_when_null = frozenset({"due_date"})

    url: str
    uuid: str
    number: int
    customer: str
    customer_uuid: str
    price: str
    tax: str
    total: str
    state: str
    year: int
    month: int
    issuer_details: dict[str, Any]
    invoice_date: Day | None = None
    due_date: Day | None = None  # left out while null: waldur-api-client parses it as a date
    customer_details: dict[str, Any]
    items: list[dict[str, Any]]
    backend_id: str
    payment_url: str
    reference_number: str
    compensations: float
    incurred_costs: float


class InvoiceStatsOut(ResponseModel):
    """Waldur's InvoiceStatsOffering (`stats/` rows)."""

    uuid: str
    offering_name: str
    aggregated_price: float
    aggregated_tax: float
    aggregated_total: float
    service_category_title: str
    service_provider_name: str
    service_provider_uuid: str


# --- rendering ---------------------------------------------------------------------------------------
def item_data(call: Call, item: InvoiceItem, tax_percent: Decimal) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uuid": item.id,
        "url": call.url(ITEMS, item.id),
        "name": item.name,
        "price": float(item.price),
        "tax": _cents(item.tax(tax_percent)),
        "total": _cents(item.total(tax_percent)),
        "unit_price": ten(item.unit_price),
        "unit": item.unit,
        "measured_unit": domain.measured_unit_of(item),
        "start": isoformat(item.start),
        "end": isoformat(item.end),
        "article_code": item.article_code,
        "project_name": item.project_name,
        "project_uuid": item.project_id or None,
        "quantity": ten(item.quantity),
        "details": dict(item.details),
        "resource": None,
        "billing_type": item.billing_type,
        "backend_uuid": None,
        "credit": False,
    }
    if item.resource_id:
        data.update(
            resource=call.url("marketplace-resources", item.resource_id),
            resource_uuid=item.resource_id,
            resource_name=item.resource_name,
        )
    return data


def _item_out(call: Call, item: InvoiceItem, tax_percent: Decimal) -> dict[str, Any]:
    return render(InvoiceItemOut, item_data(call, item, tax_percent))


def _customer_details(view: InvoiceView) -> dict[str, Any]:
    """Waldur's customer_details: the customer as it is now (only its name on the invoice, if gone)."""
    customer = view.customer
    if customer is None:
        return {"name": view.invoice.customer_name}
    return {
        "name": customer.name,
        "address": customer.address,
        "country": customer.country,
        "country_name": None,
        "email": customer.email,
        "postal": customer.postal,
        "phone_number": customer.phone_number,
        "bank_name": customer.bank_name,
        "bank_account": customer.bank_account,
        "vat_code": customer.vat_code,
    }


def to_data(call: Call, view: InvoiceView) -> dict[str, Any]:
    invoice = view.invoice
    return {
        "url": call.url(INVOICES, invoice.id),
        "uuid": invoice.id,
        "number": invoice.number,
        "customer": call.url("customers", invoice.customer_id),
        "customer_uuid": invoice.customer_id,
        "price": ten(invoice.price),
        "tax": ten(invoice.tax),
        "total": ten(invoice.total),
        "state": invoice.state.value,
        "year": invoice.year,
        "month": invoice.month,
        "issuer_details": {},  # Waldur's WALDUR_INVOICES["ISSUER_DETAILS"]; Cirrus has no such setting
        "invoice_date": invoice.invoice_date,
        "due_date": invoice.due_date,
        "customer_details": _customer_details(view),
        "items": [_item_out(call, i, invoice.tax_percent) for i in invoice.shown_items],
        "backend_id": invoice.backend_id,
        "payment_url": invoice.payment_url,
        "reference_number": invoice.reference_number,
        "compensations": 0.0,
        "incurred_costs": float(domain.incurred_costs(invoice)),
    }


def _one(call: Call, view: InvoiceView) -> dict[str, Any]:
    return render(InvoiceOut, to_data(call, view), getattr(call.query, "field", ()))


def _stats_data(row: OfferingStats) -> dict[str, Any]:
    return {
        "uuid": row.offering_id,
        "offering_name": row.offering_name,
        "aggregated_price": float(row.price),
        "aggregated_tax": float(row.tax),
        "aggregated_total": float(row.total),
        "service_category_title": row.category_title,
        "service_provider_name": row.provider_name,
        "service_provider_uuid": row.provider_id,
    }


class PriceEstimateOut(ResponseModel):
    """Waldur's `billing_price_estimate` of a customer or project: this month so far and in all."""

    total: str
    current: str
    tax: str
    tax_current: str


def price_estimate(call: Call, customer_id: str, project_id: str = "") -> dict[str, Any] | None:
    """The month's estimate for a customer's or project's retrieve (one Query, plus a GetItem for
    the invoice's tax when the month has items); None when `?field=` leaves it out or the caller
    may not see that spend (`billing.visible_estimate`)."""
    fields = getattr(call.query, "field", ())
    if fields and "billing_price_estimate" not in fields:
        return None
    estimate = billing.visible_estimate(call.user, customer_id, project_id)
    if estimate is None:
        return None
    return {name: ten(estimate[name]) for name in PriceEstimateOut.model_fields}


# --- queries and bodies ------------------------------------------------------------------------------
def _choices(values: list[str], known: frozenset[str]) -> list[str]:
    for value in values:
        if value not in known:
            raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
    return values


class InvoiceQuery(ListQuery):
    customer: str | None = None
    customer_uuid: str | None = None
    year: int | None = Field(None, ge=1, le=9999)
    month: int | None = Field(None, ge=1, le=12)
    state: list[str] = Field([], json_schema_extra=each_of(_STATES))
    created: Day | None = None
    start_date: Day | None = None
    end_date: Day | None = None

    ordering_fields = tuple(service.SORT)

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        return _choices(values, _STATES)


class ShownItemsQuery(QueryModel):
    query: str | None = None
    provider_uuid: str | None = None
    project_uuid: str | None = None
    offering_uuid: str | None = None
    conceal_compensation_items: bool | None = None  # Cirrus has no compensation items
    o: str | None = None

    @field_validator("o")
    @classmethod
    def _known_ordering(cls, value: str | None) -> str | None:
        if value is not None:
            _choices([value.lstrip("-")], frozenset(service.ITEM_SORT))
        return value


class StatsQuery(ListQuery):
    provider_uuid: str | None = None


class PaidIn(BodyModel):
    """Waldur's PaidSerializer: the payment's date (and a proof file, which JSON cannot carry):
    accepted, not stored (Cirrus keeps no payment records)."""

    date: Day | None = None
    proof: Any = None


def _url(value: str) -> str:
    try:
        parsed = urlparse(value)
    except ValueError:  # "http://[": an unclosed IPv6 host
        parsed = None
    if value and (parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc):
        raise ValueError("Enter a valid URL.")
    return value


# What `_url` accepts, as the schema's pattern can say it (every URL it matches is accepted): blank,
# or http(s):// then a host part of printable ASCII without `/?#[]` (brackets and non-ASCII hosts are
# accepted when they parse, but not described), then anything on one line.
_NETLOC = r"[\u0021\u0022\u0024-\u002e\u0030-\u003e\u0040-\u005a\u005c\u005e-\u007e]+"
PAYMENT_URL_PATTERN = f"^([Hh][Tt][Tt][Pp][Ss]?://{_NETLOC}([/?#].*)?)?$"
PaymentUrl = Annotated[
    str, StringConstraints(max_length=200), AfterValidator(_url), schema_facts(pattern=PAYMENT_URL_PATTERN)
]


class BackendIdIn(BodyModel):
    backend_id: str = Field(max_length=255)


class PaymentUrlIn(BodyModel):
    payment_url: PaymentUrl


class ReferenceNumberIn(BodyModel):
    reference_number: str = Field(max_length=300)


def _customer_filter(q: InvoiceQuery) -> str | None:
    """`customer` (a URL or uuid) and `customer_uuid`; both given and different: no customer."""
    named = []
    if q.customer is not None:
        parsed = id_from_url(q.customer)
        if parsed is None:
            raise ValidationError.field("customer", "Enter a valid UUID.")
        named.append(parsed)
    if q.customer_uuid is not None:
        named.append(uuid_filter("customer_uuid", q.customer_uuid) or "")
    if len(set(named)) > 1:
        return "-"  # names two customers: matches none
    return named[0] if named else None


# --- invoices ----------------------------------------------------------------------------------------
@endpoint(
    bp,
    BASE,
    "GET",
    name="invoices_list",
    tag=TAG,
    query=InvoiceQuery,
    response=InvoiceOut,
    many=True,
    summary="Invoices of the customers the caller owns (staff and support: all)",
)
def list_invoices(call: Call) -> Any:
    q: InvoiceQuery = call.query
    filters = service.InvoiceFilters(
        customer_id=_customer_filter(q),
        year=q.year,
        month=q.month,
        states=tuple(q.state),
        created=q.created,
        start_date=q.start_date,
        end_date=q.end_date,
    )
    page = service.list_invoices(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, InvoiceOut, lambda v: to_data(call, v))


@endpoint(
    bp, f"{BASE}/{{uuid}}", "GET", name="invoices_retrieve", tag=TAG, query=FieldsQuery, response=InvoiceOut
)
def retrieve_invoice(call: Call, uuid: str) -> Any:
    return _one(call, service.get_visible(call.user, object_id(uuid, MODEL)))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/items",
    "GET",
    name="invoices_items_retrieve",
    tag=TAG,
    query=ShownItemsQuery,
    response=InvoiceItemOut,
    unpaged=True,
    summary="The invoice's items (those that cost something), as a plain list",
)
def invoice_items(call: Call, uuid: str) -> Any:
    q: ShownItemsQuery = call.query
    filters = service.ShownItemFilters(
        query=q.query,
        provider_id=uuid_filter("provider_uuid", q.provider_uuid),
        project_id=uuid_filter("project_uuid", q.project_uuid),
        offering_id=uuid_filter("offering_uuid", q.offering_uuid),
    )
    invoice, items = service.items_of_invoice(call.user, object_id(uuid, MODEL), filters, Ordering.parse(q.o))
    return [_item_out(call, i, invoice.tax_percent) for i in items]


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/stats",
    "GET",
    name="invoices_stats_list",
    tag=TAG,
    query=StatsQuery,
    response=InvoiceStatsOut,
    many=True,
    summary="The invoice's cost per offering (one provider's, with provider_uuid)",
)
def invoice_stats(call: Call, uuid: str) -> Any:
    q: StatsQuery = call.query
    rows = service.stats(call.user, object_id(uuid, MODEL), uuid_filter("provider_uuid", q.provider_uuid))
    return listed(call, paginate(rows, q.page_request()), InvoiceStatsOut, _stats_data)


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/paid",
    "POST",
    name="invoices_paid",
    tag=TAG,
    body=PaidIn,
    response=InvoiceOut,
    summary="Staff mark an issued invoice paid (409 unless it is created)",
)
def invoice_paid(call: Call, uuid: str) -> Any:
    return _one(call, service.set_paid(call.ctx, object_id(uuid, MODEL)))


def _reference(name: str, body: type[BodyModel], summary: str) -> None:
    @endpoint(
        bp,
        f"{BASE}/{{uuid}}/set_{name}",
        "POST",
        name=f"invoices_set_{name}",
        tag=TAG,
        body=body,
        summary=summary,
    )
    def set_reference(call: Call, uuid: str) -> Any:
        service.set_references(call.ctx, object_id(uuid, MODEL), {name: getattr(call.body, name)})
        return Empty()


_reference("backend_id", BackendIdIn, "Staff record the invoice's id in another system")
_reference("payment_url", PaymentUrlIn, "Staff set where the invoice is paid")
_reference("reference_number", ReferenceNumberIn, "Staff set the invoice's payment reference")
