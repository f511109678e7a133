"""What a component usage and a resource add to the usage series, and the limit-period windows the
usage endpoints read: pure rules, numbers worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.domain import analytics as agg
from chalicelib.domain import analytics_usages as rules
from chalicelib.domain.resources import Resource
from chalicelib.domain.usages import ComponentUsage
from chalicelib.domain.vocabulary import LimitPeriod, ResourceState

WHEN = datetime(2026, 5, 20, 12, tzinfo=UTC)
USAGE = ComponentUsage(
    id="u1",
    resource_id="r1",
    customer_id="c1",
    project_id="p1",
    offering_id="o1",
    provider_id="v1",
    component_type="cpu_hours",
    billing_period=date(2026, 4, 1),
    amount=Decimal("10.50"),
    date=WHEN,
    created=WHEN,
    modified=WHEN,
    offering_name="HPC",
    project_name="Apollo",
)
RESOURCE = Resource(
    id="r1",
    name="vm-1",
    state=ResourceState.OK,
    customer_id="c1",
    project_id="p1",
    offering_id="o1",
    provider_id="v1",
    created=WHEN,
    modified=WHEN,
    limits={"cpu": 2, "ram": 0},
    offering_name="HPC",
)


def test_a_usage_adds_its_amount_in_its_billing_month_to_every_series_that_shows_it():
    facts = {(a.series, a.field): (a.period, a.amount, a.label) for a in rules.usage_facts(USAGE)}
    april = "M#2026-04"
    assert facts == {
        ("usage#all", "v1:o1:cpu_hours"): (april, Decimal("10.50"), "HPC"),
        ("usage#projects", "p1:cpu_hours"): (april, Decimal("10.50"), "Apollo"),
        ("usage#provider#v1", "v1:o1:cpu_hours"): (april, Decimal("10.50"), "HPC"),
        ("usage#customer#c1", "v1:o1:cpu_hours"): (april, Decimal("10.50"), "HPC"),
        ("usage#project#p1", "v1:o1:cpu_hours"): (april, Decimal("10.50"), "HPC"),
        ("usage#customer#c1#offering#o1", "p1:cpu_hours"): (april, Decimal("10.50"), "Apollo"),
    }


def test_a_replaced_report_moves_every_sum_by_the_difference_and_an_equal_one_moves_nothing():
    moves = agg.moves(rules.usage_facts(USAGE), rules.usage_facts(replace(USAGE, amount=Decimal(14))))
    assert len(moves) == 6 and {m.amount for m in moves} == {Decimal("3.50")}
    assert agg.moves(rules.usage_facts(USAGE), rules.usage_facts(replace(USAGE, description="x"))) == []


def test_a_resource_counts_with_its_limits_as_live_then_as_terminated():
    live = {(a.series, a.field): a.amount for a in rules.resource_facts(RESOURCE)}
    assert live == {
        ("usage#resources#live#customer#c1", "v1:o1"): 1,
        ("usage#resources#live#customer#c1", "v1:o1:cpu"): 2,  # a zero limit adds nothing
        ("usage#resources#live#project#p1", "v1:o1"): 1,
        ("usage#resources#live#project#p1", "v1:o1:cpu"): 2,
    }
    assert {a.period for a in rules.resource_facts(RESOURCE)} == {agg.NOW}
    ended = replace(RESOURCE, state=ResourceState.TERMINATED)
    moved = {
        (m.series, m.field): m.amount
        for m in agg.moves(rules.resource_facts(RESOURCE), rules.resource_facts(ended))
    }
    assert moved[("usage#resources#live#customer#c1", "v1:o1:cpu")] == -2
    assert moved[("usage#resources#terminated#customer#c1", "v1:o1:cpu")] == 2
    assert len(moved) == 8


def test_fields_split_back_into_their_ids():
    assert rules.split_offering("v1:o1:cpu:hours") == ("v1", "o1", "cpu:hours")
    assert rules.split_offering("v1:o1") == ("v1", "o1", "")
    assert rules.split("p1:cpu_hours") == ("p1", "cpu_hours")


def test_limit_period_windows():
    today = date(2026, 5, 20)
    month = rules.window(LimitPeriod.MONTH, today)
    assert (month.label, month.start, month.end) == ("May 2026", date(2026, 5, 1), date(2026, 5, 31))
    assert rules.window(None, today, 5).start == date(2025, 12, 1)  # no limit period: by month
    quarter = rules.window(LimitPeriod.QUARTERLY, today)
    assert (quarter.label, quarter.start, quarter.end) == ("Q2 2026", date(2026, 4, 1), date(2026, 6, 30))
    assert quarter.months() == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    earlier = rules.window(LimitPeriod.QUARTERLY, today, 2)
    assert (earlier.label, earlier.start, earlier.end) == ("Q4 2025", date(2025, 10, 1), date(2025, 12, 31))
    year = rules.window(LimitPeriod.ANNUAL, today, 1)
    assert (year.label, year.start, year.end, len(year.months())) == (
        "2025",
        date(2025, 1, 1),
        date(2025, 12, 31),
        12,
    )
    total = rules.window(LimitPeriod.TOTAL, today, 3)
    assert (total.label, total.start, total.end, total.months()) == ("Total", None, None, [])
    assert total.holds(date(1999, 1, 1)) and not quarter.holds(date(2026, 3, 1))
    assert rules.last_day(date(2028, 2, 1)) == date(2028, 2, 29)
