"""Sign-in through the Cognito hosted UI from HomePort's login page, as HomePort does it: the page lists
`/api/identity-providers/`, its button sends the browser to the provider's `auth_url` with the client
id, HomePort's own `oauth_login_completed/cognito/` page as redirect URI, `scope=openid` and a state
(no PKCE), and that page posts `{clientId, code, state, redirectUri}` to `/api-auth/cognito/` and
expects `{"token": ...}`. The hosted UI is the fake Cognito on 127.0.0.1 (tests/cognito_fakes.py),
whose authorize endpoint signs in at once and redirects back with a code."""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.services.federation import federated_user_id
from tests.cognito_fakes import CLIENT_ID, ISSUER, FakeCognito, claims, configure, serving
from tests.helpers import Reply, call, feed

API_ORIGIN = "http://localhost"  # the Chalice test client's
PORTAL = "https://portal.example.org"
USER_ID = federated_user_id(ISSUER, claims()["sub"])


def homeport_redirect(origin: str) -> str:
    """HomePort's getRedirectUri('cognito'): `${document.baseURI}oauth_login_completed/cognito/`."""
    return f"{origin}/oauth_login_completed/cognito/"


@pytest.fixture
def cognito(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCognito]:
    with serving(FakeCognito()) as fake:
        configure(monkeypatch, fake)
        fake.callback_urls = [homeport_redirect(API_ORIGIN), homeport_redirect(PORTAL)]
        yield fake


def login_button(provider: dict[str, Any], redirect_uri: str) -> str:
    """The URL HomePort's login button opens (src/auth/utils.ts: getOauthURL)."""
    query = {
        "response_type": "code",
        "client_id": provider["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": "k3x9q2",
    }
    return f"{provider['auth_url']}?{urllib.parse.urlencode(query)}"


def follow(url: str) -> tuple[int, dict[str, str]]:
    """GET `url` without following its redirect: the status and the query of its Location."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        response.read()
        location = response.getheader("Location") or ""
    finally:
        connection.close()
    return response.status, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def hosted_ui_code(client: Any, redirect_uri: str) -> dict[str, str]:
    """What HomePort's login page and the hosted UI do, up to the callback's query (code, state)."""
    listed = call(client, "GET", "/api/identity-providers/").json
    (provider,) = [p for p in listed if p["provider"] == "cognito"]
    status, back = follow(login_button(provider, redirect_uri))
    assert status == 302, back
    return back


def complete(client: Any, back: dict[str, str], redirect_uri: str, **overrides: Any) -> Reply:
    """HomePort's OauthLoginCompleted page: the provider's client id, then the POST."""
    provider = call(client, "GET", "/api/identity-providers/cognito/").json
    body = {
        "clientId": provider["client_id"],
        "code": back.get("code"),
        "state": back.get("state"),
        "redirectUri": redirect_uri,
        **overrides,
    }
    return call(client, "POST", "/api-auth/cognito/", body=body)


def users(settle: Callable[[], int]) -> int:
    from chalicelib.store import counters

    settle()
    return counters.value(counters.USERS)


def test_homeports_login_button_signs_in_through_the_hosted_ui(client, cognito):
    redirect = homeport_redirect(API_ORIGIN)
    back = hosted_ui_code(client, redirect)
    assert back["state"] == "k3x9q2"

    reply = complete(client, back, redirect)

    assert reply.status == 200, reply.json
    assert set(reply.json) == {"token"} and len(reply.json["token"]) == 40
    me = call(client, "GET", "/api/users/me/", headers={"Authorization": f"Token {reply.json['token']}"})
    assert (me.json["uuid"], me.json["username"]) == (USER_ID, "fed-alice")
    exchange = cognito.exchanges[-1]
    assert exchange["redirect_uri"] == redirect and exchange["client_id"] == CLIENT_ID
    assert "code_verifier" not in exchange  # HomePort's authorize request had no challenge
    assert [e.event_type for e in feed("user", USER_ID)][-1] == "auth_logged_in_with_oauth"


def test_a_homeport_on_its_own_origin_gets_its_own_callback(client, cognito, monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_HOMEPORT_URL", f"{PORTAL}/")
    reset_settings()
    redirect = homeport_redirect(PORTAL)
    back = hosted_ui_code(client, redirect)

    # The API's own origin is not where this deployment's HomePort is.
    on_api = complete(client, back, homeport_redirect(API_ORIGIN))
    assert on_api.status == 400 and "redirectUri" in on_api.json
    reply = complete(client, back, redirect)
    assert reply.status == 200, reply.json


@pytest.mark.parametrize(
    "redirect",
    [
        f"{API_ORIGIN}/api-auth/cognito/callback/",  # the PKCE flow's callback
        "https://evil.example.com/oauth_login_completed/cognito/",
        f"{API_ORIGIN}/oauth_login_completed/cognito/?next=/x",
        f"{API_ORIGIN}/oauth_login_completed/eduteams/",
    ],
)
def test_any_other_redirect_uri_is_refused_before_an_exchange(client, cognito, settle, redirect):
    cognito.callback_urls.append(redirect)
    back = hosted_ui_code(client, redirect)

    reply = complete(client, back, redirect)

    expected = homeport_redirect(API_ORIGIN)
    assert reply.status == 400
    assert reply.json == {"redirectUri": [f"Sign-in must return to HomePort at {expected}"]}
    assert cognito.exchanges == [] and users(settle) == 0


def test_another_client_id_is_refused(client, cognito):
    redirect = homeport_redirect(API_ORIGIN)
    reply = complete(client, hosted_ui_code(client, redirect), redirect, clientId="someone-else")
    assert reply.status == 400 and reply.json == {"clientId": ["This is not the hosted UI's app client."]}
    assert cognito.exchanges == []


def test_a_code_is_good_once(client, cognito):
    redirect = homeport_redirect(API_ORIGIN)
    back = hosted_ui_code(client, redirect)
    assert complete(client, back, redirect).status == 200

    replay = complete(client, back, redirect)

    assert replay.status == 401 and replay.json == {"detail": "Cognito error: invalid_grant"}


def test_only_a_valid_id_token_signs_in(client, cognito, settle):
    redirect = homeport_redirect(API_ORIGIN)
    cognito.user = {"aud": "another-client"}
    reply = complete(client, hosted_ui_code(client, redirect), redirect)
    assert reply.status == 401
    assert users(settle) == 0


def test_the_body_is_checked(client, cognito):
    reply = call(client, "POST", "/api-auth/cognito/", body={"clientId": CLIENT_ID})
    assert reply.status == 400 and {"code", "redirectUri"} <= set(reply.json)
    assert cognito.exchanges == []


def test_without_a_hosted_ui_the_method_is_disabled(client, aws):
    body = {"clientId": "c", "code": "x", "redirectUri": homeport_redirect(API_ORIGIN)}
    reply = call(client, "POST", "/api-auth/cognito/", body=body)
    assert reply.status == 401 and reply.json["detail"].startswith("Authentication method is disabled.")
