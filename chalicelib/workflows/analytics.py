"""Analytics tasks fired by the schedule registry (store/analytics.py keeps the aggregates)."""

from __future__ import annotations

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
