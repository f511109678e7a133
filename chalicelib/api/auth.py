"""`/api-auth/`: Waldur's password login and logout."""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import StringConstraints

from chalicelib.api.rest import BodyModel, Call, NoContent, ResponseModel, endpoint
from chalicelib.services import auth as service

bp = Blueprint(__name__)
TAG = "api-auth"


class PasswordLoginIn(BodyModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TokenOut(ResponseModel):
    token: str


class DetailOut(ResponseModel):
    detail: str


@endpoint(
    bp,
    "/api-auth/password",
    "POST",
    name="api_auth_password",
    tag=TAG,
    body=PasswordLoginIn,
    response=TokenOut,
    anonymous=True,
    summary="Exchange a username and password for a token",
)
def password_login(call: Call) -> Any:
    body: PasswordLoginIn = call.body
    return {"token": service.login(body.username, body.password, call.ctx)}


@endpoint(
    bp,
    "/api-auth/logout",
    "POST",
    name="api_auth_logout",
    tag=TAG,
    status=204,
    summary="Revoke the token this request carries",
)
def logout(call: Call) -> Any:
    call.user  # noqa: B018 - refuses anonymous callers
    if call.key_hash:
        service.logout(call.ctx, call.key_hash)
    # Waldur answers 204 with no body; 200 {"logout_url": ...} only after an OIDC or SAML2 sign-in,
    # whose logout Cirrus serves at /api-auth/cognito/logout.
    return NoContent()
