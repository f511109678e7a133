"""Costs and limits from the analytics series, through the API (moto, the stream settled):
`marketplace-stats/total_cost_of_active_resources_per_offering/`, `offering_costs_summary/`,
`resources_limits/` and `billing-total-cost/`.

The world, on a clock set to November 2026 (30 days), every value computed by hand below:

- provider "Cloud Provider" (country FI) sells "Alpha" (no country of its own: a fixed `ip` at 30 a
  month, a `cpu` limit at 2 a core a month) and "Beta" (country EE: a `cpu` limit at 1.5);
- consumer "Acme" (no tax): r1 on Alpha, 4 cores, made 1 Nov 00:00 -> ip 30.00 + cpu 8.00 = 38.00;
  r2 on Alpha, 1 core, made 15 Nov 10:00 -> ip 16/30 = 0.54 (rounded up) x 30 = 16.20 + cpu 2.00 =
  18.20;
- consumer "Globex" (20 % tax): r3 on Beta, 10 cores, made 1 Nov 00:00 -> cpu 15.00.

So Alpha costs 56.20 and Beta 15.00 in November; Acme's invoice is 56.20 (total 56.20), Globex's
15.00 (total 18.00).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import clock
from tests.helpers import call
from tests.marketplace_helpers import ctx_of, make_offering, order_request

IP = {"type": "ip", "name": "Public IP", "measured_unit": "IPs", "billing_type": "fixed"}
CPU = {"type": "cpu", "name": "CPU", "measured_unit": "cores", "billing_type": "limit"}
ALPHA_PLAN = {"name": "Standard", "unit": "month", "prices": {"ip": "30", "cpu": "2"}, "quotas": {"ip": 1}}
BETA_PLAN = {"name": "Small", "unit": "month", "prices": {"cpu": "1.5"}}

COSTS = "/api/marketplace-stats/total_cost_of_active_resources_per_offering/"
SUMMARY = "/api/marketplace-stats/offering_costs_summary/"
LIMITS = "/api/marketplace-stats/resources_limits/"
TOTAL = "/api/billing-total-cost/"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def aws(stack: None) -> Iterator[None]:
    yield


@pytest.fixture
def now() -> Iterator[list[datetime]]:
    moment = [at("2026-11-25T12:00:00")]
    clock.set_source(lambda: moment[0])
    yield moment
    clock.set_source(None)


class World:
    def __init__(self, staff: Any) -> None:
        from chalicelib.services import access, customers, projects

        access._memo.set(None)
        access._roles_memo.set(None)
        ctx = ctx_of(staff)
        self.staff = staff
        self.provider = customers.create_customer(ctx, {"name": "Cloud Provider", "country": "FI"})
        self.acme = customers.create_customer(ctx, {"name": "Acme"})
        self.globex = customers.create_customer(ctx, {"name": "Globex", "default_tax_percent": "20"})
        self.apollo = projects.create_project(ctx, self.acme.id, {"name": "Apollo"})
        self.gemini = projects.create_project(ctx, self.globex.id, {"name": "Gemini"})
        self.alpha = make_offering(
            staff, self.provider.id, name="Alpha", components=[IP, CPU], plans=(ALPHA_PLAN,)
        )
        self.beta = make_offering(
            staff, self.provider.id, name="Beta", components=[CPU], plans=(BETA_PLAN,), country="EE"
        )

    def made(self, offering: Any, project: Any, when: datetime, cores: int, name: str) -> str:
        """A resource ordered by staff and finished by the provider at `when`: its id."""
        from chalicelib.services import orders

        clock.set_source(lambda: when)
        ctx = ctx_of(self.staff)
        request = order_request(
            _Market(project, offering),
            offering,
            project=f"http://testserver/api/projects/{project.id}/",
            limits={"cpu": cores},
            attributes={"name": name},
        )
        order = orders.create_order(ctx, request)
        orders.approve_by_provider(ctx, order.id)
        orders.set_state_done(ctx, order.id)
        return str(order.resource_id)

    def terminate(self, resource_id: str, when: datetime) -> None:
        from chalicelib.services import orders, resources

        clock.set_source(lambda: when)
        ctx = ctx_of(self.staff)
        order = resources.terminate(ctx, resource_id)
        orders.approve_by_provider(ctx, order.id)
        orders.set_state_done(ctx, order.id)


class _Market:
    """What `order_request` reads of a market."""

    def __init__(self, project: Any, offering: Any) -> None:
        self.project = project
        self.offering = offering


@pytest.fixture
def world(aws: None, staff: Any, now: list[datetime], settle: Any) -> World:
    w = World(staff)
    w.r1 = w.made(w.alpha, w.apollo, at("2026-11-01T00:00:00"), 4, "r1")  # type: ignore[attr-defined]
    w.r2 = w.made(w.alpha, w.apollo, at("2026-11-15T10:00:00"), 1, "r2")  # type: ignore[attr-defined]
    w.r3 = w.made(w.beta, w.gemini, at("2026-11-01T00:00:00"), 10, "r3")  # type: ignore[attr-defined]
    clock.set_source(lambda: now[0])
    settle()
    return w


def get(client: Any, account: Any, path: str) -> Any:
    reply = call(client, "GET", path, account)
    assert reply.status == 200, (path, reply.status, reply.json)
    return reply.json


def costs(client: Any, account: Any, query: str = "") -> dict[str, tuple[str, float]]:
    return {
        row["offering_uuid"]: (row["offering_name"], row["cost"])
        for row in get(client, account, COSTS + query)
    }


def test_each_offering_costs_what_its_resources_items_cost_this_month(client, world) -> None:
    w = world
    assert get(client, w.staff, COSTS) == [  # by offering name
        {"offering_uuid": w.alpha.id, "offering_name": "Alpha", "cost": 56.2},
        {"offering_uuid": w.beta.id, "offering_name": "Beta", "cost": 15.0},
    ]
    assert get(client, w.staff, SUMMARY) == {
        "total_cost": "71.20",
        "offering_count": 2,
        "average_cost": "35.60",
    }
    # the same figures as the invoices Cirrus shows
    invoices = get(client, w.staff, "/api/invoices/?year=2026&month=11")
    assert sorted(Decimal(i["price"]) for i in invoices) == [Decimal("15.00"), Decimal("56.20")]


def test_the_month_totals_follow_the_invoices_with_their_tax(client, world) -> None:
    w = world
    assert get(client, w.staff, TOTAL + "?year=2026&month=11") == {"total": 74.2, "price": 71.2}
    assert get(client, w.staff, TOTAL) == {"total": 74.2, "price": 71.2}  # this month by default
    assert get(client, w.staff, TOTAL + "?year=2026&month=11&name=GLOB") == {"total": 18.0, "price": 15.0}
    assert get(client, w.staff, TOTAL + f"?customer_uuid={w.acme.id}") == {"total": 56.2, "price": 56.2}
    assert get(client, w.staff, TOTAL + "?name=nobody") == {"total": 0.0, "price": 0.0}
    assert get(client, w.staff, TOTAL + "?year=2026&month=10") == {"total": 0.0, "price": 0.0}
    assert get(client, w.staff, TOTAL + "?accounting_is_running=true") == {"total": 74.2, "price": 71.2}


def test_limits_are_the_ok_resources_limits_per_offering_and_component(client, world) -> None:
    w = world
    assert get(client, w.staff, LIMITS) == [
        {
            "offering_uuid": o.id,
            "name": "cpu",
            "value": value,
            "offering_country": country,
            "organization_group_name": "",
            "organization_group_uuid": "",
        }
        for o, value, country in sorted(
            [(w.alpha, 5, "FI"), (w.beta, 10, "EE")], key=lambda row: row[0].id
        )  # Alpha has no country: its provider's
    ]


def test_a_termination_ends_the_cost_and_the_limits_and_months_add_up(client, world, now, settle) -> None:
    from chalicelib.services import billing

    w = world
    # r2 ends on 20 Nov 09:00: its ip from 15 Nov 10:00 is (20th 09:00 - 15th 10:00).days + 1 = 5 days
    # -> 5/30 = 0.17 x 30 = 5.10; its monthly cpu limit stays whole (2.00): Alpha 38.00 + 7.10
    w.terminate(w.r2, at("2026-11-20T09:00:00"))  # type: ignore[attr-defined]
    clock.set_source(lambda: now[0])
    settle()
    assert costs(client, w.staff) == {w.alpha.id: ("Alpha", 45.1), w.beta.id: ("Beta", 15.0)}
    assert {r["offering_uuid"]: r["value"] for r in get(client, w.staff, LIMITS)} == {
        w.alpha.id: 4,
        w.beta.id: 10,
    }

    # December's run carries r1 (38.00) and r3 (15.00) whole into the new month
    now[0] = at("2026-12-01T00:00:00")
    billing.run_month(ctx_of(w.staff), 2026, 12, [w.acme.id, w.globex.id])
    settle()
    assert costs(client, w.staff) == {w.alpha.id: ("Alpha", 38.0), w.beta.id: ("Beta", 15.0)}
    assert costs(client, w.staff, "?start=2026-11&end=2026-12") == {
        w.alpha.id: ("Alpha", 83.1),
        w.beta.id: ("Beta", 30.0),
    }
    assert get(client, w.staff, SUMMARY + "?start=2026-11&end=2026-12") == {
        "total_cost": "113.10",
        "offering_count": 2,
        "average_cost": "56.55",
    }
    assert get(client, w.staff, TOTAL + "?year=2026&month=12") == {
        "total": 56.0,
        "price": 53.0,
    }  # 38 + 15 x 1.2
    assert costs(client, w.staff, "?start=2025-01&end=2025-12") == {}


def test_support_reads_them_and_nobody_else(client, world, support, alice) -> None:
    for path in (COSTS, SUMMARY, LIMITS, TOTAL):
        assert call(client, "GET", path, support).status == 200
        reply = call(client, "GET", path, alice)
        assert (reply.status, reply.json) == (
            403,
            {"detail": "You do not have permission to perform this action."},
        )
        assert call(client, "GET", path).status == 401


@pytest.mark.parametrize(
    ("path", "errors"),
    [
        (COSTS + "?start=2026-11", {"non_field_errors": ["Both parameters must be specified."]}),
        (
            COSTS + "?start=2026-12&end=2026-11",
            {"non_field_errors": ["Start date must be earlier or equal to end date."]},
        ),
        (COSTS + "?start=2026-13&end=2026-12", {"start": ["Month has to be from 1 to 12."]}),
        (
            SUMMARY + "?start=november&end=2026-12",
            {"start": ['Value "november" should be in valid format YYYY-MM']},
        ),
        (
            SUMMARY + "?start=2000-01&end=2026-12",
            {"non_field_errors": ["The period is longer than 120 months: ask for a shorter one."]},
        ),
        (TOTAL + "?month=13", {"month": ["Ensure this value is less than or equal to 12."]}),
        (TOTAL + "?customer_uuid=nope", {"customer_uuid": ["Enter a valid UUID."]}),
    ],
)
def test_bad_input_is_a_400_in_drfs_shape(client, staff, path, errors) -> None:
    reply = call(client, "GET", path, staff)
    assert (reply.status, reply.json) == (400, errors)


def test_a_rebuild_equals_what_the_stream_built(client, world, now, settle) -> None:
    from chalicelib.store import analytics

    w = world
    w.terminate(w.r2, at("2026-11-20T09:00:00"))  # type: ignore[attr-defined]
    w.terminate(w.r3, at("2026-11-21T09:00:00"))  # type: ignore[attr-defined]  # Beta's limits: 0
    settle()
    assert [r["offering_uuid"] for r in get(client, w.staff, LIMITS)] == [w.alpha.id]
    report = analytics.rebuild(dry_run=True)
    assert (report.written, report.deleted) == (0, 0)
    assert report.unchanged > 0


def test_a_record_delivered_again_moves_nothing(aws, staff, now) -> None:
    from chalicelib.domain.analytics_costs import COSTS_BY_OFFERING, INVOICES, LIMITS
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import analytics

    first: list[bool] = []
    again: list[bool] = []

    def deliver_twice(batch: dict) -> dict:
        records = [r for r in batch["Records"] if analytics.folds(r)]
        first.extend(analytics.fold(record) for record in records)
        built = analytics.stored_sums()
        again.extend(analytics.fold(record) for record in records)  # the same eventIDs
        assert analytics.stored_sums() == built
        return {"batchItemFailures": []}

    w = World(staff)
    r1 = w.made(w.alpha, w.apollo, at("2026-11-01T00:00:00"), 4, "r1")
    w.terminate(r1, at("2026-11-10T00:00:00"))
    reader = StreamReader(handler=deliver_twice)
    while reader.poll_once():
        pass
    assert any(first) and not any(again)
    ours = {k: v for k, v in analytics.stored_sums().items() if k[0] in (COSTS_BY_OFFERING, INVOICES, LIMITS)}
    # r1's ip from 1 Nov to 10 Nov: 10/30 = 0.34 (rounded up) x 30 = 10.20, cpu 8.00; no limits left
    assert ours[(COSTS_BY_OFFERING, "M#2026-11", w.alpha.id)] == (Decimal("18.20"), "Alpha")
    assert ours[(INVOICES, "M#2026-11", f"price#{w.acme.id}")][0] == Decimal("18.20")
    assert not [k for k in ours if k[0] == LIMITS]


def test_a_read_costs_the_same_few_calls_however_many_resources(client, world, now, settle) -> None:
    from tests.ddb_costs import Meter

    w = world

    def costs_of() -> dict[str, list[str]]:
        with Meter.installed() as meter:
            found = {}
            for path in (COSTS, SUMMARY, LIMITS, TOTAL + "?name=acme"):
                with meter.measuring() as cost:
                    get(client, w.staff, path)
                found[path] = cost.ops
            return found

    before = costs_of()
    for n in range(6):
        w.made(w.beta, w.gemini, at("2026-11-02T00:00:00"), n + 1, f"more-{n}")
    clock.set_source(lambda: now[0])
    settle()
    after = costs_of()
    assert after == before
    # the caller's token (a GetItem), then one Query of one series; the limits add a BatchGetItem of
    # the offerings listed and one of the providers of those without a country (Alpha)
    assert after == {
        COSTS: ["GetItem", "Query"],
        SUMMARY: ["GetItem", "Query"],
        LIMITS: ["GetItem", "Query", "BatchGetItem", "BatchGetItem"],
        TOTAL + "?name=acme": ["GetItem", "Query"],
    }
