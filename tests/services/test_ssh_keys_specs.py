"""SSH keys as services, on the in-memory fakes (no AWS): the keys other contexts read for a set of
users, the per-user cap, a refused key changing nothing, and a user's keys going with them."""

from __future__ import annotations

import pytest

from chalicelib.domain import ssh_keys as domain
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.users import User
from chalicelib.services import ssh_keys, users
from tests.fakes import World
from tests.unit.test_ssh_key_rules import ECDSA, ED25519, RSA

STAFF = Principal(user_id="5" * 32, username="staff", full_name="Staff Person", is_staff=True)
AS_STAFF = EventContext(principal=STAFF)


def _user(name: str) -> User:
    return users.register_user(AS_STAFF, {"username": name, "full_name": name.title()}, None)


def _as(user: User) -> EventContext:
    return EventContext(principal=user.principal())


def test_keys_of_users_reads_each_users_keys_in_the_order_asked(fakes: World) -> None:
    alice, bob, carol = _user("alice"), _user("bob"), _user("carol")
    b = ssh_keys.create_key(_as(bob), "b", RSA)
    a2 = ssh_keys.create_key(_as(alice), "z", ED25519)
    a1 = ssh_keys.create_key(_as(alice), "a", ECDSA)
    assert ssh_keys.keys_of_users([bob.id, alice.id, carol.id]) == [b, a1, a2]
    assert ssh_keys.keys_of_users([]) == []


def test_a_refused_key_stores_nothing_and_writes_no_event(
    fakes: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes import ssh_keys as fake

    monkeypatch.setattr(fake, "MAX_KEYS_PER_USER", 1)
    alice = _user("alice")
    ssh_keys.create_key(_as(alice), "one", ED25519)
    before = len(fakes.events)
    for name, key in (("two", RSA), ("one", RSA), ("three", "ssh-rsa AAAA")):
        with pytest.raises(ValidationError):
            ssh_keys.create_key(_as(alice), name, key)
    assert len(fakes.events) == before
    assert [k.name for k in ssh_keys.keys_of_users([alice.id])] == ["one"]


def test_deleting_a_user_deletes_their_keys_with_an_event_each(fakes: World) -> None:
    alice = _user("alice")
    keys = [ssh_keys.create_key(_as(alice), n, k) for n, k in (("a", ED25519), ("b", RSA))]
    users.delete_user(AS_STAFF, alice.id)
    assert ssh_keys.keys_of_users([alice.id]) == []
    gone = [e for e in fakes.events if e.event_type == domain.SSH_KEY_DELETION_SUCCEEDED]
    assert sorted(e.context["ssh_key_uuid"] for e in gone) == sorted(k.id for k in keys)
    for key in keys:
        with pytest.raises(NotFound):
            ssh_keys.get_visible(STAFF, key.id)
