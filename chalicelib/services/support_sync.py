"""Keeping the support desk's issues in step with an external service desk (Jira Service Management,
Zammad), both ways. The queue tasks of chalicelib/workflows/support_sync.py call these with the
configured adapter (`SupportBackend`, chalicelib/support_backends) and its kind.

Out (after the outbox's `issue_creation_succeeded`, `issue_update_succeeded`,
`issue_comment_created`):
- `push_new_issue`: the issue is created remotely, once: an issue that already has a `backend_id`
  is not created again, and the remote issue is linked under a does-not-exist condition. Our issue
  then takes the remote's key, id and link (Waldur's behaviour: the issue's `key` IS the backend's).
- `push_changes`: what changed here since the last agreement (domain/support_sync.py `outgoing`).
  A change that came from the remote is part of the agreement already: nothing echoes back.
- `push_comment`: a comment written here goes out with its visibility, once (it then carries the
  remote comment's id); a comment that came from the remote carries one already and never goes back.

In (the schedule's `pull_changes`, a webhook's `pull_issue`): the remote issue's changes since the
last agreement are applied here, remote comments not known yet are imported (each remote comment
once: its id is linked in the import's transaction), each change with its event
(`issue_update_succeeded`, `issue_comment_created`) written as the desk's own changes are.

A remote that refuses a change (a 4xx: a status no transition reaches) is logged and not retried;
a remote that is unavailable raises, so the task is retried by its queue with nothing lost.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib import observability
from chalicelib.domain import support as desk
from chalicelib.domain import support_sync as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import new_id
from chalicelib.domain.support import Comment, Issue, SupportUser
from chalicelib.domain.support_sync import Link
from chalicelib.services import effects
from chalicelib.services.ports import support, support_links, unit_of_work, users
from chalicelib.support_backends.base import (
    BackendRefused,
    NewIssue,
    RemoteComment,
    RemoteIssue,
    SupportBackend,
)

# The scheduled pull asks for changes from its last successful run minus this margin (Jira's
# search is eventually consistent and reads minutes; clocks differ): a change seen twice is
# applied once, a change missed is not.
OVERLAP = timedelta(minutes=5)
# The first pull ever reads this far back.
FIRST_LOOKBACK = timedelta(days=1)
LOCAL_SAVE_ATTEMPTS = 3
# A comment on an issue not on the remote desk waits (its task is retried) while the issue's own
# creation may still be queued or retrying; an older issue was opened before the desk was
# configured (it is never pushed), and its comments are not either.
PENDING_CREATE = timedelta(hours=1)


class NotYetOnRemote(RuntimeError):
    """The comment's issue is not on the remote desk yet (its creation is queued or retrying):
    the task fails and its queue retries it later."""


class PullIncomplete(RuntimeError):
    """Some remote issues could not be applied: the watermark stays, the next run reads them again."""


def _view(remote: RemoteIssue) -> domain.Remote:
    return domain.Remote(
        summary=remote.summary,
        description=remote.description,
        status=remote.status,
        resolution=remote.resolution,
        priority=remote.priority,
    )


# --- out -----------------------------------------------------------------------------------------
def push_new_issue(ctx: EventContext, backend: SupportBackend, kind: str, issue_id: str) -> Issue | None:
    """Create the issue on the remote desk (once) and take its key; then push what differs."""
    issue = support.get_issue(issue_id)
    if issue is None or issue.backend_id:
        return issue  # deleted meanwhile, or on a remote desk already (a redelivery)
    caller = users.get(issue.caller_id) if issue.caller_id else None
    remote = backend.create_issue(
        NewIssue(
            summary=issue.summary,
            description=issue.description,
            issue_type=issue.type,
            # Sent by `push_changes` once the issue exists: a priority the remote refuses must not
            # fail the creation after the remote issue was made (a retry would make it twice).
            priority=None,
            caller_email=(caller.email or None) if caller else None,
            caller_name=(caller.full_name or caller.username) if caller else issue.caller_full_name,
        )
    )
    linked = _record_created(ctx, kind, issue_id, remote)
    if linked is not None:
        push_changes(ctx, backend, kind, linked.id)
    return linked


def _record_created(ctx: EventContext, kind: str, issue_id: str, remote: RemoteIssue) -> Issue | None:
    """Our issue takes the remote's id, key and link, with the link made in the same transaction
    (re-read and retried if somebody changed the issue meanwhile: the remote issue exists now)."""
    for _ in range(LOCAL_SAVE_ATTEMPTS):
        issue = support.get_issue(issue_id)
        if issue is None:
            observability.logger().warning(
                "support issue deleted while it was created remotely",
                extra={"issue_uuid": issue_id, "backend_id": remote.backend_id},
            )
            return None
        link = domain.new_link(kind, issue, remote.backend_id, remote.key, _view(remote))
        after = replace(
            issue,
            backend_id=remote.backend_id,
            key=remote.key[: desk.LINE_MAX],
            link=remote.link,
            priority=issue.priority or (remote.priority or "")[: desk.LINE_MAX],
            modified=utcnow(),
        )
        uow = unit_of_work()
        saved = support.save_issue(uow, issue, after)
        support_links.add_link(uow, link)
        uow.record(desk.issue_event(saved, desk.ISSUE_UPDATED, ctx))
        try:
            uow.commit()
        except Conflict:
            continue
        return saved
    raise Conflict(f"issue {issue_id} kept changing while its remote copy {remote.backend_id} was recorded")


def push_changes(ctx: EventContext, backend: SupportBackend, kind: str, issue_id: str) -> bool:
    """Push what changed here since the last agreement; True if anything was pushed."""
    found = support.get_issue(issue_id)
    if found is None or not found.backend_id:
        return False
    link = support_links.get_link(kind, found.backend_id)  # the link first, then the issue (see below)
    issue = support.get_issue(issue_id)
    if link is None or issue is None:
        return False
    # Read in this order, a pull that lands between the two reads makes us push the remote's own
    # value back at worst, and the link's version condition then refuses this save (a retry agrees).
    changes = domain.outgoing(kind, issue, link)
    if not changes:
        return False
    try:
        remote = backend.update_issue(link.backend_id, **changes)
    except BackendRefused as error:
        observability.logger().error(
            "remote desk refused a support issue change",
            extra={
                "issue_uuid": issue.id,
                "backend_id": link.backend_id,
                "fields": sorted(changes),
                "remote_message": error.message,
            },
        )
        return False
    uow = unit_of_work()
    support_links.save_link(uow, link, domain.pushed(link, issue, changes, _view(remote)))
    uow.commit()
    return True


def push_comment(ctx: EventContext, backend: SupportBackend, kind: str, comment_id: str) -> bool:
    """Send a comment written here to the remote issue, with its visibility; True if sent now."""
    comment = support.get_comment(comment_id)
    if comment is None or comment.backend_id:
        return False  # deleted, came from the remote, or sent already
    issue = support.get_issue(comment.issue_id)
    if issue is None:
        return False
    if not issue.backend_id:
        if utcnow() - issue.created > PENDING_CREATE:
            observability.logger().warning(
                "comment not sent: its issue is not on the remote desk",
                extra={"issue_uuid": issue.id, "comment_uuid": comment.id, "backend": kind},
            )
            return False
        raise NotYetOnRemote(f"issue {issue.id} is not on the {kind} desk yet")
    if support_links.get_link(kind, issue.backend_id) is None:
        return False  # an issue of another desk (the configured backend changed)
    author = users.get(comment.author_user_id) if comment.author_user_id else None
    sent = backend.add_comment(
        issue.backend_id,
        comment.description,
        is_public=comment.is_public,
        author_email=(author.email or None) if author else None,
    )
    for _ in range(LOCAL_SAVE_ATTEMPTS):
        current = support.get_comment(comment_id)
        if current is None:
            return True
        uow = unit_of_work()
        support.save_comment(uow, current, replace(current, backend_id=sent.backend_id))
        support_links.add_comment_link(uow, kind, issue.backend_id, sent.backend_id, comment_id)
        try:
            uow.commit()
        except Conflict:
            continue
        return True
    raise Conflict(f"comment {comment_id} kept changing while its remote id was recorded")


# --- in ------------------------------------------------------------------------------------------
def pull_issue(
    ctx: EventContext, backend: SupportBackend, kind: str, backend_id: str, remote: RemoteIssue | None = None
) -> bool:
    """Apply a remote issue's changes and import its new comments; False if it is not one of ours."""
    link = support_links.get_link(kind, backend_id)
    if link is None:
        return False
    remote = remote if remote is not None else backend.get_issue(backend_id)
    link = _apply_issue(ctx, kind, link, remote)
    if link is not None:
        _import_comments(ctx, backend, kind, link)
    return True


def _apply_issue(ctx: EventContext, kind: str, link: Link, remote: RemoteIssue) -> Link | None:
    issue = support.get_issue(link.issue_id)
    if issue is None:
        return None  # deleted here: nothing to apply to
    changes, agreed = domain.incoming(kind, issue, link, _view(remote))
    if not changes and agreed == link:
        return link
    now = utcnow()
    after = replace(issue, **{k: v for k, v in changes.items() if k != "status"})
    if "status" in changes:
        after = desk.with_status(after, changes["status"], now)
    uow = unit_of_work()
    saved_link = support_links.save_link(uow, link, agreed)
    if changes:
        saved = support.save_issue(uow, issue, replace(after, modified=now))
        uow.record(desk.issue_event(saved, desk.ISSUE_UPDATED, ctx))
    uow.commit()
    return saved_link


def _import_comments(ctx: EventContext, backend: SupportBackend, kind: str, link: Link) -> int:
    known = support_links.linked_comments(kind, link.backend_id)
    new = [c for c in backend.comments(link.backend_id) if c.backend_id not in known]
    imported = 0
    for remote in new:
        issue = support.get_issue(link.issue_id)
        if issue is None:
            return imported
        try:
            _import_comment(ctx, kind, issue, link.backend_id, remote)
        except Conflict:
            continue  # imported meanwhile by another pull (its link exists now)
        imported += 1
    return imported


def _import_comment(
    ctx: EventContext, kind: str, issue: Issue, issue_backend_id: str, remote: RemoteComment
) -> Comment:
    author_id = domain.remote_author_id(kind, remote.author_email, remote.author_name)
    author = support.get_support_user(author_id)
    name = remote.author_name or remote.author_email or f"{kind} user"
    comment = Comment(
        id=new_id(),
        issue_id=issue.id,
        issue_key=issue.key,
        customer_id=issue.customer_id,
        description=domain.comment_text(remote.body),
        author_id=author_id,
        author_name=author.name if author else name[: desk.LINE_MAX],
        author_user_id=author.user_id if author else None,
        created=remote.created,
        modified=remote.created,
        is_public=remote.is_public,
        backend_id=remote.backend_id,
    )
    uow = unit_of_work()
    if author is None:
        made = SupportUser(
            id=author_id,
            name=name[: desk.LINE_MAX],
            backend_id=(remote.author_email or "")[: desk.LINE_MAX] or None,
            backend_name=kind,
        )
        support.add_support_user(uow, desk.counted(made, {"comments_count": 1}))
    else:
        support.count(uow, author_id, {"comments_count": 1})
    made_comment = support.add_comment(uow, comment)
    support_links.add_comment_link(uow, kind, issue_backend_id, remote.backend_id, comment.id)
    uow.record(desk.comment_event(made_comment, issue, desk.COMMENT_CREATED, ctx))
    uow.commit()
    return made_comment


def pull_changes(ctx: EventContext, backend: SupportBackend, kind: str, now: datetime) -> int:
    """The scheduled pull: every remote issue changed since the watermark (minus `OVERLAP`) that is
    one of ours is applied; the watermark moves to `now` only when all of them were. Returns how
    many of ours were applied."""
    mark = support_links.watermark(kind)
    since = mark - OVERLAP if mark is not None else now - FIRST_LOOKBACK
    applied, failed = 0, 0
    for remote in backend.changed_since(since):
        try:
            applied += pull_issue(ctx, backend, kind, remote.backend_id, remote)
        except Exception:
            failed += 1
            observability.logger().exception(
                "support issue not pulled", extra={"backend": kind, "backend_id": remote.backend_id}
            )
    if failed:
        raise PullIncomplete(f"{failed} remote issue(s) of {kind} not applied; the watermark stays")
    support_links.set_watermark(kind, now)
    return applied


# --- webhooks ------------------------------------------------------------------------------------
PULL_ISSUE_TASK = "support_sync.pull_issue"  # chalicelib/workflows/support_sync.py


def accept_webhook(
    source: EventContext, backend: SupportBackend, kind: str, headers: dict[str, str], body: bytes
) -> str:
    """Check a remote desk's webhook (`WebhookRefused` unless signed with its secret) and queue a
    pull of the issue it names; the delivery's key is the body's digest, so a webhook the desk sends
    again queues one pull. Returns the remote issue id."""
    event = backend.parse_webhook(headers, body)
    digest = hashlib.sha256(body).hexdigest()
    effects.execute(
        effects.Enqueue(
            PULL_ISSUE_TASK,
            {"backend": kind, "backend_id": event.issue_backend_id},
            source,
            idempotency_key=f"{PULL_ISSUE_TASK}:{kind}:{digest}",
        )
    )
    return event.issue_backend_id
