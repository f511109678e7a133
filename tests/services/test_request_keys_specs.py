"""Creations safe to retry (services/request_keys.py) and the request's deadline
(domain/deadline.py), specified on the in-memory fakes: two requests with one key that both miss
the key's lookup race on its write and the loser answers the winner's object; a key is forgotten
after a day; a unit of work past its request's deadline writes nothing (ServiceUnavailable)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import clock, deadline
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.domain.ids import new_id
from chalicelib.domain.request_keys import KeyUse
from chalicelib.services import customers, ports
from tests.fakes import World

STAFF = Principal(user_id=new_id(), username="staff", is_staff=True)
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def at() -> Iterator[list[datetime]]:
    """The fake clock: set `at[0]` to move it."""
    now = [NOW]
    clock.set_source(lambda: now[0])
    yield now
    clock.set_source(None)


def keyed(key: str, request_hash: str = "h") -> EventContext:
    return EventContext(principal=STAFF, request_key=KeyUse(key, request_hash))


def _customers(world: World) -> list[Any]:
    return list(world.table("customers").values())


def test_two_requests_with_one_key_that_both_missed_it_make_one_customer(
    fakes: World, at: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = customers.create_customer(keyed("k-1"), {"name": "Acme"})
    # The second request read the key before the first committed: its lookup finds nothing.
    monkeypatch.setattr(ports.current().request_keys, "find", lambda *_: None)
    events = len(fakes.events)
    second = customers.create_customer(keyed("k-1"), {"name": "Acme"})
    assert second.id == first.id
    assert [c.id for c in _customers(fakes)] == [first.id] and len(fakes.events) == events


def test_a_key_is_forgotten_after_a_day(fakes: World, at: list[datetime]) -> None:
    first = customers.create_customer(keyed("k-1"), {"name": "Acme"})
    at[0] = NOW + timedelta(hours=23)
    assert customers.create_customer(keyed("k-1"), {"name": "Acme"}).id == first.id
    at[0] = NOW + timedelta(days=1, seconds=1)
    assert customers.create_customer(keyed("k-1"), {"name": "Acme"}).id != first.id


def test_past_the_requests_deadline_a_unit_of_work_writes_nothing(fakes: World, at: list[datetime]) -> None:
    started = deadline.begin(20)
    try:
        at[0] = NOW + timedelta(seconds=19)
        made = customers.create_customer(keyed("k-1"), {"name": "In time"})
        at[0] = NOW + timedelta(seconds=20)
        with pytest.raises(ServiceUnavailable) as late:
            customers.create_customer(keyed("k-2"), {"name": "Late"})
    finally:
        deadline.end(started)
    assert late.value.retry_after == 1
    assert [c.id for c in _customers(fakes)] == [made.id]  # the late one, its key and its event: none
    assert customers.create_customer(keyed("k-2"), {"name": "Late"}).id != made.id  # no deadline now


def test_without_a_deadline_or_with_none_set_nothing_is_refused(fakes: World, at: list[datetime]) -> None:
    started = deadline.begin(0)
    try:
        at[0] = NOW + timedelta(days=365)
        customers.create_customer(replace(keyed("k-1"), request_key=None), {"name": "Acme"})
    finally:
        deadline.end(started)
    assert len(_customers(fakes)) == 1
