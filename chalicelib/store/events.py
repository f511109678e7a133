"""Reading the audit log: a scope's feed, every event (staff), one event by uuid.

Writes happen only in `UnitOfWork.record` (the items: `store/outbox.py`), in the transaction of the
change they describe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.events import Event
from chalicelib.store import keys
from chalicelib.store.items import BaseItem, EventItem, FeedEntryItem
from chalicelib.store.pages import Listing, Page, fetch_page, read_all


def _event(item: EventItem | FeedEntryItem) -> Event:
    return Event(
        event_type=item.event_type,
        message=item.message,
        context=dict(item.context or {}),
        customer_id=item.customer_id,
        id=item.event_id,
        created=item.created,
    )


def listing(
    feed: tuple[str, str] | None,
    id_range: tuple[str, str],
    *,
    newest_first: bool,
    predicate: Callable[[Event], bool] | None = None,
) -> Listing:
    """A scope's feed (strongly consistent, base table) or, with `feed=None`, every event (gsi2)."""
    wrapped: Callable[[Any], bool] | None = None
    if predicate is not None:
        test = predicate
        wrapped = lambda item: test(_event(item))  # noqa: E731
    if feed is None:
        return Listing(
            partition=keys.EVENTS,
            index="gsi2",
            between=id_range,
            forward=not newest_first,
            predicate=wrapped,
            item_type=EventItem,
        )
    return Listing(
        partition=keys.feed_pk(*feed),
        between=id_range,
        forward=not newest_first,
        predicate=wrapped,
        item_type=FeedEntryItem,
    )


def page(of: Listing, number: int, size: int) -> tuple[list[Event], int]:
    result: Page = fetch_page(of, number, size)
    return [_event(i) for i in result.items], result.total


def count(of: Listing) -> int:
    if of.predicate is not None:
        return len(read_all(of))
    return int(BaseItem.count(of.partition, range_key_condition=_range(of), index_name=of.index))


def _range(of: Listing) -> Any:
    attr = BaseItem.sk if of.index is None else BaseItem.gsi2sk
    return attr.between(*of.between) if of.between else None


def get(event_id: str) -> tuple[Event, list[tuple[str, str]]] | None:
    """An event and the scopes it concerns, by uuid (gsi2: eventually consistent)."""
    for item in BaseItem.gsi2.query(keys.EVENTS, BaseItem.gsi2sk == event_id, limit=1):
        if isinstance(item, EventItem):
            return _event(item), [(str(t), str(i)) for t, i in item.scopes or []]
    return None


def feed(scope_type: str, scope_id: str) -> list[Event]:
    """A scope's whole feed, oldest first (tests and tools; the API pages it)."""
    items = FeedEntryItem.query(keys.feed_pk(scope_type, scope_id))
    return [_event(i) for i in items if isinstance(i, FeedEntryItem)]


def event_from_image(image: dict[str, Any]) -> Event | None:
    """The event in a DynamoDB stream record's NewImage (None if the item is not an event record)."""
    if image.get("type", {}).get("S") != "event":
        return None
    item = EventItem.from_raw_data(image)
    return _event(item)
