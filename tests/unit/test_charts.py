"""The hand-made SVG charts (chalicelib/domain/charts.py): well-formed XML whatever the labels, one
point per value, one bar per entry, and bounded sizes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from chalicelib.domain import charts
from chalicelib.domain.charts import Series, bar_chart, line_chart

NS = {"svg": "http://www.w3.org/2000/svg"}
HOSTILE = "Acme <script>alert(\"x\")</script> & Sons\x00\x07 'quoted'"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def texts(root: ET.Element, cls: str) -> list[str]:
    return [
        "".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == cls
    ]


def polyline_points(root: ET.Element) -> list[list[tuple[float, float]]]:
    lines = [p for p in root.iter("{http://www.w3.org/2000/svg}polyline") if p.get("class") == "line"]
    return [
        [tuple(map(float, pair.split(","))) for pair in (line.get("points") or "").split()] for line in lines
    ]


def test_a_line_chart_has_a_point_per_day_for_each_series_and_a_legend():
    days = [f"2026-12-{d:02d}" for d in range(1, 11)]
    svg = line_chart(
        "Quota usage",
        days,
        [Series("nc_project_count", list(range(10))), Series("nc_resource_count", [Decimal(3)] * 10)],
        y_label="usage",
    )
    root = parse(svg)
    first, second = polyline_points(root)
    assert len(first) == len(second) == 10
    # x grows with the day; the rising series rises (SVG's y grows downwards); the flat one is flat
    assert [p[0] for p in first] == sorted(p[0] for p in first)
    assert [p[1] for p in first] == sorted((p[1] for p in first), reverse=True)
    assert len({p[1] for p in second}) == 1
    assert [c.get("class") for c in root.iter("{http://www.w3.org/2000/svg}circle")].count("point") == 20
    assert texts(root, "title") == ["Quota usage"]
    assert [t for t in root.itertext() if t in ("nc_project_count", "nc_resource_count")] == [
        "nc_project_count",
        "nc_project_count",
        "nc_resource_count",
        "nc_resource_count",
    ]  # each series' tooltip and legend entry
    shown = texts(root, "x-label")  # ten dates would overlap: every other one, the last, none next to it
    assert shown == [days[0], days[2], days[4], days[6], days[9]]
    week = parse(line_chart("Week", days[:7], [Series("s", [0] * 7)]))
    assert texts(week, "x-label") == days[:7]  # seven fit


def test_many_days_show_a_few_x_labels_the_first_and_the_last():
    days = [f"d{i}" for i in range(366)]
    root = parse(line_chart("Year", days, [Series("s", [i % 7 for i in range(366)])]))
    shown = texts(root, "x-label")
    assert 2 <= len(shown) <= 9 and shown[0] == "d0" and shown[-1] == "d365"
    [points] = polyline_points(root)
    assert len(points) == 366
    assert not [c for c in root.iter("{http://www.w3.org/2000/svg}circle")]  # no markers when crowded


def test_labels_from_user_data_are_escaped_and_the_svg_stays_well_formed():
    svg = line_chart(HOSTILE, ["<day>"], [Series(HOSTILE, [1])])
    assert "<script>" not in svg and "\x00" not in svg and "\x07" not in svg
    root = parse(svg)
    [title] = texts(root, "title")
    assert title == "Acme <script>alert(\"x\")</script> & Sons 'quoted'"  # as text, not markup
    assert root.get("aria-label") == title
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    bars = parse(bar_chart(HOSTILE, [(HOSTILE, 3), ("b&b", 1)]))
    assert not list(bars.iter("{http://www.w3.org/2000/svg}script"))
    assert texts(bars, "bar-label")[1] == "b&b"


def test_a_long_label_is_shortened():
    root = parse(bar_chart("t", [("x" * 500, 1)]))
    [label] = texts(root, "bar-label")
    assert len(label) <= charts.MAX_LABEL and label.endswith("…")


def test_a_bar_chart_has_a_bar_per_entry_with_heights_in_proportion():
    root = parse(bar_chart("Users by registration method", [("default", 6), ("eduteams", 3), ("saml2", 0)]))
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]
    assert len(bars) == 3
    heights = [float(b.get("height") or 0) for b in bars]
    assert heights[0] == pytest.approx(2 * heights[1], rel=0.01) and heights[2] == 0
    assert texts(root, "value") == ["6", "3", "0"]
    assert texts(root, "bar-label") == ["default", "eduteams", "saml2"]


def test_negative_values_hang_below_the_zero_line():
    root = parse(bar_chart("t", [("up", 4), ("down", -2)]))
    up, down = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]
    assert float(up.get("y") or 0) + float(up.get("height") or 0) == pytest.approx(float(down.get("y") or 0))


def test_empty_charts_say_so():
    assert texts(parse(line_chart("t", [], [])), "empty") == ["No data"]
    assert texts(parse(bar_chart("t", [])), "empty") == ["No data"]


def test_sizes_are_bounded():
    with pytest.raises(ValueError, match="points"):
        line_chart("t", ["d"] * (charts.MAX_POINTS + 1), [])
    with pytest.raises(ValueError, match="series"):
        line_chart("t", ["d"], [Series(str(i), [1]) for i in range(charts.MAX_SERIES + 1)])
    with pytest.raises(ValueError, match="bars"):
        bar_chart("t", [("b", 1)] * (charts.MAX_BARS + 1))
    with pytest.raises(ValueError, match="values"):
        line_chart("t", ["a", "b"], [Series("s", [1])])


@pytest.mark.parametrize(
    ("value", "shown"), [(0, "0"), (5, "5"), (2.5, "2.5"), (12500, "12.5k"), (3_000_000, "3M")]
)
def test_tick_numbers_are_short(value, shown):
    assert charts._fmt(value) == shown


def test_a_gauge_is_carried_from_its_last_point_into_each_day_without_one():
    from datetime import date

    from chalicelib.domain.analytics import Aggregate
    from chalicelib.services.analytics_charts import carried

    days = [date(2026, 12, d) for d in range(1, 6)]
    before = [
        Aggregate("q", "D#2026-11-20", "usage", Decimal(4)),
        Aggregate("q", "D#2026-11-20", "limit", Decimal(9)),
    ]
    rows = [
        Aggregate("q", "D#2026-12-02", "limit", Decimal(10)),
        Aggregate("q", "D#2026-12-03", "usage", Decimal(6)),
        Aggregate("q", "D#2026-12-05", "usage", Decimal(0)),
    ]
    assert carried(rows, before, days) == [4, 4, 6, 6, 0]
    assert carried(rows, [], days) == [0, 0, 6, 6, 0]  # nothing before the first point: 0
