"""Mail to a support issue's caller (Waldur's support handlers and tasks), sent by background tasks
that follow the desk's events (workflows/support.py, publisher.FOLLOW_UPS); texts in
chalicelib/domain/support_mail.py.

- `issue_comment_created`: a public comment whose author is not the caller (Waldur's
  send_comment_added_notification), as the comment is when the task runs (deleted or made internal
  meanwhile: no mail).
- `issue_update_succeeded` that changed the status (`issue_previous_status` in the event): the
  change, as the event states it.
- The same event when the status moved into a resolved one, not from another resolved one (Waldur's
  create_feedback_if_issue_has_been_resolved): the feedback links, with a new token; not when the
  issue has its feedback already.

No mail when the caller is gone or has no email address. A failure to send raises: the task fails and
SQS delivers it again (as an invitation's mail). Links are HomePort's (CIRRUS_HOMEPORT_URL, else
CIRRUS_PUBLIC_URL, else a path), never a host taken from a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib import observability
from chalicelib.config import get_settings
from chalicelib.domain import support as domain
from chalicelib.domain import support_mail as texts
from chalicelib.domain.support import Issue
from chalicelib.services import support_feedbacks
from chalicelib.services.ports import mailer as mail
from chalicelib.services.ports import support as store
from chalicelib.services.ports import users


def homeport() -> str:
    settings = get_settings()
    return settings.homeport_url or settings.public_url or ""


def _caller_email(issue: Issue) -> str | None:
    if issue.caller_id is None:
        return None
    caller = users.get(issue.caller_id)
    return caller.email if caller is not None and caller.email else None


def _skipped(why: str, fields: Mapping[str, Any]) -> bool:
    observability.logger().info("support mail skipped", extra={"why": why, "issue": fields.get("issue_uuid")})
    return False


def _send(to: str, message: texts.Mail) -> bool:
    mail.send_email(to, message.subject, message.body)  # a failure raises: the task is retried
    return True


def mail_comment(fields: Mapping[str, Any]) -> bool:
    """`issue_comment_created`: tell the caller about a public comment somebody else wrote."""
    comment = store.get_comment(str(fields.get("comment_uuid", "")))
    if comment is None:
        return _skipped("comment gone", fields)
    if not comment.is_public:
        return _skipped("internal comment", fields)
    issue = store.get_issue(comment.issue_id)
    if issue is None:
        return _skipped("issue gone", fields)
    if comment.author_user_id is not None and comment.author_user_id == issue.caller_id:
        return _skipped("the caller's own comment", fields)
    to = _caller_email(issue)
    if to is None:
        return _skipped("caller without email", fields)
    return _send(to, texts.comment_added(issue, comment, homeport()))


def _status_change(fields: Mapping[str, Any]) -> tuple[str, str] | None:
    previous, status = fields.get("issue_previous_status"), fields.get("issue_status")
    if not previous or not status or previous == status:
        return None
    return str(previous), str(status)


def mail_status_change(fields: Mapping[str, Any]) -> bool:
    """`issue_update_succeeded`: tell the caller the status changed (from what, to what)."""
    change = _status_change(fields)
    if change is None:
        return _skipped("status unchanged", fields)
    issue = store.get_issue(str(fields.get("issue_uuid", "")))
    if issue is None:
        return _skipped("issue gone", fields)
    to = _caller_email(issue)
    if to is None:
        return _skipped("caller without email", fields)
    return _send(to, texts.status_changed(issue, *change, homeport()))


def mail_feedback_request(fields: Mapping[str, Any]) -> bool:
    """`issue_update_succeeded` into a resolved status: mail the caller the feedback links."""
    change = _status_change(fields)
    newly = change is not None and domain.is_resolved(change[1]) is True
    if change is None or not newly or domain.is_resolved(change[0]) is True:
        return _skipped("not newly resolved", fields)
    issue = store.get_issue(str(fields.get("issue_uuid", "")))
    if issue is None:
        return _skipped("issue gone", fields)
    if support_feedbacks.of_issue(issue) is not None:
        return _skipped("feedback given already", fields)
    to = _caller_email(issue)
    if to is None:
        return _skipped("caller without email", fields)
    token = support_feedbacks.request_token(issue)
    return _send(to, texts.feedback_request(issue, token, homeport()))
