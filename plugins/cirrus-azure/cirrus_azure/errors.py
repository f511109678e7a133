"""Azure SDK failures in the platform's terms: `TransientError` for what a retry may cure (throttling
429, 408, a 5xx, a connection that failed or timed out) and `ProviderError` for a refusal (any other
4xx, a long-running operation that ended Failed), carrying ARM's error code and message, bounded,
with every secret option's value blanked out (ARM repeats ids, such as the subscription, in its
messages; the client secret never travels to ARM but is blanked all the same)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from chalicelib.providers.cloud import ProviderError, TransientError

MAX_MESSAGE = 400
BLANK = "***"


def scrub(text: str, secrets: Iterable[str]) -> str:
    for value in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(value, BLANK)
    return text


def _bounded(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def arm_error(exc: Any) -> tuple[str, str]:
    """ARM's `{"error": {"code", "message"}}` of a failed call (or of a failed operation's status)."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or ""
    message = getattr(error, "message", None) or ""
    if not code:
        try:
            body = exc.response.json()
        except Exception:
            body = None
        if isinstance(body, dict):
            inner: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else body
            code = str(inner.get("code") or "")
            message = str(inner.get("message") or "")
    if not message:
        message = str(getattr(exc, "reason", "") or getattr(exc, "message", "") or "")
    return str(code), str(message)


def _identity_unavailable(exc: BaseException) -> str:
    """Why azure-identity failed if not for the credentials: the token endpoint unreachable (its
    ServiceRequestError / ServiceResponseError, kept as the error's context) or answering 5xx (MSAL's
    "HTTP Error: 503"); "" for a refusal."""
    from azure.core import exceptions as az

    cause = getattr(exc, "exc_value", None) or exc.__context__
    if isinstance(cause, az.ServiceRequestError | az.ServiceResponseError):
        return f"could not be reached ({type(cause).__name__})"
    found = re.search(r"HTTP Error: ([0-9]{3})", f"{exc} {cause or ''}")
    if found is not None and (found.group(1) == "429" or found.group(1).startswith("5")):
        return f"is unavailable (HTTP {found.group(1)})"
    return ""


def translated(exc: BaseException, what: str, secrets: Iterable[str]) -> ProviderError:
    """The ProviderError (or TransientError) to raise for `exc`, raised while `what`."""
    from azure.core import exceptions as az

    secrets = list(secrets)
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, az.ClientAuthenticationError) and getattr(exc, "status_code", None) is None:
        unavailable = _identity_unavailable(exc)
        if unavailable:
            return TransientError(f"Azure's identity platform {unavailable} while {what}; retrying.")
    if isinstance(exc, az.ClientAuthenticationError) and getattr(exc, "status_code", None) in (None, 401):
        # azure-identity's refusal (the token endpoint's AADSTS message) or ARM's 401.
        _code, message = arm_error(exc)
        text = message or str(exc)
        return ProviderError(
            _bounded(scrub(f"Azure refused the offering's credentials while {what}: {text}", secrets))
        )
    if isinstance(exc, az.HttpResponseError):
        status = exc.status_code or 0
        code, message = arm_error(exc)
        detail = f"{code}: {message}" if code else message
        if status in (408, 429) or status >= 500:
            said = f", {detail}" if detail else ""
            text = f"Azure is unavailable while {what} (HTTP {status}{said}); retrying."
            return TransientError(_bounded(scrub(text, secrets)))
        return ProviderError(_bounded(scrub(f"Azure refused {what}: {detail or f'HTTP {status}'}", secrets)))
    if isinstance(exc, az.ServiceRequestError | az.ServiceResponseError):
        return TransientError(f"Azure could not be reached while {what} ({type(exc).__name__}); retrying.")
    if isinstance(exc, az.AzureError):
        return ProviderError(_bounded(scrub(f"Azure failed while {what}: {exc}", secrets)))
    return ProviderError(f"The Azure plugin failed while {what} ({type(exc).__name__}).")
