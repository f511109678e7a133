"""Users and their sign-in as services, on the in-memory fakes (no AWS): registering, changing
profiles (staff-only fields refused), password login with lockout after repeated failures, token
expiry and renewal, deactivation and password changes ending sessions, logout, impersonation, and
Cognito-federated users created and kept in step with their claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import clock
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import (
    AuthenticationFailed,
    LockedOut,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from chalicelib.domain.tokens import hash_key
from chalicelib.domain.users import User
from chalicelib.services import auth, federation, ports, users
from tests.fakes import World

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
STAFF = Principal(user_id="5" * 32, username="staff", is_staff=True)
SYSTEM = EventContext(principal=STAFF, ip_address="192.0.2.1")
PASSWORD = "correct horse battery"


@pytest.fixture
def world(fakes: World) -> World:
    clock.set_source(lambda: NOW)
    return fakes


def _at(moment: datetime) -> None:
    clock.set_source(lambda: moment)


def _register(username: str = "alice", password: str | None = PASSWORD, **fields: Any) -> User:
    return users.register_user(SYSTEM, {"username": username, **fields}, password)


def _ctx(user: User, ip: str = "192.0.2.7") -> EventContext:
    return EventContext(principal=user.principal(), ip_address=ip)


def _types(world: World) -> list[str]:
    return [e.event_type for e in world.events]


# --- registering -----------------------------------------------------------------------------------
def test_a_registered_user_is_stored_at_version_1_and_logged_in_their_feed(world: World) -> None:
    alice = _register(full_name="Alice A", email="alice@example.org")
    assert ports.users.get(alice.id) == alice and alice.version == 1
    assert ports.users.get_by_username("alice") == alice
    assert alice.password_hash and PASSWORD not in alice.password_hash
    (event,) = world.events
    assert event.event_type == "user_creation_succeeded"
    assert ("user", alice.id) in event.scopes


def test_a_taken_username_is_refused_and_nothing_is_written(world: World) -> None:
    _register()
    with pytest.raises(ValidationError) as refused:
        _register()
    assert list(refused.value.errors) == ["username"]
    assert len(world.events) == 1


def test_only_staff_create_users(world: World) -> None:
    alice = _register()
    with pytest.raises(PermissionDenied):
        users.create_user(_ctx(alice), {"username": "bob"}, None)
    assert ports.users.get_by_username("bob") is None
    assert users.create_user(SYSTEM, {"username": "bob"}, None).username == "bob"


# --- profiles --------------------------------------------------------------------------------------
def test_users_change_their_own_profile_and_see_only_themselves(world: World) -> None:
    alice, bob = _register(), _register("bob")
    changed = users.update_user(_ctx(alice), alice.id, {"full_name": "Alice Liddell"})
    assert (changed.full_name, changed.version) == ("Alice Liddell", 2)
    assert ports.users.get(alice.id) == changed
    assert _types(world)[-1] == "user_update_succeeded"
    with pytest.raises(NotFound):
        users.update_user(_ctx(bob), alice.id, {"full_name": "Mallory"})
    with pytest.raises(NotFound):
        users.get_visible(bob.principal(), alice.id)
    assert users.get_visible(STAFF, alice.id) == changed


def test_staff_only_fields_are_refused_to_others_and_nothing_changes(world: World) -> None:
    alice = _register()
    for field, value in (("is_staff", True), ("is_active", False), ("username", "queen")):
        with pytest.raises(PermissionDenied) as refused:
            users.update_user(_ctx(alice), alice.id, {field: value, "full_name": "Alice"})
        assert field in refused.value.detail
    assert ports.users.get(alice.id) == alice
    # Sending the current value back is no change, so a client that sends the whole object works.
    same = users.update_user(_ctx(alice), alice.id, {"is_staff": False, "full_name": "Alice"})
    assert same.full_name == "Alice"
    promoted = users.update_user(SYSTEM, alice.id, {"is_staff": True})
    assert promoted.is_staff


def test_an_unchanged_profile_writes_nothing(world: World) -> None:
    alice = _register()
    commits = world.commits
    assert users.update_user(_ctx(alice), alice.id, {"full_name": ""}) == alice
    assert world.commits == commits


# --- password login --------------------------------------------------------------------------------
def test_a_password_login_gives_a_token_that_authenticates_and_is_logged(world: World) -> None:
    alice = _register()
    key = auth.login("alice", PASSWORD, _ctx(alice))
    assert len(key) == 40
    assert ports.tokens.get(hash_key(key)) is not None  # kept by its hash only
    signed_in = auth.authenticate(key)
    assert (signed_in.principal.user_id, signed_in.key_hash) == (alice.id, hash_key(key))
    assert _types(world)[-1] == "auth_logged_in_with_username"


def test_a_wrong_password_or_unknown_user_fails_alike_and_each_failure_is_logged(world: World) -> None:
    alice = _register()
    for username, password in (("alice", "wrong password"), ("nobody", PASSWORD)):
        with pytest.raises(AuthenticationFailed) as failed:
            auth.login(username, password, _ctx(alice))
        assert str(failed.value.detail) == auth.INVALID_CREDENTIALS
    assert _types(world)[-2:] == ["auth_login_failed_with_username"] * 2


def test_repeated_failures_lock_the_address_out_until_the_cooloff_ends(world: World) -> None:
    from chalicelib.config import get_settings

    alice = _register()
    limit, cooloff = get_settings().lockout_limit, get_settings().lockout_cooloff_seconds
    for _ in range(limit):
        with pytest.raises(AuthenticationFailed):
            auth.login("alice", "wrong password", _ctx(alice))
    with pytest.raises(LockedOut):
        auth.login("alice", PASSWORD, _ctx(alice))  # even with the right password
    assert auth.login("alice", PASSWORD, _ctx(alice, ip="198.51.100.9"))  # another address is not locked
    _at(NOW + timedelta(seconds=cooloff))
    assert auth.login("alice", PASSWORD, _ctx(alice))


def test_a_success_before_the_limit_starts_the_count_again(world: World) -> None:
    from chalicelib.config import get_settings

    alice = _register()
    limit = get_settings().lockout_limit
    for _ in range(limit - 1):
        with pytest.raises(AuthenticationFailed):
            auth.login("alice", "wrong password", _ctx(alice))
    auth.login("alice", PASSWORD, _ctx(alice))
    for _ in range(limit - 1):
        with pytest.raises(AuthenticationFailed):
            auth.login("alice", "wrong password", _ctx(alice))
    assert auth.login("alice", PASSWORD, _ctx(alice))


def test_an_inactive_user_cannot_log_in(world: World) -> None:
    alice = _register(is_active=False)
    with pytest.raises(AuthenticationFailed):
        auth.login("alice", PASSWORD, _ctx(alice))


# --- tokens ----------------------------------------------------------------------------------------
def test_a_token_lapses_after_its_lifetime_unless_used_which_slides_it(world: World) -> None:
    alice = _register(token_lifetime=3600)
    key = auth.login("alice", PASSWORD, _ctx(alice))
    _at(NOW + timedelta(minutes=50))
    auth.authenticate(key)  # used: now lapses an hour after this
    _at(NOW + timedelta(minutes=100))
    auth.authenticate(key)
    _at(NOW + timedelta(minutes=100, seconds=3600))
    with pytest.raises(AuthenticationFailed) as lapsed:
        auth.authenticate(key)
    assert lapsed.value.detail == auth.EXPIRED_TOKEN


def test_a_use_within_a_minute_of_the_last_renewal_writes_nothing(world: World) -> None:
    alice = _register(token_lifetime=3600)
    key = auth.login("alice", PASSWORD, _ctx(alice))
    first = ports.tokens.get(hash_key(key))
    _at(NOW + timedelta(seconds=30))
    auth.authenticate(key)
    assert ports.tokens.get(hash_key(key)) == first


def test_unknown_or_empty_keys_are_refused(world: World) -> None:
    for key in ("", "0" * 40):
        with pytest.raises(AuthenticationFailed) as refused:
            auth.authenticate(key)
        assert refused.value.detail == auth.INVALID_TOKEN


def test_deactivating_a_user_revokes_their_tokens(world: World) -> None:
    alice = _register()
    key = auth.login("alice", PASSWORD, _ctx(alice))
    users.update_user(SYSTEM, alice.id, {"is_active": False})
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(key)
    assert ports.tokens.get(hash_key(key)) is None


def test_a_promotion_reaches_live_tokens(world: World) -> None:
    alice = _register()
    key = auth.login("alice", PASSWORD, _ctx(alice))
    users.update_user(SYSTEM, alice.id, {"is_staff": True, "full_name": "Alice"})
    principal = auth.authenticate(key).principal
    assert (principal.is_staff, principal.full_name) == (True, "Alice")


def test_a_new_password_ends_every_other_session(world: World) -> None:
    alice = _register()
    here, elsewhere = (auth.login("alice", PASSWORD, _ctx(alice)) for _ in range(2))
    users.set_password(_ctx(alice), alice.id, "a new password", current_key_hash=hash_key(here))
    assert auth.authenticate(here).principal.user_id == alice.id
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(elsewhere)
    with pytest.raises(AuthenticationFailed):
        auth.login("alice", PASSWORD, _ctx(alice))
    assert auth.login("alice", "a new password", _ctx(alice))


def test_a_short_password_is_refused(world: World) -> None:
    alice = _register()
    with pytest.raises(ValidationError) as refused:
        users.set_password(_ctx(alice), alice.id, "short")
    assert list(refused.value.errors) == ["password"]


def test_logout_revokes_the_token_and_is_logged(world: World) -> None:
    alice = _register()
    key = auth.login("alice", PASSWORD, _ctx(alice))
    auth.logout(_ctx(alice), hash_key(key))
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(key)
    assert _types(world)[-1] == "auth_logged_out"


def test_only_staff_impersonate_and_the_impersonator_is_kept(world: World) -> None:
    alice, bob = _register(), _register("bob")
    acting = auth.impersonate(STAFF, alice.id)
    assert (acting.user_id, acting.impersonator_id) == (alice.id, STAFF.user_id)
    with pytest.raises(PermissionDenied):
        auth.impersonate(bob.principal(), alice.id)


# --- federated users --------------------------------------------------------------------------------
CLAIMS = {"iss": "https://cognito.test/pool", "sub": "s-1", "cognito:username": "carol", "email": "c@e.org"}


def test_a_federated_user_is_made_at_first_sight_and_follows_their_claims(world: World) -> None:
    ctx = EventContext(ip_address="192.0.2.1")
    carol = federation.authenticate(CLAIMS, ctx)
    assert (carol.username, carol.email, carol.version) == ("carol", "c@e.org", 1)
    assert federation.authenticate(CLAIMS, ctx) == carol  # nothing new: nothing written
    moved = federation.authenticate({**CLAIMS, "email": "carol@e.org"}, ctx)
    assert (moved.email, moved.version) == ("carol@e.org", 2)
    assert _types(world) == ["user_creation_succeeded", "user_update_succeeded"]


def test_a_federated_sign_in_gives_a_token_and_a_deactivated_user_stays_out(world: World) -> None:
    ctx = EventContext(ip_address="192.0.2.1")
    key = federation.sign_in(CLAIMS, ctx)
    carol = auth.authenticate(key).principal
    users.update_user(SYSTEM, carol.user_id, {"is_active": False})
    with pytest.raises(AuthenticationFailed):
        federation.authenticate(CLAIMS, ctx)
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(key)
