"""The REST API's routing, made to answer as Waldur does: every request reaches the app, which
answers a path it does not serve with 404 `{"detail": "Not found."}` (the `/{proxy+}` catch-all of
chalicelib/api/not_found.py) and a verb a path does not serve with 405; what API Gateway still answers
itself (throttling, a body too large, a timeout) comes in the same shape and never quotes the request.

API Gateway picks a resource and method as a pair: a request goes to the most specific resource that
has its method (an explicit one or ANY) and otherwise falls through to the greedy `/{proxy+}`; with no
match at all it answers 403 MissingAuthenticationToken, whose message quotes the caller's Authorization
header. So each path of Chalice's swagger gets one `x-amazon-apigateway-any-method` in place of its
per-verb operations (all of them invoke the same function with the same proxy integration, so this
changes nothing but the verbs that reach it; it also keeps the template small), and gateway responses
replace API Gateway's own bodies.

The gateway responses are in the definition (`x-amazon-apigateway-gateway-responses`), not
AWS::ApiGateway::GatewayResponse resources: SAM redeploys the API when its definition changes, and a
redeployment of an imported definition drops responses that live outside it
(aws/serverless-application-model#390)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses"
CATCH_ALL = "/{proxy+}"
PROXY_PARAMETER = {"name": "proxy", "in": "path", "required": True, "type": "string"}
VERBS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

NOT_FOUND = {"detail": "Not found."}
SERVER_ERROR = {"detail": "A server error occurred."}
# Every gateway response type (GetGatewayResponse's list) whose default body is API Gateway's message
# ($context.error.messageString, which may quote a request header): the status it is sent with (None:
# the status API Gateway chose) and a fixed body in DRF's shape. Route misses and signature errors are
# what API Gateway answers for a path or verb no resource serves: Waldur's 404.
_RESPONSES: dict[str, tuple[int | None, dict[str, str]]] = {
    "MISSING_AUTHENTICATION_TOKEN": (404, NOT_FOUND),
    "RESOURCE_NOT_FOUND": (404, NOT_FOUND),
    "INVALID_SIGNATURE": (404, NOT_FOUND),
    "EXPIRED_TOKEN": (404, NOT_FOUND),
    "UNAUTHORIZED": (401, {"detail": "Authentication credentials were not provided."}),
    "ACCESS_DENIED": (403, {"detail": "You do not have permission to perform this action."}),
    "INVALID_API_KEY": (403, {"detail": "You do not have permission to perform this action."}),
    "WAF_FILTERED": (403, {"detail": "You do not have permission to perform this action."}),
    "BAD_REQUEST_PARAMETERS": (400, {"detail": "Bad request."}),
    "BAD_REQUEST_BODY": (400, {"detail": "Bad request."}),
    "REQUEST_TOO_LARGE": (413, {"detail": "Request body too large."}),
    "UNSUPPORTED_MEDIA_TYPE": (415, {"detail": "Unsupported media type in request."}),
    "THROTTLED": (429, {"detail": "Request was throttled."}),
    "QUOTA_EXCEEDED": (429, {"detail": "Request was throttled."}),
    "DEFAULT_4XX": (None, {"detail": "Bad request."}),
    "INTEGRATION_TIMEOUT": (504, {"detail": "The server took too long to answer."}),
    "INTEGRATION_FAILURE": (502, SERVER_ERROR),
    "API_CONFIGURATION_ERROR": (500, SERVER_ERROR),
    "AUTHORIZER_FAILURE": (500, SERVER_ERROR),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, SERVER_ERROR),
    "DEFAULT_5XX": (None, SERVER_ERROR),
}
# The app's security headers (chalicelib/api/middleware.py) on API Gateway's own answers too.
_HEADERS = {
    "gatewayresponse.header.X-Content-Type-Options": "'nosniff'",
    "gatewayresponse.header.Cache-Control": "'no-store'",
}


def gateway_responses(cors_origin: str | None = None) -> dict[str, dict[str, Any]]:
    """Each gateway response type with a fixed body (its template uses no variable at all), and, when
    the API allows exactly one browser origin (or `*`), that origin's CORS header, so a page there sees
    API Gateway's own answer (429, 504...) rather than a CORS error. With several allowed origins a
    fixed header cannot name the right one, and reflecting the request's Origin would allow any: none
    is added (the app's own answers carry theirs, chalicelib/api/middleware.py)."""
    headers = dict(_HEADERS)
    if cors_origin:
        headers["gatewayresponse.header.Access-Control-Allow-Origin"] = f"'{cors_origin}'"
        if cors_origin != "*":
            headers["gatewayresponse.header.Vary"] = "'Origin'"
    out: dict[str, dict[str, Any]] = {}
    for kind, (status, body) in _RESPONSES.items():
        response: dict[str, Any] = {
            "responseParameters": dict(headers),
            "responseTemplates": {"application/json": json.dumps(body)},
        }
        if status is not None:
            response["statusCode"] = str(status)
        out[kind] = response
    return out


def route_everything_to_the_app(
    definition: dict[str, Any],
    resolve: Callable[[Any], Any] = lambda value: value,
    cors_origin: str | None = None,
    alias_of: str | None = None,
) -> dict[str, Any]:
    """The swagger Chalice generated, each path answering every verb through its integration, the
    greedy catch-all declaring its path parameter, and the gateway responses set. `resolve` turns
    CDK tokens into what they stand for (each `Fn::Sub` of the included template is its own token),
    so that operations are compared by what they do. With `alias_of` (the SAM function's logical id),
    the integrations invoke its `AutoPublishAlias` alias (`Ref: <id>.Alias`, which SAM resolves) rather
    than $LATEST: the published version SnapStart restores."""
    paths = copy.deepcopy(definition["paths"])
    if CATCH_ALL not in paths:
        raise ValueError(f"the app has no {CATCH_ALL} route (chalicelib/api/not_found.py)")
    routed = {path: _any_method(path, item, resolve) for path, item in paths.items()}
    routed[CATCH_ALL][ANY_METHOD]["parameters"] = [PROXY_PARAMETER]
    if alias_of:
        routed = {path: _invoke_alias(path, item, resolve, alias_of) for path, item in routed.items()}
    return {**definition, "paths": routed, GATEWAY_RESPONSES: gateway_responses(cors_origin)}


def _invoke_alias(
    path: str, item: dict[str, Any], resolve: Callable[[Any], Any], function: str
) -> dict[str, Any]:
    operation = dict(item[ANY_METHOD])
    integration = dict(resolve(operation[INTEGRATION]))
    uri = integration.get("uri")
    latest = f"${{{function}.Arn}}"
    if not isinstance(uri, dict) or latest not in str(uri.get("Fn::Sub", "")):
        raise ValueError(f"{path}: expected an integration invoking {latest}, got {uri!r}")
    # The alias as a Sub variable given by `Ref` (cfn-lint knows `Ref: <id>.Alias`, not `${<id>.Alias}`).
    integration["uri"] = {
        "Fn::Sub": [uri["Fn::Sub"].replace(latest, "${Alias}"), {"Alias": {"Ref": f"{function}.Alias"}}]
    }
    operation[INTEGRATION] = integration
    return {**item, ANY_METHOD: operation}


def _any_method(path: str, item: dict[str, Any], resolve: Callable[[Any], Any]) -> dict[str, Any]:
    operations = [item[verb] for verb in VERBS if verb in item]
    distinct = {json.dumps(resolve(op), sort_keys=True) for op in operations}
    if len(distinct) != 1 or ANY_METHOD in item:
        # Chalice describes every verb of a path alike (the same Lambda proxy integration); anything
        # else (a CORS preflight's mock, an authorizer on one verb) would need its own verb kept.
        raise ValueError(f"{path}: expected every verb described alike, got {item}")
    rest = {key: value for key, value in item.items() if key not in VERBS}
    return {**rest, ANY_METHOD: operations[0]}
