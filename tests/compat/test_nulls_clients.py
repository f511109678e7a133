"""Unset fields on the wire, read through waldur-api-client: null where Waldur's schema allows null
(DRF renders every declared field, so `d["latitude"]` is None, not a KeyError), absent where it forbids
null (`due_date`, `last_sync`, a list's `billing_price_estimate`), and each body parsed strictly by the
client's `from_dict`. tests/compat/test_null_rule.py checks the rule on every field."""

from __future__ import annotations

from typing import Any

import pytest
from waldur_api_client.types import UNSET

from tests.integration.test_billing import COMPONENTS, PLANS
from tests.marketplace_helpers import build_market, ctx_of, make_offering, order_request

pytestmark = pytest.mark.compat


@pytest.fixture
def aws(stack):
    """Orders start their workflow (recorded by moto, not run)."""
    yield


def _get(api: Any, path: str) -> Any:
    response = api.get_httpx_client().get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _nulls(raw: dict[str, Any]) -> set[str]:
    return {k for k, v in raw.items() if v is None}


def test_a_customer_renders_unset_coordinates_null_and_its_accounting_start(api):
    from waldur_api_client.api.customers import customers_create
    from waldur_api_client.models import Customer, CustomerRequest

    created = customers_create.sync(client=api, body=CustomerRequest(name="Acme"))
    raw = _get(api, f"/api/customers/{created.uuid.hex}/")
    assert raw["latitude"] is None and raw["longitude"] is None
    # Waldur's column defaults to the creation time; its schema forbids null.
    assert raw["accounting_start_date"] == raw["created"]
    assert isinstance(raw["billing_price_estimate"], dict)  # a retrieve computes it

    customer = Customer.from_dict(raw)
    assert customer.latitude is None and customer.longitude is None
    assert customer.accounting_start_date == customer.created

    [listed] = _get(api, "/api/customers/")
    assert listed["latitude"] is None and listed["accounting_start_date"] == raw["created"]
    assert "billing_price_estimate" not in listed  # not computed on lists, and never null in Waldur
    Customer.from_dict(listed)


def test_a_project_renders_unset_dates_null(api):
    from waldur_api_client.api.customers import customers_create
    from waldur_api_client.api.projects import projects_create
    from waldur_api_client.models import CustomerRequest, Project, ProjectRequest

    customer = customers_create.sync(client=api, body=CustomerRequest(name="Acme"))
    project = projects_create.sync(client=api, body=ProjectRequest(name="Apollo", customer=customer.url))
    raw = _get(api, f"/api/projects/{project.uuid.hex}/")
    assert raw["start_date"] is None and raw["end_date"] is None
    parsed = Project.from_dict(raw)
    assert parsed.start_date is None and parsed.end_date is None
    [listed] = _get(api, "/api/projects/")
    assert listed["end_date"] is None and "billing_price_estimate" not in listed
    Project.from_dict(listed)


@pytest.fixture
def billed(aws, admin):
    """A resource made OK now, so its customer has this month's pending invoice."""
    from chalicelib.services import orders

    market = build_market(admin)
    market.offering = make_offering(
        admin, market.provider.id, name="Billed", components=COMPONENTS, plans=PLANS
    )
    ctx = ctx_of(admin)
    order = orders.create_order(ctx, order_request(market, market.offering, limits={"cpu": 4}))
    orders.approve_by_provider(ctx, order.id)
    orders.set_state_done(ctx, order.id)
    market.order_id, market.resource_id = order.id, order.resource_id
    return market


def test_orders_and_resources_render_unset_fields_null_and_leave_out_what_waldur_never_nulls(api, billed):
    from waldur_api_client.models import OrderDetails, Resource

    raw = _get(api, f"/api/marketplace-orders/{billed.order_id}/")
    assert _nulls(raw) == {"callback_url", "new_plan_uuid", "old_plan_uuid", "plan_unit", "resource_type",
                           "resource_uuid"}  # fmt: skip
    assert OrderDetails.from_dict(raw).callback_url is None

    raw = _get(api, f"/api/marketplace-resources/{billed.resource_id}/")
    # scope: null as in Waldur for a resource no backend model stands behind (HomePort reads it);
    # no order in progress; the project has no end date.
    assert _nulls(raw) == {
        "end_date", "plan_unit", "resource_type", "resource_uuid", "username",
        "scope", "order_in_progress", "project_end_date",
    }  # fmt: skip
    assert "last_sync" not in raw  # never synced; Waldur's schema forbids null
    resource = Resource.from_dict(raw)
    assert resource.end_date is None and resource.last_sync is UNSET


def test_a_pending_invoice_has_a_null_invoice_date_and_no_due_date(api, billed):
    from waldur_api_client.models import Invoice

    [raw] = _get(api, f"/api/invoices/?customer_uuid={billed.consumer.id}")
    assert raw["invoice_date"] is None  # Waldur's schema: nullable
    assert "due_date" not in raw  # Waldur's schema: never null
    item = raw["items"][0]
    assert item["backend_uuid"] is None  # nullable in InvoiceItem
    invoice = Invoice.from_dict(raw)
    assert invoice.invoice_date is None and invoice.due_date is UNSET
