"""`/api/financial-reports/<customer uuid>/`: Waldur's financial report of a customer, its identity
and this month's estimate (HomePort's billing page shows the estimate as "Estimated cost"). For those
who see the customer's spend: staff, support, its customer-level roles. Cirrus has no payment
profiles: the list of them is empty. (The staff-wide list, `financial-reports/`, with its accounting
period filters, is not served yet.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api.invoices import PriceEstimateOut, ten
from chalicelib.api.rest import Call, FieldsQuery, ResponseModel, endpoint, object_id, render
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
    estimate = billing.month_estimate(customer.id)  # the caller sees the customer's spend (above)
    data = {
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
    return render(FinancialReportOut, data, call.query.field)
