"""What an order, a resource, a project and a customer add to the order and organisation series
(domain/analytics_orders.py): placed by the object's own attributes, so a state change moves a
count from one field to another and a rename moves only a label."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.domain import analytics_orders as area
from chalicelib.domain.analytics import NOW, Aggregate, moves, totals
from chalicelib.domain.customers import Customer
from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import OrderState, OrderType

T = datetime(2026, 12, 6, 9, 58, 30, tzinfo=UTC)


def order(**changes: object) -> Order:
    base = Order(
        id="o1",
        type=OrderType.CREATE,
        state=OrderState.PENDING_PROVIDER,
        customer_id="c1",
        project_id="p1",
        offering_id="f1",
        provider_id="s1",
        resource_id="r1",
        created=T,
        modified=T,
        cost=Decimal("14.00"),
        offering_name="Compute",
        provider_name="Cloud Provider",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_order_is_counted_on_its_creation_day_in_each_scope_it_belongs_to():
    sums = totals([area.order_facts(order())])
    for name in (
        area.ORDERS,
        area.orders_series("c1"),
        area.orders_series(provider_id="s1"),
        area.orders_series("c1", "s1"),
    ):
        assert sums[(name, "D#2026-12-06", "state#pending-provider")][0] == 1
        assert sums[(name, "D#2026-12-06", "type#Create")][0] == 1
        assert sums[(name, "D#2026-12-06", "cost")][0] == Decimal("14.00")
        assert sums[(name, "D#2026-12-06", "revenue")][0] == Decimal("14.00")


def test_a_terminate_order_has_a_cost_but_no_revenue_and_an_order_without_cost_neither():
    sums = totals([area.order_facts(order(type=OrderType.TERMINATE))])
    assert (area.ORDERS, "D#2026-12-06", "revenue") not in sums
    assert sums[(area.ORDERS, "D#2026-12-06", "cost")][0] == Decimal("14.00")
    assert not any(key[2] in ("cost", "costed") for key in totals([area.order_facts(order(cost=None))]))


def test_finishing_moves_an_order_from_in_progress_to_done_in_the_minute_and_hour_it_ended():
    pending = order()
    done = order(
        state=OrderState.DONE,
        provider_reviewed_at=T + timedelta(minutes=2),
        completed_at=T + timedelta(minutes=12),
        modified=T + timedelta(minutes=12),
    )
    applied = {
        (m.series, m.period, m.field): m.amount
        for m in moves(area.order_facts(pending), area.order_facts(done))
    }
    assert applied[(area.PROVISIONING_NOW, NOW, "f1#in_progress")] == -1
    assert applied[(area.ORDERS, "D#2026-12-06", "state#pending-provider")] == -1
    assert applied[(area.ORDERS, "D#2026-12-06", "state#done")] == 1
    for name, period in (
        (area.PROVISIONING_MINUTE, "T#2026-12-06T10:10"),
        (area.PROVISIONING_HOUR, "T#2026-12-06T10"),
    ):
        assert applied[(name, period, "f1#done")] == 1
        assert applied[(name, period, "f1#pending")] == Decimal("120")  # created → provider's approval
        assert applied[(name, period, "f1#provisioning")] == Decimal("600")  # approval → completion


def test_an_erred_order_ends_at_its_failure_and_a_canceled_one_never_provisioned():
    erred = order(state=OrderState.ERRED, consumer_reviewed_at=T, modified=T + timedelta(minutes=5))
    keys = {(a.series, a.period, a.field) for a in area.order_facts(erred)}
    assert (area.PROVISIONING_MINUTE, "T#2026-12-06T10:03", "f1#erred") in keys
    canceled = order(state=OrderState.CANCELED)
    assert not [a for a in area.order_facts(canceled) if a.series.startswith("orders#provisioning")]
    update = order(type=OrderType.UPDATE, state=OrderState.DONE, completed_at=T)
    assert not [a for a in area.order_facts(update) if a.series.startswith("orders#provisioning")]


def test_provisioning_rows_add_up_per_offering_with_its_names():
    label = area.names("Compute", "s1", "Cloud Provider")
    rows = [
        Aggregate(area.PROVISIONING_NOW, NOW, "f1#in_progress", Decimal(1), label),
        Aggregate(area.PROVISIONING_HOUR, "T#2026-12-06T10", "f1#done", Decimal(3), label),
        Aggregate(area.PROVISIONING_HOUR, "T#2026-12-06T10", "f1#erred", Decimal(1), label),
        Aggregate(area.PROVISIONING_HOUR, "T#2026-12-06T10", "f1#pending", Decimal(480), label),
        Aggregate(area.PROVISIONING_HOUR, "T#2026-12-06T10", "f1#provisioning", Decimal(3600), label),
        Aggregate(area.PROVISIONING_NOW, NOW, "f2#in_progress", Decimal(0), label),  # none left
    ]
    [entry] = area.provisioning(rows)
    assert (entry.offering_name, entry.provider_id, entry.provider_name) == (
        "Compute",
        "s1",
        "Cloud Provider",
    )
    assert (entry.in_progress, entry.finished, entry.success_rate) == (1, 4, 0.75)
    assert (entry.avg_pending, entry.avg_provisioning) == (120.0, 900.0)


def test_the_window_takes_the_minutes_of_its_first_hour_and_the_whole_hours_after():
    now = datetime(2026, 12, 6, 12, 20, 10, tzinfo=UTC)
    assert area.window(now, 10) == (("T#2026-12-06T12:10", "T#2026-12-06T12:20"), None)
    assert area.window(now, 150) == (
        ("T#2026-12-06T09:50", "T#2026-12-06T09:59"),
        ("T#2026-12-06T10", "T#2026-12-06T12"),
    )
    # across midnight
    assert area.window(datetime(2026, 12, 7, 0, 5, tzinfo=UTC), 30) == (
        ("T#2026-12-06T23:35", "T#2026-12-06T23:59"),
        ("T#2026-12-07T00", "T#2026-12-07T00"),
    )


def test_a_renamed_customer_moves_its_label_alone():
    before = Customer(id="c1", name="Acme", created=T)
    after = replace(before, name="Acme Ltd")
    [move] = moves(area.customer_facts(before), area.customer_facts(after))
    assert (move.field, move.amount, area.unnames(move.label, 2)) == ("c1", 0, ["Acme Ltd", ""])
    assert moves(area.customer_facts(before), area.customer_facts(before)) == []


def test_waldurs_summary_puts_the_pending_states_together():
    counts = area.summary_counts({"pending-consumer": 1, "pending-provider": 2, "done": 3})
    assert counts == {"pending": 3, "executing": 0, "done": 3, "erred": 0, "canceled": 0, "rejected": 0}
