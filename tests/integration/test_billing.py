"""Invoice items registered by the resource lifecycle, and the monthly run (services layer, moto).

The market's offering bills a fixed `ip` (30 a month), a `cpu` limit (2 per core a month), a
one-time `setup` (50), a plan-switch `migration` (5) and a usage `storage` (0.5 per GB). Times are
set on the clock so each case is a hand-computable date.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import clock
from tests.marketplace_helpers import build_market, ctx_of, make_offering, order_request

COMPONENTS = [
    {"type": "ip", "name": "Public IP", "measured_unit": "IPs", "billing_type": "fixed"},
    {"type": "cpu", "name": "CPU", "measured_unit": "cores", "billing_type": "limit"},
    {"type": "setup", "name": "Setup", "billing_type": "one"},
    {"type": "migration", "name": "Migration", "billing_type": "few"},
    {"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "usage"},
]
PRICES = {"ip": "30", "cpu": "2", "setup": "50", "migration": "5", "storage": "0.5"}
PLANS = (
    {"name": "Standard", "unit": "month", "prices": PRICES, "quotas": {"ip": 1}},
    {"name": "Large", "unit": "month", "prices": {**PRICES, "ip": "60"}, "quotas": {"ip": 1}},
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def aws(stack: None) -> Iterator[None]:
    yield


@pytest.fixture
def now() -> Iterator[list[datetime]]:
    moment = [at("2026-11-15T10:00:00")]
    clock.set_source(lambda: moment[0])
    yield moment
    clock.set_source(None)


@pytest.fixture
def market(aws: None, staff: Any, now: list[datetime]) -> Any:
    market = build_market(staff)
    market.offering = make_offering(
        staff, market.provider.id, name="Billed", components=COMPONENTS, plans=PLANS
    )
    return market


def made(market: Any, when: datetime, **overrides: Any) -> Any:
    """A resource ordered by staff and finished by the provider at `when`."""
    from chalicelib.services import orders

    clock.set_source(lambda: when)
    ctx = ctx_of(market.staff)
    order = orders.create_order(ctx, order_request(market, market.offering, **overrides))
    orders.approve_by_provider(ctx, order.id)
    return orders.set_state_done(ctx, order.id)


def finish(market: Any, order_id: str, when: datetime) -> None:
    from chalicelib.services import orders

    clock.set_source(lambda: when)
    ctx = ctx_of(market.staff)
    orders.approve_by_provider(ctx, order_id)
    orders.set_state_done(ctx, order_id)


def resource_of(order: Any) -> Any:
    from chalicelib.store import resources

    found = resources.load(order.customer_id, order.project_id, order.resource_id)
    assert found is not None
    return found


def invoice(market: Any, year: int = 2026, month: int = 11) -> Any:
    from chalicelib.store import invoices

    found = invoices.get_in(market.consumer.id, year, month)
    assert found is not None
    return found


def by_component(found: Any) -> dict[str, list[Any]]:
    table: dict[str, list[Any]] = {}
    for item in sorted(found.items, key=lambda i: i.start):
        table.setdefault(item.component_type, []).append(item)
    return table


def test_a_resource_made_mid_month_is_billed_from_that_moment(market: Any) -> None:
    order = made(market, at("2026-11-15T10:00:00"), limits={"cpu": 4})
    bill = invoice(market)
    assert (bill.state.value, bill.year, bill.month) == ("pending", 2026, 11)
    assert bill.number >= 100001
    items = by_component(bill)
    assert set(items) == {"ip", "cpu", "setup"}  # usage waits for a report; plan-switch for a switch
    ip, cpu, setup = items["ip"][0], items["cpu"][0], items["setup"][0]
    assert (ip.unit, ip.quantity, ip.price) == ("month", Decimal("0.54"), Decimal("16.20"))  # 16/30 days
    assert (cpu.unit, cpu.quantity, cpu.price) == ("month", Decimal(4), Decimal("8.00"))  # not prorated
    assert (setup.unit, setup.quantity, setup.price) == ("quantity", Decimal(1), Decimal("50.00"))
    assert ip.name == "vm-1 (Billed / Standard) / Public IP"
    assert ip.details["resource_uuid"] == order.resource_id
    assert ip.project_id == market.project.id and ip.resource_id == order.resource_id
    assert ip.start == at("2026-11-15T10:00:00")
    assert bill.price == Decimal("74.20")


def test_termination_closes_the_items_and_prorates_the_fixed_ones(market: Any) -> None:
    from chalicelib.services import resources

    order = made(market, at("2026-11-15T10:00:00"))
    clock.set_source(lambda: at("2026-11-20T09:00:00"))
    terminate = resources.terminate(ctx_of(market.staff), order.resource_id)
    finish(market, terminate.id, at("2026-11-20T09:00:00"))
    items = by_component(invoice(market))
    ip = items["ip"][0]
    assert ip.end == at("2026-11-20T09:00:00")
    assert (ip.quantity, ip.price) == (Decimal("0.17"), Decimal("5.10"))  # 15th..20th: 5/30 days
    assert items["setup"][0].price == Decimal("50.00")  # one-time stays whole
    assert items["cpu"][0].quantity == Decimal(2)  # a monthly limit is billed whole (Waldur)


def test_created_and_terminated_the_same_day_bills_one_day(market: Any) -> None:
    from chalicelib.services import resources

    order = made(market, at("2026-11-10T09:00:00"))
    clock.set_source(lambda: at("2026-11-10T17:00:00"))
    terminate = resources.terminate(ctx_of(market.staff), order.resource_id)
    finish(market, terminate.id, at("2026-11-10T17:00:00"))
    ip = by_component(invoice(market))["ip"][0]
    assert (ip.quantity, ip.price) == (Decimal("0.04"), Decimal("1.20"))  # 1/30 -> 0.04


def test_a_plan_switch_mid_month_closes_the_old_items_and_opens_the_new_plans(market: Any) -> None:
    from chalicelib.services import resources

    order = made(market, at("2026-11-01T00:00:00"))
    large = market.offering.plans[1]
    clock.set_source(lambda: at("2026-11-16T12:00:00"))
    switch = resources.switch_plan(ctx_of(market.staff), order.resource_id, large.id)
    finish(market, switch.id, at("2026-11-16T12:00:00"))
    items = by_component(invoice(market))
    old_ip, new_ip = items["ip"]
    # 1st..16th: (16th 12:00 - 1st 00:00).days + 1 = 16 days -> 16/30 = 0.54; 16th..30th: 15/30 = 0.5
    assert (old_ip.unit_price, old_ip.quantity, old_ip.price) == (
        Decimal(30),
        Decimal("0.54"),
        Decimal("16.20"),
    )
    assert (new_ip.unit_price, new_ip.quantity, new_ip.price) == (
        Decimal(60),
        Decimal("0.50"),
        Decimal("30.00"),
    )
    assert "Large" in new_ip.name and new_ip.start == at("2026-11-16T12:00:00")
    assert [i.price for i in items["migration"]] == [Decimal("5.00")]  # the plan-switch charge, once
    assert [i.price for i in items["setup"]] == [Decimal("50.00")]  # not charged again


def test_a_usage_component_bills_the_months_reported_amount(market: Any) -> None:
    from chalicelib.domain.usages import UsageReport
    from chalicelib.services import usages

    order = made(market, at("2026-11-02T00:00:00"))
    for day, amount in ((5, "10"), (12, "25.5"), (20, "40")):
        clock.set_source(lambda d=day: at(f"2026-11-{d:02d}T08:00:00"))
        usages.set_usage(
            ctx_of(market.staff),
            [UsageReport(type="storage", amount=Decimal(amount))],
            resource=order.resource_id,
        )
    storage = by_component(invoice(market))["storage"]
    assert len(storage) == 1  # three reports of one month: one item, the last amount
    assert (storage[0].unit, storage[0].quantity, storage[0].price) == (
        "quantity",
        Decimal("40"),
        Decimal("20.00"),
    )
    assert storage[0].name == "vm-1 / Storage"


def test_a_raised_limit_bills_the_day_weighted_limit(market: Any) -> None:
    from chalicelib.services import resources

    order = made(market, at("2026-11-01T00:00:00"), limits={"cpu": 4})
    clock.set_source(lambda: at("2026-11-11T15:00:00"))
    update = resources.update_limits(ctx_of(market.staff), order.resource_id, {"cpu": 8})
    finish(market, update.id, at("2026-11-11T15:00:00"))
    cpu = by_component(invoice(market))["cpu"]
    assert len(cpu) == 1
    assert (cpu[0].quantity, cpu[0].price) == (Decimal("6.67"), Decimal("13.34"))  # (4*10 + 8*20) / 30


# --- the monthly run -----------------------------------------------------------------------------------
def run(year: int, month: int, customer_ids: list[str], staff: Any) -> Any:
    from chalicelib.services import billing

    clock.set_source(lambda: datetime(year, month, 1, tzinfo=UTC))
    return billing.run_month(ctx_of(staff), year, month, customer_ids)


def snapshot(customer_ids: list[str], year: int, month: int) -> list[Any]:
    """Every invoice of these customers for the month, as comparable values (not numbers)."""
    from chalicelib.store import invoices

    shots = []
    for customer_id in customer_ids:
        found = invoices.get_in(customer_id, year, month)
        if found is None:
            shots.append(None)
            continue
        items = sorted(
            (i.id, i.name, i.unit, i.unit_price, i.quantity, i.start, i.end, i.resource_id)
            for i in found.items
        )
        shots.append((found.id, found.state.value, found.invoice_date, found.price, items))
    return shots


def test_the_monthly_run_issues_last_month_and_opens_this_month(market: Any) -> None:
    from tests.helpers import feed

    made(market, at("2026-11-15T10:00:00"), limits={"cpu": 4})
    report = run(2026, 12, [market.consumer.id, market.provider.id], market.staff)
    assert (report.issued, report.invoices_made) == (1, 2)
    november = invoice(market, 2026, 11)
    assert (november.state.value, str(november.invoice_date), str(november.due_date)) == (
        "created",
        "2026-12-01",
        "2026-12-31",
    )
    created = [e for e in feed("customer", market.consumer.id) if e.event_type == "invoice_created"]
    assert [e.message for e in created] == ["Invoice for customer Acme has been created."]
    december = invoice(market, 2026, 12)
    assert december.state.value == "pending" and december.number != november.number
    items = by_component(december)
    assert set(items) == {"ip", "cpu"}  # the one-time charge is not carried
    assert (items["ip"][0].quantity, items["ip"][0].price) == (Decimal(1), Decimal("30.00"))
    assert items["ip"][0].start == at("2026-12-01T00:00:00")
    assert items["cpu"][0].price == Decimal("8.00")


def test_running_the_month_twice_changes_nothing(market: Any) -> None:
    made(market, at("2026-11-15T10:00:00"))
    made(market, at("2026-11-20T10:00:00"), attributes={"name": "vm-2"})
    customers = [market.consumer.id, market.provider.id]
    first = run(2026, 12, customers, market.staff)
    before = snapshot(customers, 2026, 12) + snapshot(customers, 2026, 11)
    second = run(2026, 12, customers, market.staff)
    assert (second.issued, second.invoices_made, second.items_made) == (0, 0, 0)
    assert first.items_made == 4
    assert snapshot(customers, 2026, 12) + snapshot(customers, 2026, 11) == before
