"""HTTP middleware: responses Chalice produces itself are rewritten in DRF's shapes, every response
carries the security headers, and browsers on the allowed other origins get CORS."""

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


# --- CORS: HomePort (or another browser client) served from another origin -----------------------
# Waldur answers every preflight itself and leaves the CORS headers to its web server (nginx); Cirrus
# has no web server in front of the Lambda, so the app adds them, for the origins the operator allows
# (CIRRUS_CORS_ALLOWED_ORIGINS) and no other. No Access-Control-Allow-Credentials: HomePort sends its
# token in the Authorization header, never a cookie, so a foreign page's request carries no ambient
# credential and a cookie-bound flow (the hosted UI's login/callback) stays same-origin.
CORS_ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
# The request headers HomePort and Waldur's clients send, besides the CORS-safelisted ones.
CORS_ALLOW_HEADERS = (
    "accept, accept-language, authorization, content-type, idempotency-key, x-correlation-id, "
    "x-impersonated-user-uuid"
)
# The response headers a client reads besides the CORS-safelisted ones: the pages (Link), the totals
# (X-Result-Count), who impersonates, where a creation is, a download's name, when to retry.
CORS_EXPOSE_HEADERS = "Link, X-Result-Count, X-impersonator-uuid, Location, Content-Disposition, Retry-After"
# How long a browser may keep a preflight's answer (Chrome caps it at 2 hours).
CORS_MAX_AGE_SECONDS = 3600


def cors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """CORS for the allowed origins: a preflight (OPTIONS with Origin and
    Access-Control-Request-Method) is answered here, 200 with what may be sent, on every path (routed
    or not, the catch-all included) before any view runs; any other request from an allowed origin
    gets its answer with Access-Control-Allow-Origin. A request from another origin is served as if CORS
    did not exist (no header: the browser keeps the answer from the page, and a preflight fails)."""
    from chalicelib.config import get_settings

    allowed = get_settings().cors_allowed_origins
    headers = {k.lower(): v for k, v in (getattr(event, "headers", None) or {}).items()}
    origin = headers.get("origin")
    if not allowed or not origin:
        return get_response(event)
    granted = _allowed_origin(origin, allowed)
    if granted is None:
        return get_response(event)
    if getattr(event, "method", None) == "OPTIONS" and "access-control-request-method" in headers:
        response = Response(body="", status_code=200, headers=_preflight_headers())
    else:
        response = get_response(event)
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    response.headers["Access-Control-Allow-Origin"] = granted
    if granted != "*":
        response.headers["Vary"] = _vary_origin(response.headers.get("Vary"))
    return response


def _preflight_headers() -> dict[str, str | list[str]]:
    return {
        "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
    }


def normal_origin(origin: str) -> str:
    """An origin as browsers serialise it: lower case, no trailing slash (a configured one may have it)."""
    return origin.strip().rstrip("/").lower()


def _allowed_origin(origin: str, allowed: tuple[str, ...]) -> str | None:
    """What Access-Control-Allow-Origin answers `origin`: `*` when any origin is allowed, the origin
    itself when it is listed, None otherwise (`null`, the origin of sandboxed and file pages, only
    under `*`)."""
    if "*" in allowed:
        return "*"
    wanted = normal_origin(origin)
    if wanted == "null":
        return None
    return origin if any(normal_origin(entry) == wanted for entry in allowed) else None


def _vary_origin(present: str | list[str] | None) -> str:
    joined = ", ".join(present) if isinstance(present, list) else present or ""
    names = [part.strip() for part in joined.split(",") if part.strip()]
    if not any(name.lower() == "origin" for name in names):
        names.append("Origin")
    return ", ".join(names)
