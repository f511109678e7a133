"""The local stack's Cognito (chalicelib/local/cognito.py), as `make run` sets it up: a user pool on a
moto server with the demo user; `python -m chalicelib.ops cognito-token` signs in and prints a JWT;
the API verifies it against the key set moto serves and provisions the user. (`make run` itself, end
to end, was checked by hand; test_local_stack.py starts the whole stack for its own subject.)"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.local import cognito as local_cognito
from chalicelib.local.aws import MotoServer
from tests.helpers import call


@pytest.fixture
def moto_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, local_cognito.LocalPool]]:
    from chalicelib.auth import bearer
    from chalicelib.config import reset_settings

    server = MotoServer().start()
    try:
        pool = local_cognito.create_pool(server.endpoint)
        for name, value in pool.environment().items():
            monkeypatch.setenv(name, value)
        reset_settings()
        bearer.reset()
        yield server.endpoint, pool
    finally:
        server.stop()
        reset_settings()
        bearer.reset()


def _ops_token(endpoint: str, pool: local_cognito.LocalPool, monkeypatch: Any, *extra: str) -> str:
    from chalicelib import ops
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_AWS_ENDPOINT_URL", endpoint)
    reset_settings()
    out = io.StringIO()
    try:
        assert ops.main(["cognito-token", pool.username, pool.password, *extra], out) == 0
    finally:
        monkeypatch.delenv("CIRRUS_AWS_ENDPOINT_URL")
        reset_settings()
    return out.getvalue().strip()


def test_the_demo_users_token_from_ops_is_accepted_against_moto_s_key_set(client, moto_pool, monkeypatch):
    endpoint, pool = moto_pool
    id_token = _ops_token(endpoint, pool, monkeypatch)
    access_token = _ops_token(endpoint, pool, monkeypatch, "--use", "access")

    me = call(client, "GET", "/api/users/me/", headers={"Authorization": f"Bearer {id_token}"})
    again = call(client, "GET", "/api/users/me/", headers={"Authorization": f"Bearer {access_token}"})

    assert me.status == 200, me.json
    assert (me.json["username"], me.json["full_name"], me.json["email"]) == (
        local_cognito.DEMO_USERNAME,
        local_cognito.DEMO_FULL_NAME,
        local_cognito.DEMO_EMAIL,
    )
    assert (me.json["is_staff"], me.json["registration_method"]) == (False, "cognito")
    assert again.status == 200 and again.json["uuid"] == me.json["uuid"]


def test_a_pool_member_of_the_staff_group_signs_in_as_staff(client, moto_pool, monkeypatch):
    import boto3

    endpoint, pool = moto_pool
    idp = boto3.client("cognito-idp", endpoint_url=endpoint, region_name=pool.region)
    local_cognito.add_user(idp, pool.user_pool_id, "ops-person", "Ops-passw0rd!", name="Ops", email="o@x.org")
    idp.admin_add_user_to_group(UserPoolId=pool.user_pool_id, Username="ops-person", GroupName="cirrus-staff")
    staff = local_cognito.LocalPool(
        pool.user_pool_id, pool.client_id, pool.jwks_url, pool.region, "ops-person", "Ops-passw0rd!"
    )

    token = _ops_token(endpoint, staff, monkeypatch)
    me = call(client, "GET", "/api/users/me/", headers={"Authorization": f"Bearer {token}"})

    assert me.status == 200 and me.json["is_staff"] is True


def test_a_wrong_password_is_an_error_not_a_token(moto_pool, monkeypatch, capsys):
    from chalicelib import ops

    endpoint, pool = moto_pool
    monkeypatch.setenv("CIRRUS_AWS_ENDPOINT_URL", endpoint)
    from chalicelib.config import reset_settings

    reset_settings()
    assert ops.main(["cognito-token", pool.username, "wrong-password"], io.StringIO()) == 1
    assert "NotAuthorized" in capsys.readouterr().err


def test_the_banner_prints_the_command_and_a_curl_using_it():
    pool = local_cognito.LocalPool("us-east-1_x", "client123", "http://m/jwks", "us-east-1")
    text = local_cognito.banner(pool, "http://127.0.0.1:5000", "http://127.0.0.1:8000", ".venv/bin/python")
    command = (
        "CIRRUS_AWS_ENDPOINT_URL=http://127.0.0.1:5000 CIRRUS_COGNITO_CLIENT_ID=client123"
        f" .venv/bin/python -m chalicelib.ops cognito-token demo-federated '{local_cognito.DEMO_PASSWORD}'"
    )
    assert command in text
    assert f'curl -H "Authorization: Bearer $({command})" http://127.0.0.1:8000/api/users/me/' in text
