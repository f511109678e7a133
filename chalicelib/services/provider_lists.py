"""What a service provider sees of its consumers (Waldur's `marketplace-service-providers/<uuid>/`
`projects/`, `project_permissions/`, `users/`, `customers/`, `offerings/`, `keys/`), and
`set_offerings_username/`.

- The consumers are those of the provider's live resources (any state but Terminated): their
  projects, those projects' customers, the users holding roles in those projects (Waldur's
  `get_service_provider_*_ids`).
- Only the provider's team reads them (a customer role holding the provider's permissions:
  owners and managers), and staff and support; anybody else who may see the provider gets a 403.
- Reads: one Query of the provider's resources (gsi2), one Query of grants per consumer
  customer, one BatchGetItem per 100 projects or users.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.ids import parse_id
from chalicelib.domain.offerings import PROVIDER_MODEL, ServiceProvider
from chalicelib.domain.projects import Project
from chalicelib.domain.rbac import Access, Grant, Scope
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P, ScopeType
from chalicelib.domain.users import User
from chalicelib.domain.vocabulary import Offering, ResourceState
from chalicelib.services import access as access_service
from chalicelib.services import offering_users
from chalicelib.services.ports import Source
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import grants as grant_store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import service_providers as provider_store
from chalicelib.services.ports import users as user_store


class KeyFingerprints(Protocol):
    @property
    def md5(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def sha512(self) -> str: ...


class KeyView(Protocol):
    """An SSH public key as the `/api/keys/` context keeps it (domain/ssh_keys.py's SshKey)."""

    @property
    def id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def public_key(self) -> str: ...
    @property
    def is_shared(self) -> bool: ...
    @property
    def type(self) -> str: ...
    @property
    def fingerprints(self) -> KeyFingerprints: ...


# The SSH keys context's reader (users' ids → their keys: services/ssh_keys.py's `keys_of_users`),
# plugged in by the composition root. With none, providers see no keys.
KeyReader = Callable[[list[str]], Sequence[KeyView]]
KEY_READERS: list[KeyReader] = []


@dataclass(frozen=True)
class Consumers:
    """The provider's live resources and who consumes them."""

    provider: ServiceProvider
    resources: list[Resource]
    grants: list[Grant]  # active project grants on the resources' projects

    @property
    def project_customers(self) -> dict[str, str]:
        return {r.project_id: r.customer_id for r in self.resources}

    @property
    def user_ids(self) -> list[str]:
        return sorted({g.user_id for g in self.grants})


def _rights(principal: Principal) -> Access:
    return access_service.access(principal)


def provider_team(principal: Principal, provider_id: str, write: bool = False) -> ServiceProvider:
    """The provider, if the caller is on its team (owner, manager) or staff, or, to read, support;
    NotFound if it does not exist, PermissionDenied for anybody else (the provider directory is
    public)."""
    provider = provider_store.get(provider_id)
    if provider is None:
        raise NotFound(PROVIDER_MODEL)
    rights = _rights(principal)
    if rights.reads_everything and not write:
        return provider
    scope = Scope(ScopeType.CUSTOMER, provider.customer_id, provider.customer_id, "")
    permission = P.UPDATE_OFFERING_USER if write else P.LIST_RESOURCE_USERS
    if not rights.has(permission, scope):
        raise PermissionDenied()
    return provider


def consumers(principal: Principal, provider_id: str) -> Consumers:
    provider = provider_team(principal, provider_id)
    found = resource_store.read([Source.provider(provider.customer_id)], bounded=False)
    live = [r for r in found if r.state is not ResourceState.TERMINATED]
    projects = {r.project_id for r in live}
    now = utcnow()
    grants = [
        g
        for customer_id in sorted({r.customer_id for r in live})
        for g in grant_store.for_customer(customer_id)
        if g.scope_type is ScopeType.PROJECT and g.scope_id in projects and g.active(now)
    ]
    return Consumers(provider, live, grants)


def projects(principal: Principal, provider_id: str) -> list[Project]:
    """The live projects with a live resource of the provider, newest first."""
    found = project_store.get_many(consumers(principal, provider_id).project_customers)
    return sorted(found, key=lambda p: p.id, reverse=True)


def project_permissions(
    principal: Principal, provider_id: str
) -> tuple[list[Grant], dict[str, Project], dict[str, User]]:
    """The roles in those projects of active users, with their projects and users."""
    seen = consumers(principal, provider_id)
    found = {p.id: p for p in project_store.get_many(seen.project_customers)}
    users = {u.id: u for u in user_store.get_many(seen.user_ids).values() if u.is_active}
    grants = [g for g in seen.grants if g.scope_id in found and g.user_id in users]
    return sorted(grants, key=lambda g: g.id), found, users


def users(principal: Principal, provider_id: str) -> list[tuple[User, int]]:
    """The users with a role in those projects, each with how many of them, by username."""
    seen = consumers(principal, provider_id)
    counts: dict[str, set[str]] = {}
    for grant in seen.grants:
        counts.setdefault(grant.user_id, set()).add(grant.scope_id)
    found = user_store.get_many(seen.user_ids)
    rights = _rights(principal)
    rows = [(u, len(counts[u.id])) for u in found.values() if u.is_active or rights.reads_everything]
    return sorted(rows, key=lambda row: row[0].username)


def customers(principal: Principal, provider_id: str) -> list[tuple[Customer, int, int]]:
    """The consumer customers, each with how many of its projects and users consume, by name."""
    seen = consumers(principal, provider_id)
    projects_of: dict[str, set[str]] = {}
    for resource in seen.resources:
        projects_of.setdefault(resource.customer_id, set()).add(resource.project_id)
    users_of: dict[str, set[str]] = {}
    for grant in seen.grants:
        users_of.setdefault(grant.customer_id, set()).add(grant.user_id)
    found = customer_store.get_many(sorted(projects_of))
    rows = [(c, len(projects_of.get(c.id, ())), len(users_of.get(c.id, ()))) for c in found]
    return sorted(rows, key=lambda row: (row[0].name.lower(), row[0].id))


def offerings(principal: Principal, provider_id: str) -> list[Offering]:
    """The provider's offerings (Waldur's: billable and shared), oldest first."""
    provider = provider_team(principal, provider_id)
    return [o for o in offering_store.for_customer(provider.customer_id) if o.billable and o.shared]


def keys(principal: Principal, provider_id: str) -> list[KeyView]:
    """The SSH public keys of the users with a role in the consumer projects."""
    user_ids = consumers(principal, provider_id).user_ids
    found = [k for read in KEY_READERS for k in read(user_ids)] if user_ids else []
    return sorted(found, key=lambda k: k.id)


def no_accounts(principal: Principal, provider_id: str) -> list[object]:
    """Project service accounts and course accounts: Cirrus has none (after the provider check)."""
    provider_team(principal, provider_id)
    return []


def set_offerings_username(ctx: EventContext, provider_id: str, user_ref: str, username: str) -> int:
    """Give the user this username in every offering of the provider with a live resource in a
    project where they hold a role (their accounts are made where missing). Returns how many."""
    from chalicelib.domain import offering_users as rules

    provider = provider_team(ctx.actor, provider_id, write=True)
    name = rules.check_username(username)
    user_id = parse_id(user_ref)
    user = user_store.get(user_id) if user_id else None
    if user is None:
        raise ValidationError([f"A user with the uuid [{user_ref}] is not found."])
    projects_of_user = {
        g.scope_id for g in grant_store.for_user(user.id) if g.scope_type is ScopeType.PROJECT
    }
    found = resource_store.read([Source.provider(provider.customer_id)], bounded=False)
    offering_ids = sorted(
        {
            r.offering_id
            for r in found
            if r.state is not ResourceState.TERMINATED and r.project_id in projects_of_user
        }
    )
    changed = 0
    for offering_id in offering_ids:
        offering = offering_store.get(offering_id)
        if offering is not None:
            offering_users.set_offering_username(ctx, offering, user, name)
            changed += 1
    return changed
