"""`/api/marketplace-robot-accounts/`: resources' robot accounts (list, retrieve, create, PUT,
PATCH, delete and the provider agent's set_state_* actions), in Waldur's RobotAccountDetails fields
(RobotAccount's on the writes' answers are a subset). The provider sets them up; both sides of the
resource read them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import BaseModel, Field, StringConstraints, field_validator

from chalicelib.api.errors import FLAT
from chalicelib.api.fields import changes, each_of, free_text, line_text, name_text, partial, schema_facts
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.marketplace_user_usages import resource_filter
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
from chalicelib.api.ssh_keys import to_data as key_data
from chalicelib.domain import robot_accounts as domain
from chalicelib.domain.ssh_keys import KEY_PATTERN, PUBLIC_KEY_MAX
from chalicelib.domain.users import User
from chalicelib.services import market_queries as lists
from chalicelib.services import robot_accounts as service
from chalicelib.services.robot_accounts import View

bp = Blueprint(__name__)
TAG = "marketplace-robot-accounts"
COLLECTION = "marketplace-robot-accounts"
BASE = f"/api/{COLLECTION}"
MODEL = domain.MODEL
_STATES = frozenset(s.value for s in domain.State)
Reference = Annotated[str, StringConstraints(max_length=2000)]
# The domain checks each key as /api/keys/ does (`clean_keys`); the schema states the key line.
Key = Annotated[
    str,
    StringConstraints(max_length=PUBLIC_KEY_MAX + 100),
    schema_facts(maxLength=PUBLIC_KEY_MAX, pattern=KEY_PATTERN),
]


class AccountIn(BodyModel):
    """Waldur's RobotAccountRequest (python-waldur-client sends `username` "" and empty lists)."""

    resource: Reference
    type: name_text(domain.TYPE_MAX)  # type: ignore[valid-type]
    username: line_text(domain.USERNAME_MAX) = ""  # type: ignore[valid-type]
    description: free_text(domain.DESCRIPTION_MAX) = ""  # type: ignore[valid-type]
    # Waldur's `users` is a many-related field and `keys` a JSON field: errors name the field, not an item.
    users: Annotated[list[Reference], FLAT] = Field([], max_length=domain.MAX_USERS)
    keys: Annotated[list[Key], FLAT] = Field([], max_length=domain.MAX_KEYS)
    responsible_user: Reference | None = None


AccountPatch = partial(AccountIn, "AccountPatch", nullable=frozenset({"responsible_user"}))


class ErrorIn(BodyModel):
    """Waldur's RobotAccountErrorRequest."""

    error_message: free_text(max_bytes=16 * 1024) = ""  # type: ignore[valid-type]


def account_request(body: BaseModel) -> service.AccountRequest:
    """The fields a create, PUT or PATCH sent (a PATCH's absent ones are not changed)."""
    sent = changes(body)
    extra = {"responsible_user": sent["responsible_user"]} if "responsible_user" in sent else {}
    return service.AccountRequest(
        resource=sent.get("resource"),
        type=sent.get("type"),
        username=sent.get("username"),
        description=sent.get("description"),
        users=sent.get("users"),
        keys=sent.get("keys"),
        **extra,
    )


class AccountOut(ResponseModel):
    """Waldur's RobotAccountDetails."""

    url: str
    uuid: str
    created: datetime
    modified: datetime
    type: str
    username: str
    description: str
    state: str
    error_message: str
    error_traceback: str
    resource: str
    users: list[dict[str, Any]]
    keys: list[str]
    backend_id: str
    responsible_user: dict[str, Any] | None = None
    fingerprints: list[dict[str, str]]
    user_keys: list[dict[str, Any]]
    resource_name: str
    resource_uuid: str
    resource_backend_id: str
    project_name: str
    project_uuid: str
    customer_name: str
    customer_uuid: str
    provider_uuid: str
    provider_name: str


class AccountWrittenOut(ResponseModel):
    """Waldur's RobotAccount: what a create, PUT or PATCH answers (people as hyperlinks)."""

    url: str
    uuid: str
    created: datetime
    modified: datetime
    type: str
    username: str
    description: str
    state: str
    error_message: str
    error_traceback: str
    resource: str
    users: list[str]
    keys: list[str]
    backend_id: str
    responsible_user: str | None = None
    fingerprints: list[dict[str, str]]


class AccountQuery(ListQuery):
    resource: str | None = Field(None, max_length=2000)
    resource_uuid: str | None = None
    project_uuid: str | None = None
    customer_uuid: str | None = None
    provider_uuid: str | None = None
    responsible_user_uuid: str | None = None
    type: str | None = Field(None, max_length=255)
    username: str | None = Field(None, max_length=255)
    # Waldur's numbers (what waldur-api-client sends) or the states' names.
    state: list[str] = Field([], json_schema_extra=each_of([*domain.STATE_NUMBERS, *_STATES]))

    ordering_fields = tuple(service.SORT)

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        """Waldur's numbers (what waldur-api-client sends) or the states' names."""
        found = []
        for value in values:
            state = domain.STATE_NUMBERS.get(value) or (value if value in _STATES else None)
            if state is None:
                raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
            found.append(str(state))
        return found


def _basic_user(call: Call, user: User) -> dict[str, Any]:
    """Waldur's BasicUser, without the email (the account's readers need not see it)."""
    return {
        "url": call.url("users", user.id),
        "uuid": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "native_name": user.native_name,
    }


def to_data(call: Call, view: View) -> dict[str, Any]:
    a = view.account
    return {
        "url": call.url(COLLECTION, a.id),
        "uuid": a.id,
        "created": a.created,
        "modified": a.modified,
        "type": a.type,
        "username": a.username,
        "description": a.description,
        "state": a.state.value,
        "error_message": a.error_message,
        "error_traceback": a.error_traceback,
        "resource": call.url("marketplace-resources", a.resource_id),
        "users": [_basic_user(call, u) for u in view.users],
        "keys": list(a.keys),
        "backend_id": a.backend_id,
        "responsible_user": _basic_user(call, view.responsible_user) if view.responsible_user else None,
        "fingerprints": [vars(f) for f in domain.fingerprints(a)],
        "user_keys": [key_data(call, k) for k in view.user_keys],
        "resource_name": a.resource_name,
        "resource_uuid": a.resource_id,
        "resource_backend_id": a.resource_backend_id,
        "project_name": a.project_name,
        "project_uuid": a.project_id,
        "customer_name": a.customer_name,
        "customer_uuid": a.customer_id,
        "provider_uuid": a.provider_id,
        "provider_name": a.provider_name,
    }


def one(call: Call, view: View) -> dict[str, Any]:
    return render(AccountOut, to_data(call, view), getattr(call.query, "field", ()))


def written(call: Call, view: View) -> dict[str, Any]:
    a = view.account
    data = {
        **to_data(call, view),
        "users": [call.url("users", u) for u in a.users],
        "responsible_user": call.url("users", a.responsible_user_id) if a.responsible_user_id else None,
    }
    return render(AccountWrittenOut, data)


@endpoint(
    bp,
    BASE,
    "GET",
    name="marketplace_robot_accounts_list",
    tag=TAG,
    query=AccountQuery,
    response=AccountOut,
    many=True,
    summary="Robot accounts of the resources the caller sees from either side",
)
def list_accounts(call: Call) -> Any:
    q: AccountQuery = call.query
    filters = service.AccountFilters(
        narrowing=lists.Narrowing(
            customer_id=uuid_filter("customer_uuid", q.customer_uuid),
            project_id=uuid_filter("project_uuid", q.project_uuid),
            resource_id=resource_filter(q.resource, q.resource_uuid),
            provider_id=uuid_filter("provider_uuid", q.provider_uuid),
        ),
        type=q.type,
        username=q.username,
        states=tuple(q.state),
        responsible_user_id=uuid_filter("responsible_user_uuid", q.responsible_user_uuid),
    )
    page = service.list_accounts(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, AccountOut, lambda view: to_data(call, view))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "GET",
    name="marketplace_robot_accounts_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=AccountOut,
)
def retrieve_account(call: Call, uuid: str) -> Any:
    return one(call, service.retrieve(call.user, object_id(uuid, MODEL)))


@endpoint(
    bp,
    BASE,
    "POST",
    name="marketplace_robot_accounts_create",
    tag=TAG,
    body=AccountIn,
    response=AccountWrittenOut,
    status=201,
    retry_key=True,
    summary="Set up a robot account on a resource",
)
def create_account(call: Call) -> Any:
    return Created(written(call, service.create(call.ctx, account_request(call.body))))


def _update(call: Call, uuid: str) -> Any:
    return written(call, service.update(call.ctx, object_id(uuid, MODEL), account_request(call.body)))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "PUT",
    name="marketplace_robot_accounts_update",
    tag=TAG,
    body=AccountIn,
    response=AccountWrittenOut,
    summary="Change a robot account",
)
def update_account(call: Call, uuid: str) -> Any:
    return _update(call, uuid)


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "PATCH",
    name="marketplace_robot_accounts_partial_update",
    tag=TAG,
    body=AccountPatch,
    response=AccountWrittenOut,
    summary="Change some fields of a robot account",
)
def partial_update_account(call: Call, uuid: str) -> Any:
    return _update(call, uuid)


@endpoint(
    bp,
    f"{BASE}/{{uuid}}",
    "DELETE",
    name="marketplace_robot_accounts_destroy",
    tag=TAG,
    status=204,
    summary="Remove a robot account",
)
def delete_account(call: Call, uuid: str) -> Any:
    service.delete(call.ctx, object_id(uuid, MODEL))
    return NoContent()


def _act(call: Call, uuid: str, action: str, error_message: str = "") -> Any:
    return one(call, service.set_state(call.ctx, object_id(uuid, MODEL), action, error_message))


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/set_state_creating",
    "POST",
    name="marketplace_robot_accounts_set_state_creating",
    tag=TAG,
    response=AccountOut,
    summary="Requested → Creating (the agent begins)",
)
def set_state_creating(call: Call, uuid: str) -> Any:
    return _act(call, uuid, "set_state_creating")


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/set_state_ok",
    "POST",
    name="marketplace_robot_accounts_set_state_ok",
    tag=TAG,
    response=AccountOut,
    summary="→ OK (made, or recovered from Error)",
)
def set_state_ok(call: Call, uuid: str) -> Any:
    return _act(call, uuid, "set_state_ok")


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/set_state_erred",
    "POST",
    name="marketplace_robot_accounts_set_state_erred",
    tag=TAG,
    body=ErrorIn,
    response=AccountOut,
    summary="→ Error, with the backend's message",
)
def set_state_erred(call: Call, uuid: str) -> Any:
    body: ErrorIn = call.body
    return _act(call, uuid, "set_state_erred", body.error_message)


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/set_state_request_deletion",
    "POST",
    name="marketplace_robot_accounts_set_state_request_deletion",
    tag=TAG,
    response=AccountOut,
    summary="OK → Requested deletion",
)
def set_state_request_deletion(call: Call, uuid: str) -> Any:
    return _act(call, uuid, "set_state_request_deletion")


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/set_state_deleted",
    "POST",
    name="marketplace_robot_accounts_set_state_deleted",
    tag=TAG,
    response=AccountOut,
    summary="Requested deletion → Deleted",
)
def set_state_deleted(call: Call, uuid: str) -> Any:
    return _act(call, uuid, "set_state_deleted")
