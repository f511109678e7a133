"""Memberships and invitations, specified on the in-memory fakes (no AWS): granting and revoking
roles, expiry, member counts, who may grant what, the views of teams, and invitations from creation
to acceptance, cancelation and expiry.

Customers and projects have no port yet: `spec` points the membership services' customer and
project lookups at the fakes of the same world (tests/fakes/organizations.py) until they do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.domain import invitations as invitation_rules
from chalicelib.domain.context import EventContext
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import NotFound, PermissionDenied, QuotaExceeded, ValidationError
from chalicelib.domain.invitations import InvitationState
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import USER_COUNT
from chalicelib.domain.rbac import Scope
from chalicelib.domain.roles import SYSTEM_ROLES, Role, ScopeType
from chalicelib.domain.users import User
from chalicelib.services import access, invitations, memberships, ports, teams
from chalicelib.services.effects import Enqueue
from chalicelib.services.paging import Ordering, PageRequest
from tests.fakes import World
from tests.fakes.organizations import FakeCustomers, FakeProjects

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
OWNER = SYSTEM_ROLES["CUSTOMER.OWNER"].id
ADMIN = SYSTEM_ROLES["PROJECT.ADMIN"].id
MANAGER = SYSTEM_ROLES["PROJECT.MANAGER"].id


@dataclass
class Spec:
    world: World
    customers: FakeCustomers
    users: dict[str, User]
    scopes: dict[str, Scope]

    def ctx(self, username: str) -> EventContext:
        return EventContext(principal=self.users[username].principal())

    def grant(self, who: str, scope: str, user: str, role: str, expires: datetime | None = None) -> None:
        memberships.add_user(self.ctx(who), self.scopes[scope], self.users[user].id, role, expires)

    def users_count(self, customer: str = "acme") -> int:
        found = self.customers.get(self.scopes[customer].id)
        assert found is not None
        return found.users_count

    def events(self, prefix: str) -> list[str]:
        return [e.event_type for e in self.world.events if e.event_type.startswith(prefix)]


def _commit_each(*writes: object) -> None:
    for write in writes:
        uow = ports.unit_of_work()
        write(uow)  # type: ignore[operator]
        uow.commit()


@pytest.fixture
def spec(fakes: World) -> Iterator[Spec]:
    """Staff, alice, bob, carol (who signs in as carol@example.org); customers Acme (projects
    Apollo, Gemini) and Globex (project Zeus). The clock stands at NOW."""
    customers, projects = FakeCustomers(fakes), FakeProjects(fakes)
    clock.set_source(lambda: NOW)
    users = {
        name: User(id=f"{n:02d}" * 16, username=name, date_joined=NOW, email=f"{name}@example.org", **extra)
        for n, (name, extra) in enumerate(
            [("staff", {"is_staff": True}), ("alice", {}), ("bob", {"full_name": "Bob B"}), ("carol", {})],
            start=1,
        )
    }
    acme = Customer(id="c1" * 16, name="Acme", created=NOW)
    globex = Customer(id="c2" * 16, name="Globex", created=NOW)
    made = [
        Project(id="f1" * 16, customer_id=acme.id, name="Apollo", created=NOW),
        Project(id="f2" * 16, customer_id=acme.id, name="Gemini", created=NOW),
        Project(id="f3" * 16, customer_id=globex.id, name="Zeus", created=NOW),
    ]
    _commit_each(
        *(lambda uow, u=u: ports.users.add(uow, u) for u in users.values()),
        *(lambda uow, c=c: customers.add(uow, c) for c in (acme, globex)),
        *(lambda uow, p=p: projects.add(uow, p) for p in made),
    )
    scopes = {
        "acme": Scope(ScopeType.CUSTOMER, acme.id, acme.id, "Acme"),
        "globex": Scope(ScopeType.CUSTOMER, globex.id, globex.id, "Globex"),
        **{p.name: Scope(ScopeType.PROJECT, p.id, p.customer_id, p.name) for p in made},
    }
    yield Spec(fakes, customers, users, scopes)


# --- granting and revoking -------------------------------------------------------------------------
def test_a_member_counts_once_in_their_customer_and_leaves_with_their_last_role(spec: Spec) -> None:
    spec.grant("staff", "acme", "alice", OWNER)
    spec.grant("staff", "Apollo", "bob", ADMIN)
    spec.grant("staff", "Gemini", "bob", MANAGER)
    assert spec.users_count() == 2 and spec.users_count("globex") == 0
    memberships.delete_user(spec.ctx("alice"), spec.scopes["Apollo"], spec.users["bob"].id, ADMIN)
    assert spec.users_count() == 2
    memberships.delete_user(spec.ctx("staff"), spec.scopes["Gemini"], spec.users["bob"].id, MANAGER)
    assert spec.users_count() == 1
    assert spec.events("role_") == ["role_granted"] * 3 + ["role_revoked"] * 2


def test_a_new_member_beyond_the_user_quota_is_refused_and_nothing_is_recorded(spec: Spec) -> None:
    acme = spec.customers.get(spec.scopes["acme"].id)
    assert acme is not None
    _commit_each(lambda uow: spec.customers.set_quota_limits(uow, acme, {USER_COUNT: 1}))
    spec.grant("staff", "acme", "alice", OWNER)
    spec.grant("staff", "Apollo", "alice", ADMIN)  # the same member
    with pytest.raises(QuotaExceeded):
        spec.grant("staff", "Apollo", "bob", ADMIN)
    assert spec.users_count() == 1 and spec.events("role_") == ["role_granted"] * 2
    assert ports.grants.for_user(spec.users["bob"].id) == []


@pytest.mark.parametrize(
    ("scope", "user", "role", "expires", "error"),
    [
        ("acme", "alice", OWNER, None, ["User has already the same role in this scope."]),
        ("acme", "alice", "PROJECT.ADMIN", None, ["Role is not valid for this scope."]),
        (
            "Apollo",
            "alice",
            ADMIN,
            NOW - timedelta(days=1),
            ["Expiration time should be greater than current time."],
        ),
        ("acme", "ghost", OWNER, None, {"user": [f"Object with uuid={'0' * 32} does not exist."]}),
        ("acme", "alice", "NO.SUCH", None, {"role": ["Object with name=NO.SUCH does not exist."]}),
    ],
)
def test_a_bad_grant_is_refused_with_waldurs_words(
    spec: Spec, scope: str, user: str, role: str, expires: datetime | None, error: object
) -> None:
    spec.grant("staff", "acme", "alice", OWNER)
    spec.users["ghost"] = User(id="0" * 32, username="ghost", date_joined=NOW)  # never stored
    with pytest.raises(ValidationError) as refused:
        spec.grant("staff", scope, user, role, expires)
    assert refused.value.errors == error
    assert spec.events("role_") == ["role_granted"]


def test_revoking_a_role_nobody_holds_is_refused(spec: Spec) -> None:
    with pytest.raises(ValidationError) as refused:
        memberships.delete_user(spec.ctx("staff"), spec.scopes["Apollo"], spec.users["alice"].id, ADMIN)
    assert refused.value.errors == ["User does not have this role in this scope."]


def test_who_may_grant_what(spec: Spec) -> None:
    spec.grant("staff", "acme", "alice", OWNER)
    with pytest.raises(PermissionDenied):  # owners do not make owners
        spec.grant("alice", "acme", "bob", OWNER)
    spec.grant("alice", "Apollo", "bob", ADMIN)
    with pytest.raises(PermissionDenied):  # an admin does not hand out roles
        spec.grant("bob", "Apollo", "carol", ADMIN)
    spec.grant("alice", "Apollo", "carol", MANAGER)
    spec.grant("carol", "Apollo", "staff", "PROJECT.MEMBER")  # a manager staffs their project...
    with pytest.raises(PermissionDenied):  # ...but gives nothing they do not hold
        spec.grant("carol", "acme", "bob", "CUSTOMER.SUPPORT")
    with pytest.raises(NotFound):  # and a project they do not see is not there
        memberships.visible_scope(spec.ctx("carol").actor, ScopeType.PROJECT, spec.scopes["Gemini"].id)


def test_a_custom_roles_holders_move_with_its_grants_and_system_roles_match_the_grants(spec: Spec) -> None:
    auditor = Role(id="e" * 32, name="auditor", content_type=ScopeType.PROJECT, permissions=frozenset())
    _commit_each(lambda uow: ports.roles.add(uow, auditor))
    spec.grant("staff", "Apollo", "alice", "auditor")
    spec.grant("staff", "Gemini", "alice", "auditor")
    spec.grant("staff", "Apollo", "bob", ADMIN)
    counted = {
        r.id: r.users_count for r in ports.roles.with_users_counts(list(ports.roles.all_roles().values()))
    }
    assert (counted[auditor.id], counted[ADMIN], counted[OWNER]) == (2, 1, 0)
    memberships.delete_user(spec.ctx("staff"), spec.scopes["Apollo"], spec.users["alice"].id, "auditor")
    counted = {r.id: r.users_count for r in ports.roles.with_users_counts([auditor])}
    assert counted[auditor.id] == 1


# --- expiry ----------------------------------------------------------------------------------------
def test_an_expiring_role_ends_at_its_second_and_the_job_revokes_it_once(spec: Spec) -> None:
    ends = NOW + timedelta(minutes=20)
    spec.grant("staff", "Apollo", "alice", ADMIN, ends)
    alice = spec.ctx("alice").actor
    clock.set_source(lambda: ends - timedelta(seconds=1))
    assert access.access(alice).sees_scope(spec.scopes["Apollo"])
    clock.set_source(lambda: ends + timedelta(seconds=1))
    assert not access.access(alice).sees_scope(spec.scopes["Apollo"])  # before any job ran
    assert spec.users_count() == 1
    hours = [ends - timedelta(hours=1), ends]
    assert memberships.revoke_expired(ends + timedelta(seconds=1), hours) == 1
    assert memberships.revoke_expired(ends + timedelta(seconds=1), hours) == 0
    assert spec.users_count() == 0 and spec.events("role_") == ["role_granted", "role_revoked"]


def test_moving_an_expiry_moves_it_to_the_job_of_its_new_hour(spec: Spec) -> None:
    soon, later = NOW + timedelta(minutes=20), NOW + timedelta(days=2)
    spec.grant("staff", "Apollo", "alice", ADMIN, soon)
    memberships.update_user(spec.ctx("staff"), spec.scopes["Apollo"], spec.users["alice"].id, ADMIN, later)
    assert memberships.revoke_expired(soon + timedelta(hours=1), [soon]) == 0
    assert memberships.revoke_expired(later, [later]) == 1
    assert spec.events("role_") == ["role_granted", "role_updated", "role_revoked"]


# --- views -----------------------------------------------------------------------------------------
def test_a_team_is_filtered_ordered_and_paged(spec: Spec) -> None:
    for user in ("alice", "bob", "carol"):
        spec.grant("staff", "Apollo", user, ADMIN if user != "carol" else MANAGER)
    apollo, staff = spec.scopes["Apollo"], spec.ctx("staff").actor
    page = teams.list_members(
        staff, apollo, teams.MemberFilters(), Ordering("username", True), PageRequest(1, 2)
    )
    assert ([m.user.username for m in page.items], page.total) == (["carol", "bob"], 3)
    found = teams.list_members(
        staff, apollo, teams.MemberFilters(role="PROJECT.ADMIN"), Ordering(), PageRequest()
    )
    assert sorted(m.user.username for m in found.items) == ["alice", "bob"]
    found = teams.list_members(
        staff, apollo, teams.MemberFilters(search_string="bob b"), Ordering(), PageRequest()
    )
    assert [m.user.username for m in found.items] == ["bob"]


def test_a_customers_people_are_for_those_who_see_the_whole_customer(spec: Spec) -> None:
    spec.grant("staff", "acme", "alice", OWNER)
    spec.grant("staff", "Apollo", "bob", ADMIN)
    spec.grant("staff", "Gemini", "bob", MANAGER)
    spec.grant("staff", "Zeus", "carol", ADMIN)
    acme = spec.scopes["acme"]
    page = teams.list_people(
        spec.ctx("alice").actor, acme, teams.PeopleFilters(), Ordering("username", True), PageRequest()
    )
    assert [p.user.username for p in page.items] == ["bob", "alice"] and page.total == 2
    bob = page.items[0]
    assert sorted((name, role.name) for _, name, role, _ in bob.projects) == [
        ("Apollo", "PROJECT.ADMIN"),
        ("Gemini", "PROJECT.MANAGER"),
    ]
    owners = teams.list_people(
        spec.ctx("staff").actor,
        acme,
        teams.PeopleFilters(organization_role=("CUSTOMER.OWNER",)),
        Ordering(),
        PageRequest(),
    )
    assert [p.user.username for p in owners.items] == ["alice"]
    with pytest.raises(PermissionDenied):
        teams.list_people(spec.ctx("bob").actor, acme, teams.PeopleFilters(), Ordering(), PageRequest())


def test_staff_see_every_permission_and_others_their_own(spec: Spec) -> None:
    spec.grant("staff", "acme", "alice", OWNER)
    spec.grant("staff", "Zeus", "alice", ADMIN)
    spec.grant("staff", "Zeus", "bob", ADMIN)
    mine = teams.list_permissions(
        spec.ctx("alice").actor, teams.PermissionFilters(), Ordering(), PageRequest()
    )
    assert sorted((v.scope.name, v.customer_name, v.role.name) for v in mine.items) == [
        ("Acme", "Acme", "CUSTOMER.OWNER"),
        ("Zeus", "Globex", "PROJECT.ADMIN"),
    ]
    everybody = teams.list_permissions(
        spec.ctx("staff").actor, teams.PermissionFilters(), Ordering(), PageRequest()
    )
    assert everybody.total == 3
    bobs = next(g for g in ports.grants.for_user(spec.users["bob"].id))
    with pytest.raises(NotFound):
        teams.get_permission(spec.ctx("alice").actor, bobs.id)
    assert teams.get_permission(spec.ctx("staff").actor, bobs.id).user.id == spec.users["bob"].id  # type: ignore[union-attr]


# --- invitations -----------------------------------------------------------------------------------
def _url(spec: Spec, scope: str) -> str:
    found = spec.scopes[scope]
    collection = "customers" if found.type is ScopeType.CUSTOMER else "projects"
    return f"https://cirrus.example/api/{collection}/{found.id}/"


def _invite(
    spec: Spec, who: str, scope: str, role: str, email: str = "carol@example.org", **details: str
) -> str:
    view = invitations.create_invitation(spec.ctx(who), _url(spec, scope), role, email, details)
    return view.invitation.id


def test_an_owner_invites_and_the_invitee_accepts_by_their_email(spec: Spec) -> None:
    spec.grant("staff", "acme", "alice", OWNER)
    invitation_id = _invite(spec, "alice", "Apollo", "PROJECT.ADMIN")
    assert [e for e in spec.world.effects if isinstance(e, Enqueue)][-1].task == invitations.SEND_EMAIL_TASK
    view = invitations.accept(spec.ctx("carol"), invitation_id)
    assert view.state is InvitationState.ACCEPTED
    assert [g.role_id for g in ports.grants.for_user(spec.users["carol"].id)] == [ADMIN]
    assert spec.users_count() == 2
    assert spec.events("invitation_") == ["invitation_created", "invitation_accepted"]
    with pytest.raises(NotFound):  # accepted: nothing left to accept
        invitations.accept(spec.ctx("carol"), invitation_id)


def test_someone_else_accepts_only_with_the_token_of_the_latest_mail(spec: Spec) -> None:
    invitation_id = _invite(spec, "staff", "acme", "CUSTOMER.OWNER", email="someone@example.org")
    with pytest.raises(NotFound):  # holding the uuid is not enough
        invitations.accept(spec.ctx("bob"), invitation_id)
    stored = ports.invitations.load(invitation_id)
    assert stored is not None
    old, old_hash = invitation_rules.new_token()
    ports.invitations.set_token_hash(stored, old_hash)
    token, token_hash = invitation_rules.new_token()
    ports.invitations.set_token_hash(stored, token_hash)  # a newer mail
    with pytest.raises(NotFound):
        invitations.accept(spec.ctx("bob"), invitation_id, old)
    assert invitations.accept(spec.ctx("bob"), invitation_id, token).state is InvitationState.ACCEPTED
    assert [g.role_id for g in ports.grants.for_user(spec.users["bob"].id)] == [OWNER]


def test_a_role_already_held_is_refused_and_the_invitation_stays_pending(spec: Spec) -> None:
    spec.grant("staff", "acme", "carol", OWNER)
    invitation_id = _invite(spec, "staff", "acme", "CUSTOMER.OWNER")
    with pytest.raises(ValidationError) as refused:
        invitations.accept(spec.ctx("carol"), invitation_id)
    assert refused.value.errors == ["User has already the same role in this scope."]
    stored = ports.invitations.load(invitation_id)
    assert stored is not None and stored.state is InvitationState.PENDING


def test_a_lapsed_role_not_yet_revoked_is_replaced_by_the_accepted_one(spec: Spec) -> None:
    ends = NOW + timedelta(minutes=20)
    spec.grant("staff", "acme", "carol", OWNER, ends)
    invitation_id = _invite(spec, "staff", "acme", "CUSTOMER.OWNER")
    clock.set_source(lambda: ends + timedelta(minutes=1))
    invitations.accept(spec.ctx("carol"), invitation_id)
    (grant,) = ports.grants.for_user(spec.users["carol"].id)
    assert grant.expiration_time is None and spec.users_count() == 1
    assert spec.events("role_") == ["role_granted", "role_revoked", "role_granted"]


def test_who_may_invite_and_who_sees_the_invitations(spec: Spec) -> None:
    spec.grant("staff", "acme", "alice", OWNER)
    spec.grant("staff", "Apollo", "bob", ADMIN)
    to_acme = _invite(spec, "alice", "Apollo", "PROJECT.MEMBER")
    to_globex = _invite(spec, "staff", "globex", "CUSTOMER.OWNER", email="x@example.org")
    with pytest.raises(PermissionDenied):  # owners do not make owners
        _invite(spec, "alice", "acme", "CUSTOMER.OWNER")
    with pytest.raises(PermissionDenied):  # a project admin does not invite
        _invite(spec, "bob", "Apollo", "PROJECT.MEMBER")
    with pytest.raises(ValidationError) as refused:  # a scope they do not see reads as missing
        _invite(spec, "alice", "Zeus", "PROJECT.MEMBER")
    assert list(refused.value.errors) == ["scope"]

    def listed(who: str) -> list[str]:
        page = invitations.list_invitations(
            spec.ctx(who).actor, invitations.InvitationFilters(), Ordering(), PageRequest()
        )
        return [v.invitation.id for v in page.items]

    assert listed("staff") == [to_globex, to_acme]  # newest first
    assert listed("alice") == [to_acme]
    assert listed("bob") == []
    with pytest.raises(NotFound):
        invitations.retrieve(spec.ctx("bob").actor, to_acme)


def test_cancel_then_send_again_for_a_new_week(spec: Spec) -> None:
    invitation_id = _invite(spec, "staff", "acme", "CUSTOMER.OWNER")
    canceled = invitations.cancel(spec.ctx("staff"), invitation_id)
    assert canceled.state is InvitationState.CANCELED
    with pytest.raises(NotFound):
        invitations.accept(spec.ctx("carol"), invitation_id)
    later = NOW + timedelta(days=3)
    clock.set_source(lambda: later)
    sent = invitations.send(spec.ctx("staff"), invitation_id)
    assert (sent.state, sent.invitation.created, sent.invitation.version) == (
        InvitationState.PENDING,
        later,
        3,
    )
    sends = [
        e for e in spec.world.effects if isinstance(e, Enqueue) and e.task == invitations.SEND_EMAIL_TASK
    ]
    assert len(sends) == 2
    assert spec.events("invitation_") == ["invitation_created", "invitation_canceled", "invitation_updated"]
    assert invitations.accept(spec.ctx("carol"), invitation_id).state is InvitationState.ACCEPTED


def test_the_hourly_job_expires_what_is_a_week_old_and_nothing_else(spec: Spec) -> None:
    old = _invite(spec, "staff", "acme", "CUSTOMER.OWNER")
    clock.set_source(lambda: NOW + timedelta(hours=2))
    newer = _invite(spec, "staff", "globex", "CUSTOMER.OWNER")
    week_end = NOW + invitation_rules.LIFETIME
    clock.set_source(lambda: week_end)
    with pytest.raises(NotFound):  # expired as of now, before any job ran
        invitations.accept(spec.ctx("carol"), old)
    hours = [week_end - timedelta(hours=1), week_end, week_end + timedelta(hours=2)]
    assert invitations.expire_due(week_end, hours) == 1
    assert invitations.expire_due(week_end, hours) == 0
    states = {i: ports.invitations.load(i).state for i in (old, newer)}  # type: ignore[union-attr]
    assert states == {old: InvitationState.EXPIRED, newer: InvitationState.PENDING}
    assert spec.events("invitation_expired") == ["invitation_expired"]


def test_a_civil_number_restricts_who_may_accept(spec: Spec) -> None:
    invitation_id = _invite(spec, "staff", "acme", "CUSTOMER.OWNER", civil_number="EE123")
    with pytest.raises(NotFound):
        invitations.accept(spec.ctx("carol"), invitation_id)
    carol = ports.users.get(spec.users["carol"].id)
    assert carol is not None
    _commit_each(lambda uow: ports.users.save_changes(uow, carol, replace(carol, civil_number="EE123")))
    assert invitations.accept(spec.ctx("carol"), invitation_id).state is InvitationState.ACCEPTED
