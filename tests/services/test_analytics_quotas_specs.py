"""Quota and event analytics specified on the in-memory fakes: the aggregates put in as the stream
consumer would (tests/fakes/analytics.py), the services read them through the port. Values by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import analytics
from chalicelib.domain.analytics import Point
from chalicelib.domain.analytics_event_stats import event_facts
from chalicelib.domain.analytics_quota_lists import customer_facts, project_facts
from chalicelib.domain.analytics_quotas import USAGE, quota_series
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import PermissionDenied
from chalicelib.domain.events import Event
from chalicelib.domain.ids import new_id
from chalicelib.services import (
    analytics_event_stats,
    analytics_quota_lists,
    customers,
    daily_quotas,
    projects,
)
from chalicelib.services.paging import PageRequest
from tests.fakes import World
from tests.fakes.analytics import FakeAnalytics

STAFF = Principal(user_id=new_id(), username="staff", is_staff=True)
STRANGER = Principal(user_id=new_id(), username="stranger")
PAGE = PageRequest(1, 10)


def test_each_day_carries_the_last_point_on_or_before_it(fakes: World) -> None:
    acme = customers.create_customer(EventContext(principal=STAFF), {"name": "Acme"})
    today = utcnow().date()
    name = quota_series("customer", acme.id, "nc_project_count")
    store = FakeAnalytics(fakes)
    store.point(Point(name, USAGE, 3), analytics.day(today - timedelta(days=5)))
    store.point(Point(name, USAGE, 1), analytics.day(today - timedelta(days=2)))

    def usage(start_days_ago: int) -> list[int]:
        start = today - timedelta(days=start_days_ago)
        found = daily_quotas.series(STAFF, ("customer", acme.id), ["nc_project_count"], start, today)
        return found["nc_project_count"]

    assert usage(6) == [0, 3, 3, 3, 1, 1, 1]  # nothing before the first point
    assert usage(4) == [3, 3, 1, 1, 1]  # the point of day -5 carried in
    # a stranger has no records of the customer
    start = today - timedelta(days=1)
    assert daily_quotas.series(STRANGER, ("customer", acme.id), ["nc_project_count"], start, today) == {
        "nc_project_count": [0, 0]
    }


def test_the_lists_read_the_directory_and_the_usage(fakes: World) -> None:
    ctx = EventContext(principal=STAFF)
    acme = customers.create_customer(ctx, {"name": "Acme", "abbreviation": "AC"})
    beta = customers.create_customer(ctx, {"name": "Beta"})
    apollo = projects.create_project(ctx, acme.id, {"name": "Apollo"})
    store = FakeAnalytics(fakes)
    for each in (customers.get_visible(STAFF, acme.id), beta):
        store.add(*customer_facts(each))
    store.add(*project_facts(apollo))
    rows = analytics_quota_lists.listing(STAFF, "customer", "nc_project_count", PAGE)
    assert [(r.customer_name, r.customer_abbreviation, r.value) for r in rows.items] == [
        ("Acme", "AC", 1),
        ("Beta", "", 0),
    ]
    assert rows.total == 2
    theirs = analytics_quota_lists.listing(STAFF, "project", "nc_resource_count", PAGE, customer_id=beta.id)
    assert theirs.items == []
    with pytest.raises(PermissionDenied):
        analytics_quota_lists.listing(STRANGER, "customer", "nc_project_count", PAGE)


def test_events_per_month_for_staff_without_a_scope(fakes: World) -> None:
    store = FakeAnalytics(fakes)
    now = utcnow()
    for n, kind in enumerate(
        ("project_creation_succeeded", "project_creation_succeeded", "customer_update_succeeded")
    ):
        event = Event(
            event_type=kind, message="", context={"customer_uuid": "c" * 32}, id=f"{n:032x}", created=now
        )
        store.add(*event_facts(event))
    stats = analytics_event_stats.stats(STAFF, None, ("project_creation_succeeded",), (), PAGE)
    assert [(m.year, m.month, m.count) for m in stats.items] == [(now.year, now.month, 2)]
    every = analytics_event_stats.stats(STAFF, None, (), (), PAGE)
    assert [m.count for m in every.items] == [3]
    assert analytics_event_stats.stats(STRANGER, None, (), (), PAGE).items == []
