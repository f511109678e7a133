"""The analytics aggregates (store/analytics.py) and their fake read alike: a range of periods in
period then field order, the current values, a gauge carried from the last period before a range,
labels, and points that only a later record replaces."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.domain import analytics as domain
from chalicelib.domain.analytics import Add, Point
from chalicelib.services.ports import Ports
from tests.fakes.analytics import FakeAnalytics

S = "test#orders"
G = "test#quota"


def _fold(ports: Ports, record: str, old: list[Add], new: list[Add]) -> None:
    if isinstance(ports.analytics, FakeAnalytics):
        ports.analytics.fold(old, new)
        return
    from chalicelib.store import analytics

    analytics.apply(record, domain.moves(old, new))


def _point(ports: Ports, point: Point, period: str, seq: str) -> bool:
    if isinstance(ports.analytics, FakeAnalytics):
        return ports.analytics.point(point, period, seq)
    from chalicelib.store import analytics

    return analytics.put_point(point, period, seq)


def test_a_range_reads_every_period_in_it_in_order_with_labels(ports: Ports) -> None:
    d1, d2, d3 = "D#2026-12-01", "D#2026-12-02", "D#2026-12-03"
    _fold(ports, "r1", [], [Add(S, d1, "done", 2), Add(S, d2, "erred", 1, "Erred")])
    _fold(ports, "r2", [], [Add(S, d2, "done", 1), Add(S, d3, "done", 5), Add(S, domain.NOW, "pending", 3)])
    # an object that changed: one done moves to erred on day 1
    _fold(ports, "r3", [Add(S, d1, "done", 1)], [Add(S, d1, "erred", 1)])

    rows = ports.analytics.read(S, d1, d2)
    assert [(r.period, r.field, r.value) for r in rows] == [
        (d1, "done", Decimal(1)),
        (d1, "erred", Decimal(1)),
        (d2, "done", Decimal(1)),
        (d2, "erred", Decimal(1)),
    ]
    assert domain.labels(rows) == {"erred": "Erred"}
    assert [(r.field, r.value) for r in ports.analytics.read_now(S)] == [("pending", Decimal(3))]
    assert ports.analytics.read(S, "D#2027-01-01", "D#2027-12-31") == []
    assert ports.analytics.read("test#nothing", d1, d3) == []


def test_a_gauge_is_carried_from_the_last_period_before_a_range(ports: Ports) -> None:
    _point(ports, Point(G, "usage", 3), "D#2026-11-20", "0001")
    _point(ports, Point(G, "limit", 10), "D#2026-11-20", "0001")
    _point(ports, Point(G, "usage", 4), "D#2026-11-25", "0002")
    carried = ports.analytics.latest(G, "D#2026-12-01")
    assert [(r.period, r.field, r.value) for r in carried] == [("D#2026-11-25", "usage", Decimal(4))]
    assert ports.analytics.latest(G, "D#2026-11-01") == []


def test_a_point_is_replaced_only_by_a_later_record_and_a_snapshot_only_fills(ports: Ports) -> None:
    day = "D#2026-12-01"
    assert _point(ports, Point(G, "usage", 1), day, "0005")
    assert not _point(ports, Point(G, "usage", 9), day, "0004")  # an earlier record, delivered late
    assert not _point(ports, Point(G, "usage", 9), day, "")  # the snapshot: the day has a point
    assert _point(ports, Point(G, "usage", 2), day, "0006")
    assert [r.value for r in ports.analytics.read(G, day, day)] == [Decimal(2)]
    assert _point(ports, Point(G, "usage", 7), "D#2026-12-02", "")  # a quiet day: the snapshot fills it
