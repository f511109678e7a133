"""The outbox's guarantee: a change and its event commit together or not at all.

A crash injected between building a change and committing it leaves neither the change nor its
event (nor a feed copy); the same command run to completion leaves exactly one event record per
event it writes, with exactly one copy in the feed of each scope the event concerns, equal to the
record. A transaction DynamoDB refuses (a quota, a stale version) leaves no event either.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, QuotaExceeded
from tests.outbox_checks import event_ids, new_events, outbox_problems, scan, snapshot
from tests.outbox_commands import COMMANDS, SLUG_NUMBER, Case, World, build_world, fail_login


class ProcessDied(BaseException):
    """The Lambda was killed (timeout, out of memory) after building a transaction and before
    sending it. A BaseException, as a kill is: no `except Exception` in the code may survive it."""


@dataclass
class Built:
    """What the crashed transaction would have written: item kinds by operation."""

    puts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[dict[str, Any]] = field(default_factory=list)

    def types_put(self) -> list[str]:
        return [p["Item"].get("type", {}).get("S", "") for p in self.puts]


class CommitCrash:
    """Swaps the send of every TransactWriteItems (pynamodb's `TransactWrite._commit`, which runs
    once the unit of work has added all its operations) for a crash, at the `at`-th commit."""

    def __init__(self) -> None:
        self.at: int | None = None
        self.commits = 0
        self.built: Built | None = None

    def arm(self, at: int = 1) -> None:
        self.at, self.commits, self.built = at, 0, None

    def disarm(self) -> None:
        self.at = None


@pytest.fixture
def crash(monkeypatch) -> CommitCrash:
    from pynamodb.transactions import TransactWrite

    switch = CommitCrash()
    send = TransactWrite._commit

    def commit_or_die(tx: TransactWrite) -> Any:
        if switch.at is not None:
            switch.commits += 1
            if switch.commits == switch.at:
                switch.built = Built(list(tx._put_items), list(tx._update_items), list(tx._delete_items))
                raise ProcessDied
        return send(tx)

    monkeypatch.setattr(TransactWrite, "_commit", commit_or_die)
    return switch


@pytest.fixture
def world(aws, monkeypatch) -> World:
    from chalicelib.config import reset_settings
    from chalicelib.local.aws import create_queues
    from chalicelib.workflows import queues

    monkeypatch.setenv("CIRRUS_EMAIL_BACKEND", "local")
    reset_settings()
    queues._lookup_url.cache_clear()
    create_queues(visibility_timeout=30)
    yield build_world()
    queues._lookup_url.cache_clear()


def _case(name: str) -> Case:
    """A command's case by `<module>.<function>` or `<module>.<function>[<label>]`."""
    command, _, label = name.partition("[")
    cases = COMMANDS[f"chalicelib.services.{command}"].cases
    return next(c for c in cases if c.label == label.rstrip("]")) if label else cases[0]


def _items_of_type(*types: str) -> list[dict[str, Any]]:
    return [i for i in scan() if i.get("type", {}).get("S") in types]


REPRESENTATIVE = [
    "customers.create_customer",
    "customers.update_customer[rename]",
    "customers.delete_customer",
    "projects.create_project",
    "projects.update_project",
    "projects.delete_project",
    "users.create_user",
    "users.update_user",
    "memberships.add_user",
    "memberships.update_user",
    "memberships.delete_user",
    "invitations.create_invitation",
    "invitations.accept",
    "invitations.cancel",
    "roles.create_role",
    "roles.update_role[disable and describe]",
    "auth.login[wrong password]",
    "invoices.set_paid",
    "invoices.update_item",
    "invoices.delete_item",
]


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_a_crash_at_commit_leaves_neither_the_change_nor_its_event_and_a_rerun_writes_each_event_once(
    name, world, crash
):
    case = _case(name)
    prepared = case.setup(world)
    before, events_before = snapshot(skip=case.outside), event_ids()
    records_before = len(_items_of_type("event", "feed_entry"))

    # WHEN the process dies with the command's first transaction built but not sent
    crash.arm()
    with pytest.raises(ProcessDied):
        case.act(world, prepared)
    crash.disarm()

    # THEN that transaction held a change and its event record with its feed copies ...
    assert crash.built is not None
    put = Counter(crash.built.types_put())
    changes = len(crash.built.updates) + len(crash.built.deletes)
    changes += sum(n for kind, n in put.items() if kind not in ("event", "feed_entry"))
    assert put["event"] >= 1 and put["feed_entry"] >= 0
    assert changes > 0, "an event alone: its change was written elsewhere"
    # ... and nothing of it (or of anything else but its declared bookkeeping) reached the table
    assert snapshot(skip=case.outside) == before
    assert len(_items_of_type("event", "feed_entry")) == records_before

    # WHEN the command runs again, to completion
    case.act(world, prepared)

    # THEN each of its events has exactly one record and one copy per scope, equal to the record
    written = new_events(events_before)
    assert Counter(e.event_type for e in written) == Counter(case.events)
    assert outbox_problems(written) == []


def test_a_crash_midway_through_a_multi_step_command_keeps_each_committed_step_with_its_event(world, crash):
    """Deleting a customer revokes its team (a transaction each), then deletes it: dying before the
    last step leaves the revocations that committed, each with its event, and nothing else."""
    from chalicelib.services import customers
    from chalicelib.store import customers as customer_store
    from chalicelib.store import grants

    initech = customers.create_customer(world.ctx, {"name": "Initech"})
    world.grant(world.alice, "CUSTOMER.OWNER", world.customer_scope(initech))
    world.grant(world.staff, "CUSTOMER.SUPPORT", world.customer_scope(initech))
    before = event_ids()

    crash.arm(at=3)  # two revocations commit; the customer's deletion dies
    with pytest.raises(ProcessDied):
        customers.delete_customer(world.ctx, initech.id)
    crash.disarm()
    assert crash.built is not None
    assert crash.built.deletes and "event" in crash.built.types_put()  # the customer's deletion

    written = new_events(before)
    assert Counter(e.event_type for e in written) == Counter({"role_revoked": 2})
    assert outbox_problems(written) == []
    assert grants.for_customer(initech.id) == []
    assert customer_store.get(initech.id) is not None  # its deletion did not commit

    # the command finishes on a second run, with the one event left to write
    customers.delete_customer(world.ctx, initech.id)
    written = new_events(before)
    assert Counter(e.event_type for e in written) == Counter(
        {"role_revoked": 2, "customer_deletion_succeeded": 1}
    )
    assert outbox_problems(written) == []


def test_a_project_deletion_cut_short_after_its_team_was_revoked_completes_when_run_again(world, crash):
    from chalicelib.domain.roles import ScopeType
    from chalicelib.services import projects
    from chalicelib.store import grants

    world.grant(world.alice, "PROJECT.ADMIN", world.project_scope())
    before = event_ids()

    crash.arm(at=2)  # the team's revocation commits; the project's deletion dies
    with pytest.raises(ProcessDied):
        projects.delete_project(world.ctx, world.project.id)
    crash.disarm()

    assert [e.event_type for e in new_events(before)] == ["role_revoked"]
    assert grants.for_scope(world.customer.id, ScopeType.PROJECT, world.project.id) == []
    assert projects.get_visible(world.ctx.actor, world.project.id)  # still there to delete again
    projects.delete_project(world.ctx, world.project.id)
    written = new_events(before)
    assert Counter(e.event_type for e in written) == Counter(
        {"role_revoked": 1, "project_deletion_succeeded": 1}
    )
    assert outbox_problems(written) == []


# --- DynamoDB refuses the transaction: no event ------------------------------------------------------
def test_a_project_refused_by_a_full_quota_leaves_no_event(world):
    from chalicelib.services import projects
    from chalicelib.store import keys
    from chalicelib.store.items import CustomerItem

    CustomerItem(pk=keys.customer_pk(world.customer.id), sk=keys.META).update(
        actions=[CustomerItem.quota_limits["nc_project_count"].set(1)]  # Apollo holds it
    )
    before, events_before = snapshot(skip=SLUG_NUMBER), event_ids()

    with pytest.raises(QuotaExceeded):
        projects.create_project(world.ctx, world.customer.id, {"name": "Gemini"})

    # (the slug's number, drawn before the transaction, stays drawn: a gap, as a sequence leaves)
    assert snapshot(skip=SLUG_NUMBER) == before
    assert new_events(events_before) == []


def test_an_update_from_a_stale_read_loses_and_leaves_only_the_winners_event(world, monkeypatch):
    from chalicelib.services import projects

    stale = projects.for_change(world.ctx.actor, world.project.id)
    projects.update_project(world.ctx, world.project.id, {"description": "first"})  # the winner
    before, events_before = snapshot(), event_ids()

    monkeypatch.setattr(projects, "for_change", lambda principal, project_id: stale)
    with pytest.raises(Conflict):
        projects.update_project(world.ctx, world.project.id, {"description": "second"})

    assert snapshot() == before
    assert new_events(events_before) == []


def test_accepting_an_invitation_canceled_meanwhile_grants_nothing_and_logs_nothing(world, monkeypatch):
    from chalicelib.services import invitations
    from chalicelib.store import grants
    from chalicelib.store import invitations as invitation_store

    view = world.invite()
    stale = invitation_store.load(view.invitation.id)
    invitations.cancel(world.ctx, view.invitation.id)  # lands between the accept's read and its write
    before, events_before = snapshot(), event_ids()

    monkeypatch.setattr(invitation_store, "load", lambda invitation_id: stale)
    with pytest.raises(Conflict):
        invitations.accept(world.acting(world.alice), view.invitation.id)

    assert snapshot() == before
    assert new_events(events_before) == []  # neither role_granted nor invitation_accepted
    assert [g for g in grants.for_user(world.alice.id)] == []


def test_two_failed_logins_racing_to_open_a_window_both_count_each_with_its_event(world, monkeypatch):
    from chalicelib.store import tokens

    fail_login(world)  # opens the window
    before = event_ids()
    read = tokens.login_failures
    reads = []

    def first_read_stale(username: str, ip: str) -> Any:
        reads.append(username)
        return None if len(reads) == 1 else read(username, ip)  # as if read before the window opened

    monkeypatch.setattr(tokens, "login_failures", first_read_stale)
    fail_login(world)

    assert read("alice", "10.0.0.8").count == 2
    written = new_events(before)
    assert [e.event_type for e in written] == ["auth_login_failed_with_username"]
    assert outbox_problems(written) == []


def test_the_injected_crash_hits_only_the_commit_it_is_armed_for(world, crash):
    from chalicelib.services import projects

    crash.arm(at=2)
    projects.update_project(world.ctx, world.project.id, {"description": "first"})
    with pytest.raises(ProcessDied):
        projects.update_project(world.ctx, world.project.id, {"description": "second"})
    crash.disarm()
    assert projects.get_visible(world.ctx.actor, world.project.id).description == "first"
