"""Background work of the support desk, each following an event (publisher.FOLLOW_UPS): the files
of deleted attachments and of deleted issues' attachments (services/support_attachments.py); the
caller's mail on comments, status changes and resolution (services/support_notifications.py); a
deleted issue's feedback (services/support_feedbacks.py). Each runs once per event (its task key)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task

DELETE_FILE = "support.delete_attachment_file"
DELETE_ISSUE_ATTACHMENTS = "support.delete_issue_attachments"
MAIL_COMMENT = "support.mail_comment"
MAIL_STATUS_CHANGE = "support.mail_status_change"
MAIL_FEEDBACK_REQUEST = "support.mail_feedback_request"
DELETE_ISSUE_FEEDBACK = "support.delete_issue_feedback"


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


@task(MAIL_COMMENT, queue=BACKGROUND_QUEUE)
def mail_comment(payload: dict[str, Any], ctx: EventContext) -> bool:
    """`issue_comment_created`: the caller hears of a public comment somebody else wrote."""
    from chalicelib.services import support_notifications

    return support_notifications.mail_comment(_context(payload))


@task(MAIL_STATUS_CHANGE, queue=BACKGROUND_QUEUE)
def mail_status_change(payload: dict[str, Any], ctx: EventContext) -> bool:
    """`issue_update_succeeded`: the caller hears of a status change."""
    from chalicelib.services import support_notifications

    return support_notifications.mail_status_change(_context(payload))


@task(MAIL_FEEDBACK_REQUEST, queue=BACKGROUND_QUEUE)
def mail_feedback_request(payload: dict[str, Any], ctx: EventContext) -> bool:
    """`issue_update_succeeded` into a resolved status: the caller gets the feedback links."""
    from chalicelib.services import support_notifications

    return support_notifications.mail_feedback_request(_context(payload))


@task(DELETE_ISSUE_FEEDBACK, queue=BACKGROUND_QUEUE)
def delete_issue_feedback(payload: dict[str, Any], ctx: EventContext) -> bool:
    """`issue_deletion_succeeded`: the issue's feedback goes (Waldur's cascade)."""
    from chalicelib.services import support_feedbacks

    fields = _context(payload)
    return support_feedbacks.delete_of_issue(fields["issue_uuid"], fields.get("customer_uuid"))
