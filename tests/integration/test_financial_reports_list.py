"""`/api/financial-reports/`: every customer whose spend the caller sees, with the month's estimate,
filtered, ordered and paged as the customers list. The clock stands at 2026-11-15 10:00 UTC; Acme's
resource of the billed offering was made on 2026-11-01 00:00 with 4 cores: its November items, by
hand, are the public IP 30 (a month), the cores 4 x 2 = 8 (a month) and the setup fee 50: 88,
tax 20 % of it 17.60."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import clock
from tests.helpers import call
from tests.integration.test_billing import COMPONENTS, PLANS, at, made
from tests.marketplace_helpers import build_market, ctx_of, make_offering

NOW = at("2026-11-15T10:00:00")
REPORTS = "/api/financial-reports/"


@pytest.fixture(autouse=True)
def now() -> Iterator[None]:
    clock.set_source(lambda: NOW)
    yield
    clock.set_source(None)


@pytest.fixture
def market(aws: None, staff: Any) -> Any:
    from chalicelib.services import customers

    market = build_market(staff)
    customers.update_customer(ctx_of(staff), market.consumer.id, {"default_tax_percent": Decimal("20")})
    market.offering = make_offering(
        staff, market.provider.id, name="Billed", components=COMPONENTS, plans=PLANS
    )
    made(market, at("2026-11-01T00:00:00"), limits={"cpu": 4})
    clock.set_source(lambda: NOW)
    return market


def _reports(client: Any, account: Any, query: str = "") -> tuple[list[dict[str, Any]], dict[str, str]]:
    reply = call(client, "GET", REPORTS + query, account)
    assert reply.status == 200, (query, reply.status, reply.json)
    return reply.json, reply.headers


def _totals(reports: list[dict[str, Any]]) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        r["name"]: (
            Decimal(r["billing_price_estimate"]["total"]),
            Decimal(r["billing_price_estimate"]["tax"]),
        )
        for r in reports
    }


def test_staff_see_every_customer_with_this_months_estimate(client, market):
    reports, headers = _reports(client, market.staff)
    assert _totals(reports) == {
        "Acme": (Decimal(88), Decimal("17.6")),
        "Cloud Provider": (Decimal(0), Decimal(0)),
    }
    assert [r["name"] for r in reports] == ["Acme", "Cloud Provider"]  # by name, as the customers list
    assert headers["X-Result-Count"] == "2"
    [acme] = [r for r in reports if r["name"] == "Acme"]
    assert acme == call(client, "GET", f"{REPORTS}{market.consumer.id}/", market.staff).json  # the retrieve's


def test_filters_order_paging_and_other_months(client, market, support):
    assert [r["name"] for r in _reports(client, market.staff, "?o=-name")[0]] == ["Cloud Provider", "Acme"]
    assert [r["name"] for r in _reports(client, market.staff, "?name=cloud")[0]] == ["Cloud Provider"]
    page, headers = _reports(client, support, "?page=2&page_size=1")
    assert [r["name"] for r in page] == ["Cloud Provider"] and 'rel="prev"' in headers["Link"]
    one, _ = _reports(client, market.staff, f"?customer_uuid={market.consumer.id}")
    assert _totals(one) == {"Acme": (Decimal(88), Decimal("17.6"))}
    october, _ = _reports(client, market.staff, f"?customer_uuid={market.consumer.id}&year=2026&month=10")
    assert _totals(october) == {"Acme": (Decimal(0), Decimal(0))}  # nothing billed in October
    current, _ = _reports(client, market.staff, f"?customer_uuid={market.consumer.id}&year=2026&month=11")
    assert current == one


def test_anybody_else_sees_the_customers_whose_spend_they_see(client, market, alice):
    assert [r["name"] for r in _reports(client, market.owner)[0]] == ["Acme"]
    assert [r["name"] for r in _reports(client, market.seller)[0]] == ["Cloud Provider"]
    assert _reports(client, market.member)[0] == []  # a project-only role sees no spend
    assert _reports(client, alice)[0] == []
    assert _reports(client, market.seller, f"?customer_uuid={market.consumer.id}")[0] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?year=2026", "non_field_errors"),
        ("?year=2026&month=13", "month"),
        ("?year=0&month=1", "year"),
        ("?customer_uuid=x", "customer_uuid"),
        ("?o=price", "o"),
    ],
)
def test_bad_queries_are_refused(client, market, query, field):
    reply = call(client, "GET", REPORTS + query, market.staff)
    assert reply.status == 400 and field in reply.json, reply.json


def test_a_page_costs_one_read_per_customer_on_it_and_one_for_the_page(client, market):
    from tests.ddb_costs import Meter

    with Meter.installed() as meter:
        with meter.measuring() as one:
            _reports(client, market.staff, "?page_size=1")
        with meter.measuring() as two:
            _reports(client, market.staff, "?page_size=2")
    assert len(two.ops) - len(one.ops) == 1 and two.ops.count("Query") - one.ops.count("Query") == 1
