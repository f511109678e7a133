"""Component usage rules (chalicelib/domain/usages.py): billing periods, which components take
reports, the limit windows, and the resource's current usages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.resources import Resource
from chalicelib.domain.usages import (
    ComponentUsage,
    UsageReport,
    billing_period,
    check_limit,
    check_period,
    check_resource,
    components_of,
    current_usages,
    report,
)
from chalicelib.domain.vocabulary import BillingType, Component, LimitPeriod, Offering, ResourceState

NOW = datetime(2024, 5, 17, 12, 0, tzinfo=UTC)


def component(period: LimitPeriod | None = None, limit: int | None = None, **kw) -> Component:
    values = {"id": "c", "type": "hours", "name": "Hours", "billing_type": BillingType.USAGE, **kw}
    return Component(limit_period=period, limit_amount=limit, **values)


def usage(period: date, amount: str, component_type: str = "hours") -> ComponentUsage:
    return ComponentUsage(
        id=f"u{period}{component_type}",
        resource_id="r",
        customer_id="c",
        project_id="p",
        offering_id="o",
        provider_id="s",
        component_type=component_type,
        billing_period=period,
        amount=Decimal(amount),
        date=NOW,
        created=NOW,
        modified=NOW,
    )


def resource(state: ResourceState = ResourceState.OK) -> Resource:
    return Resource(
        id="r", name="vm", state=state, customer_id="c", project_id="p", offering_id="o",
        provider_id="s", created=NOW, modified=NOW, current_usages={"cpu": "1.00"},
    )  # fmt: skip


def test_the_billing_period_is_the_first_day_of_the_month():
    assert billing_period(date(2024, 2, 29)) == date(2024, 2, 1)
    assert billing_period(date(2024, 12, 1)) == date(2024, 12, 1)


@pytest.mark.parametrize("state", list(ResourceState))
def test_reports_are_taken_while_the_resource_lives(state):
    if state in (ResourceState.OK, ResourceState.UPDATING, ResourceState.TERMINATING):
        check_resource(resource(state))
        return
    with pytest.raises(ValidationError) as refused:
        check_resource(resource(state))
    assert refused.value.errors == {"resource": ["Resource is not in valid state."]}


def test_reports_are_taken_for_the_billing_periods_of_the_resources_life():
    made = resource()  # created on 2024-05-17
    for period in (date(2024, 5, 1), date(2024, 6, 1)):
        check_period(made, period)
    for period in (date(2024, 4, 1), date(2023, 5, 1)):
        with pytest.raises(ValidationError) as refused:
            check_period(made, period)
        assert refused.value.errors == {
            "date": ["Usage cannot be reported for a billing period before the resource was created."]
        }
    ended = replace(made, end_date=date(2024, 7, 3))
    check_period(ended, date(2024, 7, 1))  # the month it ended in
    with pytest.raises(ValidationError) as closed:
        check_period(ended, date(2024, 8, 1))
    assert closed.value.errors == {"date": ["Billing period is closed."]}


def test_only_usage_and_limit_components_take_reports():
    components = tuple(Component(id=t.value, type=t.value, name=t.value, billing_type=t) for t in BillingType)
    offering = Offering(id="o", customer_id="s", name="HPC", type="Marketplace.Basic", components=components)
    taken = components_of(offering, [UsageReport("usage", Decimal(1)), UsageReport("limit", Decimal(1))])
    assert set(taken) == {"usage", "limit"}
    lines = [UsageReport(t, Decimal(1)) for t in ("fixed", "one", "few", "usage", "nope")]
    with pytest.raises(ValidationError) as refused:
        components_of(offering, lines)
    assert refused.value.errors == {
        "non_field_errors": ["These components are invalid: few, fixed, nope, one."]
    }


EARLIER = [
    usage(date(2023, 12, 1), "10"),
    usage(date(2024, 1, 1), "20"),
    usage(date(2024, 4, 1), "30"),
    usage(date(2024, 5, 1), "40"),  # the period reported again: replaced, not added
    usage(date(2024, 5, 1), "1000", component_type="other"),
]


@pytest.mark.parametrize(
    ("period", "limit", "headroom"),
    [
        (LimitPeriod.MONTH, 100, Decimal(100)),
        (LimitPeriod.QUARTERLY, 100, Decimal(70)),  # April's 30
        (LimitPeriod.ANNUAL, 100, Decimal(50)),  # January's 20 and April's 30
        (LimitPeriod.TOTAL, 100, Decimal(40)),  # every earlier period
    ],
)
def test_a_limit_counts_the_usages_of_its_window(period, limit, headroom):
    rule = component(period, limit)
    check_limit(rule, headroom, date(2024, 5, 1), EARLIER)
    with pytest.raises(ValidationError) as refused:
        check_limit(rule, headroom + Decimal("0.01"), date(2024, 5, 1), EARLIER)
    total = limit - headroom + headroom + Decimal("0.01")
    assert refused.value.errors == [f"Total amount exceeds limit. Total amount: {total}, limit: {limit}."]


def test_no_limit_without_both_a_period_and_an_amount_nor_for_limit_components():
    for rule in (
        component(None, 10),
        component(LimitPeriod.MONTH, None),
        component(LimitPeriod.MONTH, 0),  # Waldur: a zero limit is no limit
        component(LimitPeriod.TOTAL, 10, billing_type=BillingType.LIMIT),
    ):
        check_limit(rule, Decimal(10**6), date(2024, 5, 1), EARLIER)


def test_a_new_report_keeps_the_usage_and_its_creation():
    rule = component()
    first = report(resource(), rule, UsageReport("hours", Decimal("1.00"), "a"), date(2024, 5, 1), NOW, NOW,
                   "new", None, ("u1", "seller"))  # fmt: skip
    assert (first.id, first.created, first.amount, first.modified_by_username) == ("new", NOW, 1, "seller")
    later = datetime(2024, 5, 20, tzinfo=UTC)
    line = UsageReport("hours", Decimal("2.50"), "", "reuse")
    second = report(resource(), rule, line, date(2024, 5, 1), later, later, "other", first)
    assert (second.id, second.created, second.date) == ("new", NOW, later)
    assert (second.amount, second.description, second.recurring) == (Decimal("2.50"), "", True)


def test_current_usages_take_each_reported_amount_as_text():
    after = current_usages({"cpu": "1.00"}, [UsageReport("hours", Decimal("2.50"))])
    assert after == {"cpu": "1.00", "hours": "2.50"}
