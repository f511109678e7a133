"""marketplace-stats/ for orders and organisations: order_stats, resource_provisioning_stats, the
creation trends and the per-organisation counts, read from the aggregates the stream keeps
(store/analytics.py), checked against numbers worked out by hand; who may read them; the rebuild
equals the stream's result and a redelivered record moves nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import call

pytestmark = [pytest.mark.stack]

ORDERS = "/api/marketplace-orders/"
STATS = "/api/marketplace-stats/"
GHOST = "0" * 32


@pytest.fixture
def moment():
    """A clock the test moves: starts now (to the minute), so tokens stay valid."""
    from chalicelib.domain import clock

    now = [datetime.now(UTC).replace(second=0, microsecond=0)]
    clock.set_source(lambda: now[0])
    yield now
    clock.set_source(None)


def place(client, market):
    offering = market.offering
    public = f"http://testserver/api/marketplace-public-offerings/{offering.id}/"
    body = {
        "project": f"http://testserver/api/projects/{market.project.id}/",
        "offering": public,
        "plan": f"{public}plans/{offering.plans[0].id}/",
        "attributes": {"name": "vm"},
        "limits": {"cpu": 2},
    }
    reply = call(client, "POST", ORDERS, market.owner, body)
    assert reply.status == 201, reply.json
    return reply.json


def act(client, market, order, action, payload=None):
    reply = call(client, "POST", f"{ORDERS}{order['uuid']}/{action}/", market.seller, payload)
    assert reply.status == 200, reply.json


def get(client, account, path):
    reply = call(client, "GET", path, account)
    assert reply.status == 200, reply.json
    return reply.json


@pytest.fixture
def scenario(client, market, moment, settle):
    """Five creation orders placed at T by the consumer's owner (approved by their placing; a
    Basic offering waits for the provider), each 10 + 2 cpu x 2 = 14.00: three approved at T+2min
    and done at T+12min, one approved at T+2min and failed at T+32min, one left pending. Read at
    T+40min."""
    start = moment[0]
    orders = [place(client, market) for _ in range(5)]
    moment[0] = start + timedelta(minutes=2)
    for order in orders[:4]:
        act(client, market, order, "approve_by_provider")
    moment[0] = start + timedelta(minutes=12)
    for order in orders[:3]:
        act(client, market, order, "set_state_done")
    moment[0] = start + timedelta(minutes=32)
    act(client, market, orders[3], "set_state_erred", {"error_message": "No capacity"})
    moment[0] = start + timedelta(minutes=40)
    settle()
    return start


def test_order_stats_count_the_orders_of_the_period_by_state_and_type(client, market, scenario, staff):
    stats = get(client, staff, f"{STATS}order_stats/")
    today = scenario.date().isoformat()
    assert stats == {
        "summary": {
            "total": 5,
            "total_cost": "70.00",
            "total_revenue": "70.00",
            "pending": 1,
            "executing": 0,
            "done": 3,
            "erred": 1,
            "canceled": 0,
            "rejected": 0,
        },
        "by_state": {"done": 3, "erred": 1, "pending-provider": 1},
        "by_type": {"Create": 5},
        "daily": [
            {
                "date": today,
                "total": 5,
                "total_cost": "70.00",
                "revenue": "70.00",
                "by_state": {"done": 3, "erred": 1, "pending-provider": 1},
                "by_type": {"Create": 5},
            }
        ],
    }
    # a period without orders, and a customer without orders
    yesterday = (scenario.date() - timedelta(days=1)).isoformat()
    empty = get(client, staff, f"{STATS}order_stats/?start={yesterday}&end={yesterday}")
    assert (empty["summary"]["total"], empty["daily"], empty["by_state"]) == (0, [], {})
    provider_as_customer = get(client, staff, f"{STATS}order_stats/?customer_uuid={market.provider.id}")
    assert provider_as_customer["summary"]["total"] == 0
    both = get(
        client,
        staff,
        f"{STATS}order_stats/?customer_uuid={market.consumer.id}&provider_uuid={market.provider.id}",
    )
    assert both["summary"] == stats["summary"]


def test_order_stats_are_for_staff_support_and_the_roles_of_the_customer_or_provider_asked_about(
    client, market, scenario, support, alice
):
    platform = get(client, support, f"{STATS}order_stats/")
    own = get(client, market.owner, f"{STATS}order_stats/?customer_uuid={market.consumer.id}")
    sold = get(client, market.seller, f"{STATS}order_stats/?provider_uuid={market.provider.id}")
    assert own == sold == platform
    forbidden = {"detail": "You do not have permission to perform this action."}
    for account, query in (
        (market.owner, ""),  # the whole platform
        (market.owner, f"?provider_uuid={market.provider.id}"),  # not theirs
        (market.owner, f"?customer_uuid={GHOST}"),  # absent: the same answer
        (market.member, f"?customer_uuid={market.consumer.id}"),  # a project role only
        (alice, f"?customer_uuid={market.consumer.id}"),
    ):
        reply = call(client, "GET", f"{STATS}order_stats/{query}", account)
        assert (reply.status, reply.json) == (403, forbidden), (account, query)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-12-10&end=2026-12-01", "start must not be after end."),
        ("start=2020-01-01&end=2026-12-01", "The period is longer than 366 days: ask for a shorter one."),
    ],
)
def test_a_bad_period_is_a_400(client, staff, query, message):
    reply = call(client, "GET", f"{STATS}order_stats/?{query}", staff)
    assert (reply.status, reply.json) == (400, {"non_field_errors": [message]})


def test_bad_query_values_are_400s(client, staff):
    for path in (
        "order_stats/?start=yesterday",
        "order_stats/?customer_uuid=nope",
        "resource_provisioning_stats/?last_minutes=soon",
        "resource_provisioning_stats/?last_minutes=0",
        "resource_provisioning_stats/?last_minutes=99999999",
    ):
        reply = call(client, "GET", f"{STATS}{path}", staff)
        assert reply.status == 400, (path, reply.json)


def test_provisioning_stats_count_creation_orders_per_offering(client, market, scenario, staff):
    [row] = get(client, staff, f"{STATS}resource_provisioning_stats/")
    assert row == {
        "offering_uuid": market.offering.id,
        "offering_name": "Compute",
        "service_provider_uuid": market.provider.id,
        "service_provider_name": "Cloud Provider",
        "provisioning_count": 4,
        "provisioning_success_count": 3,
        "provisioning_error_count": 1,
        "provisioning_in_progress_count": 1,
        "provisioning_success_rate": 0.75,
        # pending: 2 minutes each; provisioning: 10 minutes three times and 30 once
        "avg_provisioning_duration": (3 * 600 + 1800) / 4,
        "avg_pending_duration": 120.0,
    }
    # the last 10 minutes (from T+30): only the failure ended then
    [recent] = get(client, staff, f"{STATS}resource_provisioning_stats/?last_minutes=10")
    assert (
        recent["provisioning_count"],
        recent["provisioning_error_count"],
        recent["provisioning_success_rate"],
        recent["avg_provisioning_duration"],
        recent["provisioning_in_progress_count"],
    ) == (1, 1, 0.0, 1800.0, 1)


def test_creation_trends_and_counts_per_organisation(client, market, scenario, staff):
    month = scenario.strftime("%Y-%m")
    assert get(client, staff, f"{STATS}project_creation_trend/") == [{"month": month, "count": 1}]
    assert get(client, staff, f"{STATS}resource_creation_trend/") == [{"month": month, "count": 5}]
    acme = {"name": "Acme", "uuid": market.consumer.id, "abbreviation": ""}
    assert get(client, staff, f"{STATS}organization_project_count/") == [{**acme, "count": 1}]
    # three resources are OK (done); the erred and the creating one are not
    assert get(client, staff, f"{STATS}organization_resource_count/") == [{**acme, "count": 3}]
    assert get(client, staff, f"{STATS}customer_member_count/") == [
        {**acme, "count": 2, "has_resources": True},  # its owner and its project's member
        {
            "name": "Cloud Provider",
            "uuid": market.provider.id,
            "abbreviation": "",
            "count": 1,  # the seller
            "has_resources": False,
        },
    ]
    reply = call(client, "HEAD", f"{STATS}customer_member_count/", staff)
    assert (reply.status, reply.headers.get("X-Result-Count")) == (200, "2")


def test_the_platform_wide_lists_are_for_staff_and_support_only(client, market, scenario, support):
    for name in (
        "resource_provisioning_stats",
        "project_creation_trend",
        "resource_creation_trend",
        "organization_project_count",
        "organization_resource_count",
        "customer_member_count",
    ):
        assert call(client, "GET", f"{STATS}{name}/", support).status == 200
        for account in (market.owner, market.seller):
            assert call(client, "GET", f"{STATS}{name}/", account).status == 403, name


def test_a_renamed_customer_is_listed_under_its_new_name(client, market, scenario, staff, settle):
    from chalicelib.store import analytics

    reply = call(client, "PATCH", f"/api/customers/{market.consumer.id}/", staff, {"name": "Acme Ltd"})
    assert reply.status == 200, reply.json
    settle()
    [acme] = get(client, staff, f"{STATS}organization_project_count/")
    assert acme["name"] == "Acme Ltd"
    assert analytics.rebuild(dry_run=True).as_dict() | {"objects": 0, "unchanged": 0} == {
        "objects": 0,
        "written": 0,
        "deleted": 0,
        "unchanged": 0,
    }


def test_a_rebuild_equals_what_the_stream_built(market, scenario):
    from chalicelib.store import analytics

    report = analytics.rebuild(dry_run=True)
    assert (report.written, report.deleted) == (0, 0)


def test_a_record_delivered_again_moves_nothing(client, market, moment, staff):
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import analytics

    order = place(client, market)
    act(client, market, order, "approve_by_provider")
    act(client, market, order, "set_state_done")
    first: list[bool] = []
    again: list[bool] = []

    def deliver_twice(batch: dict) -> dict:
        records = [r for r in batch["Records"] if analytics.folds(r)]
        first.extend(analytics.fold(record) for record in records)
        built = analytics.stored_sums()
        again.extend(analytics.fold(record) for record in records)
        assert analytics.stored_sums() == built
        return {"batchItemFailures": []}

    while StreamReader(handler=deliver_twice).poll_once():
        pass
    assert any(first) and not any(again)
    assert get(client, staff, f"{STATS}order_stats/")["by_state"] == {"done": 1}
    [row] = get(client, staff, f"{STATS}resource_provisioning_stats/")
    assert (row["provisioning_success_count"], row["provisioning_in_progress_count"]) == (1, 0)


ENDPOINTS = (
    "order_stats/",
    "order_stats/?customer_uuid={consumer}",
    "resource_provisioning_stats/",
    "resource_provisioning_stats/?last_minutes=600",
    "project_creation_trend/",
    "resource_creation_trend/",
    "organization_project_count/",
    "organization_resource_count/",
    "customer_member_count/",
)


def test_each_answer_costs_the_same_few_reads_however_many_orders_there_are(
    client, market, scenario, moment, staff, settle
):
    from tests.ddb_costs import Meter

    def costs() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        with Meter.installed() as meter:
            for path in ENDPOINTS:
                path = path.format(consumer=market.consumer.id)
                get(client, staff, STATS + path)  # the caller's own reads made once (memoised)
                with meter.measuring() as cost:
                    get(client, staff, STATS + path)
                out[path] = cost.ops
        return out

    before = costs()
    for _ in range(5):  # five more orders, one more resource done
        place(client, market)
    [more] = [place(client, market)]
    act(client, market, more, "approve_by_provider")
    act(client, market, more, "set_state_done")
    settle()
    assert costs() == before
    for path, ops in before.items():
        queries = [op for op in ops if op == "Query"]
        assert 1 <= len(queries) <= 4, (path, ops)  # the series read, and the caller's token or roles
