"""The audit log: its items, the counts kept with them, and reading it (a scope's feed, every event
for staff, one event by uuid).

Writes happen only in `UnitOfWork.record` (the items and counts: `store/outbox.py`), in the
transaction of the change they describe; here the counts are summed over the months still kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain.clock import utcnow
from chalicelib.domain.events import Event
from chalicelib.domain.ids import id_bounds
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import EventQuery
from chalicelib.store import keys
from chalicelib.store.items import BaseItem, CounterItem, EventItem, FeedEntryItem
from chalicelib.store.outbox import TENANT_SCOPES, kept_months
from chalicelib.store.pages import Listing, fetch_merged_page, fetch_page, read_filtered

NARROW_WITH = "scope=, customer_uuid= or project_uuid=, or created_from=/created_to="
_WHOLE_RANGE = id_bounds(None, None)


# --- reading ------------------------------------------------------------------------------------
def _event(item: EventItem | FeedEntryItem) -> Event:
    return Event(
        event_type=item.event_type,
        message=item.message,
        context=dict(item.context or {}),
        customer_id=item.customer_id,
        id=item.event_id,
        created=item.created,
        correlation_id=item.correlation_id if isinstance(item, EventItem) else None,
    )


@dataclass(frozen=True)
class _Log:
    """What one request reads of the log: a scope's feed, or every shard of the staff's index
    (merged by id); `counts` are the count partitions that give its total (empty: count the range)."""

    listings: tuple[Listing, ...]
    counts: tuple[str, ...]

    @property
    def filtered(self) -> bool:
        return any(listing.predicate is not None for listing in self.listings)


def _log(query: EventQuery) -> _Log:
    """A scope's feed (strongly consistent, base table) or, with `feed=None`, every event (the gsi2
    shards). Unfiltered and over the whole time range, its total comes from the monthly counts."""
    wrapped: Callable[[Any], bool] | None = None
    if query.predicate is not None:
        test = query.predicate
        wrapped = lambda item: test(_event(item))  # noqa: E731
    feed = query.feed
    parts: list[tuple[str, str | None, type[BaseItem]]]
    if feed is None:
        parts = [(shard, "gsi2", EventItem) for shard in keys.event_shards()]
    else:
        parts = [(keys.feed_pk(*feed), None, FeedEntryItem)]
    # The staff index's counts and a shared feed's are kept from the stream (store/outbox.py): they
    # lag, so they never cut a page short.
    lags = feed is None or feed[0] not in TENANT_SCOPES
    listings = tuple(
        Listing(
            partition=partition,
            index=index,
            between=query.id_range,
            forward=not query.newest_first,
            predicate=wrapped,
            item_type=item_type,
            what="events",
            narrow_with=NARROW_WITH,
            total_lags=lags,
        )
        for partition, index, item_type in parts
    )
    counted = query.predicate is None and query.id_range == _WHOLE_RANGE
    return _Log(listings, tuple(keys.event_count_pk(p) for p, _, _ in parts) if counted else ())


def page(query: EventQuery, request: PageRequest) -> Page[Event]:
    """One page of the log and its total: one Query per partition (the staff's shards merged), the
    total from the counts; a filter reads the range, bounded (`pages.read_filtered`)."""
    of = _log(query)
    if of.filtered:
        return paginate([_event(i) for i in read_filtered(of.listings)], request)
    total = _count(of)
    if len(of.listings) == 1:
        shown = fetch_page(replace(of.listings[0], known_total=total), request.page, request.page_size)
    else:
        shown = fetch_merged_page(of.listings, request.page, request.page_size, total)
    return Page([_event(i) for i in shown.items], shown.total)


def count(query: EventQuery) -> int:
    """How many events the query finds: the kept months' counts (one BatchGetItem), or with a time
    range, a Select COUNT of that range; with a filter, the events that pass it (bounded)."""
    return _count(_log(query))


def _count(of: _Log) -> int:
    if of.filtered:
        return len(read_filtered(of.listings))
    if of.counts:
        return _counted(of.counts)
    return sum(
        int(BaseItem.count(i.partition, range_key_condition=_range(i), index_name=i.index))
        for i in of.listings
    )


def _counted(partitions: Sequence[str]) -> int:
    months = kept_months(utcnow(), get_settings().event_retention_days)
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
