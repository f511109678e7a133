"""`/api/keys/` over HTTP: a user's own keys in Waldur's fields and errors; nobody else's (404),
except for staff and support, who read all and of whom only staff delete; Waldur's filters and
events; a user's keys going with the user."""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

import pytest

from chalicelib.domain import ssh_keys as domain
from tests.conftest import make_account
from tests.helpers import call
from tests.unit.test_ssh_key_rules import ECDSA, ED25519, RSA, VECTORS

pytestmark = pytest.mark.fakes

KEYS = "/api/keys/"
TOO_LONG = "Ensure this field has no more than {} characters."
FIELDS = {
    "url", "uuid", "name", "public_key", "fingerprint_md5", "fingerprint_sha256", "fingerprint_sha512",
    "user_uuid", "is_shared", "type",
}  # fmt: skip


def add_key(client, account, public_key=ED25519, name="laptop"):
    reply = call(client, "POST", KEYS, account, {"name": name, "public_key": public_key})
    assert reply.status == 201, reply.json
    return reply.json


@pytest.fixture
def bob(aws):
    return make_account("bob", full_name="Bob Example", email="bob@example.org")


def test_a_user_adds_a_key_in_waldurs_shape_with_its_fingerprints(client, alice):
    created = add_key(client, alice, f"  {RSA}\n", name="  work  ")
    assert set(created) == FIELDS
    assert created["url"].endswith(f"/api/keys/{created['uuid']}/")
    assert (created["name"], created["public_key"], created["type"]) == ("work", RSA, "ssh-rsa")
    md5, sha256, sha512 = VECTORS[RSA]
    assert (created["fingerprint_md5"], created["fingerprint_sha256"], created["fingerprint_sha512"]) == (
        md5,
        sha256,
        sha512,
    )
    assert (created["user_uuid"], created["is_shared"]) == (alice.id, False)
    assert call(client, "GET", created["url"], alice).json == created


def test_a_key_is_the_callers_own_even_when_staff_names_another_user(client, staff, alice):
    created = call(client, "POST", KEYS, staff, {"public_key": ED25519, "user_uuid": alice.id}).json
    assert created["user_uuid"] == staff.id and created["name"] == ""


def test_bad_keys_and_taken_names_are_refused_and_nothing_is_stored(client, alice):
    add_key(client, alice, ED25519, name="laptop")
    cases = [
        ({"name": "laptop", "public_key": RSA}, {"name": [domain.NAME_TAKEN]}),
        ({"name": "x", "public_key": "ssh-rsa AAAA"}, {"public_key": [domain.INVALID_KEY]}),
        ({"name": "x", "public_key": "not a key"}, {"public_key": [domain.NO_FINGERPRINT]}),
        ({"name": "x", "public_key": f"{RSA}\n{ECDSA}"}, {"public_key": [domain.SINGLE_LINE]}),
        ({"name": "x"}, {"public_key": ["This field is required."]}),
        (
            {"name": "x" * 151, "public_key": RSA},
            {"name": [f"Ensure this field has no more than {150} characters."]},
        ),
        (
            {"name": "x", "public_key": "ssh-rsa " + "A" * 2000},
            {"public_key": [TOO_LONG.format(2000)]},
        ),
    ]
    for body, errors in cases:
        reply = call(client, "POST", KEYS, alice, body)
        assert (reply.status, reply.json) == (400, errors), body
    assert [k["name"] for k in call(client, "GET", KEYS, alice).json] == ["laptop"]


def test_a_user_sees_only_their_own_keys_and_others_are_not_found(client, alice, bob):
    mine = add_key(client, alice)
    theirs = add_key(client, bob, RSA)
    assert [k["uuid"] for k in call(client, "GET", KEYS, alice).json] == [mine["uuid"]]
    assert call(client, "GET", f"{KEYS}?user_uuid={bob.id}", alice).json == []
    for method in ("GET", "DELETE"):
        reply = call(client, method, f"{KEYS}{theirs['uuid']}/", alice)
        assert (reply.status, reply.json) == (404, {"detail": "No SshPublicKey matches the given query."})
    assert call(client, "GET", f"{KEYS}{theirs['uuid']}/", bob).status == 200


def test_staff_and_support_read_every_key_and_only_staff_delete_others(client, staff, support, alice, bob):
    a = add_key(client, alice, ED25519, name="b-alice")
    b = add_key(client, bob, RSA, name="a-bob")
    for reader in (staff, support):
        everyone = call(client, "GET", KEYS, reader)
        assert [k["uuid"] for k in everyone.json] == [b["uuid"], a["uuid"]]  # by name
        assert everyone.headers["X-Result-Count"] == "2"
        assert [k["uuid"] for k in call(client, "GET", f"{KEYS}?user_uuid={alice.id}", reader).json] == [
            a["uuid"]
        ]
    refused = call(client, "DELETE", f"{KEYS}{a['uuid']}/", support)
    assert refused.status == 403
    assert call(client, "DELETE", f"{KEYS}{a['uuid']}/", staff).status == 204
    assert call(client, "GET", f"{KEYS}{a['uuid']}/", alice).status == 404


def test_the_owner_deletes_a_key_and_may_reuse_its_name(client, alice):
    key = add_key(client, alice)
    assert call(client, "DELETE", f"{KEYS}{key['uuid']}/", alice).status == 204
    assert call(client, "DELETE", f"{KEYS}{key['uuid']}/", alice).status == 404
    again = add_key(client, alice)
    assert again["uuid"] != key["uuid"]


def test_waldurs_filters_and_ordering(client, staff, alice):
    rsa = add_key(client, alice, RSA, name="Work RSA")
    ecdsa = add_key(client, alice, ECDSA, name="home")

    def names(query, account=alice):
        reply = call(client, "GET", f"{KEYS}?{query}", account)
        assert reply.status == 200, reply.json
        return [k["name"] for k in reply.json]

    assert names("") == ["Work RSA", "home"]  # by name, as stored (bytes)
    assert names("o=-name") == ["home", "Work RSA"]
    assert names("name=rsa") == ["Work RSA"]
    assert names("name_exact=home") == ["home"]
    assert names("name_exact=Home") == []
    assert names(f"fingerprint_md5={rsa['fingerprint_md5']}") == ["Work RSA"]
    assert names(f"fingerprint_sha256={quote(ecdsa['fingerprint_sha256'])}") == ["home"]
    assert names(f"fingerprint_sha512={quote(ecdsa['fingerprint_sha512'])}", staff) == ["home"]
    assert names(f"uuid={UUID(rsa['uuid'])}") == ["Work RSA"]  # dashed, as waldur-api-client sends
    assert names("is_shared=true") == [] and len(names("is_shared=false")) == 2
    bad = call(client, "GET", f"{KEYS}?user_uuid=nope", alice)
    assert (bad.status, bad.json) == (400, {"user_uuid": ["Enter a valid UUID."]})
    assert call(client, "GET", f"{KEYS}?o=public_key", alice).status == 400


def test_keys_cannot_be_edited(client, alice):
    key = add_key(client, alice)
    for method in ("PUT", "PATCH"):
        assert call(client, method, f"{KEYS}{key['uuid']}/", alice, {"name": "x"}).status == 405


def test_creation_and_deletion_write_waldurs_events_in_the_owners_feed(client, fakes, staff, alice):
    key = add_key(client, alice)
    call(client, "DELETE", f"{KEYS}{key['uuid']}/", staff)
    made, gone = [e for e in fakes.events if e.event_type.startswith("ssh_key_")]
    assert made.event_type == "ssh_key_creation_succeeded"
    assert made.message == "SSH key laptop has been created for user Alice Example with username alice."
    assert gone.event_type == "ssh_key_deletion_succeeded"
    assert gone.context["user_uuid"] == staff.id and gone.context["affected_user_uuid"] == alice.id
    feed = call(client, "GET", f"/api/events/?scope=http://localhost/api/users/{alice.id}/", alice).json
    assert {"ssh_key_creation_succeeded", "ssh_key_deletion_succeeded"} <= {e["event_type"] for e in feed}


def test_a_users_keys_go_with_the_user(client, fakes, staff, bob):
    key = add_key(client, bob)
    assert call(client, "DELETE", f"/api/users/{bob.id}/", staff).status == 204
    assert call(client, "GET", f"{KEYS}{key['uuid']}/", staff).status == 404
    assert call(client, "GET", KEYS, staff).json == []


@pytest.mark.moto
def test_on_the_store_a_key_round_trips_and_its_name_stays_unique(client, staff, alice):
    key = add_key(client, alice, ECDSA, name="ключ")
    assert call(client, "GET", f"{KEYS}{key['uuid']}/", staff).json == key
    again = call(client, "POST", KEYS, alice, {"name": "ключ", "public_key": RSA})
    assert (again.status, again.json) == (400, {"name": [domain.NAME_TAKEN]})
    assert call(client, "DELETE", f"{KEYS}{key['uuid']}/", alice).status == 204
    assert call(client, "GET", KEYS, alice).json == []
