"""Cognito JWTs: `Authorization: Bearer <jwt>`, verified against the user pool's key set.

A token is accepted only when all of these hold, and refused with 401 otherwise:
- it is a compact JWS whose header says RS256 (no `none`, no HMAC: an HS256 token "signed" with the
  public key never reaches a key) and names a key id the pool publishes;
- its signature verifies with that RSA key;
- `iss` is the pool, `token_use` is `access` or `id`, and the app client is ours (an access token's
  `client_id`, an ID token's `aud`);
- `exp` is in the future and `nbf`/`iat` not, each within the configured leeway; `sub` is present.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError

from chalicelib.auth.jwks import KeyCache, http_fetch
from chalicelib.config import CognitoSettings, get_settings
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import AuthenticationFailed

ALGORITHM = "RS256"
# Cognito's tokens are 1-2 KB; a much longer header is not one of them (and is not parsed).
MAX_TOKEN_LENGTH = 16 * 1024
TOKEN_USES = ("access", "id")

INVALID = "Invalid token."
EXPIRED = "Token has expired."
NOT_YET_VALID = "Token is not yet valid."
NOT_CONFIGURED = "Bearer authentication is not configured."


def _now() -> int:
    return int(utcnow().timestamp())


class BearerVerifier:
    """Verifies Cognito JWTs for one pool and its app clients."""

    def __init__(self, settings: CognitoSettings, keys: KeyCache, now: Callable[[], int] = _now) -> None:
        self.settings = settings
        self.keys = keys
        self._now = now

    def verify(self, token: str, token_use: str | None = None) -> dict[str, Any]:
        """The token's claims, or AuthenticationFailed. `token_use` demands that kind of token."""
        kid = self._header_kid(token)
        key = self.keys.key(kid)
        if key is None:
            raise AuthenticationFailed(INVALID)
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
        except JoseError as exc:
            raise AuthenticationFailed(INVALID) from exc
        claims = decoded.claims
        self._check_times(claims)
        self._check_origin(claims, token_use)
        return claims

    @staticmethod
    def _header_kid(token: str) -> str:
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise AuthenticationFailed(INVALID)
        try:
            header = jws.extract_compact(token.encode("ascii")).protected
        except (JoseError, ValueError, UnicodeError) as exc:
            raise AuthenticationFailed(INVALID) from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not kid:
            raise AuthenticationFailed(INVALID)
        return kid

    def _check_times(self, claims: dict[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=self._now, leeway=self.settings.leeway_seconds, exp={"essential": True}
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as exc:
            raise AuthenticationFailed(EXPIRED) from exc
        except InvalidClaimError as exc:
            if exc.claim in ("nbf", "iat"):
                raise AuthenticationFailed(NOT_YET_VALID) from exc
            raise AuthenticationFailed(INVALID) from exc
        except JoseError as exc:
            raise AuthenticationFailed(INVALID) from exc

    def _check_origin(self, claims: dict[str, Any], token_use: str | None) -> None:
        use = claims.get("token_use")
        audience = claims.get("client_id") if use == "access" else claims.get("aud")
        if (
            claims.get("iss") != self.settings.expected_issuer
            or use not in TOKEN_USES
            or (token_use is not None and use != token_use)
            or not isinstance(audience, str)
            or audience not in self.settings.client_ids
            or not isinstance(claims.get("sub"), str)
            or not claims["sub"]
        ):
            raise AuthenticationFailed(INVALID)


@lru_cache(maxsize=4)
def _verifier_for(settings: CognitoSettings) -> BearerVerifier:
    # One key cache per pool configuration, kept for the life of the process (a warm Lambda reuses it).
    keys = KeyCache(http_fetch(settings.key_set_url), refresh_seconds=settings.jwks_refresh_seconds)
    return BearerVerifier(settings, keys)


def verifier() -> BearerVerifier:
    """The verifier for the configured pool; AuthenticationFailed when no pool is configured."""
    settings = get_settings().cognito
    if not settings.enabled:
        raise AuthenticationFailed(NOT_CONFIGURED)
    return _verifier_for(settings)


def reset() -> None:
    """Forget cached verifiers and their keys (tests that serve a new key set on the same URL)."""
    _verifier_for.cache_clear()
