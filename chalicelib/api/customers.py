"""`/api/customers/`: organisations. Staff create and delete; the list is what the caller may see."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.fields import (
    Country,
    Email,
    QuotaOut,
    SlugOrBlank,
    changes,
    free_text,
    line_text,
    name_text,
    partial,
    patch_changes,
    quotas_out,
    text,
)
from chalicelib.api.invoices import PriceEstimateOut, price_estimate
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain.customers import Customer
from chalicelib.services import customers as service

bp = Blueprint(__name__)
TAG = "customers"
MODEL = "Customer"


class CustomerIn(BodyModel):
    name: name_text(150)  # type: ignore[valid-type]
    native_name: line_text(160) = ""  # type: ignore[valid-type]
    abbreviation: line_text(12) = ""  # type: ignore[valid-type]
    contact_details: free_text(2000) = ""  # type: ignore[valid-type]
    email: Email = ""
    phone_number: line_text(255) = ""  # type: ignore[valid-type]
    registration_code: line_text(160) = ""  # type: ignore[valid-type]
    domain: text(255) = ""  # type: ignore[valid-type]
    homepage: text(255) = ""  # type: ignore[valid-type]
    country: Country = ""
    vat_code: line_text(20) = ""  # type: ignore[valid-type]
    address: free_text(300) = ""  # type: ignore[valid-type]
    postal: line_text(20) = ""  # type: ignore[valid-type]
    bank_name: line_text(150) = ""  # type: ignore[valid-type]
    bank_account: line_text(50) = ""  # type: ignore[valid-type]
    backend_id: text(255) = ""  # type: ignore[valid-type]
    description: free_text(2000) = ""  # type: ignore[valid-type]
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    default_tax_percent: Decimal = Field(Decimal("0"), ge=0, le=200, max_digits=5, decimal_places=2)
    accounting_start_date: datetime | None = None
    blocked: bool = False
    archived: bool = False
    # Staff only (Waldur's SlugSerializerMixin); generated from the name when not given.
    slug: SlugOrBlank | None = None


# What a PATCH may set to null (the rest refuse it, in DRF's words).
_NULLABLE = frozenset({"latitude", "longitude", "accounting_start_date"})
CustomerPatch = partial(CustomerIn, "CustomerPatch", nullable=_NULLABLE)


class CustomerOut(ResponseModel):
    omit_when_null = frozenset({"billing_price_estimate", "slug"})

    url: str
    uuid: str
    created: datetime
    name: str
    display_name: str
    native_name: str
    abbreviation: str
    contact_details: str
    email: str
    phone_number: str
    registration_code: str
    domain: str
    homepage: str
    country: str
    vat_code: str
    address: str
    postal: str
    bank_name: str
    bank_account: str
    backend_id: str
    description: str
    latitude: float | None = None
    longitude: float | None = None
    blocked: bool
    archived: bool
    default_tax_percent: str
    accounting_start_date: datetime  # Waldur's default: the creation time
    projects_count: int
    users_count: int
    quotas: list[QuotaOut]
    billing_price_estimate: PriceEstimateOut | None = None  # on retrieve only (one more Query)
    slug: str | None = None  # absent on a customer made before slugs, until the ops backfill


class CustomerQuery(ListQuery):
    name: str | None = None
    name_exact: str | None = None
    abbreviation: str | None = None
    query: str | None = None
    owned_by_current_user: bool | None = None
    slug: str | None = None

    ordering_fields = service.ORDERING_FIELDS


def to_data(call: Call, customer: Customer) -> dict[str, Any]:
    data: dict[str, Any] = {
        name: getattr(customer, name) for name in CustomerIn.model_fields if name != "default_tax_percent"
    }
    data.update(
        url=call.url("customers", customer.id),
        uuid=customer.id,
        created=customer.created,
        display_name=customer.name,
        default_tax_percent=f"{customer.default_tax_percent:.2f}",
        projects_count=customer.projects_count,
        users_count=customer.users_count,
        quotas=quotas_out(customer.quotas),
        slug=customer.slug or None,
        # Waldur's column defaults to the creation time and its schema forbids null.
        accounting_start_date=customer.accounting_start_date or customer.created,
    )
    return data


def _one(call: Call, customer: Customer) -> dict[str, Any]:
    return render(CustomerOut, to_data(call, customer), getattr(call.query, "field", ()))


@endpoint(
    bp,
    "/api/customers",
    "GET",
    name="customers_list",
    tag=TAG,
    query=CustomerQuery,
    response=CustomerOut,
    many=True,
    summary="List customers the caller may see",
)
def list_customers(call: Call) -> Any:
    q: CustomerQuery = call.query
    filters = service.CustomerFilters(
        name=q.name,
        name_exact=q.name_exact,
        abbreviation=q.abbreviation,
        query=q.query,
        owned_by_current_user=q.owned_by_current_user,
        slug=q.slug,
    )
    page = service.list_customers(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, CustomerOut, lambda c: to_data(call, c))


@endpoint(
    bp,
    "/api/customers",
    "POST",
    name="customers_create",
    tag=TAG,
    body=CustomerIn,
    response=CustomerOut,
    status=201,
    retry_key=True,
    summary="Create a customer (staff)",
)
def create_customer(call: Call) -> Any:
    customer = service.create_customer(call.ctx, changes(call.body))
    return Created(_one(call, customer))


@endpoint(
    bp,
    "/api/customers/{uuid}",
    "GET",
    name="customers_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=CustomerOut,
)
def retrieve_customer(call: Call, uuid: str) -> Any:
    customer = service.get_visible(call.user, object_id(uuid, MODEL))
    data = to_data(call, customer)
    data["billing_price_estimate"] = price_estimate(call, customer.id)
    return render(CustomerOut, data, call.query.field)


@endpoint(
    bp,
    "/api/customers/{uuid}",
    "PUT",
    name="customers_update",
    tag=TAG,
    body=CustomerIn,
    response=CustomerOut,
)
def update_customer(call: Call, uuid: str) -> Any:
    return _one(call, service.update_customer(call.ctx, object_id(uuid, MODEL), changes(call.body)))


@endpoint(
    bp,
    "/api/customers/{uuid}",
    "PATCH",
    name="customers_partial_update",
    tag=TAG,
    body=CustomerPatch,
    response=CustomerOut,
)
def partial_update_customer(call: Call, uuid: str) -> Any:
    return _one(call, service.update_customer(call.ctx, object_id(uuid, MODEL), patch_changes(call.body)))


@endpoint(bp, "/api/customers/{uuid}", "DELETE", name="customers_destroy", tag=TAG, status=204)
def delete_customer(call: Call, uuid: str) -> Any:
    service.delete_customer(call.ctx, object_id(uuid, MODEL))
    return NoContent()
