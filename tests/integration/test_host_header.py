"""Absolute URLs and the Host header (issue 13, finding 12): a Host the settings do not allow is
refused before anything happens, and X-Forwarded-Proto gives http or https only."""

from __future__ import annotations

import pytest

from chalicelib.config import reset_settings
from tests.helpers import call

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes


@pytest.fixture
def settings_env(monkeypatch):
    def apply(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings()

    yield apply
    reset_settings()


def test_a_forged_host_is_refused_and_writes_nothing(client, staff):
    reply = call(client, "POST", "/api/customers/", staff, {"name": "Evil"}, headers={"Host": "evil.example"})
    assert (reply.status, reply.json) == (400, {"detail": "Invalid HTTP_HOST header."})
    assert call(client, "GET", "/api/customers/", staff).json == []


def test_urls_take_an_allowed_host_and_only_http_or_https(client, staff):
    forged = {"Host": "LOCALHOST:8000", "X-Forwarded-Proto": "javascript"}
    created = call(client, "POST", "/api/customers/", staff, {"name": "Acme"}, headers=forged).json
    assert created["url"] == f"http://localhost:8000/api/customers/{created['uuid']}/"
    shown = call(
        client, "GET", "/api/customers/", staff, headers={"Host": "[::1]", "X-Forwarded-Proto": "https"}
    )
    assert [c["url"] for c in shown.json] == [f"https://[::1]/api/customers/{created['uuid']}/"]


def test_the_allow_list_and_the_public_url_come_from_the_settings(client, staff, settings_env):
    settings_env(CIRRUS_ALLOWED_HOSTS=".execute-api.eu-west-1.amazonaws.com")
    api_host = {"Host": "a1b2c3.execute-api.eu-west-1.amazonaws.com", "X-Forwarded-Proto": "https"}
    assert call(client, "GET", "/api/customers/", staff, headers=api_host).status == 200
    assert call(client, "GET", "/api/customers/", staff, headers={"Host": "localhost"}).status == 400

    settings_env(CIRRUS_PUBLIC_URL="https://cirrus.example.org")
    created = call(client, "POST", "/api/customers/", staff, {"name": "Acme"}, headers=api_host).json
    assert created["url"].startswith("https://cirrus.example.org/api/customers/")
    own = {"Host": "cirrus.example.org"}
    assert call(client, "GET", "/api/customers/", staff, headers=own).status == 200
