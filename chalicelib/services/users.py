"""User use cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain import events, rbac
from chalicelib.domain import users as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.users import User
from chalicelib.services import hooks, memberships, ssh_keys
from chalicelib.services.paging import Ordering, Page, PageRequest, paginate
from chalicelib.services.ports import UserQuery, grants, tokens, unit_of_work, users

MODEL = "User"


@dataclass(frozen=True)
class UserFilters:
    username: str | None = None
    username_exact: str | None = None
    full_name: str | None = None
    email: str | None = None
    is_active: bool | None = None
    is_staff: bool | None = None
    is_support: bool | None = None
    query: str | None = None

    def matches(self, user: User) -> bool:
        for name in ("username", "full_name", "email"):
            value = getattr(self, name)
            if value is not None and value.lower() not in getattr(user, name).lower():
                return False
        for name in ("is_active", "is_staff", "is_support"):
            value = getattr(self, name)
            if value is not None and getattr(user, name) != value:
                return False
        if self.username_exact is not None and user.username != self.username_exact:
            return False
        return self.query is None or user.matches_query(self.query)

    def narrows(self) -> bool:
        """Whether anything filters beyond `username_exact` (which the store's key narrows to)."""
        return any(v is not None for k, v in vars(self).items() if k != "username_exact")


ORDERING_FIELDS = ("username", "full_name", "email", "date_joined", "is_active", "is_staff")


def get_visible(principal: Principal, user_id: str) -> User:
    return _visible(principal, user_id, users.get)


def for_change(principal: Principal, user_id: str) -> User:
    """The user as stored now (`users.load`), if `principal` sees them; NotFound otherwise."""
    return _visible(principal, user_id, users.load)


def _visible(principal: Principal, user_id: str, read: Callable[[str], User | None]) -> User:
    user = read(user_id) if rbac.can_see_user(principal, user_id) else None
    if user is None:
        raise NotFound(MODEL)
    return user


def list_users(
    principal: Principal, filters: UserFilters, ordering: Ordering, request: PageRequest
) -> Page[User]:
    if not principal.reads_everything:
        # Without roles a user shares no customer or project with anybody: they see themselves.
        me = users.get(principal.user_id)
        return paginate([me] if me is not None and filters.matches(me) else [], request)
    query = UserQuery(
        username_exact=filters.username_exact,
        matches=filters.matches if filters.narrows() else None,
        order=ordering.field or "username",
        descending=ordering.descending,
    )
    return users.page(query, request)


def create_user(ctx: EventContext, fields: Mapping[str, Any], password: str | None) -> User:
    principal = ctx.actor
    rbac.require_staff(principal)
    return register_user(ctx, fields, password)


def register_user(ctx: EventContext, fields: Mapping[str, Any], password: str | None) -> User:
    """Create a user without a permission check (the local stack's seed and staff creation use it)."""
    password_hash = domain.hash_password(password, get_settings().password_iterations) if password else ""
    user = User(id=new_id(), date_joined=utcnow(), password_hash=password_hash, **fields)
    uow = unit_of_work()
    users.add(uow, user)
    uow.record(domain.event(user, events.CREATION, ctx))
    uow.commit()
    return replace(user, version=1)


def update_user(ctx: EventContext, user_id: str, changes: Mapping[str, Any]) -> User:
    principal = ctx.actor
    before = for_change(principal, user_id)
    if not rbac.can_change_user(principal, user_id):
        raise PermissionDenied()
    rbac.refuse_staff_only(principal, rbac.STAFF_ONLY_USER_FIELDS, before, changes)
    lifetime = changes.get("token_lifetime", before.token_lifetime)
    if lifetime != before.token_lifetime and not principal.is_staff:
        domain.check_token_lifetime(lifetime, get_settings().max_token_lifetime)
    after = replace(before, **changes)
    if after == before:
        return before
    uow = unit_of_work()
    users.save_changes(uow, before, after)
    uow.record(domain.event(after, events.UPDATE, ctx))
    auth_changed = any(getattr(after, f) != getattr(before, f) for f in domain.AUTH_FIELDS)
    if auth_changed:
        tokens.refresh_snapshots_in(uow, after)  # live tokens follow in the same transaction
    uow.commit()
    if auth_changed:
        tokens.refresh_snapshots(after)  # and any token signed in meanwhile
    return replace(after, version=before.version + 1)


def set_password(ctx: EventContext, user_id: str, password: str, current_key_hash: str | None = None) -> None:
    """Set a user's password and end their other sessions: every token of theirs is revoked but the
    one this request came with (`current_key_hash`, kept when users change their own password; a
    token of someone else, staff's, matches none of theirs, so all of theirs go)."""
    principal = ctx.actor
    before = for_change(principal, user_id)
    if not rbac.can_change_user(principal, user_id):
        raise PermissionDenied()
    if len(password) < 8:
        raise ValidationError.field(
            "password", "This password is too short. It must contain at least 8 characters."
        )
    after = replace(before, password_hash=domain.hash_password(password, get_settings().password_iterations))
    uow = unit_of_work()
    users.save_changes(uow, before, after)
    uow.record(domain.event(after, events.UPDATE, ctx))
    tokens.revoke_others_in(uow, user_id, current_key_hash)  # old sessions end with the old password
    uow.commit()
    tokens.revoke_others(user_id, current_key_hash)  # and any signed in meanwhile (or too many above)


def delete_user(ctx: EventContext, user_id: str) -> None:
    principal = ctx.actor
    user = for_change(principal, user_id)
    rbac.require_staff(principal)
    if user.id == principal.user_id:
        raise ValidationError(["You cannot delete yourself."])
    memberships.revoke_all(ctx, grants.for_user(user.id))  # their roles end with them
    ssh_keys.remove_user_keys(ctx, user)  # and their keys
    uow = unit_of_work()
    users.remove(uow, user)
    ssh_keys.forget_count(uow, user.id)
    hooks.remove_user_hooks(uow, user.id)  # their hooks go with them
    tokens.refresh_snapshots_in(uow, replace(user, is_active=False))  # and their tokens
    uow.record(domain.event(user, events.DELETION, ctx))
    uow.commit()
    tokens.refresh_snapshots(replace(user, is_active=False))
