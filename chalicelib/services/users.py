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
from chalicelib.domain.ids import new_id, parse_id
from chalicelib.domain.roles import ScopeType
from chalicelib.domain.users import User
from chalicelib.services import hooks, memberships, ssh_keys
from chalicelib.services.paging import Ordering, Page, PageRequest, paginate
from chalicelib.services.ports import UserQuery, grants, projects, tokens, unit_of_work, users

MODEL = "User"


@dataclass(frozen=True)
class UserFilters:
    """Waldur's UserFilter (and its customer/project user filters), plus Cirrus's `username_exact`
    and `name_exact`: python-waldur-client's `get_user(<username>)` resolves a name with
    `name_exact`, which Waldur's user list ignores (so it answers every visible user, and the
    client fails or picks the wrong one); Cirrus takes it as the exact username."""

    username: str | None = None  # exact (Waldur's UserFilter)
    username_exact: str | None = None
    name_exact: str | None = None
    username_list: str | None = None  # comma-separated exact usernames
    full_name: str | None = None  # the rest of the text filters: contains, any case
    native_name: str | None = None
    organization: str | None = None
    job_title: str | None = None
    email: str | None = None
    user_keyword: str | None = None  # full name, username or email contains
    query: str | None = None  # full name, username, email or civil number contains
    phone_number: str | None = None  # exact, as Waldur's Meta fields
    description: str | None = None
    civil_number: str | None = None
    registration_method: str | None = None
    is_active: bool | None = None
    is_staff: bool | None = None
    is_support: bool | None = None
    customer_uuid: str | None = None  # users with a role in the customer or one of its projects
    project_uuid: str | None = None  # users with a role in the project
    # The users those two name (resolved by `list_users`; None: neither asked).
    member_ids: frozenset[str] | None = None

    def matches(self, user: User) -> bool:
        return all(check(user) for check in self._checks())

    def _checks(self) -> list[Callable[[User], bool]]:
        checks: list[Callable[[User], bool]] = []
        for name in ("full_name", "native_name", "organization", "job_title", "email"):
            checks += _contains(name, getattr(self, name))
        for name in ("phone_number", "description", "civil_number", "registration_method"):
            checks += _equals(name, getattr(self, name))
        for name in ("is_active", "is_staff", "is_support"):
            checks += _equals(name, getattr(self, name))
        for name in ("username", "username_exact", "name_exact"):
            checks += _equals("username", getattr(self, name))
        if self.username_list is not None:
            wanted = {n.strip() for n in self.username_list.split(",")}
            checks.append(lambda u: u.username in wanted)
        if self.user_keyword is not None:
            needle = self.user_keyword.lower()
            checks.append(lambda u: any(needle in v.lower() for v in (u.full_name, u.username, u.email)))
        if self.query is not None:
            query = self.query.lower()
            checks.append(lambda u: u.matches_query(query) or query in u.civil_number.lower())
        if self.member_ids is not None:
            checks.append(lambda u: u.id in (self.member_ids or ()))
        return checks

    def exact_username(self) -> str | None:
        """The one username asked for exactly, if any (the store's key narrows to it)."""
        return self.username_exact or self.name_exact or self.username

    def narrows(self) -> bool:
        """Whether anything filters beyond the exact username (which the store's key narrows to)."""
        exact = self.exact_username()
        return any(
            v is not None and not (k in ("username", "username_exact", "name_exact") and v == exact)
            for k, v in vars(self).items()
            if k not in ("customer_uuid", "project_uuid")  # member_ids stands for them
        )


def _contains(name: str, value: str | None) -> list[Callable[[User], bool]]:
    if value is None:
        return []
    needle = value.lower()
    return [lambda u: needle in str(getattr(u, name)).lower()]


def _equals(name: str, value: object) -> list[Callable[[User], bool]]:
    return [] if value is None else [lambda u: getattr(u, name) == value]


# Waldur's `o=` fields, and Cirrus's `date_joined`.
ORDERING_FIELDS = (
    "username", "full_name", "native_name", "email", "phone_number", "description", "organization",
    "job_title", "is_active", "registration_method", "is_staff", "is_support", "date_joined",
)  # fmt: skip


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


def _with_members(filters: UserFilters) -> UserFilters:
    """Resolve `customer_uuid` / `project_uuid` into the users holding a role in force there (a
    malformed or unknown one matches nobody, as in Waldur)."""
    if filters.customer_uuid is None and filters.project_uuid is None:
        return filters
    found: set[str] | None = None
    now = utcnow()
    if filters.customer_uuid is not None:
        customer_id = parse_id(filters.customer_uuid) or ""
        in_customer = grants.for_customer(customer_id) if customer_id else []
        wanted = (ScopeType.CUSTOMER, ScopeType.PROJECT)
        found = {g.user_id for g in in_customer if g.scope_type in wanted and g.active(now)}
    if filters.project_uuid is not None:
        project = (
            projects.get(parse_id(filters.project_uuid) or "") if parse_id(filters.project_uuid) else None
        )
        in_project = grants.for_scope(project.customer_id, ScopeType.PROJECT, project.id) if project else []
        members = {g.user_id for g in in_project if g.active(now)}
        found = members if found is None else found & members
    return replace(filters, member_ids=frozenset(found or ()))


def list_users(
    principal: Principal, filters: UserFilters, ordering: Ordering, request: PageRequest
) -> Page[User]:
    filters = _with_members(filters)
    if not principal.reads_everything:
        # Without roles a user shares no customer or project with anybody: they see themselves.
        me = users.get(principal.user_id)
        return paginate([me] if me is not None and filters.matches(me) else [], request)
    query = UserQuery(
        username_exact=filters.exact_username(),
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
    agreed = bool(fields.get("agree_with_policy")) or fields.get("agreement_date") is not None
    given = {k: v for k, v in fields.items() if k not in ("agree_with_policy", "agreement_date")}
    now = utcnow()
    user = User(
        id=new_id(),
        date_joined=now,
        password_hash=password_hash,
        agreement_date=now if agreed else None,
        **given,
    )
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
    changes = _agreement(before, changes)
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


def _agreement(before: User, changes: Mapping[str, Any]) -> dict[str, Any]:
    """`agree_with_policy` (write-only, Waldur's) records when the user first agreed to the terms;
    agreeing again keeps the first date, and nothing takes an agreement back."""
    fields = {k: v for k, v in changes.items() if k not in ("agree_with_policy", "agreement_date")}
    if changes.get("agree_with_policy") and before.agreement_date is None:
        fields["agreement_date"] = utcnow()
    return fields


def set_password(ctx: EventContext, user_id: str, password: str, current_key_hash: str | None = None) -> None:
    """Set a user's password (Cirrus's `password/`: the user themself or staff) and end their
    other sessions: every token of theirs is revoked but the one this request came with
    (`current_key_hash`, kept when users change their own password; a token of someone else,
    staff's, matches none of theirs, so all of theirs go)."""
    principal = ctx.actor
    before = for_change(principal, user_id)
    if not rbac.can_change_user(principal, user_id):
        raise PermissionDenied()
    event = domain.event(before, events.UPDATE, ctx)
    _store_password(before, ("password", password), current_key_hash, event)


def change_password(ctx: EventContext, user_id: str, new_password: str, current_key_hash: str | None) -> None:
    """Waldur's `change_password/`: staff only (anybody else gets a 403 before the user is even
    looked up, as in Waldur), Waldur's `user_password_updated_by_staff` event, and the user's
    sessions end as with `set_password` (all of them, unless staff change their own)."""
    principal = ctx.actor
    rbac.require_staff(principal)
    before = for_change(principal, user_id)
    event = domain.password_event_by_staff(before, ctx)
    _store_password(before, ("new_password", new_password), current_key_hash, event)


def _store_password(
    before: User, sent: tuple[str, str], current_key_hash: str | None, event: events.Event
) -> None:
    """Hash and store the password `sent` as (field name, value), with `event`, ending sessions."""
    field, password = sent
    if len(password) < domain.PASSWORD_MIN_LENGTH:  # after the caller's rights, as in Waldur
        raise ValidationError.field(field, domain.PASSWORD_TOO_SHORT)
    after = replace(before, password_hash=domain.hash_password(password, get_settings().password_iterations))
    uow = unit_of_work()
    users.save_changes(uow, before, after)
    uow.record(event)
    tokens.revoke_others_in(uow, before.id, current_key_hash)  # old sessions end with the old password
    uow.commit()
    tokens.revoke_others(before.id, current_key_hash)  # and any signed in meanwhile (or too many above)


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
