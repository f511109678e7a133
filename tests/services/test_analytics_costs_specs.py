"""Costs and limits read from the analytics series, specified on the fakes (no AWS): invoice items,
invoices and resources contribute their facts (domain/analytics_costs.py) as the stream consumer
folds them, and the services answer from them. Every figure below is computed by hand.

Two offerings of one provider (country FI): "Alpha" (no country: its provider's) and "Beta" (EE).
Acme (no tax) and Globex (25 % tax) have invoices in November and December 2026.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import analytics_costs as facts
from chalicelib.domain import clock
from chalicelib.domain.context import Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import PermissionDenied, ValidationError
from chalicelib.domain.invoices import Invoice, InvoiceItem, InvoiceState
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import Offering, ResourceState
from chalicelib.services import analytics_costs as service
from chalicelib.services import ports
from tests.fakes.world import World

ACME, GLOBEX, PROVIDER = "a" * 32, "b" * 32, "c" * 32
ALPHA, BETA = "1" * 32, "2" * 32
STAFF = Principal("f" * 32, "staff", is_staff=True)
SUPPORT = Principal("e" * 32, "support", is_support=True)
OWNER = Principal("d" * 32, "owner")
NOV = datetime(2026, 11, 1, tzinfo=UTC)


def item(
    n: int, customer: str, offering: str, name: str, unit_price: str, quantity: str, month: int = 11
) -> InvoiceItem:
    start = datetime(2026, month, 1, tzinfo=UTC)
    return InvoiceItem(
        id=f"{n:032x}",
        customer_id=customer,
        year=2026,
        month=month,
        name=f"item {n}",
        unit="month",
        unit_price=Decimal(unit_price),
        quantity=Decimal(quantity),
        start=start,
        end=start,
        offering_id=offering,
        provider_id=PROVIDER,
        details={"offering_name": name},
    )


def invoice(customer: str, name: str, tax: str, month: int = 11) -> Invoice:
    return Invoice(
        id=f"{month:02d}{customer[:30]}",
        customer_id=customer,
        customer_name=name,
        year=2026,
        month=month,
        number=100000 + month,
        state=InvoiceState.PENDING,
        tax_percent=Decimal(tax),
        created=NOV,
    )


def resource(n: int, offering: str, state: ResourceState, **limits: int) -> Resource:
    return Resource(
        id=f"{n:032x}",
        name=f"vm-{n}",
        state=state,
        customer_id=ACME,
        project_id="9" * 32,
        offering_id=offering,
        provider_id=PROVIDER,
        created=NOV,
        modified=NOV,
        limits=limits,
    )


@pytest.fixture
def analytics(fakes: World) -> Iterator[Any]:
    fakes.table("customers")[PROVIDER] = Customer(id=PROVIDER, name="Provider", created=NOV, country="FI")
    fakes.table("offerings")[ALPHA] = Offering(id=ALPHA, customer_id=PROVIDER, name="Alpha", type="Basic")
    fakes.table("offerings")[BETA] = Offering(
        id=BETA, customer_id=PROVIDER, name="Beta", type="Basic", country="EE"
    )
    clock.set_source(lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))
    found = ports.current().analytics
    # November: Acme's 10 x 3.333 = 33.33 (33.330 exactly) and 1 x 0.004 -> 0.01 (rounded up, as
    # Waldur's Ceil) on Alpha; Globex's 2 x 7.5 = 15.00 on Beta. December: Acme's 20.00 on Alpha.
    for made in (
        item(1, ACME, ALPHA, "Alpha", "3.333", "10"),
        item(2, ACME, ALPHA, "Alpha", "0.004", "1"),
        item(3, GLOBEX, BETA, "Beta", "7.5", "2"),
        item(4, ACME, ALPHA, "Alpha", "20", "1", month=12),
    ):
        found.add(*facts.invoice_item_facts(made))
    for billed in (
        invoice(ACME, "Acme", "0"),
        invoice(GLOBEX, "Globex Ltd", "25"),
        invoice(ACME, "Acme", "0", 12),
    ):
        found.add(*facts.invoice_facts(billed))
    yield found


def test_an_offerings_cost_is_its_items_prices_in_the_months_asked(analytics: Any) -> None:
    assert [(c.offering_id, c.offering_name, c.cost) for c in service.offering_costs(STAFF)] == [
        (ALPHA, "Alpha", Decimal("33.34")),
        (BETA, "Beta", Decimal("15.00")),
    ]
    both = service.offering_costs(SUPPORT, "2026-11", "2026-12")
    assert [(c.offering_id, c.cost) for c in both] == [(ALPHA, Decimal("53.34")), (BETA, Decimal("15.00"))]
    assert service.offering_costs(STAFF, "2026-12", "2026-12")[0].cost == Decimal("20.00")
    assert service.offering_costs(STAFF, "2025-01", "2026-10") == []


def test_a_corrected_item_moves_its_offerings_cost(analytics: Any) -> None:
    before = item(3, GLOBEX, BETA, "Beta", "7.5", "2")
    analytics.fold(
        facts.invoice_item_facts(before), facts.invoice_item_facts(replace(before, quantity=Decimal(1)))
    )
    assert [c.cost for c in service.offering_costs(STAFF)] == [Decimal("33.34"), Decimal("7.50")]
    analytics.fold(facts.invoice_item_facts(replace(before, quantity=Decimal(1))), ())  # deleted
    assert [c.offering_id for c in service.offering_costs(STAFF)] == [ALPHA]


def test_the_summary_adds_the_offerings_up(analytics: Any) -> None:
    found = service.costs_summary(STAFF)
    assert (found.total_cost, found.offering_count, found.average_cost) == (
        Decimal("48.34"),
        2,
        Decimal("24.17"),
    )
    empty = service.costs_summary(STAFF, "2020-01", "2020-12")
    assert (empty.total_cost, empty.offering_count, empty.average_cost) == (
        Decimal("0.00"),
        0,
        Decimal("0.00"),
    )


def test_the_months_total_cost_adds_each_invoices_tax(analytics: Any) -> None:
    # Acme 33.34 (no tax), Globex 15.00 + 25 % = 18.75
    assert service.total_cost(STAFF, 2026, 11) == (Decimal("52.09"), Decimal("48.34"))
    assert service.total_cost(STAFF) == (Decimal("52.09"), Decimal("48.34"))  # this month
    assert service.total_cost(STAFF, 2026, 11, name="ltd") == (Decimal("18.75"), Decimal("15.00"))
    assert service.total_cost(STAFF, 2026, 11, customer_id=ACME) == (Decimal("33.34"), Decimal("33.34"))
    assert service.total_cost(STAFF, 2026, 12) == (Decimal("20.00"), Decimal("20.00"))
    assert service.total_cost(STAFF, 2026, 10) == (Decimal(0), Decimal(0))


def test_limits_count_ok_resources_positive_limits_with_the_offerings_country(analytics: Any) -> None:
    resources = [
        resource(1, ALPHA, ResourceState.OK, cpu=4, ram=0),
        resource(2, ALPHA, ResourceState.OK, cpu=2, ram=1024),
        resource(3, BETA, ResourceState.OK, cpu=8),
        resource(4, BETA, ResourceState.UPDATING, cpu=100),  # not OK: not counted (Waldur)
        resource(5, BETA, ResourceState.CREATING, cpu=100),
    ]
    for made in resources:
        analytics.add(*facts.resource_facts(made))
    found = [(c.offering_id, c.name, c.value, country) for c, country in service.resources_limits(STAFF)]
    assert found == [(ALPHA, "cpu", 6, "FI"), (ALPHA, "ram", 1024, "FI"), (BETA, "cpu", 8, "EE")]

    # r3 is terminated, r4 comes back to OK
    analytics.fold(
        facts.resource_facts(resources[2]),
        facts.resource_facts(replace(resources[2], state=ResourceState.TERMINATING)),
    )
    analytics.fold(
        facts.resource_facts(resources[3]),
        facts.resource_facts(replace(resources[3], state=ResourceState.OK)),
    )
    assert [(c.offering_id, c.value) for c, _ in service.resources_limits(STAFF) if c.name == "cpu"] == [
        (ALPHA, 6),
        (BETA, 100),
    ]


def test_nobody_but_staff_and_support_reads_them(analytics: Any) -> None:
    for read in (service.offering_costs, service.costs_summary, service.total_cost, service.resources_limits):
        with pytest.raises(PermissionDenied):
            read(OWNER)


def test_a_range_is_both_months_or_neither_in_order_and_bounded(analytics: Any) -> None:
    cases = [
        (("2026-11", None), {"non_field_errors": [facts.BOTH_NEEDED]}),
        (("2026-12", "2026-11"), {"non_field_errors": [facts.START_AFTER_END]}),
        (("2026-00", "2026-11"), {"start": [facts.MONTH_RANGE]}),
        (("2026-01", "2026-1x"), {"end": ['Value "2026-1x" should be in valid format YYYY-MM']}),
        (("2016-11", "2026-11"), {"non_field_errors": [facts.TOO_LONG]}),  # 121 months
    ]
    for (start, end), errors in cases:
        with pytest.raises(ValidationError) as refused:
            service.offering_costs(STAFF, start, end)
        assert refused.value.errors == errors
    assert service.offering_costs(STAFF, "2016-12", "2026-11")  # 120 months: taken
