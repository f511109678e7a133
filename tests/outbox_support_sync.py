"""The support desk's sync with an external desk, for the outbox table (tests/outbox_commands.py
merges SUPPORT_SYNC_COMMANDS into COMMANDS): each command against an in-process remote desk
(tests/support_fakes/memory.py), run as its background task runs it (no actor), and the events it
must write. Staff open the issue in Acme's project Apollo first."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.context import EventContext
from tests.outbox_commands import Case, Fields, S, World, emits, no_event
from tests.outbox_support import COMMENTED, UPDATED, _issue

KIND = "jira"
TASK = EventContext(correlation_id="c-1")  # a background task acts for the platform
LINK = {"SUPPORTLINK/": "what both desks last agreed on, after a push (bookkeeping of the sync)"}
SENT_COMMENT = {
    "CUST/ISSUECOMMENT": "the remote id a sent comment gets (bookkeeping: the comment is unchanged)",
    "SUPPORTLINK/COMMENT": "the sent comment known as ours, so the pull never imports it",
}
WATERMARK = {"SUPPORTSYNC/": "where the scheduled pull resumes (bookkeeping)"}


def _pushed(w: World) -> tuple[Any, Any]:
    from chalicelib.services import support_sync
    from tests.support_fakes.memory import MemoryDesk

    desk = MemoryDesk()
    issue = support_sync.push_new_issue(TASK, desk, KIND, _issue(w).id)
    return issue, desk


def _fresh(w: World) -> tuple[Any, Any]:
    from tests.support_fakes.memory import MemoryDesk

    return _issue(w), MemoryDesk()


def _push_new(w: World, prepared: tuple[Any, Any]) -> Fields:
    from chalicelib.services import support_sync

    issue, desk = prepared
    support_sync.push_new_issue(TASK, desk, KIND, issue.id)
    return {UPDATED: {"issue_uuid": issue.id, "issue_key": "MEM-1"}}


def _changed_here(w: World) -> tuple[Any, Any]:
    from chalicelib.services import support

    issue, desk = _pushed(w)
    support.update_issue(w.ctx, issue.id, support.IssueRequest(summary="VM down again"))
    return issue, desk


def _push_changes(w: World, prepared: tuple[Any, Any]) -> None:
    from chalicelib.services import support_sync

    issue, desk = prepared
    assert support_sync.push_changes(TASK, desk, KIND, issue.id)


def _commented_here(w: World) -> tuple[Any, Any]:
    from chalicelib.services import support

    issue, desk = _pushed(w)
    return support.add_comment(w.ctx, issue.id, "Looking."), desk


def _push_comment(w: World, prepared: tuple[Any, Any]) -> None:
    from chalicelib.services import support_sync

    comment, desk = prepared
    assert support_sync.push_comment(TASK, desk, KIND, comment.id)


def _changed_there(w: World) -> tuple[Any, Any]:
    issue, desk = _pushed(w)
    desk.agent_comment(issue.backend_id, "Rebooted.", public=True)
    desk.update_issue(issue.backend_id, status="Resolved")
    return issue, desk


def _pull_issue(w: World, prepared: tuple[Any, Any]) -> Fields:
    from chalicelib.services import support_sync

    issue, desk = prepared
    assert support_sync.pull_issue(TASK, desk, KIND, issue.backend_id)
    return {UPDATED: {"issue_uuid": issue.id}, COMMENTED: {"issue_uuid": issue.id}}


def _pull_changes(w: World, prepared: tuple[Any, Any]) -> Fields:
    from chalicelib.domain.clock import utcnow
    from chalicelib.services import support_sync

    issue, desk = prepared
    assert support_sync.pull_changes(TASK, desk, KIND, utcnow()) == 1
    return {UPDATED: {"issue_uuid": issue.id}, COMMENTED: {"issue_uuid": issue.id}}


SUPPORT_SYNC_COMMANDS = {
    f"{S}support_sync.push_new_issue": emits(Case(_push_new, (UPDATED,), setup=_fresh, actor=None)),
    f"{S}support_sync.push_changes": no_event(
        LINK["SUPPORTLINK/"],
        Case(_push_changes, (), setup=_changed_here, actor=None, outside=LINK, why_no_event="bookkeeping"),
    ),
    f"{S}support_sync.push_comment": no_event(
        SENT_COMMENT["CUST/ISSUECOMMENT"],
        Case(_push_comment, (), setup=_commented_here, actor=None, outside=SENT_COMMENT),
    ),
    f"{S}support_sync.pull_issue": emits(
        Case(_pull_issue, (UPDATED, COMMENTED), setup=_changed_there, actor=None)
    ),
    f"{S}support_sync.pull_changes": emits(
        Case(_pull_changes, (UPDATED, COMMENTED), setup=_changed_there, actor=None, outside=WATERMARK)
    ),
}
