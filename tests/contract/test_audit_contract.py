"""The audit log's reading side and hooks: the fakes and the store agree (tests/contract/conftest.py).

Events are written as services write them, by `uow.record` in a commit. The staff's log and a shared
feed (a user's) are counted by the stream consumer in the store: those tests run it (`settle`)
before they compare totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import Conflict, TooBroad
from chalicelib.domain.events import Event
from chalicelib.domain.hooks import ContentType, Hook, HookKind, Subscription
from chalicelib.domain.ids import id_bounds, new_id
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import EventQuery, Ports

ACME, BETA = "a" * 32, "b" * 32
ALICE, BOB = "1" * 32, "2" * 32
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def settle(request: pytest.FixtureRequest, ports: Ports) -> Callable[[], None]:
    """Run the store's stream consumer (lagging totals catch up); nothing to do on the fakes."""
    if "dynamodb" not in request.node.callspec.id:
        return lambda: None
    run: Callable[[], int] = request.getfixturevalue("settle")  # the store's (tests/conftest.py)

    def settled() -> None:
        run()

    return settled


def _record(ports: Ports, *events: Event) -> list[Event]:
    uow = ports.unit_of_work()
    for event in events:
        uow.record(event)
    uow.commit()
    return list(events)


def _event(customer: str | None, n: int, user: str | None = None, **context: str) -> Event:
    fields = dict(context)
    if customer is not None:
        fields["customer_uuid"] = customer
    if user is not None:
        fields["affected_user_uuid"] = user
    return Event("customer_update_succeeded", f"Event {n}", fields, customer_id=customer)


def _ids(events: list[Event]) -> list[str]:
    return [e.id for e in events]


# --- events ----------------------------------------------------------------------------------------
def test_a_feed_holds_the_events_naming_its_scope_newest_first_and_pages_with_its_total(
    ports: Ports,
) -> None:
    acme = _record(ports, *(_event(ACME, n) for n in range(3)))
    _record(ports, _event(BETA, 9))
    feed = EventQuery(("customer", ACME))
    first = ports.events.page(feed, PageRequest(1, 2))
    assert (_ids(first.items), first.total) == ([acme[2].id, acme[1].id], 3)
    second = ports.events.page(feed, PageRequest(2, 2))
    assert (_ids(second.items), second.total) == ([acme[0].id], 3)
    oldest_first = ports.events.page(replace(feed, newest_first=False), PageRequest(1, 10))
    assert _ids(oldest_first.items) == _ids(acme)
    assert first.items[0] == acme[2]  # type, message, context, customer and time as recorded
    assert ports.events.count(feed) == 3
    assert ports.events.page(EventQuery(("customer", "c" * 32)), PageRequest()).total == 0


def test_the_staff_log_holds_every_event_in_id_order(ports: Ports, settle: Callable[[], None]) -> None:
    recorded = _record(ports, _event(ACME, 1), _event(BETA, 2), _event(None, 3, user=ALICE))
    recorded += _record(ports, _event(ACME, 4))
    settle()
    everything = ports.events.page(EventQuery(), PageRequest(1, 10))
    assert (_ids(everything.items), everything.total) == (_ids(recorded)[::-1], 4)
    assert ports.events.count(EventQuery()) == 4
    assert _ids(ports.events.page(EventQuery(), PageRequest(2, 3)).items) == [recorded[0].id]


def test_a_users_feed_is_counted_once_settled(ports: Ports, settle: Callable[[], None]) -> None:
    mine = _record(ports, _event(ACME, 1, user=ALICE), _event(None, 2, user=ALICE))
    _record(ports, _event(ACME, 3, user=BOB))
    settle()
    found = ports.events.page(EventQuery(("user", ALICE)), PageRequest())
    assert (_ids(found.items), found.total) == (_ids(mine)[::-1], 2)
    assert ports.events.count(EventQuery(("user", ALICE))) == 2


def test_a_filter_keeps_what_passes_and_counts_it(ports: Ports) -> None:
    events = _record(ports, *(_event(ACME, n) for n in range(4)))
    odd = EventQuery(("customer", ACME), predicate=lambda e: e.message[-1] in "13")
    found = ports.events.page(odd, PageRequest(1, 1))
    assert (_ids(found.items), found.total) == ([events[3].id], 2)
    assert ports.events.count(odd) == 2


def test_a_time_range_keeps_the_events_made_in_it(ports: Ports) -> None:
    old = Event("customer_update_succeeded", "old", {"customer_uuid": ACME}, ACME, created=NOW)
    old = replace(old, id=_id_at(NOW))
    new = _record(ports, old, _event(ACME, 1))[1]
    since = EventQuery(("customer", ACME), id_range=id_bounds(_ms(NOW + timedelta(seconds=1)), None))
    assert _ids(ports.events.page(since, PageRequest()).items) == [new.id]
    assert ports.events.count(since) == 1
    until = EventQuery(("customer", ACME), id_range=id_bounds(None, _ms(NOW) + 999))
    assert _ids(ports.events.page(until, PageRequest()).items) == [old.id]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _id_at(moment: datetime) -> str:
    """A time-ordered id of `moment` (the first 48 bits of a UUIDv7 are its milliseconds)."""
    return f"{_ms(moment):012x}" + new_id()[12:]


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_FILTER_READ_LIMIT", "3")
    reset_settings()
    yield
    monkeypatch.delenv("CIRRUS_FILTER_READ_LIMIT")
    reset_settings()


def test_a_filter_over_more_than_the_bound_is_refused_naming_what_narrows_it(
    ports: Ports, limit: None
) -> None:
    _record(ports, *(_event(ACME, n) for n in range(4)))
    anything = EventQuery(("customer", ACME), predicate=lambda e: True)
    with pytest.raises(TooBroad) as refused:
        ports.events.page(anything, PageRequest())
    assert "scope=, customer_uuid= or project_uuid=" in refused.value.detail
    with pytest.raises(TooBroad):
        ports.events.count(anything)
    assert ports.events.page(EventQuery(("customer", ACME)), PageRequest()).total == 4  # unfiltered


def test_an_event_is_found_by_id_with_its_scopes(ports: Ports, settle: Callable[[], None]) -> None:
    (event,) = _record(ports, _event(ACME, 1, user=ALICE))
    found = ports.events.get(event.id)
    assert found is not None
    assert found[0] == event
    assert sorted(found[1]) == [("customer", ACME), ("user", ALICE)]
    assert ports.events.get(new_id()) is None


# --- hooks -----------------------------------------------------------------------------------------
def _hook(user: str = ALICE, kind: HookKind = HookKind.WEB, **fields: object) -> Hook:
    values: dict[str, object] = {
        "event_types": ("customer_update_succeeded",),
        "destination_url": "https://example.org/hook" if kind is HookKind.WEB else "",
        "email": "alice@example.org" if kind is HookKind.EMAIL else "",
        "secret": "s" * 16 if kind is HookKind.WEB else "",
        "version": 1,
        **fields,
    }
    return Hook(id=new_id(), user_id=user, kind=kind, created=NOW, modified=NOW, **values)  # type: ignore[arg-type]


def _add(ports: Ports, *hooks: Hook) -> list[Hook]:
    uow = ports.unit_of_work()
    for hook in hooks:
        ports.hooks.add(uow, hook)
    uow.commit()
    return list(hooks)


def test_a_hook_added_is_found_by_owner_and_by_kind_alone(ports: Ports) -> None:
    (web,) = _add(ports, _hook(content_type=ContentType.FORM, event_groups=("customers",)))
    assert ports.hooks.get(ALICE, HookKind.WEB, web.id) == web
    assert ports.hooks.load(HookKind.WEB, web.id) == web
    assert ports.hooks.get(BOB, HookKind.WEB, web.id) is None  # not Bob's
    assert ports.hooks.get(ALICE, HookKind.EMAIL, web.id) is None
    assert ports.hooks.load(HookKind.WEB, new_id()) is None


def test_a_users_hooks_are_listed_by_kind(ports: Ports) -> None:
    web, email = _add(ports, _hook(), _hook(kind=HookKind.EMAIL))
    _add(ports, _hook(BOB))
    assert ports.hooks.for_user(ALICE, HookKind.WEB) == [web]
    assert ports.hooks.for_user(ALICE, HookKind.EMAIL) == [email]
    assert ports.hooks.for_user(ALICE) == [email, web]  # by kind, then oldest first
    assert ports.hooks.for_user("3" * 32) == []


def test_every_hook_of_a_kind_newest_first_with_its_total(ports: Ports, settle: Callable[[], None]) -> None:
    hooks = _add(ports, _hook(), _hook(BOB), _hook(BOB, kind=HookKind.EMAIL))
    newer = _add(ports, _hook())
    settle()
    web = [newer[0], hooks[1], hooks[0]]
    assert ports.hooks.read_all(HookKind.WEB) == web
    first = ports.hooks.page_all(HookKind.WEB, PageRequest(1, 2))
    assert (first.items, first.total) == (web[:2], 3)
    assert ports.hooks.page_all(HookKind.WEB, PageRequest(2, 2)).items == web[2:]
    assert ports.hooks.page_all(HookKind.EMAIL, PageRequest()).items == [hooks[2]]


def test_dispatch_finds_the_active_hooks_wanting_an_event_type(ports: Ports) -> None:
    wanting = sorted(_add(ports, _hook(), _hook(BOB, kind=HookKind.EMAIL)), key=lambda h: h.id)
    _add(ports, _hook(is_active=False), _hook(event_types=("project_creation_succeeded",)))
    assert ports.hooks.subscribers("customer_update_succeeded") == [
        Subscription(h.id, h.user_id, h.kind) for h in wanting
    ]
    assert ports.hooks.subscribers("role_granted") == []


def test_an_edit_bumps_the_version_moves_the_subscriptions_and_a_stale_one_loses(ports: Ports) -> None:
    (before,) = _add(ports, _hook())
    after = before.changed({"event_types": ("project_creation_succeeded",)}, NOW + timedelta(hours=1))
    uow = ports.unit_of_work()
    ports.hooks.save_changes(uow, before, after)
    uow.commit()
    assert ports.hooks.get(ALICE, HookKind.WEB, before.id) == after
    assert after.version == 2
    assert ports.hooks.subscribers("customer_update_succeeded") == []
    assert [s.hook_id for s in ports.hooks.subscribers("project_creation_succeeded")] == [before.id]
    stale = ports.unit_of_work()
    ports.hooks.save_changes(stale, before, replace(before, is_active=False))
    with pytest.raises(Conflict):
        stale.commit()
    assert ports.hooks.get(ALICE, HookKind.WEB, before.id) == after
    deactivated = ports.unit_of_work()
    ports.hooks.save_changes(deactivated, after, replace(after, is_active=False, version=3))
    deactivated.commit()
    assert ports.hooks.subscribers("project_creation_succeeded") == []


def test_a_removed_hook_is_gone_and_removing_it_again_loses(ports: Ports) -> None:
    (hook,) = _add(ports, _hook())
    uow = ports.unit_of_work()
    ports.hooks.remove(uow, hook)
    uow.commit()
    assert ports.hooks.load(HookKind.WEB, hook.id) is None
    assert ports.hooks.subscribers("customer_update_succeeded") == []
    again = ports.unit_of_work()
    ports.hooks.remove(again, hook)
    with pytest.raises(Conflict):
        again.commit()


def test_a_users_hooks_are_removed_together(ports: Ports) -> None:
    mine = _add(ports, _hook(), _hook(kind=HookKind.EMAIL))
    (bobs,) = _add(ports, _hook(BOB))
    uow = ports.unit_of_work()
    ports.hooks.remove_all(uow, mine)
    uow.commit()
    assert ports.hooks.for_user(ALICE) == []
    assert [s.hook_id for s in ports.hooks.subscribers("customer_update_succeeded")] == [bobs.id]


def test_delivery_bookkeeping_is_no_edit_and_a_success_ends_the_failure_streak(ports: Ports) -> None:
    (hook,) = _add(ports, _hook())
    ports.hooks.record_failure(hook, NOW, "HTTP 5xx")
    ports.hooks.record_failure(hook, NOW + timedelta(minutes=1), "connection failed")
    failed = ports.hooks.get(ALICE, HookKind.WEB, hook.id)
    assert failed is not None
    assert (failed.failure_count, failed.last_error, failed.last_failure) == (
        2,
        "connection failed",
        NOW + timedelta(minutes=1),
    )
    assert (failed.version, failed.modified) == (hook.version, hook.modified)
    ports.hooks.record_success(failed, NOW + timedelta(minutes=2))
    done = ports.hooks.get(ALICE, HookKind.WEB, hook.id)
    assert done is not None
    assert (done.failure_count, done.last_published, done.version) == (0, NOW + timedelta(minutes=2), 1)
    assert done.last_error == "connection failed"  # the last failure stays on record
    # An edit keeps the bookkeeping as stored.
    uow = ports.unit_of_work()
    ports.hooks.save_changes(uow, hook, hook.changed({"is_active": False}, NOW))
    uow.commit()
    edited = ports.hooks.get(ALICE, HookKind.WEB, hook.id)
    assert edited is not None and (edited.last_published, edited.failure_count) == (done.last_published, 0)


def test_bookkeeping_on_a_deleted_hook_records_nothing(ports: Ports) -> None:
    (hook,) = _add(ports, _hook())
    uow = ports.unit_of_work()
    ports.hooks.remove(uow, hook)
    uow.commit()
    ports.hooks.record_success(hook, NOW)
    ports.hooks.record_failure(hook, NOW, "HTTP 5xx")
    assert ports.hooks.load(HookKind.WEB, hook.id) is None
