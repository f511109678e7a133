"""Component usage statistics from the analytics series: `marketplace-stats/component_usages*`,
the customer's and project's `components-usage*` routes and `marketplace-component-usage-monthly/`,
checked against numbers worked out by hand; who sees what; a report replaced in place; a
terminated resource's limits; a rebuild equal to what the stream built; a redelivered record.

The scenario (offering HPC of Cloud Provider; consumer Acme with projects Apollo and Gemini):
- R1 in Apollo, made last month, limits cpu=2: last month cpu_hours 10, storage 5; this month
  cpu_hours 20, storage 7.
- R2 in Gemini, made this month, limits cpu=4: this month cpu_hours 30.5, then replaced by 40.
So this month: cpu_hours 20 + 40 = 60, storage 7; last month: cpu_hours 10, storage 5; storage's
limit period is `total`: 5 + 7 = 12; cpu limits 2 + 4 = 6.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import clock
from tests.conftest import make_account
from tests.helpers import call, create_project
from tests.integration.test_marketplace_orders_api import act, place
from tests.marketplace_helpers import CPU, build_market, make_offering

pytestmark = pytest.mark.stack  # the aggregates are kept by the stream consumer (moto's stream)

COMPONENTS = [
    CPU,
    {"type": "cpu_hours", "name": "CPU hours", "measured_unit": "h", "billing_type": "usage",
     "limit_period": "month", "limit_amount": 100},
    {"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "usage",
     "limit_period": "total"},
]  # fmt: skip
SET_USAGE = "/api/marketplace-component-usages/set_usage/"
STATS = "/api/marketplace-stats"
MONTHLY = "/api/marketplace-component-usage-monthly/"


def this_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


def last_month() -> date:
    return (this_month() - timedelta(days=1)).replace(day=1)


def get(client, account, path, status=200):
    reply = call(client, "GET", path, account)
    assert reply.status == status, (path, reply.status, reply.json)
    return reply.json


def live(client, market, **overrides):
    order = place(client, market, market.owner, of=market.hpc, **overrides)
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    return order["marketplace_resource_uuid"]


def report(client, market, resource, usages, when=None):
    payload = {"resource": resource, "usages": usages}
    if when is not None:
        payload["date"] = when.isoformat()
    reply = call(client, "POST", SET_USAGE, market.seller, payload)
    assert reply.status == 201, reply.json


@pytest.fixture
def market(aws, staff):
    market = build_market(staff)
    market.hpc = make_offering(staff, market.provider.id, name="HPC", components=COMPONENTS)
    return market


@pytest.fixture
def world(client, market, settle):
    """The scenario above, settled."""
    consumer_url = f"http://testserver/api/customers/{market.consumer.id}/"
    gemini = create_project(client, market.staff, {"url": consumer_url}, "Gemini")
    made = datetime.combine(last_month(), datetime.min.time(), UTC) + timedelta(days=9, hours=12)
    clock.set_source(lambda: made)
    try:
        r1 = live(client, market, limits={"cpu": 2})
    finally:
        clock.set_source(None)
    project_url = f"http://testserver/api/projects/{gemini['uuid']}/"
    r2 = live(client, market, project=project_url, limits={"cpu": 4}, attributes={"name": "vm-2"})
    report(client, market, r1, [{"type": "cpu_hours", "amount": 10}, {"type": "storage", "amount": 5}], made)
    report(client, market, r1, [{"type": "cpu_hours", "amount": 20}, {"type": "storage", "amount": 7}])
    report(client, market, r2, [{"type": "cpu_hours", "amount": "30.5"}])
    report(client, market, r2, [{"type": "cpu_hours", "amount": 40}])  # replaces 30.5
    settle()
    market.gemini, market.r1, market.r2 = gemini, r1, r2
    return market


def _month(first: date) -> tuple[int, int]:
    return first.month, first.year


# --- marketplace-stats/ ------------------------------------------------------------------------------
def test_stats_sum_this_months_usage_per_offering_and_component(client, world):
    hpc = world.hpc.id
    rows = get(client, world.staff, f"{STATS}/component_usages/")
    assert sorted((r["offering_uuid"], r["component_type"], r["usage"]) for r in rows) == [
        (hpc, "cpu_hours", "60.00"),
        (hpc, "storage", "7.00"),
    ]
    assert {
        (r["offering_country"], r["organization_group_name"], r["organization_group_uuid"]) for r in rows
    } == {("", "", "")}


def test_stats_per_month_cover_a_year_by_default_and_a_range_on_request(client, world):
    hpc = world.hpc.id
    rows = get(client, world.staff, f"{STATS}/component_usages_per_month/")
    assert sorted(
        (r["year"], r["month"], r["component_type"], r["usage"], r["offering_uuid"]) for r in rows
    ) == [
        (last_month().year, last_month().month, "cpu_hours", "10.00", hpc),
        (last_month().year, last_month().month, "storage", "5.00", hpc),
        (this_month().year, this_month().month, "cpu_hours", "60.00", hpc),
        (this_month().year, this_month().month, "storage", "7.00", hpc),
    ]
    only_now = this_month().strftime("%Y-%m")
    rows = get(client, world.staff, f"{STATS}/component_usages_per_month/?start={only_now}&end={only_now}")
    assert sorted((r["component_type"], r["usage"]) for r in rows) == [
        ("cpu_hours", "60.00"),
        ("storage", "7.00"),
    ]

    for query, error in (
        (f"start={only_now}", {"non_field_errors": ["Both parameters must be specified."]}),
        (
            "start=2026-02&end=2026-01",
            {"non_field_errors": ["Start date must be earlier or equal to end date."]},
        ),
        ("start=2026-13&end=2027-01", {"start": ["Value must be in YYYY-MM format."]}),
        ("start=2000-01&end=2026-01", {"start": ["A range of at most 120 months may be asked for."]}),
    ):
        reply = call(client, "GET", f"{STATS}/component_usages_per_month/?{query}", world.staff)
        assert (reply.status, reply.json) == (400, error), query


def test_stats_per_project(client, world):
    rows = get(client, world.staff, f"{STATS}/component_usages_per_project/")
    assert sorted((r["project_uuid"], r["component_type"], r["usage"]) for r in rows) == sorted(
        [
            (world.project.id, "cpu_hours", 20),
            (world.project.id, "storage", 7),
            (world.gemini["uuid"], "cpu_hours", 40),
        ]
    )


def test_stats_are_for_staff_and_support_only(client, world):
    desk = make_account("desk", is_support=True)
    assert len(get(client, desk, f"{STATS}/component_usages/")) == 2
    for account in (world.owner, world.seller, world.member):
        for name in ("component_usages", "component_usages_per_month", "component_usages_per_project"):
            get(client, account, f"{STATS}/{name}/", status=403)


# --- a customer's and a project's usage ----------------------------------------------------------------
def _components(answer):
    return {
        c["type"]: (c["usage"], c["limit_usage"], c["limit_usage_terminated"], c["usage_terminated"])
        for c in answer["components"]
        if c["offering_uuid"] == answer_offering(answer)
    }


def answer_offering(answer):
    [offering] = {c["offering_uuid"] for c in answer["components"]}
    return offering


def test_a_customers_usage_per_component_over_each_limit_period(client, world):
    answer = get(
        client, world.owner, f"/api/marketplace-customer-usage/{world.consumer.id}/components-usage/"
    )
    assert answer_offering(answer) == world.hpc.id  # the other offering has no resource of Acme's
    assert _components(answer) == {
        "cpu": (0.0, 6.0, 0.0, 0.0),
        "cpu_hours": (60.0, 0.0, 0.0, 0.0),  # this month only
        "storage": (12.0, 0.0, 0.0, 0.0),  # total: both months
    }
    rows = {c["type"]: c for c in answer["components"]}
    hours = rows["cpu_hours"]
    assert (hours["limit"], hours["limit_period"], hours["billing_type"]) == (100.0, "month", "usage")
    assert hours["current_period_start"] == this_month().isoformat()
    assert (rows["storage"]["current_period_label"], rows["storage"]["current_period_start"]) == (
        "Total",
        None,
    )
    assert (rows["cpu"]["limit"], rows["cpu"]["limit_period"]) == (None, None)


def test_a_projects_usage_and_who_sees_which(client, world):
    apollo = get(client, world.member, f"/api/marketplace-project-usage/{world.project.id}/components-usage/")
    assert _components(apollo) == {
        "cpu": (0.0, 2.0, 0.0, 0.0),
        "cpu_hours": (20.0, 0.0, 0.0, 0.0),
        "storage": (12.0, 0.0, 0.0, 0.0),
    }
    stranger = make_account("stranger")
    get(client, world.member, f"/api/marketplace-customer-usage/{world.consumer.id}/components-usage/", 404)
    get(client, world.member, f"/api/marketplace-project-usage/{world.gemini['uuid']}/components-usage/", 404)
    get(client, stranger, f"/api/marketplace-customer-usage/{world.consumer.id}/components-usage/", 404)
    get(client, world.seller, f"/api/marketplace-customer-usage/{world.consumer.id}/components-usage/", 404)
    get(client, world.owner, f"/api/marketplace-customer-usage/{'0' * 32}/components-usage/", 404)


def test_timeseries_and_by_project_follow_the_components_limit_period(client, world):
    base = f"/api/marketplace-customer-usage/{world.consumer.id}"
    hpc = world.hpc.id
    now = get(
        client,
        world.owner,
        f"{base}/components-usage-timeseries/?offering_uuid={hpc}&component_type=cpu_hours",
    )
    assert [(b["billing_period"], b["usage"]) for b in now["buckets"]] == [(this_month().isoformat(), 60.0)]
    assert (now["type"], now["name"], now["limit"], now["today"]) == (
        "cpu_hours",
        "CPU hours",
        100.0,
        datetime.now(UTC).date().isoformat(),
    )
    before = get(
        client,
        world.owner,
        f"{base}/components-usage-timeseries/?offering_uuid={hpc}&component_type=cpu_hours&period_offset=1",
    )
    assert [(b["billing_period"], b["usage"]) for b in before["buckets"]] == [
        (last_month().isoformat(), 10.0)
    ]
    storage = get(
        client, world.owner, f"{base}/components-usage-timeseries/?offering_uuid={hpc}&component_type=storage"
    )
    assert [(b["billing_period"], b["usage"]) for b in storage["buckets"]] == [
        (last_month().isoformat(), 5.0),
        (this_month().isoformat(), 7.0),
    ]
    # no component named: the offering's first usage-based one
    first = get(client, world.owner, f"{base}/components-usage-timeseries/?offering_uuid={hpc}")
    assert first["type"] == "cpu_hours"

    apollo_only = get(
        client,
        world.member,
        f"/api/marketplace-project-usage/{world.project.id}/components-usage-timeseries/"
        f"?offering_uuid={hpc}&component_type=cpu_hours",
    )
    assert [b["usage"] for b in apollo_only["buckets"]] == [20.0]

    by_project = get(
        client,
        world.owner,
        f"{base}/components-usage-by-project/?offering_uuid={hpc}&component_type=cpu_hours",
    )
    assert by_project["total_usage"] == 60.0
    assert [(p["project_name"], p["usage"], p["is_removed"]) for p in by_project["projects"]] == [
        ("Gemini", 40.0, False),
        ("Apollo", 20.0, False),
    ]
    assert by_project["projects"][0]["buckets"] == [
        {"billing_period": this_month().isoformat(), "usage": 40.0, "usage_terminated": 0.0}
    ]

    for query, field in (
        ("", "offering_uuid"),
        (f"offering_uuid={'0' * 32}", "offering_uuid"),
        (f"offering_uuid={hpc}&component_type=ram", "component_type"),
        (f"offering_uuid={hpc}&period_offset=-1", "period_offset"),
        (f"offering_uuid={hpc}&period_offset=121", "period_offset"),
        ("offering_uuid=nope", "offering_uuid"),
    ):
        reply = call(client, "GET", f"{base}/components-usage-timeseries/?{query}", world.owner)
        assert reply.status == 400 and field in reply.json, (query, reply.json)


def test_a_terminated_resources_limits_count_only_when_asked_for(client, world, settle):
    terminate = call(client, "POST", f"/api/marketplace-resources/{world.r2}/terminate/", world.owner)
    assert terminate.status == 200, terminate.json
    order = {"uuid": terminate.json["order_uuid"]}
    assert act(client, world.seller, order, "approve_by_provider").status == 200
    assert act(client, world.seller, order, "set_state_done").status == 200
    assert get(client, world.owner, f"/api/marketplace-resources/{world.r2}/")["state"] == "Terminated"
    settle()
    base = f"/api/marketplace-customer-usage/{world.consumer.id}/components-usage/"
    live = {c["type"]: c for c in get(client, world.owner, base)["components"]}
    assert (live["cpu"]["limit_usage"], live["cpu"]["limit_usage_terminated"]) == (2.0, 0.0)
    every = {c["type"]: c for c in get(client, world.owner, f"{base}?include_terminated=true")["components"]}
    assert (every["cpu"]["limit_usage"], every["cpu"]["limit_usage_terminated"]) == (6.0, 4.0)
    assert every["cpu_hours"]["usage"] == 60.0  # usages are not split by their resource's state


# --- marketplace-component-usage-monthly/ ----------------------------------------------------------------
def _monthly(rows):
    return sorted((r["billing_period"], r["component_type"], r["total_consumed"]) for r in rows)


def test_monthly_usage_for_each_side(client, world):
    now, before = this_month().isoformat(), last_month().isoformat()
    this = [(now, "cpu_hours", "60.00"), (now, "storage", "7.00")]
    rows = get(client, world.staff, MONTHLY)
    assert _monthly(rows) == this
    [row] = [r for r in rows if r["component_type"] == "cpu_hours"]
    assert row == {
        "offering_uuid": world.hpc.id,
        "offering_name": "HPC",
        "offering_type": world.hpc.type,
        "service_provider_uuid": world.provider.id,
        "service_provider_name": "Cloud Provider",
        "component_type": "cpu_hours",
        "component_name": "CPU hours",
        "measured_unit": "h",
        "billing_type": "usage",
        "limit_amount": 100,
        "limit_period": "month",
        "billing_period": now,
        "total_consumed": "60.00",
        "usage_percent": None,
    }
    ranged = get(client, world.staff, f"{MONTHLY}?start={before}&end={now}&o=-total_consumed")
    assert [r["total_consumed"] for r in ranged] == ["60.00", "10.00", "7.00", "5.00"]
    assert _monthly(get(client, world.staff, f"{MONTHLY}?billing_period={before}")) == [
        (before, "cpu_hours", "10.00"),
        (before, "storage", "5.00"),
    ]
    assert _monthly(get(client, world.staff, f"{MONTHLY}?component_type=storage")) == [
        (now, "storage", "7.00")
    ]
    assert get(client, world.staff, f"{MONTHLY}?billing_type=limit") == []
    assert get(
        client, world.staff, f"{MONTHLY}?field=total_consumed&field=component_type&o=component_type"
    ) == [
        {"component_type": "cpu_hours", "total_consumed": "60.00"},
        {"component_type": "storage", "total_consumed": "7.00"},
    ]

    assert _monthly(get(client, world.seller, MONTHLY)) == this  # the provider: its offerings
    assert _monthly(get(client, world.owner, f"{MONTHLY}?customer_uuid={world.consumer.id}")) == this
    apollo = get(client, world.member, f"{MONTHLY}?project_uuid={world.project.id}")
    assert _monthly(apollo) == [(now, "cpu_hours", "20.00"), (now, "storage", "7.00")]
    gemini = f"{MONTHLY}?project_uuid={world.gemini['uuid']}"
    assert _monthly(get(client, world.seller, gemini)) == [
        (now, "cpu_hours", "40.00")
    ]  # its offering's usage
    assert get(client, world.member, gemini) == []  # not the member's project
    assert get(client, world.member, f"{MONTHLY}?customer_uuid={world.consumer.id}") == []
    assert get(client, world.owner, MONTHLY) == []  # provides nothing
    assert get(client, make_account("stranger"), f"{MONTHLY}?customer_uuid={world.consumer.id}") == []

    for query in (
        "start=2026-02-01&end=2026-01-01",
        "start=2000-01-01&end=2026-01-01",
        "o=nope",
        "field=nope",
    ):
        reply = call(client, "GET", f"{MONTHLY}?{query}", world.staff)
        assert reply.status == 400, (query, reply.json)


# --- the aggregates ------------------------------------------------------------------------------------
def test_the_rebuild_equals_what_the_stream_built(client, world):
    from chalicelib.store import analytics

    report = analytics.rebuild(dry_run=True)
    assert report.objects > 0 and (report.written, report.deleted) == (0, 0)


def test_a_redelivered_usage_record_moves_nothing(client, market):
    from chalicelib.domain import analytics as agg
    from chalicelib.domain.analytics_usages import PLATFORM
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import analytics

    resource = live(client, market)
    report(client, market, resource, [{"type": "cpu_hours", "amount": 3}])
    report(client, market, resource, [{"type": "cpu_hours", "amount": 8}])
    again: list[bool] = []

    def deliver_twice(batch: dict) -> dict:
        records = [r for r in batch["Records"] if analytics.folds(r)]
        for record in records:
            analytics.fold(record)
        built = analytics.stored_sums()
        again.extend(analytics.fold(record) for record in records)
        assert analytics.stored_sums() == built
        return {"batchItemFailures": []}

    reader = StreamReader(handler=deliver_twice)
    while True:  # until a poll reads nothing (a poll may read only records the filter drops)
        before = dict(reader._last)
        reader.poll_once()
        if reader._last == before:
            break
    assert again and not any(again)
    month = agg.month(this_month())
    rows = analytics.read(PLATFORM, month, month)
    assert [(r.value, r.label) for r in rows] == [(8, "HPC")]  # 3, then replaced by 8


# --- the cost of a read ------------------------------------------------------------------------------------
def _reads(client, world):
    """Every usage read of the scenario, each as its DynamoDB operations."""
    from tests.ddb_costs import Meter

    hpc, acme, apollo = world.hpc.id, world.consumer.id, world.project.id
    paths = [
        (world.staff, f"{STATS}/component_usages/"),
        (world.staff, f"{STATS}/component_usages_per_month/"),
        (world.staff, f"{STATS}/component_usages_per_project/"),
        (world.owner, f"/api/marketplace-customer-usage/{acme}/components-usage/?include_terminated=true"),
        (
            world.owner,
            f"/api/marketplace-customer-usage/{acme}/components-usage-timeseries/?offering_uuid={hpc}",
        ),
        (
            world.owner,
            f"/api/marketplace-customer-usage/{acme}/components-usage-by-project/?offering_uuid={hpc}",
        ),
        (world.member, f"/api/marketplace-project-usage/{apollo}/components-usage/"),
        (world.staff, MONTHLY),
        (world.seller, MONTHLY),
    ]
    out = {}
    with Meter.installed() as meter:
        for account, path in paths:
            with meter.measuring() as cost:
                get(client, account, path)
            out[(account.username, path)] = cost.ops
    return out


def test_a_read_costs_the_same_few_calls_whatever_the_number_of_resources(client, world, settle):
    before = _reads(client, world)
    assert all("Scan" not in ops for ops in before.values())
    for n in range(3):  # three more resources with usage in Apollo
        resource = live(client, world, limits={"cpu": 1}, attributes={"name": f"vm-extra-{n}"})
        report(
            client, world, resource, [{"type": "cpu_hours", "amount": 1}, {"type": "storage", "amount": 1}]
        )
    settle()
    assert get(client, world.staff, f"{STATS}/component_usages/")[0]["usage"] == "63.00"
    assert _reads(client, world) == before


def test_a_private_offering_of_nobodys_resources_is_not_described_to_a_consumer(client, world, staff):
    secret = make_offering(staff, world.provider.id, name="Secret", components=COMPONENTS, shared=False)
    base = f"/api/marketplace-customer-usage/{world.consumer.id}/components-usage-timeseries/"
    refused = call(client, "GET", f"{base}?offering_uuid={secret.id}", world.owner)
    assert (refused.status, refused.json) == (
        400,
        {"offering_uuid": ["Object with this UUID does not exist."]},
    )
    assert get(
        client, world.seller, f"/api/marketplace-customer-usage/{world.consumer.id}/components-usage/", 404
    )
    # staff see it (zero usage); the consumer sees the catalog offering its resources use
    assert get(client, world.staff, f"{base}?offering_uuid={secret.id}")["offering_name"] == "Secret"
    assert get(client, world.owner, f"{base}?offering_uuid={world.hpc.id}")["offering_name"] == "HPC"
