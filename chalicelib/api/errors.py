"""The one place where errors become HTTP responses, in Django REST framework's shapes."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError as PydanticError

from chalicelib.domain import errors
from chalicelib.domain.text import text_problem


class HttpError(Exception):
    """An HTTP-level refusal that has no domain meaning (bad JSON, bad media type, bad page)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        super().__init__(json.dumps(body))


def detail(status: int, message: str, headers: dict[str, str] | None = None) -> HttpError:
    return HttpError(status, {"detail": message}, headers)


def method_not_allowed(method: str) -> HttpError:
    return detail(405, f'Method "{method}" not allowed.')


SERVER_ERROR = {"detail": "A server error occurred."}


def unsupported_media_type() -> HttpError:
    """DRF's 415 without the media type it quotes: no request header is ever echoed in a body (an
    echoed header is a reflection an attacker controls, and some headers carry credentials)."""
    return detail(415, "Unsupported media type in request.")


_TOKEN_CHALLENGE = {"WWW-Authenticate": "Token"}


# Errors whose body is their `detail`, by status (the first match wins: subclasses first).
_DETAIL_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (errors.TooBroad, 400),
    (errors.StateTransitionRefused, 400),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Unprocessable, 422),
)


def to_http(exc: Exception) -> tuple[int, Any, dict[str, str]]:
    """Status, body and extra headers for an error raised while serving a request."""
    if isinstance(exc, HttpError):
        return exc.status, exc.body, exc.headers
    if isinstance(exc, PydanticError):
        return 400, drf_errors(exc), {}
    if isinstance(exc, errors.ValidationError):
        return 400, exc.errors, {}
    if isinstance(exc, errors.NotAuthenticated):
        return 401, {"detail": exc.detail}, dict(_TOKEN_CHALLENGE)
    if isinstance(exc, errors.ServiceUnavailable):
        return 503, {"detail": exc.detail}, {"Retry-After": str(exc.retry_after)}
    for kind, status in _DETAIL_STATUS:
        if isinstance(exc, kind):
            return status, {"detail": getattr(exc, "detail", str(exc))}, {}
    raise exc


# pydantic error types -> DRF's wording, so clients see the messages Waldur would send.
_MESSAGES: dict[str, str] = {
    "missing": "This field is required.",
    "string_type": "Not a valid string.",
    "string_too_short": "This field may not be blank.",
    "int_parsing": "A valid integer is required.",
    "int_type": "A valid integer is required.",
    "int_from_float": "A valid integer is required.",
    "bool_parsing": "Must be a valid boolean.",
    "bool_type": "Must be a valid boolean.",
    "float_parsing": "A valid number is required.",
    "float_type": "A valid number is required.",
    "decimal_parsing": "A valid number is required.",
    "decimal_type": "A valid number is required.",
    "finite_number": "A valid number is required.",
    "date_parsing": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
    "date_from_datetime_parsing": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
    "date_from_datetime_inexact": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
    "date_type": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
    "datetime_parsing": "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
    "datetime_from_date_parsing": "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
    "datetime_type": "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
    "list_type": 'Expected a list of items but got type "{input_type}".',
    "dict_type": 'Expected a dictionary of items but got type "{input_type}".',
    "model_type": "Invalid data. Expected a dictionary, but got {input_type}.",
    "extra_forbidden": "Unknown field.",
}


# DRF's DecimalField messages (pydantic's context carries the same numbers).
_DECIMAL_LIMITS: dict[str, str] = {
    "decimal_max_digits": "Ensure that there are no more than {max_digits} digits in total.",
    "decimal_max_places": "Ensure that there are no more than {decimal_places} decimal places.",
    "decimal_whole_digits": (
        "Ensure that there are no more than {whole_digits} digits before the decimal point."
    ),
}


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if err.get("input", object()) is None and kind != "missing":
        return "This field may not be null."
    if kind == "string_too_long":
        return f"Ensure this field has no more than {ctx.get('max_length')} characters."
    if kind == "too_long":  # a list (DRF's ListField max_length)
        return f"Ensure this field has no more than {ctx.get('max_length')} elements."
    if kind in ("less_than_equal", "less_than"):
        return f"Ensure this value is less than or equal to {ctx.get('le', ctx.get('lt'))}."
    if kind in ("greater_than_equal", "greater_than"):
        return f"Ensure this value is greater than or equal to {ctx.get('ge', ctx.get('gt'))}."
    if kind in _DECIMAL_LIMITS:
        return _DECIMAL_LIMITS[kind].format(**ctx)
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "string_unicode":  # a lone surrogate (JSON's "\ud800"): DRF's message names it
        return text_problem(str(err.get("input", ""))) or str(err["msg"])
    template = _MESSAGES.get(kind)
    if template is None:
        return str(err["msg"])
    return template.format(input_type=type(err.get("input")).__name__)


def drf_errors(exc: PydanticError) -> dict[str, list[str]] | list[str]:
    """`{"field": ["message", ...]}` for field errors, `{"non_field_errors": [...]}` for the rest."""
    out: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        key = ".".join(loc) if loc else "non_field_errors"
        out.setdefault(key, []).append(_message(err))
    return out
