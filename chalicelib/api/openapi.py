"""An OpenAPI 3 document generated from the endpoints' own pydantic models (rest.ENDPOINTS)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from chalicelib.api.rest import ENDPOINTS, Endpoint
from chalicelib.config import get_settings
from chalicelib.domain import ids, request_keys

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
# throttling at the gateway), then those of operations with a body (415), of writes (409: a
# state that does not allow it, or a change that lost a race with another) and of creations (422).
_COMMON_ERRORS = ("400", "401", "403", "404", "405", "429")
_BODY_ERRORS = ("415",)
_WRITE_ERRORS = ("409", "503")  # 503: throttled, or past the request's deadline (domain/deadline.py)
# A creation given an idempotency key it already used for another request (services/request_keys.py).
_CREATE_ERRORS = ("422",)


# Keywords whose value is a schema, a list of schemas, or a map of names to schemas.
_ONE = ("items", "additionalProperties", "not")
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs")
# A schema with none of these takes any JSON value, null included.
_CONSTRAINING = ("type", "$ref", "enum", "const", *_MANY)
_NULL = {"type": "null"}


def openapi30(schema: Any) -> Any:
    """Pydantic writes JSON Schema 2020-12 (OpenAPI 3.1's dialect); this document is OpenAPI 3.0,
    whose schema objects say null with `nullable: true` (an untyped schema included: it takes null
    too), a single value with `enum`, and an exclusive bound with a flag beside the bound.
    Rewrites a schema, and those in it, into 3.0's words."""
    if not isinstance(schema, dict):
        return schema
    out = {key: _nested(key, value) for key, value in schema.items()}
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(exclusive), int | float) and not isinstance(out[exclusive], bool):
            out[bound], out[exclusive] = out[exclusive], True  # 3.0: a flag on the bound
    options = out.get("anyOf")
    if isinstance(options, list) and _NULL in options:
        out = _nullable(out, [o for o in options if o != _NULL])
    elif not any(k in out for k in _CONSTRAINING):
        out["nullable"] = True
    return out


def _nested(key: str, value: Any) -> Any:
    """A keyword's value, the schemas in it rewritten."""
    if key in _ONE:
        return openapi30(value)
    if key in _MANY and isinstance(value, list):
        return [openapi30(v) for v in value]
    if key in _NAMED and isinstance(value, dict):
        return {name: openapi30(v) for name, v in value.items()}
    return value


def _nullable(schema: dict[str, Any], options: list[Any]) -> dict[str, Any]:
    out = {k: v for k, v in schema.items() if k != "anyOf"}
    if len(options) == 1 and "$ref" not in options[0]:
        out = {**options[0], **out}
    elif len(options) == 1:
        out["allOf"] = options  # a $ref has no siblings in 3.0: wrapped, it may be null
    else:
        out["anyOf"] = options
    out["nullable"] = True
    return out


# A path's uuid as the API takes it (rest.object_id: 32 hex digits, or dashed), and an object's
# uuid as the API renders it (32 lower-case hex digits, Waldur's `uuid.hex`; no dashes, so not
# JSON Schema's `format: uuid`).
PATH_UUID = ids.UUID_PATTERN
RENDERED_UUID = "^[0-9a-f]{32}$"


class _Generator(GenerateJsonSchema):
    """Pydantic's JSON Schema, with what it leaves out of a decimal: the bounds its digits imply,
    and the form of the string it takes."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        out = super().decimal_schema(schema)
        digits, places = schema.get("max_digits"), schema.get("decimal_places")
        pattern = decimal_pattern(schema)
        for option in out.get("anyOf", [out]):
            if option.get("type") == "string" and pattern is not None:
                option["pattern"] = pattern
        if digits is None or places is None:
            return out
        words = f"A decimal number: at most {digits} digits, {places} after the point"
        for option in out.get("anyOf", [out]):
            if option.get("type") == "number":
                _whole(option, 10 ** (digits - places))
            elif option.get("type") == "string":
                option["description"] = words
        out["description"] = f"{words}: a string, or a whole JSON number" + _FRACTIONS
        return out


# A JSON number with a fraction is a float to the parser: taken when its shortest form fits the
# digits (`1.5`), refused when not (`0.1 + 0.2`), which no schema of numbers can state; the exact
# form is the string.
_FRACTIONS = " (a number with a fraction is taken where its shortest form fits)"


def _whole(option: dict[str, Any], bound: int) -> None:
    """A decimal's JSON number option as the whole numbers it always takes: `digits - places` whole
    digits, so below 10**that in either direction (exclusive), and within the field's bounds."""
    option["type"] = "integer"
    for key in ("minimum", "maximum"):
        if isinstance(option.get(key), float) and option[key] == int(option[key]):
            option[key] = int(option[key])
    if option.get("maximum", bound) >= bound:
        option.pop("maximum", None)
        option["exclusiveMaximum"] = bound
    if option.get("minimum", -bound) <= -bound:
        option.pop("minimum", None)
        option["exclusiveMinimum"] = -bound


def decimal_pattern(schema: core_schema.DecimalSchema) -> str | None:
    """The decimal strings a DecimalField takes, as a pattern: plain notation (no exponent, no
    leading zeros, no blanks, though the field takes those too), at most the field's digits before
    and after the point, within its bounds. A pattern cannot say "at most 200" of any number, so it
    is written for the bounds Cirrus's decimals have: none, or 0 at least, or up to a whole number
    (None for others: the test of the document names any decimal left without a pattern)."""
    digits, places = schema.get("max_digits"), schema.get("decimal_places")
    low, high = schema.get("ge"), schema.get("le")
    if schema.get("gt") is not None or schema.get("lt") is not None or (low is not None and low != 0):
        return None
    if high is not None and high != int(high):
        return None
    whole = None if digits is None or places is None else digits - places
    fraction = r"(\.[0-9]+)?" if places is None else (rf"(\.[0-9]{{1,{places}}})?" if places else "")
    sign = "" if low is not None else "-?"
    widest = 10**whole if whole is not None else None
    if high is None or (widest is not None and high >= widest):
        more = "[0-9]*" if whole is None else f"[0-9]{{0,{whole - 1}}}"
        return f"^{sign}(0|[1-9]{more}){fraction}$"
    top = int(high)
    exact = r"(\.0+)?" if places is None else (rf"(\.0{{1,{places}}})?" if places else "")
    return f"^{sign}(({_below(top)}){fraction}|{top}{exact})$"


def _below(n: int) -> str:
    """A pattern of the whole numbers 0 to n - 1 (n > 0), written without leading zeros."""
    s = str(n)
    options = ["0"]
    if len(s) > 1:
        options.append(f"[1-9][0-9]{{0,{len(s) - 2}}}")
    for i, digit in enumerate(s):
        lowest, highest = (1 if i == 0 else 0), int(digit) - 1
        if highest >= lowest:
            rest = f"[0-9]{{{len(s) - i - 1}}}" if i < len(s) - 1 else ""
            first = str(lowest) if lowest == highest else f"[{lowest}-{highest}]"
            options.append(f"{s[:i]}{first}{rest}")
    return "|".join(options)


def _rendered_uuids(schema: dict[str, Any]) -> dict[str, Any]:
    """A response model's `uuid` and `*_uuid` strings: the ids it renders."""
    for name, prop in schema.get("properties", {}).items():
        if (name == "uuid" or name.endswith("_uuid")) and prop.get("type") == "string":
            prop["pattern"] = RENDERED_UUID
    return schema


def _schemas() -> tuple[dict[tuple[type[BaseModel], str], Any], dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = []
    for e in ENDPOINTS:
        if e.body is not None:
            wanted.append((e.body, "validation"))
        if e.response is not None:
            wanted.append((e.response, "serialization"))
    key_map, top = models_json_schema(
        list(dict.fromkeys(wanted)), ref_template=_REF, schema_generator=_Generator
    )
    refs: dict[tuple[type[BaseModel], str], Any] = {(m, str(mode)): ref for (m, mode), ref in key_map.items()}  # type: ignore[misc]
    rendered = {
        str(ref["$ref"]).rsplit("/", 1)[-1] for (_, mode), ref in refs.items() if mode == "serialization"
    }
    defs = {name: openapi30(schema) for name, schema in top.get("$defs", {}).items()}
    return refs, {name: _rendered_uuids(d) if name in rendered else d for name, d in defs.items()}


def _query_parameters(e: Endpoint) -> list[dict[str, Any]]:
    if e.query is None:
        return []
    top = e.query.model_json_schema(ref_template=_REF, schema_generator=_Generator)
    props, required = top.get("properties", {}), set(top.get("required", ()))
    params = []
    for name, schema in props.items():
        param: dict[str, Any] = {
            "name": name, "in": "query", "required": name in required, "schema": openapi30(schema)
        }  # fmt: skip
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
            "schema": {"type": "string", "pattern": PATH_UUID},
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


def _is_creation(e: Endpoint) -> bool:
    """A POST to a collection that answers 201 with the object made (it has a uuid)."""
    if e.method != "POST" or e.status != 201 or e.response is None or "{" in e.path:
        return False
    return "uuid" in e.response.model_fields


def _links(created: Endpoint) -> dict[str, Any]:
    """OpenAPI links from a creation to every operation on the object it made: those at
    `<collection>/{uuid}` and `<collection>/{uuid}/<action>` (no other path parameter), given the
    new object's uuid from the answer."""
    detail = created.path.rstrip("/") + "/{uuid}"
    return {
        e.name: {
            "operationId": e.name,
            "parameters": {"uuid": "$response.body#/uuid"},
            "description": f"{e.method} the object made",
        }
        for e in ENDPOINTS
        if (e.path == detail or e.path.startswith(detail + "/"))
        and re.findall(r"{(\w+)}", e.path) == ["uuid"]
    }


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
            "required": _body_required(e.body),
            "content": {"application/json": {"schema": refs[(e.body, "validation")]}},
        }
    if e.upload is not None:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": dict(e.upload)}}}
    for success in (e.status, *e.also):
        op["responses"][str(success)] = _success(e, refs)
    for code in _error_codes(e):
        op["responses"][code] = {"description": "Error", "content": {"application/json": {"schema": _ERROR}}}
    op["security"] = [] if e.anonymous else [{"tokenAuth": []}]
    return op


def _body_required(model: type[BaseModel]) -> bool:
    """A body may be left out where its model takes `{}` (an absent body is `{}`, rest.parse_body, as
    DRF takes an empty PATCH) and its schema asks for no key."""
    try:
        model.model_validate({})
    except ValidationError:
        return True
    schema = model.model_json_schema(schema_generator=_Generator)
    return any(key in schema for key in ("required", "anyOf", "minProperties"))


def _success(e: Endpoint, refs: dict[tuple[type[BaseModel], str], Any]) -> dict[str, Any]:
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
    if e.media is not None:
        success["content"] = {e.media: {"schema": {"type": "string"}}}
    if _is_creation(e):
        success["links"] = _links(e)
    return success


def _error_codes(e: Endpoint) -> list[str]:
    codes = list(_COMMON_ERRORS)
    if e.body is not None or e.upload is not None:
        codes += _BODY_ERRORS
    if e.method != "GET":
        codes += _WRITE_ERRORS
    if e.retry_key or (e.method == "POST" and "{" not in e.path):
        codes += _CREATE_ERRORS
    return codes


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
