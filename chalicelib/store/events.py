"""The audit log: its items, the counts kept with them, and reading it (a scope's feed, every event
for staff, one event by uuid).

Writes happen only in `UnitOfWork.record`, in the transaction of the change they describe: the
record, a copy per scope feed, and +1 on a count per feed and month (and per staff index shard and
month), so X-Result-Count is a read of a dozen small items rather than a count of the feed. A month's
events and its counts carry the same expiry (`expires`), and the total sums only the months still
kept (`kept_since`), so expired events leave the count by key, without a write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, overload

from pynamodb.expressions.update import Action

from chalicelib.config import get_settings
from chalicelib.domain.clock import utcnow
from chalicelib.domain.events import Event
from chalicelib.domain.ids import id_bounds
from chalicelib.store import keys
from chalicelib.store.items import BaseItem, CounterItem, EventItem, FeedEntryItem
from chalicelib.store.pages import Listing, fetch_merged_page, fetch_page, read_filtered

if TYPE_CHECKING:
    from chalicelib.store.unit_of_work import UnitOfWork

NARROW_WITH = "scope=, customer_uuid= or project_uuid=, or created_from=/created_to="
_WHOLE_RANGE = id_bounds(None, None)


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


def _kept_months(now: datetime, retention_days: int) -> list[str]:
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
        **fields,
    )
    copies = [FeedEntryItem(pk=keys.feed_pk(t, i), sk=event.id, **fields) for t, i in event.scopes]
    return [record, *copies]


def _count_keys(event: Event) -> list[tuple[str, str]]:
    """The counts an event moves: its month's in each scope feed it is copied to, and in its shard."""
    partitions = [keys.feed_pk(t, i) for t, i in event.scopes] + [keys.event_shard(event.id)]
    month = keys.event_count_sk(event.created)
    return list(dict.fromkeys((keys.event_count_pk(p), month) for p in partitions))


class _Tally(Sequence[Action]):
    """The update of one count in a unit of work, whose delta is worked out when the unit commits:
    the unit may record several events into the same feed, and a transaction may touch an item
    only once, so the first event adds the update and every event of the unit is counted in it."""

    def __init__(self, events: list[Event], key: tuple[str, str], expires_at: datetime) -> None:
        self._events, self._key, self._expires_at = events, key, expires_at

    def _actions(self) -> list[Action]:
        delta = sum(1 for e in self._events if self._key in _count_keys(e))
        return [
            CounterItem.value.add(delta),
            CounterItem.type.set(CounterItem),
            CounterItem.expires_at.set(self._expires_at),
        ]

    def __len__(self) -> int:
        return 3

    @overload
    def __getitem__(self, index: int) -> Action: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Action]: ...
    def __getitem__(self, index: int | slice) -> Action | Sequence[Action]:
        return self._actions()[index]


def tally(uow: UnitOfWork, event: Event, retention_days: int) -> None:
    """Add `event` to its feeds' and shard's counts of its month, in `uow` (which has recorded it:
    `uow.events` holds it). One update per count however many of the unit's events it takes."""
    for key in _count_keys(event):
        if uow.first(f"event count {key[0]} {key[1]}"):
            counter = CounterItem(pk=key[0], sk=key[1])
            uow.update(counter, _Tally(uow.events, key, expires(event.created, retention_days)))


def load_counts(events: Iterable[Event], retention_days: int) -> None:
    """Add `events` to their counts outside a unit of work: for bulk loads (benchmarks, tools) that
    write `event_items` themselves. One UpdateItem per count."""
    deltas: Counter[tuple[str, str]] = Counter()
    expiry: dict[tuple[str, str], datetime] = {}
    for event in events:
        for key in _count_keys(event):
            deltas[key] += 1
            expiry[key] = expires(event.created, retention_days)
    for (pk, sk), delta in deltas.items():
        CounterItem(pk=pk, sk=sk).update(
            actions=[
                CounterItem.value.add(delta),
                CounterItem.type.set(CounterItem),
                CounterItem.expires_at.set(expiry[(pk, sk)]),
            ]
        )


# --- reading ------------------------------------------------------------------------------------
def _event(item: EventItem | FeedEntryItem) -> Event:
    return Event(
        event_type=item.event_type,
        message=item.message,
        context=dict(item.context or {}),
        customer_id=item.customer_id,
        id=item.event_id,
        created=item.created,
    )


@dataclass(frozen=True)
class Log:
    """What one request reads of the log: a scope's feed, or every shard of the staff's index
    (merged by id); `counts` are the count partitions that give its total (empty: count the range)."""

    listings: tuple[Listing, ...]
    counts: tuple[str, ...]

    @property
    def filtered(self) -> bool:
        return any(listing.predicate is not None for listing in self.listings)


def listing(
    feed: tuple[str, str] | None,
    id_range: tuple[str, str],
    *,
    newest_first: bool,
    predicate: Callable[[Event], bool] | None = None,
) -> Log:
    """A scope's feed (strongly consistent, base table) or, with `feed=None`, every event (the gsi2
    shards). Unfiltered and over the whole time range, its total comes from the monthly counts."""
    wrapped: Callable[[Any], bool] | None = None
    if predicate is not None:
        test = predicate
        wrapped = lambda item: test(_event(item))  # noqa: E731
    parts: list[tuple[str, str | None, type[BaseItem]]]
    if feed is None:
        parts = [(shard, "gsi2", EventItem) for shard in keys.event_shards()]
    else:
        parts = [(keys.feed_pk(*feed), None, FeedEntryItem)]
    listings = tuple(
        Listing(
            partition=partition,
            index=index,
            between=id_range,
            forward=not newest_first,
            predicate=wrapped,
            item_type=item_type,
            what="events",
            narrow_with=NARROW_WITH,
        )
        for partition, index, item_type in parts
    )
    counted = predicate is None and id_range == _WHOLE_RANGE
    return Log(listings, tuple(keys.event_count_pk(p) for p, _, _ in parts) if counted else ())


def page(of: Log, number: int, size: int) -> tuple[list[Event], int]:
    """Page `number` of the log and its total: one Query per partition (the staff's shards
    merged), the total from the counts; a filter reads the range, bounded (`pages.read_filtered`)."""
    if of.filtered:
        found = read_filtered(of.listings)
        start = (number - 1) * size
        return [_event(i) for i in found[start : start + size]], len(found)
    total = count(of)
    if len(of.listings) == 1:
        items = fetch_page(replace(of.listings[0], known_total=total), number, size).items
    else:
        items = fetch_merged_page(of.listings, number, size, total)
    return [_event(i) for i in items], total


def count(of: Log) -> int:
    """How many events the log holds: the kept months' counts (one BatchGetItem), or with a time
    range, a Select COUNT of that range; with a filter, the events that pass it (bounded)."""
    if of.filtered:
        return len(read_filtered(of.listings))
    if of.counts:
        return _counted(of.counts)
    return sum(
        int(BaseItem.count(i.partition, range_key_condition=_range(i), index_name=i.index))
        for i in of.listings
    )


def _counted(partitions: Sequence[str]) -> int:
    months = _kept_months(utcnow(), get_settings().event_retention_days)
    wanted = [(pk, month) for pk in partitions for month in months]
    return sum(int(c.value) for c in CounterItem.batch_get(wanted, consistent_read=True))


def _range(of: Listing) -> Any:
    attr = BaseItem.sk if of.index is None else BaseItem.gsi2sk
    return attr.between(*of.between) if of.between else None


def get(event_id: str) -> tuple[Event, list[tuple[str, str]]] | None:
    """An event and the scopes it concerns, by uuid (its gsi2 shard: eventually consistent)."""
    for item in BaseItem.gsi2.query(keys.event_shard(event_id), BaseItem.gsi2sk == event_id, limit=1):
        if isinstance(item, EventItem):
            return _event(item), [(str(t), str(i)) for t, i in item.scopes or []]
    return None


def feed(scope_type: str, scope_id: str) -> list[Event]:
    """A scope's whole feed, oldest first (tests and tools; the API pages it)."""
    items = FeedEntryItem.query(keys.feed_pk(scope_type, scope_id))
    return [_event(i) for i in items if isinstance(i, FeedEntryItem)]


def every_event() -> list[Event]:
    """Every event record, oldest first (tests and tools; the API pages the shards merged)."""
    found = [
        _event(i)
        for shard in keys.event_shards()
        for i in BaseItem.gsi2.query(shard)
        if isinstance(i, EventItem)
    ]
    return sorted(found, key=lambda e: e.id)


def event_from_image(image: dict[str, Any]) -> Event | None:
    """The event in a DynamoDB stream record's NewImage (None if the item is not an event record)."""
    if image.get("type", {}).get("S") != "event":
        return None
    item = EventItem.from_raw_data(image)
    return _event(item)
