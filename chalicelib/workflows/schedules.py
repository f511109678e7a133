"""The schedule registry: Celery beat's replacement. CDK turns each entry into an EventBridge
schedule that sends the task's envelope to its queue; locally a ticker fires the same entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str  # EventBridge syntax: rate(1 hour) or cron(0 0 1 * ? *)
    task: str
    payload: dict[str, Any] = field(default_factory=dict)
    # Deployed (CDK) only when an external support desk is configured; locally the ticker fires it
    # and the task does nothing with the built-in desk alone.
    needs_support_backend: bool = False


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("purge-expired-tokens", "rate(1 hour)", "maintenance.purge_expired_tokens"),
    Schedule("purge-login-lockouts", "rate(1 hour)", "maintenance.purge_login_lockouts"),
    Schedule("revoke-expired-roles", "rate(1 hour)", "maintenance.revoke_expired_roles"),
    Schedule("report-dead-letters", "cron(30 3 * * ? *)", "maintenance.report_dead_letters"),
    Schedule("expire-invitations", "rate(1 hour)", "invitations.expire_invitations"),
    # Orders whose workflow never started or ended while they still wait (order_sweep.py).
    Schedule("restart-stranded-orders", "rate(1 hour)", "marketplace.restart_stranded_orders"),
    # Waldur's create_monthly_invoices: at 00:00 UTC on the 1st, fanned out in batches on `heavy`.
    Schedule("create-monthly-invoices", "cron(0 0 1 * ? *)", "billing.create_monthly_invoices"),
    # Today's point of every gauge (quota usage and limits): daily-quotas/ has a point on quiet days.
    Schedule("analytics-snapshot", "cron(5 0 * * ? *)", "analytics.snapshot"),
    # Yesterday's aggregates and audit events to the BI export bucket (Athena reads them via Glue).
    Schedule("analytics-export", "cron(30 0 * * ? *)", "analytics.export"),
    # Cloud backends' drift (one background task per offering) and usage (workflows/providers.py).
    Schedule("providers-pull", "rate(15 minutes)", "providers.pull"),
    Schedule("providers-usage", "rate(1 hour)", "providers.collect_usage"),
    # Remote changes of an external service desk's issues (workflows/support_sync.py).
    Schedule(
        "pull-support-backend", "rate(5 minutes)", "support_sync.pull_changes", needs_support_backend=True
    ),
)
