"""Roles: named sets of permissions that apply to one kind of scope (customer, project, offering).

The permission strings and the system roles are Waldur's. System roles are defined here, with
stable ids derived from their names (the same uuid in every deployment), so they exist without
seeding; staff may change their permissions and enable or disable them (stored as an override),
but not rename or delete them. Custom roles are created by staff and live only in the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from chalicelib.domain.errors import ValidationError


class ScopeType(StrEnum):
    CUSTOMER = "customer"
    PROJECT = "project"
    OFFERING = "offering"


class P(StrEnum):
    """Permission strings (Waldur's `PermissionEnum` values)."""

    REGISTER_SERVICE_PROVIDER = "SERVICE_PROVIDER.REGISTER"

    CREATE_CUSTOMER = "CUSTOMER.CREATE"
    UPDATE_CUSTOMER = "CUSTOMER.UPDATE"
    DELETE_CUSTOMER = "CUSTOMER.DELETE"
    CREATE_PROJECT = "PROJECT.CREATE"
    UPDATE_PROJECT = "PROJECT.UPDATE"
    DELETE_PROJECT = "PROJECT.DELETE"

    CREATE_CUSTOMER_PERMISSION = "CUSTOMER.CREATE_PERMISSION"
    UPDATE_CUSTOMER_PERMISSION = "CUSTOMER.UPDATE_PERMISSION"
    DELETE_CUSTOMER_PERMISSION = "CUSTOMER.DELETE_PERMISSION"
    CREATE_PROJECT_PERMISSION = "PROJECT.CREATE_PERMISSION"
    UPDATE_PROJECT_PERMISSION = "PROJECT.UPDATE_PERMISSION"
    DELETE_PROJECT_PERMISSION = "PROJECT.DELETE_PERMISSION"
    CREATE_OFFERING_PERMISSION = "OFFERING.CREATE_PERMISSION"
    UPDATE_OFFERING_PERMISSION = "OFFERING.UPDATE_PERMISSION"
    DELETE_OFFERING_PERMISSION = "OFFERING.DELETE_PERMISSION"

    CREATE_OFFERING = "OFFERING.CREATE"
    DELETE_OFFERING = "OFFERING.DELETE"
    UPDATE_OFFERING = "OFFERING.UPDATE"
    UPDATE_OFFERING_THUMBNAIL = "OFFERING.UPDATE_THUMBNAIL"
    UPDATE_OFFERING_ATTRIBUTES = "OFFERING.UPDATE_ATTRIBUTES"
    UPDATE_OFFERING_LOCATION = "OFFERING.UPDATE_LOCATION"
    UPDATE_OFFERING_DESCRIPTION = "OFFERING.UPDATE_DESCRIPTION"
    UPDATE_OFFERING_OPTIONS = "OFFERING.UPDATE_OPTIONS"
    UPDATE_OFFERING_INTEGRATION = "OFFERING.UPDATE_INTEGRATION"
    UPDATE_OFFERING_COMPONENTS = "OFFERING.UPDATE_COMPONENTS"
    PAUSE_OFFERING = "OFFERING.PAUSE"
    UNPAUSE_OFFERING = "OFFERING.UNPAUSE"
    ARCHIVE_OFFERING = "OFFERING.ARCHIVE"
    CREATE_OFFERING_PLAN = "OFFERING.CREATE_PLAN"
    UPDATE_OFFERING_PLAN = "OFFERING.UPDATE_PLAN"
    ARCHIVE_OFFERING_PLAN = "OFFERING.ARCHIVE_PLAN"
    CREATE_OFFERING_USER = "OFFERING.CREATE_USER"
    UPDATE_OFFERING_USER = "OFFERING.UPDATE_USER"

    APPROVE_PRIVATE_ORDER = "ORDER.APPROVE_PRIVATE"
    APPROVE_ORDER = "ORDER.APPROVE"
    REJECT_ORDER = "ORDER.REJECT"
    DESTROY_ORDER = "ORDER.DESTROY"
    CANCEL_ORDER = "ORDER.CANCEL"

    TERMINATE_RESOURCE = "RESOURCE.TERMINATE"
    SET_RESOURCE_END_DATE = "RESOURCE.SET_END_DATE"
    SET_RESOURCE_USAGE = "RESOURCE.SET_USAGE"
    SWITCH_RESOURCE_PLAN = "RESOURCE.SET_PLAN"
    UPDATE_RESOURCE_LIMITS = "RESOURCE.SET_LIMITS"
    SET_RESOURCE_BACKEND_ID = "RESOURCE.SET_BACKEND_ID"
    SUBMIT_RESOURCE_REPORT = "RESOURCE.SUBMIT_REPORT"
    SET_RESOURCE_BACKEND_METADATA = "RESOURCE.SET_BACKEND_METADATA"
    SET_RESOURCE_STATE = "RESOURCE.SET_STATE"
    LIST_RESOURCE_USERS = "RESOURCE.LIST_USERS"
    CONSUMPTION_LIMITATION = "RESOURCE.CONSUMPTION_LIMITATION"  # per-user usage limits (consumer side)
    # Held by no role unless a deployment grants it (staff need none): a project's or resource's
    # slug names accounts on the provider's systems.
    SET_PROJECT_SLUG = "PROJECT.SET_SLUG"
    SET_RESOURCE_SLUG = "RESOURCE.SET_SLUG"
    UPDATE_RESOURCE_OPTIONS = "RESOURCE.UPDATE_OPTIONS"


ALL_PERMISSIONS: frozenset[str] = frozenset(p.value for p in P)

# Who may grant, change and revoke roles of each scope type.
CREATE_PERMISSION = {
    ScopeType.CUSTOMER: P.CREATE_CUSTOMER_PERMISSION,
    ScopeType.PROJECT: P.CREATE_PROJECT_PERMISSION,
    ScopeType.OFFERING: P.CREATE_OFFERING_PERMISSION,
}
UPDATE_PERMISSION = {
    ScopeType.CUSTOMER: P.UPDATE_CUSTOMER_PERMISSION,
    ScopeType.PROJECT: P.UPDATE_PROJECT_PERMISSION,
    ScopeType.OFFERING: P.UPDATE_OFFERING_PERMISSION,
}
DELETE_PERMISSION = {
    ScopeType.CUSTOMER: P.DELETE_CUSTOMER_PERMISSION,
    ScopeType.PROJECT: P.DELETE_PROJECT_PERMISSION,
    ScopeType.OFFERING: P.DELETE_OFFERING_PERMISSION,
}

CUSTOMER_OWNER = "CUSTOMER.OWNER"
CUSTOMER_SUPPORT = "CUSTOMER.SUPPORT"
CUSTOMER_MANAGER = "CUSTOMER.MANAGER"
PROJECT_ADMIN = "PROJECT.ADMIN"
PROJECT_MANAGER = "PROJECT.MANAGER"
PROJECT_MEMBER = "PROJECT.MEMBER"
OFFERING_MANAGER = "OFFERING.MANAGER"

# Roles only staff may grant, change or revoke (Waldur: owners do not add owners).
STAFF_GRANTED = frozenset({CUSTOMER_OWNER})

_NAMESPACE = uuid.UUID("6f1d2c1e-58b5-4a3e-9a7c-2b8f0c3d9e41")


def system_role_id(name: str) -> str:
    """The system role's uuid: the same in every deployment, so clients may hard-code it."""
    return uuid.uuid5(_NAMESPACE, name).hex


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    content_type: ScopeType
    permissions: frozenset[str] = field(default_factory=frozenset)
    description: str = ""
    is_system_role: bool = False
    is_active: bool = True
    users_count: int = 0
    version: int = 0

    def grants(self, permission: str) -> bool:
        return self.is_active and permission in self.permissions


def check_permissions(permissions: Iterable[str]) -> frozenset[str]:
    """Refuse unknown permission strings (a typo would otherwise grant nothing, silently)."""
    given = frozenset(permissions)
    unknown = sorted(given - ALL_PERMISSIONS)
    if unknown:
        raise ValidationError.field("permissions", f"Unknown permissions: {', '.join(unknown)}.")
    return given


_ORDER_ACTIONS = {P.APPROVE_ORDER, P.REJECT_ORDER, P.DESTROY_ORDER, P.CANCEL_ORDER}
_RESOURCE_ACTIONS = {
    P.TERMINATE_RESOURCE,
    P.UPDATE_RESOURCE_LIMITS,
    P.SWITCH_RESOURCE_PLAN,
    P.SET_RESOURCE_END_DATE,
    P.UPDATE_RESOURCE_OPTIONS,
}
_PROJECT_TEAM = {P.CREATE_PROJECT_PERMISSION, P.UPDATE_PROJECT_PERMISSION, P.DELETE_PROJECT_PERMISSION}
_OFFERING_TEAM = {P.CREATE_OFFERING_PERMISSION, P.UPDATE_OFFERING_PERMISSION, P.DELETE_OFFERING_PERMISSION}
_OFFERING_MANAGEMENT = {
    P.UPDATE_OFFERING,
    P.UPDATE_OFFERING_THUMBNAIL,
    P.UPDATE_OFFERING_ATTRIBUTES,
    P.UPDATE_OFFERING_LOCATION,
    P.UPDATE_OFFERING_DESCRIPTION,
    P.UPDATE_OFFERING_OPTIONS,
    P.UPDATE_OFFERING_INTEGRATION,
    P.UPDATE_OFFERING_COMPONENTS,
    P.PAUSE_OFFERING,
    P.UNPAUSE_OFFERING,
    P.CREATE_OFFERING_PLAN,
    P.UPDATE_OFFERING_PLAN,
    P.ARCHIVE_OFFERING_PLAN,
    P.CREATE_OFFERING_USER,
    P.UPDATE_OFFERING_USER,
}
_PROVIDER_RESOURCE_ACTIONS = {
    P.SET_RESOURCE_END_DATE,  # Waldur's set_end_date_by_provider: offering managers and owners
    P.SET_RESOURCE_USAGE,
    P.SET_RESOURCE_BACKEND_ID,
    P.SUBMIT_RESOURCE_REPORT,
    P.SET_RESOURCE_BACKEND_METADATA,
    P.SET_RESOURCE_STATE,
    P.LIST_RESOURCE_USERS,
}
_PROVIDER = (
    _OFFERING_MANAGEMENT
    | _OFFERING_TEAM
    | _PROVIDER_RESOURCE_ACTIONS
    | {P.CREATE_OFFERING, P.DELETE_OFFERING, P.ARCHIVE_OFFERING, P.APPROVE_PRIVATE_ORDER}
)

_DEFAULTS: tuple[tuple[str, ScopeType, str, frozenset[str]], ...] = (
    (
        CUSTOMER_OWNER,
        ScopeType.CUSTOMER,
        "Organization owner: everything in the organization, its projects and its offerings.",
        frozenset(
            {
                P.UPDATE_CUSTOMER,
                P.CREATE_CUSTOMER_PERMISSION,
                P.UPDATE_CUSTOMER_PERMISSION,
                P.DELETE_CUSTOMER_PERMISSION,
                P.CREATE_PROJECT,
                P.UPDATE_PROJECT,
                P.DELETE_PROJECT,
                P.REGISTER_SERVICE_PROVIDER,
                *_PROJECT_TEAM,
                *_ORDER_ACTIONS,
                *_RESOURCE_ACTIONS,
                *_PROVIDER,
                P.CONSUMPTION_LIMITATION,
            }
        ),
    ),
    (
        CUSTOMER_MANAGER,
        ScopeType.CUSTOMER,
        "Service provider manager: the organization's offerings and the resources ordered from them.",
        frozenset(_PROVIDER),
    ),
    (CUSTOMER_SUPPORT, ScopeType.CUSTOMER, "Organization support: reads the organization.", frozenset()),
    (
        PROJECT_ADMIN,
        ScopeType.PROJECT,
        "Project administrator: orders and resources of the project.",
        frozenset(_ORDER_ACTIONS | _RESOURCE_ACTIONS),
    ),
    (
        PROJECT_MANAGER,
        ScopeType.PROJECT,
        "Project manager: the administrator's rights, the project itself and its team.",
        frozenset(
            _ORDER_ACTIONS | _RESOURCE_ACTIONS | _PROJECT_TEAM | {P.UPDATE_PROJECT, P.CONSUMPTION_LIMITATION}
        ),
    ),
    (PROJECT_MEMBER, ScopeType.PROJECT, "Project member: reads the project.", frozenset()),
    (
        OFFERING_MANAGER,
        ScopeType.OFFERING,
        "Offering manager: the offering, its plans and the usage of its resources.",
        frozenset(_OFFERING_MANAGEMENT | _PROVIDER_RESOURCE_ACTIONS),
    ),
)

SYSTEM_ROLES: dict[str, Role] = {
    name: Role(
        id=system_role_id(name),
        name=name,
        content_type=scope,
        permissions=frozenset(str(p) for p in permissions),
        description=description,
        is_system_role=True,
    )
    for name, scope, description, permissions in _DEFAULTS
}


# What a role change is refused with (the store's conditions and the fakes raise the same).
ROLE_NAME_TAKEN = "Role with this name already exists."
ROLE_IN_USE = "Role is still used."
