"""`/api/roles/`: named sets of permissions for a scope type. Everybody signed in reads them (Waldur's
clients look roles up by name); staff create, change, enable, disable and delete them."""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import BeforeValidator, Field

from chalicelib.api.auth import DetailOut
from chalicelib.api.errors import FLAT
from chalicelib.api.fields import changes, each_of, free_text, name_text, one_of, partial, patch_changes
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
from chalicelib.domain.roles import ALL_PERMISSIONS, Role, ScopeType
from chalicelib.services import roles as service

bp = Blueprint(__name__)
TAG = "roles"
MODEL = "Role"


def _permission_names(value: Any) -> Any:
    # Waldur's field is a JSONField whose values it iterates, so an object counts by its keys; the
    # generated waldur-api-client can only send an object here.
    return list(value) if isinstance(value, dict) else value


# A JSONField in Waldur: a bad item is the field's error, not an item's.
Permissions = Annotated[list[str], BeforeValidator(_permission_names), FLAT]


class RoleIn(BodyModel):
    name: name_text(150)  # type: ignore[valid-type]
    description: free_text(2000) = ""  # type: ignore[valid-type]
    permissions: Permissions = Field(
        description="Permission strings, e.g. PROJECT.UPDATE", json_schema_extra=each_of(ALL_PERMISSIONS)
    )
    content_type: str = Field(
        description="customer, project or offering", json_schema_extra=one_of(ScopeType)
    )
    is_active: bool = True


RolePatch = partial(RoleIn, "RolePatch")


class RoleOut(ResponseModel):
    omit_when_null = frozenset({"users_count"})

    url: str
    uuid: str
    name: str
    description: str
    permissions: list[str]
    is_system_role: bool
    is_active: bool
    users_count: int | None = None  # staff and support only, as in Waldur
    content_type: str


class RoleQuery(ListQuery):
    name: str | None = None
    description: str | None = None
    query: str | None = None
    is_active: bool | None = None
    is_system_role: bool | None = None
    content_type: str | None = None

    ordering_fields = service.ORDERING_FIELDS


def to_data(call: Call, role: Role) -> dict[str, Any]:
    return {
        "url": call.url("roles", role.id),
        "uuid": role.id,
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
        "is_system_role": role.is_system_role,
        "is_active": role.is_active,
        "users_count": role.users_count if service.sees_users_count(call.principal) else None,
        "content_type": role.content_type.value,
    }


def _one(call: Call, role: Role) -> dict[str, Any]:
    return render(RoleOut, to_data(call, role), getattr(call.query, "field", ()))


@endpoint(
    bp,
    "/api/roles",
    "GET",
    name="roles_list",
    tag=TAG,
    query=RoleQuery,
    response=RoleOut,
    many=True,
    anonymous=True,  # Waldur's IsAdminOrReadOnly: HomePort loads the roles before anyone signs in
    summary="List roles",
)
def list_roles(call: Call) -> Any:
    q: RoleQuery = call.query
    filters = service.RoleFilters(
        name=q.name,
        description=q.description,
        query=q.query,
        is_active=q.is_active,
        is_system_role=q.is_system_role,
        content_type=q.content_type,
    )
    page = service.list_roles(call.principal, filters, q.ordering(), q.page_request())
    return listed(call, page, RoleOut, lambda r: to_data(call, r))


@endpoint(
    bp,
    "/api/roles",
    "POST",
    name="roles_create",
    tag=TAG,
    body=RoleIn,
    response=RoleOut,
    status=201,
    summary="Create a custom role (staff)",
)
def create_role(call: Call) -> Any:
    return Created(_one(call, service.create_role(call.ctx, changes(call.body))))


@endpoint(
    bp,
    "/api/roles/{uuid}",
    "GET",
    name="roles_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=RoleOut,
    anonymous=True,
)
def retrieve_role(call: Call, uuid: str) -> Any:
    return _one(call, service.get_role(call.principal, object_id(uuid, MODEL)))


@endpoint(
    bp,
    "/api/roles/{uuid}",
    "PUT",
    name="roles_update",
    tag=TAG,
    body=RoleIn,
    response=RoleOut,
    summary="Update a role (staff); a system role keeps its name and content type",
)
def update_role(call: Call, uuid: str) -> Any:
    return _one(call, service.update_role(call.ctx, object_id(uuid, MODEL), changes(call.body)))


@endpoint(
    bp,
    "/api/roles/{uuid}",
    "PATCH",
    name="roles_partial_update",
    tag=TAG,
    body=RolePatch,
    response=RoleOut,
    summary="Update some fields of a role (staff)",
)
def partial_update_role(call: Call, uuid: str) -> Any:
    return _one(call, service.update_role(call.ctx, object_id(uuid, MODEL), patch_changes(call.body)))


@endpoint(
    bp,
    "/api/roles/{uuid}",
    "DELETE",
    name="roles_destroy",
    tag=TAG,
    status=204,
    summary="Delete a custom role nobody holds (staff)",
)
def delete_role(call: Call, uuid: str) -> Any:
    service.delete_role(call.ctx, object_id(uuid, MODEL))
    return NoContent()


@endpoint(
    bp,
    "/api/roles/{uuid}/enable",
    "POST",
    name="roles_enable",
    tag=TAG,
    response=DetailOut,
    summary="Enable a role (staff)",
)
def enable_role(call: Call, uuid: str) -> Any:
    role = service.set_active(call.ctx, object_id(uuid, MODEL), True)
    return {"detail": f"The role {role.name} has been enabled"}


@endpoint(
    bp,
    "/api/roles/{uuid}/disable",
    "POST",
    name="roles_disable",
    tag=TAG,
    response=DetailOut,
    summary="Disable a role (staff): it grants nothing until enabled again",
)
def disable_role(call: Call, uuid: str) -> Any:
    role = service.set_active(call.ctx, object_id(uuid, MODEL), False)
    return {"detail": f"The role {role.name} has been disabled"}
