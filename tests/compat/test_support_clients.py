"""The support desk through the real clients over HTTP: waldur-api-client's `support_issues`,
`support_comments` and `support_users` functions with strict parsing (every answer a model with no
unknown keys; an unexpected status raises), and python-waldur-client's four support methods."""

from __future__ import annotations

from uuid import UUID

import pytest

from tests.compat.test_marketplace_user_usages_clients import client_of
from tests.conftest import make_account


@pytest.fixture
def aws(stack):
    yield


def strict(server, account):
    from waldur_api_client import AuthenticatedClient

    # waldur-api-client 8.1.3 raises UnexpectedStatus on any status its operation does not document.
    return AuthenticatedClient(base_url=server.url, token=account.token, timeout=10.0)


@pytest.fixture
def people(aws, admin):
    desk = make_account("desk", is_support=True, full_name="Dee Desk", email="desk@example.org")
    user = make_account("user", full_name="Uma User", email="uma@example.org")
    return desk, user


def test_waldur_api_clients_support_issue_functions(server, admin, people):
    from waldur_api_client.api.support_issues import (
        support_issues_comment,
        support_issues_count,
        support_issues_create,
        support_issues_destroy,
        support_issues_list,
        support_issues_partial_update,
        support_issues_retrieve,
        support_issues_set_status,
        support_issues_update,
    )
    from waldur_api_client.errors import UnexpectedStatus
    from waldur_api_client.models import (
        Comment,
        CommentRequest,
        Issue,
        IssueOEnum,
        IssueRequest,
        PatchedIssueRequest,
        SetIssueStatusRequest,
    )

    desk, user = people
    with strict(server, user) as mine, strict(server, desk) as helpdesk:
        made = support_issues_create.sync(
            client=mine,
            body=IssueRequest(type_="Service Request", summary="Need a quota", description="Please."),
        )
        assert isinstance(made, Issue) and not made.additional_properties
        assert (made.key, made.status, made.resolved, made.caller_uuid) == (
            "SUP-1",
            "New",
            None,
            UUID(user.id),
        )
        assert made.reporter.endswith(f"/api/support-users/{made.reporter_uuid.hex}/")
        other = support_issues_create.sync(
            client=helpdesk,
            body=IssueRequest(
                type_="Incident", summary="Outage", caller=f"{server.url}/api/users/{user.id}/"
            ),
        )
        assert other.caller_uuid == UUID(user.id) and other.reporter_name == "Dee Desk"

        listed = support_issues_list.sync_all(client=mine, o=[IssueOEnum.KEY])
        assert [i.key for i in listed] == ["SUP-1", "SUP-2"]
        assert all(isinstance(i, Issue) and not i.additional_properties for i in listed)
        assert [i.key for i in support_issues_list.sync_all(client=mine, type_="Incident")] == ["SUP-2"]
        assert support_issues_count.sync(client=mine, summary="quota") == 1

        patched = support_issues_partial_update.sync(
            uuid=made.uuid, client=helpdesk, body=PatchedIssueRequest(summary="Need a bigger quota")
        )
        assert isinstance(patched, Issue) and patched.summary == "Need a bigger quota"
        replaced = support_issues_update.sync(
            uuid=made.uuid, client=helpdesk, body=IssueRequest(type_="Incident", summary="Quota")
        )
        assert replaced.summary == "Quota" and replaced.type_ == "Service Request"  # type is protected
        with pytest.raises(UnexpectedStatus) as refused:
            support_issues_partial_update.sync(
                uuid=made.uuid, client=mine, body=PatchedIssueRequest(summary="x")
            )
        assert refused.value.status_code == 403

        comment = support_issues_comment.sync(
            uuid=made.uuid, client=helpdesk, body=CommentRequest(description="On it.", is_public=True)
        )
        assert isinstance(comment, Comment) and not comment.additional_properties
        assert (comment.author_uuid, comment.author_email) == (UUID(desk.id), "desk@example.org")
        assert support_issues_retrieve.sync(uuid=made.uuid, client=mine).first_response_at is not None

        resolved = support_issues_set_status.sync(
            uuid=made.uuid, client=helpdesk, body=SetIssueStatusRequest(status="Resolved")
        )
        assert isinstance(resolved, Issue) and resolved.resolved is True
        assert support_issues_destroy.sync_detailed(uuid=other.uuid, client=helpdesk).status_code == 204
        assert [i.key for i in support_issues_list.sync_all(client=mine)] == ["SUP-1"]


def test_waldur_api_clients_support_comment_and_user_functions(server, admin, people):
    from waldur_api_client.api.support_comments import (
        support_comments_count,
        support_comments_destroy,
        support_comments_list,
        support_comments_partial_update,
        support_comments_retrieve,
        support_comments_update,
    )
    from waldur_api_client.api.support_issues import support_issues_comment, support_issues_create
    from waldur_api_client.api.support_users import (
        support_users_count,
        support_users_create,
        support_users_destroy,
        support_users_list,
        support_users_partial_update,
        support_users_retrieve,
        support_users_update,
    )
    from waldur_api_client.errors import UnexpectedStatus
    from waldur_api_client.models import (
        Comment,
        CommentRequest,
        IssueRequest,
        PatchedCommentRequest,
        PatchedSupportUserRequest,
        SupportUser,
        SupportUserRequest,
    )

    desk, user = people
    with strict(server, user) as mine, strict(server, desk) as helpdesk, strict(server, admin) as staff:
        issue = support_issues_create.sync(client=mine, body=IssueRequest(type_="Incident", summary="Down"))
        mine_comment = support_issues_comment.sync(
            uuid=issue.uuid, client=mine, body=CommentRequest(description="Still down.")
        )
        internal = support_issues_comment.sync(
            uuid=issue.uuid, client=helpdesk, body=CommentRequest(description="Escalating.", is_public=False)
        )
        seen = support_comments_list.sync_all(client=mine, issue_uuid=issue.uuid)
        assert [c.uuid for c in seen] == [mine_comment.uuid]
        assert all(isinstance(c, Comment) and not c.additional_properties for c in seen)
        assert support_comments_count.sync(client=helpdesk, issue=issue.url) == 2
        assert support_comments_count.sync(client=helpdesk, is_public=False) == 1
        with pytest.raises(UnexpectedStatus) as hidden:
            support_comments_retrieve.sync(uuid=internal.uuid, client=mine)
        assert hidden.value.status_code == 404
        assert support_comments_retrieve.sync(uuid=internal.uuid, client=helpdesk).is_public is False

        changed = support_comments_partial_update.sync(
            uuid=mine_comment.uuid, client=staff, body=PatchedCommentRequest(description="Back up.")
        )
        assert isinstance(changed, Comment) and changed.description == "Back up."
        replaced = support_comments_update.sync(
            uuid=mine_comment.uuid, client=staff, body=CommentRequest(description="Fine.", is_public=True)
        )
        assert replaced.description == "Fine."
        assert support_comments_destroy.sync_detailed(uuid=internal.uuid, client=staff).status_code == 204

        users = support_users_list.sync_all(client=helpdesk)
        assert all(isinstance(u, SupportUser) and not u.additional_properties for u in users)
        by_name = {u.name: u for u in users}
        assert by_name["Uma User"].reported_issues_count == 1 and by_name["Uma User"].comments_count == 1
        assert by_name["Dee Desk"].comments_count == 0  # the internal comment went
        assert support_users_count.sync(client=helpdesk) == 2
        agent = support_users_create.sync(
            client=staff, body=SupportUserRequest(name="Agent", user=f"{server.url}/api/users/{desk.id}/")
        )
        assert isinstance(agent, SupportUser) and agent.user_email == "desk@example.org"
        agent = support_users_partial_update.sync(
            uuid=agent.uuid, client=staff, body=PatchedSupportUserRequest(is_active=False)
        )
        assert agent.is_active is False
        agent = support_users_update.sync(
            uuid=agent.uuid, client=staff, body=SupportUserRequest(name="Agent K")
        )
        assert support_users_retrieve.sync(uuid=agent.uuid, client=helpdesk).name == "Agent K"
        with pytest.raises(UnexpectedStatus) as refused:
            support_users_list.sync(client=mine)
        assert refused.value.status_code == 403
        assert support_users_destroy.sync_detailed(uuid=agent.uuid, client=staff).status_code == 204


def test_python_waldur_clients_support_methods(server, admin, people):
    from waldur_client import WaldurClientException

    desk, user = people
    mine, helpdesk = client_of(server, user), client_of(server, desk)
    made = mine.create_support_issue(
        "Printer on fire", "Incident", f"{server.url}/api/users/{user.id}/", None
    )
    assert made["summary"] == "Printer on fire" and made["caller_uuid"] == user.id
    assert made["remote_id"] is None
    by_desk = helpdesk.create_support_issue(
        "Follow-up", "Informational", f"{server.url}/api/users/{user.id}/", "EXT-1", description="From mail"
    )
    assert by_desk["remote_id"] == "EXT-1" and by_desk["reporter_name"] == "Dee Desk"
    with pytest.raises(WaldurClientException):
        mine.create_support_issue("Not mine", "Incident", f"{server.url}/api/users/{desk.id}/", None)

    assert [i["uuid"] for i in mine.list_support_issues({"remote_id": "EXT-1"})] == [by_desk["uuid"]]
    assert {i["uuid"] for i in mine.list_support_issues()} == {made["uuid"], by_desk["uuid"]}

    comment = mine.create_support_comments(made["uuid"], "Smoke now.", "MAIL-9")
    assert comment["description"] == "Smoke now." and comment["remote_id"] == "MAIL-9"
    helpdesk.create_support_comments(made["uuid"], "Internal note.", None, is_public=False)
    assert [c["uuid"] for c in mine.list_support_comments({"issue_uuid": made["uuid"]})] == [comment["uuid"]]
    assert len(helpdesk.list_support_comments({"issue_uuid": made["uuid"]})) == 2
    stranger = client_of(server, make_account("stranger"))
    assert stranger.list_support_issues() == [] and stranger.list_support_comments() == []
    with pytest.raises(WaldurClientException, match=r"404|Not found"):
        stranger.create_support_comments(made["uuid"], "Hi", None)
