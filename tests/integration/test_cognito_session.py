"""The hosted UI's sign-in through the API: `/api-auth/cognito/login/` redirects with state and a PKCE
challenge, the callback checks the state against the browser's cookie, exchanges the code at the
token endpoint (a fake Cognito on 127.0.0.1 that checks the verifier) and answers a Waldur token;
logout gives Cognito's logout URL; `/api/configuration/` lists the identity providers."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.services.federation import federated_user_id
from tests.cognito_fakes import CLIENT_ID, ISSUER, FakeCognito, claims, configure, mint, serving
from tests.conftest import Account
from tests.helpers import Reply, call, feed

CALLBACK = "http://localhost/api-auth/cognito/callback/"
USER_ID = federated_user_id(ISSUER, claims()["sub"])


@pytest.fixture
def cognito(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCognito]:
    with serving(FakeCognito()) as fake:
        configure(monkeypatch, fake, CIRRUS_COGNITO_IDENTITY_PROVIDERS="Campus,Partner OIDC")
        yield fake


def get(client: Any, path: str, **headers: str) -> Reply:
    return call(client, "GET", path, headers=headers)


def header(reply: Reply, name: str) -> str:
    return next(v for k, v in reply.headers.items() if k.lower() == name)


def start(client: Any, query: str = "") -> tuple[str, str]:
    """GET login/: the authorize URL it redirects to and the cookie it sets (`name=value`)."""
    reply = get(client, f"/api-auth/cognito/login/{query}")
    assert reply.status == 302, reply.json
    return header(reply, "location"), header(reply, "set-cookie").split(";")[0]


def finish(client: Any, code: str, state: str, cookie: str | None) -> Reply:
    query = urllib.parse.urlencode({"code": code, "state": state})
    return get(client, f"/api-auth/cognito/callback/?{query}", **({"Cookie": cookie} if cookie else {}))


def sign_in(client: Any, fake: FakeCognito, id_token: str | None = None) -> Reply:
    location, cookie = start(client)
    code, state = fake.sign_in(location, id_token or mint(claims("id")))
    return finish(client, code, state, cookie)


def users(settle: Callable[[], int]) -> int:
    """The users' total once the stream consumer has counted every change so far."""
    from chalicelib.store import counters

    settle()
    return counters.value(counters.USERS)


# --- login ---------------------------------------------------------------------------------------------
def test_login_redirects_to_the_hosted_ui_with_state_and_a_pkce_challenge(client, cognito):
    reply = get(client, "/api-auth/cognito/login/")

    assert reply.status == 302
    url = urllib.parse.urlsplit(header(reply, "location"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{cognito.url}/oauth2/authorize"
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    cookie = header(reply, "set-cookie")
    assert cookie.startswith(f"cirrus_cognito={query['state']}.")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/api-auth/cognito/" in cookie
    assert "identity_provider" not in query


def test_each_login_gets_its_own_state(client, cognito):
    assert start(client)[1] != start(client)[1]


def test_login_may_go_straight_to_a_configured_identity_provider(client, cognito):
    location, _ = start(client, "?identity_provider=Partner+OIDC")
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["identity_provider"] == (
        "Partner OIDC"
    )
    reply = get(client, "/api-auth/cognito/login/?identity_provider=Elsewhere")
    assert reply.status == 400
    assert reply.json == {"identity_provider": ['"Elsewhere" is not a valid choice.']}


# --- callback ------------------------------------------------------------------------------------------
def test_the_callback_exchanges_the_code_and_answers_a_waldur_token(client, cognito):
    reply = sign_in(client, cognito)

    assert reply.status == 200, reply.json
    assert set(reply.json) == {"token"} and len(reply.json["token"]) == 40
    assert "Max-Age=0" in header(reply, "set-cookie")  # the attempt is over
    me = call(client, "GET", "/api/users/me/", headers={"Authorization": f"Token {reply.json['token']}"})
    assert (me.json["uuid"], me.json["username"], me.json["email"]) == (
        USER_ID,
        "fed-alice",
        "alice@idp.example",
    )
    exchange = cognito.exchanges[-1]
    assert exchange["redirect_uri"] == CALLBACK and exchange["client_id"] == CLIENT_ID
    types = [e.event_type for e in feed("user", USER_ID)]
    assert types == ["user_creation_succeeded", "auth_logged_in_with_oauth"]
    login = feed("user", USER_ID)[-1]
    assert login.context["user_uuid"] == USER_ID and login.context["provider"] == "cognito"


def test_a_callback_whose_state_is_not_the_browsers_is_refused_before_any_exchange(client, cognito, settle):
    location, cookie = start(client)
    code, state = cognito.sign_in(location, mint())
    _, other_cookie = start(client)  # another attempt's cookie (e.g. an attacker's own login)

    name, _, value = cookie.partition("=")
    for sent in (None, other_cookie, "cirrus_cognito=garbage", f"{name}=x{value}", "cirrus_cognito"):
        reply = finish(client, code, state, sent)
        assert reply.status == 401, sent
        assert reply.json == {"detail": "Cognito error: the sign-in state does not match; start it again."}
    assert cognito.exchanges == []
    assert users(settle) == 0


def test_a_code_is_good_once(client, cognito):
    location, cookie = start(client)
    code, state = cognito.sign_in(location, mint())
    assert finish(client, code, state, cookie).status == 200

    replay = finish(client, code, state, cookie)

    assert replay.status == 401
    assert replay.json == {"detail": "Cognito error: invalid_grant"}


def test_a_code_meant_for_another_browser_fails_its_pkce_check(client, cognito, settle):
    # The victim's code, replayed with the attacker's own state cookie: Cognito refuses the verifier.
    victim_location, _ = start(client)
    code, _ = cognito.sign_in(victim_location, mint())
    attacker_location, attacker_cookie = start(client)
    attacker_state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(attacker_location).query))["state"]

    reply = finish(client, code, attacker_state, attacker_cookie)

    assert reply.status == 401 and reply.json == {"detail": "Cognito error: invalid_grant"}
    assert users(settle) == 0


def test_an_error_from_the_hosted_ui_is_a_401_in_waldurs_words(client, cognito):
    query = "error=access_denied&error_description=User+is+not+enabled"
    reply = get(client, f"/api-auth/cognito/callback/?{query}")
    assert reply.status == 401
    assert reply.json == {"detail": "Cognito error: access_denied (User is not enabled)"}


def test_the_callback_takes_only_a_valid_id_token(client, cognito, settle):
    for token in (mint(claims("access")), mint(claims(aud="another-client")), "garbage"):
        reply = sign_in(client, cognito, token)
        assert reply.status == 401, token
    assert users(settle) == 0


def test_a_deactivated_user_gets_no_token(client, cognito, staff: Account):
    assert sign_in(client, cognito).status == 200
    assert call(client, "PATCH", f"/api/users/{USER_ID}/", staff, {"is_active": False}).status == 200

    reply = sign_in(client, cognito)

    assert reply.status == 401 and reply.json == {"detail": "User inactive or deleted."}


# --- logout --------------------------------------------------------------------------------------------
def test_logout_revokes_the_token_and_gives_cognitos_logout_url(client, cognito):
    token = sign_in(client, cognito).json["token"]
    headers = {"Authorization": f"Token {token}"}

    reply = call(client, "POST", "/api-auth/cognito/logout/", headers=headers)

    assert reply.status == 200
    url = urllib.parse.urlsplit(reply.json["logout_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{cognito.url}/logout"
    assert dict(urllib.parse.parse_qsl(url.query)) == {
        "client_id": CLIENT_ID,
        "logout_uri": "http://localhost/",
    }
    assert call(client, "GET", "/api/users/me/", headers=headers).status == 401
    assert feed("user", USER_ID)[-1].event_type == "auth_logged_out"


def test_logout_without_a_token_still_gives_the_url(client, cognito):
    reply = call(client, "POST", "/api-auth/cognito/logout/")
    assert reply.status == 200 and reply.json["logout_url"].startswith(f"{cognito.url}/logout?")


# --- configuration -------------------------------------------------------------------------------------
def test_configuration_lists_the_identity_providers(client, cognito):
    body = get(client, "/api/configuration/").json

    assert body["WALDUR_CORE"]["AUTHENTICATION_METHODS"] == ["LOCAL_SIGNIN", "SOCIAL_SIGNUP"]
    federated = body["WALDUR_AUTH_COGNITO"]
    assert federated["CLIENT_ID"] == CLIENT_ID
    assert federated["LOGIN_URL"] == "http://localhost/api-auth/cognito/login/"
    assert [p["provider"] for p in federated["IDENTITY_PROVIDERS"]] == ["Campus", "Partner OIDC"]
    assert federated["IDENTITY_PROVIDERS"][1]["login_url"] == (
        "http://localhost/api-auth/cognito/login/?identity_provider=Partner+OIDC"
    )


def test_without_a_hosted_ui_the_method_is_disabled(client, aws):
    body = get(client, "/api/configuration/").json
    assert body["WALDUR_CORE"]["AUTHENTICATION_METHODS"] == ["LOCAL_SIGNIN"]
    assert "WALDUR_AUTH_COGNITO" not in body
    for method, path in (
        ("GET", "/api-auth/cognito/login/"),
        ("GET", "/api-auth/cognito/callback/?code=c&state=s"),
        ("POST", "/api-auth/cognito/logout/"),
    ):
        reply = call(client, method, path)
        assert reply.status == 401, path
        assert reply.json["detail"].startswith("Authentication method is disabled.")
