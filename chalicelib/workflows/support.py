"""Background work of the support desk, each following an event (publisher.FOLLOW_UPS): the files
of deleted attachments and of deleted issues' attachments (services/support_attachments.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task

DELETE_FILE = "support.delete_attachment_file"
DELETE_ISSUE_ATTACHMENTS = "support.delete_issue_attachments"


def _context(payload: dict[str, Any]) -> dict[str, Any]:
    return dict((payload.get("event") or {}).get("context") or {})


@task(DELETE_FILE, queue=BACKGROUND_QUEUE)
def delete_attachment_file(payload: dict[str, Any], ctx: EventContext) -> bool:
    """`attachment_deleted`: its file goes from the bucket."""
    from chalicelib.services import support_attachments

    fields = _context(payload)
    support_attachments.delete_file(fields["issue_uuid"], fields["attachment_uuid"])
    return True


@task(DELETE_ISSUE_ATTACHMENTS, queue=BACKGROUND_QUEUE)
def delete_issue_attachments(payload: dict[str, Any], ctx: EventContext) -> int:
    """`issue_deletion_succeeded`: the issue's attachments and their files go."""
    from chalicelib.services import support_attachments

    fields = _context(payload)
    return support_attachments.delete_of_issue(fields["issue_uuid"], fields.get("customer_uuid"))
