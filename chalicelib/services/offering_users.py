"""Offering user use cases (Waldur's `marketplace-offering-users/` and an offering's
`user-attribute-config/`).

- **Who sees one**: the user it is for, the offering's provider (a customer role in the provider
  or a role on the offering), staff and support; anybody else gets a 404.
- **Who changes one**: the provider (OFFERING.CREATE_USER / OFFERING.UPDATE_USER on the offering:
  its owners, managers and OFFERING.MANAGER) and staff. The user may not set their own username.
  The provider opens accounts only for its consumers (a role in a project, or its customer, with a
  live resource of the offering); staff for anybody.
- **How they are made** (Waldur's handlers): a user who gains a project role where a live resource
  of an agent-driven offering (`Marketplace.Basic`, `Marketplace.Slurm`, `Marketplace.Script`)
  is, and each member of a project whose resource of such an offering was just created, gets an
  account in that offering unless they have one. Its username comes from the offering's
  `username_generation_policy`. Each account is its own transaction (its event with it), after
  the change that caused it committed; a second run finds it and does nothing. Losing access
  changes nothing (Waldur keeps the account; the provider's agent drops the user from the
  resource when they leave its team).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain import offering_users as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import Conflict, NotFound, ValidationError
from chalicelib.domain.ids import id_from_url, new_id
from chalicelib.domain.offering_users import AttributeConfig, OfferingUser, State
from chalicelib.domain.offerings import MODEL as OFFERING_MODEL
from chalicelib.domain.rbac import Access, Grant, Scope
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P, ScopeType
from chalicelib.domain.users import User
from chalicelib.domain.vocabulary import Offering, ResourceState
from chalicelib.services import access as access_service
from chalicelib.services import offerings as catalog
from chalicelib.services.paging import Ordering, Page, PageRequest, order_rows, paginate
from chalicelib.services.ports import Source, unit_of_work
from chalicelib.services.ports import grants as grant_store
from chalicelib.services.ports import offering_users as store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import service_providers as provider_store
from chalicelib.services.ports import users as user_store

MODEL = domain.MODEL
# Waldur's OFFERING_USER_ALLOWED_OFFERING_TYPES: the agent-driven plugins.
ALLOWED_TYPES = frozenset({"Marketplace.Basic", "Marketplace.Slurm", "Marketplace.Script"})
# A resource whose members get accounts: made and not on its way out.
LIVE = frozenset({ResourceState.OK, ResourceState.UPDATING})
INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."
SORT: dict[str, Callable[[OfferingUser], object]] = {
    "username": lambda u: (u.username, u.id),
    "created": lambda u: u.id,
    "modified": lambda u: (u.modified.isoformat(), u.id),
}


@dataclass(frozen=True)
class Filters:
    offering_ids: tuple[str, ...] = ()
    provider_id: str | None = None  # the service provider's id (Waldur's provider_uuid)
    user_id: str | None = None
    user_username: str | None = None
    username: str | None = None
    states: tuple[str, ...] = ()
    is_restricted: bool | None = None
    query: str | None = None


@dataclass(frozen=True)
class View:
    """An offering user with the user it is for (None: gone), its provider's customer name and
    which of the user's attributes the viewer may see (None: all of them)."""

    account: OfferingUser
    user: User | None
    customer_name: str = ""
    exposed: frozenset[str] | None = None


# --- sight and rights ------------------------------------------------------------------------------
def _rights(principal: Principal) -> Access:
    return access_service.access(principal)


def provides(rights: Access, provider_id: str, offering_id: str) -> bool:
    """The provider's side of an offering: a customer role in its provider or a role on it."""
    if provider_id in rights.customer_role_ids():
        return True
    return any(g.scope_key == (ScopeType.OFFERING, offering_id) for g in rights.active_grants())


def sees(rights: Access, account: OfferingUser) -> bool:
    return (
        rights.reads_everything
        or account.user_id == rights.principal.user_id
        or provides(rights, account.provider_id, account.offering_id)
    )


def _scope(account: OfferingUser) -> Scope:
    return Scope(ScopeType.OFFERING, account.offering_id, account.provider_id, account.offering_name)


def get_visible(principal: Principal, offering_user_id: str) -> OfferingUser:
    account = store.get(offering_user_id)
    if account is None or not sees(_rights(principal), account):
        raise NotFound(MODEL)
    return account


def _for_change(principal: Principal, offering_user_id: str, permission: str) -> OfferingUser:
    """The account as stored now, if the caller sees it (else 404) and may change it (else 403)."""
    seen = get_visible(principal, offering_user_id)
    account = store.load(seen.provider_id, seen.offering_id, seen.user_id)
    if account is None:
        raise NotFound(MODEL)
    _rights(principal).require(permission, _scope(account))
    return account


# --- reads -----------------------------------------------------------------------------------------
def _sources(rights: Access, f: Filters) -> list[OfferingUser]:
    """The accounts the narrowest key in the filters names, or, with none, the caller's own and
    their providers' (every provider's for staff and support)."""
    if f.offering_ids:
        found = [o for o in (offering_store.get(i) for i in dict.fromkeys(f.offering_ids)) if o]
        return [a for o in found for a in store.of_provider(o.customer_id, o.id)]
    if f.provider_id:
        provider = provider_store.get(f.provider_id)
        return store.of_provider(provider.customer_id) if provider else []
    if f.user_id:
        return store.of_user(f.user_id)
    if rights.reads_everything:
        return [a for p in provider_store.read_all() for a in store.of_provider(p.customer_id)]
    own = list(store.of_user(rights.principal.user_id))
    for customer_id in sorted(rights.customer_role_ids()):
        own += store.of_provider(customer_id)
    for grant in rights.active_grants():
        if grant.scope_type is ScopeType.OFFERING:
            own += store.of_provider(grant.customer_id, grant.scope_id)
    return own


def _keeps(f: Filters, users: dict[str, User]) -> Callable[[OfferingUser], bool]:
    query = (f.query or "").lower()

    def keep(a: OfferingUser) -> bool:
        user = users.get(a.user_id)
        checks = (
            not f.offering_ids or a.offering_id in f.offering_ids,
            f.user_id is None or a.user_id == f.user_id,
            f.username is None or a.username == f.username,
            f.user_username is None or (user is not None and user.username == f.user_username),
            not f.states or a.state.value in f.states,
            f.is_restricted is None or a.is_restricted == f.is_restricted,
            not query
            or query in a.username.lower()
            or (
                user is not None
                and any(query in v.lower() for v in (user.username, user.full_name, user.email))
            ),
        )
        return all(checks)

    return keep


def list_offering_users(
    principal: Principal, filters: Filters, ordering: Ordering, request: PageRequest
) -> Page[View]:
    """The accounts the caller sees, filtered, by username unless `o=` says otherwise."""
    rights = _rights(principal)
    found = {a.id: a for a in _sources(rights, filters) if sees(rights, a)}
    needs_users = filters.user_username is not None or bool(filters.query)
    users = user_store.get_many([a.user_id for a in found.values()]) if needs_users else {}
    kept = [a for a in found.values() if _keeps(filters, users)(a)]
    ordered = order_rows(kept, ordering if ordering.field else Ordering("username"), SORT)
    page = paginate(ordered, request)
    return Page(describe(page.items, principal), page.total)


def _exposed_to(rights: Access, accounts: Sequence[OfferingUser]) -> dict[str, frozenset[str] | None]:
    """By account: the user attributes the viewer sees. The user and staff and support see all;
    the provider what the offering's attribute config exposes (Waldur's default: username, full
    name, email). Reads: one GetItem per offering among the accounts not the viewer's own."""
    configs: dict[tuple[str, str], frozenset[str]] = {}
    shown: dict[str, frozenset[str] | None] = {}
    for a in accounts:
        if rights.reads_everything or a.user_id == rights.principal.user_id:
            shown[a.id] = None
            continue
        key = (a.provider_id, a.offering_id)
        if key not in configs:
            stored = store.attribute_config(*key)
            configs[key] = frozenset(stored.exposed if stored is not None else domain.DEFAULT_EXPOSED)
        shown[a.id] = configs[key]
    return shown


def describe(accounts: Sequence[OfferingUser], principal: Principal) -> list[View]:
    """Join accounts with their users and provider names (one BatchGetItem each), and what of the
    users `principal` may see."""
    from chalicelib.services.ports import customers as customer_store

    users = user_store.get_many([a.user_id for a in accounts])
    customers = {c.id: c for c in customer_store.get_many(sorted({a.provider_id for a in accounts}))}
    shown = _exposed_to(_rights(principal), accounts)
    return [
        View(
            a,
            users.get(a.user_id),
            customers[a.provider_id].name if a.provider_id in customers else "",
            shown[a.id],
        )
        for a in accounts
    ]


def retrieve(principal: Principal, offering_user_id: str) -> View:
    return describe([get_visible(principal, offering_user_id)], principal)[0]


def in_offering(offering_user_id: str | None, offering_id: str, field_name: str = "user") -> OfferingUser:
    """The account a request names by id, if it is an account in `offering_id` (a per-user usage
    or limit of a resource names one of its offering's users); else the field's "does not exist"
    (400), the same for an unknown account and another offering's, so neither is told apart.
    Reads: one gsi1 Query."""
    account = store.get(offering_user_id) if offering_user_id else None
    if account is None or account.offering_id != offering_id:
        raise ValidationError.field(field_name, INVALID_HYPERLINK)
    return account


def of_team(provider_id: str, offering_id: str, user_ids: list[str]) -> dict[str, OfferingUser]:
    """The accounts of these users in the offering (a resource's team/ shows them, and the site
    agent keeps exactly those usernames on the resource): one BatchGetItem."""
    return store.get_many(provider_id, offering_id, user_ids) if user_ids else {}


# --- provider's commands ---------------------------------------------------------------------------
def _commit(
    ctx: EventContext, before: OfferingUser | None, after: OfferingUser, event_type: str
) -> OfferingUser:
    user = user_store.get(after.user_id)
    uow = unit_of_work()
    if before is None:
        store.add(uow, after)
        stored = after
    else:
        stored = store.save(uow, before, after)
    uow.record(domain.event(stored, event_type, ctx, user.username if user else after.user_id))
    uow.commit()
    return stored


def _offering_for_create(rights: Access, reference: str | None) -> Offering:
    offering_id = id_from_url(reference) if reference else None
    offering = offering_store.get(offering_id) if offering_id else None
    if offering is None or not (rights.reads_everything or catalog.manages(rights, offering)):
        raise ValidationError.field("offering", INVALID_HYPERLINK)
    return offering


def create(ctx: EventContext, offering_ref: str | None, user_ref: str | None, username: str | None) -> View:
    """The provider opens an account for a user (Waldur's create: OFFERING.CREATE_USER)."""
    rights = _rights(ctx.actor)
    offering = _offering_for_create(rights, offering_ref)
    user_id = id_from_url(user_ref) if user_ref else None
    user = user_store.get(user_id) if user_id else None
    if user is None:
        raise ValidationError.field("user", INVALID_HYPERLINK)
    rights.require(P.CREATE_OFFERING_USER, catalog.scope(offering))
    if not rights.principal.is_staff and not _consumes(offering, user):
        # Not one of the offering's consumers: an account would show the provider the user's
        # name, email and phone. Told apart from an unknown user by nothing.
        raise ValidationError.field("user", INVALID_HYPERLINK)
    name = domain.check_username(username or "")
    if store.load(offering.customer_id, offering.id, user.id) is not None:
        raise ValidationError([domain.ALREADY])
    account = _new_account(offering, user, name, utcnow())
    return describe([_commit(ctx, None, account, domain.CREATED)], ctx.actor)[0]


def _consumes(offering: Offering, user: User) -> bool:
    """Whether the user holds a role in a project, or its customer, with a live (not terminated)
    resource of the offering: the users a provider serves (Waldur's get_resource_users). Reads:
    one Query of the user's grants, one of each of their projects' or customers' resources (the
    store's bound)."""
    now = utcnow()
    sources = [
        Source.consumer(g.customer_id, g.scope_id if g.scope_type is ScopeType.PROJECT else None)
        for g in grant_store.for_user(user.id)
        if g.scope_type in (ScopeType.PROJECT, ScopeType.CUSTOMER) and g.active(now)
    ]
    found = resource_store.read(sources, bounded=True) if sources else []
    return any(r.offering_id == offering.id and r.state is not ResourceState.TERMINATED for r in found)


def _new_account(offering: Offering, user: User, username: str, now: datetime) -> OfferingUser:
    return OfferingUser(
        id=new_id(),
        offering_id=offering.id,
        provider_id=offering.customer_id,
        user_id=user.id,
        created=now,
        modified=now,
        username=username,
        state=domain.initial_state(username),
        offering_name=offering.name,
    )


def set_username(ctx: EventContext, offering_user_id: str, username: str) -> View:
    """The provider (its agent) sets the backend username; an account being made becomes OK."""
    account = _for_change(ctx.actor, offering_user_id, P.UPDATE_OFFERING_USER)
    name = domain.check_username(username)
    if name == account.username:
        return describe([account], ctx.actor)[0]
    after = domain.with_username(account, name, utcnow())
    return describe([_commit(ctx, account, after, domain.UPDATED)], ctx.actor)[0]


def set_offering_username(ctx: EventContext, offering: Offering, user: User, username: str) -> OfferingUser:
    """The user's account in the offering with this username, made if missing (Waldur's
    update_or_create; the caller checked the provider's right)."""
    existing = store.load(offering.customer_id, offering.id, user.id)
    if existing is None:
        return _commit(ctx, None, _new_account(offering, user, username, utcnow()), domain.CREATED)
    if existing.username == username:
        return existing
    return _commit(ctx, existing, domain.with_username(existing, username, utcnow()), domain.UPDATED)


def act(
    ctx: EventContext, offering_user_id: str, action: str, comment: str = "", comment_url: str = ""
) -> OfferingUser:
    """A state action of the provider's agent (domain.TRANSITIONS; 409 outside its states)."""
    account = _for_change(ctx.actor, offering_user_id, P.UPDATE_OFFERING_USER)
    after = domain.transition(account, action, utcnow())
    if action in domain.COMMENTED:
        after = replace(after, service_provider_comment=comment, service_provider_comment_url=comment_url)
    elif after.state is State.OK:
        after = replace(after, service_provider_comment="", service_provider_comment_url="")
    return _commit(ctx, account, after, domain.UPDATED)


def set_restricted(ctx: EventContext, offering_user_id: str, is_restricted: bool) -> OfferingUser:
    """Tell the provider's backend whether the account may be used (Waldur's update_restricted)."""
    account = _for_change(ctx.actor, offering_user_id, P.UPDATE_OFFERING_USER)
    after = replace(account, is_restricted=is_restricted, modified=utcnow())
    return _commit(ctx, account, after, domain.RESTRICTION_UPDATED)


def delete(ctx: EventContext, offering_user_id: str) -> None:
    """The provider removes the account (Waldur checks OFFERING.DELETE_USER; Cirrus's provider
    roles hold OFFERING.UPDATE_USER for every offering-user change)."""
    account = _for_change(ctx.actor, offering_user_id, P.UPDATE_OFFERING_USER)
    user = user_store.get(account.user_id)
    uow = unit_of_work()
    store.remove(uow, account)
    uow.record(domain.event(account, domain.DELETED, ctx, user.username if user else account.user_id))
    uow.commit()


# --- made by access ----------------------------------------------------------------------------------
def _taken(offering: Offering, policy: str) -> list[str]:
    if policy not in (domain.POLICY_ANONYMIZED, domain.POLICY_FULL_NAME):
        return []
    return [a.username for a in store.of_provider(offering.customer_id, offering.id)]


def ensure_account(ctx: EventContext, offering: Offering, user: User) -> OfferingUser | None:
    """The user's account in the offering, made now if they have none (None: the offering has no
    accounts, or another request made it meanwhile). Reads: one GetItem (+ one Query of the
    offering's accounts under the numbered policies)."""
    if offering.type not in ALLOWED_TYPES:
        return None
    if store.load(offering.customer_id, offering.id, user.id) is not None:
        return None
    options = dict(offering.plugin_options)
    policy = domain.policy_of(options)
    prefix = options.get("username_anonymized_prefix")
    username = domain.generate_username(
        policy,
        user.username,
        user.full_name,
        _taken(offering, policy),
        prefix if isinstance(prefix, str) and prefix else "walduruser_",
    )
    try:
        return _commit(ctx, None, _new_account(offering, user, username, utcnow()), domain.CREATED)
    except (ValidationError, Conflict):
        return None  # made by a concurrent request: one per user per offering


def _live_offerings(resources: Iterable[Resource]) -> list[Offering]:
    ids = sorted({r.offering_id for r in resources if r.state in LIVE})
    return [o for o in (offering_store.get(i) for i in ids) if o is not None and o.type in ALLOWED_TYPES]


def provision_for_grant(ctx: EventContext, grant: Grant) -> int:
    """After a project role was granted: an account in each agent-driven offering with a live
    resource in the project. Reads: one Query of the project's resources, then per offering one
    Query (the offering) and one GetItem (the account)."""
    if grant.scope_type is not ScopeType.PROJECT:
        return 0
    resources = resource_store.read([Source.consumer(grant.customer_id, grant.scope_id)], bounded=False)
    offerings = _live_offerings(resources)
    user = user_store.get(grant.user_id) if offerings else None
    if user is None:
        return 0
    return sum(1 for o in offerings if ensure_account(ctx, o, user) is not None)


def provision_for_resource(ctx: EventContext, resource: Resource) -> int:
    """After a resource was created: an account in its offering for each member of its project.
    Reads: the offering, the project's grants (one Query), the users (one BatchGetItem) and one
    GetItem per member."""
    offering = offering_store.get(resource.offering_id)
    if offering is None or offering.type not in ALLOWED_TYPES:
        return 0
    grants = grant_store.for_scope(resource.customer_id, ScopeType.PROJECT, resource.project_id)
    now = utcnow()
    members = sorted({g.user_id for g in grants if g.active(now)})
    users = user_store.get_many(members)
    return sum(1 for u in members if u in users and ensure_account(ctx, offering, users[u]) is not None)


def register_followers() -> None:
    """Follow project role grants (memberships.GRANT_FOLLOWERS); called by the composition root."""
    from chalicelib.services import memberships

    if provision_for_grant not in memberships.GRANT_FOLLOWERS:
        memberships.GRANT_FOLLOWERS.append(provision_for_grant)


# --- the offering's user attribute config --------------------------------------------------------------
def _managed_offering(principal: Principal, offering_id: str) -> Offering:
    offering = offering_store.get(offering_id)
    if offering is None or not catalog.manages(_rights(principal), offering):
        raise NotFound(OFFERING_MODEL)
    return offering


def attribute_config(principal: Principal, offering_id: str) -> AttributeConfig:
    """What the offering's provider sees of its users (the default until one is stored)."""
    offering = _managed_offering(principal, offering_id)
    stored = store.attribute_config(offering.customer_id, offering.id)
    if stored is not None:
        return stored
    now = offering.created or utcnow()
    return AttributeConfig(offering.id, offering.customer_id, domain.DEFAULT_EXPOSED, now, now)


def set_attribute_config(
    ctx: EventContext, offering_id: str, exposed: dict[str, bool], partial: bool
) -> AttributeConfig:
    """Store which attributes are exposed (`exposed`: attribute → shown); `partial` keeps the
    others as they are, otherwise they are hidden (PUT/POST)."""
    offering = _managed_offering(ctx.actor, offering_id)
    _rights(ctx.actor).require(P.UPDATE_OFFERING, catalog.scope(offering))
    before = attribute_config(ctx.actor, offering_id)
    shown = set(before.exposed) if partial else set()
    for name, on in exposed.items():
        (shown.add if on else shown.discard)(name)
    ordered = tuple(n for n in domain.EXPOSABLE if n in shown)
    after = replace(before, exposed=ordered, modified=utcnow())
    uow = unit_of_work()
    stored = store.save_attribute_config(uow, before if before.saved else None, after)
    uow.commit()
    return stored


def reset_attribute_config(ctx: EventContext, offering_id: str) -> None:
    """Back to the default (Waldur's delete-user-attribute-config/)."""
    offering = _managed_offering(ctx.actor, offering_id)
    _rights(ctx.actor).require(P.UPDATE_OFFERING, catalog.scope(offering))
    stored = store.attribute_config(offering.customer_id, offering.id)
    if stored is None:
        return
    uow = unit_of_work()
    store.remove_attribute_config(uow, stored)
    uow.commit()
