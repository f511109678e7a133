"""`/api/identity-providers/`: the external sign-in providers, in Waldur's shape. HomePort lists them on
its login page (anonymously) and, for an OIDC provider, sends the browser to its `auth_url` with
`client_id`; the sign-in then finishes at `/api-auth/<provider>/`.

Cirrus has one: Cognito's hosted UI (its own users and the SAML and OIDC providers the pool federates),
listed as `cognito` when the hosted UI is configured, and none otherwise. It is configured by the
deployment (CDK), not through this API.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api.rest import Call, ListQuery, ResponseModel, endpoint
from chalicelib.config import CognitoSettings, get_settings
from chalicelib.domain.errors import NotFound
from chalicelib.services.paging import paginate

bp = Blueprint(__name__)
TAG = "identity-providers"
COGNITO = "cognito"


class IdentityProviderOut(ResponseModel):
    provider: str
    label: str
    is_active: bool
    client_id: str
    verify_ssl: bool
    enable_post_logout_redirect: bool
    enable_pkce: bool
    discovery_url: str
    userinfo_url: str
    token_url: str
    auth_url: str
    logout_url: str
    management_url: str
    protected_fields: list[str]
    allowed_redirects: list[str]
    extra_scope: str | None = None
    user_field: str
    user_claim: str
    attribute_mapping: dict[str, str]
    extra_fields: str | None = None


def cognito_provider(settings: CognitoSettings, homeport_url: str) -> dict[str, Any]:
    """The hosted UI as an OIDC identity provider (no client secret: the app client is public)."""
    domain = settings.domain
    return {
        "provider": COGNITO,
        "label": "Cognito",  # HomePort shows "Sign in with {label}"
        "is_active": True,
        "client_id": settings.client_ids[0],
        "verify_ssl": True,
        "enable_post_logout_redirect": True,
        "enable_pkce": False,
        "discovery_url": f"{settings.expected_issuer}/.well-known/openid-configuration",
        "userinfo_url": f"{domain}/oauth2/userInfo",
        "token_url": f"{domain}/oauth2/token",
        "auth_url": f"{domain}/oauth2/authorize",
        "logout_url": f"{domain}/logout",
        "management_url": "",
        "protected_fields": [],
        "allowed_redirects": [homeport_url],
        "extra_scope": None,
        "user_field": "username",
        "user_claim": "sub",
        "attribute_mapping": {"email": "email", "full_name": "name"},
        "extra_fields": None,
    }


def providers(call: Call) -> list[dict[str, Any]]:
    settings = get_settings()
    if not settings.cognito.hosted_ui:
        return []
    homeport = f"{settings.homeport_url or call.base_url}/"
    return [cognito_provider(settings.cognito, homeport)]


@endpoint(
    bp,
    "/api/identity-providers",
    "GET",
    name="identity_providers_list",
    tag=TAG,
    query=ListQuery,
    response=IdentityProviderOut,
    many=True,
    anonymous=True,
    summary="External sign-in providers (Cognito's hosted UI when configured)",
)
def list_providers(call: Call) -> Any:
    from chalicelib.api.rest import listed

    q: ListQuery = call.query
    return listed(call, paginate(providers(call), q.page_request()), IdentityProviderOut, lambda row: row)


@endpoint(
    bp,
    "/api/identity-providers/{provider}",
    "GET",
    name="identity_providers_retrieve",
    tag=TAG,
    response=IdentityProviderOut,
    anonymous=True,
    summary="One external sign-in provider",
)
def retrieve_provider(call: Call, provider: str) -> Any:
    from chalicelib.api.rest import render

    for row in providers(call):
        if row["provider"] == provider:
            return render(IdentityProviderOut, row)
    raise NotFound("IdentityProvider")
