"""Waldur token authentication: login, header forms, sliding expiry, lockout, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.tokens import hash_key
from chalicelib.store import tokens as token_store
from tests.conftest import make_account
from tests.helpers import all_events, call, feed

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes


def login(client, username, password):
    return call(client, "POST", "/api-auth/password/", body={"username": username, "password": password})


def test_login_returns_a_40_hex_token_that_authenticates(client, alice):
    reply = login(client, "alice", alice.password)
    assert reply.status == 200
    token = reply.json["token"]
    assert len(token) == 40 and int(token, 16) >= 0
    me = call(client, "GET", "/api/users/me/", headers={"Authorization": f"Token {token}"})
    assert me.status == 200 and me.json["username"] == "alice"


@pytest.mark.moto
def test_tokens_are_stored_only_as_hashes(client, alice):
    assert token_store.get(hash_key(alice.token)) is not None
    assert token_store.get(alice.token) is None


@pytest.mark.parametrize("scheme", ["Token", "token", "TOKEN"])
def test_token_scheme_is_case_insensitive(client, alice, scheme):
    reply = call(client, "GET", "/api/users/me/", headers={"Authorization": f"{scheme} {alice.token}"})
    assert reply.status == 200


def test_token_in_query_string_authenticates(client, alice):
    reply = call(client, "GET", f"/api/users/me/?x-auth-token={alice.token}")
    assert reply.status == 200 and reply.json["uuid"] == alice.id


def test_wrong_password_is_401_with_waldurs_message(client, alice):
    reply = login(client, "alice", "nope")
    assert reply.status == 401
    assert reply.json == {"detail": "Invalid username/password."}
    assert login(client, "nobody", "nope").json == {"detail": "Invalid username/password."}


def test_a_login_costs_the_same_hashing_whether_or_not_the_username_exists(client, alice, monkeypatch):
    # GIVEN a spy on the password stretching (the real PBKDF2 still runs)
    from chalicelib.config import get_settings
    from chalicelib.domain import users

    stretches: list[int] = []
    real = users.pbkdf2
    monkeypatch.setattr(users, "pbkdf2", lambda p, s, n: stretches.append(n) or real(p, s, n))
    # WHEN a wrong password is tried for alice, then for a name nobody has
    assert login(client, "alice", "not-her-password").status == 401
    known = list(stretches)
    stretches.clear()
    assert login(client, "nobody", "not-her-password").status == 401
    # THEN both cost one stretch of the configured strength
    assert known == stretches == [get_settings().password_iterations]


def test_missing_login_field_is_400(client):
    reply = call(client, "POST", "/api-auth/password/", body={"username": "alice"})
    assert reply.status == 400 and reply.json == {"password": ["This field is required."]}


def test_repeated_failures_lock_the_account_for_that_address(client, alice):
    for _ in range(5):
        assert login(client, "alice", "bad").status == 401
    locked = login(client, "alice", alice.password)
    assert locked.status == 403
    assert "locked" in locked.json["detail"]


def test_success_before_the_limit_resets_the_count(client, alice):
    for _ in range(4):
        login(client, "alice", "bad")
    assert login(client, "alice", alice.password).status == 200
    for _ in range(4):
        login(client, "alice", "bad")
    assert login(client, "alice", alice.password).status == 200


def test_invalid_and_missing_tokens_are_401(client):
    assert call(client, "GET", "/api/customers/").json == {
        "detail": "Authentication credentials were not provided."
    }
    bad = call(client, "GET", "/api/customers/", headers={"Authorization": "Token " + "0" * 40})
    assert bad.status == 401 and bad.json == {"detail": "Invalid token."}
    assert bad.headers.get("WWW-Authenticate") == "Token"


@pytest.mark.moto
def test_expired_token_is_refused_and_use_slides_expiry(client, aws, monkeypatch):
    account = make_account("brief", token_lifetime=3600)
    token = token_store.get(hash_key(account.token))
    assert token is not None and token.expires is not None
    # A use 10 minutes in: the expiry moves to 10 minutes + lifetime.
    from chalicelib.services import auth as auth_service

    later = token.created + timedelta(minutes=10)
    monkeypatch.setattr(auth_service, "utcnow", lambda: later)
    assert call(client, "GET", "/api/users/me/", account).status == 200
    assert token_store.get(hash_key(account.token)).expires == later + timedelta(seconds=3600)
    # Unused for longer than the lifetime: expired.
    monkeypatch.setattr(auth_service, "utcnow", lambda: later + timedelta(seconds=3601))
    reply = call(client, "GET", "/api/users/me/", account)
    assert reply.status == 401 and reply.json == {"detail": "Token has expired."}


def test_logout_revokes_the_token(client, alice):
    assert call(client, "POST", "/api-auth/logout/", alice).status == 204
    assert call(client, "GET", "/api/users/me/", alice).status == 401


def test_logout_while_impersonating_is_the_impersonators_logout(client, staff, alice):
    # GIVEN staff acting as alice
    as_alice = {"X-Impersonated-User-Uuid": alice.id}
    # WHEN they log out
    assert call(client, "POST", "/api-auth/logout/", staff, headers=as_alice).status == 204
    # THEN staff's own session ended, alice's did not
    assert call(client, "GET", "/api/users/me/", staff).status == 401
    assert call(client, "GET", "/api/users/me/", alice).status == 200
    # AND the log says staff logged out, in staff's feed, with Waldur's event type and message
    logged_out = [e for e in all_events() if e.event_type == "auth_logged_out"]
    assert [e.message for e in logged_out] == ["User staff has logged out."]
    assert logged_out[0].context["user_uuid"] == staff.id
    assert "impersonator_uuid" not in logged_out[0].context
    assert [e.event_type for e in feed("user", alice.id) if e.event_type == "auth_logged_out"] == []
    assert [e.event_type for e in feed("user", staff.id) if e.event_type == "auth_logged_out"] == [
        "auth_logged_out"
    ]


def test_deactivated_user_is_refused_at_once(client, staff, alice):
    reply = call(client, "PATCH", f"/api/users/{alice.id}/", staff, {"is_active": False})
    assert reply.status == 200 and reply.json["is_active"] is False
    assert call(client, "GET", "/api/users/me/", alice).status == 401
    assert login(client, "alice", alice.password).status == 401


def test_staff_promotion_reaches_live_tokens(client, staff, alice):
    assert call(client, "POST", "/api/customers/", alice, {"name": "X"}).status == 403
    call(client, "PATCH", f"/api/users/{alice.id}/", staff, {"is_staff": True})
    assert call(client, "POST", "/api/customers/", alice, {"name": "X"}).status == 201


def test_staff_can_impersonate_and_the_response_names_the_impersonator(client, staff, alice):
    reply = call(client, "GET", "/api/users/me/", staff, headers={"X-Impersonated-User-Uuid": alice.id})
    assert reply.status == 200 and reply.json["username"] == "alice"
    assert reply.headers["X-impersonator-uuid"] == staff.id


def test_non_staff_cannot_impersonate(client, alice, staff):
    reply = call(client, "GET", "/api/users/me/", alice, headers={"X-Impersonated-User-Uuid": staff.id})
    assert reply.status == 403


class _Killed(BaseException):
    """The process dying: not an Exception, so nothing on the way catches it."""


@pytest.fixture
def die_after_commit(monkeypatch):
    """The process dies right after the change commits, before any after-commit work runs."""

    def killed(user):
        raise _Killed()

    monkeypatch.setattr(token_store, "refresh_snapshots", killed)


@pytest.mark.moto
def test_a_deactivation_reaches_live_tokens_in_its_own_transaction(client, staff, alice, die_after_commit):
    with pytest.raises(_Killed):
        call(client, "PATCH", f"/api/users/{alice.id}/", staff, {"is_active": False})
    assert call(client, "GET", "/api/users/me/", alice).status == 401


@pytest.mark.moto
def test_a_demotion_reaches_live_tokens_in_its_own_transaction(client, staff, die_after_commit):
    boss = make_account("boss", is_staff=True)
    with pytest.raises(_Killed):
        call(client, "PATCH", f"/api/users/{boss.id}/", staff, {"is_staff": False})
    assert call(client, "GET", "/api/users/me/", boss).json["is_staff"] is False
    assert call(client, "GET", "/api/customers/", boss).json == []


@pytest.mark.moto
def test_a_deleted_users_tokens_go_in_the_deletions_transaction(client, staff, alice, die_after_commit):
    with pytest.raises(_Killed):
        call(client, "DELETE", f"/api/users/{alice.id}/", staff)
    assert call(client, "GET", "/api/users/me/", alice).status == 401
    assert token_store.user_token_hashes(alice.id) == []


def test_what_a_request_memoises_ends_with_it(client, alice):
    """Who may see what is read once per request; after the request, service calls on the same
    thread (background work, a script) read afresh: a grant made since is seen."""
    from chalicelib.services import access

    assert call(client, "GET", "/api/customers/", alice).status == 200
    assert access._memo.get() is None
    assert access._roles_memo.get() is None
