"""The built-in support desk over HTTP (moto's DynamoDB): issues, comments and support users in
Waldur's shapes, who sees and changes what, the filters, the events, and a visibility matrix."""

from __future__ import annotations

import pytest

from tests.conftest import make_account
from tests.helpers import all_events, call, create_customer, create_project

ISSUES = "/api/support-issues/"
COMMENTS = "/api/support-comments/"
SUPPORT_USERS = "/api/support-users/"


def grant(client, staff, scope: str, scope_id: str, user, role: str) -> None:
    reply = call(client, "POST", f"/api/{scope}/{scope_id}/add_user/", staff, {"user": user.id, "role": role})
    assert reply.status == 201, reply.json


def open_issue(client, account, **fields) -> dict:
    reply = call(client, "POST", ISSUES, account, {"type": "Incident", "summary": "VM down", **fields})
    assert reply.status == 201, reply.json
    return reply.json


@pytest.fixture
def org(client, staff):
    """A customer with a project, its owner and a project member."""
    customer = create_customer(client, staff, "Acme")
    project = create_project(client, staff, customer, "Apollo")
    owner = make_account("owner", full_name="Olga Owner", email="olga@example.org")
    member = make_account("member", full_name="Max Member", email="max@example.org")
    admin = make_account("padmin", full_name="Pat Admin", email="pat@example.org")
    grant(client, staff, "customers", customer["uuid"], owner, "CUSTOMER.OWNER")
    grant(client, staff, "projects", project["uuid"], member, "PROJECT.MEMBER")
    grant(client, staff, "projects", project["uuid"], admin, "PROJECT.ADMIN")
    return {"customer": customer, "project": project, "owner": owner, "member": member, "admin": admin}


def test_a_user_opens_a_personal_issue_as_its_caller_and_reporter(client, alice):
    issue = open_issue(client, alice, description="It does not boot.\nSince noon.")
    assert issue["key"] == "SUP-1" and issue["status"] == "New" and issue["resolved"] is None
    assert issue["caller_uuid"] == alice.id and issue["caller_full_name"] == "Alice Example"
    assert issue["caller"].endswith(f"/api/users/{alice.id}/")
    assert issue["reporter"].endswith(f"/api/support-users/{issue['reporter_uuid']}/")
    assert issue["reporter_name"] == "Alice Example"
    assert issue["customer"] is None and issue["project"] is None and "resource" not in issue
    assert issue["available_statuses"] == [
        "New",
        "In Progress",
        "Waiting for customer",
        "Resolved",
        "Canceled",
    ]
    assert (issue["update_is_available"], issue["add_comment_is_available"]) == (False, True)
    assert call(client, "GET", issue["url"], alice).json == issue
    assert [i["uuid"] for i in call(client, "GET", ISSUES, alice).json] == [issue["uuid"]]
    second = open_issue(client, alice, summary="Another")
    assert second["key"] == "SUP-2" and second["reporter_uuid"] == issue["reporter_uuid"]


def test_bad_input_is_a_400_in_drfs_shape_and_nothing_is_stored(client, alice, org):
    cases = [
        ({"summary": "x"}, {"type": ["This field is required."]}),
        ({"type": "Bug", "summary": "x"}, {"type": ['"Bug" is not a valid choice.']}),
        ({"type": "Incident", "summary": "  "}, "summary"),
        ({"type": "Incident", "summary": "x" * 256}, "summary"),
        ({"type": "Incident", "summary": "x", "description": "x" * 40000}, "description"),
        ({"type": "Incident", "summary": "x", "priority": "High"}, {"priority": [
            "Only staff or support can specify issue priority."]}),
        ({"type": "Incident", "summary": "x", "caller": f"/api/users/{org['owner'].id}/"}, "caller"),
        ({"type": "Incident", "summary": "x", "customer": org["customer"]["url"]}, {"customer": [
            "Invalid hyperlink - Object does not exist."]}),
        ({"type": "Incident", "summary": "x", "project": "not-a-link"}, "project"),
        # A resource reference naming no id of ours (schemathesis: it reached an empty key, a 500).
        ({"type": "Incident", "summary": "x", "resource": "0" * 64}, {"resource": [
            "Invalid hyperlink - Object does not exist."]}),
    ]  # fmt: skip
    for body, expected in cases:
        reply = call(client, "POST", ISSUES, alice, body)
        assert reply.status == 400, (body, reply.json)
        if isinstance(expected, dict):
            assert reply.json == expected
        else:
            assert list(reply.json) == [expected], (body, reply.json)
    assert call(client, "GET", ISSUES, alice).json == []


def test_scopes_follow_waldurs_rules_for_who_may_report_there(client, org):
    owner, member, project = org["owner"], org["member"], org["project"]
    by_owner = open_issue(client, owner, customer=org["customer"]["url"])
    assert (by_owner["customer_uuid"], by_owner["customer_name"]) == (org["customer"]["uuid"], "Acme")
    refused = call(client, "POST", ISSUES, member, {"type": "Incident", "summary": "x",
                                                    "customer": org["customer"]["url"]})  # fmt: skip
    assert refused.status == 400
    assert refused.json == {"customer": ["Only customer owner, staff or support can report customer issues."]}
    in_project = open_issue(client, member, project=project["url"])
    assert (
        in_project["project_uuid"] == project["uuid"]
        and in_project["customer_uuid"] == org["customer"]["uuid"]
    )
    stranger = make_account("stranger", full_name="Sam Stranger")
    hidden = call(
        client, "POST", ISSUES, stranger, {"type": "Incident", "summary": "x", "project": project["url"]}
    )
    assert hidden.status == 400 and hidden.json == {"project": ["Invalid hyperlink - Object does not exist."]}


def test_the_visibility_matrix(client, staff, support, org):
    """Waldur's rules: the desk sees all; others see what they called or reported and the issues of
    customers they own; a project member sees neither a colleague's issue nor the customer's."""
    caller, owner, member = org["admin"], org["owner"], org["member"]
    issue = open_issue(client, caller, project=org["project"]["url"])
    personal = open_issue(client, caller, summary="My own")
    on_behalf = open_issue(client, support, summary="For Olga", caller=f"/api/users/{owner.id}/")
    assert on_behalf["caller_uuid"] == owner.id and on_behalf["reporter_name"] == "support"
    other_customer = create_customer(client, staff, "Other")
    other_owner = make_account("other", full_name="Oscar Other")
    grant(client, staff, "customers", other_customer["uuid"], other_owner, "CUSTOMER.OWNER")
    expected = {
        "staff": (staff, {issue["uuid"], personal["uuid"], on_behalf["uuid"]}),
        "support": (support, {issue["uuid"], personal["uuid"], on_behalf["uuid"]}),
        "caller": (caller, {issue["uuid"], personal["uuid"]}),
        "owner": (owner, {issue["uuid"], on_behalf["uuid"]}),  # the customer's issue, and hers
        "project member": (member, set()),
        "other tenant": (other_owner, set()),
    }
    for who, (account, seen) in expected.items():
        listed = {i["uuid"] for i in call(client, "GET", ISSUES, account).json}
        assert listed == seen, who
        for candidate in (issue, personal, on_behalf):
            status = call(client, "GET", candidate["url"], account).status
            assert status == (200 if candidate["uuid"] in seen else 404), (who, candidate["summary"])
        count = call(client, "HEAD", ISSUES, account)
        assert count.headers["X-Result-Count"] == str(len(seen)), who


def test_a_reporter_who_is_not_the_caller_sees_the_issue_after_losing_the_desk(client, staff):
    helper = make_account("helper", is_support=True, full_name="Hal Helper")
    alice_like = make_account("carol", full_name="Carol Caller")
    issue = open_issue(client, helper, caller=f"/api/users/{alice_like.id}/")
    assert call(client, "PATCH", f"/api/users/{helper.id}/", staff, {"is_support": False}).status == 200
    assert [i["uuid"] for i in call(client, "GET", ISSUES, helper).json] == [issue["uuid"]]
    assert call(client, "GET", issue["url"], helper).status == 200


def test_only_the_desk_changes_sets_status_and_deletes_issues(client, staff, support, alice):
    issue = open_issue(client, alice)
    assert call(client, "PATCH", issue["url"], alice, {"summary": "Mine"}).status == 403
    assert call(client, "DELETE", issue["url"], alice).status == 403
    assert call(client, "POST", f"{issue['url']}set_status/", alice, {"status": "Resolved"}).status == 403
    desk_user = call(client, "POST", SUPPORT_USERS, staff, {"name": "Second line"}).json
    patched = call(client, "PATCH", issue["url"], support, {"summary": "VM down again",
                                                           "assignee": desk_user["url"]})  # fmt: skip
    assert patched.status == 200, patched.json
    assert patched.json["summary"] == "VM down again" and patched.json["assignee_uuid"] == desk_user["uuid"]
    put = call(
        client, "PUT", issue["url"], staff, {"type": "Change Request", "summary": "Put", "caller": None}
    )
    assert put.status == 200 and put.json["type"] == "Incident" and put.json["caller_uuid"] == alice.id
    moved = call(client, "POST", f"{issue['url']}set_status/", support, {"status": "Resolved"})
    assert moved.status == 200 and moved.json["status"] == "Resolved" and moved.json["resolved"] is True
    canceled = call(client, "POST", f"{issue['url']}set_status/", support, {"status": "Canceled"}).json
    assert canceled["resolved"] is False
    bad = call(client, "POST", f"{issue['url']}set_status/", support, {"status": "Done"})
    assert bad.status == 400 and bad.json == {"status": ['"Done" is not a valid choice.']}
    counted = call(client, "GET", f"{SUPPORT_USERS}{desk_user['uuid']}/", staff).json
    assert counted["assigned_issues_count"] == 1
    assert call(client, "DELETE", issue["url"], support).status == 204
    assert call(client, "GET", issue["url"], staff).status == 404
    assert (
        call(client, "GET", f"{SUPPORT_USERS}{desk_user['uuid']}/", staff).json["assigned_issues_count"] == 0
    )
    types = [e.event_type for e in all_events() if e.event_type.startswith("issue_")]
    assert types.count("issue_creation_succeeded") == 1 and types.count("issue_deletion_succeeded") == 1
    assert types.count("issue_update_succeeded") == 4


def test_comments_public_and_internal(client, staff, support, org):
    caller, owner, member, admin = org["admin"], org["owner"], org["member"], org["admin"]
    issue = open_issue(client, caller, project=org["project"]["url"])
    public = call(
        client, "POST", f"{issue['url']}comment/", admin, {"description": "Any news?", "remote_id": None}
    )
    assert public.status == 201, public.json
    assert public.json["author_uuid"] == admin.id and public.json["author_email"] == "pat@example.org"
    assert public.json["issue_key"] == issue["key"] and public.json["is_public"] is True
    note = {"description": "Rebooting.", "is_public": False}
    internal = call(client, "POST", f"{issue['url']}comment/", support, note).json
    answer = call(client, "POST", f"{issue['url']}comment/", support, {"description": "Rebooted."}).json
    assert call(client, "GET", issue["url"], staff).json["first_response_at"] is not None
    # a project member who is not the caller does not see the issue: no comment either
    assert call(client, "POST", f"{issue['url']}comment/", member, {"description": "me too"}).status == 404
    everyone = {public.json["uuid"], internal["uuid"], answer["uuid"]}
    for account, seen in ((staff, everyone), (support, everyone), (owner, everyone - {internal["uuid"]}),
                          (admin, everyone - {internal["uuid"]}), (member, set())):  # fmt: skip
        listed = {
            c["uuid"] for c in call(client, "GET", f"{COMMENTS}?issue_uuid={issue['uuid']}", account).json
        }
        assert listed == seen, account.username
    assert call(client, "GET", f"{COMMENTS}{internal['uuid']}/", owner).status == 404
    assert (
        call(client, "PATCH", f"{COMMENTS}{public.json['uuid']}/", admin, {"description": "x"}).status == 403
    )
    changed = call(client, "PATCH", f"{COMMENTS}{public.json['uuid']}/", staff, {"is_public": False})
    assert changed.status == 200 and changed.json["is_public"] is False
    assert call(client, "DELETE", f"{COMMENTS}{answer['uuid']}/", support).status == 403
    assert call(client, "DELETE", f"{COMMENTS}{answer['uuid']}/", staff).status == 204
    support_user = call(client, "GET", f"{SUPPORT_USERS}?user={support.id}", staff).json
    assert [u["comments_count"] for u in support_user] == [1]
    types = [e.event_type for e in all_events() if e.event_type.startswith("issue_comment")]
    assert types == ["issue_comment_created"] * 3 + ["issue_comment_updated", "issue_comment_deleted"]


def test_issue_filters_and_orderings(client, staff, support, org):
    owner = org["owner"]
    first = open_issue(client, owner, summary="Disk full", customer=org["customer"]["url"])
    second = open_issue(client, owner, summary="Network slow", type="Service Request", remote_id="R-7")
    call(client, "POST", f"{second['url']}set_status/", support, {"status": "In Progress"})

    def listed(query: str) -> list[str]:
        reply = call(client, "GET", f"{ISSUES}?{query}", staff)
        assert reply.status == 200, reply.json
        return [i["summary"] for i in reply.json]

    assert listed("") == ["Network slow", "Disk full"]
    assert listed("o=created") == ["Disk full", "Network slow"]
    assert listed("o=-key") == ["Network slow", "Disk full"]
    assert listed("summary=disk") == ["Disk full"]
    assert listed("type=Service%20Request") == ["Network slow"]
    assert listed("status=In%20Progress") == ["Network slow"]
    assert listed(f"customer_uuid={org['customer']['uuid']}") == ["Disk full"]
    assert listed(f"customer={org['customer']['url']}") == ["Disk full"]
    assert listed(f"caller=/api/users/{owner.id}/") == ["Network slow", "Disk full"]
    assert listed("remote_id=r-7") == ["Network slow"]
    assert listed(f"key={first['key']}") == ["Disk full"]
    assert listed("query=SUP-2") == ["Network slow"]
    assert listed("is_open=true") == ["Network slow", "Disk full"]
    bad = call(client, "GET", f"{ISSUES}?customer_uuid=nope", staff)
    assert bad.status == 400 and bad.json == {"customer_uuid": ["Enter a valid UUID."]}
    assert call(client, "GET", f"{ISSUES}?o=height", staff).status == 400


def test_support_users_are_the_desks_to_read_and_staffs_to_write(client, staff, support, alice):
    made = call(client, "POST", SUPPORT_USERS, staff, {"name": "Agent", "user": f"/api/users/{alice.id}/"})
    assert made.status == 201, made.json
    assert made.json["user_full_name"] == "Alice Example" and made.json["backend_name"] == "basic"
    assert call(client, "GET", SUPPORT_USERS, alice).status == 403
    assert call(client, "GET", made.json["url"], alice).status == 403
    assert call(client, "POST", SUPPORT_USERS, support, {"name": "x"}).status == 403
    assert [u["name"] for u in call(client, "GET", SUPPORT_USERS, support).json] == ["Agent"]
    patched = call(client, "PATCH", made.json["url"], staff, {"is_active": False, "backend_id": "7"})
    assert patched.status == 200 and (patched.json["is_active"], patched.json["backend_id"]) == (False, "7")
    assert call(client, "GET", f"{SUPPORT_USERS}?is_active=false", staff).json[0]["uuid"] == made.json["uuid"]
    assert call(client, "DELETE", made.json["url"], support).status == 403
    assert call(client, "DELETE", made.json["url"], staff).status == 204
    assert call(client, "GET", SUPPORT_USERS, staff).json == []


def test_deleting_an_issue_with_many_comments_takes_them_all(client, staff, alice):
    issue = open_issue(client, alice)
    for n in range(35):
        assert (
            call(client, "POST", f"{issue['url']}comment/", alice, {"description": f"ping {n}"}).status == 201
        )
    assert call(client, "DELETE", issue["url"], staff).status == 204
    assert call(client, "GET", f"{COMMENTS}?issue_uuid={issue['uuid']}", staff).json == []
    assert call(client, "GET", COMMENTS, staff).json == []
    [own] = call(client, "GET", SUPPORT_USERS, staff).json
    assert (own["comments_count"], own["reported_issues_count"]) == (0, 0)
    types = [e.event_type for e in all_events() if e.event_type.startswith("issue_")]
    assert types.count("issue_comment_deleted") == 5 and types.count("issue_deletion_succeeded") == 1


def test_the_desk_sets_a_priority_by_the_name_of_one_of_support_priorities(client, support):
    made = open_issue(client, support, priority="High")
    assert made["priority"] == "High"
    unknown = call(
        client, "POST", ISSUES, support, {"type": "Incident", "summary": "x", "priority": "Urgent"}
    )
    assert unknown.status == 400
    assert unknown.json == {"priority": ["Priority with requested name does not exist."]}
