"""Housekeeping tasks fired by the schedule registry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib import observability
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.store import tokens
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task

# How far back the hourly purge looks: TTL usually removes items within 48 hours, and a purge that
# missed runs catches up within this window.
LOOKBACK = timedelta(hours=48)


def _hours(now: datetime) -> list[datetime]:
    current = now.replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=h) for h in range(int(LOOKBACK / timedelta(hours=1)) + 1)]


def _purge(kind: str) -> int:
    now = utcnow()
    removed = sum(tokens.purge_lapsed(kind, hour, now) for hour in _hours(now))
    observability.logger().info("purged lapsed items", extra={"kind": kind, "removed": removed})
    return removed


@task("maintenance.purge_expired_tokens", queue=BACKGROUND_QUEUE)
def purge_expired_tokens(payload: dict[str, Any], ctx: EventContext) -> None:
    """Delete tokens whose sliding expiry has passed (TTL would, but only within ~48 hours)."""
    _purge(tokens.TOKENS)


@task("maintenance.purge_login_lockouts", queue=BACKGROUND_QUEUE)
def purge_login_lockouts(payload: dict[str, Any], ctx: EventContext) -> None:
    """Delete login-failure counters whose cool-off window has ended."""
    _purge(tokens.LOGIN_FAILURES)


@task("maintenance.revoke_expired_roles", queue=BACKGROUND_QUEUE)
def revoke_expired_roles(payload: dict[str, Any], ctx: EventContext) -> int:
    """Revoke roles whose expiration time has passed, writing `role_revoked` for each (they
    already grant nothing from that instant: the permission check reads the time)."""
    from chalicelib.services import memberships

    now = utcnow()
    return memberships.revoke_expired(now, _hours(now))


@task("maintenance.report_dead_letters", queue=BACKGROUND_QUEUE)
def report_dead_letters(payload: dict[str, Any], ctx: EventContext) -> dict[str, int]:
    """Log how many messages wait in each dead-letter queue (the CloudWatch alarms page on them on
    AWS; locally this is the signal)."""
    from chalicelib.workflows import queues
    from chalicelib.workflows.aws import client
    from chalicelib.workflows.registry import QUEUES

    depths = {}
    for queue in QUEUES:
        url = queues.dead_letter_url(queue)
        attributes = client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        depths[queue] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    log = observability.logger()
    (log.warning if any(depths.values()) else log.info)("dead-letter queue depths", extra=depths)
    return depths
