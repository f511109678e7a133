"""Background work of invitations: their email (on `background`, so a request never waits on SES)
and the hourly expiry of pending invitations whose week has ended."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.workflows.maintenance import LOOKBACK
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task


def expiry_hours(now: datetime) -> list[datetime]:
    """The expiry buckets the job reads: this hour and the LOOKBACK hours before it. An invitation
    the job misses for longer still reads as expired on every request (its state is computed from
    the time); it just keeps its stored `pending` and gets no `invitation_expired` event."""
    current = now.replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=h) for h in range(int(LOOKBACK / timedelta(hours=1)) + 1)]


@task("invitations.send_email", queue=BACKGROUND_QUEUE)
def send_invitation_email(payload: dict[str, Any], ctx: EventContext) -> bool:
    """Mail a pending invitation. Idempotent: the consumer runs a delivery once (its key is claimed),
    and an invitation that stopped being pending is not mailed."""
    from chalicelib.services import invitations

    # A message queued by an older release may still name a `base_url`: mail links come from the
    # configuration alone now, so it is ignored.
    return invitations.deliver_email(
        payload["customer_uuid"], payload["invitation_uuid"], payload.get("sender", "")
    )


@task("invitations.expire_invitations", queue=BACKGROUND_QUEUE)
def expire_invitations(payload: dict[str, Any], ctx: EventContext) -> int:
    """Mark pending invitations past their week `expired`, writing `invitation_expired` for each."""
    from chalicelib.services import invitations

    now = utcnow()
    return invitations.expire_due(now, expiry_hours(now))
