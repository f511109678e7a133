"""Teams over HTTP: granting, changing and revoking roles on customers and projects, what a role
lets its holder see and do, the customer's user count, the role events, and role expiry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.domain.roles import SYSTEM_ROLES
from tests.conftest import make_account
from tests.helpers import feed

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes

OWNER = SYSTEM_ROLES["CUSTOMER.OWNER"].id
ADMIN = SYSTEM_ROLES["PROJECT.ADMIN"].id
MANAGER = SYSTEM_ROLES["PROJECT.MANAGER"].id
DENIED = "You do not have permission to perform this action."


def call(client, method, path, account, body=None):
    response = getattr(client, method)(
        path, headers=account.headers, body=json.dumps(body) if body is not None else None
    )
    payload = json.loads(response.body) if response.body else None
    return response.status_code, payload


@pytest.fixture
def world(client, staff):
    """Two customers with a project each, made by staff."""
    _, acme = call(client, "post", "/api/customers/", staff, {"name": "Acme"})
    _, globex = call(client, "post", "/api/customers/", staff, {"name": "Globex"})
    projects = {}
    for customer, name in ((acme, "Apollo"), (acme, "Gemini"), (globex, "Zeus")):
        _, projects[name] = call(
            client, "post", "/api/projects/", staff, {"customer": customer["url"], "name": name}
        )
    return {"acme": acme, "globex": globex, **projects}


def grant(client, who, collection, scope, user, role, expiration_time=None):
    body = {"user": user.id, "role": role, "expiration_time": expiration_time}
    return call(client, "post", f"/api/{collection}/{scope['uuid']}/add_user/", who, body)


def test_a_customer_owner_sees_and_runs_their_customer_only(client, staff, alice, world):
    assert grant(client, staff, "customers", world["acme"], alice, "CUSTOMER.OWNER") == (
        201,
        {"expiration_time": None},
    )
    status, customers = call(client, "get", "/api/customers/", alice)
    assert [c["name"] for c in customers] == ["Acme"]
    status, projects = call(client, "get", "/api/projects/", alice)
    assert sorted(p["name"] for p in projects) == ["Apollo", "Gemini"]
    assert call(client, "get", f"/api/customers/{world['globex']['uuid']}/", alice)[0] == 404
    assert call(client, "get", f"/api/projects/{world['Zeus']['uuid']}/", alice)[0] == 404
    # An owner runs the customer: renames it, creates and removes projects...
    assert (
        call(client, "patch", f"/api/customers/{world['acme']['uuid']}/", alice, {"name": "Acme 2"})[0] == 200
    )
    status, created = call(
        client, "post", "/api/projects/", alice, {"customer": world["acme"]["url"], "name": "Mercury"}
    )
    assert status == 201
    assert call(client, "delete", f"/api/projects/{created['uuid']}/", alice)[0] == 204
    # ...but neither deletes it, nor creates projects elsewhere, nor makes owners.
    assert call(client, "delete", f"/api/customers/{world['acme']['uuid']}/", alice)[0] == 403
    assert call(
        client, "post", "/api/projects/", alice, {"customer": world["globex"]["url"], "name": "Nope"}
    ) == (400, {"customer": ["Invalid hyperlink - Object does not exist."]})
    bob = make_account("bob")
    assert grant(client, alice, "customers", world["acme"], bob, "CUSTOMER.OWNER")[0] == 403


def test_project_roles_give_their_project_and_what_the_role_allows(client, staff, alice, world):
    bob = make_account("bob")
    assert grant(client, staff, "customers", world["acme"], alice, OWNER)[0] == 201
    assert grant(client, alice, "projects", world["Apollo"], bob, "PROJECT.ADMIN")[0] == 201
    assert [p["name"] for p in call(client, "get", "/api/projects/", bob)[1]] == ["Apollo"]
    assert [c["name"] for c in call(client, "get", "/api/customers/", bob)[1]] == ["Acme"]
    assert call(client, "get", f"/api/projects/{world['Gemini']['uuid']}/", bob)[0] == 404
    apollo = f"/api/projects/{world['Apollo']['uuid']}/"
    assert call(client, "patch", apollo, bob, {"description": "x"})[0] == 403  # admins don't edit
    assert call(client, "post", f"{apollo}add_user/", bob, {"user": alice.id, "role": ADMIN})[0] == 403
    assert call(client, "post", f"{apollo}update_user/", alice, {"user": bob.id, "role": ADMIN})[0] == 200
    # A manager edits the project and its team, but cannot hand out what they don't hold.
    carol = make_account("carol")
    assert grant(client, alice, "projects", world["Apollo"], carol, "PROJECT.MANAGER")[0] == 201
    assert call(client, "patch", apollo, carol, {"description": "by carol"})[0] == 200
    dave = make_account("dave")
    assert grant(client, carol, "projects", world["Apollo"], dave, "PROJECT.MEMBER")[0] == 201
    assert grant(client, carol, "projects", world["Gemini"], dave, "PROJECT.MEMBER")[0] == 404
    assert grant(client, carol, "customers", world["acme"], dave, "CUSTOMER.SUPPORT")[0] == 403


def test_membership_validation_messages(client, staff, alice, world):
    acme = world["acme"]
    assert grant(client, staff, "customers", acme, alice, OWNER)[0] == 201
    assert grant(client, staff, "customers", acme, alice, OWNER) == (
        400,
        ["User has already the same role in this scope."],
    )
    assert grant(client, staff, "customers", acme, alice, "PROJECT.ADMIN") == (
        400,
        ["Role is not valid for this scope."],
    )
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert grant(client, staff, "projects", world["Apollo"], alice, ADMIN, past) == (
        400,
        ["Expiration time should be greater than current time."],
    )
    path = f"/api/customers/{acme['uuid']}/add_user/"
    ghost = "0" * 32
    assert call(client, "post", path, staff, {"user": ghost, "role": OWNER}) == (
        400,
        {"user": [f"Object with uuid={ghost} does not exist."]},
    )
    assert call(client, "post", path, staff, {"user": alice.id, "role": "NO.SUCH"}) == (
        400,
        {"role": ["Object with name=NO.SUCH does not exist."]},
    )
    assert call(client, "post", path, staff, {"role": OWNER})[1] == {"user": ["This field is required."]}
    removal = f"/api/projects/{world['Apollo']['uuid']}/delete_user/"
    assert call(client, "post", removal, staff, {"user": alice.id, "role": ADMIN}) == (
        400,
        ["User does not have this role in this scope."],
    )


def test_list_users_delete_user_and_the_user_count(client, staff, alice, world):
    bob = make_account("bob", full_name="Bob Builder", email="bob@example.org")
    acme = world["acme"]
    assert grant(client, staff, "customers", acme, alice, OWNER)[0] == 201
    assert grant(client, staff, "projects", world["Apollo"], bob, ADMIN)[0] == 201
    assert grant(client, staff, "projects", world["Gemini"], bob, MANAGER)[0] == 201
    assert call(client, "get", f"/api/customers/{acme['uuid']}/", staff)[1]["users_count"] == 2

    status, team = call(client, "get", f"/api/projects/{world['Apollo']['uuid']}/list_users/", alice)
    assert status == 200
    (row,) = team
    assert row["user_uuid"] == bob.id and row["user_username"] == "bob"
    assert row["user_full_name"] == "Bob Builder" and row["user_email"] == "bob@example.org"
    assert row["role_name"] == "PROJECT.ADMIN" and row["role_uuid"] == ADMIN
    assert row["created_by_username"] == "staff" and row["expiration_time"] is None
    filtered = f"/api/customers/{acme['uuid']}/list_users/?role=CUSTOMER.OWNER"
    assert [r["user_username"] for r in call(client, "get", filtered, staff)[1]] == ["alice"]

    status, people = call(client, "get", f"/api/customers/{acme['uuid']}/users/", alice)
    by_name = {p["username"]: p for p in people}
    assert by_name["alice"]["role_name"] == "CUSTOMER.OWNER" and by_name["alice"]["projects"] == []
    assert sorted((p["name"], p["role_name"]) for p in by_name["bob"]["projects"]) == [
        ("Apollo", "PROJECT.ADMIN"),
        ("Gemini", "PROJECT.MANAGER"),
    ]

    removal = f"/api/projects/{world['Apollo']['uuid']}/delete_user/"
    response = client.post(removal, headers=alice.headers, body=json.dumps({"user": bob.id, "role": ADMIN}))
    assert (response.status_code, response.body) == (200, b"")
    assert call(client, "get", f"/api/projects/{world['Apollo']['uuid']}/", bob)[0] == 404
    assert call(client, "get", f"/api/customers/{acme['uuid']}/", staff)[1]["users_count"] == 2
    assert (
        call(
            client,
            "post",
            f"/api/projects/{world['Gemini']['uuid']}/delete_user/",
            staff,
            {"user": bob.id, "role": MANAGER},
        )[0]
        == 200
    )
    assert call(client, "get", f"/api/customers/{acme['uuid']}/", staff)[1]["users_count"] == 1


def test_role_events_record_who_granted_and_the_impersonator(client, staff, alice, world):

    headers = {**staff.headers, "X-Impersonated-User-Uuid": staff.id}
    body = json.dumps({"user": alice.id, "role": OWNER})
    response = client.post(f"/api/customers/{world['acme']['uuid']}/add_user/", headers=headers, body=body)
    assert response.status_code == 201
    granted = [e for e in feed("customer", world["acme"]["uuid"]) if e.event_type == "role_granted"]
    (event,) = granted
    assert event.context["affected_user_uuid"] == alice.id
    assert event.context["role_name"] == "CUSTOMER.OWNER"
    assert event.context["customer_uuid"] == world["acme"]["uuid"]
    assert event.context["user_uuid"] == staff.id
    assert event.context["impersonator_uuid"] == staff.id


def test_user_permissions_and_the_permissions_field(client, staff, alice, world):
    assert grant(client, staff, "customers", world["acme"], alice, OWNER)[0] == 201
    assert grant(client, staff, "projects", world["Zeus"], alice, ADMIN)[0] == 201
    bob = make_account("bob")
    assert grant(client, staff, "projects", world["Zeus"], bob, ADMIN)[0] == 201

    _, mine = call(client, "get", "/api/user-permissions/", alice)
    assert sorted((p["scope_type"], p["scope_name"], p["role_name"]) for p in mine) == [
        ("customer", "Acme", "CUSTOMER.OWNER"),
        ("project", "Zeus", "PROJECT.ADMIN"),
    ]
    zeus = next(p for p in mine if p["scope_type"] == "project")
    assert zeus["customer_name"] == "Globex" and zeus["project_uuid"] == world["Zeus"]["uuid"]
    assert call(client, "get", f"/api/user-permissions/{zeus['uuid']}/", bob)[0] == 404
    assert len(call(client, "get", f"/api/user-permissions/?user={bob.id}", staff)[1]) == 1
    assert len(call(client, "get", "/api/user-permissions/", staff)[1]) == 3
    me = call(client, "get", "/api/users/me/", alice)[1]
    assert sorted(p["role_name"] for p in me["permissions"]) == ["CUSTOMER.OWNER", "PROJECT.ADMIN"]


def test_an_expiring_role_ends_at_its_second_and_the_job_revokes_it(client, staff, alice, world):
    from chalicelib.workflows import maintenance

    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20)  # within the token's hour
    assert grant(client, staff, "projects", world["Apollo"], alice, ADMIN, ends.isoformat()) == (
        201,
        {"expiration_time": ends.isoformat().replace("+00:00", "Z")},
    )
    apollo = f"/api/projects/{world['Apollo']['uuid']}/"
    try:
        clock.set_source(lambda: ends - timedelta(seconds=1))
        assert call(client, "get", apollo, alice)[0] == 200
        clock.set_source(lambda: ends + timedelta(seconds=1))
        assert call(client, "get", apollo, alice)[0] == 404  # before any job ran
        assert call(client, "get", "/api/customers/", alice)[1] == []
        assert call(client, "get", f"/api/customers/{world['acme']['uuid']}/", staff)[1]["users_count"] == 1
        assert maintenance.revoke_expired_roles({}, None) == 1  # type: ignore[arg-type]
        assert maintenance.revoke_expired_roles({}, None) == 0  # type: ignore[arg-type]
    finally:
        clock.set_source(None)
    assert call(client, "get", f"/api/customers/{world['acme']['uuid']}/", staff)[1]["users_count"] == 0
    log = feed("customer", world["acme"]["uuid"])
    assert [e.event_type for e in log if e.event_type.startswith("role_")] == [
        "role_granted",
        "role_revoked",
    ]


def test_deleting_a_project_or_a_user_ends_their_roles(client, staff, alice, world):
    bob = make_account("bob")
    assert grant(client, staff, "projects", world["Apollo"], alice, ADMIN)[0] == 201
    assert grant(client, staff, "projects", world["Gemini"], bob, ADMIN)[0] == 201
    acme = f"/api/customers/{world['acme']['uuid']}/"
    assert call(client, "get", acme, staff)[1]["users_count"] == 2
    assert call(client, "delete", f"/api/projects/{world['Apollo']['uuid']}/", staff)[0] == 204
    assert call(client, "get", "/api/user-permissions/", alice)[1] == []
    assert call(client, "delete", f"/api/users/{bob.id}/", staff)[0] == 204
    assert call(client, "get", acme, staff)[1]["users_count"] == 0


def test_impersonating_staff_act_with_the_users_roles_only(client, staff, alice, world):
    assert grant(client, staff, "customers", world["acme"], alice, OWNER)[0] == 201
    as_alice = {**staff.headers, "X-Impersonated-User-Uuid": alice.id}
    response = client.get("/api/customers/", headers=as_alice)
    assert [c["name"] for c in json.loads(response.body)] == ["Acme"]
    assert response.headers["X-impersonator-uuid"] == staff.id
    globex = f"/api/customers/{world['globex']['uuid']}/"
    assert client.get(globex, headers=as_alice).status_code == 404
    assert client.delete(f"/api/customers/{world['acme']['uuid']}/", headers=as_alice).status_code == 403


def test_a_custom_role_grants_exactly_its_permissions(client, staff, alice, world):
    body = {"name": "PROJECT.EDITOR", "content_type": "project", "permissions": ["PROJECT.UPDATE"]}
    status, role = call(client, "post", "/api/roles/", staff, body)
    assert status == 201
    assert grant(client, staff, "projects", world["Apollo"], alice, role["uuid"])[0] == 201
    apollo = f"/api/projects/{world['Apollo']['uuid']}/"
    assert call(client, "patch", apollo, alice, {"description": "edited"})[0] == 200
    assert call(client, "delete", apollo, alice)[0] == 403
    assert call(client, "post", f"/api/roles/{role['uuid']}/disable/", staff)[0] == 200
    assert call(client, "get", apollo, alice)[0] == 404  # a disabled role grants nothing, not even sight


def test_a_project_only_member_does_not_see_the_customers_people(client, staff, alice, support, world):
    """Issue 13 finding 6: a customer's people (emails, roles, projects) are for who sees the whole
    customer; a project-only member is refused (Waldur's 403 on `customers/<uuid>/users/`)."""
    acme = world["acme"]
    bob = make_account("bob", email="bob@example.org")  # in Gemini only
    member = make_account("member", email="member@example.org")
    admin = make_account("admin", email="admin@example.org")
    helper = make_account("helper", email="helper@example.org")
    assert grant(client, staff, "customers", acme, alice, OWNER)[0] == 201
    assert grant(client, staff, "customers", acme, helper, "CUSTOMER.SUPPORT")[0] == 201
    assert grant(client, staff, "projects", world["Gemini"], bob, MANAGER)[0] == 201
    assert grant(client, staff, "projects", world["Apollo"], member, "PROJECT.MEMBER")[0] == 201
    assert grant(client, staff, "projects", world["Apollo"], admin, ADMIN)[0] == 201

    people = f"/api/customers/{acme['uuid']}/users/"
    team = f"/api/customers/{acme['uuid']}/list_users/"
    for project_only in (member, admin):
        assert call(client, "get", f"/api/customers/{acme['uuid']}/", project_only)[0] == 200  # sees it
        for path in (people, team, f"{team}?role=CUSTOMER.OWNER", f"{people}?email=alice"):
            response = client.get(path, headers=project_only.headers)
            assert response.status_code == 403, path
            assert json.loads(response.body) == {"detail": DENIED}
            assert b"@example.org" not in response.body and b"Gemini" not in response.body
        # Their own project's team stays theirs to read.
        apollo, gemini = (f"/api/projects/{world[p]['uuid']}/list_users/" for p in ("Apollo", "Gemini"))
        status, own = call(client, "get", apollo, project_only)
        assert status == 200 and {r["user_username"] for r in own} == {"member", "admin"}
        assert call(client, "get", gemini, project_only)[0] == 404

    everybody = {"alice", "helper", "bob", "member", "admin"}
    for sees_all in (alice, helper, staff, support):
        status, rows = call(client, "get", people, sees_all)
        assert status == 200 and {p["username"] for p in rows} == everybody
        status, rows = call(client, "get", team, sees_all)
        assert status == 200 and {r["user_username"] for r in rows} == {"alice", "helper"}
    stranger = make_account("stranger")
    assert call(client, "get", people, stranger)[0] == 404 and call(client, "get", team, stranger)[0] == 404
