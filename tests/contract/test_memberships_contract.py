"""Grants and invitations: the fakes and the store agree (tests/contract/conftest.py).

Customers have no port yet: `_customers(ports)` reaches the fake's `FakeCustomers` or the store
module, whichever the set stands on (one line to change once Customers is a port)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import Conflict, NotFound, QuotaExceeded, ValidationError
from chalicelib.domain.invitations import ExecutionState, Invitation, InvitationState
from chalicelib.domain.quotas import USER_COUNT
from chalicelib.domain.rbac import Grant
from chalicelib.domain.roles import CUSTOMER_OWNER, PROJECT_ADMIN, SYSTEM_ROLES, Role, ScopeType
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import Ports
from tests.fakes.memberships import FakeGrants

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ACME, GLOBEX = "c1" * 16, "c2" * 16
ALICE, BOB = "a1" * 16, "b1" * 16
OWNER, ADMIN = SYSTEM_ROLES[CUSTOMER_OWNER].id, SYSTEM_ROLES[PROJECT_ADMIN].id
ALREADY_GRANTED = "User has already the same role in this scope."


def _customers(ports: Ports) -> Any:
    if isinstance(ports.grants, FakeGrants):
        from tests.fakes.organizations import FakeCustomers

        return FakeCustomers(ports.grants.world)
    from chalicelib.store import customers

    return customers


def _add_customer(ports: Ports, customer_id: str = ACME, user_limit: int | None = None) -> None:
    customers = _customers(ports)
    uow = ports.unit_of_work()
    customers.add(uow, Customer(id=customer_id, name=customer_id[:4], created=NOW))
    uow.commit()
    if user_limit is not None:
        uow = ports.unit_of_work()
        customers.set_quota_limits(uow, customers.get(customer_id), {USER_COUNT: user_limit})
        uow.commit()


def _users_count(ports: Ports, customer_id: str = ACME) -> int:
    return int(_customers(ports).get(customer_id).users_count)


def _grant(
    grant_id: str,
    user_id: str = ALICE,
    role_id: str = OWNER,
    scope: tuple[ScopeType, str] = (ScopeType.CUSTOMER, ACME),
    customer_id: str = ACME,
    expires: datetime | None = None,
) -> Grant:
    return Grant(
        id=grant_id,
        user_id=user_id,
        role_id=role_id,
        scope_type=scope[0],
        scope_id=scope[1],
        customer_id=customer_id,
        created=NOW,
        expiration_time=expires,
        created_by_username="boss",
        version=1,
    )


def _add(ports: Ports, grant: Grant, *, stored_role: bool = False) -> Grant:
    uow = ports.unit_of_work()
    ports.grants.add(
        uow, grant, ports.grants.member_grants(grant.customer_id, grant.user_id), stored_role=stored_role
    )
    uow.commit()
    return grant


def _remove(ports: Ports, grant: Grant) -> None:
    uow = ports.unit_of_work()
    ports.grants.remove(uow, grant, ports.grants.member_grants(grant.customer_id, grant.user_id))
    uow.commit()


PROJECT = (ScopeType.PROJECT, "p1" * 16)


# --- grants ----------------------------------------------------------------------------------------
def test_a_grant_is_found_every_way_and_makes_its_user_a_member(ports: Ports) -> None:
    _add_customer(ports)
    grant = _add(ports, _grant("0" * 31 + "1"))
    assert ports.grants.get(ACME, ScopeType.CUSTOMER, ACME, ALICE, OWNER) == grant
    assert ports.grants.get(ACME, ScopeType.CUSTOMER, ACME, BOB, OWNER) is None
    assert ports.grants.get_by_id(grant.id) == grant and ports.grants.get_by_id("f" * 32) is None
    assert ports.grants.for_user(ALICE) == [grant] and ports.grants.for_user(BOB) == []
    assert ports.grants.for_scope(ACME, ScopeType.CUSTOMER, ACME) == [grant]
    assert ports.grants.for_customer(ACME) == [grant] and ports.grants.all_grants() == [grant]
    assert ports.grants.member_grants(ACME, ALICE) == 1 and _users_count(ports) == 1


def test_a_member_counts_once_however_many_grants_they_hold(ports: Ports) -> None:
    _add_customer(ports)
    first = _add(ports, _grant("0" * 31 + "1"))
    second = _add(ports, _grant("0" * 31 + "2", role_id=ADMIN, scope=PROJECT))
    assert ports.grants.member_grants(ACME, ALICE) == 2 and _users_count(ports) == 1
    _remove(ports, first)
    assert ports.grants.member_grants(ACME, ALICE) == 1 and _users_count(ports) == 1
    _remove(ports, second)
    assert ports.grants.member_grants(ACME, ALICE) == 0 and _users_count(ports) == 0
    assert ports.grants.for_customer(ACME) == [] and ports.grants.for_user(ALICE) == []


def test_the_same_role_twice_in_a_scope_is_refused_and_nothing_moves(ports: Ports) -> None:
    _add_customer(ports)
    _add(ports, _grant("0" * 31 + "1"))
    with pytest.raises(ValidationError) as refused:
        _add(ports, _grant("0" * 31 + "2"))
    assert refused.value.errors == [ALREADY_GRANTED]
    assert ports.grants.member_grants(ACME, ALICE) == 1 and _users_count(ports) == 1
    assert ports.grants.get_by_id("0" * 31 + "2") is None


def test_a_grant_counted_on_a_stale_membership_loses_the_race(ports: Ports) -> None:
    _add_customer(ports)
    _add(ports, _grant("0" * 31 + "1"))
    uow = ports.unit_of_work()
    ports.grants.add(uow, _grant("0" * 31 + "2", role_id=ADMIN, scope=PROJECT), 0)  # read before the first
    with pytest.raises(Conflict):
        uow.commit()
    assert ports.grants.member_grants(ACME, ALICE) == 1 and _users_count(ports) == 1


def test_a_new_member_beyond_the_customers_user_quota_is_refused(ports: Ports) -> None:
    _add_customer(ports, user_limit=1)
    _add(ports, _grant("0" * 31 + "1"))
    _add(ports, _grant("0" * 31 + "2", role_id=ADMIN, scope=PROJECT))  # not a new member
    with pytest.raises(QuotaExceeded):
        _add(ports, _grant("0" * 31 + "3", user_id=BOB))
    assert ports.grants.member_grants(ACME, BOB) == 0 and _users_count(ports) == 1
    assert ports.grants.for_user(BOB) == []


def test_removing_a_changed_grant_loses_the_race(ports: Ports) -> None:
    _add_customer(ports)
    grant = _add(ports, _grant("0" * 31 + "1"))
    uow = ports.unit_of_work()
    ports.grants.set_expiration(uow, grant, NOW + timedelta(days=1))
    uow.commit()
    with pytest.raises(Conflict):
        _remove(ports, grant)
    assert ports.grants.member_grants(ACME, ALICE) == 1 and _users_count(ports) == 1


def test_an_expiry_moves_between_hour_buckets_and_bumps_the_version(ports: Ports) -> None:
    _add_customer(ports)
    in_an_hour, tomorrow = NOW + timedelta(hours=1, minutes=5), NOW + timedelta(days=1)
    grant = _add(ports, _grant("0" * 31 + "1", expires=in_an_hour))
    assert ports.grants.lapsing_in(NOW + timedelta(hours=1, minutes=50)) == [grant]
    uow = ports.unit_of_work()
    ports.grants.set_expiration(uow, grant, tomorrow)
    uow.commit()
    moved = replace(grant, expiration_time=tomorrow, version=2)
    assert ports.grants.get(ACME, ScopeType.CUSTOMER, ACME, ALICE, OWNER) == moved
    assert ports.grants.lapsing_in(in_an_hour) == [] and ports.grants.lapsing_in(tomorrow) == [moved]
    stale = ports.unit_of_work()
    ports.grants.set_expiration(stale, grant, None)
    with pytest.raises(Conflict):
        stale.commit()
    uow = ports.unit_of_work()
    ports.grants.set_expiration(uow, moved, None)
    uow.commit()
    assert ports.grants.lapsing_in(tomorrow) == []
    _remove(ports, replace(moved, expiration_time=None, version=3))
    assert ports.grants.all_grants() == []


def test_a_removed_grant_leaves_its_expiry_bucket(ports: Ports) -> None:
    _add_customer(ports)
    grant = _add(ports, _grant("0" * 31 + "1", expires=NOW + timedelta(hours=3)))
    _remove(ports, grant)
    assert ports.grants.lapsing_in(NOW + timedelta(hours=3)) == []


def test_lists_are_in_key_order(ports: Ports) -> None:
    _add_customer(ports)
    _add_customer(ports, GLOBEX)
    bob_owner = _add(ports, _grant("0" * 31 + "1", user_id=BOB))
    alice_admin = _add(ports, _grant("0" * 31 + "2", role_id=ADMIN, scope=PROJECT))
    alice_owner = _add(ports, _grant("0" * 31 + "3"))
    elsewhere = _add(ports, _grant("0" * 31 + "4", scope=(ScopeType.CUSTOMER, GLOBEX), customer_id=GLOBEX))
    assert ports.grants.for_scope(ACME, ScopeType.CUSTOMER, ACME) == [alice_owner, bob_owner]
    assert ports.grants.for_customer(ACME) == [alice_owner, bob_owner, alice_admin]
    assert ports.grants.for_user(ALICE) == [alice_owner, elsewhere, alice_admin]
    assert ports.grants.all_grants() == [bob_owner, alice_admin, alice_owner, elsewhere]


def test_a_custom_role_counts_its_holders_and_must_exist(ports: Ports) -> None:
    _add_customer(ports)
    role = Role(id="e" * 32, name="auditor", content_type=ScopeType.CUSTOMER)
    uow = ports.unit_of_work()
    ports.roles.add(uow, role)
    uow.commit()
    grant = _add(ports, _grant("0" * 31 + "1", role_id=role.id), stored_role=True)
    stored = ports.roles.all_roles()[role.id]
    assert ports.roles.with_users_counts([stored])[0].users_count == 1
    _remove(ports, grant)
    assert ports.roles.with_users_counts([stored])[0].users_count == 0
    with pytest.raises(ValidationError) as refused:
        _add(ports, _grant("0" * 31 + "2", role_id="d" * 32), stored_role=True)
    assert refused.value.errors == {"role": [f"Object with uuid={'d' * 32} does not exist."]}
    assert ports.grants.for_user(ALICE) == [] and _users_count(ports) == 0


# --- invitations -----------------------------------------------------------------------------------
def _invitation(number: int, customer_id: str = ACME, **fields: Any) -> Invitation:
    fields = {"created": NOW, **fields}
    return Invitation(
        id=f"{number:032x}",
        customer_id=customer_id,
        scope_type=ScopeType.CUSTOMER,
        scope_id=customer_id,
        role_id=OWNER,
        email=f"guest{number}@example.org",
        created_by_username="boss",
        full_name="Guest",
        version=1,
        **fields,
    )


def _invite(ports: Ports, invitation: Invitation) -> Invitation:
    uow = ports.unit_of_work()
    ports.invitations.add(uow, invitation)
    uow.commit()
    return invitation


def test_an_invitation_is_found_by_its_customer_and_by_id(ports: Ports) -> None:
    first, second = _invite(ports, _invitation(1)), _invite(ports, _invitation(2))
    other = _invite(ports, _invitation(3, GLOBEX))
    assert ports.invitations.get(ACME, first.id) == first and ports.invitations.get(GLOBEX, first.id) is None
    assert ports.invitations.load(other.id) == other and ports.invitations.load("f" * 32) is None
    assert ports.invitations.for_customer(ACME) == [first, second]
    with pytest.raises(Conflict):
        _invite(ports, first)


def test_a_transition_bumps_the_version_and_a_stale_one_loses(ports: Ports) -> None:
    before = _invite(ports, _invitation(1))
    canceled = replace(before, state=InvitationState.CANCELED)
    uow = ports.unit_of_work()
    ports.invitations.save_transition(uow, before, canceled)
    uow.commit()
    assert ports.invitations.load(before.id) == replace(canceled, version=2)
    stale = ports.unit_of_work()
    ports.invitations.save_transition(stale, before, replace(before, state=InvitationState.ACCEPTED))
    with pytest.raises(Conflict):
        stale.commit()
    assert ports.invitations.load(before.id) == replace(canceled, version=2)


def test_pending_invitations_are_found_by_the_hour_their_week_ends(ports: Ports) -> None:
    first = _invite(ports, _invitation(1))
    later = _invite(ports, _invitation(2, created=NOW + timedelta(hours=2)))
    assert ports.invitations.pending_in(first.expires) == [first]
    assert ports.invitations.pending_in(later.expires) == [later]
    uow = ports.unit_of_work()
    ports.invitations.save_transition(uow, first, replace(first, state=InvitationState.EXPIRED))
    uow.commit()
    assert ports.invitations.pending_in(first.expires) == []
    resent = replace(first, state=InvitationState.PENDING, created=NOW + timedelta(hours=2))
    uow = ports.unit_of_work()
    ports.invitations.save_transition(uow, replace(first, state=InvitationState.EXPIRED, version=2), resent)
    uow.commit()
    assert ports.invitations.pending_in(later.expires) == [replace(resent, version=3), later]


def test_mail_bookkeeping_changes_no_version_and_needs_the_invitation(ports: Ports) -> None:
    invitation = _invite(ports, _invitation(1))
    ports.invitations.set_token_hash(invitation, "ab" * 32)
    ports.invitations.set_execution_state(invitation, ExecutionState.ERRED, "mailbox full")
    stored = ports.invitations.load(invitation.id)
    assert stored == replace(
        invitation, token_hash="ab" * 32, execution_state=ExecutionState.ERRED, error_message="mailbox full"
    )
    ports.invitations.set_execution_state(invitation, ExecutionState.OK)
    assert ports.invitations.load(invitation.id) == replace(
        stored, execution_state=ExecutionState.OK, error_message=""
    )
    with pytest.raises(NotFound):
        ports.invitations.set_token_hash(_invitation(9), "cd" * 32)
    with pytest.raises(NotFound):
        ports.invitations.set_execution_state(_invitation(9), ExecutionState.OK)


def test_every_invitation_newest_first_with_its_total(ports: Ports, request: pytest.FixtureRequest) -> None:
    invited = [_invite(ports, _invitation(n, ACME if n % 2 else GLOBEX)) for n in range(1, 4)]
    if not isinstance(ports.grants, FakeGrants):
        request.getfixturevalue("settle")()  # the store's total comes from the stream
    assert ports.invitations.read_all() == invited[::-1]
    page = ports.invitations.page_all(PageRequest(page=1, page_size=2))
    assert (page.items, page.total) == (invited[:0:-1], 3)
    page = ports.invitations.page_all(PageRequest(page=2, page_size=2), newest_first=False)
    assert (page.items, page.total) == (invited[2:], 3)
