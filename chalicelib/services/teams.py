"""Teams, the views of membership: a scope's team (`list_users/`), a user's roles in force
(`user-permissions/`, a user's `permissions`), a customer's people (`customers/<uuid>/users/`):
grants joined with their roles, users and scope names, filtered, ordered and paged here (not in the
routes). The commands that change them are in `services/memberships.py`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import NotFound, PermissionDenied
from chalicelib.domain.ids import parse_id
from chalicelib.domain.rbac import Grant, Scope
from chalicelib.domain.roles import Role, ScopeType
from chalicelib.domain.users import User
from chalicelib.services import access as access_service
from chalicelib.services import memberships
from chalicelib.services.paging import Ordering, Page, PageRequest, order_rows, paginate
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import grants as store
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import users as user_store


# --- listing -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """One row of a scope's team: the grant, its role and its user."""

    grant: Grant
    role: Role
    user: User


@dataclass(frozen=True)
class MemberFilters:
    user: str | None = None  # uuid
    role: str | None = None  # name or uuid
    username: str | None = None
    full_name: str | None = None
    native_name: str | None = None
    search_string: str | None = None

    def matches(self, member: Member) -> bool:
        user, role = member.user, member.role
        if self.user is not None and user.id != parse_id(self.user):
            return False
        if self.role is not None and self.role not in (role.name, role.id) and parse_id(self.role) != role.id:
            return False
        for name in ("username", "full_name", "native_name"):
            wanted = getattr(self, name)
            if wanted is not None and wanted.lower() not in getattr(user, name).lower():
                return False
        if self.search_string is not None:
            needle = self.search_string.lower()
            haystack = (user.username, user.full_name, user.native_name, user.email)
            if not any(needle in value.lower() for value in haystack):
                return False
        return True


MEMBER_ORDERING: dict[str, Callable[[Member], Any]] = {
    "created": lambda m: m.grant.created,
    "expiration_time": lambda m: (m.grant.expiration_time is not None, m.grant.expiration_time),
    "role": lambda m: m.role.name,
    "username": lambda m: m.user.username,
    "full_name": lambda m: m.user.full_name.lower(),
    "email": lambda m: m.user.email.lower(),
}


def members(grants: list[Grant], now: datetime) -> list[Member]:
    """Active grants joined with their roles and users (one BatchGetItem per 100 users)."""
    roles = access_service.all_roles()
    live = [g for g in grants if g.active(now) and g.role_id in roles]
    users = user_store.get_many([g.user_id for g in live])
    return [Member(g, roles[g.role_id], users[g.user_id]) for g in live if g.user_id in users]


def require_team_sight(principal: Principal, scope: Scope) -> None:
    """A customer's people are for those who see the whole customer (staff, support, a
    customer-level role): a project-only member gets a 403, as on Waldur's `customers/<uuid>/users/`,
    so they learn nothing of people outside their projects. A project's or an offering's team is
    for whoever sees the scope."""
    if scope.type is not ScopeType.CUSTOMER:
        return
    if not access_service.access(principal).sees_whole_customer(scope.id):
        raise PermissionDenied()


def list_members(
    principal: Principal, scope: Scope, filters: MemberFilters, ordering: Ordering, request: PageRequest
) -> Page[Member]:
    """`list_users/`: the scope's active grants with their users (see `require_team_sight`)."""
    require_team_sight(principal, scope)
    rows = [
        m
        for m in members(store.for_scope(scope.customer_id, scope.type, scope.id), utcnow())
        if filters.matches(m)
    ]
    return paginate(order_rows(rows, ordering, MEMBER_ORDERING, default="created"), request)


# --- views across scopes: a user's permissions, a customer's people --------------------------------
@dataclass(frozen=True)
class PermissionView:
    """A grant with what a client shows next to it: role, user, scope and customer names."""

    grant: Grant
    role: Role
    user: User | None
    scope: Scope
    customer_name: str


def describe(grants: list[Grant]) -> list[PermissionView]:
    """Join grants with roles, users and scope names: one BatchGetItem per kind, per 100 keys."""
    roles = access_service.all_roles()
    known = [g for g in grants if g.role_id in roles]
    users = user_store.get_many([g.user_id for g in known])
    customers = {c.id: c for c in customer_store.get_many([g.customer_id for g in known])}
    projects = {
        p.id: p
        for p in project_store.get_many(
            {g.scope_id: g.customer_id for g in known if g.scope_type is ScopeType.PROJECT}
        )
    }
    views = []
    for g in known:
        customer = customers.get(g.customer_id)
        customer_name = customer.name if customer else ""
        if g.scope_type is ScopeType.CUSTOMER:
            name = customer_name
        elif g.scope_type is ScopeType.PROJECT:
            project = projects.get(g.scope_id)
            name = project.name if project else ""
        else:
            found = memberships.find_scope(g.scope_type, g.scope_id)
            name = found.name if found else ""
        scope = Scope(g.scope_type, g.scope_id, g.customer_id, name)
        views.append(PermissionView(g, roles[g.role_id], users.get(g.user_id), scope, customer_name))
    return views


@dataclass(frozen=True)
class PermissionFilters:
    user: str | None = None
    username: str | None = None
    full_name: str | None = None
    native_name: str | None = None
    scope_type: str | None = None
    scope_uuid: str | None = None
    role_name: str | None = None
    role_uuid: str | None = None

    def matches(self, view: PermissionView) -> bool:
        g, user = view.grant, view.user
        if self.user is not None and g.user_id != parse_id(self.user):
            return False
        if self.scope_type is not None and g.scope_type.value != self.scope_type:
            return False
        if self.scope_uuid is not None and g.scope_id != parse_id(self.scope_uuid):
            return False
        if self.role_name is not None and view.role.name != self.role_name:
            return False
        if self.role_uuid is not None and view.role.id != parse_id(self.role_uuid):
            return False
        for name in ("username", "full_name", "native_name"):
            wanted = getattr(self, name)
            if wanted is not None and (user is None or wanted.lower() not in getattr(user, name).lower()):
                return False
        return True


PERMISSION_ORDERING: dict[str, Callable[[PermissionView], Any]] = {
    "created": lambda v: v.grant.created,
    "expiration_time": lambda v: (v.grant.expiration_time is not None, v.grant.expiration_time),
    "role": lambda v: v.role.name,
    "username": lambda v: v.user.username if v.user else "",
    "full_name": lambda v: v.user.full_name.lower() if v.user else "",
}


def user_permissions(user_id: str) -> list[PermissionView]:
    """A user's roles in force now (the `permissions` field of a user)."""
    now = utcnow()
    return describe([g for g in store.for_user(user_id) if g.active(now)])


def list_permissions(
    principal: Principal, filters: PermissionFilters, ordering: Ordering, request: PageRequest
) -> Page[PermissionView]:
    """`user-permissions/`: staff and support see every grant, others their own."""
    now = utcnow()
    if principal.reads_everything:
        wanted = parse_id(filters.user) if filters.user else None
        found = store.for_user(wanted) if wanted else store.all_grants()
    else:
        found = store.for_user(principal.user_id)
    rows = [v for v in describe([g for g in found if g.active(now)]) if filters.matches(v)]
    return paginate(order_rows(rows, ordering, PERMISSION_ORDERING, default="created"), request)


def get_permission(principal: Principal, grant_id: str) -> PermissionView:
    grant = store.get_by_id(grant_id)
    if grant is None or not grant.active(utcnow()):
        raise NotFound("UserRole")
    if not principal.reads_everything and grant.user_id != principal.user_id:
        raise NotFound("UserRole")
    return describe([grant])[0]


@dataclass(frozen=True)
class Person:
    """Someone with a role in a customer or its projects (`customers/<uuid>/users/`)."""

    user: User
    customer_role: Role | None
    customer_grant: Grant | None
    projects: list[tuple[str, str, Role, Grant]]  # project id, name, role, grant


def customer_people(principal: Principal, scope: Scope) -> list[Person]:
    """Everybody with a role in the customer or one of its projects (one Query of its partition,
    one BatchGetItem of users, one of projects), for those who see the whole customer."""
    require_team_sight(principal, scope)
    customer_id = scope.id
    now = utcnow()
    roles = access_service.all_roles()
    found = [
        g
        for g in store.for_customer(customer_id)
        if g.active(now) and g.role_id in roles and g.scope_type is not ScopeType.OFFERING
    ]
    users = user_store.get_many([g.user_id for g in found])
    names = {
        p.id: p.name
        for p in project_store.get_many(
            {g.scope_id: g.customer_id for g in found if g.scope_type is ScopeType.PROJECT}
        )
    }
    people: dict[str, Person] = {}
    for g in sorted(found, key=lambda g: g.created):
        user = users.get(g.user_id)
        if user is None:
            continue
        person = people.setdefault(user.id, Person(user, None, None, []))
        if g.scope_type is ScopeType.CUSTOMER:
            if person.customer_role is None:
                people[user.id] = replace(person, customer_role=roles[g.role_id], customer_grant=g)
        elif g.scope_id in names:
            person.projects.append((g.scope_id, names[g.scope_id], roles[g.role_id], g))
    return list(people.values())


@dataclass(frozen=True)
class PeopleFilters:
    """`customers/<uuid>/users/`'s filters: substrings of the user's names and email, and the role
    they hold on the customer or on any of its projects (by name, any of those given)."""

    username: str | None = None
    full_name: str | None = None
    email: str | None = None
    user_keyword: str | None = None
    organization_role: Sequence[str] = ()
    project_role: Sequence[str] = ()

    def matches(self, person: Person) -> bool:
        user = person.user
        for name in ("username", "full_name", "email"):
            wanted = getattr(self, name)
            if wanted is not None and wanted.lower() not in getattr(user, name).lower():
                return False
        if self.user_keyword is not None:
            needle = self.user_keyword.lower()
            if not any(needle in v.lower() for v in (user.username, user.full_name, user.email)):
                return False
        role = person.customer_role
        if self.organization_role and (role is None or role.name not in self.organization_role):
            return False
        return not self.project_role or any(r.name in self.project_role for _, _, r, _ in person.projects)


def _by_user(field: str) -> Callable[[Person], Any]:
    return lambda person: str(getattr(person.user, field)).lower()


def _concatenated_name(person: Person) -> str:
    """Waldur's `concatenated_name`: first name, last name and username run together (Cirrus keeps
    the full name whole: its words run together the same way)."""
    user = person.user
    return ("".join(user.full_name.split()) + user.username).lower()


PEOPLE_ORDERING: dict[str, Callable[[Person], Any]] = {
    **{field: _by_user(field) for field in ("username", "full_name", "email")},
    "concatenated_name": _concatenated_name,
}


def list_people(
    principal: Principal, scope: Scope, filters: PeopleFilters, ordering: Ordering, request: PageRequest
) -> Page[Person]:
    """`customers/<uuid>/users/`: the customer's people (see `customer_people`) that match
    `filters`, by username unless `ordering` says otherwise."""
    rows = [p for p in customer_people(principal, scope) if filters.matches(p)]
    return paginate(order_rows(rows, ordering, PEOPLE_ORDERING, default="username"), request)
