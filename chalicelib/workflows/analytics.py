"""Analytics tasks fired by the schedule registry (store/analytics.py keeps the aggregates)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalicelib import observability
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task


@task("analytics.snapshot", queue=BACKGROUND_QUEUE)
def snapshot(payload: dict[str, Any], ctx: EventContext) -> int:
    """Today's point of every gauge (customers' and projects' quotas): `daily-quotas/` has a point
    for a quiet day too. Idempotent: a point as new as the one there is left alone."""
    from chalicelib.store import analytics

    written = analytics.snapshot(utcnow().date())
    observability.logger().info("analytics snapshot", extra={"points_written": written})
    return written


class BadExportDay(ValueError):
    """The payload's `day` is not a past day's ISO date (the task fails: a retry would not help)."""


def export_day(day: date, target: Any = None) -> dict[str, Any]:
    """Write one day's aggregates and events to the export bucket (chalicelib/exports.py), each
    under its day's fixed key: a day exported again is replaced whole. What went out, per dataset."""
    from chalicelib import exports
    from chalicelib.store import analytics_export as read

    sink = target or exports.S3Export()
    written = {
        exports.AGGREGATES: sink.write(exports.key(exports.AGGREGATES, day), read.aggregate_lines(day)),
        exports.EVENTS: sink.write(exports.key(exports.EVENTS, day), read.event_lines(day)),
    }
    return {
        "day": day.isoformat(),
        **{name: {"key": w.key, "rows": w.rows, "bytes": w.size} for name, w in written.items()},
    }


def export_payload_day(payload: dict[str, Any], today: date) -> date:
    """The day to export: the payload's `day` (a backfill), else yesterday (the schedule's)."""
    given = payload.get("day")
    if given is None:
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(str(given))
    except ValueError:
        raise BadExportDay(f"day must be an ISO date (YYYY-MM-DD), got {given!r}") from None
    if day >= today:
        raise BadExportDay(f"day {day} is not over yet (today is {today}): export a past day")
    return day


@task("analytics.export", queue=BACKGROUND_QUEUE)
def export(payload: dict[str, Any], ctx: EventContext) -> dict[str, Any]:
    """The BI export of yesterday (or of the payload's `day`): its aggregates and its audit events
    as gzipped JSON lines in the export bucket, partitioned by day for Athena. Idempotent: the same
    day always goes to the same keys, replaced whole."""
    report = export_day(export_payload_day(payload, utcnow().date()))
    observability.logger().info("analytics export", extra=report)
    return report
