"""`/api/users/` lookups as Waldur's clients make them (Waldur's user filters, and `name_exact`,
which python-waldur-client's `get_user(<username>)` sends), and Waldur's staff-only
`users/<uuid>/change_password/`."""

from __future__ import annotations

import pytest

from chalicelib.domain.ids import new_id
from tests.conftest import make_account
from tests.helpers import call, create_customer, create_project

pytestmark = pytest.mark.fakes


@pytest.fixture
def bob(aws):
    return make_account("bob", full_name="Bob Builder", email="bob@builders.example")


def _set(account, **fields):
    from dataclasses import replace

    from chalicelib.services.ports import unit_of_work, users

    before = users.load(account.id)
    uow = unit_of_work()
    users.save_changes(uow, before, replace(before, **fields))
    uow.commit()


def usernames(client, account, query):
    reply = call(client, "GET", f"/api/users/?{query}", account)
    assert reply.status == 200, reply.json
    return [u["username"] for u in reply.json]


def test_name_exact_finds_one_user_by_username_as_get_user_asks(client, staff, alice, bob):
    assert usernames(client, staff, "name_exact=bob") == ["bob"]
    assert usernames(client, staff, "name_exact=bo") == []
    assert usernames(client, alice, "name_exact=bob") == []  # a user without roles sees only themself
    assert usernames(client, alice, "name_exact=alice") == ["alice"]


def test_username_is_exact_as_in_waldur(client, staff, alice, bob):
    assert usernames(client, staff, "username=ali") == []
    assert usernames(client, staff, "username=alice") == ["alice"]
    assert usernames(client, staff, "username_list=alice,bob,nobody") == ["alice", "bob"]


def test_waldurs_text_filters(client, staff, alice, bob):
    _set(bob, native_name="Robert", organization="Builders Ltd", job_title="Site lead", civil_number="X-42")
    _set(alice, phone_number="+372 555", registration_method="saml2", description="Wonderland")
    assert usernames(client, staff, "native_name=rob") == ["bob"]
    assert usernames(client, staff, "organization=builders") == ["bob"]
    assert usernames(client, staff, "job_title=LEAD") == ["bob"]
    assert usernames(client, staff, "user_keyword=builder") == ["bob"]
    assert usernames(client, staff, "query=x-42") == ["bob"]  # Waldur's query also reads the civil number
    assert usernames(client, staff, "civil_number=X-42") == ["bob"]
    assert usernames(client, staff, "civil_number=X-4") == []  # exact
    assert usernames(client, staff, "phone_number=%2B372 555") == ["alice"]
    assert usernames(client, staff, "registration_method=saml2") == ["alice"]
    assert usernames(client, staff, "description=Wonderland") == ["alice"]
    assert usernames(client, staff, "o=-job_title&is_staff=false") == ["bob", "alice"]


def test_customer_and_project_members(client, staff, alice, bob):
    customer = create_customer(client, staff)
    project = create_project(client, staff, customer)
    grant = {"user": bob.id, "role": "PROJECT.MEMBER"}
    assert call(client, "POST", f"/api/projects/{project['uuid']}/add_user/", staff, grant).status == 201
    grant = {"user": alice.id, "role": "CUSTOMER.OWNER"}
    assert call(client, "POST", f"/api/customers/{customer['uuid']}/add_user/", staff, grant).status == 201
    assert usernames(client, staff, f"customer_uuid={customer['uuid']}") == ["alice", "bob"]
    assert usernames(client, staff, f"project_uuid={project['uuid']}") == ["bob"]
    assert usernames(client, staff, f"customer_uuid={new_id()}") == []
    assert usernames(client, staff, "project_uuid=not-a-uuid") == []  # as Waldur: nobody, not a 400


def test_staff_change_a_password_as_waldur_does_and_the_users_sessions_end(client, fakes, staff, alice):
    reply = call(
        client, "POST", f"/api/users/{alice.id}/change_password/", staff, {"new_password": "brand-new-pass"}
    )
    assert (reply.status, reply.json) == (200, {"status": "password set"})
    assert call(client, "GET", "/api/users/me/", alice).status == 401  # her old session is over
    login = {"username": "alice", "password": "brand-new-pass"}
    assert call(client, "POST", "/api-auth/password/", body=login).status == 200
    (event,) = [e for e in fakes.events if e.event_type == "user_password_updated_by_staff"]
    assert event.message == "Password has been changed for user alice by staff (Staff Person)."
    assert event.context["affected_user_uuid"] == alice.id


def test_only_staff_change_passwords_there_and_bad_ones_are_refused(client, staff, alice, bob):
    body = {"new_password": "brand-new-pass"}
    for target in (alice.id, bob.id, new_id()):
        refused = call(client, "POST", f"/api/users/{target}/change_password/", alice, body)
        assert (refused.status, refused.json) == (
            403,
            {"detail": "You do not have permission to perform this action."},
        )
    as_alice = {"X-Impersonated-User-Uuid": alice.id}
    impersonated = call(client, "POST", f"/api/users/{bob.id}/change_password/", staff, body, as_alice)
    assert impersonated.status == 403
    assert call(client, "POST", f"/api/users/{new_id()}/change_password/", staff, body).status == 404
    short = call(client, "POST", f"/api/users/{alice.id}/change_password/", staff, {"new_password": "short"})
    assert (short.status, short.json) == (
        400,
        {"new_password": ["This password is too short. It must contain at least 8 characters."]},
    )
    missing = call(client, "POST", f"/api/users/{alice.id}/change_password/", staff, {})
    assert (missing.status, missing.json) == (400, {"new_password": ["This field is required."]})
    assert call(client, "GET", "/api/users/me/", alice).status == 200  # nothing changed for her


def test_the_password_route_cirrus_served_before_still_works(client, alice):
    reply = call(client, "POST", f"/api/users/{alice.id}/password/", alice, {"password": "brand-new-pass"})
    assert reply.status == 200
