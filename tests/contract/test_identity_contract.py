"""Users, tokens and roles: the fakes and the store agree (tests/contract/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.roles import SYSTEM_ROLES, Role, ScopeType
from chalicelib.domain.tokens import LoginFailures, Token
from chalicelib.domain.users import User
from chalicelib.services.ports import Ports

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _user(user_id: str = "a" * 32, username: str = "alice", **fields: object) -> User:
    return User(id=user_id, username=username, date_joined=NOW, **fields)  # type: ignore[arg-type]


def _add_user(ports: Ports, user: User) -> User:
    uow = ports.unit_of_work()
    ports.users.add(uow, user)
    uow.commit()
    stored = ports.users.get(user.id)
    assert stored is not None
    return stored


def test_a_user_added_is_found_by_id_and_name_at_version_1(ports: Ports) -> None:
    stored = _add_user(ports, _user(full_name="Alice A", email="a@example.org"))
    assert stored == _user(full_name="Alice A", email="a@example.org", version=1)
    assert ports.users.get_by_username("alice") == stored
    assert ports.users.load(user_id="a" * 32) == stored and ports.users.load("b" * 32) is None
    assert ports.users.get_many(["a" * 32, "b" * 32]) == {"a" * 32: stored}
    assert ports.users.get("b" * 32) is None and ports.users.get_by_username("bob") is None


def test_a_taken_username_is_refused_and_nothing_is_written(ports: Ports) -> None:
    _add_user(ports, _user())
    uow = ports.unit_of_work()
    ports.users.add(uow, _user("b" * 32, "alice"))
    with pytest.raises(ValidationError) as refused:
        uow.commit()
    assert refused.value.errors == {"username": ["A user with that username already exists."]}
    assert ports.users.get("b" * 32) is None


def test_saving_a_user_bumps_its_version_and_a_stale_copy_loses(ports: Ports) -> None:
    before = _add_user(ports, _user())
    uow = ports.unit_of_work()
    ports.users.save_changes(uow, before, replace(before, username="alicia", full_name="Alicia"))
    uow.commit()
    after = ports.users.get(before.id)
    assert after is not None and (after.username, after.full_name, after.version) == ("alicia", "Alicia", 2)
    assert ports.users.get_by_username("alice") is None and ports.users.get_by_username("alicia") == after
    stale = ports.unit_of_work()
    ports.users.save_changes(stale, before, replace(before, full_name="Old"))
    with pytest.raises(Conflict):
        stale.commit()
    assert ports.users.get(before.id) == after


def test_a_removed_user_and_their_name_are_gone(ports: Ports) -> None:
    user = _add_user(ports, _user())
    uow = ports.unit_of_work()
    ports.users.remove(uow, user)
    uow.commit()
    assert ports.users.get(user.id) is None and ports.users.get_by_username("alice") is None
    _add_user(ports, _user("c" * 32, "alice"))  # the name is free again


def test_lookalike_names_are_found(ports: Ports) -> None:
    _add_user(ports, _user("a" * 32, "Alice"))
    _add_user(ports, _user("b" * 32, "bob"))
    assert "a" * 32 in ports.users.lookalike_ids("alice")
    assert "b" * 32 not in ports.users.lookalike_ids("alice")


def _token(user: User, key_hash: str = "1" * 64, expires: datetime | None = None) -> Token:
    return Token(
        key_hash=key_hash,
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        is_staff=user.is_staff,
        is_support=user.is_support,
        is_active=user.is_active,
        lifetime=3600,
        created=NOW,
        expires=expires or NOW + timedelta(hours=1),
    )


def _put(ports: Ports, token: Token) -> None:
    uow = ports.unit_of_work()
    ports.tokens.put(uow, token)
    uow.commit()


def test_tokens_are_kept_extended_revoked(ports: Ports) -> None:
    user = _add_user(ports, _user())
    token = _token(user)
    _put(ports, token)
    assert ports.tokens.get(token.key_hash) == token
    later = replace(token, expires=NOW + timedelta(hours=3))
    ports.tokens.extend(later)
    assert ports.tokens.get(token.key_hash) == later
    uow = ports.unit_of_work()
    ports.tokens.revoke(uow, token.key_hash)
    uow.commit()
    assert ports.tokens.get(token.key_hash) is None
    ports.tokens.extend(later)  # a logout wins over a renewal
    assert ports.tokens.get(token.key_hash) is None


def test_a_users_tokens_follow_their_changes_and_go_when_deactivated(ports: Ports) -> None:
    user = _add_user(ports, _user())
    _put(ports, _token(user, "1" * 64))
    _put(ports, _token(user, "2" * 64))
    staff = replace(user, is_staff=True, full_name="Alice Staff")
    uow = ports.unit_of_work()
    assert ports.tokens.refresh_snapshots_in(uow, staff)
    uow.commit()
    first = ports.tokens.get("1" * 64)
    assert first is not None and first.is_staff and first.full_name == "Alice Staff"
    ports.tokens.refresh_snapshots(replace(staff, is_active=False))
    assert ports.tokens.get("1" * 64) is None and ports.tokens.get("2" * 64) is None


def test_revoking_the_others_keeps_one(ports: Ports) -> None:
    user = _add_user(ports, _user())
    for key in ("1", "2", "3"):
        _put(ports, _token(user, key * 64))
    uow = ports.unit_of_work()
    assert ports.tokens.revoke_others_in(uow, user.id, "1" * 64)
    uow.commit()
    assert [ports.tokens.get(k * 64) is not None for k in "123"] == [True, False, False]
    ports.tokens.revoke_others(user.id, None)
    assert ports.tokens.get("1" * 64) is None


def test_login_failures_count_in_a_window_and_a_stale_window_loses(ports: Ports) -> None:
    ends = NOW + timedelta(minutes=10)
    uow = ports.unit_of_work()
    ports.tokens.count_login_failure(uow, "alice", "10.0.0.1", None, NOW, ends)
    uow.commit()
    known = ports.tokens.login_failures("alice", "10.0.0.1")
    assert known == LoginFailures(count=1, window_ends=ends)
    uow = ports.unit_of_work()
    ports.tokens.count_login_failure(uow, "alice", "10.0.0.1", known, NOW, ends)
    uow.commit()
    assert ports.tokens.login_failures("alice", "10.0.0.1") == LoginFailures(count=2, window_ends=ends)
    # Read as absent, but a window is open: a lost race.
    uow = ports.unit_of_work()
    ports.tokens.count_login_failure(uow, "alice", "10.0.0.1", None, NOW, ends)
    with pytest.raises(Conflict):
        uow.commit()
    uow = ports.unit_of_work()
    ports.tokens.clear_login_failures(uow, "alice", "10.0.0.1")
    uow.commit()
    assert ports.tokens.login_failures("alice", "10.0.0.1") is None


def _role(name: str = "Auditor", role_id: str = "d" * 32) -> Role:
    return Role(
        id=role_id,
        name=name,
        content_type=ScopeType.CUSTOMER,
        permissions=frozenset({"PROJECT.CREATE"}),
        description="reads",
        is_system_role=False,
        is_active=True,
        version=0,
    )


def _add_role(ports: Ports, role: Role) -> Role:
    uow = ports.unit_of_work()
    ports.roles.add(uow, role)
    uow.commit()
    return ports.roles.all_roles()[role.id]


def test_roles_hold_the_system_ones_and_custom_ones_with_unique_names(ports: Ports) -> None:
    assert {r.id for r in SYSTEM_ROLES.values()} <= set(ports.roles.all_roles())
    stored = _add_role(ports, _role())
    assert stored == replace(_role(), version=1)
    uow = ports.unit_of_work()
    ports.roles.add(uow, _role(role_id="e" * 32))
    with pytest.raises(ValidationError) as refused:
        uow.commit()
    assert refused.value.errors == {"name": ["Role with this name already exists."]}
    assert "e" * 32 not in ports.roles.all_roles()


def test_a_role_is_renamed_by_its_version_and_removed_while_unused(ports: Ports) -> None:
    stored = _add_role(ports, _role())
    uow = ports.unit_of_work()
    ports.roles.save(uow, stored, replace(stored, name="Reader"))
    uow.commit()
    renamed = ports.roles.all_roles()[stored.id]
    assert (renamed.name, renamed.version) == ("Reader", 2)
    stale = ports.unit_of_work()
    ports.roles.save(stale, stored, replace(stored, description="x"))
    with pytest.raises(Conflict):
        stale.commit()
    _add_role(ports, _role(name="Auditor", role_id="f" * 32))  # the old name is free
    assert ports.roles.with_users_counts([renamed])[0].users_count == 0
    uow = ports.unit_of_work()
    ports.roles.remove(uow, renamed)
    uow.commit()
    assert stored.id not in ports.roles.all_roles()


def test_a_system_role_is_stored_on_its_first_change(ports: Ports) -> None:
    system = next(iter(SYSTEM_ROLES.values()))
    uow = ports.unit_of_work()
    ports.roles.save(uow, system, replace(system, description="changed"))
    uow.commit()
    changed = ports.roles.all_roles()[system.id]
    assert (changed.description, changed.version) == ("changed", 1)
    again = ports.unit_of_work()
    ports.roles.save(again, system, replace(system, description="twice"))  # still read as version 0
    with pytest.raises(Conflict):
        again.commit()


def test_a_users_agreement_to_the_terms_is_kept_to_the_microsecond(ports: Ports) -> None:
    agreed = NOW + timedelta(microseconds=123456)
    stored = _add_user(ports, _user(agreement_date=agreed))
    assert stored.agreement_date == agreed
    uow = ports.unit_of_work()
    ports.users.save_changes(uow, stored, replace(stored, agreement_date=None, full_name="Alice"))
    uow.commit()
    after = ports.users.get(stored.id)
    assert after is not None and after.agreement_date is None and after.full_name == "Alice"
