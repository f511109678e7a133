"""Reusable wire types and shapes shared by the API modules."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
    create_model,
)
from pydantic.fields import FieldInfo

from chalicelib.api.rest import ResponseModel
from chalicelib.domain import bounds
from chalicelib.domain.numbers import MAX_INTEGER, MIN_INTEGER
from chalicelib.domain.quotas import Quota
from chalicelib.domain.text import text_problem

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The schema's words for what `_email` and `_country` accept, blank included (a JSON Schema
# `format: email` would be both stricter than the check and false for "").
EMAIL_PATTERN = r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$"
COUNTRY_PATTERN = r"^([A-Z]{2})?$"


def text(max_length: int) -> Any:
    """A string of at most `max_length` characters, blank allowed (Django's `blank=True`)."""
    return Annotated[str, StringConstraints(max_length=max_length)]


def required_text(max_length: int) -> Any:
    """A non-blank string of at most `max_length` characters."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length)]


def _one_line(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _lines(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


def name_text(max_length: int) -> Any:
    """A name (or title): trimmed as DRF's CharField trims, not blank, one line with no control or
    bidi override characters (chalicelib/domain/text.py)."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length),
        AfterValidator(_one_line),
    ]


def line_text(max_length: int) -> Any:
    """A short free-text line (an abbreviation, a job title), blank allowed, under the names' rules."""
    return Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=max_length), AfterValidator(_one_line)
    ]


def free_text(max_length: int | None = None, max_bytes: int | None = None) -> Any:
    """A description: trimmed, blank allowed, tabs and line breaks kept, no other control or bidi
    override characters; with `max_bytes`, also at most that many bytes as stored."""
    checks = [AfterValidator(_lines)]
    if max_bytes is not None:
        checks.append(AfterValidator(_stored_within(max_bytes)))
    return Annotated[(str, StringConstraints(strip_whitespace=True, max_length=max_length), *checks)]


def _email(value: str) -> str:
    if value and not _EMAIL.fullmatch(value):  # `$` alone would let a trailing line break through
        raise ValueError("Enter a valid email address.")
    return value


def _country(value: str) -> str:
    if value and not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f'"{value}" is not a valid choice.')
    return value


Choices = Iterable[str] | Callable[[], Iterable[str]]


def one_of(values: Choices) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` of a choice field: the schema's `enum` is the set the field's validator
    checks (pass that same constant, or a function reading it when the document is built)."""

    listed = _listed(values)

    def extra(schema: dict[str, Any]) -> None:
        schema["enum"] = listed()

    return extra


def each_of(values: Choices) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` of a list of choices (a repeated filter, event types): each item's `enum`."""

    listed = _listed(values)

    def extra(schema: dict[str, Any]) -> None:
        schema["items"] = {"type": "string", "enum": listed()}

    return extra


def _listed(values: Choices) -> Callable[[], list[str]]:
    """The choices, read when the schema is built (a function: then; an iterable: kept now)."""
    if callable(values) and not isinstance(values, type):  # an Enum class is callable too
        read = values
        return lambda: sorted(read())
    kept = sorted(typing.cast(Iterable[str], values))
    return lambda: list(kept)


def BoundedJson(bound: bounds.Bound) -> Any:
    """Metadata for a free-form JSON field (`Annotated[dict[str, Any], BoundedJson(bounds.ATTRIBUTES)]`):
    the raw value, before any conversion, must fit `bound` (size as stored, depth, keys), else a
    400 naming the field and why."""

    def check(value: Any) -> Any:
        message = bounds.problem(value, bound)
        if message:
            raise ValueError(message)
        return value

    return BeforeValidator(check)


def _stored_within(max_bytes: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        message = bounds.text_problem(value, max_bytes)
        if message:
            raise ValueError(message)
        return value

    return check


def stored_text(max_length: int, max_bytes: int) -> Any:
    """A string of at most `max_length` characters that also takes at most `max_bytes` stored
    (non-ASCII characters take 6 or 12 bytes escaped)."""
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_stored_within(max_bytes))]


Attributes = Annotated[dict[str, Any], BoundedJson(bounds.ATTRIBUTES)]


# Whole numbers as Waldur's IntegerField and PositiveIntegerField hold them: a larger one would
# overflow the arithmetic and the store behind it (chalicelib/domain/numbers.py).
Integer = Annotated[int, Field(ge=MIN_INTEGER, le=MAX_INTEGER)]
PositiveInteger = Annotated[int, Field(ge=0, le=MAX_INTEGER)]

Email = Annotated[
    str,
    StringConstraints(max_length=320),
    AfterValidator(_email),
    Field(json_schema_extra={"pattern": EMAIL_PATTERN, "description": "An email address, or blank"}),
]
Country = Annotated[
    str,
    StringConstraints(max_length=2),
    AfterValidator(_country),
    Field(json_schema_extra={"pattern": COUNTRY_PATTERN, "description": "ISO 3166-1 alpha-2 code, or blank"}),
]


class DetailMessageOut(ResponseModel):
    """DRF's `{"detail": "..."}` answer of an action that reports what it did."""

    detail: str


class StatusMessageOut(ResponseModel):
    """Waldur's `{"status": "..."}` answer of an action."""

    status: str


class QuotaOut(ResponseModel):
    name: str
    usage: int
    limit: int


def quotas_out(quotas: list[Quota]) -> list[dict[str, Any]]:
    return [{"name": q.name, "usage": q.usage, "limit": q.limit} for q in quotas]


def omitted() -> Any:
    """The default of a field a client may leave out but may not send as null (DRF's
    `required=False` without `allow_null`): declare it with its plain type, `name: T = omitted()`.
    Null is then refused by the type ("This field may not be null.", errors.py) and the schema
    does not call it nullable; a view reads only the fields sent (`changes`)."""
    return Field(None, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    # The default (None) is not a value the field takes: the field is left out, not set to null.
    schema.pop("default", None)


def _without_none(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType) or type(None) not in args:
        return annotation
    rest = tuple(a for a in args if a is not type(None))
    return rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007 (a runtime union)


def partial(model: type[BaseModel], name: str, nullable: frozenset[str] = frozenset()) -> type[BaseModel]:
    """The same body with every field optional (PATCH). Only the fields in `nullable` take null
    (DRF's `allow_null`); for the others null is refused by the field's type, so the validation and
    the OpenAPI schema (nullable or not) come from this one declaration. Each field keeps what the
    full model says of it (bounds, validators, choices, pattern, description): a PATCH takes the
    values a POST takes (tests/integration/test_openapi_shapes.py)."""
    unknown = nullable - set(model.model_fields)
    if unknown:
        raise ValueError(f"{name}: no such fields {sorted(unknown)}")
    fields: dict[str, Any] = {n: _optional(info, n in nullable) for n, info in model.model_fields.items()}
    patch = create_model(name, __base__=model.__base__, **fields)
    patch.__partial_of__ = model  # type: ignore[attr-defined]
    return patch


def _optional(info: FieldInfo, null: bool) -> tuple[Any, Any]:
    """A field of a partial body: its type and constraints (lengths, ranges, validators: metadata),
    and its schema's words (an enum, a pattern, a description: its FieldInfo, and those of a
    FieldInfo inside its type, `Secret | None`), gathered into the one FieldInfo of the new field."""
    base, metadata, inner = _parts(_without_none(info.annotation))
    metadata += info.metadata
    constrained: Any = Annotated[base, *metadata] if metadata else base
    extras = [f.json_schema_extra for f in inner] + [info.json_schema_extra]
    said = Field(
        None,
        title=info.title,
        description=info.description or next((f.description for f in inner if f.description), None),
        examples=info.examples,
        json_schema_extra=_extra(extras, keep_default=null),
    )
    return (constrained | None if null else constrained), said


def _parts(annotation: Any) -> tuple[Any, list[Any], list[FieldInfo]]:
    """`Annotated[T, *metadata]` as T, its constraints and its FieldInfos (whose own constraints
    join the others); pydantic cannot merge a FieldInfo's `json_schema_extra` given as a dict with
    one given as a function, so they are gathered here instead."""
    if typing.get_origin(annotation) is not Annotated:
        return annotation, [], []
    base, *metadata = typing.get_args(annotation)
    inner = [m for m in metadata if isinstance(m, FieldInfo)]
    rest = [m for m in metadata if not isinstance(m, FieldInfo)] + [c for f in inner for c in f.metadata]
    return base, rest, inner


def _extra(extras: list[Any], keep_default: bool) -> Any:
    """Fields' `json_schema_extra`s (each a dict, a function or None) as one, and, unless
    `keep_default`, `omitted()`'s: the field is left out, not set to null, so it has no default."""

    def apply(schema: dict[str, Any]) -> None:
        for extra in extras:
            if callable(extra):
                extra(schema)
            elif extra:
                schema.update(extra)
        if not keep_default:
            _no_default(schema)

    return apply


def changes(body: BaseModel, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Only the fields the client sent (PUT and PATCH change what they name, as DRF does)."""
    return {k: getattr(body, k) for k in body.model_fields_set if k not in exclude}


def patch_changes(body: BaseModel) -> dict[str, Any]:
    """PATCH fields sent. Null was already refused, by the body model, for the fields that cannot be
    null (`partial(..., nullable=...)`)."""
    return changes(body)


# --- maps and bodies whose shape the schema states (issue 17) -------------------------------------
def per_component(value: Any) -> Any:
    """A map of component type to `value` (a plan's prices and quotas, a resource's limits): one
    level, bounded as bounds.AMOUNTS bounds it (the key count stated too: a key's length and the
    size as stored cannot be, OpenAPI 3.0 has no `propertyNames`)."""
    return Annotated[
        dict[str, value],
        BoundedJson(bounds.AMOUNTS),
        Field(json_schema_extra={"maxProperties": bounds.AMOUNTS.max_keys}),
    ]


# Limits per component type: whole numbers (a JSON integer, as the domain rules take them: not
# "5", not 5.0, not true), 0 to Waldur's IntegerField maximum. Which types an offering has is
# checked by the domain rules, which know its components.
Amounts = per_component(Annotated[int, Strict(), Field(ge=0, le=MAX_INTEGER)])


def some_of(names: Iterable[str], value: Any, what: str) -> Any:
    """A map from some of `names`, at least one, to `value` (set_quotas' `{"nc_resource_count": 3}`):
    the validator and the schema (each name a property, no other, `minProperties: 1`) read the same
    names. `what` names a key in the messages ("Unknown quota: x.", "Name at least one quota.")."""
    known = tuple(names)

    def check(given: Any) -> Any:
        if isinstance(given, dict):
            unknown = [str(name) for name in given if name not in known]
            if unknown:
                raise ValueError(" ".join(f"Unknown {what}: {name}." for name in unknown))
            if not given:
                raise ValueError(f"Name at least one {what}.")
        return given

    def extra(schema: dict[str, Any]) -> None:
        each = schema.pop("additionalProperties", {})
        schema.update(properties={name: each for name in known}, additionalProperties=False, minProperties=1)

    return Annotated[dict[str, value], BeforeValidator(check), Field(json_schema_extra=extra)]


def any_given(*names: str) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` of a body that needs at least one of `names` sent (Waldur's hook:
    "Please specify list of event_types or event_groups."; a usage report names its resource or its
    plan period), each in the form its property states: the schema's `anyOf` of one branch per
    name, that name required and not null. The body's check (the service's, in Waldur's words) is
    tested against it (tests/integration/test_openapi_shapes.py)."""

    def extra(schema: dict[str, Any]) -> None:
        properties = schema.get("properties", {})
        schema["anyOf"] = [_given(name, properties.get(name, {})) for name in names]

    return extra


def _given(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A branch of `any_given`: `name` sent, and not null where its property takes null (the
    property's other words apply as they are)."""
    branch: dict[str, Any] = {"type": "object", "required": [name]}
    options = schema.get("anyOf", [])
    kept = [o for o in options if o != {"type": "null"}]
    if len(kept) < len(options):
        branch["properties"] = {name: kept[0] if len(kept) == 1 else {"anyOf": kept}}
    return branch


# A reference to an object as Waldur's clients send one, a uuid (hex, or dashed) or a hyperlink with
# the uuid as one of its path's segments (domain.ids.id_from_url resolves either, by that segment).
UUID_FORM = "([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
REFERENCE_PATTERN = rf"^([^?]*/)?{UUID_FORM}(/[^?]*)?(\?.*)?$"
Reference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000),
    Field(json_schema_extra={"pattern": REFERENCE_PATTERN, "description": "A uuid, or the object's URL"}),
]


def hyperlink_pattern(collections: Iterable[str]) -> str:
    """A hyperlink to an object of one of `collections` (`…/api/customers/<uuid>/`), as a scope is
    given: the uuid is the path's last one and the segment before it names its collection."""
    names = "|".join(sorted(collections))
    return rf"^([^?#]*/)?({names})/{UUID_FORM}/?([?#].*)?$"
