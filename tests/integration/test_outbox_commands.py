"""Every services-layer command writes its documented events, in the transaction of its change.

The commands are found by inspection (public functions of chalicelib/services taking
`ctx: EventContext`) and must all be in the table of tests/outbox_commands.py, which runs each one
in a small world and says which events it writes (or why it writes none).
"""

from __future__ import annotations

from collections import Counter

import pytest

from chalicelib.domain.events import EVENT_GROUPS, all_event_types
from tests.outbox_checks import event_ids, new_events, outbox_problems, spy_writes
from tests.outbox_commands import COMMANDS, Case, World, build_world, cases, resolve, service_commands


@pytest.fixture
def world(aws, monkeypatch) -> World:
    """The world, with the work queues (invitations queue their mail) and the local mail outbox."""
    from chalicelib import mail
    from chalicelib.config import reset_settings
    from chalicelib.local.aws import create_queues
    from chalicelib.workflows import queues

    monkeypatch.setenv("CIRRUS_EMAIL_BACKEND", "local")
    reset_settings()
    queues._lookup_url.cache_clear()
    create_queues(visibility_timeout=30)
    mail.OUTBOX.clear()
    yield build_world()
    mail.OUTBOX.clear()
    queues._lookup_url.cache_clear()


# --- the table knows every command -----------------------------------------------------------------
def test_every_command_of_the_services_layer_is_in_the_table():
    unknown = sorted(service_commands() - set(COMMANDS))
    assert not unknown, (
        f"add these commands to COMMANDS in tests/outbox_commands.py with the events they write "
        f"(or no_event and why): {unknown}"
    )


def test_every_command_in_the_table_exists():
    for name in COMMANDS:
        assert callable(resolve(name)), name


def test_each_entry_either_emits_or_says_why_not():
    for name, command in COMMANDS.items():
        if command.no_event:
            assert all(not case.events for case in command.cases), name
        else:
            assert command.cases, f"{name}: give a scenario and its events"
            for case in command.cases:
                assert case.events or case.why_no_event, f"{name}[{case.label}]: why no event?"


def test_every_event_type_written_is_in_a_group_and_every_grouped_type_is_written():
    written = {t for command in COMMANDS.values() for t in command.event_types}
    assert written == set(all_event_types()), {
        "written but in no group": sorted(written - set(all_event_types())),
        "grouped but written by no command": sorted(set(all_event_types()) - written),
    }
    assert all(EVENT_GROUPS.values())


# --- each command, run -------------------------------------------------------------------------------
def _check_actor(event, case: Case, world: World) -> None:
    account = world.account(case.actor)
    context = event.context
    if account is None:
        assert "user_uuid" not in context, (event.event_type, context)
        return
    assert (context.get("user_uuid"), context.get("user_username")) == (account.id, account.username), (
        event.event_type,
        context,
    )
    assert "user_full_name" in context


@pytest.mark.parametrize(("name", "case"), cases(), ids=[name for name, _ in cases()])
def test_the_command_writes_exactly_its_events_with_their_fields_in_its_transaction(name, case, world):
    # GIVEN the world and what the scenario needs
    prepared = case.setup(world)
    before = event_ids()

    # WHEN the command runs
    with spy_writes() as spy:
        fields = case.act(world, prepared) or {}

    # THEN it wrote exactly its events ...
    written = new_events(before)
    assert Counter(e.event_type for e in written) == Counter(case.events)
    for event in written:
        _check_actor(event, case, world)
        expected = fields.get(event.event_type, {})
        assert {k: event.context.get(k) for k in expected} == dict(expected), event.event_type
        assert event.message
    # ... each with one record and one copy in the feed of each scope it concerns ...
    assert outbox_problems(written) == []
    # ... and every change went in a transaction with its event (bar declared bookkeeping)
    assert spy.problems(set(case.outside)) == []
    if not case.events:
        assert all(not w.events for w in spy.writes)
