"""Analytics aggregates: what an object contributes to the platform's series, as data.

An aggregate is a number kept under (series, period, field): "orders created on 2026-12-06 by
offering X, in state done" is series `orders#offering#X`, period `D#2026-12-06`, field `done`.
Reads take one series over a range of periods in one Query (store/analytics.py); nothing is
counted at read time.

Two kinds of contribution:

- **Facts** (`Add`): what an object adds while it exists, a function of the object alone. The
  stream consumer moves the aggregates by `facts(new) - facts(old)` for every change of a source
  object (an INSERT has no old, a REMOVE no new). Summed over an object's history the moves
  telescope to `facts(current)`, so the incremental result equals a rebuild that adds up the facts
  of every object stored now (`python -m chalicelib.ops analytics rebuild`). Facts must therefore
  place themselves by what the object says (its `created` day, its billing month), never by the
  time the change is seen. An audit event is an object that never changes: its facts are added once.
- **Points** (`Point`): the value a gauge had on a day (a customer's quota usage). Written when the
  stream sees the object change (on the change's day; a later change of the same day over an
  earlier one, by the stream's order) and by the daily snapshot (only on a day with no point yet,
  so a quiet day has one too). Points are history, not derivable from what is stored now: a
  rebuild keeps them.

Periods sort as text: `D#YYYY-MM-DD` (a day), `M#YYYY-MM` (a month), `NOW` (one current value).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

DAY = "D#"
MONTH = "M#"
NOW = "NOW"  # the period of a current value (a gauge with no history: active resources by offering)
SEP = "#"
# The longest series name stored: a partition key is at most 2048 bytes; ours stay far below.
MAX_SERIES = 512


def day(when: date | datetime) -> str:
    """The period of a day (`D#2026-12-06`); a datetime is taken in UTC, as every Cirrus time is."""
    return f"{DAY}{when.strftime('%Y-%m-%d')}"


def month(when: date | datetime) -> str:
    """The period of a month (`M#2026-12`)."""
    return f"{MONTH}{when.strftime('%Y-%m')}"


def period_date(period: str) -> date:
    """The first day a period stands for (`D#2026-12-06` → 2026-12-06, `M#2026-12` → 2026-12-01)."""
    if period.startswith(DAY):
        return date.fromisoformat(period[len(DAY) :])
    if period.startswith(MONTH):
        return date.fromisoformat(f"{period[len(MONTH) :]}-01")
    raise ValueError(f"not a dated period: {period!r}")


def series(*parts: str) -> str:
    """A series name from its parts (`series("orders", "offering", id)` → `orders#offering#<id>`).
    Parts are our own words and ids; a part holding the separator would make two names collide."""
    for part in parts:
        if not part or SEP in part:
            raise ValueError(f"a series part must be non-empty and hold no {SEP!r}: {part!r}")
    name = SEP.join(parts)
    if len(name) > MAX_SERIES:
        raise ValueError(f"series name too long: {name[:80]}…")
    return name


@dataclass(frozen=True)
class Add:
    """`amount` added to (series, period, field) while the object exists. `label` names what the
    field stands for (an offering's name for a field that is its id), kept with the aggregate so a
    reader needs no lookup; the last move's label wins."""

    series: str
    period: str
    field: str
    amount: Decimal | int = 1
    label: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.series, self.period, self.field)


@dataclass(frozen=True)
class Point:
    """A gauge's value (on the day the store writes it for)."""

    series: str
    field: str
    value: Decimal | int
    label: str = ""


@dataclass(frozen=True)
class Move:
    """A net change of one aggregate, as the stream consumer applies it (ADD amount; SET label)."""

    series: str
    period: str
    field: str
    amount: Decimal
    label: str = ""


def moves(old: Iterable[Add], new: Iterable[Add]) -> list[Move]:
    """What to apply for an object that changed from contributing `old` to contributing `new`:
    the net amount per aggregate, without those that net to zero (a change that moves nothing
    writes nothing) unless the label changed (a renamed offering: a move of 0 that sets the new
    label, as the rebuild would). Sorted, so two consumers touching the same aggregates do so in
    one order."""
    net: dict[tuple[str, str, str], Decimal] = {}
    labels: dict[tuple[str, str, str], str] = {}
    old_labels: dict[tuple[str, str, str], str] = {}
    for add in old:
        net[add.key] = net.get(add.key, Decimal(0)) - Decimal(add.amount)
        if add.label:
            old_labels[add.key] = add.label
    for add in new:
        net[add.key] = net.get(add.key, Decimal(0)) + Decimal(add.amount)
        if add.label:
            labels[add.key] = add.label
    return [
        Move(key[0], key[1], key[2], amount, labels.get(key, ""))
        for key, amount in sorted(net.items())
        if amount != 0 or labels.get(key, "") not in ("", old_labels.get(key, ""))
    ]


def totals(contributions: Iterable[Sequence[Add]]) -> dict[tuple[str, str, str], tuple[Decimal, str]]:
    """The aggregates that a set of objects' facts add up to (the rebuild's result): key → (sum,
    label), without those summing to zero (the incremental path deletes nothing, but an aggregate
    at zero reads as one never written)."""
    out: dict[tuple[str, str, str], tuple[Decimal, str]] = {}
    for adds in contributions:
        for add in adds:
            amount, label = out.get(add.key, (Decimal(0), ""))
            out[add.key] = (amount + Decimal(add.amount), add.label or label)
    return {key: value for key, value in out.items() if value[0] != 0}


@dataclass(frozen=True)
class Aggregate:
    """One stored aggregate, as a reader gets it."""

    series: str
    period: str
    field: str
    value: Decimal
    label: str = ""


def by_period(rows: Iterable[Aggregate]) -> dict[str, dict[str, Decimal]]:
    """period → field → value."""
    out: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        out.setdefault(row.period, {})[row.field] = row.value
    return out


def by_field(rows: Iterable[Aggregate]) -> dict[str, Decimal]:
    """field → value summed over the periods read."""
    out: dict[str, Decimal] = {}
    for row in rows:
        out[row.field] = out.get(row.field, Decimal(0)) + row.value
    return out


def labels(rows: Iterable[Aggregate]) -> dict[str, str]:
    """field → its label (the latest period's that has one)."""
    out: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r.period):
        if row.label:
            out[row.field] = row.label
    return out
