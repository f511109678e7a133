"""HTTP middleware: responses Chalice produces itself are rewritten in DRF's shapes, and every
response carries the security headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice import Response  # type: ignore[attr-defined]

from chalicelib.api import errors


def drf_shapes(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice answers an unrouted verb (405) and an unhandled error (500) in its own shape;
    Waldur's clients expect `{"detail": ...}`."""
    response = get_response(event)
    body = response.body
    if isinstance(body, dict) and "Code" in body:
        if response.status_code == 405:
            response.body = json.dumps(errors.method_not_allowed(event.method).body)
        elif response.status_code >= 500:
            response.body = json.dumps(errors.SERVER_ERROR)
        response.headers["Content-Type"] = "application/json"
    return response


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
