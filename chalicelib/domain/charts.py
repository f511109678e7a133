"""Charts as SVG text, drawn by hand: a line chart of one or more series over the same x labels
(days), and a bar chart of labelled values. Pure (no I/O, no dependency beyond the standard library).

Every text in a chart (title, axis and series labels) may come from user data (a customer's or an
offering's name), so each is made safe for XML: characters XML 1.0 cannot carry are dropped, `&`,
`<`, `>` and quotes are escaped (in text and in attributes), and long labels are shortened. Sizes are
bounded: at most MAX_POINTS x values, MAX_SERIES lines, MAX_BARS bars (a caller that asks for more
gets a ValueError: the services bound their ranges before they read anything).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

MAX_POINTS = 731  # two years of days
MAX_SERIES = 20
MAX_BARS = 60
MAX_LABEL = 48  # characters of a label shown (a longer one ends in "…")
WIDTH, HEIGHT = 760, 380
PALETTE = (
    "#1f6feb",
    "#d1242f",
    "#1a7f37",
    "#bf8700",
    "#8250df",
    "#0969da",
    "#cf222e",
    "#116329",
    "#953800",
    "#6e7781",
)
FONT = 'font-family="Helvetica, Arial, sans-serif"'
# Characters XML 1.0 forbids (the C0 controls but tab, newline and carriage return; surrogates;
# U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Number = Decimal | int | float


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]


def text(value: str, limit: int = MAX_LABEL) -> str:
    """`value` safe inside an XML element or a double-quoted attribute, at most `limit` characters."""
    clean = _NOT_XML.sub("", value)
    clean = " ".join(clean.split())  # no newlines or runs of spaces in a one-line label
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return escape(clean, {'"': "&quot;", "'": "&apos;"})


def _fmt(value: float) -> str:
    """A tick or value label: integers as they are, large numbers shortened (12.5k, 3M)."""
    magnitude = abs(value)
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size:
            return f"{value / size:.3g}{suffix}"
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"


def _nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts `span` into about `ticks` parts."""
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return next(factor * power for factor in (1.0, 2.0, 5.0, 10.0) if raw <= factor * power)


def _scale(values: Sequence[float]) -> tuple[float, float, float]:
    """The y axis: (low, high, step), round numbers around every value and 0."""
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


@dataclass(frozen=True)
class _Frame:
    """The plot area and its y scale."""

    left: float
    top: float
    right: float
    bottom: float
    low: float
    high: float

    def y(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)


def _head(title: str, width: int, height: int) -> list[str]:
    safe = text(title, 96)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{safe}" {FONT} font-size="12">',
        f"<title>{safe}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text class="title" x="{width / 2:g}" y="24" text-anchor="middle" font-size="16" '
        f'font-weight="bold" fill="#24292f">{safe}</text>',
    ]


def _axes(frame: _Frame, step: float, y_label: str) -> list[str]:
    out = ['<g class="y-axis" fill="#57606a">']
    tick = frame.low
    while tick <= frame.high + step / 2:
        y = frame.y(tick)
        out.append(
            f'<line x1="{frame.left:g}" y1="{y:.1f}" x2="{frame.right:g}" y2="{y:.1f}" '
            f'stroke="#d0d7de" stroke-width="{1.2 if tick == 0 else 0.6}"/>'
        )
        out.append(
            f'<text class="tick" x="{frame.left - 6:g}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>'
        )
        tick += step
    if y_label:
        middle = (frame.top + frame.bottom) / 2
        out.append(
            f'<text class="axis-label" x="14" y="{middle:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {middle:.1f})">{text(y_label)}</text>'
        )
    out.append("</g>")
    out.append(
        f'<line class="x-axis" x1="{frame.left:g}" y1="{frame.bottom:g}" x2="{frame.right:g}" '
        f'y2="{frame.bottom:g}" stroke="#57606a"/>'
    )
    return out


def _empty(frame: _Frame) -> str:
    return (
        f'<text class="empty" x="{(frame.left + frame.right) / 2:g}" y="{(frame.top + frame.bottom) / 2:g}" '
        'text-anchor="middle" fill="#57606a">No data</text>'
    )


def _shown_labels(count: int, most: int = 8) -> set[int]:
    """Which x labels to write (every one fits up to `most`; else evenly spread, the last included)."""
    if count <= most:
        return set(range(count))
    every = math.ceil((count - 1) / (most - 1))
    shown = list(range(0, count - 1, every))
    if len(shown) > 1 and count - 1 - shown[-1] < every:
        shown.pop()  # too close to the last one, which is always written
    return {*shown, count - 1}


def _check_lines(x_labels: Sequence[str], series: Sequence[Series]) -> None:
    if len(x_labels) > MAX_POINTS:
        raise ValueError(f"at most {MAX_POINTS} points, got {len(x_labels)}")
    if len(series) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} series, got {len(series)}")
    for one in series:
        if len(one.values) != len(x_labels):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values for {len(x_labels)} labels")


def _line(frame: _Frame, n: int, one: Series, xs: Sequence[float], x_labels: Sequence[str]) -> list[str]:
    """One series: its polyline, a marker per point while they stay apart, its legend entry."""
    color = PALETTE[n % len(PALETTE)]
    ys = [frame.y(float(v)) for v in one.values]
    out = [
        f'<g class="series" fill="none" stroke="{color}" stroke-width="2">',
        f"<title>{text(one.name)}</title>",
    ]
    if xs:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        out.append(f'<polyline class="line" points="{points}" stroke-linejoin="round"/>')
    if len(xs) <= 62:
        out += [
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
            f"<title>{text(label, 16)}: {_fmt(float(v))}</title></circle>"
            for x, y, label, v in zip(xs, ys, x_labels, one.values, strict=True)
        ]
    out.append("</g>")
    y = frame.top + 8 + n * 18
    out.append(
        f'<g class="legend"><rect x="{frame.right + 16:g}" y="{y - 9:g}" width="12" height="12" '
        f'fill="{color}"/><text x="{frame.right + 34:g}" y="{y + 1:g}" fill="#24292f">'
        f"{text(one.name, 22)}</text></g>"
    )
    return out


def line_chart(title: str, x_labels: Sequence[str], series: Sequence[Series], y_label: str = "") -> str:
    """One polyline per series over `x_labels` (each series has a value per label), a legend naming
    them, and round y ticks."""
    _check_lines(x_labels, series)
    legend_width = 170 if series else 0
    low, high, step = _scale([float(v) for one in series for v in one.values])
    frame = _Frame(64, 44, WIDTH - 16 - legend_width, HEIGHT - 48, low, high)
    count = len(x_labels)
    span = frame.right - frame.left
    xs = [frame.left + (span / 2 if count == 1 else i * span / (count - 1)) for i in range(count)]
    out = _head(title, WIDTH, HEIGHT) + _axes(frame, step, y_label)
    out.append('<g class="x-labels" fill="#57606a">')
    out += [
        f'<text class="x-label" x="{xs[i]:.1f}" y="{frame.bottom + 18:g}" text-anchor="middle">'
        f"{text(x_labels[i], 16)}</text>"
        for i in sorted(_shown_labels(count))
    ]
    out.append("</g>")
    if not count or not series:
        out.append(_empty(frame))
    for n, one in enumerate(series):
        out += _line(frame, n, one, xs, x_labels)
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(title: str, bars: Sequence[tuple[str, Number]], y_label: str = "") -> str:
    """One bar per (label, value), in the order given, each with its value above it."""
    if len(bars) > MAX_BARS:
        raise ValueError(f"at most {MAX_BARS} bars, got {len(bars)}")
    low, high, step = _scale([float(v) for _, v in bars])
    frame = _Frame(64, 44, WIDTH - 16, HEIGHT - 64, low, high)
    out = _head(title, WIDTH, HEIGHT)
    out += _axes(frame, step, y_label)
    if not bars:
        out.append(_empty(frame))
    slot = (frame.right - frame.left) / max(len(bars), 1)
    width = max(slot * 0.7, 1.0)
    zero = frame.y(0)
    out.append('<g class="bars">')
    for i, (label, value) in enumerate(bars):
        v = float(value)
        left = frame.left + i * slot + (slot - width) / 2
        top, bottom = sorted((frame.y(v), zero))
        color = PALETTE[i % len(PALETTE)]
        out.append(
            f'<rect class="bar" x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" '
            f'height="{bottom - top:.1f}" fill="{color}"><title>{text(label)}: {_fmt(v)}</title></rect>'
        )
        out.append(
            f'<text class="value" x="{left + width / 2:.1f}" y="{top - 4:.1f}" text-anchor="middle" '
            f'fill="#24292f">{_fmt(v)}</text>'
        )
        out.append(
            f'<text class="bar-label" x="{left + width / 2:.1f}" y="{frame.bottom + 18:g}" '
            f'text-anchor="middle" fill="#57606a">{text(label, min(MAX_LABEL, max(4, int(slot / 7))))}</text>'
        )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
