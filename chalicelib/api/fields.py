"""Reusable wire types and shapes shared by the API modules."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue

from chalicelib.api.rest import ResponseModel
from chalicelib.domain import bounds, ids, slugs
from chalicelib.domain.ids import id_from_url, parse_id
from chalicelib.domain.numbers import MAX_INTEGER, MIN_INTEGER
from chalicelib.domain.quotas import Quota
from chalicelib.domain.text import LINE_PATTERN, LINES_PATTERN, NAME_PATTERN, WHITESPACE, text_problem

# Whitespace spelled out, not `\s`: Python's, ECMA's and Rust's `\s` are three different sets.
_EMAIL_PART = f"[^@{WHITESPACE}]+"
_EMAIL = re.compile(f"^{_EMAIL_PART}@{_EMAIL_PART}\\.{_EMAIL_PART}$")
# The schema's words for what `_email` and `_country` accept, blank included (a JSON Schema
# `format: email` would be both stricter than the check and false for "").
EMAIL_PATTERN = f"^({_EMAIL_PART}@{_EMAIL_PART}\\.{_EMAIL_PART})?$"
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
        schema_facts(pattern=NAME_PATTERN),
    ]


def line_text(max_length: int) -> Any:
    """A short free-text line (an abbreviation, a job title), blank allowed, under the names' rules."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=max_length),
        AfterValidator(_one_line),
        schema_facts(pattern=LINE_PATTERN),
    ]


def free_text(max_length: int | None = None, max_bytes: int | None = None) -> Any:
    """A description: trimmed, blank allowed, tabs and line breaks kept, no other control or bidi
    override characters; with `max_bytes`, also at most that many bytes as stored."""
    checks: list[Any] = [AfterValidator(_lines), schema_facts(pattern=LINES_PATTERN)]
    if max_bytes is not None:
        checks += [
            AfterValidator(_stored_within(max_bytes)),
            schema_facts(description=_stored_words(max_bytes)),
        ]
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
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        # Keep the field's constraints (lengths, ranges, validators): they live in its metadata.
        base = _without_none(info.annotation)
        metadata = [*info.metadata, *_field_facts(info)]
        constrained: Any = Annotated[base, *metadata] if metadata else base
        if field_name in nullable:
            fields[field_name] = (constrained | None, None)
        else:
            fields[field_name] = (constrained, omitted())
    patch = create_model(name, __base__=model.__base__, **fields)
    patch.__partial_of__ = model  # type: ignore[attr-defined]
    return patch


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


# --- facts of a type's schema ---------------------------------------------------------------------
@dataclass(frozen=True)
class SchemaFacts:
    """Metadata of a type: keywords added to its JSON schema (a `pattern` its validator's rule
    amounts to, lengths a validator checks in its own words). Unlike `Field(json_schema_extra=...)`
    it stays with the type wherever the type goes (inside `| None`, into `partial` models)."""

    facts: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        schema.update(self.facts)
        return schema


def schema_facts(**facts: Any) -> SchemaFacts:
    """`SchemaFacts` of these keywords: `schema_facts(pattern=..., minLength=16)`."""
    return SchemaFacts(tuple(facts.items()))


@dataclass(eq=False)
class _FieldExtra:
    """A field's own `json_schema_extra` and description, carried onto its type by `partial`."""

    extra: Any
    description: str | None

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        if self.description:
            schema["description"] = self.description
        if isinstance(self.extra, dict):
            schema.update(self.extra)
        elif callable(self.extra):
            self.extra(schema)
        return schema


def _field_facts(info: FieldInfo) -> list[Any]:
    """What `partial` keeps of a field beyond its type's metadata: its `json_schema_extra` (enums,
    patterns declared with `Field`) and description, without which PATCH would say less than PUT."""
    if info.json_schema_extra is None and info.description is None:
        return []
    return [_FieldExtra(info.json_schema_extra, info.description)]


def _stored_words(max_bytes: int) -> str:
    return (
        f"At most {max_bytes} bytes as stored (JSON-escaped: a non-ASCII character takes 6 bytes, "
        "12 outside the BMP; a quote, backslash or line break 2)"
    )


# An email address that must be given (a hook's, an invitation's): `Email`, not blank.
RequiredEmail = Annotated[
    Email, StringConstraints(min_length=1), Field(json_schema_extra={"description": "An email address"})
]


# A slug given by hand (`set_slug/`), and one that may be blank (create and update: none given). The
# domain checks them (chalicelib/domain/slugs.py `check`) once it knows whether the caller's slug
# counts (Waldur ignores a slug from others); these state its rule, the type only bounds the input.
Slug = Annotated[
    str,
    StringConstraints(max_length=200),
    schema_facts(minLength=1, maxLength=slugs.MAX_LENGTH, pattern=slugs.PATTERN),
]
SlugOrBlank = Annotated[
    str,
    StringConstraints(max_length=200),
    schema_facts(maxLength=slugs.MAX_LENGTH, pattern=slugs.BLANK_OR_PATTERN),
]


# --- uuids and references, as Django's and DRF's fields take them ---------------------------------
# Each type's validator and its schema's pattern come from one declaration (chalicelib/domain/ids.py:
# the pattern is the plain spelling of what the validator takes; it also takes braces and `urn:uuid:`
# as Python's `uuid.UUID`, behind both Django's and DRF's fields, does).
UUID_FILTER_INVALID = "Enter a valid UUID."  # django-filter's UUIDFilter (Django's forms.UUIDField)
UUID_FIELD_INVALID = "Must be a valid UUID."  # DRF's serializers.UUIDField
MAX_REFERENCE_LENGTH = 2000  # a hyperlink's length, as every reference field here bounds it


def _uuid(message: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(message)
        return parsed  # 32 lower-case hex digits, as ids are stored

    return check


def _reference(message: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if id_from_url(value) is None:
            raise ValueError(message)
        return value  # as sent: the view resolves it (`id_from_url`)

    return check


def _uuid_type(message: str) -> Any:
    return Annotated[
        str,
        AfterValidator(_uuid(message)),
        schema_facts(pattern=ids.UUID_PATTERN, description="A uuid (hex or dashed)"),
    ]


def _reference_type(message: str) -> Any:
    words = "An object's URL, or its uuid"
    return Annotated[
        str,
        StringConstraints(max_length=MAX_REFERENCE_LENGTH),
        AfterValidator(_reference(message)),
        schema_facts(pattern=ids.UUID_OR_URL_PATTERN, description=words),
    ]


_UUIDS_PATTERN = f"^{ids.UUID_CORE}(,{ids.UUID_CORE})*$"


def _uuids(value: str) -> str:
    if any(parse_id(part) is None for part in value.split(",")):
        raise ValueError(UUID_FILTER_INVALID)
    return value  # as sent: the view splits it


# `?customer=<uuid>,<uuid>` (django-filter's BaseInFilter of uuids).
UuidsFilter = Annotated[
    str, AfterValidator(_uuids), schema_facts(pattern=_UUIDS_PATTERN, description="Uuids, comma-separated")
]
UuidFilter = _uuid_type(UUID_FILTER_INVALID)  # `?customer_uuid=`
UuidField = _uuid_type(UUID_FIELD_INVALID)  # a body's uuid, or a filter Waldur declares as a UUIDField


def _each(check: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    def each(values: list[str]) -> list[str]:
        return [check(value) for value in values]

    return each


# Repeated filters (`?offering_uuid=a&offering_uuid=b`): checked as one value, so the first bad one
# is reported under the parameter itself, as django-filter does, not by index.
UuidFilters = Annotated[
    list[str],
    AfterValidator(_each(_uuid(UUID_FILTER_INVALID))),
    schema_facts(items={"type": "string", "pattern": ids.UUID_PATTERN}),
]
UuidsFilters = Annotated[
    list[str],
    AfterValidator(_each(_uuids)),
    schema_facts(items={"type": "string", "pattern": _UUIDS_PATTERN}),
]
ReferenceFilter = _reference_type(UUID_FILTER_INVALID)  # `?resource=<url or uuid>`
ReferenceField = _reference_type(UUID_FIELD_INVALID)  # a body's `"offering": "<url or uuid>"`
# A body's hyperlink (DRF's HyperlinkedRelatedField): one that is no URL of ours is "No URL match";
# one of the right form naming nothing is the service's "Object does not exist" (stored state).
Hyperlink = _reference_type("Invalid hyperlink - No URL match.")


# --- dates and times, as DRF's and Django's fields parse them -------------------------------------
# pydantic (lax) would also take a number, or a string of one, as a Unix time; DRF and django-filter
# take ISO 8601 text only (django.utils.dateparse: `fromisoformat`, else Django's regex below).
DATE_FIELD_INVALID = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
DATETIME_FIELD_INVALID = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
DATE_FILTER_INVALID = "Enter a valid date."  # django-filter's DateFilter (Django's forms.DateField)
DATETIME_FILTER_INVALID = "Enter a valid date/time."  # ... DateTimeFilter (forms.DateTimeField)
_DJANGO_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})")
_DJANGO_DATETIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"[T ](?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{1,2})"
    r"(?::(?P<second>[0-9]{1,2})(?:[.,](?P<microsecond>[0-9]{1,6})[0-9]{0,6})?)?"
    r" *(?P<tzinfo>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    found = _DJANGO_DATE.fullmatch(value)
    if found is None:
        return None
    try:
        return dt.date(**{k: int(v) for k, v in found.groupdict().items()})
    except ValueError:
        return None


def _parse_datetime(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    found = _DJANGO_DATETIME.fullmatch(value)
    if found is None:
        return None
    parts = found.groupdict()
    zone = parts.pop("tzinfo")
    micro = (parts.pop("microsecond") or "").ljust(6, "0")
    try:
        numbers = {k: int(v) for k, v in parts.items() if v is not None}
        return dt.datetime(**numbers, microsecond=int(micro), tzinfo=_zone(zone))
    except ValueError:
        return None


def _zone(text: str | None) -> dt.tzinfo | None:
    if text is None:
        return None
    if text == "Z":
        return dt.UTC
    minutes = int(text[1:3]) * 60 + (int(text[-2:]) if len(text) > 3 else 0)
    return dt.timezone(dt.timedelta(minutes=-minutes if text[0] == "-" else minutes))


def _iso(kind: type, parse: Callable[[str], Any], message: str) -> Any:
    """`kind` (a date or a datetime) from ISO 8601 text only; else `message`. The schema's
    `format: date` / `date-time` is pydantic's, from `kind`."""

    def check(value: Any) -> Any:
        if isinstance(value, kind):  # already parsed (a Python caller, a default)
            return value
        parsed = parse(value) if isinstance(value, str) else None
        if parsed is None:
            raise ValueError(message)
        return parsed

    return Annotated[kind, BeforeValidator(check)]


IsoDate = _iso(dt.date, _parse_date, DATE_FIELD_INVALID)  # a body's date (DRF's DateField)
IsoDateTime = _iso(dt.datetime, _parse_datetime, DATETIME_FIELD_INVALID)  # ... DateTimeField
DateFilter = _iso(dt.date, _parse_date, DATE_FILTER_INVALID)  # `?start_date=`
DateTimeFilter = _iso(dt.datetime, _parse_datetime, DATETIME_FILTER_INVALID)  # `?modified_after=`


# --- hyperlinks to objects of some kinds --------------------------------------------------------------
def object_url(collections: Iterable[str], takes: Callable[[str], bool], message: str) -> Any:
    """A hyperlink to an object of one of `collections` (`https://host/api/<collection>/<uuid>/`),
    checked by `takes` (the service's own reading of it); `message` (with `{}` for the value) when
    it does not take it. The schema's pattern spells the same shape out from the same collections
    (plain words and hyphens: no escaping). Whether the object exists is stored state, not shape."""
    kinds = "|".join(collections)
    pattern = f"^(https?://{ids.URL_HOST})?(/{ids.URL_SEGMENT})*/({kinds})/{ids.UUID_CORE}/?$"

    def check(value: str) -> str:
        if not takes(value):
            raise ValueError(message.format(value))
        return value

    return Annotated[
        str,
        StringConstraints(max_length=MAX_REFERENCE_LENGTH),
        AfterValidator(check),
        schema_facts(pattern=pattern, description=f"The URL of one of: {kinds}"),
    ]
