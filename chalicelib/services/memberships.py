"""Team membership: granting, changing and revoking roles on customers, projects and offerings
(Waldur's `add_user/`, `update_user/`, `delete_user/`, `list_users/`), and the revocation of roles
whose time is up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib import observability
from chalicelib.domain import events
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.ids import new_id, parse_id
from chalicelib.domain.rbac import Grant, Scope
from chalicelib.domain.roles import CREATE_PERMISSION, DELETE_PERMISSION, UPDATE_PERMISSION, Role, ScopeType
from chalicelib.domain.users import User
from chalicelib.services import access as access_service
from chalicelib.services.effects import ForgetAccess
from chalicelib.services.paging import Ordering, Page, PageRequest
from chalicelib.services.ports import UnitOfWork, unit_of_work
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import projects as project_store
from chalicelib.store import grants as store
from chalicelib.store import users as user_store

NOT_VALID_FOR_SCOPE = "Role is not valid for this scope."
EXPIRATION_IN_PAST = "Expiration time should be greater than current time."
NO_SUCH_GRANT = "User does not have this role in this scope."
MODELS = {ScopeType.CUSTOMER: "Customer", ScopeType.PROJECT: "Project", ScopeType.OFFERING: "Offering"}


# --- scopes --------------------------------------------------------------------------------------
def _customer_scope(customer_id: str) -> Scope | None:
    customer = customer_store.get(customer_id)
    return None if customer is None else Scope(ScopeType.CUSTOMER, customer.id, customer.id, customer.name)


def _project_scope(project_id: str) -> Scope | None:
    project = project_store.get(project_id)
    if project is None:
        return None
    return Scope(ScopeType.PROJECT, project.id, project.customer_id, project.name)


# How to find a scope from its id; the marketplace registers offerings here.
RESOLVERS: dict[ScopeType, Callable[[str], Scope | None]] = {
    ScopeType.CUSTOMER: _customer_scope,
    ScopeType.PROJECT: _project_scope,
}


def find_scope(scope_type: ScopeType, scope_id: str) -> Scope | None:
    resolver = RESOLVERS.get(scope_type)
    return None if resolver is None else resolver(scope_id)


def visible_scope(principal: Principal, scope_type: ScopeType, scope_id: str) -> Scope:
    """The scope, if the caller may see it; otherwise NotFound (Waldur hides rather than forbids)."""
    scope = find_scope(scope_type, scope_id)
    if scope is None or not access_service.access(principal).sees_scope(scope):
        raise NotFound(MODELS[scope_type])
    return scope


# --- roles and users named in a request ------------------------------------------------------------
def resolve_role(reference: str, field: str = "role") -> Role:
    """A role by uuid (hex or dashed) or by name."""
    roles = access_service.all_roles()
    role_id = parse_id(reference)
    if role_id is not None and role_id in roles:
        return roles[role_id]
    for role in roles.values():
        if role.name == reference:
            return role
    key = "uuid" if role_id is not None else "name"
    raise ValidationError.field(field, f"Object with {key}={reference} does not exist.")


def _resolve_user(reference: str) -> User:
    user_id = parse_id(reference)
    user = user_store.get(user_id) if user_id else None
    if user is None:
        raise ValidationError.field("user", f"Object with uuid={reference} does not exist.")
    return user


def _check_expiration(expiration_time: datetime | None) -> None:
    if expiration_time is not None and expiration_time <= utcnow():
        raise ValidationError([EXPIRATION_IN_PAST])


def _check_role_fits(role: Role, scope: Scope) -> None:
    if role.content_type is not scope.type or not role.is_active:
        raise ValidationError([NOT_VALID_FOR_SCOPE])


# --- events --------------------------------------------------------------------------------------
def _scope_fields(scope: Scope) -> dict[str, str]:
    fields = {
        "structure_type": scope.type.value,
        "scope_type": scope.type.value,
        "scope_uuid": scope.id,
        "scope_name": scope.name,
        "customer_uuid": scope.customer_id,
    }
    if scope.type is ScopeType.CUSTOMER:
        fields["customer_name"] = scope.name
    else:
        fields[f"{scope.type.value}_uuid"] = scope.id
        fields[f"{scope.type.value}_name"] = scope.name
    return fields


_MESSAGES = {
    events.ROLE_GRANTED: "User {user} has gained role {role} in {kind} {name}.",
    events.ROLE_UPDATED: "Role {role} of user {user} in {kind} {name} has been updated.",
    events.ROLE_REVOKED: "User {user} has lost role {role} in {kind} {name}.",
}


def role_event(
    event_type: str,
    ctx: EventContext,
    user: User | None,
    user_id: str,
    role: Role,
    scope: Scope,
    grant: Grant,
) -> events.Event:
    username = user.username if user else user_id
    message = _MESSAGES[event_type].format(
        user=username, role=role.name, kind=scope.type.value, name=scope.name
    )
    fields = {
        "affected_user_uuid": user_id,
        "affected_user_username": username,
        "affected_user_full_name": user.full_name if user else "",
        "role_name": role.name,
        "role_uuid": role.id,
        **_scope_fields(scope),
    }
    if grant.expiration_time is not None:
        fields["expiration_time"] = grant.expiration_time.isoformat()
    return events.make_event(event_type, message, ctx, fields, scope.customer_id)


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
) -> Page[Any]:
    """`list_users/`: the scope's active grants with their users (see `require_team_sight`)."""
    require_team_sight(principal, scope)
    rows = [
        m
        for m in members(store.for_scope(scope.customer_id, scope.type, scope.id), utcnow())
        if filters.matches(m)
    ]
    key = MEMBER_ORDERING.get(ordering.field or "created", MEMBER_ORDERING["created"])
    rows.sort(key=key, reverse=ordering.descending)
    start = (request.page - 1) * request.page_size
    return Page(rows[start : start + request.page_size], len(rows))


# --- changes -------------------------------------------------------------------------------------
def _require(principal: Principal, permission: str, scope: Scope, role: Role) -> None:
    rights = access_service.access(principal)
    if not rights.has(permission, scope) or not rights.may_assign(role, scope):
        raise PermissionDenied()


def add_user(
    ctx: EventContext, scope: Scope, user_ref: str, role_ref: str, expiration_time: datetime | None
) -> Grant:
    principal = ctx.actor
    access_service.access(principal).require(CREATE_PERMISSION[scope.type], scope)
    user = _resolve_user(user_ref)
    role = resolve_role(role_ref)
    _check_role_fits(role, scope)
    _check_expiration(expiration_time)
    _require(principal, CREATE_PERMISSION[scope.type], scope, role)
    grant = Grant(
        id=new_id(),
        user_id=user.id,
        role_id=role.id,
        scope_type=scope.type,
        scope_id=scope.id,
        customer_id=scope.customer_id,
        created=utcnow(),
        expiration_time=expiration_time,
        created_by_id=principal.user_id,
        created_by_username=principal.username,
        created_by_full_name=principal.full_name,
        version=1,
    )
    grant_role(ctx, grant, role, scope, user)
    return grant


def grant_role(
    ctx: EventContext, grant: Grant, role: Role, scope: Scope, user: User, uow: UnitOfWork | None = None
) -> None:
    """Write `grant` with its bookkeeping and event. Given `uow`, the writes join it and the caller
    commits (an accepted invitation changes in the same transaction); otherwise they commit now."""
    own = uow is None
    work = uow if uow is not None else unit_of_work()
    held = store.member_grants(grant.customer_id, grant.user_id)
    store.add(work, grant, held, stored_role=not role.is_system_role)
    work.record(role_event(events.ROLE_GRANTED, ctx, user, user.id, role, scope, grant))
    if ctx.principal is not None and ctx.principal.user_id == user.id:
        work.after_commit(ForgetAccess(ctx.principal))
    if own:
        work.commit()


def _existing(scope: Scope, user_ref: str, role_ref: str) -> tuple[Grant, Role, User | None]:
    user_id = parse_id(user_ref)
    if user_id is None:
        raise ValidationError.field("user", f"Object with uuid={user_ref} does not exist.")
    role = resolve_role(role_ref)
    grant = store.get(scope.customer_id, scope.type, scope.id, user_id, role.id)
    if grant is None:
        raise ValidationError([NO_SUCH_GRANT])
    return grant, role, user_store.get(user_id)


def update_user(
    ctx: EventContext, scope: Scope, user_ref: str, role_ref: str, expiration_time: datetime | None
) -> Grant:
    principal = ctx.actor
    access_service.access(principal).require(UPDATE_PERMISSION[scope.type], scope)
    grant, role, user = _existing(scope, user_ref, role_ref)
    _check_expiration(expiration_time)
    _require(principal, UPDATE_PERMISSION[scope.type], scope, role)
    after = replace(grant, expiration_time=expiration_time, version=grant.version + 1)
    uow = unit_of_work()
    store.set_expiration(uow, grant, expiration_time)
    uow.record(role_event(events.ROLE_UPDATED, ctx, user, grant.user_id, role, scope, after))
    uow.commit()
    return after


def delete_user(ctx: EventContext, scope: Scope, user_ref: str, role_ref: str) -> None:
    principal = ctx.actor
    access_service.access(principal).require(DELETE_PERMISSION[scope.type], scope)
    grant, role, user = _existing(scope, user_ref, role_ref)
    _require(principal, DELETE_PERMISSION[scope.type], scope, role)
    revoke(ctx, grant, role, scope, user)
    if principal.user_id == grant.user_id:
        access_service.forget(principal)


def revoke(ctx: EventContext, grant: Grant, role: Role, scope: Scope, user: User | None) -> None:
    uow = unit_of_work()
    store.remove(uow, grant, store.member_grants(grant.customer_id, grant.user_id))
    uow.record(role_event(events.ROLE_REVOKED, ctx, user, grant.user_id, role, scope, grant))
    uow.commit()


def _scope_of(grant: Grant) -> Scope:
    """The grant's scope, or a stand-in when it is gone (its grants are being cleaned up)."""
    return find_scope(grant.scope_type, grant.scope_id) or Scope(
        grant.scope_type, grant.scope_id, grant.customer_id, grant.scope_id
    )


def revoke_all(ctx: EventContext, grants: list[Grant], scope: Scope | None = None) -> int:
    """Revoke each of `grants` (one transaction each, so members and quotas stay exact). `scope`:
    the grants' scope when the caller knows it (a deleted project's: it can no longer be read)."""
    roles = access_service.all_roles()
    users = user_store.get_many([g.user_id for g in grants])
    revoked = 0
    for grant in grants:
        role = roles.get(grant.role_id) or Role(grant.role_id, grant.role_id, grant.scope_type)
        known = scope if scope is not None and (scope.type, scope.id) == grant.scope_key else None
        revoke(ctx, grant, role, known or _scope_of(grant), users.get(grant.user_id))
        revoked += 1
    return revoked


def revoke_expired(now: datetime, hours: list[datetime]) -> int:
    """The scheduled job: revoke the grants listed in these expiry buckets whose time has come."""
    due = []
    for hour in hours:
        for pk, sk in store.lapsing_in(hour):
            grant = store.get_by_key(pk, sk)
            if grant is not None and not grant.active(now):
                due.append(grant)
    revoked = revoke_all(EventContext(), due)
    observability.logger().info("revoked expired roles", extra={"revoked": revoked})
    return revoked


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
            found = find_scope(g.scope_type, g.scope_id)
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
) -> Page[Any]:
    """`user-permissions/`: staff and support see every grant, others their own."""
    now = utcnow()
    if principal.reads_everything:
        wanted = parse_id(filters.user) if filters.user else None
        found = store.for_user(wanted) if wanted else store.all_grants()
    else:
        found = store.for_user(principal.user_id)
    rows = [v for v in describe([g for g in found if g.active(now)]) if filters.matches(v)]
    rows.sort(key=PERMISSION_ORDERING.get(ordering.field or "created", PERMISSION_ORDERING["created"]))
    if ordering.descending:
        rows.reverse()
    start = (request.page - 1) * request.page_size
    return Page(rows[start : start + request.page_size], len(rows))


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
