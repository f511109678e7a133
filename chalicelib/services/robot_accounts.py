"""Robot accounts (Waldur's `marketplace-robot-accounts/`).

- **Who sees one**: both sides of its resource (a role in its project or consumer customer; a
  customer role in the offering's provider or a role on the offering), staff and support. Anybody
  else gets a 404 (on create, the `resource` field's "does not exist").
- **Who changes one**: the provider, as in Waldur (RESOURCE_ROBOT_ACCOUNT.CREATE/UPDATE/DELETE on
  the offering's customer: its owners and managers, and the offering's OFFERING.MANAGER), and
  staff. Cirrus's provider roles hold these through OFFERING.CREATE_USER (create) and
  OFFERING.UPDATE_USER (change, state actions, delete): the same holders, no new permission in
  stored roles. The consumer side reads only (403 on a change).
- `users` and `responsible_user` must hold a role in the resource's project or customer (Waldur's
  get_resource_users); an unknown user gets the same message as a stranger, so the check tells
  nobody which uuids are users.
- Lists read the narrowest key the filters name (market_queries: a resource's or project's or
  customer's partition prefix, a provider's gsi2 partition, staff's gsi1 page) and stop past
  `filter_read_limit` items when they filter in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.domain import robot_accounts as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import id_from_url, new_id
from chalicelib.domain.resources import Resource
from chalicelib.domain.robot_accounts import RobotAccount
from chalicelib.domain.roles import P, ScopeType
from chalicelib.domain.ssh_keys import SshKey
from chalicelib.domain.users import User
from chalicelib.services import market_queries as lists
from chalicelib.services import order_sides as sides
from chalicelib.services import request_keys
from chalicelib.services.paging import Ordering, Page, PageRequest
from chalicelib.services.ports import grants as grant_store
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import robot_accounts as store
from chalicelib.services.ports import ssh_keys as key_store
from chalicelib.services.ports import unit_of_work
from chalicelib.services.ports import users as user_store

MODEL = domain.MODEL
INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."
REQUIRED = "This field is required."
_UNSET = object()


@dataclass(frozen=True)
class AccountRequest:
    """A create's or an update's fields (None: not given; `responsible_user` may be given as None,
    hence its own marker; references as hyperlinks or uuids)."""

    resource: str | None = None
    type: str | None = None
    username: str | None = None
    description: str | None = None
    users: list[str] | None = None
    keys: list[str] | None = None
    responsible_user: Any = _UNSET  # str | None when given


@dataclass(frozen=True)
class View:
    """An account with what its detail view joins: its users, its responsible user and their keys."""

    account: RobotAccount
    users: list[User]
    responsible_user: User | None
    user_keys: list[SshKey]


# --- reads -------------------------------------------------------------------------------------------
def get_visible(principal: Principal, account_id: str) -> RobotAccount:
    """The account, if the caller sees its resource from either side; else NotFound."""
    found = store.get(account_id)
    if found is None or not sides.sees(sides.rights(principal), found):
        raise NotFound(MODEL)
    return found


@dataclass(frozen=True)
class AccountFilters:
    narrowing: lists.Narrowing = field(default_factory=lists.Narrowing)
    type: str | None = None
    username: str | None = None
    states: tuple[str, ...] = ()
    responsible_user_id: str | None = None

    def keep(self, account: RobotAccount) -> bool:
        return (
            (self.type is None or account.type == self.type)
            and (self.username is None or account.username == self.username)
            and (not self.states or account.state.value in self.states)
            and (self.responsible_user_id is None or account.responsible_user_id == self.responsible_user_id)
        )

    @property
    def filtered(self) -> bool:
        return bool(self.states) or any(
            v is not None for v in (self.type, self.username, self.responsible_user_id)
        )


SORT: dict[str, Callable[[RobotAccount], Any]] = {"created": lambda a: a.id}


def list_accounts(
    principal: Principal, filters: AccountFilters, ordering: Ordering, request: PageRequest
) -> Page[View]:
    """The accounts the caller sees, filtered (Waldur orders them by creation)."""
    query = lists.Query(filters.narrowing, filters.keep, filters.filtered, SORT, ordering, request)
    page = lists.listed(store, principal, query)
    return Page(describe(page.items), page.total)


def describe(accounts: Sequence[RobotAccount]) -> list[View]:
    """Join the accounts' users (one BatchGetItem) and their SSH keys (one Query per user)."""
    wanted = {u for a in accounts for u in a.users} | {
        a.responsible_user_id for a in accounts if a.responsible_user_id
    }
    users = user_store.get_many(sorted(wanted)) if wanted else {}
    views = []
    for a in accounts:
        members = [users[u] for u in a.users if u in users]
        keys = key_store.of_users([u.id for u in members]) if members else []
        responsible = users.get(a.responsible_user_id) if a.responsible_user_id else None
        views.append(View(a, members, responsible, keys))
    return views


def retrieve(principal: Principal, account_id: str) -> View:
    return describe([get_visible(principal, account_id)])[0]


# --- changes -----------------------------------------------------------------------------------------
def _resource(principal: Principal, reference: str) -> Resource:
    """The resource a request names; one the caller does not see does not exist for them."""
    resource_id = id_from_url(reference)
    found = resource_store.get(resource_id) if resource_id else None
    if found is None or not sides.sees(sides.rights(principal), found):
        raise ValidationError.field("resource", INVALID_HYPERLINK)
    return found


def _require(principal: Principal, placed: Resource | RobotAccount, permission: str) -> None:
    sides.rights(principal).require(permission, sides.provider_scope(placed))


def _members(account: RobotAccount) -> set[str]:
    """Users with a role in force in the account's project or its customer (two Queries)."""
    now = utcnow()
    found = grant_store.for_scope(account.customer_id, ScopeType.PROJECT, account.project_id)
    found += grant_store.for_scope(account.customer_id, ScopeType.CUSTOMER, account.customer_id)
    return {g.user_id for g in found if g.active(now)}


def _user_ids(references: list[str]) -> tuple[str, ...]:
    if len(references) > domain.MAX_USERS:
        raise ValidationError.field("users", domain.TOO_MANY_USERS)
    ids = [id_from_url(r) for r in references]
    if any(i is None for i in ids):
        raise ValidationError.field("users", domain.NOT_A_MEMBER)
    return tuple(dict.fromkeys(i for i in ids if i))


def _responsible(request: AccountRequest, current: str | None) -> str | None:
    if request.responsible_user is _UNSET:
        return current
    if request.responsible_user is None or request.responsible_user == "":
        return None
    found = id_from_url(str(request.responsible_user))
    if found is None:
        raise ValidationError.field("responsible_user", domain.RESPONSIBLE_NOT_A_MEMBER)
    return found


def _check_people(account: RobotAccount) -> None:
    """Waldur's rule: the users and the responsible user belong to the resource's project or
    organization (an unknown uuid is no member either)."""
    if not account.users and account.responsible_user_id is None:
        return
    members = _members(account)
    if set(account.users) - members:
        raise ValidationError([domain.NOT_A_MEMBER])
    if account.responsible_user_id is not None and account.responsible_user_id not in members:
        raise ValidationError([domain.RESPONSIBLE_NOT_A_MEMBER])


def _placed(account: RobotAccount, resource: Resource) -> RobotAccount:
    return replace(
        account,
        resource_id=resource.id,
        customer_id=resource.customer_id,
        project_id=resource.project_id,
        offering_id=resource.offering_id,
        provider_id=resource.provider_id,
        resource_name=resource.name,
        resource_backend_id=resource.backend_id,
        project_name=resource.project_name,
        customer_name=resource.customer_name,
        offering_name=resource.offering_name,
        provider_name=resource.provider_name,
    )


def _apply(account: RobotAccount, request: AccountRequest) -> RobotAccount:
    """The account with the request's fields (each checked; people checked after)."""
    changed = account
    if request.type is not None:
        changed = replace(changed, type=domain.check_type(request.type))
    if request.username is not None:
        changed = replace(changed, username=domain.check_username(request.username))
    if request.description is not None:
        changed = replace(changed, description=request.description)
    if request.users is not None:
        changed = replace(changed, users=_user_ids(request.users))
    if request.keys is not None:
        changed = replace(changed, keys=domain.clean_keys(request.keys))
    return replace(changed, responsible_user_id=_responsible(request, account.responsible_user_id))


def create(ctx: EventContext, request: AccountRequest) -> View:
    """The provider sets up a robot account on a resource (Waldur's required: resource, type); a
    retry with the request's `Idempotency-Key` answers with the account it made
    (services/request_keys.py)."""
    return request_keys.once(
        ctx, lambda: _create(ctx, request), lambda used: retrieve(ctx.actor, used.object_id)
    )


def _create(ctx: EventContext, request: AccountRequest) -> View:
    missing = [name for name in ("resource", "type") if getattr(request, name) is None]
    if missing:
        raise ValidationError({name: [REQUIRED] for name in missing})
    resource = _resource(ctx.actor, request.resource or "")
    _require(ctx.actor, resource, P.CREATE_OFFERING_USER)
    now = utcnow()
    blank = RobotAccount(
        id=new_id(),
        resource_id=resource.id,
        customer_id=resource.customer_id,
        project_id=resource.project_id,
        offering_id=resource.offering_id,
        provider_id=resource.provider_id,
        type="",
        created=now,
        modified=now,
    )
    account = _apply(_placed(blank, resource), request)
    _check_people(account)
    uow = unit_of_work()
    made = store.add(uow, account)
    request_keys.remember(uow, ctx, made.id)
    uow.record(domain.event(made, domain.CREATED, ctx))
    uow.commit()
    return describe([made])[0]


def _for_change(principal: Principal, account_id: str) -> RobotAccount:
    """The visible account, allowed to the caller, read again consistently (the id lookup may be
    a version behind, and the write is conditioned on the version)."""
    seen = get_visible(principal, account_id)
    _require(principal, seen, P.UPDATE_OFFERING_USER)
    for account in store.of_resource(seen.customer_id, seen.project_id, seen.resource_id):
        if account.id == seen.id:
            return account
    raise NotFound(MODEL)


def update(ctx: EventContext, account_id: str, request: AccountRequest) -> View:
    """PUT/PATCH: the given fields change. The resource is fixed once made (Waldur's
    protected_fields: a `resource` sent with an update is ignored, as DRF ignores it)."""
    current = _for_change(ctx.actor, account_id)
    after = _apply(current, request)
    _check_people(after)
    uow = unit_of_work()
    saved = store.save(uow, current, replace(after, modified=utcnow()))
    uow.record(domain.event(saved, domain.UPDATED, ctx))
    uow.commit()
    return describe([saved])[0]


def set_state(ctx: EventContext, account_id: str, action: str, error_message: str = "") -> View:
    """A state action of the provider's agent (domain.TRANSITIONS; Waldur's 400 outside its states)."""
    current = _for_change(ctx.actor, account_id)
    after = domain.transition(current, action, utcnow(), error_message)
    uow = unit_of_work()
    saved = store.save(uow, current, after)
    uow.record(domain.event(saved, domain.STATE_CHANGED, ctx))
    uow.commit()
    return describe([saved])[0]


def delete(ctx: EventContext, account_id: str) -> None:
    """The provider removes the account (Waldur's hard delete)."""
    current = _for_change(ctx.actor, account_id)
    uow = unit_of_work()
    store.remove(uow, current)
    uow.record(domain.event(current, domain.DELETED, ctx))
    uow.commit()
