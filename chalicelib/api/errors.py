"""The one place where errors become HTTP responses, in Django REST framework's shapes."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from pydantic import BaseModel
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


_LIST_LENGTH: dict[str, str] = {
    "too_long": "Ensure this field has no more than {max_length} elements.",
    "too_short": "Ensure this field has at least {min_length} elements.",
}


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if err.get("input", object()) is None and kind != "missing":
        return "This field may not be null."
    if kind == "string_too_long":
        return f"Ensure this field has no more than {ctx.get('max_length')} characters."
    if kind in _LIST_LENGTH:  # a list (DRF's ListField max_length, min_length)
        return _LIST_LENGTH[kind].format(**ctx)
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


# --- where each message goes: DRF's nesting -------------------------------------------------------
class FlatErrors:
    """Annotated marker of a list that Waldur validates as one field (a ManyRelatedField of
    hyperlinks, a MultipleChoiceField, a JSONField): DRF stops at the first bad item and reports
    its messages under the field itself (`{"users": ["Invalid hyperlink - ..."]}`), not by index."""


FLAT = FlatErrors()
NON_FIELD_ERRORS = "non_field_errors"
_ABSENT: Any = object()
_INTERNAL: Any = object()  # a location part that is pydantic's, not the client's (`[key]`, tags)

# How DRF shapes the errors of each kind of field (see _render):
_OBJECT = "object"  # a nested serializer: {"field": [...], "non_field_errors": [...]}
_MANY = "many"  # a serializer with many=True: one entry per item sent, {} for valid ones
_INDEXED = "indexed"  # a ListField: {"<index>": [...]} for the bad items only
_MAPPING = "mapping"  # a DictField: {"<key>": [...]} for the bad values only
_FLAT = "flat"  # FlatErrors: the first bad item's messages, as the field's own
_LEAF = "leaf"  # a plain field: a list of messages
_UNKNOWN = "unknown"  # no model to tell (a pydantic error raised outside parse_body)


@dataclass
class _Node:
    """The errors at one place of the input, and the type that place has in the model."""

    kind: str
    type: Any
    data: Any
    empty: list[str] = dc_field(default_factory=list)  # "required" / "may not be null": always flat
    own: list[str] = dc_field(default_factory=list)  # errors of the value as a whole
    children: dict[str | int, _Node] = dc_field(default_factory=dict)


def _strip(annotation: Any) -> tuple[Any, bool]:
    """The type without Annotated and Optional, and whether it was marked FlatErrors."""
    flat = False
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            flat = flat or any(isinstance(m, FlatErrors) for m in args[1:])
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType):
            real = [a for a in args if a is not type(None)]
            annotation = real[0] if len(real) == 1 else Any  # the API models have no other unions
        else:
            return annotation, flat


def _node(annotation: Any, data: Any) -> _Node:
    tp, flat = _strip(annotation)
    origin = typing.get_origin(tp) or tp
    if flat:
        kind = _FLAT
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        kind = _OBJECT
    elif origin in (list, tuple, set, frozenset, Sequence):
        item, _ = _strip((typing.get_args(tp) or (Any,))[0])
        kind = _MANY if isinstance(item, type) and issubclass(item, BaseModel) else _INDEXED
    elif origin in (dict, Mapping):
        kind = _MAPPING
    else:
        kind = _LEAF
    return _Node(kind, tp, data)


def _child_type(node: _Node, part: str | int) -> Any:
    """The type at `part` under `node`, or _INTERNAL when `part` is no place in the client's input."""
    data = node.data
    if node.kind == _OBJECT and isinstance(part, str):
        fields = {(f.validation_alias or f.alias or name): f for name, f in node.type.model_fields.items()}
        if part in fields:
            field = fields[part]
            flat = any(isinstance(m, FlatErrors) for m in field.metadata)
            return typing.Annotated[field.annotation, FLAT] if flat else field.annotation
        return Any if isinstance(data, Mapping) and part in data else _INTERNAL  # an unknown field
    if node.kind in (_MANY, _INDEXED) and isinstance(part, int):
        return typing.get_args(node.type)[0] if typing.get_args(node.type) else Any
    if node.kind == _MAPPING and isinstance(part, str):
        args = typing.get_args(node.type)
        return args[1] if len(args) == 2 else Any
    return _INTERNAL


def _step(node: _Node, part: str | int) -> _Node | None:
    """The child node at `part` (made on first use), or None when `part` is pydantic's own."""
    if node.kind == _UNKNOWN:
        child = node.children.get(part) or _Node(_UNKNOWN, None, _ABSENT)
    else:
        annotation = _child_type(node, part)
        if annotation is _INTERNAL:
            return None
        child = node.children.get(part) or _node(annotation, _item(node.data, part))
    node.children[part] = child
    return child


def _item(data: Any, part: str | int) -> Any:
    try:
        return data[part]
    except (KeyError, IndexError, TypeError):
        return _ABSENT


def _place(root: _Node, err: Any) -> None:
    node = root
    for part in err["loc"]:
        if node.kind in (_LEAF, _FLAT) or _key_marker(node, part):
            if node.kind == _FLAT:  # remember which item: DRF reports the first bad one only
                node = node.children.setdefault(part, _Node(_LEAF, Any, _ABSENT))
            break
        node = _step(node, part) or node
    message = _message(err)
    if err["type"] == "missing" or err.get("input", _ABSENT) is None:
        node.empty.append(message)
    else:
        node.own.append(message)


def _key_marker(node: _Node, part: str | int) -> bool:
    """pydantic's `[key]` after a dict key (the key itself is bad: its value's place takes the
    message); under a dict, `[key]` is a key the client sent."""
    if part != "[key]" or node.kind == _MAPPING:
        return False
    return not (node.kind == _UNKNOWN and isinstance(node.data, Mapping) and part in node.data)


def _render(node: _Node) -> Any:
    if node.empty:  # DRF checks "required" and null before it looks at the value
        return node.empty
    kind = node.kind
    if kind == _UNKNOWN:
        kind = _guess(node)
    if kind == _OBJECT:
        body: dict[str, Any] = {str(k): _render(c) for k, c in node.children.items()}
        return {NON_FIELD_ERRORS: node.own, **body} if node.own else body
    if kind == _MANY:
        if node.own:  # not a list, or too long: the ListSerializer's own errors
            return {NON_FIELD_ERRORS: node.own}
        return _many(node)
    if kind in (_INDEXED, _MAPPING) and node.children and not node.own:
        return {str(k): _render(c) for k, c in node.children.items()}
    if kind == _FLAT and node.children and not node.own:
        first = node.children[min(node.children, key=_order)]
        return first.empty + first.own
    return node.own


def _many(node: _Node) -> list[Any]:
    """One entry per item sent (the count from the input when known, else up to the last bad
    item), `{}` for the valid ones: DRF 3.15's ListSerializer, the version Waldur runs."""
    indices = [k for k in node.children if isinstance(k, int)]
    count = len(node.data) if isinstance(node.data, list) else max(indices, default=-1) + 1
    return [_render(node.children[i]) if i in node.children else {} for i in range(count)]


def _guess(node: _Node) -> str:
    """Without the model: a list index under it makes a list (of objects when the items hold
    fields), any other key an object."""
    if not node.children:
        return _LEAF
    if all(isinstance(k, int) for k in node.children):
        nested = any(c.children for c in node.children.values())
        return _MANY if nested else _INDEXED
    return _OBJECT


def _order(key: str | int) -> tuple[int, str]:
    return (key, "") if isinstance(key, int) else (1 << 62, key)


def drf_errors(exc: PydanticError, model: type[BaseModel] | None = None, data: Any = _ABSENT) -> Any:
    """The body of a 400 for `exc`, nested as DRF nests serializer errors: `{"field": [...]}`,
    `{"non_field_errors": [...]}` for the object's own, `{"prices": {"cpu": [...]}}` for a dict,
    `{"usages": [{}, {"amount": [...]}]}` for a list of objects, `{"tags": {"0": [...]}}` for a
    list of values. With `model` and the `data` it validated, each place is shaped by its type
    and lists of objects count the items sent; without them the shape is inferred from the
    locations."""
    root = _node(model, data) if model is not None else _Node(_UNKNOWN, None, data)
    for err in exc.errors():
        _place(root, err)
    if not root.children:  # only errors of the body as a whole
        return {NON_FIELD_ERRORS: root.empty + root.own}
    return _render(root)


def invalid_body(exc: PydanticError, model: type[BaseModel], data: Any) -> HttpError:
    """The 400 for a request body that `model` refused."""
    return HttpError(400, drf_errors(exc, model, data))
