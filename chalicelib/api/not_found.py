"""The catch-all routes: any path no other route serves, with any method, answers Waldur's 404.

Registered last (app.py). Behind API Gateway `/{proxy+}` is the greedy resource, which API Gateway
picks only when no explicit resource serves the request (infra/cdk/cirrus_infra/stack.py); the local
server sends it what no other route takes (chalicelib/local/server.py). A greedy variable takes at
least one character, so the bare root has its own route."""

from __future__ import annotations

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api.rest import not_found_route

bp = Blueprint(__name__)
# API Gateway's greedy path variable: the event's pathParameters carry the rest of the path as `proxy`.
CATCH_ALL = "/{proxy+}"
ROOT = "/"

not_found_route(bp, ROOT, name="not_found_root")
not_found_route(bp, CATCH_ALL, name="not_found")
