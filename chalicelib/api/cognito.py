"""`/api-auth/cognito/`: sign-in through the Cognito hosted UI (its own users, or the SAML and OIDC
identity providers it federates), the callback that turns its code into a Waldur token, and logout;
and `POST /api-auth/cognito/`, where HomePort posts the code its own login button obtained.

Bearer JWTs from the same pool are accepted on every endpoint without these (chalicelib/auth).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import StringConstraints

from chalicelib.api.rest import BodyModel, Call, QueryModel, ResponseModel, WithHeaders, endpoint
from chalicelib.config import CognitoSettings, get_settings
from chalicelib.domain.errors import AuthenticationFailed, ValidationError

bp = Blueprint(__name__)
TAG = "api-auth"
DISABLED = "Authentication method is disabled. Please use another authentication method or contact staff."
NATIVE_USERS = "COGNITO"  # Cognito's name for the pool's own users, as an identity provider


class LoginQuery(QueryModel):
    identity_provider: str | None = None


class CallbackQuery(QueryModel):
    code: str | None = None
    state: str | None = None
    error: str | None = None
    error_description: str | None = None


class TokenOut(ResponseModel):
    token: str


class LogoutOut(ResponseModel):
    logout_url: str


def _hosted_ui() -> CognitoSettings:
    settings = get_settings().cognito
    if not settings.hosted_ui:
        raise AuthenticationFailed(DISABLED)
    return settings


def _secure(call: Call) -> bool:
    return call.base_url.startswith("https://")


def _base_path(call: Call) -> str:
    """The path the base URL carries (a REST API's stage, or the public URL's), which the sign-in
    cookie's Path must start with to reach the callback."""
    return urlsplit(call.base_url).path.rstrip("/")


@endpoint(
    bp,
    "/api-auth/cognito/login",
    "GET",
    name="api_auth_cognito_login",
    tag=TAG,
    query=LoginQuery,
    status=302,
    anonymous=True,
    summary="Redirect to the Cognito hosted UI (optionally straight to one identity provider)",
)
def login(call: Call) -> Any:
    from chalicelib.auth import hosted_ui

    settings = _hosted_ui()
    provider = call.query.identity_provider
    if provider is not None and provider not in (*settings.identity_providers, NATIVE_USERS):
        raise ValidationError.field("identity_provider", f'"{provider}" is not a valid choice.')
    attempt = hosted_ui.Attempt.new()
    redirect_uri = f"{call.base_url}{hosted_ui.callback_path()}"
    location = hosted_ui.authorize_url(settings, redirect_uri, attempt, provider)
    cookie = attempt.cookie(_secure(call), _base_path(call))
    return WithHeaders(None, {"Location": location, "Set-Cookie": cookie})


@endpoint(
    bp,
    "/api-auth/cognito/callback",
    "GET",
    name="api_auth_cognito_callback",
    tag=TAG,
    query=CallbackQuery,
    response=TokenOut,
    anonymous=True,
    summary="Finish a hosted UI sign-in: exchange its code for a Waldur token",
)
def callback(call: Call) -> Any:
    from chalicelib.auth import bearer, hosted_ui
    from chalicelib.services import federation

    settings = _hosted_ui()
    query: CallbackQuery = call.query
    if query.error:
        described = f" ({query.error_description})" if query.error_description else ""
        raise AuthenticationFailed(f"Cognito error: {query.error}{described}")
    attempt = hosted_ui.attempt_from(call.header("cookie"), query.state)
    if not query.code:
        raise AuthenticationFailed("Cognito error: the callback carries no code.")
    redirect_uri = f"{call.base_url}{hosted_ui.callback_path()}"
    tokens = hosted_ui.exchange_code(settings, query.code, redirect_uri, attempt.verifier)
    claims = bearer.verifier().verify(tokens["id_token"], token_use="id")
    key = federation.sign_in(claims, call.ctx)
    expired = hosted_ui.expired_cookie(_secure(call), _base_path(call))
    return WithHeaders({"token": key}, {"Set-Cookie": expired})


class HomePortCodeIn(BodyModel):
    """What HomePort's OauthLoginCompleted page posts (its names, as Waldur's OAuth view reads them)."""

    clientId: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    code: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    redirectUri: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    # HomePort's own random value, which it never checks; accepted and not used.
    state: Annotated[str, StringConstraints(max_length=2048)] | None = None


@endpoint(
    bp,
    "/api-auth/cognito",
    "POST",
    name="api_auth_cognito",
    tag=TAG,
    body=HomePortCodeIn,
    response=TokenOut,
    anonymous=True,
    summary="Finish HomePort's sign-in through the hosted UI: exchange its code for a Waldur token",
)
def homeport_sign_in(call: Call) -> Any:
    """HomePort's login button sends the browser to the hosted UI itself (`auth_url` of
    `/api/identity-providers/cognito/`) and posts the code it gets back here, as it does to Waldur.

    Trade-off: this code comes without PKCE and without a state this API could check, because
    HomePort sends neither (Waldur's OAuth view checks neither). The app client is public, so a code
    is redeemable by whoever holds it, within its few minutes and once. What bounds it: the code is
    exchanged only with HomePort's own `oauth_login_completed` URL on the configured HomePort origin
    (the app client lists it; any other redirect URI is refused before the exchange), over TLS, and
    the ID token is verified (signature, issuer, audience, expiry) before anyone is signed in. A
    forged login (signing a victim in as the attacker) is possible as with any state-less OAuth
    client. `/api-auth/cognito/login/` keeps the PKCE and state-checked flow for other clients."""
    from chalicelib.auth import bearer, hosted_ui
    from chalicelib.services import federation

    settings = _hosted_ui()
    body: HomePortCodeIn = call.body
    if body.clientId != settings.client_ids[0]:
        raise ValidationError.field("clientId", "This is not the hosted UI's app client.")
    expected = hosted_ui.homeport_callback_url(get_settings().homeport_url or call.base_url)
    if body.redirectUri != expected:
        raise ValidationError.field("redirectUri", f"Sign-in must return to HomePort at {expected}")
    tokens = hosted_ui.exchange_code(settings, body.code, expected, None)
    claims = bearer.verifier().verify(tokens["id_token"], token_use="id")
    return {"token": federation.sign_in(claims, call.ctx)}


@endpoint(
    bp,
    "/api-auth/cognito/logout",
    "POST",
    name="api_auth_cognito_logout",
    tag=TAG,
    response=LogoutOut,
    anonymous=True,
    summary="Revoke this request's Waldur token (if any) and give the Cognito logout URL",
)
def logout(call: Call) -> Any:
    from chalicelib.auth import hosted_ui
    from chalicelib.services import auth

    settings = _hosted_ui()
    if call.principal is not None and call.key_hash:
        auth.logout(call.ctx, call.key_hash)
    target = settings.logout_redirect_url or f"{call.base_url}/"
    return {"logout_url": hosted_ui.logout_url(settings, target)}


def public_settings(base_url: str) -> dict[str, Any] | None:
    """What `/api/configuration/` says about Cognito sign-in, in the shape of Waldur's per-extension
    public settings (None when the hosted UI is not configured)."""
    settings = get_settings().cognito
    if not settings.hosted_ui:
        return None
    login_url = f"{base_url}/api-auth/cognito/login/"
    return {
        "CLIENT_ID": settings.client_ids[0],
        "AUTH_URL": f"{settings.domain}/oauth2/authorize",
        "LOGIN_URL": login_url,
        "LOGOUT_URL": f"{base_url}/api-auth/cognito/logout/",
        "IDENTITY_PROVIDERS": [
            {"provider": name, "label": name, "login_url": f"{login_url}?{_provider_param(name)}"}
            for name in settings.identity_providers
        ],
    }


def _provider_param(name: str) -> str:
    return urlencode({"identity_provider": name})
