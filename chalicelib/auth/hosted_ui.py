"""The Cognito hosted UI's OAuth 2.0 authorization-code flow with PKCE, as Cirrus drives it (and the
code exchange without PKCE that HomePort's login button needs: chalicelib/api/cognito.py).

The app client is public (no secret to keep): the code is bound to the browser that asked for it by
PKCE (S256) and the request by `state`. Both are kept in a short-lived HttpOnly cookie scoped to
`/api-auth/cognito/`, so the callback can check that the `state` Cognito returns is the one this
browser was given (a login CSRF is refused) without a server-side session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from chalicelib.config import CognitoSettings
from chalicelib.domain.errors import AuthenticationFailed

COOKIE = "cirrus_cognito"
COOKIE_PATH = "/api-auth/cognito/"
COOKIE_SECONDS = 600  # a sign-in at the hosted UI must finish within this
SCOPES = "openid email profile"
EXCHANGE_TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
# HomePort's page that finishes an OAuth sign-in (src/auth/utils.ts: getRedirectUri), for `cognito`.
HOMEPORT_CALLBACK_PATH = "/oauth_login_completed/cognito/"


def callback_path() -> str:
    return "/api-auth/cognito/callback/"


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: the `state` sent to Cognito and the PKCE verifier of its challenge."""

    state: str
    verifier: str

    @classmethod
    def new(cls) -> Attempt:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def cookie(self, secure: bool, base_path: str = "") -> str:
        """The cookie the callback reads back; `base_path` is what precedes the routes in the URLs
        the browser calls (a REST API's stage, `/api`), so that it is sent to the callback."""
        flags = f"Path={base_path}{COOKIE_PATH}; Max-Age={COOKIE_SECONDS}; HttpOnly; SameSite=Lax"
        return f"{COOKIE}={self.state}.{self.verifier}; {flags}{'; Secure' if secure else ''}"


def expired_cookie(secure: bool, base_path: str = "") -> str:
    flags = f"Path={base_path}{COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Lax"
    return f"{COOKIE}=; {flags}{'; Secure' if secure else ''}"


def authorize_url(
    settings: CognitoSettings, redirect_uri: str, attempt: Attempt, identity_provider: str | None
) -> str:
    params = {
        "response_type": "code",
        "client_id": settings.client_ids[0],
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "state": attempt.state,
        "code_challenge": attempt.challenge,
        "code_challenge_method": "S256",
    }
    if identity_provider:
        params["identity_provider"] = identity_provider  # straight to that IdP, past the chooser
    return f"{settings.domain}/oauth2/authorize?{urllib.parse.urlencode(params)}"


def logout_url(settings: CognitoSettings, logout_uri: str) -> str:
    """Cognito's logout endpoint: it ends the hosted UI's session, then sends the browser to
    `logout_uri` (one of the app client's sign-out URLs)."""
    params = {"client_id": settings.client_ids[0], "logout_uri": logout_uri}
    return f"{settings.domain}/logout?{urllib.parse.urlencode(params)}"


def attempt_from(cookie_header: str | None, state: str | None) -> Attempt:
    """The attempt this browser started, if the `state` Cognito sent back is its own."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        jar = SimpleCookie()
    morsel = jar.get(COOKIE)
    stored_state, _, verifier = (morsel.value if morsel else "").partition(".")
    if not state or not stored_state or not verifier or not hmac.compare_digest(stored_state, state):
        raise AuthenticationFailed("Cognito error: the sign-in state does not match; start it again.")
    return Attempt(stored_state, verifier)


def homeport_callback_url(homeport_url: str) -> str:
    """Where HomePort's login button has the hosted UI send the browser back to (its
    `oauth_login_completed` page, under the page's base URL), for the provider `cognito`."""
    return f"{homeport_url.rstrip('/')}{HOMEPORT_CALLBACK_PATH}"


def exchange_code(
    settings: CognitoSettings, code: str, redirect_uri: str, verifier: str | None
) -> dict[str, Any]:
    """Trade the authorization code for the user's tokens at Cognito's token endpoint; `verifier` is
    the PKCE verifier of the code's challenge (None: the authorize request had none, HomePort's)."""
    fields = {
        "grant_type": "authorization_code",
        "client_id": settings.client_ids[0],
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if verifier is not None:
        fields["code_verifier"] = verifier
    form = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(
        f"{settings.domain}/oauth2/token",
        data=form,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=EXCHANGE_TIMEOUT_SECONDS) as response:
            body = response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        raise AuthenticationFailed(_oauth_error(exc)) from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise AuthenticationFailed("Cognito error: unable to send authentication request.") from exc
    try:
        tokens = json.loads(body)
    except ValueError as exc:
        raise AuthenticationFailed("Cognito error: unable to parse the token response.") from exc
    if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
        raise AuthenticationFailed("Cognito error: the token response holds no ID token.")
    return tokens


def _oauth_error(exc: urllib.error.HTTPError) -> str:
    """Waldur's OAuth message: `<provider> error: <error> (<description>)`."""
    try:
        data = json.loads(exc.read(MAX_RESPONSE_BYTES))
        error, description = str(data["error"]), str(data.get("error_description") or "")
    except (ValueError, KeyError, TypeError, OSError):
        error, description = f"HTTP {exc.code}", ""
    return f"Cognito error: {error}" + (f" ({description})" if description else "")
