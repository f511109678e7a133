"""`/api/hooks-web/`, `/api/hooks-email/` (list, create, retrieve, update, partial update, delete) and
`/api/hooks/` (both kinds, read-only): the caller's hooks (staff: everybody's), in Waldur's fields,
plus Cirrus's delivery health (`last_published`, `last_failure`, `last_error`, `failure_count`).

A web hook's `secret` is write-only: sent on create (or generated then) and shown once, in the
create answer; PUT/PATCH may replace it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.api.fields import (
    DateTimeFilter,
    RequiredEmail,
    UuidFilter,
    any_given,
    changes,
    each_of,
    one_of,
    partial,
    patch_changes,
    schema_facts,
)
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import hooks as domain
from chalicelib.domain.events import EVENT_GROUPS, all_event_types
from chalicelib.domain.hooks import HookKind
from chalicelib.services import hooks as service
from chalicelib.services.hooks import HookFilters, HookView

bp = Blueprint(__name__)
TAG = "hooks"
COLLECTIONS = {HookKind.WEB: "hooks-web", HookKind.EMAIL: "hooks-email"}


def _none_or(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Run a choice check on a sent value; null is left to the type (DRF: "may not be null")."""
    return lambda value: value if value is None else check(value)


EventTypes = Annotated[
    list[str],
    BeforeValidator(_none_or(domain.event_type_choices)),
    Field(json_schema_extra=each_of(all_event_types)),
]
EventGroups = Annotated[
    list[str],
    BeforeValidator(_none_or(domain.event_group_choices)),
    Field(json_schema_extra=each_of(EVENT_GROUPS)),
]
HookContentType = Annotated[
    str,
    BeforeValidator(_none_or(domain.content_type_choice)),
    Field(json_schema_extra=one_of(c.value for c in domain.ContentType)),
]
DestinationUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=domain.URL_MAX),
    AfterValidator(domain.destination_url),
    schema_facts(pattern=domain.URL_PATTERN),
]
# The lengths are checked by `secret_value` (in DRF's words); the schema states them.
Secret = Annotated[
    str,
    AfterValidator(domain.secret_value),
    schema_facts(minLength=domain.SECRET_MIN, maxLength=domain.SECRET_MAX),
]


class HookIn(BodyModel):
    event_types: EventTypes = Field(
        default_factory=list, description="Event types (see events/event_groups/)"
    )
    event_groups: EventGroups = Field(default_factory=list, description="Event groups, expanded into types")
    is_active: bool = True


class WebHookIn(HookIn):
    destination_url: DestinationUrl
    content_type: HookContentType = Field(domain.ContentType.JSON.value, description="json or form")
    secret: Secret | None = Field(
        None, description="Write-only signing secret, 16-256 characters (generated when absent)"
    )


class EmailHookIn(HookIn):
    email: RequiredEmail


# A new hook names its events (Waldur's BaseHookSerializer.validate: either key, even empty; checked
# by domain.subscription_changes in those words); PUT and PATCH need neither.
_NAMES_EVENTS = ConfigDict(json_schema_extra=any_given("event_types", "event_groups"))


class WebHookCreateIn(WebHookIn):
    model_config = _NAMES_EVENTS


class EmailHookCreateIn(EmailHookIn):
    model_config = _NAMES_EVENTS


WebHookPatch = partial(WebHookIn, "WebHookPatch")
EmailHookPatch = partial(EmailHookIn, "EmailHookPatch")


class HookOut(ResponseModel):
    url: str
    uuid: str
    is_active: bool
    author_uuid: str
    event_types: list[str]
    event_groups: list[str]
    created: datetime
    modified: datetime
    hook_type: str
    author_fullname: str
    author_username: str
    author_email: str
    last_published: datetime | None = None
    last_failure: datetime | None = None
    last_error: str
    failure_count: int


class WebHookOut(HookOut):
    destination_url: str
    content_type: str


class WebHookCreatedOut(WebHookOut):
    secret: str = Field(description="The signing secret; shown in this answer only")


class EmailHookOut(HookOut):
    email: str


class HookSummaryOut(HookOut):
    """A hook of either kind with its kind's fields (Waldur's SummaryHookSerializer)."""

    # Waldur serialises each hook with its own kind's serializer: the other kind's fields are absent.
    omit_when_null = frozenset({"destination_url", "content_type", "email"})

    destination_url: str | None = None
    content_type: str | None = None
    email: str | None = None


class HookQuery(ListQuery):
    author_uuid: UuidFilter | None = None
    author_fullname: str | None = None
    author_username: str | None = None
    author_email: str | None = None
    query: str | None = None
    is_active: bool | None = None
    last_published: DateTimeFilter | None = None

    def filters(self) -> HookFilters:
        return HookFilters(
            author_uuid=self.author_uuid,
            author_fullname=self.author_fullname,
            author_username=self.author_username,
            author_email=self.author_email,
            query=self.query,
            is_active=self.is_active,
            last_published=self.last_published,
        )


# Waldur stores the content type as 1 (json) or 2 (form); its clients filter by the number.
_CONTENT_TYPE_FILTER = {"1": "json", "2": "form", "json": "json", "form": "form"}


class WebHookQuery(HookQuery):
    destination_url: str | None = None
    content_type: str | None = Field(None, json_schema_extra=one_of(_CONTENT_TYPE_FILTER))

    @field_validator("content_type")
    @classmethod
    def _content_type(cls, value: str | None) -> str | None:
        if value is not None and value not in _CONTENT_TYPE_FILTER:
            raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
        return _CONTENT_TYPE_FILTER[value] if value is not None else None

    def filters(self) -> HookFilters:
        return replace(
            super().filters(), destination_url=self.destination_url, content_type=self.content_type
        )


class EmailHookQuery(HookQuery):
    email: str | None = None

    def filters(self) -> HookFilters:
        return replace(super().filters(), email=self.email)


def to_data(call: Call, view: HookView) -> dict[str, Any]:
    hook, author = view.hook, view.author
    data: dict[str, Any] = {
        "url": call.url(COLLECTIONS[hook.kind], hook.id),
        "uuid": hook.id,
        "is_active": hook.is_active,
        "author_uuid": hook.user_id,
        "event_types": list(hook.event_types),
        "event_groups": list(hook.event_groups),
        "created": hook.created,
        "modified": hook.modified,
        "hook_type": hook.kind.value,
        "author_fullname": author.full_name if author else "",
        "author_username": author.username if author else "",
        "author_email": author.email if author else "",
        "last_published": hook.last_published,
        "last_failure": hook.last_failure,
        "last_error": hook.last_error,
        "failure_count": hook.failure_count,
    }
    if hook.kind is HookKind.WEB:
        data.update(destination_url=hook.destination_url, content_type=hook.content_type.value)
    else:
        data["email"] = hook.email
    if view.secret is not None:
        data["secret"] = view.secret
    return data


# --- /api/hooks/ ---------------------------------------------------------------------------------------
@endpoint(
    bp,
    "/api/hooks",
    "GET",
    name="hooks_list",
    tag=TAG,
    query=HookQuery,
    response=HookSummaryOut,
    many=True,
    summary="List the caller's web and email hooks (staff: everybody's), newest first",
)
def list_all_hooks(call: Call) -> Any:
    q: HookQuery = call.query
    page = service.list_hooks(call.user, None, q.filters(), q.page_request())
    return listed(call, page, HookSummaryOut, lambda v: to_data(call, v))


# --- one kind ------------------------------------------------------------------------------------------
def _register(
    kind: HookKind,
    create: type[HookIn],
    body: type[HookIn],
    patch: type[Any],
    out: type[HookOut],
    created_out: type[HookOut],
    query: type[HookQuery],
) -> None:
    """The six routes of one kind of hook (`hooks-web`, `hooks-email`), alike but for their models."""
    collection = COLLECTIONS[kind]
    path, name, model = f"/api/{collection}", collection.replace("-", "_"), service.MODELS[kind]

    def one(call: Call, view: HookView, shape: type[HookOut] = out) -> dict[str, Any]:
        return render(shape, to_data(call, view), getattr(call.query, "field", ()))

    @endpoint(bp, path, "GET", name=f"{name}_list", tag=TAG, query=query, response=out, many=True,
              summary=f"List {model}s (the caller's; staff: everybody's), newest first")  # fmt: skip
    def list_hooks(call: Call) -> Any:
        q: HookQuery = call.query
        page = service.list_hooks(call.user, kind, q.filters(), q.page_request())
        return listed(call, page, out, lambda v: to_data(call, v))

    @endpoint(bp, path, "POST", name=f"{name}_create", tag=TAG, body=create, response=created_out,
              status=201, retry_key=True, summary=f"Create a {model} owned by the caller")  # fmt: skip
    def create_hook(call: Call) -> Any:
        return Created(one(call, service.create_hook(call.ctx, kind, changes(call.body)), created_out))

    @endpoint(bp, f"{path}/{{uuid}}", "GET", name=f"{name}_retrieve", tag=TAG, query=FieldsQuery,
              response=out)  # fmt: skip
    def retrieve_hook(call: Call, uuid: str) -> Any:
        return one(call, service.retrieve(call.user, kind, object_id(uuid, model)))

    @endpoint(bp, f"{path}/{{uuid}}", "PUT", name=f"{name}_update", tag=TAG, body=body, response=out,
              summary=f"Update a {model}")  # fmt: skip
    def update_hook(call: Call, uuid: str) -> Any:
        return one(call, service.update_hook(call.ctx, kind, object_id(uuid, model), changes(call.body)))

    @endpoint(bp, f"{path}/{{uuid}}", "PATCH", name=f"{name}_partial_update", tag=TAG, body=patch,
              response=out, summary=f"Update some fields of a {model}")  # fmt: skip
    def partial_update_hook(call: Call, uuid: str) -> Any:
        sent = patch_changes(call.body)
        return one(call, service.update_hook(call.ctx, kind, object_id(uuid, model), sent))

    @endpoint(bp, f"{path}/{{uuid}}", "DELETE", name=f"{name}_destroy", tag=TAG, status=204,
              summary=f"Delete a {model}")  # fmt: skip
    def delete_hook(call: Call, uuid: str) -> Any:
        service.delete_hook(call.ctx, kind, object_id(uuid, model))
        return NoContent()


_register(HookKind.WEB, WebHookCreateIn, WebHookIn, WebHookPatch, WebHookOut, WebHookCreatedOut, WebHookQuery)
_register(
    HookKind.EMAIL, EmailHookCreateIn, EmailHookIn, EmailHookPatch, EmailHookOut, EmailHookOut, EmailHookQuery
)
