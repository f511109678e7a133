"""Role use cases (Waldur's `/api/roles/`): everybody signed in reads roles, staff change them.

System roles are defined in code: staff may change their permissions, description and state, not
their name or scope type, and may not delete them. A custom role may be deleted only while nobody
holds it. Every change writes its audit event (a global one: roles belong to no customer) in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import events, rbac
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.roles import ROLE_IN_USE, ROLE_NAME_TAKEN, Role, ScopeType, check_permissions
from chalicelib.services import access
from chalicelib.services.paging import Ordering, Page, PageRequest, paginate
from chalicelib.services.ports import roles as store
from chalicelib.services.ports import unit_of_work

MODEL = "Role"
ORDERING_FIELDS = ("name", "is_active", "users_count", "content_type")

# Waldur's event types for role definitions (`role_updated` is taken: a grant's expiry changed).
ROLE_DEFINITION_CREATED = "role_definition_created"
ROLE_DEFINITION_UPDATED = "role_definition_updated"
ROLE_DEFINITION_DELETED = "role_definition_deleted"
ROLE_ENABLED = "role_enabled"
ROLE_DISABLED = "role_disabled"
_PAST_TENSE = {
    ROLE_DEFINITION_CREATED: "created",
    ROLE_DEFINITION_UPDATED: "updated",
    ROLE_DEFINITION_DELETED: "deleted",
    ROLE_ENABLED: "enabled",
    ROLE_DISABLED: "disabled",
}

# Waldur's messages.
INVALID_CONTENT_TYPE = "Invalid content type."
SYSTEM_RENAME = "Changing name for system role is not possible."
SYSTEM_RESCOPE = "Changing content type for system role is not possible."
RESCOPE_IN_USE = "Changing content type of a role in use is not possible."
SYSTEM_DELETE = "Destroying of system role is not available."


@dataclass(frozen=True)
class RoleFilters:
    name: str | None = None
    description: str | None = None
    query: str | None = None
    is_active: bool | None = None
    is_system_role: bool | None = None
    content_type: str | None = None

    def matches(self, role: Role) -> bool:
        checks = (
            self.name is None or self.name.lower() in role.name.lower(),
            self.description is None or self.description.lower() in role.description.lower(),
            self.query is None
            or self.query.lower() in role.name.lower()
            or self.query.lower() in role.description.lower(),
            self.is_active is None or role.is_active is self.is_active,
            self.is_system_role is None or role.is_system_role is self.is_system_role,
            self.content_type is None or role.content_type.value == self.content_type,
        )
        return all(checks)


_ORDER_BY: dict[str, Callable[[Role], Any]] = {
    "name": lambda r: (r.name, r.id),
    "is_active": lambda r: (r.is_active, r.name, r.id),
    "users_count": lambda r: (r.users_count, r.name, r.id),
    "content_type": lambda r: (r.content_type.value, r.name, r.id),
}


def sees_users_count(principal: Principal | None) -> bool:
    """Waldur shows how many users hold a role to staff and support only (nobody signed out)."""
    return principal is not None and principal.reads_everything


def _counted(principal: Principal | None, roles: list[Role]) -> list[Role]:
    return store.with_users_counts(roles) if roles and sees_users_count(principal) else roles


# --- reads ---------------------------------------------------------------------------------------
def list_roles(
    principal: Principal | None, filters: RoleFilters, ordering: Ordering, request: PageRequest
) -> Page[Any]:
    """The roles matching `filters`, ordered and paged in memory (a deployment has tens of roles)."""
    rows = [r for r in access.all_roles().values() if filters.matches(r)]
    by_count = ordering.field == "users_count"
    if by_count:
        rows = store.with_users_counts(rows) if rows else rows
    rows.sort(key=_ORDER_BY[ordering.field or "name"], reverse=ordering.descending)
    page = paginate(rows, request)
    return page if by_count else Page(_counted(principal, page.items), page.total)


def get_role(principal: Principal | None, role_id: str) -> Role:
    return _counted(principal, [_get(role_id)])[0]


def _get(role_id: str) -> Role:
    role = access.all_roles().get(role_id)
    if role is None:
        raise NotFound(MODEL)
    return role


def _load(role_id: str) -> Role:
    """The role as stored now (`store.load`: its version is the latest, as the write requires)."""
    role = store.load(role_id)
    if role is None:
        raise NotFound(MODEL)
    return role


def _for_change(principal: Principal, role_id: str) -> Role:
    """`_load` with the role's users count (a role held may not be re-scoped or deleted)."""
    return _counted(principal, [_load(role_id)])[0]


# --- writes --------------------------------------------------------------------------------------
def create_role(ctx: EventContext, fields: Mapping[str, Any]) -> Role:
    """A custom role (staff). `fields`: name, content_type, permissions, description?, is_active?"""
    rbac.require_staff(ctx.actor)
    role = Role(
        id=new_id(),
        name=fields["name"],
        content_type=_scope_type(fields["content_type"]),
        permissions=check_permissions(fields["permissions"]),
        description=fields.get("description", ""),
        is_active=fields.get("is_active", True),
    )
    _check_name_free(role)
    uow = unit_of_work()
    store.add(uow, role)
    uow.record(_event(ROLE_DEFINITION_CREATED, role, ctx))
    uow.commit()
    return replace(role, version=1)


def update_role(ctx: EventContext, role_id: str, changes: Mapping[str, Any]) -> Role:
    """Change what `changes` names (staff): name, description, permissions, content_type, is_active."""
    principal = ctx.actor
    rbac.require_staff(principal)
    before = _for_change(principal, role_id)
    after = _changed(before, changes)
    if after == before:
        return before
    uow = unit_of_work()
    store.save(uow, before, after)
    if after.is_active != before.is_active:
        uow.record(_event(ROLE_ENABLED if after.is_active else ROLE_DISABLED, after, ctx))
    if replace(after, is_active=before.is_active) != before:
        uow.record(_event(ROLE_DEFINITION_UPDATED, after, ctx))
    uow.commit()
    return replace(after, version=before.version + 1)


def set_active(ctx: EventContext, role_id: str, active: bool) -> Role:
    """Enable or disable a role (staff). A disabled role grants nothing and cannot be granted;
    its grants stay, and count again once it is enabled."""
    rbac.require_staff(ctx.actor)
    before = _load(role_id)
    if before.is_active is active:
        return before
    after = replace(before, is_active=active)
    uow = unit_of_work()
    store.save(uow, before, after)
    uow.record(_event(ROLE_ENABLED if active else ROLE_DISABLED, after, ctx))
    uow.commit()
    return replace(after, version=before.version + 1)


def delete_role(ctx: EventContext, role_id: str) -> None:
    """Delete a custom role nobody holds (staff)."""
    principal = ctx.actor
    rbac.require_staff(principal)
    role = _for_change(principal, role_id)
    if role.is_system_role:
        raise ValidationError([SYSTEM_DELETE])
    if role.users_count:
        raise ValidationError([ROLE_IN_USE])
    uow = unit_of_work()
    store.remove(uow, role)  # refused there too if a grant lands meanwhile
    uow.record(_event(ROLE_DEFINITION_DELETED, role, ctx))
    uow.commit()


# --- rules ---------------------------------------------------------------------------------------
def _scope_type(value: str) -> ScopeType:
    try:
        return ScopeType(value)
    except ValueError:
        raise ValidationError.field("content_type", INVALID_CONTENT_TYPE) from None


def _changed(before: Role, changes: Mapping[str, Any]) -> Role:
    after = replace(
        before,
        name=changes.get("name", before.name),
        description=changes.get("description", before.description),
        is_active=changes.get("is_active", before.is_active),
    )
    if "permissions" in changes:
        after = replace(after, permissions=check_permissions(changes["permissions"]))
    if "content_type" in changes:
        after = replace(after, content_type=_scope_type(changes["content_type"]))
    if after.name != before.name:
        if before.is_system_role:
            raise ValidationError({"non_field_errors": [SYSTEM_RENAME]})  # Waldur's serializer.validate
        _check_name_free(after)
    if after.content_type is not before.content_type:
        # Grants name their scope type: re-scoping a held role would strand them.
        if before.is_system_role:
            raise ValidationError.field("content_type", SYSTEM_RESCOPE)
        if before.users_count:
            raise ValidationError.field("content_type", RESCOPE_IN_USE)
    return after


def _check_name_free(role: Role) -> None:
    """System roles hold no name guard item, so their names are checked here; custom roles' names
    are also guarded in the write itself."""
    if any(other.name == role.name and other.id != role.id for other in access.all_roles().values()):
        raise ValidationError.field("name", ROLE_NAME_TAKEN)


def _event(event_type: str, role: Role, ctx: EventContext) -> events.Event:
    message = f"Role {role.name} has been {_PAST_TENSE[event_type]}."
    return events.make_event(event_type, message, ctx, {"role_uuid": role.id, "role_name": role.name})
