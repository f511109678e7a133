"""Quota analytics through the API, kept from the table's stream (store/analytics.py): `daily-quotas/`
from the quotas' gauge points (the last usage on or before each day, the last point before the
period carried in, the roles-derived team size before the first point), and `customer-quotas/` and
`project-quotas/` (the current usage of one quota per customer or project, staff and support only)
from the NOW facts of customers and projects. Values are computed by hand from the scenario.

Points land on the day the stream record was made (the real clock); earlier days' points are put
as the daily snapshot would have put them (`put_point`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import analytics as domain
from chalicelib.domain import clock
from chalicelib.domain.analytics import Point
from chalicelib.domain.analytics_quotas import USAGE, quota_series
from tests.helpers import call, create_customer, create_project

pytestmark = pytest.mark.moto


def _today() -> date:
    return clock.utcnow().date()


def _get(client: Any, account: Any, path: str) -> Any:
    reply = call(client, "GET", path, account)
    assert reply.status == 200, (path, reply.status, reply.json)
    return reply.json


def _scope(kind: str, object_id: str) -> str:
    return f"http%3A%2F%2Ftestserver%2Fapi%2F{kind}%2F{object_id}%2F"


def _daily(client: Any, account: Any, scope: str, name: str, start: date, end: date) -> list[int]:
    path = f"/api/daily-quotas/?scope={scope}&quota_names={name}&start={start}&end={end}"
    return _get(client, account, path)[name]


def _past_usage(kind: str, scope_id: str, quota: str, day: date, usage: int) -> None:
    """A point of an earlier day, as that day's snapshot put it."""
    from chalicelib.store import analytics

    analytics.put_point(Point(quota_series(kind, scope_id, quota), USAGE, usage), domain.day(day))


# --- daily-quotas/ --------------------------------------------------------------------------------
def test_each_day_has_the_last_usage_recorded_on_or_before_it(client, staff, settle):
    acme = create_customer(client, staff, "Acme")
    create_project(client, staff, acme, "Apollo")
    create_project(client, staff, acme, "Gemini")
    settle()  # today's point: 2 projects
    today = _today()
    _past_usage("customer", acme["uuid"], "nc_project_count", today - timedelta(days=10), 5)
    _past_usage("customer", acme["uuid"], "nc_project_count", today - timedelta(days=5), 7)
    scope = _scope("customers", acme["uuid"])

    whole = _daily(client, staff, scope, "nc_project_count", today - timedelta(days=12), today)
    # days -12 and -11: before the first point, nothing recorded (Waldur's 0); -10..-6: 5;
    # -5..-1: 7; today: 2
    assert whole == [0, 0] + [5] * 5 + [7] * 5 + [2]

    # a period starting between points starts from the last point before it
    inside = _daily(
        client, staff, scope, "nc_project_count", today - timedelta(days=8), today - timedelta(days=3)
    )
    assert inside == [5, 5, 5, 7, 7, 7]


def test_the_team_size_before_its_first_point_comes_from_the_roles(client, staff, alice, settle):
    today = _today()
    acme = create_customer(client, staff, "Acme")
    # alice joined four days ago (a role granted then), before the customer had points
    clock.set_source(lambda: datetime.now(UTC) - timedelta(days=4))
    try:
        path = f"/api/customers/{acme['uuid']}/add_user/"
        reply = call(client, "POST", path, staff, {"user": alice.id, "role": "CUSTOMER.OWNER"})
    finally:
        clock.set_source(None)
    assert reply.status in (200, 201), reply.json
    settle()  # the customer's points, all of today (the stream's day): one member
    scope = _scope("customers", acme["uuid"])
    sizes = _daily(client, staff, scope, "nc_user_count", today - timedelta(days=6), today)
    # days -6, -5: no role in force; -4..-1: alice's role (from the roles); today: the point
    assert sizes == [0, 0, 1, 1, 1, 1, 1]
    # once a point before the period exists, it is carried: the roles say nothing any more
    _past_usage("customer", acme["uuid"], "nc_user_count", today - timedelta(days=8), 3)
    assert _daily(client, staff, scope, "nc_user_count", today - timedelta(days=6), today) == [3] * 6 + [1]


def test_a_project_answers_its_own_quotas_and_the_team_size(client, staff, settle):
    acme = create_customer(client, staff, "Acme")
    apollo = create_project(client, staff, acme, "Apollo")
    settle()
    today = _today()
    _past_usage("project", apollo["uuid"], "nc_resource_count", today - timedelta(days=2), 4)
    start, end = today - timedelta(days=3), today - timedelta(days=1)
    body = _get(client, staff, f"/api/daily-quotas/?scope={apollo['uuid']}&start={start}&end={end}")
    assert body == {"nc_resource_count": [0, 4, 4], "nc_user_count": [0, 0, 0]}
    # a name that is no quota of the scope has no records
    odd = f"/api/daily-quotas/?scope={apollo['uuid']}&quota_names=os_cpu_count&start={start}&end={end}"
    assert _get(client, staff, odd) == {"os_cpu_count": [0, 0, 0]}


def test_another_tenants_scope_has_no_records(client, staff, alice, settle):
    acme = create_customer(client, staff, "Acme")
    create_project(client, staff, acme, "Apollo")
    settle()
    today = _today()
    scope = _scope("customers", acme["uuid"])
    assert _daily(client, staff, scope, "nc_project_count", today - timedelta(days=1), today) == [0, 1]
    assert _daily(client, alice, scope, "nc_project_count", today - timedelta(days=1), today) == [0, 0]


def test_daily_quotas_read_one_query_per_quota_and_one_more_to_carry(client, staff, settle):
    from tests.ddb_costs import Meter

    acme = create_customer(client, staff, "Acme")
    for n in range(5):
        create_project(client, staff, acme, f"P{n}")
    settle()
    scope = _scope("customers", acme["uuid"])
    today = _today()

    def ops(names: str, start: date) -> tuple[Any, list[str]]:
        path = f"/api/daily-quotas/?scope={scope}&{names}&start={start}&end={today}"
        with Meter.installed() as meter, meter.measuring() as cost:
            body = _get(client, staff, path)
        return body, cost.ops

    # a name that is no quota of the customer reads nothing beyond the scope's lookup
    _, baseline = ops("quota_names=os_cpu_count", today - timedelta(days=3))
    body, carried = ops("quota_names=nc_project_count", today - timedelta(days=3))
    assert body == {"nc_project_count": [0, 0, 0, 5]}
    assert carried == [*baseline, "Query", "Query"]  # the period's points, the last before it
    _past_usage("customer", acme["uuid"], "nc_project_count", today - timedelta(days=1), 4)
    body, first_day_has_a_point = ops("quota_names=nc_project_count", today - timedelta(days=1))
    assert body == {"nc_project_count": [4, 5]}
    assert first_day_has_a_point == [*baseline, "Query"]
    _, two = ops("quota_names=nc_project_count&quota_names=nc_resource_count", today - timedelta(days=1))
    assert two == [*baseline, "Query", "Query", "Query"]  # nc_resource_count has no point then


# --- customer-quotas/ and project-quotas/ -----------------------------------------------------------
def _listing(client: Any, account: Any, path: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    reply = call(client, "GET", path, account)
    assert reply.status == 200, (path, reply.status, reply.json)
    return reply.json, reply.headers


def _quota_world(client: Any, market: Any) -> Any:
    """Acme: Apollo (two resources) and Gemini; Cloud Provider: Zeta."""
    from chalicelib.services import orders
    from tests.marketplace_helpers import ctx_of, order_request

    create_project(
        client, market.staff, {"url": f"http://testserver/api/customers/{market.consumer.id}/"}, "Gemini"
    )
    create_project(
        client, market.staff, {"url": f"http://testserver/api/customers/{market.provider.id}/"}, "Zeta"
    )
    ctx = ctx_of(market.staff)
    for name in ("vm-1", "vm-2"):
        order = orders.create_order(ctx, order_request(market, attributes={"name": name}))
        orders.approve_by_provider(ctx, order.id)
        orders.set_state_done(ctx, order.id)
    return market


def test_each_customer_and_project_with_its_usage_most_first(client, market, settle):
    _quota_world(client, market)
    settle()
    customers, headers = _listing(client, market.staff, "/api/customer-quotas/?quota_name=nc_resource_count")
    assert customers == [
        {"customer_name": "Acme", "customer_abbreviation": "", "value": 2},
        {"customer_name": "Cloud Provider", "customer_abbreviation": "", "value": 0},
    ]
    assert headers["X-Result-Count"] == "2"
    projects, _ = _listing(client, market.staff, "/api/project-quotas/?quota_name=nc_resource_count")
    assert [(p["project_name"], p["customer_name"], p["value"]) for p in projects] == [
        ("Apollo", "Acme", 2),
        ("Gemini", "Acme", 0),  # equal values: by name
        ("Zeta", "Cloud Provider", 0),
    ]
    counted, _ = _listing(client, market.staff, "/api/customer-quotas/?quota_name=nc_project_count")
    assert [(c["customer_name"], c["value"]) for c in counted] == [("Acme", 2), ("Cloud Provider", 1)]
    # a quota Cirrus does not keep: everybody at 0, as Waldur answers for no usage
    cpu, _ = _listing(client, market.staff, "/api/project-quotas/?quota_name=os_cpu_count")
    assert [p["value"] for p in cpu] == [0, 0, 0]


def test_the_lists_filter_order_and_page_as_waldurs(client, market, settle):
    _quota_world(client, market)
    settle()
    base = "/api/project-quotas/?quota_name=nc_resource_count"
    theirs, _ = _listing(client, market.staff, f"{base}&customer_uuid={market.provider.id}")
    assert [p["project_name"] for p in theirs] == ["Zeta"]
    by_name, _ = _listing(client, market.staff, f"{base}&o=name")
    assert [p["project_name"] for p in by_name] == ["Zeta", "Gemini", "Apollo"]  # most first, as Waldur
    fewest, _ = _listing(client, market.staff, f"{base}&o=-value")
    assert [p["value"] for p in fewest] == [0, 0, 2]
    page, headers = _listing(client, market.staff, f"{base}&page=2&page_size=1")
    assert [p["project_name"] for p in page] == ["Gemini"]
    assert headers["X-Result-Count"] == "3"
    assert 'rel="next"' in headers["Link"] and 'rel="prev"' in headers["Link"]
    for query, field in (
        ("", "quota_name"),
        ("?quota_name=nope", "quota_name"),
        ("?quota_name=nc_resource_count&customer_uuid=x", "customer_uuid"),
        ("?quota_name=nc_resource_count&o=created", "o"),
    ):
        reply = call(client, "GET", f"/api/customer-quotas/{query}", market.staff)
        assert reply.status == 400 and field in reply.json, (query, reply.status, reply.json)
    assert call(client, "GET", f"{base}&page=9", market.staff).status == 404


def test_only_staff_and_support_read_the_lists(client, market, support, settle):
    _quota_world(client, market)
    settle()
    for path in ("/api/customer-quotas/", "/api/project-quotas/"):
        query = f"{path}?quota_name=nc_resource_count"
        assert call(client, "GET", query, support).status == 200
        for account in (market.owner, market.seller, market.member):
            reply = call(client, "GET", f"{query}&customer_uuid={market.consumer.id}", account)
            assert reply.status == 403 and "Acme" not in reply.raw.decode()


def test_a_rename_and_a_removal_show_and_the_rebuild_agrees(client, market, settle):
    from chalicelib.services import customers, projects
    from chalicelib.store import analytics
    from chalicelib.store import projects as project_store
    from tests.marketplace_helpers import ctx_of

    _quota_world(client, market)
    settle()
    ctx = ctx_of(market.staff)
    renamed = customers.update_customer(ctx, market.consumer.id, {"name": "Acme Two", "abbreviation": "A2"})
    # the rename's background task copies the names to the projects
    project_store.follow_customer_rename(renamed.id, renamed.name, renamed.abbreviation, "", renamed.version)
    gemini = next(p for p in projects_named(client, market) if p["name"] == "Gemini")
    projects.delete_project(ctx, gemini["uuid"])
    settle()
    listed, _ = _listing(client, market.staff, "/api/customer-quotas/?quota_name=nc_project_count")
    assert listed[0] == {"customer_name": "Acme Two", "customer_abbreviation": "A2", "value": 1}
    left, _ = _listing(client, market.staff, "/api/project-quotas/?quota_name=nc_resource_count")
    assert [(p["project_name"], p["customer_name"], p["customer_abbreviation"]) for p in left] == [
        ("Apollo", "Acme Two", "A2"),
        ("Zeta", "Cloud Provider", ""),
    ]
    report = analytics.rebuild(dry_run=True)
    assert (report.written, report.deleted) == (0, 0)


def projects_named(client: Any, market: Any) -> list[dict[str, Any]]:
    return _get(client, market.staff, f"/api/projects/?customer={market.consumer.id}")


def test_a_redelivered_record_moves_no_list(client, staff):
    from chalicelib.domain.analytics_quota_lists import CUSTOMERS, PROJECTS, usage_series
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import analytics

    acme = create_customer(client, staff, "Acme")
    create_project(client, staff, acme, "Apollo")
    again: list[bool] = []

    def deliver_twice(batch: dict) -> dict:
        records = [r for r in batch["Records"] if analytics.folds(r)]
        for record in records:
            analytics.fold(record)
        built = analytics.stored_sums()
        again.extend(analytics.fold(record) for record in records)
        assert analytics.stored_sums() == built
        return {"batchItemFailures": []}

    StreamReader(handler=deliver_twice).poll_once()
    assert again and not any(again)
    assert [(r.field, r.value) for r in analytics.read_now(CUSTOMERS)] == [(acme["uuid"], 1)]
    assert len(analytics.read_now(PROJECTS)) == 1
    [usage] = analytics.read_now(usage_series("customer", "nc_project_count"))
    assert usage.value == 1
