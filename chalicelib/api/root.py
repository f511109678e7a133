"""The router root, version, public configuration and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import RootModel

from chalicelib.api import cognito, openapi
from chalicelib.api.rest import ENDPOINTS, Call, ResponseModel, endpoint
from chalicelib.config import get_settings

bp = Blueprint(__name__)
TAG = "root"


class VersionOut(ResponseModel):
    version: str


class RootOut(RootModel[dict[str, str]]):
    """Each collection's name and its URL."""


class CoreSettingsOut(ResponseModel):
    SITE_NAME: str
    AUTHENTICATION_METHODS: list[str]
    TOKEN_LIFETIME: int


class ConfigurationOut(ResponseModel):
    """The public settings (Waldur's are many more; a client reads the keys it knows)."""

    WALDUR_CORE: CoreSettingsOut
    version: str
    WALDUR_AUTH_COGNITO: dict[str, Any] | None = None  # present when sign-in through Cognito is set up


class DocumentOut(RootModel[dict[str, Any]]):
    """An OpenAPI 3.0 document (this one)."""


def _collections() -> list[str]:
    names = set()
    for e in ENDPOINTS:
        parts = e.path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 2 and not parts[1].startswith("{"):
            names.add(parts[1])
    return sorted(names - {"schema", "version", "configuration"})


@endpoint(bp, "/api", "GET", name="api_root", tag=TAG, anonymous=True, response=RootOut,
          summary="Links to every collection")  # fmt: skip
def api_root(call: Call) -> Any:
    return {name: call.url(name) for name in _collections()}


@endpoint(bp, "/api/version", "GET", name="version_retrieve", tag=TAG, response=VersionOut, anonymous=True)
def version(call: Call) -> Any:
    return {"version": get_settings().version}


@endpoint(
    bp,
    "/api/configuration",
    "GET",
    name="configuration_retrieve",
    tag=TAG,
    anonymous=True,
    response=ConfigurationOut,
    summary="Public settings a client needs before signing in",
)
def configuration(call: Call) -> Any:
    settings = get_settings()
    federated = cognito.public_settings(call.base_url)
    body: dict[str, Any] = {
        "WALDUR_CORE": {
            "SITE_NAME": "Cirrus",
            # SOCIAL_SIGNUP is Waldur's method for sign-in through an external identity provider.
            "AUTHENTICATION_METHODS": ["LOCAL_SIGNIN", *(["SOCIAL_SIGNUP"] if federated else [])],
            "TOKEN_LIFETIME": 3600,
        },
        "version": settings.version,
    }
    if federated:
        body["WALDUR_AUTH_COGNITO"] = federated
    return body


@endpoint(
    bp,
    "/api/schema",
    "GET",
    name="schema_retrieve",
    tag=TAG,
    anonymous=True,
    response=DocumentOut,
    summary="OpenAPI 3 document of this API",
)
def schema(call: Call) -> Any:
    return openapi.document(call.base_url)
