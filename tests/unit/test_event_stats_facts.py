"""What an audit event adds to `events-stats/` (domain/analytics_event_stats.py) and how months are
counted back: values by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain import analytics_event_stats as stats
from chalicelib.domain.analytics import Aggregate
from chalicelib.domain.events import Event

WHEN = datetime(2026, 11, 20, tzinfo=UTC)


def _event(event_type: str, **context: str) -> Event:
    return Event(
        event_type=event_type,
        message="",
        context=context,
        id="0190f0a0b1c2d3e4f5a6b7c8d9e0f1a2",
        created=WHEN,
    )


def test_an_event_counts_in_each_feed_it_is_listed_in_and_in_one_shard_of_the_whole_log() -> None:
    adds = stats.event_facts(_event("project_creation_succeeded", customer_uuid="c1", project_uuid="p1"))
    assert {(a.series, a.period, a.field, a.amount) for a in adds} == {
        (stats.scope_series("customer", "c1"), "M#2026-11", "project_creation_succeeded", 1),
        (stats.scope_series("project", "p1"), "M#2026-11", "project_creation_succeeded", 1),
        (stats._shard("0190f0a0b1c2d3e4f5a6b7c8d9e0f1a2"), "M#2026-11", "project_creation_succeeded", 1),
    }
    assert sum(a.series in stats.all_series() for a in adds) == 1


def test_months_newest_first_of_the_wanted_types_without_empty_months() -> None:
    rows = [
        Aggregate("s", "M#2026-10", "a", Decimal(2)),
        Aggregate("s", "M#2026-10", "b", Decimal(1)),
        Aggregate("s", "M#2026-11", "b", Decimal(4)),
        Aggregate("t", "M#2026-11", "a", Decimal(1)),  # another shard's
    ]
    assert stats.per_month(rows, None) == [stats.MonthCount(2026, 11, 5), stats.MonthCount(2026, 10, 3)]
    assert stats.per_month(rows, frozenset({"a"})) == [
        stats.MonthCount(2026, 11, 1),
        stats.MonthCount(2026, 10, 2),
    ]
    assert stats.per_month(rows, frozenset({"c"})) == []


def test_the_kept_months_follow_the_retention() -> None:
    assert stats.kept_periods(WHEN, 365) == ("M#2025-11", "M#2026-11")
