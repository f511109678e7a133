"""Roles on offerings (`marketplace-offering-permissions/`): who manages which offering of a provider
(HomePort's provider dashboard lists a provider's offering managers).

A provider's offering roles are read from its customer's partition (one Query of its grants, one of
its offerings); they are seen by whoever sees the whole customer (staff, support, a customer-level
role), as its team is. Without a customer or offering filter the list covers the customers where
the caller holds a customer role (staff included: the platform's every grant is not read per
request)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.rbac import Grant
from chalicelib.domain.roles import Role, ScopeType
from chalicelib.domain.users import User
from chalicelib.domain.vocabulary import Offering
from chalicelib.services import access as access_service
from chalicelib.services.ports import grants as grant_store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import users as user_store


@dataclass(frozen=True)
class OfferingPermission:
    grant: Grant
    role: Role
    user: User
    offering: Offering


@dataclass(frozen=True)
class OfferingPermissionFilters:
    customer_id: str | None = None
    offering_id: str | None = None
    user_id: str | None = None


def _customers(principal: Principal, filters: OfferingPermissionFilters) -> list[str]:
    rights = access_service.access(principal)
    if filters.offering_id is not None:
        offering = offering_store.get(filters.offering_id)
        wanted = [offering.customer_id] if offering else []
    elif filters.customer_id is not None:
        wanted = [filters.customer_id]
    else:
        wanted = sorted(rights.customer_role_ids())
    return [c for c in wanted if rights.sees_whole_customer(c)]


def list_offering_permissions(
    principal: Principal, filters: OfferingPermissionFilters
) -> list[OfferingPermission]:
    """The active offering roles the caller may see that match `filters`, newest first."""
    now = utcnow()
    roles = access_service.all_roles()
    found: list[tuple[Grant, Offering]] = []
    for customer_id in _customers(principal, filters):
        offerings = {o.id: o for o in offering_store.for_customer(customer_id)}
        for g in grant_store.for_customer(customer_id):
            if (
                g.scope_type is ScopeType.OFFERING
                and g.active(now)
                and g.role_id in roles
                and g.scope_id in offerings
                and filters.offering_id in (None, g.scope_id)
                and filters.user_id in (None, g.user_id)
            ):
                found.append((g, offerings[g.scope_id]))
    users = user_store.get_many([g.user_id for g, _ in found]) if found else {}
    rows = [
        OfferingPermission(g, roles[g.role_id], users[g.user_id], o) for g, o in found if g.user_id in users
    ]
    return sorted(rows, key=lambda r: (r.grant.created, r.grant.id), reverse=True)
