"""In-memory analytics aggregates (the port `Analytics`, stored by `chalicelib/store/analytics.py`).

Specifications put aggregates in as the stream consumer would (`fold`: an object's facts before
and after a change; `point`: a gauge's value on a day) and read them through the port, in the
store's order (by period, then field)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from chalicelib.domain import analytics as domain
from chalicelib.domain.analytics import Add, Aggregate, Point
from tests.fakes.world import World

TABLE = "analytics"


class FakeAnalytics:
    def __init__(self, world: World) -> None:
        # (series, period, field) → (value, label, seq or None)
        self._rows: dict[tuple[str, str, str], tuple[Decimal, str, str | None]] = world.table(TABLE)

    # --- as the stream consumer writes ----------------------------------------------------------------
    def fold(self, old: Iterable[Add] = (), new: Iterable[Add] = ()) -> None:
        for move in domain.moves(old, new):
            key = (move.series, move.period, move.field)
            value, label, seq = self._rows.get(key, (Decimal(0), "", None))
            self._rows[key] = (value + move.amount, move.label or label, seq)

    def add(self, *adds: Add) -> None:
        self.fold((), adds)

    def point(self, point: Point, period: str, seq: str = "") -> bool:
        key = (point.series, period, point.field)
        stored = self._rows.get(key)
        if stored is not None and stored[2] is not None and stored[2] >= seq:
            return False
        self._rows[key] = (Decimal(point.value), point.label, seq)
        return True

    # --- the port -----------------------------------------------------------------------------------
    def _rows_of(self, series: str) -> list[Aggregate]:
        return [
            Aggregate(s, period, field, value, label)
            for (s, period, field), (value, label, _) in sorted(self._rows.items())
            if s == series
        ]

    def read(self, series: str, start: str, end: str) -> list[Aggregate]:
        return [row for row in self._rows_of(series) if start <= row.period <= end]

    def read_now(self, series: str) -> list[Aggregate]:
        return self.read(series, domain.NOW, domain.NOW)

    def latest(self, series: str, before: str) -> list[Aggregate]:
        earlier = [r for r in self._rows_of(series) if r.period < before and r.period != domain.NOW]
        if not earlier:
            return []
        last = max(r.period for r in earlier)
        return [r for r in earlier if r.period == last]
