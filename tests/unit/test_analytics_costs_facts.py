"""The facts invoices, their items and resources contribute to the cost and limit series
(domain/analytics_costs.py): placed by the object's own month and state, never by the time seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain.analytics import NOW, Add
from chalicelib.domain.analytics_costs import (
    COSTS_BY_OFFERING,
    INVOICES,
    LIMITS,
    OfferingCost,
    invoice_facts,
    invoice_item_facts,
    limit_field,
    resource_facts,
    summary,
)
from chalicelib.domain.invoices import Invoice, InvoiceItem, InvoiceState
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import ResourceState

CUSTOMER, OFFERING, PROVIDER = "a" * 32, "b" * 32, "c" * 32
WHEN = datetime(2027, 1, 31, 23, 59, tzinfo=UTC)


def _item(**fields: object) -> InvoiceItem:
    values: dict = {
        "id": "1" * 32,
        "customer_id": CUSTOMER,
        "year": 2026,
        "month": 2,
        "name": "vm-1 / CPU",
        "unit": "month",
        "unit_price": Decimal("2.5"),
        "quantity": Decimal("0.333"),
        "start": WHEN,
        "end": WHEN,
        "offering_id": OFFERING,
        "details": {"offering_name": "Compute"},
    }
    return InvoiceItem(**{**values, **fields})  # type: ignore[arg-type]


def test_an_item_adds_its_rounded_up_price_in_its_invoices_month() -> None:
    # 2.5 x 0.333 = 0.8325 -> 0.84 (up to the cent); February 2026 whatever its start says
    assert invoice_item_facts(_item()) == [
        Add(INVOICES, "M#2026-02", f"price#{CUSTOMER}", Decimal("0.84")),
        Add(COSTS_BY_OFFERING, "M#2026-02", OFFERING, Decimal("0.84"), label="Compute"),
    ]
    assert invoice_item_facts(_item(offering_id="")) == [
        Add(INVOICES, "M#2026-02", f"price#{CUSTOMER}", Decimal("0.84"))
    ]


def test_an_invoice_adds_its_customer_and_tax_in_its_month() -> None:
    invoice = Invoice(
        id="2" * 32,
        customer_id=CUSTOMER,
        customer_name="Acme",
        year=2026,
        month=12,
        number=100001,
        state=InvoiceState.PAID,
        tax_percent=Decimal("20"),
        created=WHEN,
    )
    assert invoice_facts(invoice) == [
        Add(INVOICES, "M#2026-12", f"invoice#{CUSTOMER}", 1, label="Acme"),
        Add(INVOICES, "M#2026-12", f"tax#{CUSTOMER}", Decimal("20")),
    ]


def test_only_an_ok_resources_positive_limits_count() -> None:
    ok = Resource(
        id="3" * 32,
        name="vm",
        state=ResourceState.OK,
        customer_id=CUSTOMER,
        project_id="4" * 32,
        offering_id=OFFERING,
        provider_id=PROVIDER,
        created=WHEN,
        modified=WHEN,
        limits={"ram": 2048, "cpu": 4, "gpu": 0},
    )
    assert resource_facts(ok) == [
        Add(LIMITS, NOW, limit_field(PROVIDER, OFFERING, "cpu"), 4),
        Add(LIMITS, NOW, limit_field(PROVIDER, OFFERING, "ram"), 2048),
    ]
    for state in (
        ResourceState.CREATING,
        ResourceState.UPDATING,
        ResourceState.ERRED,
        ResourceState.TERMINATED,
    ):
        assert resource_facts(replace(ok, state=state)) == []


def test_the_average_cost_is_rounded_half_even_to_the_cent() -> None:
    costs = [OfferingCost(str(n), "", Decimal(v)) for n, v in enumerate(("0.01", "0.02", "0.02", "0.01"))]
    found = summary(costs)  # 0.06 / 4 = 0.015 -> 0.02 (half-even)
    assert (found.total_cost, found.offering_count, found.average_cost) == (
        Decimal("0.06"),
        4,
        Decimal("0.02"),
    )
    found = summary([*costs[:1], OfferingCost("x", "", Decimal("0.04"))])  # 0.05 / 2 = 0.025 -> 0.02
    assert found.average_cost == Decimal("0.02")
