"""/api/roles/: everybody signed in reads the roles; staff create, change, enable, disable and delete
them; system roles keep their names and cannot be deleted; a role in use cannot be deleted."""

from __future__ import annotations

import uuid

import pytest

from chalicelib.domain.roles import SYSTEM_ROLES, ScopeType, system_role_id
from tests.helpers import call, create_customer

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes

SYSTEM_NAMES = [
    "CUSTOMER.MANAGER", "CUSTOMER.OWNER", "CUSTOMER.SUPPORT", "OFFERING.MANAGER",
    "PROJECT.ADMIN", "PROJECT.MANAGER", "PROJECT.MEMBER",
]  # fmt: skip
OWNER = SYSTEM_ROLES["CUSTOMER.OWNER"]
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
REVIEWER = {
    "name": "PROJECT.REVIEWER",
    "description": "Reads the project, approves its orders.",
    "content_type": "project",
    "permissions": ["ORDER.APPROVE", "ORDER.REJECT"],
}


def create_role(client, staff, **fields):
    reply = call(client, "POST", "/api/roles/", staff, {**REVIEWER, **fields})
    assert reply.status == 201, reply.json
    return reply.json


def grant(user_id: str, customer_id: str, role_id: str) -> None:
    """A customer-scope grant written straight through the grants port (the teams API has its own
    tests)."""
    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.rbac import Grant
    from chalicelib.services.ports import grants, unit_of_work

    held = grants.member_grants(customer_id, user_id)
    uow = unit_of_work()
    grants.add(
        uow,
        Grant(new_id(), user_id, role_id, ScopeType.CUSTOMER, customer_id, customer_id, utcnow()),
        held,
    )
    uow.commit()


def global_events() -> list:
    from tests.helpers import all_events

    return [e for e in all_events() if e.customer_id is None and e.event_type.startswith("role_")]


# --- reading -------------------------------------------------------------------------------------
def test_everybody_signed_in_lists_the_seven_system_roles_with_stable_ids(client, alice):
    reply = call(client, "GET", "/api/roles/", alice)
    assert reply.status == 200
    assert reply.headers["X-Result-Count"] == "7"
    roles = reply.json
    assert [r["name"] for r in roles] == SYSTEM_NAMES
    for role in roles:
        system = SYSTEM_ROLES[role["name"]]
        assert role["uuid"] == system_role_id(role["name"]) == system.id
        assert role["url"].endswith(f"/api/roles/{role['uuid']}/")
        assert role["permissions"] == sorted(system.permissions)
        assert role["content_type"] == system.content_type.value
        assert role["is_system_role"] is True and role["is_active"] is True
        assert "users_count" not in role  # staff and support only, as in Waldur
    assert "PROJECT.CREATE" in next(r for r in roles if r["name"] == "CUSTOMER.OWNER")["permissions"]


def test_anyone_reads_roles_signed_out_but_only_staff_change_them(client):
    """Waldur's IsAdminOrReadOnly: HomePort loads the roles before its login page, signed out; the
    count of holders stays staff-only and no write is open."""
    listed = call(client, "GET", "/api/roles/")
    assert listed.status == 200 and "CUSTOMER.OWNER" in {r["name"] for r in listed.json}
    assert all("users_count" not in r for r in listed.json)
    one = call(client, "GET", f"/api/roles/{OWNER.id}/")
    assert one.status == 200 and one.json["name"] == "CUSTOMER.OWNER"
    assert call(client, "POST", "/api/roles/", body={"name": "X", "content_type": "customer"}).status == 401
    assert call(client, "POST", f"/api/roles/{OWNER.id}/disable/").status == 401


def test_retrieve_by_hex_or_dashed_uuid_and_unknown_is_404(client, alice):
    for ref in (OWNER.id, str(uuid.UUID(OWNER.id))):
        reply = call(client, "GET", f"/api/roles/{ref}/", alice)
        assert reply.status == 200 and reply.json["name"] == "CUSTOMER.OWNER"
    missing = call(client, "GET", f"/api/roles/{uuid.uuid4().hex}/", alice)
    assert missing.status == 404 and missing.json == {"detail": "No Role matches the given query."}
    assert call(client, "GET", "/api/roles/not-a-uuid/", alice).status == 404


def test_filters_ordering_paging_and_sparse_fields(client, staff):
    create_role(client, staff, is_active=False)

    def names(query: str) -> list[str]:
        reply = call(client, "GET", f"/api/roles/?{query}", staff)
        assert reply.status == 200, reply.json
        return [r["name"] for r in reply.json]

    projects = ["PROJECT.ADMIN", "PROJECT.MANAGER", "PROJECT.MEMBER", "PROJECT.REVIEWER"]
    assert names("name=project.") == projects
    assert names("content_type=offering") == ["OFFERING.MANAGER"]
    assert names("is_system_role=false") == names("is_active=false") == ["PROJECT.REVIEWER"]
    assert names("description=approves") == names("query=REVIEWER") == ["PROJECT.REVIEWER"]
    assert names("o=-name&page_size=2") == ["PROJECT.REVIEWER", "PROJECT.MEMBER"]
    paged = call(client, "GET", "/api/roles/?page_size=3&page=2", staff)
    assert paged.headers["X-Result-Count"] == "8" and 'rel="prev"' in paged.headers["Link"]
    sparse = call(client, "GET", "/api/roles/?field=name&field=users_count&content_type=offering", staff)
    assert sparse.json == [{"name": "OFFERING.MANAGER", "users_count": 0}]
    assert call(client, "GET", "/api/roles/?o=created", staff).status == 400
    unknown = call(client, "GET", "/api/roles/?colour=red", staff)  # ignored, as Waldur ignores it
    assert unknown.status == 200 and unknown.json == call(client, "GET", "/api/roles/", staff).json


def test_users_count_follows_grants_and_only_staff_and_support_see_it(client, staff, support, alice, settle):
    customer = create_customer(client, staff)
    grant(alice.id, customer["uuid"], OWNER.id)
    settle()  # a system role's holders are counted from the stream
    for account in (staff, support):
        assert call(client, "GET", f"/api/roles/{OWNER.id}/", account).json["users_count"] == 1
    listed = call(client, "GET", "/api/roles/?o=-users_count", staff).json
    assert (listed[0]["name"], listed[0]["users_count"]) == ("CUSTOMER.OWNER", 1)
    assert "users_count" not in call(client, "GET", f"/api/roles/{OWNER.id}/", alice).json


# --- writing -------------------------------------------------------------------------------------
def test_staff_create_a_custom_role_and_it_is_audited(client, staff):
    role = create_role(client, staff)
    assert len(role["uuid"]) == 32 and role["url"].endswith(f"/api/roles/{role['uuid']}/")
    assert {k: role[k] for k in REVIEWER} == REVIEWER
    assert (role["is_system_role"], role["is_active"], role["users_count"]) == (False, True, 0)
    assert call(client, "GET", f"/api/roles/{role['uuid']}/", staff).json == role
    (event,) = global_events()
    assert event.event_type == "role_definition_created"
    assert event.message == "Role PROJECT.REVIEWER has been created."
    assert event.context["role_uuid"] == role["uuid"]
    assert event.context["role_name"] == "PROJECT.REVIEWER"
    assert event.context["user_uuid"] == staff.id


def test_permissions_may_come_as_an_object_whose_keys_count(client, staff):
    role = create_role(client, staff, permissions={"ORDER.APPROVE": True, "PROJECT.UPDATE": True})
    assert role["permissions"] == ["ORDER.APPROVE", "PROJECT.UPDATE"]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"permissions": ["PROJECT.FLY"]}, {"permissions": ["Unknown permissions: PROJECT.FLY."]}),
        ({"content_type": "resource"}, {"content_type": ["Invalid content type."]}),
        ({"name": "CUSTOMER.OWNER"}, {"name": ["Role with this name already exists."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"permissions": "ORDER.APPROVE"}, {"permissions": ['Expected a list of items but got type "str".']}),
        # Waldur's permissions are a JSONField: a bad item is the field's error (no "permissions.1")
        ({"permissions": ["ORDER.APPROVE", 5]}, {"permissions": ["Not a valid string."]}),
    ],
)  # fmt: skip
def test_create_refuses_bad_input(client, staff, fields, errors):
    reply = call(client, "POST", "/api/roles/", staff, {**REVIEWER, **fields})
    assert reply.status == 400 and reply.json == errors
    assert call(client, "GET", "/api/roles/", staff).headers["X-Result-Count"] == "7"


def test_create_requires_name_content_type_and_permissions(client, staff):
    reply = call(client, "POST", "/api/roles/", staff, {})
    assert reply.status == 400
    assert set(reply.json) == {"name", "content_type", "permissions"}


def test_custom_role_names_are_unique(client, staff):
    create_role(client, staff)
    again = call(client, "POST", "/api/roles/", staff, REVIEWER)
    assert again.status == 400 and again.json == {"name": ["Role with this name already exists."]}


def test_staff_update_a_custom_role_and_a_renamed_role_frees_its_old_name(client, staff):
    role = create_role(client, staff)
    path = f"/api/roles/{role['uuid']}/"
    put = {"name": "PROJECT.APPROVER", "content_type": "customer", "permissions": ["ORDER.APPROVE"]}
    reply = call(client, "PUT", path, staff, put)
    assert reply.status == 200, reply.json
    assert (reply.json["name"], reply.json["content_type"], reply.json["permissions"]) == (
        "PROJECT.APPROVER", "customer", ["ORDER.APPROVE"],
    )  # fmt: skip
    patched = call(client, "PATCH", path, staff, {"description": "Approves."})
    assert patched.json["description"] == "Approves." and patched.json["name"] == "PROJECT.APPROVER"
    assert call(client, "PATCH", path, staff, {"name": "PROJECT.ADMIN"}).json == {
        "name": ["Role with this name already exists."]
    }
    null = call(client, "PATCH", path, staff, {"name": None})
    assert null.json == {"name": ["This field may not be null."]}
    create_role(client, staff)  # PROJECT.REVIEWER is free again
    assert [e.event_type for e in global_events()] == [
        "role_definition_created", "role_definition_updated", "role_definition_updated",
        "role_definition_created",
    ]  # fmt: skip


def test_an_unchanged_update_writes_nothing(client, staff):
    role = create_role(client, staff)
    reply = call(client, "PUT", f"/api/roles/{role['uuid']}/", staff, REVIEWER)
    assert reply.status == 200 and reply.json == role
    assert len(global_events()) == 1


def test_system_roles_keep_their_name_and_scope_but_their_permissions_may_change(client, staff, alice):
    path = f"/api/roles/{OWNER.id}/"
    renamed = call(client, "PATCH", path, staff, {"name": "ORG.OWNER"})
    assert renamed.status == 400
    assert renamed.json == {"non_field_errors": ["Changing name for system role is not possible."]}
    rescoped = call(client, "PATCH", path, staff, {"content_type": "project"})
    assert rescoped.status == 400
    assert rescoped.json == {"content_type": ["Changing content type for system role is not possible."]}

    permissions = sorted(OWNER.permissions - {"PROJECT.DELETE"})
    put = {"name": "CUSTOMER.OWNER", "content_type": "customer", "permissions": permissions}
    reply = call(client, "PUT", path, staff, {**put, "description": "Owner, no project deletion."})
    assert reply.status == 200, reply.json
    again = call(client, "GET", path, alice).json
    assert again["permissions"] == permissions and again["description"] == "Owner, no project deletion."
    assert again["is_system_role"] is True and again["uuid"] == OWNER.id
    assert call(client, "GET", "/api/roles/", alice).headers["X-Result-Count"] == "7"


def test_a_held_role_keeps_its_content_type(client, staff, alice):
    role = create_role(client, staff, content_type="customer")
    grant(alice.id, create_customer(client, staff)["uuid"], role["uuid"])
    reply = call(client, "PATCH", f"/api/roles/{role['uuid']}/", staff, {"content_type": "project"})
    assert reply.status == 400
    assert reply.json == {"content_type": ["Changing content type of a role in use is not possible."]}


def test_enable_and_disable(client, staff):
    role = create_role(client, staff)
    path = f"/api/roles/{role['uuid']}/"
    reply = call(client, "POST", f"{path}disable/", staff)
    assert reply.status == 200 and reply.json == {"detail": "The role PROJECT.REVIEWER has been disabled"}
    assert call(client, "GET", path, staff).json["is_active"] is False
    assert call(client, "POST", f"{path}disable/", staff).status == 200  # again: nothing to do
    reply = call(client, "POST", f"{path}enable/", staff)
    assert reply.status == 200 and reply.json == {"detail": "The role PROJECT.REVIEWER has been enabled"}
    assert call(client, "PATCH", path, staff, {"is_active": False}).json["is_active"] is False
    assert [e.event_type for e in global_events()] == [
        "role_definition_created", "role_disabled", "role_enabled", "role_disabled",
    ]  # fmt: skip
    assert call(client, "POST", f"/api/roles/{uuid.uuid4().hex}/enable/", staff).status == 404


def test_a_disabled_system_role_grants_nothing_until_enabled(client, staff, alice):
    customer = create_customer(client, staff)
    grant(alice.id, customer["uuid"], OWNER.id)
    path = f"/api/customers/{customer['uuid']}/"
    assert call(client, "PATCH", path, alice, {"name": "Acme 2"}).status == 200

    assert call(client, "POST", f"/api/roles/{OWNER.id}/disable/", staff).status == 200
    assert call(client, "GET", path, alice).status == 404
    assert call(client, "GET", "/api/customers/", alice).json == []

    assert call(client, "POST", f"/api/roles/{OWNER.id}/enable/", staff).status == 200
    assert call(client, "PATCH", path, alice, {"name": "Acme 3"}).status == 200


def test_staff_delete_a_custom_role_nobody_holds(client, staff):
    role = create_role(client, staff)
    reply = call(client, "DELETE", f"/api/roles/{role['uuid']}/", staff)
    assert reply.status == 204
    assert call(client, "GET", f"/api/roles/{role['uuid']}/", staff).status == 404
    assert global_events()[-1].event_type == "role_definition_deleted"
    create_role(client, staff)  # the name is free again


def test_system_roles_and_held_roles_cannot_be_deleted(client, staff, alice):
    system = call(client, "DELETE", f"/api/roles/{OWNER.id}/", staff)
    assert system.status == 400 and system.json == ["Destroying of system role is not available."]
    role = create_role(client, staff, content_type="customer")
    grant(alice.id, create_customer(client, staff)["uuid"], role["uuid"])
    held = call(client, "DELETE", f"/api/roles/{role['uuid']}/", staff)
    assert held.status == 400 and held.json == ["Role is still used."]
    assert call(client, "GET", f"/api/roles/{role['uuid']}/", staff).json["users_count"] == 1


def test_a_grant_landing_after_the_check_still_stops_the_deletion(client, staff, alice, monkeypatch):
    from chalicelib.domain.context import EventContext, Principal
    from chalicelib.domain.errors import ValidationError
    from chalicelib.services import roles as service
    from chalicelib.store import roles as role_store

    role = create_role(client, staff, content_type="customer")
    grant(alice.id, create_customer(client, staff)["uuid"], role["uuid"])
    monkeypatch.setattr(role_store, "with_users_counts", lambda roles: roles)  # the check reads 0
    ctx = EventContext(Principal(staff.id, "staff", is_staff=True))
    with pytest.raises(ValidationError) as refused:
        service.delete_role(ctx, role["uuid"])
    assert refused.value.errors == ["Role is still used."]
    assert call(client, "GET", f"/api/roles/{role['uuid']}/", staff).status == 200


@pytest.mark.parametrize("who", ["alice", "support"])
def test_only_staff_write(client, staff, who, request):
    account = request.getfixturevalue(who)
    role = create_role(client, staff)
    path = f"/api/roles/{role['uuid']}/"
    attempts = [
        ("POST", "/api/roles/", {**REVIEWER, "name": "X"}),
        ("PUT", path, REVIEWER),
        ("PATCH", path, {"description": "mine"}),
        ("DELETE", path, None),
        ("POST", f"{path}enable/", None),
        ("POST", f"{path}disable/", None),
        ("POST", f"/api/roles/{OWNER.id}/disable/", None),
    ]
    for method, url, body in attempts:
        reply = call(client, method, url, account, body)
        assert (reply.status, reply.json) == (403, FORBIDDEN), (method, url)
    assert call(client, "GET", path, staff).json == role
