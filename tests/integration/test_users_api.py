"""/api/users/: me, visibility without roles, staff-only fields, password changes."""

from __future__ import annotations

import pytest

from tests.helpers import call

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes


def test_me_describes_the_caller(client, alice):
    reply = call(client, "GET", "/api/users/me/", alice)
    assert reply.status == 200
    body = reply.json
    assert body["uuid"] == alice.id and body["username"] == "alice"
    assert body["email"] == "alice@example.org" and body["full_name"] == "Alice Example"
    assert body["is_staff"] is False and body["permissions"] == []
    assert body["token_lifetime"] == 3600 and body["date_joined"].endswith("Z")


def test_staff_see_all_users_others_see_themselves(client, staff, alice):
    everyone = call(client, "GET", "/api/users/", staff)
    assert sorted(u["username"] for u in everyone.json) == ["alice", "staff"]
    assert everyone.headers["X-Result-Count"] == "2"
    own = call(client, "GET", "/api/users/", alice)
    assert [u["username"] for u in own.json] == ["alice"]
    assert call(client, "GET", f"/api/users/{staff.id}/", alice).status == 404


def test_username_filters(client, staff, alice):
    assert [u["username"] for u in call(client, "GET", "/api/users/?username_exact=alice", staff).json] == [
        "alice"
    ]
    assert [u["username"] for u in call(client, "GET", "/api/users/?query=example", staff).json] == ["alice"]


def test_an_exact_username_still_applies_the_other_filters(client, staff, alice):
    def listed(query: str) -> list[str]:
        return [u["username"] for u in call(client, "GET", f"/api/users/?{query}", staff).json]

    assert listed("username_exact=alice&is_staff=true") == []
    assert listed("username_exact=alice&full_name=nobody") == []
    assert listed("username_exact=alice&full_name=alice") == ["alice"]


def test_staff_create_users_with_unique_usernames(client, staff, alice):
    created = call(client, "POST", "/api/users/", staff, {"username": "bob", "email": "bob@example.org"})
    assert created.status == 201 and created.json["username"] == "bob"
    again = call(client, "POST", "/api/users/", staff, {"username": "bob"})
    assert again.status == 400 and again.json == {"username": ["A user with that username already exists."]}
    assert call(client, "POST", "/api/users/", alice, {"username": "eve"}).status == 403


def test_users_change_their_own_profile_but_not_their_privileges(client, alice):
    reply = call(client, "PATCH", f"/api/users/{alice.id}/", alice, {"full_name": "Alice Liddell"})
    assert reply.status == 200 and reply.json["full_name"] == "Alice Liddell"
    denied = call(client, "PATCH", f"/api/users/{alice.id}/", alice, {"is_staff": True})
    assert denied.status == 403
    assert call(client, "GET", "/api/users/me/", alice).json["is_staff"] is False


def test_password_change_takes_effect(client, alice):
    reply = call(client, "POST", f"/api/users/{alice.id}/password/", alice, {"password": "brand-new-pass"})
    assert reply.status == 200
    login = call(
        client, "POST", "/api-auth/password/", body={"username": "alice", "password": "brand-new-pass"}
    )
    assert login.status == 200
    short = call(client, "POST", f"/api/users/{alice.id}/password/", alice, {"password": "short"})
    assert short.status == 400


def _second_session(account):
    """Another sign-in of the same user (another device): its own token."""
    from chalicelib.domain.context import EventContext
    from chalicelib.services import auth
    from tests.conftest import Account

    token = auth.login(account.username, account.password, EventContext(ip_address="127.0.0.1"))
    return Account(account.id, account.username, account.password, token)


def test_changing_ones_own_password_ends_the_other_sessions_but_this_one(client, alice):
    # GIVEN alice signed in twice (say a stolen session and her own)
    other = _second_session(alice)
    # WHEN she changes her password with one of them
    reply = call(client, "POST", f"/api/users/{alice.id}/password/", alice, {"password": "brand-new-pass"})
    # THEN the token she used still works and the other is refused
    assert reply.status == 200
    assert call(client, "GET", "/api/users/me/", alice).status == 200
    assert call(client, "GET", "/api/users/me/", other).status == 401


def test_staff_setting_a_users_password_ends_all_their_sessions(client, staff, alice):
    other = _second_session(alice)
    reply = call(client, "POST", f"/api/users/{alice.id}/password/", staff, {"password": "brand-new-pass"})
    assert reply.status == 200
    assert call(client, "GET", "/api/users/me/", alice).status == 401
    assert call(client, "GET", "/api/users/me/", other).status == 401
    assert call(client, "GET", "/api/users/me/", staff).status == 200  # staff's own session stays


def test_impersonating_staff_setting_a_password_end_all_the_users_sessions(client, staff, alice):
    as_alice = {"X-Impersonated-User-Uuid": alice.id}
    reply = call(
        client, "POST", f"/api/users/{alice.id}/password/", staff, {"password": "brand-new-pass"}, as_alice
    )
    assert reply.status == 200
    assert call(client, "GET", "/api/users/me/", alice).status == 401
    assert call(client, "GET", "/api/users/me/", staff).status == 200


def test_a_refused_password_change_ends_no_session(client, alice):
    other = _second_session(alice)
    refused = call(client, "POST", f"/api/users/{alice.id}/password/", alice, {"password": "short"})
    assert refused.status == 400
    assert call(client, "GET", "/api/users/me/", other).status == 200


def test_password_is_not_changed_through_patch(client, alice):
    """Waldur's UserSerializer has no `password`: PATCH ignores one, as any unknown field, and the
    password stays (only the `password/` action changes it, with its checks and its event)."""
    reply = call(client, "PATCH", f"/api/users/{alice.id}/", alice, {"password": "sneaky-password"})
    assert reply.status == 200 and "password" not in reply.json
    assert (
        call(
            client, "POST", "/api-auth/password/", None, {"username": "alice", "password": "sneaky-password"}
        ).status
        == 401
    )
    assert (
        call(
            client, "POST", "/api-auth/password/", None, {"username": "alice", "password": alice.password}
        ).status
        == 200
    )


def test_staff_delete_users_but_not_themselves(client, staff, alice):
    assert call(client, "DELETE", f"/api/users/{staff.id}/", staff).status == 400
    assert call(client, "DELETE", f"/api/users/{alice.id}/", staff).status == 204
    assert call(client, "GET", f"/api/users/{alice.id}/", staff).status == 404
    assert call(client, "GET", "/api/users/me/", alice).status == 401
