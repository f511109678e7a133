"""Team membership, the commands: granting, changing and revoking roles on customers, projects and
offerings (Waldur's `add_user/`, `update_user/`, `delete_user/`), and the revocation of roles whose
time is up. Also what the commands and the views share: finding a scope the caller may see, a role
named in a request, the role events. The views (teams, a user's permissions, a customer's people)
are in `services/teams.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

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
from chalicelib.services.ports import UnitOfWork, unit_of_work
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import grants as store
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import users as user_store

NOT_VALID_FOR_SCOPE = "Role is not valid for this scope."
EXPIRATION_IN_PAST = "Expiration time should be greater than current time."
NO_SUCH_GRANT = "User does not have this role in this scope."
ALREADY_GRANTED = "User has already the same role in this scope."  # (the store's refusal)
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


# What follows a committed grant (the marketplace opens offering users here), each called with the
# grant's context and the grant; registered by the composition root, not at import.
GRANT_FOLLOWERS: list[Callable[[EventContext, Grant], object]] = []


def after_granted(ctx: EventContext, grant: Grant) -> None:
    """Run what follows `grant` once it committed (each follower is idempotent: a second run
    finds its work done)."""
    for follow in GRANT_FOLLOWERS:
        follow(ctx, grant)


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
    commits (an accepted invitation changes in the same transaction) and then calls
    `after_granted`; otherwise they commit now and what follows the grant runs."""
    own = uow is None
    work = uow if uow is not None else unit_of_work()
    held = store.member_grants(grant.customer_id, grant.user_id)
    store.add(work, grant, held, stored_role=not role.is_system_role)
    work.record(role_event(events.ROLE_GRANTED, ctx, user, user.id, role, scope, grant))
    if ctx.principal is not None and ctx.principal.user_id == user.id:
        work.after_commit(ForgetAccess(ctx.principal))
    if own:
        work.commit()
        after_granted(ctx, grant)


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
    due = [grant for hour in hours for grant in store.lapsing_in(hour) if not grant.active(now)]
    revoked = revoke_all(EventContext(), due)
    observability.logger().info("revoked expired roles", extra={"revoked": revoked})
    return revoked
