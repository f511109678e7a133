"""The router root, version, public configuration and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import ConfigDict, RootModel

from chalicelib.api import openapi, public_settings
from chalicelib.api.rest import ENDPOINTS, Call, ResponseModel, endpoint
from chalicelib.config import get_settings

bp = Blueprint(__name__)
TAG = "root"


class VersionOut(ResponseModel):
    version: str


class RootOut(RootModel[dict[str, str]]):
    """Each collection's name and its URL."""


class CoreSettingsOut(ResponseModel):
    """WALDUR_CORE: branding, sign-in methods, currency, languages (chalicelib/api/public_settings.py
    has every key and what it says)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    SITE_NAME: str
    AUTHENTICATION_METHODS: list[str]
    TOKEN_LIFETIME: int
    CURRENCY_NAME: str
    LANGUAGE_CHOICES: list[str]


class ConfigurationOut(ResponseModel):
    """The public settings, one section per extension as in Waldur (a client reads the keys it knows)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    WALDUR_CORE: CoreSettingsOut
    FEATURES: dict[str, dict[str, bool]]
    LANGUAGES: list[list[str]]
    LANGUAGE_CODE: str
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
    return public_settings.public_configuration(call.base_url)


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
