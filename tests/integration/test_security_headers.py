"""Every API answer tells browsers not to sniff its type and nobody to store it: the token a login
returns, what a token reads, errors, and the anonymous catalog alike."""

from __future__ import annotations

import pytest

from tests.helpers import Reply, call

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes

SECURE = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _secured(reply: Reply) -> dict[str, str]:
    headers = {k.lower(): v for k, v in reply.headers.items()}
    return {name: headers.get(name.lower(), "") for name in SECURE}


def test_the_token_a_login_returns_is_not_stored(client, alice):
    reply = call(
        client, "POST", "/api-auth/password/", body={"username": "alice", "password": alice.password}
    )
    assert reply.status == 200 and "token" in reply.json
    assert _secured(reply) == SECURE


@pytest.mark.parametrize("path", ["/api/users/me/", "/api/customers/"])
def test_authenticated_reads_carry_the_headers(client, alice, path):
    reply = call(client, "GET", path, alice)
    assert reply.status == 200 and _secured(reply) == SECURE


def test_a_refused_token_carries_them(client):
    reply = call(client, "GET", "/api/users/me/", headers={"Authorization": "Token " + "0" * 40})
    assert reply.status == 401 and _secured(reply) == SECURE


def test_a_refused_login_and_an_unrouted_verb_carry_them_too(client, alice):
    assert (
        _secured(call(client, "POST", "/api-auth/password/", body={"username": "x", "password": "y"}))
        == SECURE
    )
    unrouted = call(client, "DELETE", "/api-auth/password/")
    assert unrouted.status == 405 and _secured(unrouted) == SECURE


def test_the_anonymous_public_catalog_still_answers(client):
    reply = call(client, "GET", "/api/marketplace-public-offerings/")
    assert reply.status == 200 and reply.json == []
    assert _secured(reply) == SECURE
