"""`GET /api/analytics-charts/<chart>/`: analytics series drawn as SVG, read from the aggregates the
stream keeps, with the visibility of the JSON endpoints they mirror."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.domain import analytics as domain
from chalicelib.domain.analytics import Point
from chalicelib.domain.analytics_quotas import quota_series
from chalicelib.domain.clock import utcnow
from tests.conftest import make_account
from tests.helpers import Reply, call, create_customer, create_project

SVG = "{http://www.w3.org/2000/svg}"
EVIL = 'Acme <R&D> "labs"'


def _chart(reply: Reply) -> ET.Element:
    assert reply.status == 200, reply.raw[:300]
    assert reply.headers["Content-Type"] == "image/svg+xml"
    assert reply.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert reply.headers["Cache-Control"] == "no-store"
    return ET.fromstring(reply.raw)


def _title(root: ET.Element) -> str:
    return "".join(root.find(f"{SVG}title").itertext())  # type: ignore[union-attr]


def _lines(root: ET.Element) -> dict[str, list[tuple[str, str]]]:
    """Each series' name → its points' (day, value), read from the points' tooltips."""
    out = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") != "series":
            continue
        name = "".join(group.find(f"{SVG}title").itertext())  # type: ignore[union-attr]
        tips = ["".join(c.find(f"{SVG}title").itertext()) for c in group.iter(f"{SVG}circle")]  # type: ignore[union-attr]
        out[name] = [tuple(tip.split(": ")) for tip in tips]
        [line] = [p for p in group.iter(f"{SVG}polyline")]
        assert len((line.get("points") or "").split()) == len(tips)
    return out


def _bars(root: ET.Element) -> list[str]:
    return [
        "".join(r.find(f"{SVG}title").itertext()) for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"
    ]  # type: ignore[union-attr]


def _quotas(client: Any, account: Any, **params: Any) -> Reply:
    return call(
        client, "GET", f"/api/analytics-charts/daily-quotas/?{urlencode(params, doseq=True)}", account
    )


def test_a_customers_quota_usage_per_day_is_drawn_from_its_points(client, staff, settle):
    from chalicelib.store import analytics

    owner = make_account("owner")
    acme = create_customer(client, staff, EVIL)
    call(
        client,
        "POST",
        f"/api/customers/{acme['uuid']}/add_user/",
        staff,
        {"user": owner.id, "role": "CUSTOMER.OWNER"},
    )
    create_project(client, staff, acme, "Apollo")
    create_project(client, staff, acme, "Gemini")
    settle()
    today = utcnow().date()
    # a point five days ago (one project then): carried into the range until today's
    analytics.put_point(
        Point(quota_series("customer", acme["uuid"], "nc_project_count"), "usage", 1),
        domain.day(today - timedelta(days=5)),
    )
    days = [(today - timedelta(days=n)).isoformat() for n in (3, 2, 1, 0)]

    root = _chart(
        _quotas(client, owner, scope=acme["url"], quota_names="nc_project_count", start=days[0], end=days[-1])
    )

    assert _title(root) == f"{EVIL}: quota usage per day"  # the name as text, escaped in the XML
    assert _lines(root) == {
        "nc_project_count": [(days[0], "1"), (days[1], "1"), (days[2], "1"), (days[3], "2")]
    }
    # none named: the customer's own quotas, a line each
    every = _lines(_chart(_quotas(client, owner, scope=acme["uuid"], start=days[0], end=days[-1])))
    assert list(every) == ["nc_project_count", "nc_user_count", "nc_resource_count"]
    assert [value for _, value in every["nc_resource_count"]] == ["0", "0", "0", "0"]


def test_a_project_named_by_its_bare_uuid_and_the_default_period(client, staff, settle):
    acme = create_customer(client, staff, "Acme")
    apollo = create_project(client, staff, acme, "Apollo")
    settle()
    root = _chart(_quotas(client, staff, scope=apollo["uuid"]))
    assert _title(root) == "Apollo: quota usage per day"
    [(name, points)] = _lines(root).items()
    assert name == "nc_resource_count"
    # Waldur's default period: the 30 days before today, and today
    today = utcnow().date()
    assert [day for day, _ in points] == [(today - timedelta(days=n)).isoformat() for n in range(30, -1, -1)]
    assert {value for _, value in points} == {"0"}


def test_another_tenants_scope_draws_what_a_missing_one_does(client, staff, settle):
    owner = make_account("owner")
    acme = create_customer(client, staff, "Acme")
    call(
        client,
        "POST",
        f"/api/customers/{acme['uuid']}/add_user/",
        staff,
        {"user": owner.id, "role": "CUSTOMER.OWNER"},
    )
    other = create_customer(client, staff, "Other Tenant Ltd")
    hidden = create_project(client, staff, other, "Hidden Project")
    settle()
    params = {"quota_names": "nc_project_count", "start": "2026-11-01", "end": "2026-11-10"}
    missing = _quotas(client, owner, scope="0" * 32, **params)
    for scope in (other["url"], other["uuid"], hidden["uuid"]):
        reply = _quotas(client, owner, scope=scope, **params)
        assert reply.raw == missing.raw
        assert b"Other Tenant" not in reply.raw and b"Hidden" not in reply.raw
    assert _lines(_chart(missing)) == {"nc_project_count": [(f"2026-11-{d:02d}", "0") for d in range(1, 11)]}
    # the same caller's own customer draws its numbers
    assert _title(_chart(_quotas(client, owner, scope=acme["url"], **params))) == "Acme: quota usage per day"


def test_bad_chart_input_is_a_400_in_waldurs_shape(client, staff):
    acme = create_customer(client, staff, "Acme")
    reply = _quotas(client, staff, scope=acme["url"], start="2026-12-05", end="2026-12-01")
    assert reply.status == 400 and "non_field_errors" in reply.json
    reply = _quotas(client, staff, scope=acme["url"], start="2020-01-01", end="2026-01-01")
    assert reply.status == 400 and "at most 731 days" in reply.json["non_field_errors"][0]
    assert _quotas(client, staff, scope="not-a-scope").status == 400
    assert _quotas(client, staff, scope=acme["url"], start="yesterday").status == 400
    assert _quotas(client, staff).status == 400  # scope is required
    # a quota name no series can have draws zeros, without a 500
    root = _chart(
        _quotas(client, staff, scope=acme["url"], quota_names="a#b", start="2026-11-01", end="2026-11-02")
    )
    assert _lines(root) == {"a#b": [("2026-11-01", "0"), ("2026-11-02", "0")]}
    assert call(client, "GET", "/api/analytics-charts/daily-quotas/?scope=x").status == 401


def test_users_by_registration_method_for_staff_and_support_only(client, staff, support, alice, settle):
    make_account("eve", registration_method="eduteams")
    make_account("mallory", registration_method="eduteams")
    make_account("trent", registration_method=EVIL)
    settle()
    path = "/api/analytics-charts/users-registration/"
    root = _chart(call(client, "GET", path, staff))
    # counted by hand: staff, support and alice by default; two by eduteams; one by a hostile name
    assert _bars(root) == ["default: 3", "eduteams: 2", f"{EVIL}: 1"]
    today = utcnow().date()
    assert _title(root) == f"Users registered {today - timedelta(days=30)} to {today}, by method"
    assert _bars(_chart(call(client, "GET", path, support))) == _bars(root)
    empty = _chart(call(client, "GET", f"{path}?start=2020-01-01&end=2020-01-31", staff))
    assert _bars(empty) == []
    reply = call(client, "GET", path, alice)
    assert reply.status == 403 and reply.json == {
        "detail": "You do not have permission to perform this action."
    }


def test_a_chart_reads_a_few_series_whatever_the_number_of_projects(client, staff, settle):
    from tests.ddb_costs import Meter

    acme = create_customer(client, staff, "Acme")
    for n in range(5):
        create_project(client, staff, acme, f"P{n}")
    settle()
    with Meter.installed() as meter, meter.measuring() as cost:
        _chart(_quotas(client, staff, scope=acme["url"], start="2026-11-01", end="2026-11-30"))
    queries = [op for op in cost.ops if op == "Query"]
    assert len(queries) == 2 * 3  # the range and the value carried in, for each of the three quotas
    assert "Scan" not in cost.ops
