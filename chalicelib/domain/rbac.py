"""Who may do what. Until roles and grants exist (the roles issue), the rules are Waldur's for
users without any role: staff do everything, support read everything and write nothing, and
everybody else sees no customer or project (lists are empty, objects are 404)."""

from __future__ import annotations

from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied


def sees_all_tenants(principal: Principal) -> bool:
    return principal.reads_everything


def require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise PermissionDenied()


def can_see_user(principal: Principal, user_id: str) -> bool:
    return principal.reads_everything or principal.user_id == user_id


def can_change_user(principal: Principal, user_id: str) -> bool:
    return principal.is_staff or principal.user_id == user_id


# User fields only staff may change (Waldur makes them read-only for everybody else).
STAFF_ONLY_USER_FIELDS: frozenset[str] = frozenset(
    {"username", "is_staff", "is_support", "is_active", "registration_method"}
)
