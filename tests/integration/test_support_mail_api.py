"""The support desk's mail to an issue's caller and the feedback it asks for, over HTTP (moto's
DynamoDB and SQS): the events' follow-up tasks run through the real publisher and the background
worker (`settle()`), and the mail lands in the local outbox. Then the feedback link's token rates
the issue without signing in, once, and staff and support read the feedbacks."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import mail
from tests.conftest import make_account
from tests.helpers import all_events, call
from tests.integration.test_support_api import COMMENTS, ISSUES, open_issue
from tests.integration.test_support_attachments_api import _fresh_reader, settle  # noqa: F401  (fixture)

FEEDBACKS = "/api/support-feedbacks/"
HOMEPORT = "https://portal.example.org"


@pytest.fixture
def aws(stack):  # the publisher and the workers
    yield


@pytest.fixture(autouse=True)
def mailbox(aws, monkeypatch):
    """The local outbox, emptied; links on a configured HomePort."""
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_EMAIL_BACKEND", "local")
    monkeypatch.setenv("CIRRUS_HOMEPORT_URL", HOMEPORT)
    reset_settings()
    mail.OUTBOX.clear()
    yield mail.OUTBOX
    mail.OUTBOX.clear()
    reset_settings()


def mails_to(mailbox, to: str) -> list[mail.Message]:
    return [m for m in mailbox if m.to == to]


def comment(client, account, issue, text: str, **fields):
    reply = call(client, "POST", f"{issue['url']}comment/", account, {"description": text, **fields})
    assert reply.status == 201, reply.json
    return reply.json


def set_status(client, account, issue, status: str) -> None:
    reply = call(client, "POST", f"{issue['url']}set_status/", account, {"status": status})
    assert reply.status == 200, reply.json


def feedback_links(message: mail.Message) -> dict[int, str]:
    found = re.findall(r"^ {4}(\d+): (\S+)$", message.body, re.MULTILINE)
    return {int(n): link for n, link in found}


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_a_public_desk_comment_mails_the_caller_but_not_an_internal_one_nor_their_own(
    client, alice, support, mailbox
):
    issue = open_issue(client, alice, summary="VM down since noon")
    settle()
    assert mailbox == []  # opening an issue mails nobody
    comment(client, support, issue, "We are looking.\nA host failed.")
    settle()
    (message,) = mails_to(mailbox, "alice@example.org")
    assert message.subject == f"The issue ({issue['key']}) you have created has a new comment"
    assert f"{issue['key']}: VM down since noon" in message.body
    assert "> We are looking.\n> A host failed." in message.body
    assert f"{HOMEPORT}/support/issue/{issue['uuid']}/" in message.body
    comment(client, support, issue, "Host db-7 again, see runbook.", is_public=False)
    comment(client, alice, issue, "Thanks, waiting.")
    settle()
    assert len(mailbox) == 1  # neither the internal comment nor the caller's own
    comment(client, support, issue, "x" * 5000)
    settle()
    long = mailbox[-1]
    assert "> " + "x" * 2000 + " […]" in long.body and "x" * 2001 not in long.body


def test_a_status_change_mails_the_caller_and_resolving_mails_the_feedback_links(
    client, alice, staff, mailbox
):
    issue = open_issue(client, alice)
    reply = call(client, "PATCH", issue["url"], staff, {"summary": "VM down (host db-7)"})
    assert reply.status == 200, reply.json
    settle()
    assert mailbox == []  # no status change, no mail
    set_status(client, staff, issue, "In Progress")
    settle()
    (message,) = mailbox
    assert message.to == "alice@example.org"
    assert message.subject == f"Updated issue: {issue['key']} VM down (host db-7)"
    assert "Status has been changed from New to In Progress." in message.body
    set_status(client, staff, issue, "In Progress")  # the same status again: nothing changed
    settle()
    assert len(mailbox) == 1
    set_status(client, staff, issue, "Resolved")
    settle()
    status, request = mailbox[1:]
    assert "Status has been changed from In Progress to Resolved." in status.body
    assert request.subject == f"Please share your feedback: {issue['key']} VM down (host db-7)"
    assert request.body.startswith("Hello, Alice Example!")
    links = feedback_links(request)
    assert sorted(links) == list(range(1, 11))
    token = token_of(links[1])
    for n, link in links.items():
        assert link == f"{HOMEPORT}/support/feedback/?token={token}&evaluation={n}"
    # The event says what changed (what the mail follows).
    updated = [e for e in all_events() if e.event_type == "issue_update_succeeded"]
    assert (updated[-1].context["issue_status"], updated[-1].context["issue_previous_status"]) == (
        "Resolved",
        "In Progress",
    )
    assert "issue_previous_status" not in updated[0].context  # the summary's change


def test_from_one_resolved_or_closed_status_on_and_without_email(client, alice, staff, mailbox):
    """Canceling mails the change only; a caller with no email address gets no mail at all."""
    issue = open_issue(client, alice)
    set_status(client, staff, issue, "Canceled")
    settle()
    (message,) = mailbox
    assert "from New to Canceled" in message.body and not feedback_links(message)
    set_status(client, staff, issue, "Resolved")  # from canceled (not resolved) into resolved: asked
    settle()
    assert "from Canceled to Resolved" in mailbox[1].body and len(feedback_links(mailbox[2])) == 10
    del mailbox[:]
    silent = make_account("silent", full_name="Sid Silent")
    quiet = open_issue(client, silent)
    set_status(client, staff, quiet, "Resolved")
    comment(client, staff, quiet, "Done.")
    settle()
    assert mailbox == []


def resolved_with_link(client, caller, staff, mailbox) -> tuple[dict, str]:
    issue = open_issue(client, caller)
    set_status(client, staff, issue, "Resolved")
    settle()
    links = feedback_links(mailbox[-1])
    return issue, token_of(links[8])


def test_the_links_token_rates_the_issue_once_without_signing_in(client, alice, staff, support, mailbox):
    from waldur_api_client.models import CreateFeedback, Feedback, Issue

    issue, token = resolved_with_link(client, alice, staff, mailbox)
    body = {"token": token, "evaluation": 8, "comment": "Quick and kind."}
    reply = call(client, "POST", FEEDBACKS, None, body)
    assert reply.status == 201, reply.json
    created = CreateFeedback.from_dict(reply.json)
    assert created.additional_properties == {}
    assert reply.json["issue"].endswith(f"/api/support-issues/{issue['uuid']}/")
    assert (reply.json["evaluation"], reply.json["comment"]) == (8, "Quick and kind.")
    again = call(client, "POST", FEEDBACKS, None, {**body, "evaluation": 2})
    assert again.status == 400
    assert again.json == {"non_field_errors": ["Feedback for this issue already exists."]}

    listed = call(client, "GET", FEEDBACKS, staff)
    assert listed.status == 200 and listed.headers["X-Result-Count"] == "1"
    (row,) = listed.json
    parsed = Feedback.from_dict(row)
    assert parsed.additional_properties == {}
    assert (row["uuid"], row["state"], row["evaluation"], row["comment"]) == (
        reply.json["uuid"],
        "OK",
        8,
        "Quick and kind.",
    )
    assert (row["issue_uuid"], row["issue_key"], row["user_full_name"], row["issue_summary"]) == (
        issue["uuid"],
        issue["key"],
        "Alice Example",
        "VM down",
    )
    assert call(client, "GET", f"{FEEDBACKS}{row['uuid']}/", support).json == row
    # The issue's answer nests it (HomePort reads feedback.evaluation_number and comment).
    seen = call(client, "GET", issue["url"], alice).json
    nested = {"evaluation": 8, "evaluation_number": 8, "comment": "Quick and kind.", "state": "OK"}
    assert seen["feedback"] == nested
    Issue.from_dict(seen)
    (in_list,) = [i for i in call(client, "GET", ISSUES, staff).json if i["uuid"] == issue["uuid"]]
    assert in_list["feedback"] == seen["feedback"]
    # The filters (Waldur's FeedbackFilter).
    for query, expected in [
        ("evaluation=8", 1),
        ("evaluation=3", 0),
        ("evaluation=3&evaluation=8", 1),
        (f"issue_uuid={issue['uuid']}", 1),
        (f"issue={issue['url']}", 1),
        (f"user_uuid={alice.id}", 1),
        (f"user_uuid={staff.id}", 0),
        (f"issue_key={issue['key']}", 1),
        ("user_full_name=alice", 1),
        ("user_full_name=bob", 0),
        ("created_after=2000-01-01T00:00:00Z", 1),
        ("created_before=2000-01-01T00:00:00Z", 0),
    ]:
        reply = call(client, "GET", f"{FEEDBACKS}?{query}", staff)
        assert (reply.status, len(reply.json)) == (200, expected), query
    assert call(client, "GET", f"{FEEDBACKS}?evaluation=11", staff).status == 400


def test_a_wrong_or_expired_token_and_bad_input_are_refused(client, alice, staff, mailbox):
    from chalicelib.domain import clock

    issue, token = resolved_with_link(client, alice, staff, mailbox)
    cases = [
        ({"token": "nope", "evaluation": 5}, {"token": ["Token is wrong."]}),
        ({"token": token[:-1], "evaluation": 5}, {"token": ["Token is wrong."]}),
        ({"token": token, "evaluation": 11}, {"evaluation": ['"11" is not a valid choice.']}),
        ({"token": token, "evaluation": 0}, {"evaluation": ['"0" is not a valid choice.']}),
        ({"token": token, "evaluation": "great"}, {"evaluation": ['"great" is not a valid choice.']}),
        ({"token": token}, {"evaluation": ["This field is required."]}),
        ({"evaluation": 5}, {"token": ["This field is required."]}),
        ({"token": token, "evaluation": 5, "comment": "x" * 9000}, "comment"),
        ({"token": "t" * 5000, "evaluation": 5}, "token"),
    ]
    for body, expected in cases:
        reply = call(client, "POST", FEEDBACKS, None, body)
        assert reply.status == 400, (body, reply.json)
        if isinstance(expected, dict):
            assert reply.json == expected, body
        else:
            assert list(reply.json) == [expected], (body, reply.json)
    later = clock.utcnow() + timedelta(days=7, minutes=1)
    clock.set_source(lambda: later)
    try:
        reply = call(client, "POST", FEEDBACKS, None, {"token": token, "evaluation": 5})
    finally:
        clock.set_source(None)
    assert (reply.status, reply.json) == (400, {"token": ["Token is wrong."]})
    assert call(client, "GET", FEEDBACKS, staff).json == []
    assert call(client, "GET", issue["url"], alice).json["feedback"] is None


def test_only_staff_and_support_read_feedbacks(client, alice, staff, support, mailbox):
    _, token = resolved_with_link(client, alice, staff, mailbox)
    # Signed in works too.
    made = call(client, "POST", FEEDBACKS, alice, {"token": token, "evaluation": 10}).json
    owner = make_account("olga", full_name="Olga Owner")
    for account in (alice, owner):
        assert call(client, "GET", FEEDBACKS, account).status == 403
        assert call(client, "GET", f"{FEEDBACKS}{made['uuid']}/", account).status == 403
        assert call(client, "GET", f"{FEEDBACKS}{'0' * 32}/", account).status == 403
    assert call(client, "GET", FEEDBACKS, None).status == 401
    assert call(client, "GET", f"{FEEDBACKS}{'0' * 32}/", staff).status == 404
    assert [f["uuid"] for f in call(client, "GET", FEEDBACKS, support).json] == [made["uuid"]]


def test_the_feedback_reports_count_the_evaluations_for_the_desk(client, alice, staff, support, mailbox):
    """HomePort's support dashboard reads both reports (Waldur's FeedbackReportViewSet and
    FeedbackAverageReportViewSet), from the evaluations' counters the stream keeps."""
    report, average = "/api/support-feedback-report/", "/api/support-feedback-average-report/"
    assert (call(client, "GET", report, staff).json, call(client, "GET", average, staff).json) == ({}, None)
    for evaluation in (10, 7, 10):
        _, token = resolved_with_link(client, alice, staff, mailbox)
        assert call(client, "POST", FEEDBACKS, None, {"token": token, "evaluation": evaluation}).status == 201
    settle()  # the stream moves the counters
    assert call(client, "GET", report, support).json == {"7": 1, "10": 2}
    assert call(client, "GET", average, support).json == 9.0
    assert (
        call(client, "GET", report, alice).status == 403 and call(client, "GET", average, alice).status == 403
    )
    assert call(client, "GET", report, None).status == 401


def test_a_deleted_issues_feedback_goes_with_it(client, alice, staff, mailbox):
    issue, token = resolved_with_link(client, alice, staff, mailbox)
    assert call(client, "POST", FEEDBACKS, None, {"token": token, "evaluation": 7}).status == 201
    assert call(client, "DELETE", issue["url"], staff).status == 204
    settle()
    assert call(client, "GET", FEEDBACKS, staff).json == []
    reply = call(client, "POST", FEEDBACKS, None, {"token": token, "evaluation": 7})
    assert (reply.status, reply.json) == (400, {"non_field_errors": ["An issue is not found."]})


def test_a_mail_that_fails_fails_its_task_which_is_delivered_again(
    client, alice, support, mailbox, monkeypatch
):
    from chalicelib.local.stream import StreamReader, create_event_bus
    from chalicelib.workflows.registry import BACKGROUND_QUEUE
    from tests.workflow_helpers import deliver_once

    issue = open_issue(client, alice)
    settle()
    comment(client, support, issue, "Fixed?")

    def refuse(self, to, subject, body):
        raise RuntimeError("SES is down")

    with monkeypatch.context() as patched:
        patched.setattr(mail.LocalOutbox, "send_email", refuse)
        create_event_bus()
        from tests.integration import test_support_attachments_api as attachments_test

        reader = attachments_test._readers[0] if attachments_test._readers else StreamReader()
        reader.poll_once()
        received, failed = deliver_once(BACKGROUND_QUEUE)
        assert received >= 1 and len(failed) == 1
    assert mailbox == []
    settle()  # delivered again, the mail goes out once
    assert [m.subject for m in mailbox] == [f"The issue ({issue['key']}) you have created has a new comment"]
    settle()
    assert len(mailbox) == 1
    assert call(client, "GET", COMMENTS, alice).status == 200
