"""`POST /api-auth/password/` over HTTP: plain requests, the generated client, and the token in use."""

from __future__ import annotations

import re

import pytest
import requests
from waldur_api_client import AuthenticatedClient, Client
from waldur_api_client.api.api_auth import api_auth_logout, api_auth_password
from waldur_api_client.models.auth_token_challenge import AuthTokenChallenge
from waldur_api_client.models.core_auth_token import CoreAuthToken
from waldur_api_client.models.obtain_auth_token_request import ObtainAuthTokenRequest
from waldur_client import WaldurClient

pytestmark = pytest.mark.compat


def test_password_login_returns_a_working_token(server, admin):
    reply = requests.post(
        f"{server.url}/api-auth/password/",
        json={"username": admin.username, "password": admin.password},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    token = reply.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", token)

    me = WaldurClient(f"{server.url}/api/", token).get_current_user()
    assert me["username"] == admin.username


def test_password_login_with_wrong_password_is_401(server, admin):
    reply = requests.post(
        f"{server.url}/api-auth/password/",
        json={"username": admin.username, "password": "not-the-password"},
        timeout=10,
    )
    assert reply.status_code == 401
    assert reply.json() == {"detail": "Invalid username/password."}


def test_password_login_with_unknown_user_is_401(server):
    reply = requests.post(
        f"{server.url}/api-auth/password/", json={"username": "ghost", "password": "whatever"}, timeout=10
    )
    assert reply.status_code == 401
    assert reply.json() == {"detail": "Invalid username/password."}


def test_password_login_without_password_is_400(server, admin):
    reply = requests.post(f"{server.url}/api-auth/password/", json={"username": admin.username}, timeout=10)
    assert reply.status_code == 400
    assert reply.json() == {"password": ["This field is required."]}


def test_password_login_through_waldur_api_client(server, admin):
    with Client(base_url=server.url) as anonymous:
        good = api_auth_password.sync_detailed(
            client=anonymous, body=ObtainAuthTokenRequest(username=admin.username, password=admin.password)
        )
        bad = api_auth_password.sync_detailed(
            client=anonymous, body=ObtainAuthTokenRequest(username=admin.username, password="wrong")
        )
    assert good.status_code == 200
    assert isinstance(good.parsed, CoreAuthToken)
    assert re.fullmatch(r"[0-9a-f]{40}", good.parsed.token)
    assert bad.status_code == 401
    assert isinstance(bad.parsed, AuthTokenChallenge)
    assert bad.parsed.detail == "Invalid username/password."


def test_logout_through_waldur_api_client_is_204_and_ends_the_token(server, admin):
    """Waldur answers a password sign-in's logout 204 with no body (a body without `logout_url`
    breaks the client's Logout model); the token is revoked."""
    with AuthenticatedClient(base_url=server.url, token=admin.token) as client:
        out = api_auth_logout.sync_detailed(client=client)
    assert out.status_code == 204
    assert out.content == b""
    again = requests.get(f"{server.url}/api/users/me/", headers={"Authorization": f"Token {admin.token}"})
    assert again.status_code == 401
