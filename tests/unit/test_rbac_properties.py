"""`Access` (chalicelib/domain/rbac.py) against a small independent reference model, over a few
hundred seeded random worlds: random roles (system and custom, some disabled, some missing), random
grants (on customers, projects and offerings; some expired, some expiring at the very instant), and
staff, support and plain callers. Pure domain objects: no moto, no I/O.

The reference, written from the rules rather than from the code:
- staff hold every permission; the support flag gives reads, never writes;
- a permission holds on scope S iff some live grant on S or on S's parent (a project's or an
  offering's customer, looked up in the world, not in the grant) is of an enabled role holding it;
- a grant is live while now < expiration_time (no expiration: forever); a grant of a role that no
  longer exists grants nothing;
- a customer is visible through a live customer or project grant in it; a project through a live
  grant on it or a live customer grant on its customer; support and staff see everything;
- `may_assign(role, S)`: staff; otherwise never CUSTOMER.OWNER, and every permission of the role
  must hold on S.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied
from chalicelib.domain.rbac import Access, Grant, Scope
from chalicelib.domain.roles import ALL_PERMISSIONS, CUSTOMER_OWNER, SYSTEM_ROLES, Role, ScopeType

SEEDS = range(300)
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PERMISSIONS = sorted(ALL_PERMISSIONS)
C, PR, OF = ScopeType.CUSTOMER, ScopeType.PROJECT, ScopeType.OFFERING


# --- a random world ----------------------------------------------------------------------------
@dataclass(frozen=True)
class World:
    parent: dict[tuple[ScopeType, str], str]  # project or offering → its customer
    customers: list[str]
    roles: dict[str, Role]  # what the store returns: some roles of the grants may be missing
    all_roles: list[Role]  # every role a grant may name (missing ones included)
    grants: tuple[Grant, ...]
    principal: Principal
    now: datetime | None

    def scopes(self) -> list[Scope]:
        found = [Scope(C, c, c) for c in self.customers]
        found += [Scope(kind, i, customer) for (kind, i), customer in self.parent.items()]
        return found


def _expiration(rng: random.Random) -> datetime | None:
    return rng.choice(
        [
            None,
            None,
            NOW + timedelta(days=rng.randint(1, 30)),
            NOW + timedelta(microseconds=1),
            NOW,  # expires at this very instant: no longer in force
            NOW - timedelta(seconds=rng.randint(1, 10**6)),
        ]
    )


def random_world(seed: int) -> World:
    rng = random.Random(seed)
    customers = [f"c{i}" for i in range(rng.randint(1, 3))]
    parent: dict[tuple[ScopeType, str], str] = {}
    for i in range(rng.randint(0, 4)):
        parent[(PR, f"p{i}")] = rng.choice(customers)
    for i in range(rng.randint(0, 2)):
        parent[(OF, f"o{i}")] = rng.choice(customers)

    # System roles, some overridden (disabled or with other permissions), and custom roles; a few
    # permissions per custom role from a small pool, so that grants overlap often.
    pool = rng.sample(PERMISSIONS, 8)
    roles = []
    for role in SYSTEM_ROLES.values():
        if rng.random() < 0.15:
            role = replace(role, is_active=False)
        if rng.random() < 0.1:
            role = replace(role, permissions=frozenset(rng.sample(pool, rng.randint(0, 4))))
        roles.append(role)
    for i in range(rng.randint(0, 3)):
        roles.append(
            Role(
                id=f"custom{i}",
                name=f"CUSTOM.{i}",
                content_type=rng.choice([C, PR, OF]),
                permissions=frozenset(rng.sample(pool, rng.randint(0, 5))),
                is_active=rng.random() > 0.2,
            )
        )
    stored = {r.id: r for r in roles if rng.random() > 0.05}  # a role deleted under its grants

    scopes = [(C, c, c) for c in customers] + [(k, i, c) for (k, i), c in parent.items()]
    grants = []
    for n in range(rng.randint(0, 6)):
        kind, scope_id, customer = rng.choice(scopes)
        fitting = [r for r in roles if r.content_type is kind] or roles
        role = rng.choice(fitting)
        grants.append(
            Grant(
                id=f"g{n}",
                user_id="me",
                role_id=role.id,
                scope_type=kind,
                scope_id=scope_id,
                customer_id=customer,
                created=NOW - timedelta(days=60),
                expiration_time=_expiration(rng),
            )
        )
    flag = rng.random()
    principal = Principal("me", "me", is_staff=flag < 0.1, is_support=0.1 <= flag < 0.2)
    now = None if rng.random() < 0.05 else NOW
    return World(parent, customers, stored, roles, tuple(grants), principal, now)


def access_of(world: World) -> Access:
    return Access(world.principal, world.grants, world.roles, world.now)


# --- the reference model -----------------------------------------------------------------------
def live(world: World, grant: Grant) -> bool:
    if world.now is not None and grant.expiration_time is not None and not world.now < grant.expiration_time:
        return False
    role = world.roles.get(grant.role_id)
    return role is not None and role.is_active


def held(world: World) -> dict[tuple[ScopeType, str], set[str]]:
    """Permissions granted directly on each scope by live grants."""
    table: dict[tuple[ScopeType, str], set[str]] = {}
    for g in world.grants:
        if live(world, g):
            table.setdefault((g.scope_type, g.scope_id), set()).update(world.roles[g.role_id].permissions)
    return table


def ref_has(world: World, permission: str, scope: Scope) -> bool:
    if world.principal.is_staff:
        return True
    table = held(world)
    key = (scope.type, scope.id)
    chain = [key] if scope.type is C else [key, (C, world.parent[key])]
    return any(permission in table.get(k, set()) for k in chain)


def ref_customers(world: World) -> set[str]:
    found = set()
    for g in world.grants:
        if not live(world, g):
            continue
        if g.scope_type is C:
            found.add(g.scope_id)
        elif g.scope_type is PR:
            found.add(world.parent[(PR, g.scope_id)])
    return found


def ref_sees_customer(world: World, customer: str) -> bool:
    p = world.principal
    return p.is_staff or p.is_support or customer in ref_customers(world)


def ref_sees_project(world: World, project: str) -> bool:
    p = world.principal
    if p.is_staff or p.is_support:
        return True
    customer = world.parent[(PR, project)]
    return any(
        live(world, g) and ((g.scope_type, g.scope_id) in ((PR, project), (C, customer)))
        for g in world.grants
    )


def ref_may_assign(world: World, role: Role, scope: Scope) -> bool:
    if world.principal.is_staff:
        return True
    if role.name == CUSTOMER_OWNER:
        return False
    return all(ref_has(world, permission, scope) for permission in role.permissions)


# --- the comparisons ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_access_agrees_with_the_reference(seed: int) -> None:
    world = random_world(seed)
    access = access_of(world)
    where = f"seed {seed}: {world.principal}, grants {world.grants}, now {world.now}"

    assert access.customer_ids() == ref_customers(world), where
    for customer in world.customers:
        assert access.sees_customer(customer) == ref_sees_customer(world, customer), where
    for (kind, project), customer in world.parent.items():
        if kind is PR:
            assert access.sees_project(project, customer) == ref_sees_project(world, project), where

    for scope in world.scopes():
        for permission in PERMISSIONS:
            expected = ref_has(world, permission, scope)
            assert access.has(permission, scope) == expected, f"{where}: {permission} on {scope}"
        for role in world.all_roles:
            expected = ref_may_assign(world, role, scope)
            assert access.may_assign(role, scope) == expected, f"{where}: assign {role.name} on {scope}"


@pytest.mark.parametrize("seed", range(0, 300, 3))
def test_require_raises_exactly_when_has_is_false(seed: int) -> None:
    world = random_world(seed)
    access = access_of(world)
    rng = random.Random(seed)
    for scope in world.scopes():
        permission = rng.choice(PERMISSIONS)
        if ref_has(world, permission, scope):
            access.require(permission, scope)
        else:
            with pytest.raises(PermissionDenied):
                access.require(permission, scope)


@pytest.mark.parametrize("seed", range(0, 300, 3))
def test_more_grants_never_mean_fewer_rights(seed: int) -> None:
    world = random_world(seed)
    extra = random_world(seed + 10_000)
    # The other world's grants, moved onto this world's scopes.
    scopes = world.scopes()
    rng = random.Random(seed)
    moved = []
    for g in extra.grants:
        scope = rng.choice(scopes)
        moved.append(
            replace(g, id=f"x{g.id}", scope_type=scope.type, scope_id=scope.id, customer_id=scope.customer_id)
        )
    bigger = replace(world, grants=world.grants + tuple(moved))
    small, large = access_of(world), access_of(bigger)
    assert small.customer_ids() <= large.customer_ids()
    for scope in scopes:
        assert small.sees_scope(scope) <= large.sees_scope(scope)
        for permission in PERMISSIONS:
            assert small.has(permission, scope) <= large.has(permission, scope)


@pytest.mark.parametrize("seed", range(0, 300, 3))
def test_time_only_takes_rights_away(seed: int) -> None:
    world = random_world(seed)
    if world.now is None:
        world = replace(world, now=NOW)
    later = replace(world, now=NOW + timedelta(days=random.Random(seed).randint(1, 40)))
    before, after = access_of(world), access_of(later)
    assert after.customer_ids() <= before.customer_ids()
    for scope in world.scopes():
        for permission in PERMISSIONS:
            assert after.has(permission, scope) <= before.has(permission, scope)


# --- the edges, spelled out --------------------------------------------------------------------
ADMIN = SYSTEM_ROLES["PROJECT.ADMIN"]
OWNER = SYSTEM_ROLES[CUSTOMER_OWNER]
ROLES = {r.id: r for r in SYSTEM_ROLES.values()}
PROJECT = Scope(PR, "p", "c")
CUSTOMER = Scope(C, "c", "c")
OTHER_PROJECT = Scope(PR, "q", "d")


def _grant(role: Role, scope: Scope, expiration: datetime | None = None) -> Grant:
    return Grant("g", "me", role.id, scope.type, scope.id, scope.customer_id, NOW, expiration)


def _access(
    *grants: Grant, staff: bool = False, support: bool = False, roles: dict[str, Role] = ROLES
) -> Access:
    return Access(Principal("me", "me", is_staff=staff, is_support=support), grants, roles, NOW)


def test_a_grant_ends_at_its_expiration_instant() -> None:
    assert _access(_grant(ADMIN, PROJECT, NOW + timedelta(microseconds=1))).has("ORDER.APPROVE", PROJECT)
    assert not _access(_grant(ADMIN, PROJECT, NOW)).has("ORDER.APPROVE", PROJECT)
    assert not _access(_grant(ADMIN, PROJECT, NOW)).sees_project("p", "c")


def test_rights_flow_from_customer_to_project_never_back_nor_sideways() -> None:
    owner = _access(_grant(OWNER, CUSTOMER))
    assert owner.has("PROJECT.UPDATE", PROJECT) and owner.sees_project("p", "c")
    assert not owner.has("PROJECT.UPDATE", OTHER_PROJECT) and not owner.sees_project("q", "d")
    manager = _access(_grant(SYSTEM_ROLES["PROJECT.MANAGER"], PROJECT))
    assert manager.has("PROJECT.UPDATE", PROJECT) and not manager.has("PROJECT.UPDATE", CUSTOMER)
    assert manager.sees_customer("c") and manager.customer_role_ids() == set()


def test_support_reads_everything_and_writes_nothing_by_its_flag() -> None:
    support = _access(support=True)
    assert support.sees_customer("c") and support.sees_project("q", "d")
    assert not any(support.has(p, PROJECT) for p in PERMISSIONS)
    assert support.customer_ids() == set()


def test_a_disabled_or_missing_role_grants_and_shows_nothing() -> None:
    disabled = {**ROLES, ADMIN.id: replace(ADMIN, is_active=False)}
    for roles in (disabled, {k: v for k, v in ROLES.items() if k != ADMIN.id}):
        access = _access(_grant(ADMIN, PROJECT), roles=roles)
        assert not access.has("ORDER.APPROVE", PROJECT)
        assert not access.sees_project("p", "c") and access.customer_ids() == set()


def test_owners_do_not_make_owners_and_nobody_gives_what_they_lack() -> None:
    owner = _access(_grant(OWNER, CUSTOMER))
    assert not owner.may_assign(OWNER, CUSTOMER)
    assert owner.may_assign(SYSTEM_ROLES["CUSTOMER.MANAGER"], CUSTOMER)
    assert owner.may_assign(ADMIN, PROJECT) and not owner.may_assign(ADMIN, OTHER_PROJECT)
    admin = _access(_grant(ADMIN, PROJECT))
    assert not admin.may_assign(SYSTEM_ROLES["PROJECT.MANAGER"], PROJECT)
    assert admin.may_assign(SYSTEM_ROLES["PROJECT.MEMBER"], PROJECT)  # no permissions to give
    assert _access(staff=True).may_assign(OWNER, CUSTOMER)
