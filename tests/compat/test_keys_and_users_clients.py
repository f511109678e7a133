"""SSH keys and user lookups through Waldur's clients over HTTP: waldur-api-client's `keys` functions
(strict SshKey parser, filters, HEAD count, delete) and `users_change_password`, and
python-waldur-client's `list_ssh_keys`, `get_user` by username and by uuid, and the key lookup by
name its `create_instance(ssh_key=<name>)` makes."""

from __future__ import annotations

import json
from http import HTTPStatus
from uuid import UUID

import pytest
from waldur_api_client.api.keys import keys_count, keys_create, keys_destroy, keys_list, keys_retrieve
from waldur_api_client.api.users import users_change_password, users_list
from waldur_api_client.errors import UnexpectedStatus
from waldur_api_client.models.password_change_request import PasswordChangeRequest
from waldur_api_client.models.ssh_key import SshKey
from waldur_api_client.models.ssh_key_o_enum import SshKeyOEnum
from waldur_api_client.models.ssh_key_request import SshKeyRequest

from tests.conftest import make_account
from tests.unit.test_ssh_key_rules import ECDSA, ED25519, VECTORS

pytestmark = pytest.mark.compat


def test_keys_through_the_generated_client(api, admin):
    created = keys_create.sync_detailed(client=api, body=SshKeyRequest(public_key=ED25519, name="laptop"))
    assert created.status_code == HTTPStatus.CREATED, created.content
    key = created.parsed
    assert isinstance(key, SshKey) and not key.additional_properties
    assert (key.name, key.type_, key.user_uuid, key.is_shared) == (
        "laptop",
        "ssh-ed25519",
        UUID(admin.id),
        False,
    )
    assert (key.fingerprint_md5, key.fingerprint_sha256, key.fingerprint_sha512) == VECTORS[ED25519]
    other = keys_create.sync(client=api, body=SshKeyRequest(public_key=ECDSA, name="desk"))
    assert isinstance(other, SshKey)

    assert [k.name for k in keys_list.sync_all(client=api)] == ["desk", "laptop"]
    assert [k.name for k in keys_list.sync(client=api, o=[SshKeyOEnum.VALUE_0])] == ["laptop", "desk"]
    assert [k.name for k in keys_list.sync(client=api, user_uuid=UUID(admin.id), name_exact="desk")] == [
        "desk"
    ]
    (found,) = keys_list.sync(client=api, fingerprint_sha256=key.fingerprint_sha256)
    assert found.uuid == key.uuid
    assert keys_count.sync(client=api) == 2
    assert keys_retrieve.sync(uuid=key.uuid, client=api) == key

    assert keys_destroy.sync_detailed(uuid=key.uuid, client=api).status_code == HTTPStatus.NO_CONTENT
    with pytest.raises(UnexpectedStatus) as gone:
        keys_retrieve.sync(uuid=key.uuid, client=api)
    assert gone.value.status_code == HTTPStatus.NOT_FOUND
    assert keys_count.sync(client=api) == 1


def test_a_bad_key_is_a_400_the_client_reports(api):
    with pytest.raises(UnexpectedStatus) as refused:
        keys_create.sync(client=api, body=SshKeyRequest(public_key="ssh-rsa AAAA", name="x"))
    assert refused.value.status_code == HTTPStatus.BAD_REQUEST
    assert json.loads(refused.value.content) == {"public_key": ["Invalid SSH public key."]}


def test_staff_change_a_password_through_the_generated_client(api, server):
    import requests

    make_account("alice", full_name="Alice Example")
    (alice,) = users_list.sync(client=api, username="alice")
    answer = users_change_password.sync_detailed(
        uuid=alice.uuid, client=api, body=PasswordChangeRequest(new_password="brand-new-pass")
    )
    assert answer.status_code == HTTPStatus.OK
    login = requests.post(
        f"{server.url}/api-auth/password/",
        json={"username": "alice", "password": "brand-new-pass"},
        timeout=10,
    )
    assert login.status_code == 200


def test_python_waldur_client_reads_keys_and_finds_users_by_username_and_uuid(waldur, admin):
    alice = make_account("alice", full_name="Alice Example")
    make_account("bob")
    assert waldur.list_ssh_keys() == []
    created = waldur._create_resource("keys", {"name": "laptop", "public_key": ED25519})
    (listed,) = waldur.list_ssh_keys()
    assert listed == created and listed["fingerprint_md5"] == VECTORS[ED25519][0]
    # create_instance(ssh_key="laptop") resolves the key by name this way (name_exact).
    assert waldur._get_resource("keys", "laptop")["url"] == created["url"]

    by_name = waldur.get_user("alice")
    assert (by_name["uuid"], by_name["username"]) == (alice.id, "alice")
    assert waldur.get_user(alice.id)["username"] == "alice"
    assert [u["username"] for u in waldur.list_users({"username": "bob"})] == ["bob"]
