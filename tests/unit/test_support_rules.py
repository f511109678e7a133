"""The support desk's pure rules (chalicelib/domain/support.py): statuses, who sees and comments
on an issue, who reads an internal comment, keys and the desk's own accounts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain import support as domain
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.support import Comment, Issue

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def issue(**fields) -> Issue:
    base = {
        "id": "i1",
        "key": "SUP-7",
        "type": "Incident",
        "summary": "Down",
        "created": NOW,
        "modified": NOW,
    }
    return Issue(**{**base, **fields})


def comment(**fields) -> Comment:
    base = {
        "id": "c1", "issue_id": "i1", "issue_key": "SUP-7", "customer_id": None, "description": "x",
        "author_id": "s1", "author_name": "Desk", "author_user_id": "desk", "created": NOW, "modified": NOW,
    }  # fmt: skip
    return Comment(**{**base, **fields})


def test_resolved_is_true_for_resolved_false_for_canceled_and_none_while_open():
    assert [domain.is_resolved(s) for s in domain.STATUSES] == [None, None, None, True, False]
    assert issue(status="Resolved").resolved is True and issue().resolved is None


def test_a_status_change_dates_the_resolution_and_reopening_clears_it():
    later = datetime(2026, 1, 6, tzinfo=UTC)
    closed = domain.with_status(issue(), "Canceled", later)
    assert (closed.status, closed.resolution_date, closed.modified) == ("Canceled", later, later)
    assert domain.with_status(closed, "In Progress", later).resolution_date is None
    with pytest.raises(ValidationError) as refused:
        domain.with_status(issue(), "Done", later)
    assert list(refused.value.errors) == ["status"]


def test_only_waldurs_issue_types_are_taken():
    assert domain.check_type("Change Request") == "Change Request"
    with pytest.raises(ValidationError):
        domain.check_type("Bug")


@pytest.mark.parametrize(
    ("user", "desk", "owned", "why"),
    [
        ("anyone", True, frozenset(), "desk"),
        ("carl", False, frozenset(), "caller"),
        ("rita", False, frozenset(), "reporter"),
        ("olga", False, frozenset({"acme"}), "owner"),
        ("max", False, frozenset(), None),  # a project member: no
        ("oscar", False, frozenset({"other"}), None),  # another customer's owner: no
    ],
)
def test_who_sees_an_issue(user, desk, owned, why):
    seen = issue(caller_id="carl", reporter_user_id="rita", customer_id="acme", project_id="p1")
    assert domain.sees_issue(seen, user, reads_everything=desk, owned_customers=owned) == why


def test_who_comments_follows_waldur():
    personal = issue(caller_id="carl")
    in_project = issue(caller_id="carl", customer_id="acme", project_id="p1")
    nobody = frozenset[str]()

    def may(i: Issue, user: str, owned=nobody, managed=nobody, desk=False) -> bool:
        return domain.may_comment(
            i, user, reads_everything=desk, owned_customers=owned, managed_projects=managed
        )

    assert may(personal, "carl") and not may(personal, "max")
    assert not may(in_project, "carl")  # Waldur: the caller of a scoped issue needs a role there
    assert may(in_project, "olga", owned=frozenset({"acme"}))
    assert may(in_project, "pat", managed=frozenset({"p1"}))
    assert may(in_project, "anyone", desk=True)


def test_internal_comments_are_the_desks_and_their_authors():
    internal = comment(is_public=False)
    assert domain.sees_comment(internal, "someone", reads_everything=True)
    assert domain.sees_comment(internal, "desk", reads_everything=False)
    assert not domain.sees_comment(internal, "carl", reads_everything=False)
    assert domain.sees_comment(comment(), "carl", reads_everything=False)


def test_keys_number_the_issues_and_order_by_their_number():
    assert domain.issue_key(12) == "SUP-12"
    assert sorted(["SUP-10", "SUP-9", "SUP-100"], key=domain.key_number) == ["SUP-9", "SUP-10", "SUP-100"]
    assert domain.key_number("none") == 0


def test_a_users_own_support_account_has_one_fixed_id():
    first = domain.support_user_id_of("01a2")
    assert first == domain.support_user_id_of("01a2") != domain.support_user_id_of("01a3")
    assert len(first) == 32 and int(first, 16) >= 0


def test_counts_move_by_the_deltas():
    user = domain.SupportUser(id="s1", name="Desk", comments_count=2)
    moved = domain.counted(user, {"comments_count": -1, "reported_issues_count": 1})
    assert (moved.comments_count, moved.reported_issues_count, moved.assigned_issues_count) == (1, 1, 0)


def test_issue_events_carry_its_scopes_so_their_feeds_show_it():
    scoped = issue(customer_id="acme", customer_name="Acme", project_id="p1", project_name="Apollo",
                   resource_id="r1", resource_name="vm")  # fmt: skip
    ctx = EventContext(principal=Principal(user_id="u1", username="desk"))
    made = domain.issue_event(scoped, domain.ISSUE_CREATED, ctx)
    assert made.event_type == "issue_creation_succeeded" and made.message == "Issue SUP-7 has been created."
    assert made.customer_id == "acme"
    assert {("customer", "acme"), ("project", "p1"), ("resource", "r1")} <= set(made.scopes)
    noted = domain.comment_event(comment(), scoped, domain.COMMENT_CREATED, ctx)
    assert noted.message == "Comment has been added to issue SUP-7." and noted.context["comment_uuid"] == "c1"
