"""Who may do what: one permission check for the whole API, over a caller's role grants.

- Staff pass every check. Support (`is_support`) read everything and write nothing by that flag.
- Everybody else needs an active grant of an active role holding the permission, on the object's
  scope or an ancestor on its check path (project → customer; offering → customer).
- A grant is active until its `expiration_time`: from that instant on it grants nothing, whether or
  not the scheduled job has revoked it yet.
- Visibility: a customer is visible through a role in it or in any of its projects; a project
  through a role in it or a customer role in its customer. What a caller may not see is a 404.
  What concerns the whole customer (its people, its invoices, its month's spend) needs a
  customer-level role (or staff, support): a project-only member sees the customer through their
  projects only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied
from chalicelib.domain.roles import STAFF_GRANTED, Role, ScopeType


@dataclass(frozen=True)
class Scope:
    """An object roles can be granted on, with the tenant it belongs to."""

    type: ScopeType
    id: str
    customer_id: str
    name: str = ""

    def path(self) -> tuple[tuple[ScopeType, str], ...]:
        """The scopes whose grants apply here, nearest first."""
        own = (self.type, self.id)
        if self.type is ScopeType.CUSTOMER:
            return (own,)
        return (own, (ScopeType.CUSTOMER, self.customer_id))


@dataclass(frozen=True)
class Grant:
    """A user's role on one scope (Waldur's UserRole)."""

    id: str
    user_id: str
    role_id: str
    scope_type: ScopeType
    scope_id: str
    customer_id: str
    created: datetime
    expiration_time: datetime | None = None
    created_by_id: str | None = None
    created_by_username: str = ""
    created_by_full_name: str = ""
    version: int = 0

    def active(self, now: datetime) -> bool:
        return self.expiration_time is None or now < self.expiration_time

    @property
    def scope_key(self) -> tuple[ScopeType, str]:
        return (self.scope_type, self.scope_id)


@dataclass(frozen=True)
class Access:
    """A caller's rights at one instant: their grants and the roles those grants name."""

    principal: Principal
    grants: tuple[Grant, ...] = ()
    roles: Mapping[str, Role] = field(default_factory=dict)
    now: datetime | None = None

    def active_grants(self) -> list[Grant]:
        """Grants in force now, of roles that exist and are enabled."""
        now = self.now
        return [
            g
            for g in self.grants
            if (now is None or g.active(now)) and (role := self.roles.get(g.role_id)) and role.is_active
        ]

    # --- writes ---------------------------------------------------------------------------------
    def has(self, permission: str, scope: Scope) -> bool:
        if self.principal.is_staff:
            return True
        path = set(scope.path())
        return any(
            g.scope_key in path and self.roles[g.role_id].grants(permission) for g in self.active_grants()
        )

    def require(self, permission: str, scope: Scope) -> None:
        if not self.has(permission, scope):
            raise PermissionDenied()

    def may_assign(self, role: Role, scope: Scope) -> bool:
        """Whether the caller may grant (or change, or revoke) `role` on `scope` to anybody: staff
        always; others need the scope's team permission checked by the caller, may not hand out a
        staff-granted role (owners do not make owners), and may not give away a permission they do
        not hold there themselves."""
        if self.principal.is_staff:
            return True
        if role.name in STAFF_GRANTED:
            return False
        return all(self.has(permission, scope) for permission in role.permissions)

    # --- reads ----------------------------------------------------------------------------------
    @property
    def reads_everything(self) -> bool:
        return self.principal.reads_everything

    def customer_ids(self) -> set[str]:
        """Customers visible through a role in them or in one of their projects."""
        return {g.customer_id for g in self.active_grants() if g.scope_type is not ScopeType.OFFERING}

    def customer_role_ids(self) -> set[str]:
        """Customers where the caller holds a customer role: all their projects are visible."""
        return {g.scope_id for g in self.active_grants() if g.scope_type is ScopeType.CUSTOMER}

    def project_grants(self) -> dict[str, str]:
        """Projects with a role of the caller in them: project id → customer id."""
        return {g.scope_id: g.customer_id for g in self.active_grants() if g.scope_type is ScopeType.PROJECT}

    def sees_customer(self, customer_id: str) -> bool:
        return self.reads_everything or customer_id in self.customer_ids()

    def sees_whole_customer(self, customer_id: str) -> bool:
        """Whether the caller sees all of a customer (its team, its invoices, its spend): staff,
        support and its customer-level roles do; a project-only role sees its projects only."""
        return self.reads_everything or customer_id in self.customer_role_ids()

    def sees_project(self, project_id: str, customer_id: str) -> bool:
        return (
            self.reads_everything
            or customer_id in self.customer_role_ids()
            or project_id in self.project_grants()
        )

    def sees_scope(self, scope: Scope) -> bool:
        if scope.type is ScopeType.CUSTOMER:
            return self.sees_customer(scope.id)
        if scope.type is ScopeType.PROJECT:
            return self.sees_project(scope.id, scope.customer_id)
        return self.reads_everything or any(g.scope_key in set(scope.path()) for g in self.active_grants())

    # --- the audit log ---------------------------------------------------------------------------
    def sees_feed(self, scope_type: str, scope_id: str, customer_id: str | None) -> bool:
        """Whether the caller may read the events of one scope. Tighter than seeing the object: a
        customer's log needs a customer role (a project member sees only their projects' events),
        a user's log is its user's own."""
        if self.reads_everything:
            return True
        if scope_type == "user":
            return scope_id == self.principal.user_id
        if scope_type == "customer":
            return scope_id in self.customer_role_ids()
        if scope_type == "project" and customer_id is not None:
            return self.sees_project(scope_id, customer_id)
        if scope_type == "offering":
            return any(g.scope_key == (ScopeType.OFFERING, scope_id) for g in self.active_grants())
        return False

    def sees_event(self, scopes: Iterable[tuple[str, str]], customer_id: str | None) -> bool:
        """An event is visible through any feed it is in that the caller may read."""
        return self.reads_everything or any(
            self.sees_feed(scope_type, scope_id, customer_id) for scope_type, scope_id in scopes
        )


def sees_all_tenants(principal: Principal) -> bool:
    return principal.reads_everything


def require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise PermissionDenied()


def can_see_user(principal: Principal, user_id: str) -> bool:
    return principal.reads_everything or principal.user_id == user_id


def can_change_user(principal: Principal, user_id: str) -> bool:
    return principal.is_staff or principal.user_id == user_id


def role_names(grants: Iterable[Grant], roles: Mapping[str, Role]) -> list[str]:
    return sorted({roles[g.role_id].name for g in grants if g.role_id in roles})


# User fields only staff may change (Waldur's UserSerializer makes them read-only for everybody
# else: its read_only_fields civil_number and registration_method, the flags and description it
# protects from non-staff, username and email once the user exists). civil_number binds
# invitations and email addresses them, so neither may be the user's own claim.
STAFF_ONLY_USER_FIELDS: frozenset[str] = frozenset(
    {
        "username",
        "is_staff",
        "is_support",
        "is_active",
        "registration_method",
        "civil_number",
        "description",
        "email",
    }
)


def refuse_staff_only(
    principal: Principal, staff_only: Iterable[str], before: object, changes: Mapping[str, object]
) -> None:
    """Refuse a non-staff change of a staff-only field (403 naming the fields). Sending a field's
    current value is not a change, so a client that sends the whole object back still works.
    (Waldur makes these fields read-only for non-staff and drops what is sent; Cirrus says no
    instead of answering 200 with the change silently left out.)"""
    if principal.is_staff:
        return
    fields = frozenset(staff_only)
    changed = sorted(k for k, v in changes.items() if k in fields and v != getattr(before, k))
    if changed:
        raise PermissionDenied(f"Only staff can change {', '.join(changed)}.")
