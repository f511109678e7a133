"""Team membership through the real Waldur clients over HTTP: python-waldur-client's
`*_project_permission` and `*_customer_permission` calls (role by uuid, found with `get_roles`, as
Waldur's Ansible modules do), and waldur-api-client's strict parsers on `customers/<uuid>/list_users/`
and `user-permissions/`."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from uuid import UUID

import pytest
from waldur_api_client.api.customers import (
    customers_add_user,
    customers_list_users_list,
    customers_users_list,
)
from waldur_api_client.api.projects import projects_list_users_list
from waldur_api_client.api.user_permissions import user_permissions_list, user_permissions_retrieve
from waldur_api_client.models.customer_user import CustomerUser
from waldur_api_client.models.permission import Permission
from waldur_api_client.models.user_role_create_request import UserRoleCreateRequest
from waldur_api_client.models.user_role_details import UserRoleDetails
from waldur_api_client.models.user_role_expiration_time import UserRoleExpirationTime
from waldur_client import WaldurClient, WaldurClientException

from chalicelib.domain.roles import SYSTEM_ROLES
from tests.conftest import make_account

pytestmark = pytest.mark.compat


def _role_uuid(waldur: WaldurClient, name: str) -> str:
    (role,) = waldur.get_roles(params={"name": name})
    assert role["name"] == name
    return str(role["uuid"])


def _later(days: int) -> str:
    moment = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=days)
    return moment.isoformat()


def _same_instant(wire: str | None, sent: str) -> bool:
    return wire is not None and datetime.datetime.fromisoformat(wire) == datetime.datetime.fromisoformat(sent)


def test_project_permissions_lifecycle(waldur):
    customer = waldur.create_customer(name="Acme")
    project = waldur.create_project(customer["uuid"], "Apollo")
    alice = make_account("alice", full_name="Alice Example", email="alice@example.org")
    bob = make_account("bob")
    admin_role = _role_uuid(waldur, "PROJECT.ADMIN")
    member_role = _role_uuid(waldur, "PROJECT.MEMBER")
    assert admin_role == SYSTEM_ROLES["PROJECT.ADMIN"].id

    assert waldur.create_project_permission(project["uuid"], alice.id, admin_role) == {
        "expiration_time": None
    }
    ends = _later(10)
    created = waldur.create_project_permission(project["uuid"], bob.id, member_role, expiration_time=ends)
    assert _same_instant(created["expiration_time"], ends)

    team = waldur.get_project_permissions(project["uuid"])
    assert sorted((r["user_username"], r["role_name"]) for r in team) == [
        ("alice", "PROJECT.ADMIN"),
        ("bob", "PROJECT.MEMBER"),
    ]
    (row,) = waldur.get_project_permissions(project["uuid"], user_uuid=alice.id)
    assert row["user_uuid"] == alice.id and row["role_uuid"] == admin_role
    assert row["user_full_name"] == "Alice Example" and row["user_email"] == "alice@example.org"
    (row,) = waldur.get_project_permissions(project["uuid"], role_uuid=member_role)
    assert row["user_username"] == "bob"
    assert waldur.get_project_permissions(project["uuid"], user_uuid=alice.id, role_uuid=member_role) == []

    later = _later(20)
    updated = waldur.update_project_permission(project["uuid"], alice.id, admin_role, later)
    assert _same_instant(updated["expiration_time"], later)
    (row,) = waldur.get_project_permissions(project["uuid"], user_uuid=alice.id)
    assert _same_instant(row["expiration_time"], later)
    assert waldur.update_project_permission(project["uuid"], alice.id, admin_role, None) == {
        "expiration_time": None
    }

    assert waldur.remove_project_permission(project["uuid"], bob.id, member_role) == ""  # 200, no body
    assert [r["user_username"] for r in waldur.get_project_permissions(project["uuid"])] == ["alice"]


def test_customer_permissions_lifecycle(waldur):
    customer = waldur.create_customer(name="Acme")
    alice = make_account("alice")
    owner_role = _role_uuid(waldur, "CUSTOMER.OWNER")
    support_role = _role_uuid(waldur, "CUSTOMER.SUPPORT")

    assert waldur.create_customer_permission(customer["uuid"], alice.id, owner_role) == {
        "expiration_time": None
    }
    ends = _later(5)
    created = waldur.create_customer_permission(customer["uuid"], alice.id, support_role, ends)
    assert _same_instant(created["expiration_time"], ends)
    team = waldur.get_customer_permissions(customer["uuid"], user_uuid=alice.id)
    assert sorted(r["role_name"] for r in team) == ["CUSTOMER.OWNER", "CUSTOMER.SUPPORT"]
    (owner,) = waldur.get_customer_permissions(customer["uuid"], role_uuid=owner_role)
    assert owner["user_uuid"] == alice.id and owner["expiration_time"] is None
    assert waldur.get_customer(customer["uuid"])["users_count"] == 1  # one person, two roles

    later = _later(30)
    updated = waldur.update_customer_permission(customer["uuid"], alice.id, owner_role, later)
    assert _same_instant(updated["expiration_time"], later)

    assert waldur.remove_customer_permission(customer["uuid"], alice.id, support_role) == ""
    assert waldur.remove_customer_permission(customer["uuid"], alice.id, owner_role) == ""
    assert waldur.get_customer_permissions(customer["uuid"]) == []
    assert waldur.get_customer(customer["uuid"])["users_count"] == 0


def test_waldurs_400_messages_reach_the_client(waldur):
    customer = waldur.create_customer(name="Acme")
    project = waldur.create_project(customer["uuid"], "Apollo")
    alice = make_account("alice")
    admin_role = _role_uuid(waldur, "PROJECT.ADMIN")
    owner_role = _role_uuid(waldur, "CUSTOMER.OWNER")
    waldur.create_project_permission(project["uuid"], alice.id, admin_role)
    with pytest.raises(WaldurClientException, match=r"User has already the same role in this scope."):
        waldur.create_project_permission(project["uuid"], alice.id, admin_role)
    with pytest.raises(WaldurClientException, match=r"Role is not valid for this scope."):
        waldur.create_customer_permission(customer["uuid"], alice.id, admin_role)
    with pytest.raises(WaldurClientException, match=r"Expiration time should be greater than current time."):
        waldur.update_project_permission(project["uuid"], alice.id, admin_role, _later(-1))
    with pytest.raises(WaldurClientException, match=r"User does not have this role in this scope."):
        waldur.remove_customer_permission(customer["uuid"], alice.id, owner_role)


def test_an_owner_runs_their_team_with_their_own_token(waldur, server):
    acme = waldur.create_customer(name="Acme")
    apollo = waldur.create_project(acme["uuid"], "Apollo")
    globex = waldur.create_customer(name="Globex")
    zeus = waldur.create_project(globex["uuid"], "Zeus")
    owner, bob = make_account("owner"), make_account("bob")
    waldur.create_customer_permission(acme["uuid"], owner.id, _role_uuid(waldur, "CUSTOMER.OWNER"))

    as_owner = WaldurClient(f"{server.url}/api/", owner.token)
    admin_role = _role_uuid(as_owner, "PROJECT.ADMIN")  # every signed-in user reads roles
    assert as_owner.create_project_permission(apollo["uuid"], bob.id, admin_role) == {"expiration_time": None}
    assert [r["user_username"] for r in as_owner.get_project_permissions(apollo["uuid"])] == ["bob"]
    # Another customer's project is not there for them (404), whatever they ask of it.
    for attempt in (
        lambda: as_owner.create_project_permission(zeus["uuid"], bob.id, admin_role),
        lambda: as_owner.get_project_permissions(zeus["uuid"]),
        lambda: as_owner.remove_project_permission(zeus["uuid"], bob.id, admin_role),
    ):
        with pytest.raises(WaldurClientException, match="404"):
            attempt()
    # Owners do not make owners.
    with pytest.raises(WaldurClientException, match="403"):
        as_owner.create_customer_permission(acme["uuid"], bob.id, _role_uuid(as_owner, "CUSTOMER.OWNER"))


# --- waldur-api-client: strict parsing ------------------------------------------------------------
def test_team_and_permissions_parse_strictly_in_the_generated_client(waldur, api, admin):
    customer = waldur.create_customer(name="Acme")
    project = waldur.create_project(customer["uuid"], "Apollo")
    alice = make_account("alice", full_name="Alice Example", email="alice@example.org")
    ends = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=3)
    body = UserRoleCreateRequest(
        role=SYSTEM_ROLES["CUSTOMER.OWNER"].id, user=UUID(alice.id), expiration_time=ends
    )
    created = customers_add_user.sync_detailed(uuid=UUID(customer["uuid"]), client=api, body=body)
    assert created.status_code == HTTPStatus.CREATED, created.content
    assert isinstance(created.parsed, UserRoleExpirationTime) and created.parsed.expiration_time == ends
    waldur.create_project_permission(project["uuid"], alice.id, SYSTEM_ROLES["PROJECT.ADMIN"].id)

    (member,) = customers_list_users_list.sync(uuid=UUID(customer["uuid"]), client=api)
    assert isinstance(member, UserRoleDetails)
    assert member.user_uuid == UUID(alice.id) and member.role_uuid == UUID(SYSTEM_ROLES["CUSTOMER.OWNER"].id)
    assert member.role_name == "CUSTOMER.OWNER" and member.user_username == "alice"
    assert isinstance(member.uuid, UUID) and isinstance(member.created, datetime.datetime)
    assert member.expiration_time == ends
    assert member.created_by_uuid == UUID(admin.id)
    (project_member,) = projects_list_users_list.sync(uuid=UUID(project["uuid"]), client=api)
    assert isinstance(project_member, UserRoleDetails) and project_member.expiration_time is None

    (person,) = customers_users_list.sync(customer_uuid=UUID(customer["uuid"]), client=api)
    assert isinstance(person, CustomerUser)
    assert person.role_name == "CUSTOMER.OWNER" and person.expiration_time == ends
    assert [(p.name, p.role_name) for p in person.projects] == [("Apollo", "PROJECT.ADMIN")]

    permissions = user_permissions_list.sync(client=api, user=UUID(alice.id))
    assert all(isinstance(p, Permission) for p in permissions)
    by_type = {p.scope_type: p for p in permissions}
    assert set(by_type) == {"customer", "project"}
    assert by_type["customer"].scope_uuid == UUID(customer["uuid"])
    assert by_type["customer"].customer_uuid == UUID(customer["uuid"])
    assert by_type["customer"].expiration_time == ends and by_type["customer"].is_active is True
    assert by_type["project"].project_uuid == UUID(project["uuid"])
    assert by_type["project"].scope_name == "Apollo" and by_type["project"].customer_name == "Acme"
    assert by_type["project"].expiration_time is None
    one = user_permissions_retrieve.sync(uuid=by_type["project"].uuid, client=api)
    assert isinstance(one, Permission) and one.role_name == "PROJECT.ADMIN"
