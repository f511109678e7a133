"""`/api/marketplace-offering-users/` (users' accounts at service providers: list, retrieve,
create, update, delete, the agent's state actions, `update_restricted/`) and an offering's
`user-attribute-config/`, in Waldur's OfferingUser and OfferingUserAttributeConfig fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, StringConstraints, field_validator

from chalicelib.api.fields import each_of, schema_facts
from chalicelib.api.marketplace_orders import offering_url, uuid_filter
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    Empty,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import offering_users as domain
from chalicelib.domain.offering_users import AttributeConfig
from chalicelib.domain.offerings import MODEL as OFFERING_MODEL
from chalicelib.services import offering_users as service
from chalicelib.services.offering_users import View

bp = Blueprint(__name__)
TAG = "marketplace-offering-users"
COLLECTION = "marketplace-offering-users"
BASE = f"/api/{COLLECTION}"
OFFERINGS = "/api/marketplace-provider-offerings"
OFFERINGS_TAG = "marketplace-provider-offerings"
MODEL = domain.MODEL
_STATES = frozenset(s.value for s in domain.State)


class OfferingUserOut(ResponseModel):
    """Waldur's OfferingUser (what Cirrus knows of it)."""

    omit_when_null = frozenset(
        {
            "user_email",
            "user_first_name",
            "user_full_name",
            "user_job_title",
            "user_last_name",
            "user_organization",
            "user_phone_number",
            "user_username",
        }
    )

    url: str
    uuid: str
    user: str
    offering: str
    username: str | None = None
    offering_uuid: str
    offering_name: str
    user_uuid: str
    # The user's attributes, each only where the viewer may see it (the offering's attribute config
    # decides for its provider).
    user_username: str | None = None
    user_full_name: str | None = None
    user_first_name: str | None = None
    user_last_name: str | None = None
    user_email: str | None = None
    user_phone_number: str | None = None
    user_organization: str | None = None
    user_job_title: str | None = None
    created: datetime
    modified: datetime
    customer_uuid: str
    customer_name: str
    is_restricted: bool
    state: str
    service_provider_comment: str
    service_provider_comment_url: str
    has_consent: bool
    requires_reconsent: bool
    offering_has_active_tos: bool
    has_compliance_checklist: bool
    is_profile_complete: bool
    missing_profile_attributes: list[str]


class OfferingUserQuery(ListQuery):
    offering_uuid: list[str] = []
    offering: str | None = None
    provider_uuid: str | None = None
    user_uuid: str | None = None
    user_username: str | None = None
    username: str | None = None
    state: list[str] = Field([], json_schema_extra=each_of(_STATES))
    is_restricted: bool | None = None
    query: str | None = Field(None, max_length=255)

    ordering_fields = ("created", "modified", "username")

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in _STATES:
                raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
        return values


# A backend username: checked by the domain's rule (`check_username`, after the caller's rights, as
# Waldur validates after finding the object); the schema states the rule. The type's own bound
# only keeps a huge value from reaching the rule.
Username = Annotated[
    str,
    StringConstraints(max_length=10_000),
    schema_facts(maxLength=domain.USERNAME_MAX, pattern=domain.USERNAME_PATTERN),
]
GivenUsername = Annotated[
    str,
    StringConstraints(max_length=10_000),
    schema_facts(minLength=1, maxLength=domain.USERNAME_MAX, pattern=domain.GIVEN_USERNAME_PATTERN),
]


class OfferingUserIn(BodyModel):
    offering: str | None = Field(None, max_length=2000)
    offering_uuid: str | None = Field(None, max_length=64)
    user: str | None = Field(None, max_length=2000)
    user_uuid: str | None = Field(None, max_length=64)
    username: Username | None = None


class OfferingUserPatch(BodyModel):
    username: Username | None = None


class TransitionIn(BodyModel):
    comment: str = Field("", max_length=domain.COMMENT_MAX)
    comment_url: str = Field("", max_length=2000)


class RestrictionIn(BodyModel):
    is_restricted: bool


def _name_parts(full_name: str) -> tuple[str, str]:
    first, _, last = full_name.strip().partition(" ")
    return first, last.strip()


def _user_attributes(view: View) -> dict[str, Any]:
    """The user's attributes the viewer may see (the others are left out of the body)."""
    user = view.user
    first, last = _name_parts(user.full_name if user else "")
    values = {
        "username": {"user_username": user.username if user else ""},
        "full_name": {
            "user_full_name": user.full_name if user else "",
            "user_first_name": first,
            "user_last_name": last,
        },
        "email": {"user_email": user.email if user else ""},
        "phone_number": {"user_phone_number": user.phone_number if user else ""},
        "organization": {"user_organization": user.organization if user else ""},
        "job_title": {"user_job_title": user.job_title if user else ""},
    }
    shown = view.exposed
    return {
        k: v for name, group in values.items() if shown is None or name in shown for k, v in group.items()
    }


def to_data(call: Call, view: View) -> dict[str, Any]:
    a = view.account
    return {
        "url": call.url(COLLECTION, a.id),
        "uuid": a.id,
        "user": call.url("users", a.user_id),
        "offering": offering_url(call, a.offering_id),
        "username": a.username or None,
        "offering_uuid": a.offering_id,
        "offering_name": a.offering_name,
        "user_uuid": a.user_id,
        **_user_attributes(view),
        "created": a.created,
        "modified": a.modified,
        "customer_uuid": a.provider_id,
        "customer_name": view.customer_name,
        "is_restricted": a.is_restricted,
        "state": a.state.value,
        "service_provider_comment": a.service_provider_comment,
        "service_provider_comment_url": a.service_provider_comment_url,
        "has_consent": True,  # Cirrus has no terms-of-service consent to withhold
        "requires_reconsent": False,
        "offering_has_active_tos": False,
        "has_compliance_checklist": False,
        "is_profile_complete": True,
        "missing_profile_attributes": [],
    }


def _one(call: Call, view: View, status: int = 200) -> Any:
    data = render(OfferingUserOut, to_data(call, view), getattr(call.query, "field", ()))
    return Created(data) if status == 201 else data


@endpoint(bp, BASE, "GET", name="marketplace_offering_users_list", tag=TAG, query=OfferingUserQuery,
          response=OfferingUserOut, many=True,
          summary="Offering users the caller sees (their own, their offerings')")  # fmt: skip
def list_offering_users(call: Call) -> Any:
    q: OfferingUserQuery = call.query
    offerings = [uuid_filter("offering_uuid", v) or "" for v in q.offering_uuid]
    if q.offering:
        offerings.append(uuid_filter("offering", q.offering.rstrip("/").rsplit("/", 1)[-1]) or "")
    filters = service.Filters(
        offering_ids=tuple(offerings),
        provider_id=uuid_filter("provider_uuid", q.provider_uuid),
        user_id=uuid_filter("user_uuid", q.user_uuid),
        user_username=q.user_username,
        username=q.username,
        states=tuple(q.state),
        is_restricted=q.is_restricted,
        query=q.query,
    )
    page = service.list_offering_users(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, OfferingUserOut, lambda v: to_data(call, v))


@endpoint(bp, f"{BASE}/{{uuid}}", "GET", name="marketplace_offering_users_retrieve", tag=TAG,
          query=FieldsQuery, response=OfferingUserOut)  # fmt: skip
def retrieve_offering_user(call: Call, uuid: str) -> Any:
    return _one(call, service.retrieve(call.user, object_id(uuid, MODEL)))


@endpoint(bp, BASE, "POST", name="marketplace_offering_users_create", tag=TAG, body=OfferingUserIn,
          response=OfferingUserOut, status=201,
          summary="Open a user's account in an offering (its provider, staff)")  # fmt: skip
def create_offering_user(call: Call) -> Any:
    body: OfferingUserIn = call.body
    view = service.create(
        call.ctx, body.offering or body.offering_uuid, body.user or body.user_uuid, body.username
    )
    return _one(call, view, 201)


def _set_username(call: Call, uuid: str) -> Any:
    body: OfferingUserPatch = call.body
    offering_user_id = object_id(uuid, MODEL)
    if body.username is None:
        # Nothing the provider may change was sent: the account as it is, if they may change it.
        view = service.set_username(
            call.ctx, offering_user_id, service.get_visible(call.user, offering_user_id).username
        )
    else:
        view = service.set_username(call.ctx, offering_user_id, body.username)
    return _one(call, view)


@endpoint(bp, f"{BASE}/{{uuid}}", "PATCH", name="marketplace_offering_users_partial_update", tag=TAG,
          body=OfferingUserPatch, response=OfferingUserOut,
          summary="Set the account's username (its provider, staff)")  # fmt: skip
def partial_update_offering_user(call: Call, uuid: str) -> Any:
    return _set_username(call, uuid)


@endpoint(bp, f"{BASE}/{{uuid}}", "PUT", name="marketplace_offering_users_update", tag=TAG,
          body=OfferingUserPatch, response=OfferingUserOut)  # fmt: skip
def update_offering_user(call: Call, uuid: str) -> Any:
    return _set_username(call, uuid)


@endpoint(bp, f"{BASE}/{{uuid}}", "DELETE", name="marketplace_offering_users_destroy", tag=TAG,
          status=204, summary="Remove the account (its provider, staff)")  # fmt: skip
def delete_offering_user(call: Call, uuid: str) -> Any:
    service.delete(call.ctx, object_id(uuid, MODEL))
    return NoContent()


def _action(name: str) -> None:
    """One state action of the provider's agent: 200 with no body, 409 outside its states."""
    commented = name in domain.COMMENTED

    @endpoint(bp, f"{BASE}/{{uuid}}/{name}", "POST", name=f"marketplace_offering_users_{name}", tag=TAG,
              body=TransitionIn if commented else None,
              summary=f"Account state: {domain.TRANSITIONS[name][1].value}")  # fmt: skip
    def act(call: Call, uuid: str) -> Any:
        body: TransitionIn | None = call.body
        comment, url = (body.comment, body.comment_url) if body is not None else ("", "")
        service.act(call.ctx, object_id(uuid, MODEL), name, comment, url)
        return Empty()


for _name in domain.TRANSITIONS:
    _action(_name)


@endpoint(bp, f"{BASE}/{{uuid}}/update_restricted", "POST",
          name="marketplace_offering_users_update_restricted", tag=TAG,
          body=RestrictionIn, summary="Mark the account restricted or not")  # fmt: skip
def update_restricted(call: Call, uuid: str) -> Any:
    body: RestrictionIn = call.body
    service.set_restricted(call.ctx, object_id(uuid, MODEL), body.is_restricted)
    return Empty()


# --- an offering's user attribute config ---------------------------------------------------------
class AttributeConfigOut(ResponseModel):
    uuid: str
    created: datetime
    modified: datetime
    exposed_fields: list[str]
    is_default: bool
    offering_uuid: str
    offering_name: str
    expose_username: bool
    expose_full_name: bool
    expose_email: bool
    expose_organization: bool
    expose_job_title: bool
    expose_phone_number: bool
    expose_civil_number: bool


class AttributeConfigIn(BodyModel):
    """`expose_<attribute>` flags; those Cirrus does not keep are refused if set true."""

    model_config = {"extra": "allow", "defer_build": True}


def _config_data(config: AttributeConfig, offering_name: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uuid": config.offering_id,
        "created": config.created,
        "modified": config.modified,
        "exposed_fields": list(config.exposed),
        "is_default": not config.saved,
        "offering_uuid": config.offering_id,
        "offering_name": offering_name,
    }
    data.update({f"expose_{name}": name in config.exposed for name in domain.EXPOSABLE})
    return data


def _flags(body: AttributeConfigIn) -> dict[str, bool]:
    """The body's `expose_*` flags by attribute; an attribute Cirrus does not keep may only be off."""
    from chalicelib.domain.errors import ValidationError

    flags: dict[str, bool] = {}
    for key, value in (body.model_extra or {}).items():
        if not key.startswith("expose_"):
            continue
        if not isinstance(value, bool):
            raise ValidationError.field(key, "Must be a valid boolean.")
        name = key.removeprefix("expose_")
        if name not in domain.EXPOSABLE:
            if value:
                raise ValidationError.field(key, "Cirrus does not keep this attribute of its users.")
            continue
        flags[name] = value
    return flags


def _config(call: Call, uuid: str, config: AttributeConfig) -> Any:
    from chalicelib.services import offerings as catalog

    offering = catalog.get_offering(object_id(uuid, OFFERING_MODEL))
    return render(AttributeConfigOut, _config_data(config, offering.name))


@endpoint(bp, f"{OFFERINGS}/{{uuid}}/user-attribute-config", "GET",
          name="marketplace_provider_offerings_user_attribute_config_retrieve", tag=OFFERINGS_TAG,
          response=AttributeConfigOut,
          summary="Which user attributes the offering's provider sees")  # fmt: skip
def retrieve_attribute_config(call: Call, uuid: str) -> Any:
    return _config(call, uuid, service.attribute_config(call.user, object_id(uuid, OFFERING_MODEL)))


def _config_write(method: str, name: str, partial: bool) -> None:
    @endpoint(bp, f"{OFFERINGS}/{{uuid}}/update-user-attribute-config", method, name=name,
              tag="marketplace-provider-offerings", body=AttributeConfigIn, response=AttributeConfigOut,
              summary="Choose which user attributes the offering's provider sees")  # fmt: skip
    def write(call: Call, uuid: str) -> Any:
        flags = _flags(call.body)
        stored = service.set_attribute_config(call.ctx, object_id(uuid, OFFERING_MODEL), flags, partial)
        return _config(call, uuid, stored)


_config_write("POST", "marketplace_provider_offerings_update_user_attribute_config", partial=False)
_config_write("PUT", "marketplace_provider_offerings_update_user_attribute_config_update", partial=False)
_config_write(
    "PATCH", "marketplace_provider_offerings_update_user_attribute_config_partial_update", partial=True
)


@endpoint(bp, f"{OFFERINGS}/{{uuid}}/delete-user-attribute-config", "DELETE",
          name="marketplace_provider_offerings_delete_user_attribute_config_destroy",
          tag=OFFERINGS_TAG, status=204, summary="Back to the default attribute config")  # fmt: skip
def delete_attribute_config(call: Call, uuid: str) -> Any:
    service.reset_attribute_config(call.ctx, object_id(uuid, OFFERING_MODEL))
    return NoContent()
