"""`events-stats/`: the audit log's events per month, from the events' facts folded by the stream
(domain/analytics_event_stats.py): per scope feed and platform-wide, narrowed by type or feature,
for whoever reads the feed. Counts are worked out by hand from the scenario (and the unfiltered
total checked against the audit log's own count, `/api/events/`'s X-Result-Count)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import clock
from tests.helpers import call, create_customer, create_project

pytestmark = pytest.mark.moto
STATS = "/api/events-stats/"


def _get(client: Any, account: Any, path: str) -> tuple[Any, dict[str, str]]:
    reply = call(client, "GET", path, account)
    assert reply.status == 200, (path, reply.status, reply.json)
    return reply.json, reply.headers


def _url(kind: str, object_id: str) -> str:
    return f"http%3A%2F%2Ftestserver%2Fapi%2F{kind}%2F{object_id}%2F"


def _month(when: datetime) -> dict[str, int]:
    return {"year": when.year, "month": when.month}


@pytest.fixture
def world(client, staff, settle) -> Any:
    """Acme made 70 days ago with a project then (Apollo); two more projects now (Gemini, Mercury)."""
    before = datetime.now(UTC) - timedelta(days=70)
    clock.set_source(lambda: before)
    try:
        acme = create_customer(client, staff, "Acme")
        create_project(client, staff, acme, "Apollo")
    finally:
        clock.set_source(None)
    create_project(client, staff, acme, "Gemini")
    create_project(client, staff, acme, "Mercury")
    settle()
    return acme, before, datetime.now(UTC)


def test_a_scopes_events_per_month_newest_first(client, staff, world):
    acme, before, now = world
    scope = _url("customers", acme["uuid"])
    projects, headers = _get(client, staff, f"{STATS}?scope={scope}&event_type=project_creation_succeeded")
    assert projects == [{**_month(now), "count": 2}, {**_month(before), "count": 1}]
    assert headers["X-Result-Count"] == "2"
    made, _ = _get(client, staff, f"{STATS}?scope={scope}&event_type=customer_creation_succeeded")
    assert made == [{**_month(before), "count": 1}]
    both, _ = _get(
        client,
        staff,
        f"{STATS}?scope={scope}&event_type=customer_creation_succeeded&event_type=project_creation_succeeded",
    )
    assert both == [{**_month(now), "count": 2}, {**_month(before), "count": 2}]
    # every type: what the audit log counts for the feed
    every, _ = _get(client, staff, f"{STATS}?scope={scope}")
    logged = call(client, "GET", f"/api/events/?scope={scope}", staff).headers["X-Result-Count"]
    assert sum(m["count"] for m in every) == int(logged)
    page, headers = _get(
        client, staff, f"{STATS}?scope={scope}&event_type=project_creation_succeeded&page=2&page_size=1"
    )
    assert page == [{**_month(before), "count": 1}] and 'rel="prev"' in headers["Link"]


def test_a_feature_narrows_to_its_types_and_a_project_has_its_own_feed(client, staff, world):
    acme, _, now = world
    features, _ = _get(client, staff, f"{STATS}?scope={_url('customers', acme['uuid'])}&feature=projects")
    assert features[0] == {**_month(now), "count": 2}
    [gemini] = [p for p in call(client, "GET", "/api/projects/", staff).json if p["name"] == "Gemini"]
    own, _ = _get(
        client,
        staff,
        f"{STATS}?scope={_url('projects', gemini['uuid'])}&event_type=project_creation_succeeded",
    )
    assert own == [{**_month(now), "count": 1}]


def test_the_whole_log_is_for_staff_and_support(client, staff, support, alice, world):
    _, before, now = world
    path = f"{STATS}?event_type=project_creation_succeeded"
    for reader in (staff, support):
        assert _get(client, reader, path)[0] == [{**_month(now), "count": 2}, {**_month(before), "count": 1}]
    assert _get(client, alice, path)[0] == []  # Waldur: no scope, no events for anybody else


def test_a_feed_the_caller_may_not_read_has_no_months(client, staff, alice, world):
    acme, _, _ = world
    assert _get(client, alice, f"{STATS}?scope={_url('customers', acme['uuid'])}")[0] == []
    assert _get(client, alice, f"{STATS}?related_user_uuid={staff.id}")[0] == []
    own, _ = _get(client, alice, f"{STATS}?related_user_uuid={alice.id}")
    assert own and sum(m["count"] for m in own) >= 1  # her own registration, at least


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?scope=nope", "scope"),
        ("?related_user_uuid=x", "related_user_uuid"),
        (f"?related_user_uuid={'0' * 32}&scope=http://x/api/users/{'0' * 32}/", "non_field_errors"),
        (f"?event_type={'x' * 151}", "event_type"),
    ],
)
def test_bad_filters_are_refused(client, staff, query, field):
    reply = call(client, "GET", STATS + query, staff)
    assert reply.status == 400 and field in reply.json, reply.json


def test_the_rebuild_agrees_and_a_redelivered_event_counts_once(client, staff, world):
    from chalicelib.domain.analytics_event_stats import all_series
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import analytics

    report = analytics.rebuild(dry_run=True)
    assert (report.written, report.deleted) == (0, 0)
    acme, _, now = world
    again: list[bool] = []

    def deliver_twice(batch: dict) -> dict:
        records = [r for r in batch["Records"] if analytics.folds(r)]
        for record in records:
            analytics.fold(record)
        built = analytics.stored_sums()
        again.extend(analytics.fold(record) for record in records)
        assert analytics.stored_sums() == built
        return {"batchItemFailures": []}

    create_project(client, staff, acme, "Vostok")
    StreamReader(handler=deliver_twice).poll_once()
    assert again and not any(again)
    period = f"M#{now:%Y-%m}"
    made = sum(
        row.value
        for name in all_series()
        for row in analytics.read(name, period, period)
        if row.field == "project_creation_succeeded"
    )
    assert made == 3
