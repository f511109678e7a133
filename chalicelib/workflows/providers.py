"""Scheduled work of the cloud backends (`services/provider_sync.py`), on the `background` queue.

- `providers.pull` (schedule `providers-pull`, every 15 minutes): one `providers.pull_offering`
  per offering of a cloud type, so one slow or unreachable cloud does not hold up the rest.
- `providers.collect_usage` (schedule `providers-usage`, hourly): one
  `providers.collect_offering_usage` per offering of a type that collects usage.

The fan-out keys each message by offering and time slot: a fan-out redelivered within its slot
queues each offering's task once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chalicelib import observability
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task

PULL = "providers.pull"
PULL_OFFERING = "providers.pull_offering"
COLLECT_USAGE = "providers.collect_usage"
COLLECT_OFFERING_USAGE = "providers.collect_offering_usage"
PULL_EVERY_MINUTES = 15


def _slot(now: datetime, minutes: int) -> str:
    return now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0).strftime(
        "%Y%m%dT%H%M"
    )


def _fan_out(
    target: str, offering_ids: list[str], slot: str, ctx: EventContext, extra: dict[str, Any]
) -> int:
    from chalicelib.workflows.queues import enqueue_many

    messages = (({"offering": oid, **extra}, f"{target}:{oid}:{slot}") for oid in offering_ids)
    return enqueue_many(target, messages, ctx)


@task(PULL, queue=BACKGROUND_QUEUE)
def pull(payload: dict[str, Any], ctx: EventContext) -> int:
    """Queue one pull per offering of a cloud type; returns how many."""
    from chalicelib.services import provider_sync

    ids = [o.id for o in provider_sync.cloud_offerings()]
    sent = _fan_out(PULL_OFFERING, ids, _slot(utcnow(), PULL_EVERY_MINUTES), ctx, {})
    observability.logger().info("provider pulls queued", extra={"offerings": sent})
    return sent


@task(PULL_OFFERING, queue=BACKGROUND_QUEUE)
def pull_offering(payload: dict[str, Any], ctx: EventContext) -> dict[str, Any]:
    from chalicelib.services import provider_sync
    from chalicelib.workflows import cloud_driver as driver

    return provider_sync.pull_offering(str(payload["offering"]), driver.backend_for, ctx).as_dict()


@task(COLLECT_USAGE, queue=BACKGROUND_QUEUE)
def collect_usage(payload: dict[str, Any], ctx: EventContext) -> int:
    """Queue one usage collection per offering of a type that collects usage; `month`
    (YYYY-MM-DD, its first day) may name an earlier month (default: this one)."""
    from chalicelib.services import provider_sync

    ids = [o.id for o in provider_sync.cloud_offerings(collecting_usage=True)]
    extra = {"month": str(payload["month"])} if payload.get("month") else {}
    sent = _fan_out(COLLECT_OFFERING_USAGE, ids, _slot(utcnow(), 60) + extra.get("month", ""), ctx, extra)
    observability.logger().info("usage collections queued", extra={"offerings": sent})
    return sent


@task(COLLECT_OFFERING_USAGE, queue=BACKGROUND_QUEUE)
def collect_offering_usage(payload: dict[str, Any], ctx: EventContext) -> dict[str, int]:
    from chalicelib.services import provider_sync
    from chalicelib.workflows import cloud_driver as driver

    month = date.fromisoformat(str(payload["month"])) if payload.get("month") else None
    return provider_sync.collect_offering_usage(str(payload["offering"]), driver.backend_for, month, ctx)
