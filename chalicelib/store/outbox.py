"""The outbox: the items an audit event is written as, in the transaction of the change it describes
(`UnitOfWork.record`): its record (which the stream publishes), a copy per scope feed (read in
`store/events.py` for `/api/events/`), and +1 on a count per feed and month (and per staff index
shard and month), so X-Result-Count is a read of a dozen small items rather than a count of the feed.
A month's events and its counts carry the same expiry (`expires`), and the total sums only the
months still kept (`kept_since`), so expired events leave the count by key, without a write.

Kept apart from those reads so that the unit of work, which every store module uses, depends on
nothing that pages or counts (no import cycle).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, overload

from pynamodb.expressions.update import Action

from chalicelib.domain.events import Event
from chalicelib.store import keys
from chalicelib.store.items import BaseItem, CounterItem, EventItem, FeedEntryItem


class Staging(Protocol):
    """What `tally` needs of the unit of work it adds to (the store's UnitOfWork)."""

    events: list[Event]

    def first(self, mark: str) -> bool: ...
    def update(self, item: BaseItem, actions: Sequence[Action]) -> None: ...


# --- months: what expires together --------------------------------------------------------------
def _month(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(moment: datetime) -> datetime:
    return (_month(moment) + timedelta(days=32)).replace(day=1)


def expires(created: datetime, retention_days: int) -> datetime:
    """When an event made at `created` expires: `retention_days` after the end of its month (so it
    is kept at least that long), together with every event of that month and their counts."""
    return _next_month(created) + timedelta(days=retention_days)


def kept_since(now: datetime, retention_days: int) -> datetime:
    """The first instant of the oldest month not yet expired (`expires` of it is after `now`)."""
    return _month(now - timedelta(days=retention_days))


def kept_months(now: datetime, retention_days: int) -> list[str]:
    month, last, found = kept_since(now, retention_days), _month(now), []
    while month <= last:
        found.append(keys.event_count_sk(month))
        month = _next_month(month)
    return found


# --- writing ------------------------------------------------------------------------------------
def event_items(event: Event, retention_days: int) -> list[BaseItem]:
    """The items that hold an event: its record (pk `EVT#<customer>#<month>`, in its gsi2 shard
    `EVENTS#<k>`), then a copy in the feed of each scope it concerns; all expire together with the
    event's month (`expires`)."""
    fields: dict[str, Any] = {
        "event_id": event.id,
        "event_type": event.event_type,
        "message": event.message,
        "created": event.created,
        "context": event.context,
        "customer_id": event.customer_id,
        "scopes": [list(s) for s in event.scopes],
        "expires_at": expires(event.created, retention_days),
    }
    record = EventItem(
        pk=keys.event_pk(event.customer_id, event.created),
        sk=event.id,
        gsi2pk=keys.event_shard(event.id),
        gsi2sk=event.id,
        correlation_id=event.correlation_id,
        **fields,
    )
    copies = [FeedEntryItem(pk=keys.feed_pk(t, i), sk=event.id, **fields) for t, i in event.scopes]
    return [record, *copies]


# Feeds whose events all come from one tenant's commands: their counts move in the recording
# transaction. An offering's feed gathers every buyer's orders, a user's feed the commands of every
# customer they belong to, and the staff index every tenant's events: a count of theirs moved in
# the transaction would be one item unrelated tenants write at once (DynamoDB cancels one of two
# such transactions), so the stream consumer moves those (`shared_count_keys`, store/counters.py).
TENANT_SCOPES = frozenset({"customer", "project", "resource"})


def _month_key(partition: str, created: datetime) -> tuple[str, str]:
    return keys.event_count_pk(partition), keys.event_count_sk(created)


def _count_keys(event: Event) -> list[tuple[str, str]]:
    """The counts an event moves in its own transaction: its month's in each tenant feed."""
    partitions = [keys.feed_pk(t, i) for t, i in event.scopes if t in TENANT_SCOPES]
    return list(dict.fromkeys(_month_key(p, event.created) for p in partitions))


def shared_count_keys(
    event_id: str, created: datetime, scopes: Iterable[Sequence[str]]
) -> list[tuple[str, str]]:
    """The counts the stream consumer moves for an event's record: its month's in its staff index
    shard and in each feed shared between tenants."""
    partitions = [keys.event_shard(event_id)]
    partitions += [keys.feed_pk(t, i) for t, i in scopes if t not in TENANT_SCOPES]
    return list(dict.fromkeys(_month_key(p, created) for p in partitions))


def count_actions(delta: int, expires_at: datetime) -> list[Action]:
    return [
        CounterItem.value.add(delta),
        CounterItem.type.set(CounterItem),
        CounterItem.expires_at.set(expires_at),
    ]


class _Tally(Sequence[Action]):
    """The update of one count in a unit of work, whose delta is worked out when the unit commits:
    the unit may record several events into the same feed, and a transaction may touch an item
    only once, so the first event adds the update and every event of the unit is counted in it."""

    def __init__(self, events: list[Event], key: tuple[str, str], expires_at: datetime) -> None:
        self._events, self._key, self._expires_at = events, key, expires_at

    def _actions(self) -> list[Action]:
        delta = sum(1 for e in self._events if self._key in _count_keys(e))
        return count_actions(delta, self._expires_at)

    def __len__(self) -> int:
        return 3

    @overload
    def __getitem__(self, index: int) -> Action: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Action]: ...
    def __getitem__(self, index: int | slice) -> Action | Sequence[Action]:
        return self._actions()[index]


def tally(uow: Staging, event: Event, retention_days: int) -> None:
    """Add `event` to its tenant feeds' counts of its month, in `uow` (which has recorded it:
    `uow.events` holds it). One update per count however many of the unit's events it takes."""
    for key in _count_keys(event):
        if uow.first(f"event count {key[0]} {key[1]}"):
            counter = CounterItem(pk=key[0], sk=key[1])
            uow.update(counter, _Tally(uow.events, key, expires(event.created, retention_days)))


def load_counts(events: Iterable[Event], retention_days: int) -> None:
    """Add `events` to all their counts (the transaction's and the stream's) outside a unit of work:
    for bulk loads (benchmarks, tools) that write `event_items` themselves. One UpdateItem per count."""
    deltas: Counter[tuple[str, str]] = Counter()
    expiry: dict[tuple[str, str], datetime] = {}
    for event in events:
        for key in [*_count_keys(event), *shared_count_keys(event.id, event.created, event.scopes)]:
            deltas[key] += 1
            expiry[key] = expires(event.created, retention_days)
    for (pk, sk), delta in deltas.items():
        CounterItem(pk=pk, sk=sk).update(actions=count_actions(delta, expiry[(pk, sk)]))
