"""Who is calling: Waldur token authentication and staff impersonation, read from a request's
headers and query string. Bearer JWTs (Cognito) join here with the federated sign-in issue."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.domain.context import Principal
from chalicelib.domain.errors import AuthenticationFailed, ValidationError
from chalicelib.domain.ids import parse_id
from chalicelib.services import auth as auth_service

IMPERSONATION_HEADER = "x-impersonated-user-uuid"


def authenticate_request(
    headers: Mapping[str, str], params: Mapping[str, list[str]]
) -> tuple[Principal | None, str | None]:
    key = token_from(headers, params)
    if key is None:
        return None, None
    found = auth_service.authenticate(key)
    principal = found.principal
    impersonate = headers.get(IMPERSONATION_HEADER)
    if impersonate:
        user_id = parse_id(impersonate)
        if user_id is None:
            raise ValidationError(["Invalid impersonated user uuid."])
        principal = auth_service.impersonate(principal, user_id)
    return principal, found.key_hash


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
