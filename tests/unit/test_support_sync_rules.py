"""The three-way rules that keep an issue and its remote copy in step without echoes
(chalicelib/domain/support_sync.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from chalicelib.domain import support as desk
from chalicelib.domain import support_sync as sync

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ISSUE = desk.Issue(id="i" * 32, key="SD-1", type="Incident", summary="VM down", created=NOW, modified=NOW,
                   description="Since noon.", backend_id="10001")  # fmt: skip
REMOTE = sync.Remote("VM down", "Since noon.", "Waiting for support", None, "Medium")


def linked(kind: str = "jira", remote: sync.Remote = REMOTE) -> sync.Link:
    return sync.new_link(kind, ISSUE, "10001", "SD-1", remote)


def test_a_fresh_link_agrees_with_both_sides_so_nothing_moves() -> None:
    link = linked()
    assert sync.outgoing("jira", replace(ISSUE, priority="Medium"), link) == {}
    changes, agreed = sync.incoming("jira", replace(ISSUE, priority="Medium"), link, REMOTE)
    assert changes == {} and agreed == link


def test_a_local_change_goes_out_and_a_remote_one_comes_in() -> None:
    link = linked()
    here = replace(ISSUE, summary="VM still down", status=desk.RESOLVED, priority="Medium")
    assert sync.outgoing("jira", here, link) == {"summary": "VM still down", "status": "Resolved"}
    there = replace(REMOTE, status="In Progress", summary="VM slow")
    changes, agreed = sync.incoming("jira", replace(ISSUE, priority="Medium"), link, there)
    assert changes == {"status": desk.IN_PROGRESS, "summary": "VM slow"}
    # What came in is agreed: pushing now sends nothing back.
    applied = replace(ISSUE, priority="Medium", status=desk.IN_PROGRESS, summary="VM slow")
    assert sync.outgoing("jira", applied, agreed) == {}


def test_a_status_mapping_that_is_not_one_to_one_never_flips_an_issue_back() -> None:
    link = linked("zammad", replace(REMOTE, status="new", priority="2 normal"))
    canceled = replace(ISSUE, status=desk.CANCELED, priority="2 normal")
    assert sync.outgoing("zammad", canceled, link) == {"status": "closed"}
    agreed = sync.pushed(
        link, canceled, {"status": "closed"}, replace(REMOTE, status="closed", priority="2 normal")
    )
    # The remote now says "closed" (Resolved, read alone): it is what we agreed on, so no change.
    changes, _ = sync.incoming(
        "zammad", canceled, agreed, replace(REMOTE, status="closed", priority="2 normal")
    )
    assert changes == {}


def test_zammad_gets_no_description_pushes_and_an_unknown_remote_status_is_left_alone() -> None:
    link = linked("zammad", replace(REMOTE, status="new"))
    assert sync.outgoing("zammad", replace(ISSUE, description="More.", priority="Medium"), link) == {}
    changes, agreed = sync.incoming("zammad", ISSUE, link, replace(REMOTE, status="on hold"))
    assert "status" not in changes and agreed.remote_status == "on hold"


def test_a_remote_person_is_one_support_user_and_long_bodies_are_bounded() -> None:
    assert sync.remote_author_id("jira", "A@x.org", "A") == sync.remote_author_id("jira", "a@x.org", None)
    assert sync.remote_author_id("jira", "a@x.org", None) != sync.remote_author_id("zammad", "a@x.org", None)
    assert len(sync.comment_text("é" * 40000).encode()) <= desk.DESCRIPTION_MAX_BYTES
