"""`/api/users/`: accounts. `me/` is the caller; staff create, delete and change flags."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.api import teams
from chalicelib.api.fields import (
    DetailMessageOut,
    Email,
    StatusMessageOut,
    changes,
    free_text,
    line_text,
    partial,
    patch_changes,
    schema_facts,
    text,
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
from chalicelib.auth.requests import token_from
from chalicelib.domain import usernames
from chalicelib.domain import users as domain
from chalicelib.domain.numbers import MAX_INTEGER
from chalicelib.domain.users import User
from chalicelib.services import users as service

bp = Blueprint(__name__)
TAG = "users"
MODEL = "User"


def _username(value: str) -> str:
    if not usernames.is_valid(value):
        raise ValueError(usernames.INVALID)
    return value


Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=usernames.MAX_LENGTH),
    AfterValidator(_username),
    schema_facts(pattern=usernames.ASCII_PATTERN),
]
# A password a password action sets: its length is checked after the caller's rights (Waldur's
# order), in Django's words; the schema states it.
NewPassword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=domain.PASSWORD_MAX_LENGTH),
    schema_facts(minLength=domain.PASSWORD_MIN_LENGTH),
]


class UserUpdateIn(BodyModel):
    """What PUT and PATCH change. Waldur's UserSerializer has no `password` field: one sent is
    ignored like any unknown field (the `password/` action sets it)."""

    username: Username
    full_name: line_text(100) = ""  # type: ignore[valid-type]
    native_name: line_text(100) = ""  # type: ignore[valid-type]
    email: Email = ""
    organization: line_text(255) = ""  # type: ignore[valid-type]
    job_title: line_text(120) = ""  # type: ignore[valid-type]
    phone_number: line_text(255) = ""  # type: ignore[valid-type]
    civil_number: text(50) = ""  # type: ignore[valid-type]
    description: free_text(2000) = ""  # type: ignore[valid-type]
    preferred_language: text(10) = ""  # type: ignore[valid-type]
    is_staff: bool = False
    is_support: bool = False
    is_active: bool = True
    token_lifetime: int | None = Field(3600, ge=60, le=MAX_INTEGER)
    # Write-only: true records the user's agreement to the terms (`agreement_date`), once.
    agree_with_policy: bool = False


class UserIn(UserUpdateIn):
    """A new user: Cirrus also takes an initial password (none: the user signs in another way)."""

    password: text(domain.PASSWORD_MAX_LENGTH) | None = None  # type: ignore[valid-type]


UserPatch = partial(UserUpdateIn, "UserPatch", nullable=frozenset({"token_lifetime"}))


class PasswordIn(BodyModel):
    password: NewPassword


class PasswordChangeIn(BodyModel):
    new_password: NewPassword


class UserOut(ResponseModel):
    omit_when_null = frozenset({"permissions", "token"})

    url: str
    uuid: str
    username: str
    full_name: str
    native_name: str
    email: str
    organization: str
    job_title: str
    phone_number: str
    civil_number: str
    description: str
    preferred_language: str
    registration_method: str
    is_staff: bool
    is_support: bool
    is_active: bool
    # The caller's own token, on their own user only (Waldur: "nobody apart from the user herself can
    # see her token"); HomePort reads it from users/me after a password sign-in.
    token: str | None = None
    token_lifetime: int | None = None
    agreement_date: datetime | None = None
    date_joined: datetime
    # Roles in force: shown on a single user (retrieve, me); on a list only when `?field=permissions`
    # asks for them (a Query per user of the page).
    permissions: list[dict[str, Any]] | None = None
    # Where the identity comes from, and the fields it sets (HomePort's profile form reads them).
    identity_provider_name: str
    identity_provider_label: str
    identity_provider_management_url: str
    identity_provider_fields: list[str]


class UserQuery(ListQuery):
    """Waldur's user filters (services/users.py `UserFilters` says what each one matches)."""

    username: str | None = None
    username_exact: str | None = None
    name_exact: str | None = None
    username_list: str | None = None
    full_name: str | None = None
    native_name: str | None = None
    organization: str | None = None
    job_title: str | None = None
    email: str | None = None
    user_keyword: str | None = None
    query: str | None = None
    phone_number: str | None = None
    description: str | None = None
    civil_number: str | None = None
    registration_method: str | None = None
    is_active: bool | None = None
    is_staff: bool | None = None
    is_support: bool | None = None
    customer_uuid: str | None = None
    project_uuid: str | None = None

    ordering_fields = service.ORDERING_FIELDS

    def filters(self) -> service.UserFilters:
        names = [f.name for f in fields(service.UserFilters) if f.name != "member_ids"]
        return service.UserFilters(**{name: getattr(self, name) for name in names})


def to_data(call: Call, user: User) -> dict[str, Any]:
    data = {name: getattr(user, name) for name in UserOut.model_fields if hasattr(user, name)}
    data.update(url=call.url("users", user.id), uuid=user.id)
    source = domain.identity_source(user.registration_method)
    data.update(
        identity_provider_name=source.name,
        identity_provider_label=source.label,
        identity_provider_management_url=source.management_url,
        identity_provider_fields=list(source.fields),
    )
    return data


def _listed_data(call: Call, user: User) -> dict[str, Any]:
    """A user of a list: with its permissions when `?field=permissions` names them (HomePort's
    administration list of users shows each user's roles)."""
    data = to_data(call, user)
    if "permissions" in getattr(call.query, "field", ()):
        data["permissions"] = teams.permissions_of(user.id)
    return data


def _own_token(call: Call, user: User) -> str | None:
    """The Waldur token this request signed in with, when `user` is its owner: tokens are stored
    hashed, so the one the caller presented is the only one there is to show. None for a bearer JWT,
    for an impersonated user and for anybody else's user."""
    principal = call.principal
    if call.key_hash is None or principal is None or principal.impersonator_id is not None:
        return None
    if principal.user_id != user.id:
        return None
    return token_from(call.headers, call.params)


def _one(call: Call, user: User) -> dict[str, Any]:
    data = to_data(call, user)
    data["permissions"] = teams.permissions_of(user.id)
    data["token"] = _own_token(call, user)
    return render(UserOut, data, getattr(call.query, "field", ()))


@endpoint(bp, "/api/users", "GET", name="users_list", tag=TAG, query=UserQuery, response=UserOut, many=True)
def list_users(call: Call) -> Any:
    q: UserQuery = call.query
    page = service.list_users(call.user, q.filters(), q.ordering(), q.page_request())
    return listed(call, page, UserOut, lambda u: _listed_data(call, u))


@endpoint(
    bp,
    "/api/users/me",
    "GET",
    name="users_me_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=UserOut,
    summary="The authenticated user",
)
def me(call: Call) -> Any:
    return _one(call, service.get_visible(call.user, call.user.user_id))


@endpoint(bp, "/api/users", "POST", name="users_create", tag=TAG, body=UserIn, response=UserOut, status=201)
def create_user(call: Call) -> Any:
    fields = changes(call.body, exclude=frozenset({"password"}))
    return Created(_one(call, service.create_user(call.ctx, fields, call.body.password)))


@endpoint(bp, "/api/users/{uuid}", "GET", name="users_retrieve", tag=TAG, query=FieldsQuery, response=UserOut)
def retrieve_user(call: Call, uuid: str) -> Any:
    return _one(call, service.get_visible(call.user, object_id(uuid, MODEL)))


@endpoint(bp, "/api/users/{uuid}", "PUT", name="users_update", tag=TAG, body=UserUpdateIn, response=UserOut)
def update_user(call: Call, uuid: str) -> Any:
    fields = changes(call.body)
    return _one(call, service.update_user(call.ctx, object_id(uuid, MODEL), fields))


@endpoint(
    bp, "/api/users/{uuid}", "PATCH", name="users_partial_update", tag=TAG, body=UserPatch, response=UserOut
)
def partial_update_user(call: Call, uuid: str) -> Any:
    fields = patch_changes(call.body)
    return _one(call, service.update_user(call.ctx, object_id(uuid, MODEL), fields))


@endpoint(bp, "/api/users/{uuid}/password", "POST", name="users_password", tag=TAG, body=PasswordIn,
          response=DetailMessageOut)  # fmt: skip
def change_password(call: Call, uuid: str) -> Any:
    service.set_password(call.ctx, object_id(uuid, MODEL), call.body.password, call.key_hash)
    return render(DetailMessageOut, {"detail": "Password has been successfully updated."})


@endpoint(
    bp,
    "/api/users/{uuid}/change_password",
    "POST",
    name="users_change_password",
    tag=TAG,
    body=PasswordChangeIn,
    response=StatusMessageOut,
    summary="Set a user's password (staff only, Waldur's route)",
)
def change_password_by_staff(call: Call, uuid: str) -> Any:
    service.change_password(call.ctx, object_id(uuid, MODEL), call.body.new_password, call.key_hash)
    return render(StatusMessageOut, {"status": "password set"})


@endpoint(bp, "/api/users/{uuid}", "DELETE", name="users_destroy", tag=TAG, status=204)
def delete_user(call: Call, uuid: str) -> Any:
    service.delete_user(call.ctx, object_id(uuid, MODEL))
    return NoContent()
