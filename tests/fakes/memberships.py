"""Fakes of the membership repositories: grants and invitations (ports.Grants, ports.Invitations).

What moves with a grant moves in the grant's commit, as in the store: the user's membership of the
customer (a count of their grants there; the first takes one `nc_user_count` through
`FakeCustomers.take_one`, the last releases it), a custom role's holders (`FakeRoles.users`), the
expiry bucket of the hour the grant lapses. One difference, on purpose: the store's system roles'
holders are counted by the stream consumer after the commit (store/counters.py); here they move in
the commit, as if the stream had no delay, so `FakeRoles.users` always equals the live grants.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain.errors import DomainError, NotFound, ValidationError
from chalicelib.domain.invitations import MODEL, ExecutionState, Invitation, InvitationState
from chalicelib.domain.quotas import USER_COUNT
from chalicelib.domain.rbac import Grant
from chalicelib.domain.roles import SYSTEM_ROLES, ScopeType
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork
from tests.fakes.identity import FakeRoles
from tests.fakes.organizations import FakeCustomers
from tests.fakes.world import World, lost_race, work

ALREADY_GRANTED = "User has already the same role in this scope."
GrantKey = tuple[str, str, str, str, str]  # customer, scope type, scope, user, role: the store's order


def _key(grant: Grant) -> GrantKey:
    return (grant.customer_id, grant.scope_type.value, grant.scope_id, grant.user_id, grant.role_id)


def _hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


class FakeGrants:
    def __init__(self, world: World) -> None:
        self.world = world
        self._grants = world.table("grants")  # GrantKey -> Grant
        self._members = world.table("members")  # (customer, user) -> how many grants they hold there
        self._expiry = world.table("grant_expiry")  # (hour, GrantKey) -> True
        self._customers = FakeCustomers(world)
        self._roles = FakeRoles(world)
        self._system_roles = {role.id for role in SYSTEM_ROLES.values()}

    # --- reads -------------------------------------------------------------------------------------
    def _sorted(self, found: list[tuple[GrantKey, Grant]]) -> list[Grant]:
        return [grant for _, grant in sorted(found, key=lambda pair: pair[0])]

    def for_user(self, user_id: str) -> list[Grant]:
        found = [g for g in self._grants.values() if g.user_id == user_id]
        return sorted(found, key=lambda g: (g.scope_type.value, g.scope_id, g.role_id))

    def for_scope(self, customer_id: str, scope_type: ScopeType, scope_id: str) -> list[Grant]:
        wanted = (customer_id, scope_type.value, scope_id)
        return self._sorted([(k, g) for k, g in self._grants.items() if k[:3] == wanted])

    def for_customer(self, customer_id: str) -> list[Grant]:
        return self._sorted([(k, g) for k, g in self._grants.items() if k[0] == customer_id])

    def get(
        self, customer_id: str, scope_type: ScopeType, scope_id: str, user_id: str, role_id: str
    ) -> Grant | None:
        found: Grant | None = self._grants.get((customer_id, scope_type.value, scope_id, user_id, role_id))
        return found

    def get_by_id(self, grant_id: str) -> Grant | None:
        return next((g for g in self._grants.values() if g.id == grant_id), None)

    def all_grants(self) -> list[Grant]:
        return sorted(self._grants.values(), key=lambda g: g.id)

    def member_grants(self, customer_id: str, user_id: str) -> int:
        return int(self._members.get((customer_id, user_id), 0))

    def lapsing_in(self, hour: datetime) -> list[Grant]:
        wanted = _hour(hour)
        keys = sorted(k for h, k in self._expiry if h == wanted)
        return [self._grants[k] for k in keys if k in self._grants]

    # --- writes ------------------------------------------------------------------------------------
    def add(self, uow: UnitOfWork, grant: Grant, held: int, *, stored_role: bool = False) -> None:
        if stored_role:
            missing = ValidationError.field("role", f"Object with uuid={grant.role_id} does not exist.")
            work(uow).stage(
                "roles",
                grant.role_id,
                lambda: None if grant.role_id in self.world.table("roles") else missing,
                lambda: None,
            )
        key = _key(grant)
        work(uow).stage(
            "grants",
            key,
            lambda: ValidationError([ALREADY_GRANTED]) if key in self._grants else None,
            lambda: self._grants.__setitem__(key, grant),
        )
        self._count_member(uow, grant, held, +1)
        self._count_holder(uow, grant, +1)
        if grant.expiration_time is not None:
            self._mark(uow, grant, grant.expiration_time)

    def set_expiration(self, uow: UnitOfWork, before: Grant, expiration_time: datetime | None) -> None:
        key = _key(before)

        def apply() -> None:
            current = self._grants[key]
            self._grants[key] = replace(current, expiration_time=expiration_time, version=current.version + 1)

        work(uow).stage("grants", key, lambda: None if self._unchanged(before) else lost_race(), apply)
        old_hour = _hour(before.expiration_time) if before.expiration_time else None
        new_hour = _hour(expiration_time) if expiration_time else None
        if old_hour != new_hour:
            if before.expiration_time is not None:
                self._unmark(uow, before, before.expiration_time)
            if expiration_time is not None:
                self._mark(uow, before, expiration_time)

    def remove(self, uow: UnitOfWork, grant: Grant, held: int) -> None:
        key = _key(grant)
        work(uow).stage(
            "grants",
            key,
            lambda: None if self._unchanged(grant) else lost_race(),
            lambda: self._grants.pop(key, None) and None,
        )
        self._count_member(uow, grant, held, -1)
        self._count_holder(uow, grant, -1)
        if grant.expiration_time is not None:
            self._unmark(uow, grant, grant.expiration_time)

    # --- bookkeeping -------------------------------------------------------------------------------
    def _unchanged(self, grant: Grant) -> bool:
        found = self._grants.get(_key(grant))
        return found is not None and found.version == grant.version

    def _count_member(self, uow: UnitOfWork, grant: Grant, held: int, delta: int) -> None:
        member = (grant.customer_id, grant.user_id)
        after = held + delta

        def refused() -> DomainError | None:
            return None if self.member_grants(*member) == held else lost_race()

        if after == 0:
            work(uow).stage("members", member, refused, lambda: self._members.pop(member, None) and None)
        else:
            work(uow).stage("members", member, refused, lambda: self._members.__setitem__(member, after))
        if held == 0:  # first grant in this customer: a new member
            self._customers.take_one(uow, grant.customer_id, USER_COUNT)
        elif after == 0:  # last grant gone: no longer a member
            self._customers.release_one(uow, grant.customer_id, USER_COUNT)

    def _count_holder(self, uow: UnitOfWork, grant: Grant, delta: int) -> None:
        """A custom role's counter is one item in the grant's transaction; a system role's moves
        per grant (the store's stream consumer, one record each: no two grants share it)."""
        holders = self._roles.users
        role_id = grant.role_id
        key: object = role_id if role_id not in self._system_roles else (role_id, grant.id, delta)
        table = "role_users" if role_id not in self._system_roles else "role_users_stream"
        work(uow).stage(
            table, key, None, lambda: holders.__setitem__(role_id, holders.get(role_id, 0) + delta)
        )

    def _mark(self, uow: UnitOfWork, grant: Grant, when: datetime) -> None:
        mark = (_hour(when), _key(grant))
        work(uow).stage("grant_expiry", mark, None, lambda: self._expiry.__setitem__(mark, True))

    def _unmark(self, uow: UnitOfWork, grant: Grant, when: datetime) -> None:
        mark = (_hour(when), _key(grant))
        work(uow).stage("grant_expiry", mark, None, lambda: self._expiry.pop(mark, None) and None)


class FakeInvitations:
    """Invitations by id. Pending ones are found by the hour their week ends (the store's expiry
    bucket), computed from what is stored, as the store's index is rewritten with every change. The
    staff list's total is exact here; the store's comes from the stream and lags it."""

    def __init__(self, world: World) -> None:
        self._invitations = world.table("invitations")  # id -> Invitation

    def get(self, customer_id: str, invitation_id: str) -> Invitation | None:
        found = self._invitations.get(invitation_id)
        return found if found is not None and found.customer_id == customer_id else None

    def load(self, invitation_id: str) -> Invitation | None:
        found: Invitation | None = self._invitations.get(invitation_id)
        return found

    def for_customer(self, customer_id: str) -> list[Invitation]:
        return sorted(
            (i for i in self._invitations.values() if i.customer_id == customer_id), key=lambda i: i.id
        )

    def page_all(self, request: PageRequest, newest_first: bool = True) -> Page[Invitation]:
        ordered = sorted(self._invitations.values(), key=lambda i: i.id, reverse=newest_first)
        return paginate(ordered, request)

    def read_all(self) -> list[Invitation]:
        return sorted(self._invitations.values(), key=lambda i: i.id, reverse=True)

    def pending_in(self, hour: datetime) -> list[Invitation]:
        wanted = _hour(hour)
        return sorted(
            (
                i
                for i in self._invitations.values()
                if i.state is InvitationState.PENDING and _hour(i.expires) == wanted
            ),
            key=lambda i: i.id,
        )

    def add(self, uow: UnitOfWork, invitation: Invitation) -> None:
        work(uow).stage(
            "invitations",
            invitation.id,
            lambda: lost_race() if invitation.id in self._invitations else None,
            lambda: self._invitations.__setitem__(invitation.id, invitation),
        )

    def save_transition(self, uow: UnitOfWork, before: Invitation, after: Invitation) -> None:
        def unchanged() -> bool:
            found = self.get(before.customer_id, before.id)
            return found is not None and (found.version, found.state) == (before.version, before.state)

        def apply() -> None:
            current = self._invitations[before.id]
            self._invitations[before.id] = replace(
                current,
                state=after.state,
                execution_state=after.execution_state,
                error_message=after.error_message,
                created=after.created,
                version=current.version + 1,
            )

        work(uow).stage("invitations", before.id, lambda: None if unchanged() else lost_race(), apply)

    def _change_now(self, invitation: Invitation, **changes: object) -> None:
        current = self.get(invitation.customer_id, invitation.id)
        if current is None:
            raise NotFound(MODEL)
        self._invitations[invitation.id] = replace(current, **changes)  # type: ignore[arg-type]

    def set_execution_state(
        self, invitation: Invitation, state: ExecutionState, error_message: str = ""
    ) -> None:
        self._change_now(invitation, execution_state=state, error_message=error_message)

    def set_token_hash(self, invitation: Invitation, token_hash: str) -> None:
        self._change_now(invitation, token_hash=token_hash)
