"""Requests read a bounded number of items, whatever the table holds: an event page's total comes
from counts kept with the events (not from counting the feed), the staff's event index is sharded,
and a filter no key serves stops after `filter_read_limit` items with a 400 asking to narrow it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import call, create_customer, create_project


# --- helpers ---------------------------------------------------------------------------------------
@contextmanager
def items_read() -> Iterator[dict[str, int]]:
    """Items DynamoDB reads while inside (as bench/request_costs.py counts them): a Query's
    ScannedCount (a Select=COUNT reads what it counts), a GetItem's item, a BatchGetItem's items."""
    from chalicelib.store.table import connection

    seen = {"items": 0}

    def after_call(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("Query", "Scan"):
            seen["items"] += int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif model.name == "GetItem":
            seen["items"] += 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            seen["items"] += sum(len(v) for v in (parsed.get("Responses") or {}).values())

    events = connection().client.meta.events
    events.register("after-call.dynamodb", after_call)
    try:
        yield seen
    finally:
        events.unregister("after-call.dynamodb", after_call)


def record(events: list[Any], per_unit: int = 10) -> None:
    """Write `events` as the services do (`UnitOfWork.record`), `per_unit` to a transaction."""
    from chalicelib.store.unit_of_work import UnitOfWork

    for start in range(0, len(events), per_unit):
        uow = UnitOfWork()
        for event in events[start : start + per_unit]:
            uow.record(event)
        uow.commit()


def bulk_load(events: list[Any]) -> None:
    """Write `events` and all their counts (the transaction's and the stream's) in BatchWriteItems,
    as the bench seeds a feed: the same items `record` writes, without a transaction each (moto
    copies the whole table, stream included, for every write of a transaction)."""
    from chalicelib.config import get_settings
    from chalicelib.store.items import BaseItem
    from chalicelib.store.outbox import event_items, load_counts

    days = get_settings().event_retention_days
    with BaseItem.batch_write() as batch:
        for event in events:
            for item in event_items(event, days):
                batch.save(item)
    load_counts(events, days)


def customer_event(customer_id: str, n: int, created: datetime | None = None) -> Any:
    from chalicelib.domain.context import EventContext
    from chalicelib.domain.events import make_event

    fields = {"customer_uuid": customer_id, "customer_name": f"Acme {n}"}
    message = f"Customer Acme {n} has been updated."
    event = make_event("customer_update_succeeded", message, EventContext(), fields, customer_id)
    return event if created is None else replace(event, created=created)


def project_event(customer_id: str, project_id: str, n: int) -> Any:
    from chalicelib.domain.context import EventContext
    from chalicelib.domain.events import make_event

    fields = {"customer_uuid": customer_id, "project_uuid": project_id, "project_name": f"P {n}"}
    return make_event(
        "project_update_succeeded", f"Project P {n} updated.", EventContext(), fields, customer_id
    )


def scope(obj: dict[str, Any]) -> str:
    return f"scope={quote(obj['url'], safe='')}"


def page(client: Any, account: Any, query: str) -> tuple[list[dict[str, Any]], int]:
    reply = call(client, "GET", f"/api/events/?{query}", account)
    assert reply.status == 200, reply.json
    return reply.json, int(reply.headers["X-Result-Count"])


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch, aws: None) -> Iterator[None]:
    """`filter_read_limit` lowered to 20 for the test."""
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_FILTER_READ_LIMIT", "20")
    reset_settings()
    yield
    monkeypatch.delenv("CIRRUS_FILTER_READ_LIMIT")
    reset_settings()


# --- (a) an event page's cost does not grow with its feed ----------------------------------------
def test_an_event_page_reads_the_same_items_whatever_its_feed_holds(client, staff, settle):
    acme = create_customer(client, staff, "Acme")
    # Enough that every staff index shard holds a full page at the first measure (ids spread over
    # the shards at random: with 60, one shard held fewer than 10 about one run in ten).
    settle()  # the counts of what the world's requests recorded (kept from the stream)
    bulk_load([customer_event(acme["uuid"], n) for n in range(100)])
    with items_read() as small:
        _, total = page(client, staff, scope(acme))
    with items_read() as small_log:
        _, log_total = page(client, staff, "")
    with items_read() as small_shortcut:  # Waldur's shortcut for the customer's feed
        assert page(client, staff, f"customer_uuid={acme['uuid']}")[1] == 101
    assert total == 101  # with the customer's creation

    bulk_load([customer_event(acme["uuid"], n) for n in range(100, 200)])
    with items_read() as large:
        rows, total = page(client, staff, scope(acme))
    with items_read() as large_log:
        _, grown_log_total = page(client, staff, "")
    with items_read() as large_shortcut:
        assert page(client, staff, f"customer_uuid={acme['uuid']}")[1] == 201

    assert total == 201 and len(rows) == 10
    assert grown_log_total == log_total + 100
    assert large["items"] == small["items"]  # no longer 100 more: the feed is not counted
    assert large_log["items"] == small_log["items"]
    assert large_shortcut["items"] == small_shortcut["items"]
    assert call(client, "GET", f"/api/events/count/?{scope(acme)}", staff).json == {"count": 201}


# --- (b) the counts stay right ------------------------------------------------------------------
def test_counts_follow_events_recorded_together_in_several_feeds(client, staff):
    acme = create_customer(client, staff, "Acme")
    apollo = create_project(client, staff, acme, "Apollo")
    gemini = create_project(client, staff, acme, "Gemini")
    _, before = page(client, staff, scope(acme))
    _, log_before = page(client, staff, "")

    # One transaction: five events in Acme's feed, three in Apollo's, two in Gemini's (a
    # transaction may touch each count once: they are summed per count).
    both = [project_event(acme["uuid"], apollo["uuid"], n) for n in range(3)]
    both += [project_event(acme["uuid"], gemini["uuid"], n) for n in range(2)]
    record(both, per_unit=len(both))

    assert page(client, staff, scope(acme))[1] == before + 5
    assert page(client, staff, scope(apollo))[1] == 1 + 3  # its creation, then three
    assert page(client, staff, scope(gemini))[1] == 1 + 2
    assert page(client, staff, "")[1] == log_before + 5
    for feed in (acme, apollo, gemini):
        rows, total = page(client, staff, f"{scope(feed)}&page_size=300")
        assert len(rows) == total


def test_expired_months_leave_the_count(client, staff, monkeypatch):
    from chalicelib.config import reset_settings
    from chalicelib.domain.clock import utcnow
    from chalicelib.store import keys
    from chalicelib.store.items import CounterItem, FeedEntryItem

    monkeypatch.setenv("CIRRUS_EVENT_RETENTION_DAYS", "40")
    reset_settings()
    acme = create_customer(client, staff, "Acme")
    old = utcnow() - timedelta(days=100)  # its month ended more than 40 days ago: expired
    stale = [customer_event(acme["uuid"], n, created=old) for n in range(4)]
    record(stale)
    record([customer_event(acme["uuid"], n) for n in range(3)])

    # The expired month's count carries the same expiry as its events, so TTL removes both...
    month = keys.event_count_sk(old)
    counter = CounterItem.get(keys.event_count_pk(keys.feed_pk("customer", acme["uuid"])), month)
    assert counter.value == 4 and counter.expires_at <= utcnow()
    # ... and the total leaves that month out at once, before TTL has deleted anything.
    assert page(client, staff, scope(acme))[1] == 1 + 3
    for event in stale:  # TTL deletes the expired copies
        FeedEntryItem(pk=keys.feed_pk("customer", acme["uuid"]), sk=event.id).delete()
    rows, total = page(client, staff, f"{scope(acme)}&page_size=300")
    assert total == len(rows) == 4
    assert call(client, "GET", f"/api/events/count/?{scope(acme)}", staff).json == {"count": 4}
    monkeypatch.delenv("CIRRUS_EVENT_RETENTION_DAYS")
    reset_settings()


# --- (c) the staff's index is sharded -------------------------------------------------------------
def test_events_spread_over_shards_and_the_staff_log_merges_them_newest_first(client, staff, settle):
    from chalicelib.store import keys
    from chalicelib.store.items import BaseItem, EventItem

    acme = create_customer(client, staff, "Acme")
    record([customer_event(acme["uuid"], n) for n in range(23)])
    settle()  # the staff index's counts are kept from the stream
    records = [i for i in BaseItem.scan() if isinstance(i, EventItem)]
    assert len({i.gsi2pk for i in records}) > 1  # not one hot partition
    assert {i.gsi2pk for i in records} <= set(keys.event_shards())

    every = sorted((i.event_id for i in records), reverse=True)
    numbers = range(1, (len(every) + 6) // 7 + 1)
    pages = [page(client, staff, f"page_size=7&page={n}") for n in numbers]
    assert all(total == len(every) for _, total in pages)
    assert [row["uuid"] for rows, _ in pages for row in rows] == every
    oldest_first = [page(client, staff, f"page_size=7&page={n}&o=created")[0] for n in numbers]
    assert [row["uuid"] for rows in oldest_first for row in rows] == every[::-1]

    for event_id in every[:5]:
        reply = call(client, "GET", f"/api/events/{event_id}/", staff)
        assert reply.status == 200 and reply.json["uuid"] == event_id


# --- (d) filters no key serves stop at a bound --------------------------------------------------
def test_a_filter_over_too_many_items_asks_to_narrow_the_request(client, staff, limit):
    acme = create_customer(client, staff, "Acme")
    for n in range(30):
        create_project(client, staff, acme, f"Project {n:02d}")

    for query in (f"customer={acme['uuid']}&name=Project%2001", f"customer={acme['uuid']}&o=name", "name=x"):
        reply = call(client, "GET", f"/api/projects/?{query}", staff)
        assert reply.status == 400, (query, reply.json)
        assert reply.json["detail"].startswith("Too many projects to filter or sort (more than 20)")

    # Unfiltered, in key order, it still pages: one Query of the page, the total from the counter.
    reply = call(client, "GET", f"/api/projects/?customer={acme['uuid']}&page=3", staff)
    assert reply.status == 200 and len(reply.json) == 10 and reply.headers["X-Result-Count"] == "30"
    assert call(client, "GET", "/api/projects/?page=2", staff).status == 200

    reply = call(client, "GET", f"/api/events/?{scope(acme)}&event_type=role_granted", staff)
    assert reply.status == 400
    assert "Too many events" in reply.json["detail"] and "created_from=" in reply.json["detail"]
    assert call(client, "GET", f"/api/events/?{scope(acme)}&page=2", staff).status == 200
