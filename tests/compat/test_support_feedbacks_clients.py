"""Support feedbacks through waldur-api-client 8.1.3 over HTTP, strictly parsed: an issue resolved
with `support_issues_set_status`, the feedback mail's token (the real publisher, worker and local
outbox) posted by `support_feedbacks_create` on an anonymous client, then list, count and retrieve
as support, and the issue's nested `feedback` as its caller reads it."""

from __future__ import annotations

import re
from uuid import UUID

import pytest

from chalicelib import mail
from tests.compat.test_support_clients import people, strict  # noqa: F401  (fixture)
from tests.integration.test_support_attachments_api import _fresh_reader, settle  # noqa: F401  (fixture)


@pytest.fixture
def aws(stack):  # the publisher and the background worker
    yield


@pytest.fixture
def mailbox(monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_EMAIL_BACKEND", "local")
    reset_settings()
    mail.OUTBOX.clear()
    yield mail.OUTBOX
    mail.OUTBOX.clear()
    reset_settings()


def test_waldur_api_clients_support_feedback_functions(server, admin, people, mailbox):  # noqa: F811
    from waldur_api_client import Client
    from waldur_api_client.api.support_feedbacks import (
        support_feedbacks_count,
        support_feedbacks_create,
        support_feedbacks_list,
        support_feedbacks_retrieve,
    )
    from waldur_api_client.api.support_issues import (
        support_issues_create,
        support_issues_retrieve,
        support_issues_set_status,
    )
    from waldur_api_client.errors import UnexpectedStatus
    from waldur_api_client.models import (
        CreateFeedback,
        CreateFeedbackRequest,
        Feedback,
        IssueRequest,
        SetIssueStatusRequest,
    )

    desk, user = people
    with strict(server, user) as mine, strict(server, desk) as helpdesk:
        issue = support_issues_create.sync(client=mine, body=IssueRequest(type_="Incident", summary="Slow"))
        support_issues_set_status.sync_detailed(
            client=helpdesk, uuid=issue.uuid, body=SetIssueStatusRequest(status="Resolved")
        )
        settle()
        (request,) = [m for m in mailbox if m.subject.startswith("Please share your feedback")]
        assert request.to == "uma@example.org"
        token = re.search(r"token=([A-Za-z0-9_-]+)&evaluation=6\b", request.body).group(1)

        with Client(base_url=server.url, timeout=10.0) as anonymous:
            made = support_feedbacks_create.sync(
                client=anonymous, body=CreateFeedbackRequest(evaluation=6, token=token, comment="Fine")
            )
        assert isinstance(made, CreateFeedback) and not made.additional_properties
        assert (made.issue, made.evaluation, made.comment) == (issue.url, 6, "Fine")

        listed = support_feedbacks_list.sync_all(client=helpdesk, issue_uuid=issue.uuid, evaluation=6)
        assert [f.uuid for f in listed] == [made.uuid]
        (row,) = listed
        assert isinstance(row, Feedback) and not row.additional_properties
        assert (row.state, row.issue_key, row.issue_uuid, row.user_full_name) == (
            "OK",
            issue.key,
            UUID(str(issue.uuid)),
            "Uma User",
        )
        counted = support_feedbacks_count.sync_detailed(client=helpdesk, user_uuid=UUID(user.id))
        assert counted.headers["X-Result-Count"] == "1"
        again = support_feedbacks_retrieve.sync(client=helpdesk, uuid=made.uuid)
        assert isinstance(again, Feedback) and again.evaluation == 6 and not again.additional_properties

        seen = support_issues_retrieve.sync(client=mine, uuid=issue.uuid)
        assert seen.feedback is not None and not seen.feedback.additional_properties
        assert (seen.feedback.evaluation_number, seen.feedback.comment) == (6, "Fine")
        with pytest.raises(UnexpectedStatus) as refused:  # the caller reads no feedback list
            support_feedbacks_list.sync(client=mine)
        assert refused.value.status_code == 403
