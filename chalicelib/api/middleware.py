"""HTTP middleware: responses Chalice produces itself are rewritten in DRF's shapes, and every
response carries the security headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from chalice import Response  # type: ignore[attr-defined]

from chalicelib.api import errors


def drf_shapes(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice answers an unrouted verb (405), a refused media type (415) and an unhandled error
    (500) in its own shape; Waldur's clients expect `{"detail": ...}`. Chalice's own messages are
    not reused: some quote the request's headers. And no answer to HEAD has a body."""
    response = get_response(event)
    method = getattr(event, "method", None)
    body = response.body
    if isinstance(body, dict) and "Code" in body:
        response.body = json.dumps(_drf_body(response.status_code, str(method)))
        response.headers["Content-Type"] = "application/json"
    if method == "HEAD":
        response.body = ""
    return response


def _drf_body(status: int, method: str) -> dict[str, str]:
    if status == 405:
        return dict(errors.method_not_allowed(method).body)
    if status == 415:
        return {"detail": "Unsupported media type in request."}
    if status >= 500:
        return dict(errors.SERVER_ERROR)
    return {"detail": f"{HTTPStatus(status).phrase.capitalize()}."}


# Every answer: browsers must not guess a JSON body into HTML or script, and nothing (a shared proxy,
# a browser's history) may keep a copy of what a caller's token let them read, or of a token itself.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def security_headers(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Add SECURITY_HEADERS to every response; a view that chose its own caching keeps it."""
    response = get_response(event)
    present = {name.lower() for name in response.headers}
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            response.headers[name] = value
    return response
