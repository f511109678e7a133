"""The outbox: the items an audit event is written as, in the transaction of the change it describes
(`UnitOfWork.record`). The stream publishes the record; the feed copies serve `/api/events/`
(read in `store/events.py`). Kept apart from those reads so that the unit of work, which every store
module uses, depends on nothing that pages or counts (no import cycle)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.domain.events import Event
from chalicelib.store import keys
from chalicelib.store.items import BaseItem, EventItem, FeedEntryItem


def event_items(event: Event, retention_days: int) -> list[BaseItem]:
    """The items that hold an event: its record (pk `EVT#<customer>#<month>`, in gsi2 `EVENTS`),
    then a copy in the feed of each scope it concerns; all expire `retention_days` after it."""
    fields: dict[str, Any] = {
        "event_id": event.id,
        "event_type": event.event_type,
        "message": event.message,
        "created": event.created,
        "context": event.context,
        "customer_id": event.customer_id,
        "scopes": [list(s) for s in event.scopes],
        "expires_at": event.created + timedelta(days=retention_days),
    }
    record = EventItem(
        pk=keys.event_pk(event.customer_id, event.created),
        sk=event.id,
        gsi2pk=keys.EVENTS,
        gsi2sk=event.id,
        **fields,
    )
    copies = [FeedEntryItem(pk=keys.feed_pk(t, i), sk=event.id, **fields) for t, i in event.scopes]
    return [record, *copies]
