"""Background tasks that keep the support desk in step with an external service desk (settings
`support_backend` and its secret; chalicelib/support_backends/configured.py), both ways.

Out, queued by the publisher after the outbox's events (`publisher.FOLLOW_UPS`, keyed per event):
`support_sync.create_issue` (issue_creation_succeeded), `support_sync.update_issue`
(issue_update_succeeded), `support_sync.push_comment` (issue_comment_created).
In: `support_sync.pull_changes` every 5 minutes (schedules.py; deployed by CDK only with a backend
configured), and `support_sync.pull_issue` queued by the signed webhook endpoint
(chalicelib/api/support_webhooks.py).

With the built-in desk alone (`basic`) every one of them does nothing. Bad or missing settings fail
the task with a message naming what is wrong (never a secret's value); an unavailable remote fails
it too, and its queue retries it (the change is in our table and the remote is compared afresh).
"""

from __future__ import annotations

from typing import Any

from chalicelib import observability
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.support_backends import SettingsError, SupportBackend
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task

CREATE_ISSUE = "support_sync.create_issue"
UPDATE_ISSUE = "support_sync.update_issue"
PUSH_COMMENT = "support_sync.push_comment"
PULL_CHANGES = "support_sync.pull_changes"
PULL_ISSUE = "support_sync.pull_issue"


def _configured() -> tuple[str, SupportBackend] | None:
    """(kind, adapter), or None with the built-in desk alone; a SettingsError is logged and raised."""
    from chalicelib.support_backends import configured

    if not configured.enabled():
        return None
    try:
        return configured.kind(), configured.backend()
    except SettingsError as error:
        observability.logger().error("support backend misconfigured", extra={"problem": str(error)})
        raise


def _context_field(payload: dict[str, Any], name: str) -> str:
    value = ((payload.get("event") or {}).get("context") or {}).get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"event without {name}")
    return value


@task(CREATE_ISSUE, queue=BACKGROUND_QUEUE)
def create_issue(payload: dict[str, Any], ctx: EventContext) -> bool:
    from chalicelib.services import support_sync

    found = _configured()
    if found is None:
        return False
    kind, backend = found
    return support_sync.push_new_issue(ctx, backend, kind, _context_field(payload, "issue_uuid")) is not None


@task(UPDATE_ISSUE, queue=BACKGROUND_QUEUE)
def update_issue(payload: dict[str, Any], ctx: EventContext) -> bool:
    from chalicelib.services import support_sync

    found = _configured()
    if found is None:
        return False
    kind, backend = found
    return support_sync.push_changes(ctx, backend, kind, _context_field(payload, "issue_uuid"))


@task(PUSH_COMMENT, queue=BACKGROUND_QUEUE)
def push_comment(payload: dict[str, Any], ctx: EventContext) -> bool:
    from chalicelib.services import support_sync

    found = _configured()
    if found is None:
        return False
    kind, backend = found
    return support_sync.push_comment(ctx, backend, kind, _context_field(payload, "comment_uuid"))


@task(PULL_CHANGES, queue=BACKGROUND_QUEUE)
def pull_changes(payload: dict[str, Any], ctx: EventContext) -> int:
    from chalicelib.services import support_sync

    found = _configured()
    if found is None:
        return 0
    kind, backend = found
    return support_sync.pull_changes(ctx, backend, kind, utcnow())


@task(PULL_ISSUE, queue=BACKGROUND_QUEUE)
def pull_issue(payload: dict[str, Any], ctx: EventContext) -> bool:
    """One remote issue a webhook named (payload: backend, backend_id)."""
    from chalicelib.services import support_sync

    found = _configured()
    if found is None or found[0] != payload.get("backend"):
        return False  # the desk was reconfigured since the webhook came
    kind, backend = found
    return support_sync.pull_issue(ctx, backend, kind, str(payload["backend_id"]))


def sync_enabled() -> bool:
    """Whether the publisher queues the outgoing tasks (none with the built-in desk alone)."""
    from chalicelib.support_backends import configured

    return configured.enabled()
