"""`/api/financial-reports/<customer uuid>/`: Waldur's financial report of a customer, its identity
and this month's estimate (HomePort's billing page shows the estimate as "Estimated cost"). For those
who see the customer's spend: staff, support, its customer-level roles. Cirrus has no payment
profiles: the list of them is empty.

`/api/financial-reports/`: the same report for every customer whose spend the caller sees (staff and
support: all of them), filtered, ordered and paged as the customers list, with `customer_uuid=` and
`year=`/`month=` (the estimate of that month: its invoice so far, counted to the month's end for a
month past). Round trips per page: the customers' page (one Query; a BatchGetItem of the caller's
own for anybody else) and one Query per customer on it (its month's invoice with its items), so a
page of 10 is 11 reads after the token's, whatever the number of customers or resources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.customers import CustomerQuery
from chalicelib.api.fields import UuidFilter
from chalicelib.api.invoices import PriceEstimateOut, ten
from chalicelib.api.rest import Call, FieldsQuery, ResponseModel, endpoint, listed, object_id, render
from chalicelib.domain.clock import utcnow
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import parse_id
from chalicelib.services import billing
from chalicelib.services import customers as service

bp = Blueprint(__name__)
TAG = "financial-reports"


class FinancialReportOut(ResponseModel):
    name: str
    uuid: str
    created: datetime
    abbreviation: str
    accounting_start_date: datetime
    registration_code: str
    agreement_number: str
    payment_profiles: list[dict[str, Any]]
    billing_price_estimate: PriceEstimateOut


class FinancialReportQuery(CustomerQuery):
    customer_uuid: UuidFilter | None = None
    year: int | None = Field(None, ge=1, le=9999)
    month: int | None = Field(None, ge=1, le=12)


BOTH_NEEDED = "Give both year and month, or neither (this month)."


def _month_end(year: int, month: int) -> datetime:
    """The last instant of a month (a month past is counted to its end)."""
    first_of_next = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return first_of_next - timedelta(microseconds=1)


def _as_of(year: int | None, month: int | None, now: datetime) -> datetime | None:
    """When the month asked for is counted to: now (None) for this month or none asked; a month past
    to its end; a month to come from its start (nothing is billed there yet)."""
    if year is None or month is None or (year, month) == (now.year, now.month):
        return None
    if (year, month) < (now.year, now.month):
        return _month_end(year, month)
    return datetime(year, month, 1, tzinfo=UTC)


def _report(customer: Customer, when: datetime | None = None) -> dict[str, Any]:
    estimate = billing.month_estimate(customer.id, now=when)
    return {
        "name": customer.name,
        "uuid": customer.id,
        "created": customer.created,
        "abbreviation": customer.abbreviation,
        "accounting_start_date": customer.accounting_start_date or customer.created,
        "registration_code": customer.registration_code,
        "agreement_number": "",  # Cirrus keeps no agreement numbers
        "payment_profiles": [],
        "billing_price_estimate": {name: ten(estimate[name]) for name in PriceEstimateOut.model_fields},
    }


@endpoint(
    bp,
    "/api/financial-reports",
    "GET",
    name="financial_reports_list",
    tag=TAG,
    query=FinancialReportQuery,
    response=FinancialReportOut,
    many=True,
    summary="Every customer whose spend the caller sees, with the month's estimate",
)
def list_reports(call: Call) -> Any:
    q: FinancialReportQuery = call.query
    if (q.year is None) != (q.month is None):
        raise ValidationError({"non_field_errors": [BOTH_NEEDED]})
    when = _as_of(q.year, q.month, utcnow())
    filters = service.CustomerFilters(
        name=q.name,
        name_exact=q.name_exact,
        abbreviation=q.abbreviation,
        query=q.query,
        owned_by_current_user=q.owned_by_current_user,
        slug=q.slug,
    )
    customer = parse_id(q.customer_uuid) if q.customer_uuid else None
    page = service.list_reported(call.user, filters, q.ordering(), q.page_request(), customer)
    return listed(call, page, FinancialReportOut, lambda c: _report(c, when))


@endpoint(
    bp,
    "/api/financial-reports/{uuid}",
    "GET",
    name="financial_reports_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=FinancialReportOut,
    summary="A customer's identity and this month's estimate (for those who see its spend)",
)
def retrieve_report(call: Call, uuid: str) -> Any:
    customer = service.get_reported(call.user, object_id(uuid, service.MODEL))
    # the caller sees the customer's spend (above)
    return render(FinancialReportOut, _report(customer), call.query.field)
