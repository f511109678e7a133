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
