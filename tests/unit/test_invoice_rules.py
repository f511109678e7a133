"""Invoice arithmetic against hand-computed values (Waldur's rules, in Decimal, rounded up to the cent)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import invoice_registration as registration
from chalicelib.domain import invoices as rules
from chalicelib.domain import money
from chalicelib.domain.invoices import Invoice, InvoiceItem, InvoiceState, LimitSpan


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def end_of(year: int, month: int) -> datetime:
    return money.month_end(datetime(year, month, 1))


# Each case: unit, start, end, the quantity worked out by hand, a unit price and the price by hand.
PRORATING = [
    # A whole month is exactly one month, whatever the month's length.
    ("month", at("2026-11-01T00:00:00"), end_of(2026, 11), "1", "30", "30.00"),
    ("month", at("2027-02-01T00:00:00"), end_of(2027, 2), "1", "28", "28.00"),
    # From the 15th of a 30-day month: 15th..30th is 16 days (both ends counted); 16/30 = 0.5333 -> 0.54.
    ("month", at("2026-11-15T10:00:00"), end_of(2026, 11), "0.54", "30", "16.20"),
    # From the 15th of a 31-day month: 17 days; 17/31 = 0.548.. -> 0.55.
    ("month", at("2026-12-15T10:00:00"), end_of(2026, 12), "0.55", "31", "17.05"),
    # February of a leap year: from the 15th, 15 days of 29; 15/29 = 0.517.. -> 0.52.
    ("month", at("2028-02-15T00:00:00"), end_of(2028, 2), "0.52", "29", "15.08"),
    # The 29th of February alone: 1/29 = 0.0344.. -> 0.04.
    ("month", at("2028-02-29T08:00:00"), end_of(2028, 2), "0.04", "100", "4.00"),
    # Created and terminated the same day: one day; 1/30 = 0.0333.. -> 0.04.
    ("month", at("2026-11-10T09:00:00"), at("2026-11-10T17:00:00"), "0.04", "30", "1.20"),
    # Waldur's own case: 1st 14:00 to 8th 14:00 is 8 days; 8/30 -> 0.27.
    ("month", at("2016-11-01T14:00:00"), at("2016-11-08T14:00:00"), "0.27", "10", "2.70"),
    # Waldur's: from 20 July to the month's end, 12/31 -> 0.39.
    ("month", at("2017-07-20T00:00:00"), end_of(2017, 7), "0.39", "100", "39.00"),
    # Half months: a half is 1, the whole month 2; from the 14th of July 1 + 2/15.5 -> 1.13.
    ("half_month", at("2017-07-16T00:00:00"), end_of(2017, 7), "1", "10", "10.00"),
    ("half_month", at("2017-07-01T00:00:00"), at("2017-07-15T23:59:59"), "1", "10", "10.00"),
    ("half_month", at("2017-07-01T00:00:00"), end_of(2017, 7), "2", "10", "20.00"),
    ("half_month", at("2017-07-14T00:00:00"), end_of(2017, 7), "1.13", "10", "11.30"),
    ("half_month", at("2017-07-10T00:00:00"), at("2017-07-14T12:00:00"), "0.33", "10", "3.30"),
    # Days and hours begun: 17 Nov 14:00 to 1 Dec 14:00 is 14 days; from the 14th to July's end, 18.
    ("day", at("2016-11-17T14:00:00"), at("2016-12-01T14:00:00"), "14", "2", "28.00"),
    ("day", at("2017-07-14T00:00:00"), end_of(2017, 7), "18", "1.5", "27.00"),
    ("day", at("2026-11-10T09:00:00"), at("2026-11-10T09:00:01"), "1", "3", "3.00"),
    ("hour", at("2019-08-09T10:00:00"), at("2019-08-09T14:00:00"), "4", "0.25", "1.00"),
    ("hour", at("2019-08-09T10:00:00"), at("2019-08-09T14:00:01"), "5", "0.25", "1.25"),
]


@pytest.mark.parametrize(("unit", "start", "end", "quantity", "unit_price", "price"), PRORATING)
def test_prorating_matches_hand_computed_values(
    unit: str, start: datetime, end: datetime, quantity: str, unit_price: str, price: str
) -> None:
    got = money.quantity(unit, start, end)
    assert got == Decimal(quantity)
    item = InvoiceItem(
        id="i", customer_id="c", year=start.year, month=start.month, name="x", unit=unit,
        unit_price=Decimal(unit_price), quantity=got, start=start, end=end,
    )  # fmt: skip
    assert item.price == Decimal(price)
    assert isinstance(item.price, Decimal)


def test_prices_round_up_to_the_cent_and_tax_is_not_rounded() -> None:
    assert money.quantize_price(Decimal("0.261")) == Decimal("0.27")
    assert money.quantize_price(Decimal("0.26")) == Decimal("0.26")
    assert money.quantize_price(Decimal("-0.001")) == Decimal("-0.01")
    start = at("2026-11-01T00:00:00")
    items = tuple(
        InvoiceItem(
            id=str(n), customer_id="c", year=2026, month=11, name=str(n), unit="quantity",
            unit_price=Decimal(price), quantity=Decimal(1), start=start, end=end_of(2026, 11),
        )
        for n, price in enumerate(["10.005", "2.333"])
    )  # fmt: skip
    invoice = Invoice(
        id="v", customer_id="c", year=2026, month=11, number=100001, state=InvoiceState.PENDING,
        tax_percent=Decimal("20"), created=start, items=items,
    )  # fmt: skip
    assert [i.price for i in items] == [Decimal("10.01"), Decimal("2.34")]
    assert invoice.price == Decimal("12.35")
    assert invoice.tax == Decimal("2.47")
    assert invoice.total == Decimal("14.82")
    assert money.cents(items[1].tax(Decimal("7.5"))) == Decimal("0.18")  # 0.1755 shown half-even


def test_a_limit_changed_mid_month_bills_the_day_weighted_limit() -> None:
    """Waldur's rule: an increase bills the new limit from that day; a decrease from the next.
    4 cores for Nov 1-10, then 8 from the 11th to the 30th: (4*10 + 8*20) / 30 = 6.67 (up)."""
    start = at("2026-11-01T00:00:00")
    item = registration.limit_item_with(
        InvoiceItem(
            id="i", customer_id="c", year=2026, month=11, name="cpu", unit="month", kind="limit",
            unit_price=Decimal("2"), quantity=Decimal(4), start=start, end=end_of(2026, 11),
        ),
        [LimitSpan(start, end_of(2026, 11), Decimal(4))],
    )  # fmt: skip
    assert item.quantity == Decimal(4)
    raised = registration.change_limit(item, 8, at("2026-11-11T15:00:00"))
    assert raised is not None
    assert [(p.start.day, p.end.day, p.quantity) for p in raised.limit_periods] == [
        (1, 10, Decimal(4)),
        (11, 30, Decimal(8)),
    ]
    assert raised.quantity == Decimal("6.67")
    assert raised.price == Decimal("13.34")
    lowered = registration.change_limit(item, 2, at("2026-11-11T15:00:00"))
    assert lowered is not None
    assert [(p.start.day, p.end.day) for p in lowered.limit_periods] == [(1, 11), (12, 30)]
    assert lowered.quantity == Decimal("2.74")  # (4*11 + 2*19) / 30 = 2.733.. -> 2.74


def test_a_daily_limit_bills_limit_times_days() -> None:
    start = at("2026-11-01T00:00:00")
    item = registration.limit_item_with(
        InvoiceItem(
            id="i", customer_id="c", year=2026, month=11, name="cpu", unit="day", kind="limit",
            unit_price=Decimal("1"), quantity=Decimal(4), start=start, end=end_of(2026, 11),
        ),
        [LimitSpan(start, end_of(2026, 11), Decimal(4))],
    )  # fmt: skip
    assert item.quantity == Decimal(120)
    closed = registration.close_item(item, at("2026-11-10T12:00:00"))
    assert closed.quantity == Decimal(40)  # 10 days begun


def test_closing_a_fixed_item_prorates_it_and_a_one_time_charge_stays_whole() -> None:
    start = at("2026-11-15T10:00:00")
    fixed = InvoiceItem(
        id="f", customer_id="c", year=2026, month=11, name="ip", unit="month", kind="fixed",
        unit_price=Decimal("30"), quantity=money.quantity("month", start, end_of(2026, 11)),
        start=start, end=end_of(2026, 11),
    )  # fmt: skip
    closed = registration.close_item(fixed, at("2026-11-20T09:00:00"))
    assert closed.quantity == Decimal("0.17")  # 15th..20th: (end - start).days + 1 = 5; 5/30 -> 0.17
    assert closed.price == Decimal("5.10")
    one = InvoiceItem(
        id="o", customer_id="c", year=2026, month=11, name="setup", unit="quantity", kind="one",
        unit_price=Decimal("50"), quantity=Decimal(1), start=start, end=end_of(2026, 11),
    )  # fmt: skip
    assert registration.close_item(one, at("2026-11-16T00:00:00")).price == Decimal("50.00")


def test_invoice_ids_are_one_per_customer_and_month_and_carry_the_month() -> None:
    a = rules.invoice_id("c1", 2026, 11)
    assert a == rules.invoice_id("c1", 2026, 11)
    assert a != rules.invoice_id("c2", 2026, 11)
    assert a != rules.invoice_id("c1", 2026, 12)
    assert rules.invoice_id("c1", 2026, 11) < rules.invoice_id("c0", 2026, 12)  # sorted by month


def test_issuing_and_paying_follow_waldur_states() -> None:
    from chalicelib.domain.errors import Conflict

    invoice = rules.new_invoice("c", "Acme", 2026, 11, 100001, Decimal(0), at("2026-11-01T00:00:00"))
    with pytest.raises(Conflict):
        rules.set_paid(invoice)
    issued = rules.set_created(invoice, at("2026-12-01T00:00:00").date())
    assert issued.state is InvoiceState.CREATED
    assert str(issued.due_date) == "2026-12-31"
    with pytest.raises(Conflict):
        rules.set_created(issued, at("2026-12-01T00:00:00").date())
    assert rules.set_paid(issued).state is InvoiceState.PAID


@pytest.mark.parametrize(
    ("unit", "quantity", "own", "resource", "shown"),
    [
        ("month", "1", "IPs", "r", "IPs"),  # the component's own unit wins
        ("month", "0.54", "", "r", "percents from a month"),
        ("half_month", "1.13", "", "r", "percents from half a month"),
        ("day", "1", "", "r", "day"),
        ("day", "14", "", "r", "days"),
        ("hour", "4", "", "r", "hours"),
        ("quantity", "1", "", "r", "resource"),
        ("quantity", "3", "", "r", "resources"),
        ("quantity", "3", "", "", ""),
    ],
)
def test_an_items_measured_unit_falls_back_as_waldurs(unit, quantity, own, resource, shown) -> None:
    item = InvoiceItem(
        id="i", customer_id="c", year=2026, month=11, name="x", unit=unit, unit_price=Decimal(1),
        quantity=Decimal(quantity), start=at("2026-11-01T00:00:00"), end=end_of(2026, 11),
        measured_unit=own, resource_id=resource,
    )  # fmt: skip
    assert rules.measured_unit_of(item) == shown


def test_references_change_in_any_state_and_only_those_given() -> None:
    invoice = rules.new_invoice("c", "Acme", 2026, 11, 100001, Decimal(0), at("2026-11-01T00:00:00"))
    paid = rules.set_paid(rules.set_created(invoice, at("2026-12-01T00:00:00").date()))
    marked = rules.set_references(paid, backend_id="SAP-1")
    assert (marked.backend_id, marked.payment_url, marked.state) == ("SAP-1", "", InvoiceState.PAID)
    assert rules.set_references(marked, payment_url="https://pay.example/1").backend_id == "SAP-1"
