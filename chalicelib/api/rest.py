"""Waldur's REST conventions on Chalice: one decorator turns a view into an endpoint that parses
and validates its query and body with pydantic, authenticates, maps errors in one place, answers
HEAD like GET, pages lists with Waldur's Link/X-Result-Count headers, renders absolute hyperlinks,
and records itself for the OpenAPI document."""

from __future__ import annotations

import json
import math
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response  # type: ignore[attr-defined]
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)
from pydantic import ValidationError as PydanticError

from chalicelib import bootstrap, observability
from chalicelib.api import errors, hosts
from chalicelib.auth.requests import authenticate_request
from chalicelib.config import get_settings
from chalicelib.domain import deadline
from chalicelib.domain import request_keys as request_key_rules
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotAuthenticated, NotFound
from chalicelib.domain.ids import new_id, parse_id
from chalicelib.services import access, request_keys
from chalicelib.services.paging import Ordering, Page, PageRequest

JSON = "application/json"
# A caller's X-Correlation-ID longer than this is cut (it goes into every log line and event).
MAX_CORRELATION_ID = 128
# How deep a request body may nest. Python's parser recurses once per level (a few thousand levels
# exhaust it), and DynamoDB stores documents at most 32 levels deep, so nothing deeper is of use.
MAX_JSON_DEPTH = 32
# A JSON string (skipped: brackets inside it are text) or an opening or closing bracket. The
# string's closing quote is optional, so a match never fails once begun: an unterminated string
# swallows the rest (json.loads refuses it next) instead of being retried from every later quote,
# which made the scan quadratic in the body's size.
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]', re.DOTALL)


class QueryModel(BaseModel):
    """Base of every endpoint's query-string model (built on first use, like every model here)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class FieldsQuery(QueryModel):
    """`?field=uuid&field=name`: render only these keys."""

    field: list[str] = Field(default_factory=list)


_WORD = re.compile(r"[A-Za-z0-9_]+")


def ordering_choices(fields: Iterable[str]) -> list[str]:
    """The values one ordering takes: each field, ascending or (`-`) descending."""
    return [value for name in fields for value in (name, f"-{name}")]


def ordering_pattern(fields: Iterable[str]) -> str:
    """`?o=` as django-filter's OrderingFilter takes it: comma-separated choices, empty parts
    skipped (`name,-created`, `name,`). The same in ECMA-262 and Python: names are plain words."""
    names = list(fields)
    if not all(_WORD.fullmatch(name) for name in names):  # then no escaping is needed in either
        raise ValueError(f"ordering fields must be plain words: {names}")
    one = "(-?(" + "|".join(names) + "))?"
    return f"^{one}(,{one})*$"


def _ordering_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The OpenAPI side of `ListQuery._known_ordering`, from the same `ordering_fields`."""
    prop = schema.get("properties", {}).get("o")
    if prop is None:
        return
    text = next(v for v in prop.get("anyOf", [prop]) if v.get("type") == "string")
    fields: tuple[str, ...] = getattr(model, "ordering_fields", ())
    if fields:
        text["pattern"] = ordering_pattern(fields)
        prop["description"] = "Order by these, comma-separated; `-` before one: descending"
    else:
        prop["description"] = "Ignored: this list has no orderings"


class ListQuery(FieldsQuery):
    """A list's paging and ordering. `ordering_fields` are the fields `?o=` may name (validated,
    and declared as the parameter's pattern, from this one tuple); a list without any ignores `o`,
    as DRF's OrderingFilter ignores names it does not know and Waldur any parameter it does not."""

    model_config = ConfigDict(json_schema_extra=_ordering_schema)

    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)
    o: str | None = None

    ordering_fields: typing.ClassVar[tuple[str, ...]] = ()

    @field_validator("o")
    @classmethod
    def _known_ordering(cls, value: str | None) -> str | None:
        if value is None or not cls.ordering_fields:
            return value
        for part in value.split(","):
            if part and part.removeprefix("-") not in cls.ordering_fields:
                raise ValueError(f"Select a valid choice. {part} is not one of the available choices.")
        return value

    def ordering(self) -> Ordering:
        return Ordering.parse(self.o) if self.ordering_fields else Ordering()

    def page_request(self) -> PageRequest:
        settings = get_settings()
        size = min(self.page_size or settings.default_page_size, settings.max_page_size)
        return PageRequest(page=self.page, page_size=size)


class BodyModel(BaseModel):
    """Base of request bodies: unknown fields are ignored, as DRF serializers ignore them."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


def _never_null(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The OpenAPI side of `omit_when_null`: such a field is absent when unset, never null."""
    for name in getattr(model, "omit_when_null", ()):
        prop = schema.get("properties", {}).get(name, {})
        variants = [v for v in prop.pop("anyOf", []) if v != {"type": "null"}]
        if len(variants) == 1:
            prop.update(variants[0])
        elif variants:
            prop["anyOf"] = variants
        if prop.get("default", ...) is None:
            del prop["default"]


class ResponseModel(BaseModel):
    """Base of response bodies. Every field is rendered, an unset one as null, as DRF renders a
    serializer's declared fields, except `omit_when_null`: the fields Waldur's schema (its
    waldur-api-client models) types as never null, which are left out when unset, since a client
    parses a present key strictly. tests/compat/test_null_rule.py derives both from the client."""

    omit_when_null: typing.ClassVar[frozenset[str]] = frozenset()

    # Models are built on first use, not at import: a cold Lambda builds only what its request needs.
    model_config = ConfigDict(defer_build=True, json_schema_extra=_never_null)

    # No return annotation: pydantic would take it as the serialised schema, replacing the model's
    # own in the OpenAPI document. Wrapping applies to nested models too (an order's plan, ...).
    @model_serializer(mode="wrap")
    def _leave_out_forbidden_nulls(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        dumped = handler(self)
        omit = self.omit_when_null
        if not omit or not isinstance(dumped, dict):
            return dumped
        return {k: v for k, v in dumped.items() if v is not None or k not in omit}


@dataclass(frozen=True)
class Endpoint:
    """An endpoint's contract, for the OpenAPI document."""

    path: str
    method: str
    name: str
    tag: str
    summary: str
    query: type[QueryModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    many: bool
    status: int
    anonymous: bool
    unpaged: bool = False  # the body is a plain JSON array of `response` (no pages, no headers)
    retry_key: bool = False  # a creation that honours an `Idempotency-Key` header (safe to retry)
    also: tuple[int, ...] = ()  # other success statuses, same body (a get-or-create: 201 made)
    media: str | None = None  # the success body's media type when it is not JSON (an image: `Raw`)
    # A form upload's fields as a JSON schema (the body is multipart/form-data, read by the view from
    # `call.raw_body`; `body` is then None).
    upload: Mapping[str, Any] | None = None


ENDPOINTS: list[Endpoint] = []


@dataclass
class Call:
    """What a view gets: the caller, the parsed input, and how to build URLs."""

    principal: Principal | None
    ctx: EventContext
    base_url: str
    path: str
    query: Any
    body: Any
    params: dict[str, list[str]]
    key_hash: str | None = None
    headers: Mapping[str, str] = dc_field(default_factory=dict)  # lower-cased names
    # The body as sent, for an endpoint that reads it itself (a multipart upload: `body` is None).
    raw_body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise NotAuthenticated()
        return self.principal

    def url(self, collection: str, object_id: str | None = None) -> str:
        """Absolute URL, trailing slash included: `<base>/api/<collection>/<id>/`."""
        suffix = f"{object_id}/" if object_id else ""
        return f"{self.base_url}/api/{collection}/{suffix}"


View = Callable[..., Any]


def endpoint(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    name: str,
    tag: str,
    summary: str = "",
    query: type[QueryModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    many: bool = False,
    status: int = 200,
    anonymous: bool = False,
    unpaged: bool = False,
    retry_key: bool = False,
    also: tuple[int, ...] = (),
    media: str | None = None,
    upload: Mapping[str, Any] | None = None,
) -> Callable[[View], View]:
    """Register `view(call, **path_params)` on `bp` at `path` for `method` (GET also answers HEAD).
    `many`: a page of `response` objects; `unpaged`: a plain list of them; `retry_key`: the view's
    service creates through `services.request_keys`, so an `Idempotency-Key` header makes the
    request safe to send again (the key reaches it in `call.ctx.request_key`); `also`: other success
    statuses the view answers with the same body (`WithStatus`); `media`: the view answers `Raw` bodies
    of that media type instead of JSON; `upload`: the request is a multipart/form-data form with
    these fields (a JSON schema), which the view reads itself."""
    contract = (path, method, name, tag, summary, query, body, response, many, status, anonymous)
    ENDPOINTS.append(
        Endpoint(*contract, unpaged=unpaged, retry_key=retry_key, also=also, media=media, upload=upload)
    )
    methods = [method, "HEAD"] if method == "GET" else [method]

    def decorator(view: View) -> View:
        def handler(**path_params: str) -> Response:
            request = bp.current_request
            with _logged(request):
                return _handle(request, path_params)

        def _handle(request: Any, path_params: Mapping[str, str]) -> Response:
            call: Call | None = None
            started = deadline.begin(get_settings().request_deadline_seconds)
            try:
                call = _prepare(request, query, body, anonymous)
                if retry_key:
                    call = with_request_key(call, name, path_params)
                result = view(call, **path_params)
                response = _respond(result, status, call)
                if request.method == "HEAD":
                    _count_header(response, result)
            except Exception as exc:  # mapped in one place; anything unmapped is a bug and a 500
                response = _error_response(request, exc)
            finally:
                deadline.end(started)
                access.end_request()
            return _finish(request, response, call)

        handler.__name__ = name
        handler.__wrapped__ = view  # type: ignore[attr-defined]  # the route's view (inspect.unwrap)
        bp.route(path, methods=methods, content_types=["*/*"], name=name)(handler)
        return view

    return decorator


def _logged(request: Any) -> AbstractContextManager[None]:
    """The request's log scope: every line it logs carries its correlation id, method and path, and
    the Lambda invocation's (observability.invocation); nothing of it reaches the next request."""
    return observability.invocation(
        "api",
        correlation_id=correlation_id(request),
        method=request.method,
        path=_actual_path(request),
        **observability.lambda_keys(getattr(request, "lambda_context", None)),
    )


def _finish(request: Any, response: Response, call: Call | None) -> Response:
    """Log the request, and send HEAD's answer without a body whatever its status: a body on HEAD
    would be read as the start of the next response on a keep-alive connection."""
    if request.method == "HEAD":
        response.body = ""
    principal = call.principal if call else None
    observability.log_request(
        request.method, _actual_path(request), response.status_code, principal.user_id if principal else None
    )
    return response


# Every verb a client may send; the catch-all route answers them all.
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
NOT_FOUND = "Not found."


def not_found_route(bp: Blueprint, path: str, *, name: str) -> None:
    """Register on `bp` a route that answers every method at `path` (a greedy `/{proxy+}`) with
    Django REST framework's 404, `{"detail": "Not found."}`, as Waldur answers a URL it has no view
    for. It authenticates nobody and reads no input: whatever was sent, the answer is the same."""

    def handler() -> Response:
        request = bp.current_request
        with _logged(request):
            return _finish(request, _error_response(request, errors.detail(404, NOT_FOUND)), None)

    handler.__name__ = name
    bp.route(path, methods=list(ALL_METHODS), content_types=["*/*"], name=name)(handler)


def _error_response(request: Any, exc: Exception) -> Response:
    try:
        code, payload, headers = errors.to_http(exc)
    except Exception:
        observability.log_unhandled(request.method, _actual_path(request))
        code, payload, headers = 500, errors.SERVER_ERROR, {}
    return Response(body=json.dumps(payload), status_code=code, headers={"Content-Type": JSON, **headers})


# --- request ---------------------------------------------------------------------------------
def _prepare(
    request: Any, query: type[QueryModel] | None, body: type[BaseModel] | None, anonymous: bool
) -> Call:
    bootstrap.ensure_ready()
    access.begin_request()
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    params = _multi_params(request)
    source = EventContext(
        ip_address=_source_ip(request),
        correlation_id=observability.correlation_id(),  # the request's scope has it (`_logged`)
    )
    principal, key_hash = authenticate_request(headers, params, source)
    if principal is None and not anonymous:
        raise NotAuthenticated()
    observability.append_keys(user_uuid=principal.user_id if principal else None)
    ctx = replace(source, principal=principal)
    return Call(
        principal=principal,
        ctx=ctx,
        base_url=_base_url(headers, _base_path(request)),
        path=_actual_path(request),
        query=parse_query(query, params),
        body=parse_body(body, request.method, headers, request.raw_body) if body else None,
        params=params,
        key_hash=key_hash,
        headers=headers,
        raw_body=b"" if body or request.method in ("GET", "HEAD", "DELETE") else (request.raw_body or b""),
    )


def with_request_key(call: Call, operation: str, path_params: Mapping[str, str]) -> Call:
    """The call with its `Idempotency-Key` (1 to 255 characters, else 400) and the hash of what it
    asks (operation, path parameters, parsed body: a retry that spaces or orders its JSON otherwise
    is the same request) in its context, for the creation to store or answer from."""
    key = call.header(request_key_rules.HEADER)
    if key is None or call.principal is None:
        return call
    if not 0 < len(key) <= request_key_rules.MAX_KEY_LENGTH:
        raise errors.detail(400, request_key_rules.KEY_LENGTH)
    body = call.body.model_dump(mode="json") if isinstance(call.body, BaseModel) else None
    use = request_key_rules.KeyUse(key, request_keys.request_hash(operation, path_params, body))
    return replace(call, ctx=replace(call.ctx, request_key=use))


def _multi_params(request: Any) -> dict[str, list[str]]:
    raw = request.query_params
    if not raw:
        return {}
    return {key: list(raw.getlist(key)) for key in raw}


def _actual_path(request: Any) -> str:
    """The path as requested (`request.path` is the route's template, `/api/customers/{uuid}`)."""
    event = request.to_original_event() or {}
    return str(event.get("path") or request.path)


def _source_ip(request: Any) -> str | None:
    context = getattr(request, "context", None) or {}
    ip = (context.get("identity") or {}).get("sourceIp")
    return str(ip) if ip else None


def correlation_id(request: Any) -> str | None:
    """The id that follows this request into the tasks, workflows and events it causes: the
    caller's `X-Correlation-ID` (at most MAX_CORRELATION_ID characters of it), else API Gateway's
    request id (the local server gives none: a new id)."""
    given = next((v for k, v in (request.headers or {}).items() if k.lower() == "x-correlation-id"), "")
    return given.strip()[:MAX_CORRELATION_ID] or _request_id(request) or new_id()


def _request_id(request: Any) -> str | None:
    context = getattr(request, "context", None) or {}
    rid = context.get("requestId")
    return str(rid) if rid else None


def _base_path(request: Any) -> str:
    """What precedes the routes in the URL the client called: the REST API's stage (`/api`) on its
    execute-api URL, nothing on the HTTP API's `$default` stage (chalicelib/api/gateway.py)."""
    from chalicelib.api.gateway import base_path

    event = request.to_original_event() or {}
    return base_path(getattr(request, "context", None), event.get("path"))


def _base_url(headers: Mapping[str, str], path: str = "") -> str:
    """The base of the response's absolute URLs: the public URL if configured, else the request's
    scheme (http or https only), Host and the API Gateway stage's path (`path`, from the request
    context: no header sets it). A Host the settings do not allow is refused (400)."""
    settings = get_settings()
    host = headers.get("host") or "localhost"  # chalice's test client sends none
    if not hosts.is_allowed(host, hosts.allowed_patterns(settings.allowed_hosts, settings.public_url)):
        raise errors.detail(400, hosts.INVALID_HOST)
    if settings.public_url:
        return settings.public_url
    return f"{hosts.scheme(headers.get('x-forwarded-proto'))}://{host.strip().lower()}{path}"


def parse_query(model: type[QueryModel] | None, params: Mapping[str, list[str]]) -> Any:
    """Validate the query string's known parameters; lists take repeated values. As Waldur's stack
    does: parameters the endpoint does not know are ignored (its filter backends ignore them, and
    its clients send some everywhere: python-waldur-client's `page_size` on a single object, the
    site agent's filters of newer Waldur releases); an empty value is no filter (django-filter
    skips it); and paging follows DRF's PageNumberPagination (`_paging`)."""
    if model is None:
        return None
    fields = model.model_fields
    values: dict[str, Any] = {}
    for name, values_given in params.items():
        given = [v for v in values_given if v != ""]
        if name not in fields or not given:
            continue
        annotation = fields[name].annotation
        values[name] = given if typing.get_origin(annotation) is list else given[-1]
    return model.model_validate(_paging(values))


_POSITIVE = re.compile(r"[0-9]+")


def _paging(values: dict[str, Any]) -> dict[str, Any]:
    """DRF's rules: a `page` that is not a positive number is 404 "Invalid page." (as one past the
    last page is); a `page_size` that is not one is ignored (the default size applies)."""
    page = values.get("page")
    if isinstance(page, str) and not (_POSITIVE.fullmatch(page) and int(page) >= 1):
        raise errors.detail(404, "Invalid page.")
    size = values.get("page_size")
    if isinstance(size, str) and not (_POSITIVE.fullmatch(size) and int(size) >= 1):
        del values["page_size"]
    return values


def parse_body(
    model: type[BaseModel], method: str, headers: Mapping[str, str], raw: bytes | None
) -> BaseModel:
    """Validate a JSON body (an empty body is an empty object)."""
    data: Any = {}
    if raw:
        content_type = headers.get("content-type", JSON).split(";")[0].strip().lower()
        if content_type != JSON:
            raise errors.unsupported_media_type()
        data = parse_json(raw)
    if not isinstance(data, dict):
        raise errors.HttpError(
            400,
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]},
        )
    try:
        return model.model_validate(data)
    except PydanticError as exc:  # shaped with the input at hand: lists of objects count its items
        raise errors.invalid_body(exc, model, data) from exc


def parse_json(raw: bytes) -> Any:
    """A request body's JSON, refused (DRF's ParseError) when malformed, nested deeper than
    MAX_JSON_DEPTH, or holding NaN, Infinity or a number too large for a float (DRF's parser is
    strict about the first two; none of them is JSON a client can read back)."""
    try:
        _check_depth(raw)
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.detail(400, f"JSON parse error - {exc}") from exc


def _check_depth(raw: bytes) -> None:
    """Count brackets outside strings, without recursing (so any depth is measured safely)."""
    depth = 0
    for token in _JSON_TOKEN.finditer(raw):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"Nesting is deeper than {MAX_JSON_DEPTH} levels.")
        elif bracket in (b"]", b"}"):
            depth -= 1


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {text!r}")
    return value


# --- response --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Listed:
    """A page of rendered objects, to be sent with Waldur's pagination headers."""

    items: list[dict[str, Any]]
    total: int
    page: PageRequest


@dataclass(frozen=True)
class Created:
    body: Any


@dataclass(frozen=True)
class NoContent:
    pass


@dataclass(frozen=True)
class Empty:
    """The endpoint's status with an empty body (Waldur's `Response(status=200)`)."""


@dataclass(frozen=True)
class WithHeaders:
    """The endpoint's status with extra headers (a redirect's `Location`, a `Set-Cookie`) and a JSON
    body (None: empty)."""

    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Raw:
    """A body that is not JSON (an image), sent as is with its headers (Content-Type among them)."""

    body: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class WithStatus:
    """A JSON body with a status of its own (a get-or-create action: 201 made, 200 found)."""

    body: Any
    status: int


def _respond(result: Any, status: int, call: Call) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": JSON}
    principal = call.principal
    if principal is not None and principal.impersonator_id:
        headers["X-impersonator-uuid"] = principal.impersonator_id
    if isinstance(result, NoContent):
        return Response(body="", status_code=204, headers=headers)
    if isinstance(result, Empty):
        return Response(body="", status_code=status, headers=headers)
    if isinstance(result, Raw):
        headers.update(result.headers)
        return Response(body=result.body, status_code=status, headers=headers)
    if isinstance(result, WithHeaders):
        headers.update(result.headers)
        body = "" if result.body is None else json.dumps(result.body)
        return Response(body=body, status_code=status, headers=headers)
    if isinstance(result, Listed):
        headers.update(_pagination_headers(call, result))
        return Response(body=json.dumps(result.items), status_code=status, headers=headers)
    if isinstance(result, (Created, Counted)):
        result = result.body
    if isinstance(result, WithStatus):
        status, result = result.status, result.body
    return Response(body=json.dumps(result), status_code=status, headers=headers)


@dataclass(frozen=True)
class Counted:
    """A JSON body that is a count of something (`{"count": n}`): HEAD reports `count` in
    X-Result-Count, which waldur-api-client's `*_count` functions read."""

    body: Any
    count: int


def _count_header(response: Response, result: Any) -> None:
    """X-Result-Count on a successful HEAD, which every `*_count` function of waldur-api-client
    requires: a list's total (already set by its pagination), a Counted's count, the length of an
    unpaged JSON list, and 1 for a single object (the count of what GET would return)."""
    if not 200 <= response.status_code < 300 or "X-Result-Count" in response.headers:
        return
    if isinstance(result, Counted):
        count = result.count
    elif isinstance(result, list):
        count = len(result)
    else:
        count = 0 if isinstance(result, NoContent) else 1
    response.headers["X-Result-Count"] = str(count)


def _pagination_headers(call: Call, listed: Listed) -> dict[str, str | list[str]]:
    size = listed.page.page_size
    last = max(1, math.ceil(listed.total / size))
    current = listed.page.page
    if current > last:
        raise errors.detail(404, "Invalid page.")

    def link(page: int) -> str:
        params = [(k, v) for k, vs in call.params.items() if k not in ("page", "x-auth-token") for v in vs]
        params.append(("page", str(page)))
        return f"{call.base_url}{call.path.rstrip('/')}/?{urlencode(params)}"

    parts = [f'<{link(1)}>; rel="first"']
    if current > 1:
        parts.append(f'<{link(current - 1)}>; rel="prev"')
    if current < last:
        parts.append(f'<{link(current + 1)}>; rel="next"')
    parts.append(f'<{link(last)}>; rel="last"')
    return {"X-Result-Count": str(listed.total), "Link": ", ".join(parts)}


def render(model: type[BaseModel], data: Mapping[str, Any], fields: Iterable[str] = ()) -> dict[str, Any]:
    """Render through the response model: unset values are null, except the model's `omit_when_null`
    (see ResponseModel). `?field=` keeps only the named keys."""
    rendered: dict[str, Any] = model.model_validate(data).model_dump(mode="json")
    wanted = set(fields)
    return {k: v for k, v in rendered.items() if k in wanted} if wanted else rendered


def listed(
    call: Call, page: Page[Any], model: type[BaseModel], to_data: Callable[[Any], Mapping[str, Any]]
) -> Listed:
    query = call.query
    fields = getattr(query, "field", ())
    return Listed([render(model, to_data(o), fields) for o in page.items], page.total, query.page_request())


def object_id(value: str, model: str) -> str:
    """A path's uuid (hex or dashed); a malformed one matches nothing, as in Waldur."""
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound(model)
    return parsed
