"""What an audit event contributes to `events-stats/` (Waldur's counts of events per month), as facts
added once when its record is written (store/analytics_sources.py, every event type):

- per scope whose feed lists it (`eventstats#<scope type>#<id>`: a customer, project, resource,
  offering or user, as `/api/events/?scope=` reads them), period its month, field its event type;
- platform-wide, in one of `SHARDS` series (`eventstats#all#<k>`, k from its id, as the audit log
  shards its staff index: every tenant's events would otherwise add to one partition).

A reader sums the fields it wants (every type, or those of `event_type=` / `feature=`) per month:
one Query per series, whatever the number of events. Only the months the audit log still keeps
are read (an expired event is not seen by the stream; a rebuild drops its month's counts).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.domain.analytics import Add, Aggregate, month, period_date, series
from chalicelib.domain.events import Event

AREA = "eventstats"
SHARDS = 4


def scope_series(scope_type: str, scope_id: str) -> str:
    return series(AREA, scope_type, scope_id)


def all_series() -> list[str]:
    return [series(AREA, "all", str(k)) for k in range(SHARDS)]


def _shard(event_id: str) -> str:
    return series(AREA, "all", str(zlib.crc32(event_id.encode()) % SHARDS))


def event_facts(event: Event) -> list[Add]:
    period = month(event.created)
    names = [_shard(event.id), *(scope_series(t, i) for t, i in event.scopes if t and i and "#" not in i)]
    return [Add(name, period, event.event_type, 1) for name in names]


def kept_periods(now: datetime, retention_days: int) -> tuple[str, str]:
    """The months the audit log still keeps (store/outbox.py `kept_since`), as a range of periods."""
    return month(now - timedelta(days=retention_days)), month(now)


@dataclass(frozen=True)
class MonthCount:
    year: int
    month: int
    count: int


def per_month(rows: Iterable[Aggregate], wanted: frozenset[str] | None) -> list[MonthCount]:
    """Events per month (newest first, as Waldur orders them), of the wanted types (None: every
    type); months with none are not listed (Waldur groups the events there are)."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        if wanted is None or row.field in wanted:
            totals[row.period] = totals.get(row.period, Decimal(0)) + row.value
    out: list[MonthCount] = []
    for period in sorted(totals, reverse=True):
        if totals[period] > 0:
            first = period_date(period)
            out.append(MonthCount(first.year, first.month, int(totals[period])))
    return out
