"""CORS for a HomePort served from another origin (CIRRUS_CORS_ALLOWED_ORIGINS): an allowed origin's
preflight is answered on every path, routed or not, and its requests get Access-Control-Allow-Origin
and the headers HomePort reads; another origin gets nothing CORS; no credentials are ever allowed.

The Chalice test client's own gateway answers OPTIONS itself for a path without an OPTIONS view, as
API Gateway would with Chalice's CORS mocks; the deployed stack sends every verb to the app instead
(infra/cdk/cirrus_infra/routing.py), as the local server's gateway does, so these tests go through
that gateway. One test goes over the real local HTTP server; one checks that HomePort served by the
local stack (chalicelib/local/webui.py) needs no CORS at all.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.helpers import Reply, call

pytestmark = pytest.mark.fakes

UI = "https://portal.example.org"
OTHER_UI = "http://localhost:3000"
STRANGER = "https://evil.example.com"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
CORS_HEADERS = {
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "access-control-allow-credentials",
}


def _client(monkeypatch: pytest.MonkeyPatch, origins: str | None) -> Iterator[Any]:
    """The app behind the local server's gateway (every verb reaches the app, as deployed)."""
    from chalice.test import Client

    from app import app
    from chalicelib.config import reset_settings
    from chalicelib.local.server import CirrusGateway

    if origins is None:
        monkeypatch.delenv("CIRRUS_CORS_ALLOWED_ORIGINS", raising=False)
    else:
        monkeypatch.setenv("CIRRUS_CORS_ALLOWED_ORIGINS", origins)
    reset_settings()
    with Client(app) as test_client:
        http_client = test_client.http
        http_client._local_gateway = CirrusGateway(app, http_client._config)
        yield http_client
    reset_settings()


@pytest.fixture
def cors_client(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # A trailing slash and upper case in the setting are forgiven (browsers send neither).
    yield from _client(monkeypatch, f"{UI}/, HTTP://LOCALHOST:3000")


@pytest.fixture
def plain_client(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from _client(monkeypatch, None)


def _headers(reply: Reply) -> dict[str, str]:
    return {k.lower(): v for k, v in reply.headers.items()}


def _cors(reply: Reply) -> dict[str, str]:
    return {k: v for k, v in _headers(reply).items() if k in CORS_HEADERS}


def preflight(client: Any, path: str, origin: str, **extra: str) -> Reply:
    return call(client, "OPTIONS", path, headers={"Origin": origin, **PREFLIGHT, **extra})


# --- preflight -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/customers/",  # a routed collection
        "/api/customers/0123456789abcdef0123456789abcdef/",  # a routed item
        "/api-auth/password/",  # sign-in, before any token
        "/api/no-such-thing/at/all/",  # the greedy catch-all
        "/",  # the bare root
    ],
)
@pytest.mark.parametrize("origin", [UI, OTHER_UI])
def test_an_allowed_origins_preflight_is_answered_on_every_path(cors_client, path, origin):
    reply = preflight(cors_client, path, origin)

    assert reply.status == 200 and reply.raw == b""
    headers = _headers(reply)
    assert headers["access-control-allow-origin"] == origin
    assert "Origin" in headers["vary"]
    assert set(headers["access-control-allow-methods"].split(", ")) >= {"GET", "POST", "PATCH", "DELETE"}
    allowed = set(headers["access-control-allow-headers"].split(", "))
    assert {"authorization", "content-type", "x-impersonated-user-uuid", "idempotency-key"} <= allowed
    assert int(headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in headers


def test_a_preflight_runs_no_view_and_needs_no_token(cors_client):
    # A token that would be refused (401) on the real request: the preflight never carries one.
    reply = preflight(cors_client, "/api/users/me/", UI, Authorization="Token " + "0" * 40)
    assert reply.status == 200 and _headers(reply)["access-control-allow-origin"] == UI


def test_another_origins_preflight_is_not_honoured(cors_client):
    reply = preflight(cors_client, "/api/customers/", STRANGER)
    assert reply.status != 200 and _cors(reply) == {}
    caught = preflight(cors_client, "/api/nothing/", STRANGER)
    assert caught.status == 404 and _cors(caught) == {}


def test_a_null_origin_is_not_an_allowed_origin(cors_client):
    assert _cors(preflight(cors_client, "/api/customers/", "null")) == {}


def test_without_allowed_origins_nothing_is_cors(plain_client, alice):
    assert _cors(preflight(plain_client, "/api/customers/", UI)) == {}
    assert _cors(call(plain_client, "GET", "/api/customers/", alice, headers={"Origin": UI})) == {}


# --- actual requests -------------------------------------------------------------------------------
def test_an_allowed_origins_request_may_read_the_answer_and_its_paging_headers(cors_client, alice):
    reply = call(cors_client, "GET", "/api/customers/", alice, headers={"Origin": UI})

    assert reply.status == 200
    headers = _headers(reply)
    assert headers["access-control-allow-origin"] == UI and "Origin" in headers["vary"]
    exposed = {name.lower() for name in headers["access-control-expose-headers"].split(", ")}
    assert {"link", "x-result-count", "x-impersonator-uuid"} <= exposed
    assert "link" in headers and "x-result-count" in headers  # and they are there to read
    assert "access-control-allow-credentials" not in headers
    assert headers["x-content-type-options"] == "nosniff"  # the other middleware still runs


def test_errors_and_sign_in_carry_the_headers_too(cors_client, alice):
    refused = call(cors_client, "GET", "/api/users/me/", headers={"Origin": UI})
    assert refused.status == 401 and _headers(refused)["access-control-allow-origin"] == UI
    login = call(
        cors_client,
        "POST",
        "/api-auth/password/",
        body={"username": "alice", "password": alice.password},
        headers={"Origin": UI},
    )
    assert login.status == 200 and _headers(login)["access-control-allow-origin"] == UI
    missing = call(cors_client, "GET", "/api/nothing/", headers={"Origin": UI})
    assert missing.status == 404 and _headers(missing)["access-control-allow-origin"] == UI


def test_another_origins_request_is_served_without_cors(cors_client, alice):
    reply = call(cors_client, "GET", "/api/customers/", alice, headers={"Origin": STRANGER})
    assert reply.status == 200 and _cors(reply) == {}


def test_a_plain_options_request_is_not_a_preflight(cors_client):
    # No Access-Control-Request-Method: the app answers it as before, with the origin's header.
    reply = call(cors_client, "OPTIONS", "/api/customers/", headers={"Origin": UI})
    assert reply.status == 405 and _cors(reply) == {
        "access-control-allow-origin": UI,
        "access-control-expose-headers": _headers(reply)["access-control-expose-headers"],
    }


def test_any_origin_when_allowed_with_a_star_and_still_no_credentials(aws, monkeypatch, alice):
    for client in _client(monkeypatch, "*"):
        reply = call(client, "GET", "/api/customers/", alice, headers={"Origin": STRANGER})
        assert _headers(reply)["access-control-allow-origin"] == "*"
        answered = preflight(client, "/api/customers/", STRANGER)
        assert answered.status == 200 and _headers(answered)["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in _headers(answered)


# --- over the real local HTTP server ---------------------------------------------------------------
def _request(url: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture
def served(aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    from app import app
    from chalicelib.config import reset_settings
    from chalicelib.local.server import AppServer

    monkeypatch.setenv("CIRRUS_CORS_ALLOWED_ORIGINS", UI)
    reset_settings()
    build = tmp_path / "homeport"
    (build / "scripts" / "configs").mkdir(parents=True)
    (build / "index.html").write_text("<!doctype html><title>HomePort</title>")
    (build / "scripts" / "configs" / "config.json").write_text('{"apiEndpoint": "http://elsewhere/"}')
    running = AppServer(app, port=0, homeport_dir=build).start()
    try:
        yield running
    finally:
        running.stop()
        reset_settings()


def test_the_local_server_answers_preflights_and_cors_as_deployed(served, alice):
    for path in ("/api/customers/", "/api/nothing/here/"):
        status, headers, body = _request(served.url, "OPTIONS", path, {"Origin": UI, **PREFLIGHT})
        assert (status, body) == (200, b"") and headers["access-control-allow-origin"] == UI
        assert "authorization" in headers["access-control-allow-headers"]
    status, headers, _ = _request(served.url, "GET", "/api/customers/", {"Origin": UI, **alice.headers})
    assert status == 200 and headers["access-control-allow-origin"] == UI
    assert "X-Result-Count" in headers["access-control-expose-headers"]
    status, headers, _ = _request(served.url, "OPTIONS", "/api/customers/", {"Origin": STRANGER, **PREFLIGHT})
    assert status != 200 and not CORS_HEADERS & set(headers)


def test_homeport_served_by_the_local_stack_calls_its_own_origin(aws, monkeypatch, tmp_path, alice):
    """Served beside the API, HomePort's settings name the page's own origin as the API: the browser
    makes same-origin calls, which need no CORS setting (and get no CORS header)."""
    for running in _serving_without_cors(monkeypatch, tmp_path):
        status, _, body = _request(running.url, "GET", "/scripts/configs/config.json", {})
        api = urlsplit(json.loads(body)["apiEndpoint"])
        assert status == 200 and f"{api.scheme}://{api.netloc}" == running.url
        # A same-origin POST carries Origin (browsers send it): answered as any other request.
        headers = {"Origin": running.url, "Content-Type": "application/json"}
        status, answered, _ = _request(running.url, "GET", "/api/users/me/", {**headers, **alice.headers})
        assert status == 200 and not CORS_HEADERS & set(answered)


def _serving_without_cors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    from app import app
    from chalicelib.config import reset_settings
    from chalicelib.local.server import AppServer

    monkeypatch.delenv("CIRRUS_CORS_ALLOWED_ORIGINS", raising=False)
    reset_settings()
    build = tmp_path / "homeport"
    build.mkdir()
    (build / "index.html").write_text("<!doctype html><title>HomePort</title>")
    running = AppServer(app, port=0, homeport_dir=build).start()
    try:
        yield running
    finally:
        running.stop()
