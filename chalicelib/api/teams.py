"""Teams: Waldur's membership actions on customers and projects (`list_users/`, `add_user/`,
`update_user/`, `delete_user/`), `customers/<uuid>/users/`, and `user-permissions/`.

`team_endpoints` registers the four actions for any scope type, so offerings get them by one call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.fields import IsoDateTime
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Empty,
    FieldsQuery,
    ListQuery,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain.roles import ScopeType
from chalicelib.services import memberships as service
from chalicelib.services import teams
from chalicelib.services.teams import Member, PermissionView, Person

bp = Blueprint(__name__)


class MemberIn(BodyModel):
    user: str = Field(min_length=1)
    role: str = Field(min_length=1)
    expiration_time: IsoDateTime | None = None


class MemberRemoveIn(BodyModel):
    user: str = Field(min_length=1)
    role: str = Field(min_length=1)


class ExpirationOut(ResponseModel):
    expiration_time: datetime | None


class MemberOut(ResponseModel):
    """Waldur's UserRoleDetails."""

    omit_when_null = frozenset({"created_by_uuid", "user_image"})

    uuid: str
    created: datetime
    expiration_time: datetime | None
    role_name: str
    role_uuid: str
    user_email: str
    user_full_name: str
    user_native_name: str
    user_username: str
    user_uuid: str
    user_image: str | None = None
    created_by_full_name: str
    created_by_username: str
    created_by_uuid: str | None = None


class MemberQuery(ListQuery):
    user: str | None = None
    user_uuid: str | None = None
    role: str | None = None
    username: str | None = None
    full_name: str | None = None
    native_name: str | None = None
    search_string: str | None = None

    ordering_fields = tuple(teams.MEMBER_ORDERING)


def member_data(member: Member) -> dict[str, Any]:
    g, user = member.grant, member.user
    return {
        "uuid": g.id,
        "created": g.created,
        "expiration_time": g.expiration_time,
        "role_name": member.role.name,
        "role_uuid": member.role.id,
        "user_email": user.email,
        "user_full_name": user.full_name,
        "user_native_name": user.native_name,
        "user_username": user.username,
        "user_uuid": user.id,
        "created_by_full_name": g.created_by_full_name,
        "created_by_username": g.created_by_username,
        "created_by_uuid": g.created_by_id,
    }


def _expiration(value: datetime | None) -> dict[str, Any]:
    # Rendered through the model, but null kept: clients read the key.
    rendered = ExpirationOut(expiration_time=value).model_dump(mode="json")
    return {"expiration_time": rendered["expiration_time"]}


def team_endpoints(bp: Blueprint, collection: str, scope_type: ScopeType, tag: str) -> None:
    """Register `<collection>/<uuid>/{list_users,add_user,update_user,delete_user}/` on `bp`."""
    base = f"/api/{collection}/{{uuid}}"
    model = service.MODELS[scope_type]
    prefix = collection.replace("-", "_")

    @endpoint(
        bp,
        f"{base}/list_users",
        "GET",
        name=f"{prefix}_list_users",
        tag=tag,
        query=MemberQuery,
        response=MemberOut,
        many=True,
        summary="The scope's team: users with a role in it",
    )
    def list_users(call: Call, uuid: str) -> Any:
        q: MemberQuery = call.query
        scope = service.visible_scope(call.user, scope_type, object_id(uuid, model))
        filters = teams.MemberFilters(
            user=q.user or q.user_uuid,
            role=q.role,
            username=q.username,
            full_name=q.full_name,
            native_name=q.native_name,
            search_string=q.search_string,
        )
        page = teams.list_members(call.user, scope, filters, q.ordering(), q.page_request())
        return listed(call, page, MemberOut, member_data)

    @endpoint(
        bp,
        f"{base}/add_user",
        "POST",
        name=f"{prefix}_add_user",
        tag=tag,
        body=MemberIn,
        response=ExpirationOut,
        status=201,
        summary="Grant a role in the scope",
    )
    def add_user(call: Call, uuid: str) -> Any:
        body: MemberIn = call.body
        scope = service.visible_scope(call.user, scope_type, object_id(uuid, model))
        grant = service.add_user(call.ctx, scope, body.user, body.role, body.expiration_time)
        return _expiration(grant.expiration_time)

    @endpoint(
        bp,
        f"{base}/update_user",
        "POST",
        name=f"{prefix}_update_user",
        tag=tag,
        body=MemberIn,
        response=ExpirationOut,
        summary="Change when a role in the scope expires",
    )
    def update_user(call: Call, uuid: str) -> Any:
        body: MemberIn = call.body
        scope = service.visible_scope(call.user, scope_type, object_id(uuid, model))
        grant = service.update_user(call.ctx, scope, body.user, body.role, body.expiration_time)
        return _expiration(grant.expiration_time)

    @endpoint(
        bp,
        f"{base}/delete_user",
        "POST",
        name=f"{prefix}_delete_user",
        tag=tag,
        body=MemberRemoveIn,
        summary="Revoke a role in the scope",
    )
    def delete_user(call: Call, uuid: str) -> Any:
        body: MemberRemoveIn = call.body
        scope = service.visible_scope(call.user, scope_type, object_id(uuid, model))
        service.delete_user(call.ctx, scope, body.user, body.role)
        return Empty()


team_endpoints(bp, "customers", ScopeType.CUSTOMER, "customers")
team_endpoints(bp, "projects", ScopeType.PROJECT, "projects")


# --- customers/<uuid>/users/ -------------------------------------------------------------------
class NestedProjectRole(ResponseModel):
    url: str
    uuid: str
    name: str
    role_name: str
    expiration_time: datetime | None


class CustomerUserOut(ResponseModel):
    url: str
    uuid: str
    username: str
    full_name: str
    email: str
    role_name: str | None
    projects: list[NestedProjectRole]
    expiration_time: datetime | None
    image: str | None = None


class CustomerUserQuery(ListQuery):
    username: str | None = None
    full_name: str | None = None
    email: str | None = None
    user_keyword: str | None = None
    organization_role: list[str] = Field(default_factory=list)
    project_role: list[str] = Field(default_factory=list)

    ordering_fields = tuple(teams.PEOPLE_ORDERING)


@endpoint(
    bp,
    "/api/customers/{uuid}/users",
    "GET",
    name="customers_users_list",
    tag="customers",
    query=CustomerUserQuery,
    response=CustomerUserOut,
    many=True,
    summary="People with a role in the customer or its projects (for customer-level roles, staff, support)",
)
def customer_users(call: Call, uuid: str) -> Any:
    q: CustomerUserQuery = call.query
    scope = service.visible_scope(call.user, ScopeType.CUSTOMER, object_id(uuid, "Customer"))
    filters = teams.PeopleFilters(
        username=q.username,
        full_name=q.full_name,
        email=q.email,
        user_keyword=q.user_keyword,
        organization_role=tuple(q.organization_role),
        project_role=tuple(q.project_role),
    )
    page = teams.list_people(call.user, scope, filters, q.ordering(), q.page_request())
    return listed(call, page, CustomerUserOut, lambda p: _person(call, p))


def _person(call: Call, person: Person) -> dict[str, Any]:
    user = person.user
    return {
        "url": call.url("users", user.id),
        "uuid": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "role_name": person.customer_role.name if person.customer_role else None,
        "expiration_time": person.customer_grant.expiration_time if person.customer_grant else None,
        "projects": [
            {
                "url": call.url("projects", project_id),
                "uuid": project_id,
                "name": name,
                "role_name": role.name,
                "expiration_time": grant.expiration_time,
            }
            for project_id, name, role, grant in person.projects
        ],
    }


# --- user-permissions/ -------------------------------------------------------------------------
class PermissionOut(ResponseModel):
    """Waldur's Permission (also the `permissions` field of a user)."""

    uuid: str
    user_uuid: str
    user_name: str
    user_username: str
    user_email: str
    created: datetime
    expiration_time: datetime | None
    is_active: bool
    created_by_full_name: str
    created_by_username: str
    role_name: str
    role_description: str
    role_uuid: str
    scope_type: str
    scope_uuid: str
    scope_name: str
    customer_uuid: str
    customer_name: str
    project_uuid: str | None = None


class PermissionQuery(ListQuery):
    user: str | None = None
    username: str | None = None
    full_name: str | None = None
    native_name: str | None = None
    scope_type: str | None = None
    scope_uuid: str | None = None
    role_name: str | None = None
    role_uuid: str | None = None

    ordering_fields = tuple(teams.PERMISSION_ORDERING)


def permission_data(view: PermissionView) -> dict[str, Any]:
    g, user = view.grant, view.user
    return {
        "uuid": g.id,
        "user_uuid": g.user_id,
        "user_name": user.full_name if user else "",
        "user_username": user.username if user else "",
        "user_email": user.email if user else "",
        "created": g.created,
        "expiration_time": g.expiration_time,
        "is_active": True,
        "created_by_full_name": g.created_by_full_name,
        "created_by_username": g.created_by_username,
        "role_name": view.role.name,
        "role_description": view.role.description,
        "role_uuid": view.role.id,
        "scope_type": g.scope_type.value,
        "scope_uuid": g.scope_id,
        "scope_name": view.scope.name,
        "customer_uuid": g.customer_id,
        "customer_name": view.customer_name,
        "project_uuid": g.scope_id if g.scope_type is ScopeType.PROJECT else None,
    }


def permissions_of(user_id: str) -> list[dict[str, Any]]:
    """The `permissions` field of a user."""
    return [render(PermissionOut, permission_data(v)) for v in teams.user_permissions(user_id)]


@endpoint(
    bp,
    "/api/user-permissions",
    "GET",
    name="user_permissions_list",
    tag="user-permissions",
    query=PermissionQuery,
    response=PermissionOut,
    many=True,
    summary="Roles in force: everybody's for staff and support, one's own otherwise",
)
def list_permissions(call: Call) -> Any:
    q: PermissionQuery = call.query
    filters = teams.PermissionFilters(
        user=q.user,
        username=q.username,
        full_name=q.full_name,
        native_name=q.native_name,
        scope_type=q.scope_type,
        scope_uuid=q.scope_uuid,
        role_name=q.role_name,
        role_uuid=q.role_uuid,
    )
    page = teams.list_permissions(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, PermissionOut, permission_data)


@endpoint(
    bp,
    "/api/user-permissions/{uuid}",
    "GET",
    name="user_permissions_retrieve",
    tag="user-permissions",
    query=FieldsQuery,
    response=PermissionOut,
)
def retrieve_permission(call: Call, uuid: str) -> Any:
    view = teams.get_permission(call.user, object_id(uuid, "UserRole"))
    return render(PermissionOut, permission_data(view), call.query.field)
