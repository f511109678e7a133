"""The external service desk this deployment is configured with (settings `support_backend`,
`support_backend_secret_arn`, `support_backend_settings`; chalicelib/config.py).

The adapter's settings are a JSON object of strings (what `jira.from_settings` / `zammad.from_settings`
take): from the Secrets Manager secret named by CIRRUS_SUPPORT_BACKEND_SECRET_ARN, read once per
container on first use and cached; or, locally and in tests, inline from
CIRRUS_SUPPORT_BACKEND_SETTINGS. Nothing is read at import. Problems raise `SettingsError` naming
what is wrong (the secret's ARN, missing keys), never a value.
"""

from __future__ import annotations

import json
from functools import lru_cache

from chalicelib.config import get_settings
from chalicelib.support_backends import KINDS, SettingsError, SupportBackend, build

BASIC = "basic"  # no external desk: the built-in one alone (Waldur's "basic" backend)


def kind() -> str:
    """`basic`, `jira` or `zammad` (or whatever unknown value was set: `backend()` refuses it)."""
    return get_settings().support_backend or BASIC


def enabled() -> bool:
    """Whether issues are kept in step with an external desk."""
    return kind() != BASIC


def backend() -> SupportBackend:
    """The configured adapter; `SettingsError` if none is configured or its settings are bad."""
    settings = get_settings()
    return _backend(
        settings.support_backend, settings.support_backend_secret_arn, settings.support_backend_settings
    )


@lru_cache(maxsize=2)
def _backend(kind_: str, secret_arn: str, inline: str) -> SupportBackend:
    if kind_ not in KINDS:
        raise SettingsError(
            f"CIRRUS_SUPPORT_BACKEND is {kind_!r}: support sync needs one of {', '.join(KINDS)}"
        )
    if secret_arn:
        mapping = _strings(_secret_string(secret_arn), f"secret {secret_arn}")
    elif inline.strip():
        mapping = _strings(inline, "CIRRUS_SUPPORT_BACKEND_SETTINGS")
    else:
        raise SettingsError(
            f"support backend {kind_!r} has no settings: set CIRRUS_SUPPORT_BACKEND_SECRET_ARN "
            "(or CIRRUS_SUPPORT_BACKEND_SETTINGS locally)"
        )
    try:
        return build(kind_, mapping)
    except SettingsError as error:
        where = f"secret {secret_arn}" if secret_arn else "CIRRUS_SUPPORT_BACKEND_SETTINGS"
        raise SettingsError(f"{error} (in {where})") from error


def _secret_string(arn: str) -> str:
    from chalicelib.workflows.aws import client

    try:
        answer = client("secretsmanager").get_secret_value(SecretId=arn)
    except Exception as error:  # no such secret, access denied, throttled: named, never its value
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise SettingsError(f"cannot read support backend secret {arn}: {code}") from error
    value = answer.get("SecretString")
    if not isinstance(value, str):
        raise SettingsError(f"support backend secret {arn} holds no SecretString")
    return value


def _strings(raw: str, where: str) -> dict[str, str]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise SettingsError(f"{where} is not JSON") from None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise SettingsError(f"{where} must be a JSON object of strings")
    return parsed


def forget() -> None:
    """Drop the cached adapter (tests and the local stack change the settings)."""
    _backend.cache_clear()
