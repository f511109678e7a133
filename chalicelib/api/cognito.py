"""`/api-auth/cognito/`: sign-in through the Cognito hosted UI (its own users, or the SAML and OIDC
identity providers it federates), the callback that turns its code into a Waldur token, and logout.

Bearer JWTs from the same pool are accepted on every endpoint without these (chalicelib/auth).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api.rest import Call, QueryModel, ResponseModel, WithHeaders, endpoint
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
    return WithHeaders(None, {"Location": location, "Set-Cookie": attempt.cookie(_secure(call))})


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
    tokens = hosted_ui.exchange_code(settings, query.code, redirect_uri, attempt)
    claims = bearer.verifier().verify(tokens["id_token"], token_use="id")
    key = federation.sign_in(claims, call.ctx)
    return WithHeaders({"token": key}, {"Set-Cookie": hosted_ui.expired_cookie(_secure(call))})


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
