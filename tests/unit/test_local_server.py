"""The local stack's HTTP server: loopback unless told, and an access log without credentials.

Functions only; nothing here starts the stack or binds a port."""

from __future__ import annotations

import pytest

from chalicelib.local.server import PublicBindRefused, RedactingRequestHandler, bind_host, redact

TOKEN = "0123456789abcdef0123456789abcdef01234567"


# --- where it listens -----------------------------------------------------------------------------
@pytest.mark.parametrize("env", [{}, {"CIRRUS_BIND_HOST": ""}, {"CIRRUS_BIND_HOST": "127.0.0.1"}])
def test_it_listens_on_loopback_by_default_without_a_warning(env):
    assert bind_host(env) == ("127.0.0.1", None)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2", "::1"])
def test_any_loopback_address_is_allowed(host):
    assert bind_host({"CIRRUS_BIND_HOST": host}) == (host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "devbox.example"])
def test_another_address_is_refused_unless_allowed(host):
    with pytest.raises(PublicBindRefused, match="CIRRUS_ALLOW_PUBLIC_BIND=1"):
        bind_host({"CIRRUS_BIND_HOST": host})
    with pytest.raises(PublicBindRefused):
        bind_host({"CIRRUS_BIND_HOST": host, "CIRRUS_ALLOW_PUBLIC_BIND": "yes"})


def test_an_allowed_public_address_comes_with_a_warning():
    host, warning = bind_host({"CIRRUS_BIND_HOST": "0.0.0.0", "CIRRUS_ALLOW_PUBLIC_BIND": "1"})
    assert host == "0.0.0.0"
    assert warning is not None and "mint a staff token" in warning


# --- what its access log shows --------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        f"x-auth-token={TOKEN}",
        f"X-Auth-Token={TOKEN}",
        f"x%2Dauth%2Dtoken={TOKEN}",  # percent-encoded name: still the token DRF reads
        f"page=2&x-auth-token={TOKEN}&page_size=5",
        f"code={TOKEN}&state=abc",  # the hosted UI's OAuth code
    ],
)
def test_credentials_in_the_query_are_redacted(query):
    line = f'"GET /api/customers/?{query} HTTP/1.1" 200 -'
    redacted = redact(line)
    assert TOKEN not in redacted
    assert redacted.startswith('"GET /api/customers/?') and redacted.endswith(' HTTP/1.1" 200 -')


def test_other_parameters_stay_as_they_were():
    line = '"GET /api/customers/?page=2&name=acme HTTP/1.1" 200 -'
    assert redact(line) == line


def test_the_handlers_access_log_line_is_redacted(capsys):
    # GIVEN Chalice's handler as the server uses it, without a socket behind it
    handler = RedactingRequestHandler.__new__(RedactingRequestHandler)
    handler.client_address = ("127.0.0.1", 50000)
    handler.requestline = f"GET /api/users/me/?x-auth-token={TOKEN} HTTP/1.1"
    # WHEN it logs the request, as BaseHTTPRequestHandler does after answering
    handler.log_request(200)
    # THEN the line is there, without the token
    logged = capsys.readouterr().err
    assert "GET /api/users/me/?x-auth-token=REDACTED HTTP/1.1" in logged and TOKEN not in logged


# --- how it routes --------------------------------------------------------------------------------
def _gateway(*routes: str):
    from chalice import Chalice
    from chalice.config import Config

    from chalicelib.local.server import CirrusGateway

    app = Chalice(app_name="routing")
    for number, path in enumerate(routes):
        app.route(path, methods=["GET"], name=f"view{number}")(lambda **_: {"ok": True})
    return CirrusGateway(app, Config.create(chalice_stage="local", chalice_app=app, app_name="routing"))


def test_a_greedy_route_takes_only_what_no_other_route_takes():
    from chalicelib.local.server import GreedyRouteMatcher

    matcher = GreedyRouteMatcher(["/", "/api/customers", "/api/customers/{uuid}", "/{proxy+}"])
    assert matcher.match_route("/api/customers/").route == "/api/customers"
    assert matcher.match_route("/api/customers/abc/").captured == {"uuid": "abc"}
    deep = matcher.match_route("/api/customers/abc/no_such_action/?page=2")
    assert (deep.route, deep.captured) == ("/{proxy+}", {"proxy": "api/customers/abc/no_such_action/"})
    assert deep.query_params == {"page": ["2"]}
    assert matcher.match_route("/").route == "/"  # a greedy variable takes at least one character


def test_a_path_no_route_matches_is_a_404_that_quotes_no_header():
    # GIVEN an app without a catch-all, so that nothing matches: Chalice's gateway would answer 403
    # with the caller's Authorization header in its body
    gateway = _gateway("/api/customers")
    headers = {"Authorization": f"Token {TOKEN}"}
    for method in ("GET", "POST", "HEAD"):
        answer = gateway.handle_request(method, "/api/nothing/", headers, None)
        assert answer["statusCode"] == 404 and TOKEN not in str(answer)
        assert answer["body"] == ("" if method == "HEAD" else '{"detail": "Not found."}')


def test_the_event_carries_the_path_as_api_gateway_sends_it():
    event = _gateway("/api/customers/{uuid}")._generate_lambda_event(
        "GET", "/api/customers/abc/?x=1", {}, None
    )
    assert (event["path"], event["requestContext"]["resourcePath"]) == (
        "/api/customers/abc/",
        "/api/customers/{uuid}",
    )
