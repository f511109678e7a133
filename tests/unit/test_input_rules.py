"""The pure input rules: what a name or a description may hold (chalicelib/domain/text.py), and the
bounds of whole numbers and the precision of money (chalicelib/domain/numbers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import orders, quotas
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.invoices import InvoiceItem
from chalicelib.domain.money import cents, quantize_price
from chalicelib.domain.numbers import MAX_INTEGER
from chalicelib.domain.text import (
    BIDI_CHARACTER,
    CONTROL_CHARACTER,
    NULL_CHARACTER,
    SURROGATE_CHARACTER,
    text_problem,
)
from chalicelib.domain.vocabulary import BillingType, Component, Plan, PlanUnit

MAX_PRICE = Decimal("999999999999.9999999999")  # DecimalField(max_digits=22, decimal_places=10)
MAX_USAGE = Decimal("999999999999999999.99")  # DecimalField(max_digits=20, decimal_places=2)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a\x00b", NULL_CHARACTER),
        ("\u202ea\x00", NULL_CHARACTER),  # NUL is named first, as DRF names it
        ("bell\x07", CONTROL_CHARACTER),
        ("esc\x1b[0m", CONTROL_CHARACTER),
        ("del\x7f", CONTROL_CHARACTER),
        ("c1\x9b", CONTROL_CHARACTER),
        ("two\nlines", CONTROL_CHARACTER),
        ("tab\there", CONTROL_CHARACTER),
        *((f"x{c}y", BIDI_CHARACTER) for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
        ("\udc80", SURROGATE_CHARACTER.format(0xDC80)),
    ],
)
def test_a_name_refuses_controls_bidi_overrides_and_surrogates(value, problem):
    assert text_problem(value) == problem


@pytest.mark.parametrize(
    "value",
    [
        "Acme Ltd.",
        "Ünïcödé - 東京 😀",
        "\u05e9\u05dc\u05d5\u05dd\u200f 2",  # a right-to-left mark: legitimate in Hebrew and Arabic
        "\u0627\u0644\u061c",  # the Arabic letter mark
        "\U0001f468\u200d\U0001f4bb",  # zero-width joiner inside an emoji
        "",
    ],
)
def test_a_name_keeps_every_script_and_the_marks_they_need(value):
    assert text_problem(value) is None


def test_a_description_keeps_tabs_and_line_breaks_only():
    assert text_problem("one\n\ttwo\r\nthree", multiline=True) is None
    assert text_problem("one\x0btwo", multiline=True) == CONTROL_CHARACTER
    assert text_problem("one\n\u202etwo", multiline=True) == BIDI_CHARACTER
    assert text_problem("one\x00", multiline=True) == NULL_CHARACTER


def test_order_limits_are_bounded_by_waldurs_integer_column():
    assert orders.check_limits({"cpu": MAX_INTEGER}) == {"cpu": MAX_INTEGER}
    with pytest.raises(ValidationError) as refused:
        orders.check_limits({"cpu": MAX_INTEGER + 1})
    too_large = ["Ensure this value is less than or equal to 2147483647."]
    assert refused.value.errors == {"limits": {"cpu": too_large}}


def test_quota_limits_are_bounded_by_waldurs_integer_column():
    names = (quotas.PROJECT_COUNT,)
    assert quotas.check_limits(names, {quotas.PROJECT_COUNT: MAX_INTEGER}) == {
        quotas.PROJECT_COUNT: MAX_INTEGER
    }
    with pytest.raises(ValidationError) as refused:
        quotas.check_limits(names, {quotas.PROJECT_COUNT: 10**30})
    assert refused.value.errors == {
        "quotas": ["nc_project_count: Ensure this value is less than or equal to 2147483647."]
    }


def test_the_cost_of_the_largest_order_is_estimated():
    plan = Plan(
        id="p", offering_id="o", name="Max", unit=PlanUnit.MONTH, unit_price=MAX_PRICE,
        prices={"cpu": MAX_PRICE, "setup": MAX_PRICE},
    )  # fmt: skip
    components = [
        Component(id="c1", type="cpu", name="CPU", billing_type=BillingType.LIMIT),
        Component(id="c2", type="setup", name="Setup", billing_type=BillingType.ONE),
    ]
    cost = orders.estimate_cost(plan, {"cpu": MAX_INTEGER}, components)
    assert cost is not None and cost > MAX_PRICE * MAX_INTEGER and cost.as_tuple().exponent == -2


def test_money_beyond_the_default_precision_is_rounded_to_the_cent():
    """The largest usage at the largest price: 30 whole digits, past Python's default 28."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    item = InvoiceItem(
        id="i", customer_id="c", year=2026, month=1, name="Hours", unit="quantity",
        unit_price=MAX_PRICE, quantity=MAX_USAGE, start=start, end=start,
    )  # fmt: skip
    assert item.price > Decimal(10) ** 29
    assert item.price == quantize_price(item.price) and item.price.as_tuple().exponent == -2
    assert cents(item.total(Decimal("20"))).as_tuple().exponent == -2
