"""`/api/user-invitations/`: invitations to a role on a customer or project, by email.

Create answers 201 with the invitation; `send/`, `cancel/` and `accept/` answer 200 with Waldur's
`{"detail": ...}`. The email goes out from the `background` queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, StringConstraints, field_validator

from chalicelib.api.fields import RequiredEmail, each_of, free_text, line_text, schema_facts, text
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import invitations as domain
from chalicelib.services import invitations as service
from chalicelib.services.invitations import InvitationView

bp = Blueprint(__name__)
TAG = "user-invitations"
MODEL = domain.MODEL
COLLECTION = "user-invitations"

SENT = "Invitation sending has been successfully scheduled."
CANCELED = "Invitation has been successfully canceled."
ACCEPTED = "Invitation has been successfully accepted."


class InvitationIn(BodyModel):
    scope: Annotated[
        str, StringConstraints(min_length=1, max_length=2000), schema_facts(pattern=service.SCOPE_PATTERN)
    ]
    role: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: RequiredEmail
    full_name: line_text(100) = ""  # type: ignore[valid-type]
    native_name: line_text(100) = ""  # type: ignore[valid-type]
    phone_number: line_text(255) = ""  # type: ignore[valid-type]
    organization: line_text(255) = ""  # type: ignore[valid-type]
    job_title: line_text(120) = ""  # type: ignore[valid-type]
    civil_number: text(50) = ""  # type: ignore[valid-type]
    extra_invitation_text: free_text(250) = ""  # type: ignore[valid-type]


class AcceptIn(BodyModel):
    """Waldur's accept takes no required field; Cirrus adds the mail's `token`, needed only by a user
    signed in with an address other than the invited one."""

    token: Annotated[str, StringConstraints(max_length=200)] = ""


class InvitationOut(ResponseModel):
    url: str
    uuid: str
    role: str
    role_name: str
    role_description: str
    scope_uuid: str
    scope_name: str
    scope_description: str
    scope_type: str | None
    customer_uuid: str
    customer_name: str
    created_by_full_name: str
    created_by_username: str
    created_by_image: str | None = None
    created: datetime
    expires: datetime
    email: str
    state: str
    error_message: str
    execution_state: str
    full_name: str
    native_name: str
    phone_number: str
    organization: str
    job_title: str
    civil_number: str
    extra_invitation_text: str


class DetailOut(ResponseModel):
    detail: str


_STATES = frozenset(s.value for s in domain.InvitationState)


class InvitationQuery(ListQuery):
    civil_number: str | None = None
    customer_uuid: str | None = None
    email: str | None = None
    email_exact: str | None = None
    role_name: str | None = None
    role_uuid: str | None = None
    scope: str | None = None
    scope_name: str | None = None
    scope_type: str | None = None
    state: list[str] = Field([], json_schema_extra=each_of(_STATES))

    ordering_fields = service.ORDERING_FIELDS

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in _STATES:
                raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
        return values


def to_data(call: Call, view: InvitationView) -> dict[str, Any]:
    i = view.invitation
    role = view.role
    data: dict[str, Any] = {name: getattr(i, name) for name in domain.DETAIL_FIELDS}
    data.update(
        url=call.url(COLLECTION, i.id),
        uuid=i.id,
        role=i.role_id,
        role_name=role.name if role else "",
        role_description=role.description if role else "",
        scope_uuid=i.scope_id,
        scope_name=view.scope_name,
        scope_description=view.scope_description,
        scope_type=i.scope_type.value,
        customer_uuid=i.customer_id,
        customer_name=view.customer_name,
        created_by_full_name=i.created_by_full_name,
        created_by_username=i.created_by_username,
        created_by_image=None,
        created=i.created,
        expires=i.expires,
        email=i.email,
        state=view.state.value,
        error_message=i.error_message,
        execution_state=i.execution_state.value,
    )
    return data


def _one(call: Call, view: InvitationView) -> dict[str, Any]:
    return render(InvitationOut, to_data(call, view), getattr(call.query, "field", ()))


@endpoint(
    bp,
    "/api/user-invitations",
    "GET",
    name="user_invitations_list",
    tag=TAG,
    query=InvitationQuery,
    response=InvitationOut,
    many=True,
    summary="List the invitations the caller may manage (staff and support: all)",
)
def list_invitations(call: Call) -> Any:
    q: InvitationQuery = call.query
    filters = service.InvitationFilters(
        customer_uuid=q.customer_uuid,
        email=q.email,
        email_exact=q.email_exact,
        role_name=q.role_name,
        role_uuid=q.role_uuid,
        scope=q.scope,
        scope_type=q.scope_type,
        scope_name=q.scope_name,
        civil_number=q.civil_number,
        state=tuple(q.state),
    )
    page = service.list_invitations(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, InvitationOut, lambda v: to_data(call, v))


@endpoint(
    bp,
    "/api/user-invitations",
    "POST",
    name="user_invitations_create",
    tag=TAG,
    body=InvitationIn,
    response=InvitationOut,
    status=201,
    retry_key=True,
    summary="Invite someone by email to a role on a customer or project",
)
def create_invitation(call: Call) -> Any:
    body: InvitationIn = call.body
    details = {name: getattr(body, name) for name in domain.DETAIL_FIELDS}
    view = service.create_invitation(call.ctx, body.scope, body.role, body.email, details)
    return Created(_one(call, view))


@endpoint(
    bp,
    "/api/user-invitations/{uuid}",
    "GET",
    name="user_invitations_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=InvitationOut,
)
def retrieve_invitation(call: Call, uuid: str) -> Any:
    return _one(call, service.retrieve(call.user, object_id(uuid, MODEL)))


@endpoint(
    bp,
    "/api/user-invitations/{uuid}/send",
    "POST",
    name="user_invitations_send",
    tag=TAG,
    response=DetailOut,
    summary="Send the invitation again (an expired or canceled one becomes pending for a new week)",
)
def send_invitation(call: Call, uuid: str) -> Any:
    service.send(call.ctx, object_id(uuid, MODEL))
    return {"detail": SENT}


@endpoint(
    bp,
    "/api/user-invitations/{uuid}/cancel",
    "POST",
    name="user_invitations_cancel",
    tag=TAG,
    response=DetailOut,
    summary="Cancel a pending invitation",
)
def cancel_invitation(call: Call, uuid: str) -> Any:
    service.cancel(call.ctx, object_id(uuid, MODEL))
    return {"detail": CANCELED}


@endpoint(
    bp,
    "/api/user-invitations/{uuid}/accept",
    "POST",
    name="user_invitations_accept",
    tag=TAG,
    body=AcceptIn,
    response=DetailOut,
    summary="Accept a pending invitation sent to the caller's email (or with its mail's token): "
    "the caller gets its role",
)
def accept_invitation(call: Call, uuid: str) -> Any:
    body: AcceptIn = call.body
    service.accept(call.ctx, object_id(uuid, MODEL), body.token)
    return {"detail": ACCEPTED}
