"""Who is calling: Waldur token authentication, Cognito bearer JWTs and staff impersonation, read
from a request's headers and query string."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.config import get_settings
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import AuthenticationFailed, ValidationError
from chalicelib.domain.ids import parse_id
from chalicelib.services import auth as auth_service

IMPERSONATION_HEADER = "x-impersonated-user-uuid"


def authenticate_request(
    headers: Mapping[str, str], params: Mapping[str, list[str]], source: EventContext | None = None
) -> tuple[Principal | None, str | None]:
    """The caller and, for a Waldur token, its hash. `source` (address, correlation id) goes into the
    events of a federated user's first sight."""
    bearer_token = bearer_from(headers)
    key_hash: str | None = None
    if bearer_token is not None:
        principal = _bearer_principal(bearer_token, source or EventContext())
    else:
        key = token_from(headers, params)
        if key is None:
            return None, None
        found = auth_service.authenticate(key)
        principal, key_hash = found.principal, found.key_hash
    impersonate = headers.get(IMPERSONATION_HEADER)
    if impersonate:
        user_id = parse_id(impersonate)
        if user_id is None:
            raise ValidationError(["Invalid impersonated user uuid."])
        principal = auth_service.impersonate(principal, user_id)
    return principal, key_hash


def bearer_from(headers: Mapping[str, str]) -> str | None:
    """The JWT of `Authorization: Bearer <jwt>` (any case) when a Cognito pool is configured; without
    one the scheme is not ours and the request is simply unauthenticated."""
    parts = headers.get("authorization", "").split()
    if not parts or parts[0].lower() != "bearer" or not get_settings().cognito.enabled:
        return None
    if len(parts) != 2:
        raise AuthenticationFailed("Invalid bearer header.")
    return parts[1]


def _bearer_principal(jwt: str, source: EventContext) -> Principal:
    from chalicelib.auth import bearer  # joserfc loads with the first bearer request, not at cold start
    from chalicelib.services import federation

    claims = bearer.verifier().verify(jwt)
    return federation.authenticate(claims, source).principal()


def token_from(headers: Mapping[str, str], params: Mapping[str, list[str]]) -> str | None:
    """The token key from `Authorization: Token <key>` (any case) or `?x-auth-token=`, as DRF reads it.

    Another scheme is not ours to judge: the request is then simply unauthenticated.
    """
    parts = headers.get("authorization", "").split()
    if parts and parts[0].lower() == "token":
        if len(parts) == 1:
            raise AuthenticationFailed("Invalid token header. No credentials provided.")
        if len(parts) > 2:
            raise AuthenticationFailed("Invalid token header. Token string should not contain spaces.")
        return parts[1]
    values = params.get("x-auth-token")
    return values[-1] if values else None
