"""The BI export's reads: one day's analytics aggregates and audit events, as JSON lines.

Neither read scans the table:
- a day's aggregates are listed in gsi2 under their period (`keys.aggregate_listing`, written with
  every dated aggregate by store/analytics.py): a Query per shard of `D#<day>` and, on a month's
  last day, of `M#<month>` (the month's figures go out with its last day);
- a day's events are a time range of the audit log's staff index (gsi2 shards `EVENTS#<k>`, sorted
  by event id, a UUIDv7: its leading 48 bits are the milliseconds it was made), a Query per shard.

The lines are what Athena reads through the Glue tables (infra/cdk/cirrus_infra/analytics_export.py):
one JSON object per line, keys as the tables' columns. A value is written as the decimal it is
(never through a float); an event's context as JSON text (`json_extract_scalar` reads into it).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from chalicelib.domain import analytics as domain
from chalicelib.domain.ids import id_bounds
from chalicelib.store import analytics, keys
from chalicelib.store.items import BaseItem, EventItem


def periods(day: date) -> list[str]:
    """The periods a day's export holds: the day, and on the month's last day the month."""
    out = [domain.day(day)]
    if (day + timedelta(days=1)).month != day.month:
        out.append(domain.month(day))
    return out


def _number(value: Decimal) -> str:
    """A decimal as a JSON number (no float on the way: a cost stays exact)."""
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    text = format(value, "f")
    return "0" if text == "-0" else text


def aggregate_lines(day: date) -> Iterator[str]:
    for period in periods(day):
        for row, point in analytics.listed(period):
            if not point and row.value == 0:
                continue  # a sum moved back to zero reads as one never written (as the rebuild has it)
            head = json.dumps(
                {
                    "series": row.series,
                    "period": row.period,
                    "field": row.field,
                    "label": row.label,
                    "kind": "point" if point else "sum",
                },
                ensure_ascii=False,
            )
            yield f'{head[:-1]}, "value": {_number(row.value)}}}'


def _stamp(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds (`from_iso8601_timestamp` in Athena reads it)."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event_line(item: EventItem) -> str:
    return json.dumps(
        {
            "uuid": item.event_id,
            "created": _stamp(item.created),
            "event_type": item.event_type,
            "message": item.message,
            "customer_uuid": item.customer_id,
            "scopes": [f"{kind}:{scope_id}" for kind, scope_id in item.scopes or []],
            "context": json.dumps(item.context or {}, sort_keys=True, ensure_ascii=False),
        },
        ensure_ascii=False,
    )


def _shard(shard: str, low: str, high: str) -> Iterator[EventItem]:
    for item in BaseItem.gsi2.query(shard, BaseItem.gsi2sk.between(low, high)):
        if isinstance(item, EventItem):
            yield item


def event_lines(day: date) -> Iterator[str]:
    """The day's events (UTC), oldest first: the shards' Queries merged by id as they stream. Events
    expire after the retention period (`event_retention_days`): a day past it exports none."""
    start_ms = int(datetime.combine(day, time.min, UTC).timestamp() * 1000)
    low, high = id_bounds(start_ms, start_ms + 24 * 3600 * 1000 - 1)
    shards = [_shard(shard, low, high) for shard in keys.event_shards()]
    for item in heapq.merge(*shards, key=lambda i: i.event_id):
        yield _event_line(item)
