"""An OpenAPI 3 document generated from the endpoints' own pydantic models (rest.ENDPOINTS)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api.rest import ENDPOINTS, Endpoint
from chalicelib.config import get_settings
from chalicelib.domain import request_keys

_REF = "#/components/schemas/{model}"
# DRF's error bodies: `{"detail": ...}`, `{"field": [messages]}`, or a plain list of messages (a
# non-field validation error raised outside a serializer's fields).
_ERROR = {
    "description": "Django REST framework error: {detail}, {field: [messages]} or [messages]",
    "oneOf": [
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {"type": "string"}},
    ],
}
# What any operation may answer besides its own: the errors every request can meet (a malformed or
# refused request, no or a bad token, no permission, nothing there, a verb the path does not serve,
# throttling at the gateway), then those of operations with a body (415) and of writes (409: a
# state that does not allow it, or a change that lost a race with another).
_COMMON_ERRORS = ("400", "401", "403", "404", "405", "429")
_BODY_ERRORS = ("415",)
_WRITE_ERRORS = ("409", "503")  # 503: throttled, or past the request's deadline


def _schemas() -> tuple[dict[tuple[type[BaseModel], str], Any], dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = []
    for e in ENDPOINTS:
        if e.body is not None:
            wanted.append((e.body, "validation"))
        if e.response is not None:
            wanted.append((e.response, "serialization"))
    key_map, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF)
    return {(m, str(mode)): ref for (m, mode), ref in key_map.items()}, top.get("$defs", {})  # type: ignore[misc]


def _query_parameters(e: Endpoint) -> list[dict[str, Any]]:
    if e.query is None:
        return []
    props = e.query.model_json_schema(ref_template=_REF).get("properties", {})
    params = []
    for name, schema in props.items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
        if schema.get("type") == "array":
            param.update(style="form", explode=True)
        params.append(param)
    return params


def _path_parameters(e: Endpoint) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-fA-F-]{32,36}$"},
        }
        for name in re.findall(r"{(\w+)}", e.path)
    ]


def _header_parameters(e: Endpoint) -> list[dict[str, Any]]:
    if not e.retry_key:
        return []
    key = {"type": "string", "minLength": 1, "maxLength": request_keys.MAX_KEY_LENGTH}
    about = "Makes the creation safe to send again: a retry with the same key and body (within a day) "
    about += "answers the first result; the same key with another body is 422."
    return [
        {"name": request_keys.HEADER, "in": "header", "required": False, "schema": key, "description": about}
    ]


SPARSE = "Sparse"  # the suffix of a response model's `?field=` variant


def _sparse(schema: dict[str, Any]) -> dict[str, Any]:
    """A response model answered through `?field=`: the same properties, none of them required
    (only the keys asked for are sent)."""
    variant = {k: v for k, v in schema.items() if k != "required"}
    variant["description"] = "The keys `?field=` asked for, of: " + str(schema.get("title", "the object"))
    return variant


def _with_sparse(e: Endpoint, schema: dict[str, Any]) -> dict[str, Any]:
    """The success schema of an operation that takes `?field=`: the whole object or its variant."""
    if e.query is None or "field" not in e.query.model_fields or "$ref" not in schema:
        return schema
    return {"anyOf": [schema, {"$ref": schema["$ref"] + SPARSE}]}


def _operation(e: Endpoint, refs: dict[tuple[type[BaseModel], str], Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": e.name,
        "tags": [e.tag],
        "parameters": _path_parameters(e) + _query_parameters(e) + _header_parameters(e),
        "responses": {},
    }
    if e.summary:
        op["summary"] = e.summary
    if e.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(e.body, "validation")]}},
        }
    success: dict[str, Any] = {"description": "Success"}
    if e.response is not None:
        schema = _with_sparse(e, refs[(e.response, "serialization")])
        if e.unpaged:
            schema = {"type": "array", "items": schema}
        elif e.many:
            schema = {"type": "array", "items": schema}
            success["headers"] = {
                "X-Result-Count": {"schema": {"type": "integer"}, "description": "Total across pages"},
                "Link": {"schema": {"type": "string"}, "description": "first, prev, next, last (RFC 8288)"},
            }
        success["content"] = {"application/json": {"schema": schema}}
    op["responses"][str(e.status)] = success
    codes = list(_COMMON_ERRORS)
    if e.body is not None:
        codes += _BODY_ERRORS
    if e.method != "GET":
        codes += _WRITE_ERRORS
    if e.retry_key:
        codes += ("422",)
    for code in codes:
        op["responses"][code] = {"description": "Error", "content": {"application/json": {"schema": _ERROR}}}
    op["security"] = [] if e.anonymous else [{"tokenAuth": []}]
    return op


@lru_cache(maxsize=8)
def document(base_url: str) -> dict[str, Any]:
    refs, defs = _schemas()
    sparse = {
        str(ref["$ref"]).rsplit("/", 1)[-1]
        for e in ENDPOINTS
        if e.response is not None and _with_sparse(e, ref := refs[(e.response, "serialization")]) is not ref
    }
    defs = {**defs, **{name + SPARSE: _sparse(defs[name]) for name in sparse if name in defs}}
    paths: dict[str, dict[str, Any]] = {}
    for e in ENDPOINTS:
        path = e.path.rstrip("/") + "/"
        paths.setdefault(path, {})[e.method.lower()] = _operation(e, refs)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Cirrus API",
            "version": get_settings().version,
            "description": "Waldur-compatible REST API of Cirrus. Lists are pages: ?page=&page_size=, "
            "headers X-Result-Count and Link.",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "tokenAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <key>` from POST /api-auth/password/",
                }
            },
        },
    }
