"""The API function's front door adapter: API Gateway HTTP API events (payload format 1.0) routed by
Chalice's own route table, as a REST API would route them, then handed to the Chalice app.

An HTTP API's `$default` route sends every request with no resource path (`resource` and
`requestContext.resourcePath` are `$default`, `pathParameters` null); Chalice dispatches on the
resource path, so it would answer 500 to all of them. Here the request's path is matched with API
Gateway's rules (`RouteTable`), and the event gets the route and its parameters. Everything else in a
1.0 event is what Chalice already reads from a REST API's (headers in the client's case, which
Chalice's Request reads case-insensitively; `multiValueQueryStringParameters`; `isBase64Encoded`;
`requestContext.httpMethod` and `identity.sourceIp`), and its response format is the REST API's
(`multiValueHeaders`, `isBase64Encoded`). A REST API event (a real resource path) passes unchanged.

This module runs in the Lambda bundle, which carries only chalice/app.py of Chalice: no chalice.local.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# API Gateway's greedy path variable, `{proxy+}`: the rest of the path, slashes included.
_GREEDY = re.compile(r"^\{(\w+)\+\}$")
_PARAM = re.compile(r"^\{(\w+)\}$")
# What an HTTP API's catch-all route puts where a REST API puts the matched resource.
DEFAULT_ROUTE = "$default"
DEFAULT_STAGE = "$default"
# A base path a link may carry: `/segment` parts of the characters API Gateway allows in stage names
# and custom domains' base paths. Anything else in the request context is ignored, not linked to.
_BASE_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")
_STAGE = re.compile(r"^[A-Za-z0-9._~-]+$")
# The stack's answer when nothing matches (the REST API's MISSING_AUTHENTICATION_TOKEN gateway
# response); unreachable while the app has its catch-all (chalicelib/api/not_found.py).
UNMATCHED: dict[str, Any] = {
    "statusCode": 404,
    "headers": {"Content-Type": "application/json"},
    "multiValueHeaders": {},
    "body": '{"detail": "Not found."}',
}


@dataclass(frozen=True)
class Match:
    route: str
    params: dict[str, str]


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    params: list[tuple[str, _Node]] = field(default_factory=list)
    greedy: tuple[str, str] | None = None  # (variable, route)
    route: str | None = None


class RouteTable:
    """Chalice's routes matched as API Gateway matches resources: a trailing slash is dropped (no
    route ends with `/`), a literal segment beats a `{param}`, and a greedy `{proxy+}` takes a path
    (at least one more character) only when no other route does. A parameter takes one non-empty
    segment, as the request spells it (`decode=True` percent-decodes it, as API Gateway does for a
    REST API, whose paths arrive encoded)."""

    def __init__(self, routes: Iterable[str]) -> None:
        self._root = _Node()
        for route in routes:
            self._add(route)

    def _add(self, route: str) -> None:
        node = self._root
        for segment in _segments(route):
            greedy = _GREEDY.match(segment)
            if greedy:
                node.greedy = (greedy.group(1), route)
                return
            param = _PARAM.match(segment)
            node = _child_param(node, param.group(1)) if param else node.literals.setdefault(segment, _Node())
        node.route = route

    def match(self, path: str, *, decode: bool = False) -> Match | None:
        """The route that serves `path` (no query string) and its parameters, or None."""
        path = path or "/"
        trimmed = path[:-1] if path != "/" and path.endswith("/") else path
        found = _walk(self._root, _segments(trimmed), 0, {}, path)
        if found is None or not decode:
            return found
        from urllib.parse import unquote

        return Match(found.route, {name: unquote(value) for name, value in found.params.items()})


def _segments(path: str) -> list[str]:
    return [] if path in ("", "/") else path.split("/")[1:]


def _child_param(node: _Node, name: str) -> _Node:
    for known, child in node.params:
        if known == name:
            return child
    child = _Node()
    node.params.append((name, child))
    return child


def _walk(node: _Node, parts: list[str], at: int, params: dict[str, str], path: str) -> Match | None:
    """Depth first, literals before parameters before this node's greedy variable."""
    if at == len(parts):
        return Match(node.route, dict(params)) if node.route is not None else None
    literal = node.literals.get(parts[at])
    if literal is not None:
        found = _walk(literal, parts, at + 1, params, path)
        if found is not None:
            return found
    if parts[at]:
        for name, child in node.params:
            found = _walk(child, parts, at + 1, {**params, name: parts[at]}, path)
            if found is not None:
                return found
    if node.greedy is not None:
        # The rest of the path as requested (its trailing slash too), after this node's prefix.
        prefix_length = sum(len(part) + 1 for part in parts[:at]) + 1
        rest = path[prefix_length:]
        if rest.strip("/"):
            name, route = node.greedy
            return Match(route, {**params, name: rest})
    return None


@lru_cache(maxsize=4)
def route_table(app: Any) -> RouteTable:
    """The app's route table, built on first use (not at import: Lambda's init stays short; the
    SnapStart before-snapshot hook builds it into the snapshot) and kept."""
    return RouteTable(list(app.routes))


def is_unrouted(event: Mapping[str, Any]) -> bool:
    """True for an event with no resource path: an HTTP API's `$default` route."""
    context = event.get("requestContext") or {}
    return context.get("resourcePath") in (None, DEFAULT_ROUTE) and event.get("resource") in (
        None,
        DEFAULT_ROUTE,
    )


def to_rest_event(event: Mapping[str, Any], table: RouteTable) -> dict[str, Any] | None:
    """The event as a REST API would send it for the route its path matches (None: no route does).

    An HTTP API delivers the path already percent-decoded (payload 1.0 `path` as 2.0 `rawPath`), so
    its segments are the parameters' values as they are: decoding again would turn a `%25` a client
    sent into something else."""
    if event.get("version") == "2.0":
        raise ValueError("HTTP API payload format 2.0 is not supported: set the integration's to 1.0")
    context = dict(event.get("requestContext") or {})
    path = str(event.get("path") or context.get("path") or "/")
    found = table.match(path)
    if found is None:
        return None
    context["resourcePath"] = found.route
    routed = {
        "multiValueQueryStringParameters": None,
        "headers": {},
        "body": None,
        "stageVariables": None,
        **event,
        "path": path,
        "resource": found.route,
        "pathParameters": found.params or None,
        "requestContext": context,
    }
    routed["headers"] = routed["headers"] or {}
    return routed


def handle(app: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda's entry for the API function: route an HTTP API event, pass a REST API event."""
    if is_unrouted(event):
        routed = to_rest_event(event, route_table(app))
        if routed is None:
            return dict(UNMATCHED)
        event = routed
    response: dict[str, Any] = app(event, context)
    return response


def base_path(request_context: Mapping[str, Any] | None, path: str | None) -> str:
    """The path the API's public URLs start with before a route's own (`/api` on a REST API's
    `api` stage reached by its execute-api URL; empty on an HTTP API's `$default` stage, and behind a
    custom domain mapped at the root), from API Gateway's request context, which no client header
    can set. The context's `path` is what the client requested, the event's `path` what the routes
    see; what precedes the latter is the prefix. Failing that, the stage's name."""
    context = request_context or {}
    stage = context.get("stage")
    if not isinstance(stage, str) or not stage or stage == DEFAULT_STAGE:
        return ""
    requested = context.get("path")
    if isinstance(requested, str) and path and requested.endswith(path):
        prefix = requested[: len(requested) - len(path)]
        if _BASE_PATH.match(prefix):
            return prefix
    return f"/{stage}" if _STAGE.match(stage) else ""
