"""Analytics aggregates in the table: kept from the stream, read one series per Query.

What the aggregates are and why they telescope: domain/analytics.py. Which objects contribute what:
store/analytics_sources.py (item type → domain object → facts and points; event type → facts).

Keys: one partition per series (`AGG#<series>`), one item per period and field
(`<period>|<field>`): a range of periods is one Query, whatever the number of objects behind them
(a series grows with its days and fields — offerings, states — never with resources or orders).
A dated aggregate (`D#`, `M#`) is also listed in gsi2 under its period (`keys.aggregate_listing`),
so the BI export reads one day's aggregates, whatever their series, without a Scan (`listed`).

Writers:
- `fold(record)`: the stream consumer (workflows/publisher.py on AWS, local/stream.py locally)
  hands it every record of a source type. The net moves (`facts(new) - facts(old)`) go in one
  transaction per 99 with a marker item named by the record's `eventID` (`FOLD#<eventID>#<n>`, put
  only if absent, expiring after two days, longer than the stream keeps a record), so a redelivered
  record changes nothing. A record that moves nothing (most MODIFYs: a resource's name, an order's
  callback) writes nothing. Points are conditional updates, only over a point of an earlier record
  (`seq`: the record's sequence number; a series' records are one item's, in one shard, whose
  sequence numbers grow), so a redelivered or late record never overwrites a later one.
- `snapshot(today)`: the daily schedule writes today's point of every gauge on a day that has none
  yet (a quiet day has one too; a change seen that day replaces it).
- `rebuild()`: the ops command (`python -m chalicelib.ops analytics rebuild`) adds up the facts of
  every object stored now (each type listed whole from the index partition that holds it,
  `Source.every`) and of every audit event kept (the staff index's shards), reads the stored sums
  of the series they contribute to (one Query each), and writes the difference (puts and deletes).
  No Scan: a series no stored object contributes to any more is not visited, so a sum left there
  by a lost record would stay (the stream moves a series' sums to zero as its objects go). Points
  are history and stay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.domain import analytics as domain
from chalicelib.domain.analytics import Add, Aggregate, Move, Point
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import DomainError
from chalicelib.store import keys
from chalicelib.store.analytics_sources import (
    EVENT_TYPE,
    Source,
    event_facts,
    event_types,
    every_event,
    folds_event,
    sources,
)
from chalicelib.store.items import AggregateItem, BaseItem, FoldItem
from chalicelib.store.unit_of_work import MAX_ITEMS, UnitOfWork

MARKER_DAYS = 2  # longer than the stream keeps a record (24 hours)
CHUNK = MAX_ITEMS - 1  # the marker takes one place in each transaction


def _item_type(image: Mapping[str, Any] | None) -> str:
    return str(((image or {}).get("type") or {}).get("S", ""))


def folds(record: Mapping[str, Any]) -> bool:
    """Whether a stream record is of a type the aggregates take in (a cheap check on its images:
    what it moves is worked out by `fold`)."""
    change = record.get("dynamodb") or {}
    image = change.get("NewImage") or change.get("OldImage")
    kind = _item_type(image)
    if kind == EVENT_TYPE:
        event_type = str(((image or {}).get("event_type") or {}).get("S", ""))
        return record.get("eventName") == "INSERT" and folds_event(event_type)
    return kind in sources()


class Unreadable(ValueError):
    """A record's image is not an object of its type (it will not become one on a retry)."""


# --- from the stream ------------------------------------------------------------------------------
def _when(record: Mapping[str, Any]) -> datetime:
    """When the change happened (the record's approximate creation time; now, if it has none)."""
    stamp = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    if isinstance(stamp, datetime):
        return stamp.astimezone(UTC)
    if isinstance(stamp, int | float | Decimal | str):
        try:
            return datetime.fromtimestamp(float(stamp), UTC)
        except (ValueError, OverflowError):
            pass
    return utcnow()


def _contributions(
    source: Source, old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
) -> tuple[list[Add], list[Add], list[Point]]:
    try:
        old = source.read(source.item.from_raw_data(dict(old_image))) if old_image else None
        new = source.read(source.item.from_raw_data(dict(new_image))) if new_image else None
    except Exception as exc:  # a malformed image stays malformed
        raise Unreadable(repr(exc)) from exc
    old_adds = list(source.facts(old)) if old is not None else []
    new_adds = list(source.facts(new)) if new is not None else []
    points: list[Point] = []
    if new is not None:
        points = list(source.points(new))
        if old is not None and [(p.series, p.field, p.value) for p in source.points(old)] == [
            (p.series, p.field, p.value) for p in points
        ]:
            points = []  # the gauge did not move: no point for the day
    return old_adds, new_adds, points


def fold(record: Mapping[str, Any]) -> bool:
    """Move the aggregates by one stream record, at most once whatever the number of deliveries;
    True if this call wrote anything. Raises Unreadable for a record no retry can read."""
    change = record.get("dynamodb") or {}
    name = record.get("eventName")
    old_image = change.get("OldImage") if name != "INSERT" else None
    new_image = change.get("NewImage") if name != "REMOVE" else None
    kind = _item_type(new_image or old_image)
    if kind == EVENT_TYPE:
        if name != "INSERT" or not new_image:
            return False
        from chalicelib.store.events import event_from_image

        try:
            event = event_from_image(dict(new_image))
        except Exception as exc:
            raise Unreadable(repr(exc)) from exc
        if event is None:
            return False
        old_adds: list[Add] = []
        new_adds = list(event_facts(event))
        points: list[Point] = []
    else:
        source = sources().get(kind)
        if source is None:
            return False
        old_adds, new_adds, points = _contributions(source, old_image, new_image)
    wrote = apply(str(record["eventID"]), domain.moves(old_adds, new_adds))
    today = domain.day(_when(record))
    seq = _sequence(record)
    for point in points:
        wrote = put_point(point, today, seq) or wrote
    return wrote


SEQ_DIGITS = 40  # a stream sequence number has 21 to 40 digits


def _sequence(record: Mapping[str, Any]) -> str:
    """The record's sequence number, zero-padded so that text order is number order."""
    number = str((record.get("dynamodb") or {}).get("SequenceNumber") or "0")
    return number.zfill(SEQ_DIGITS) if number.isdigit() else "0" * SEQ_DIGITS


class _AlreadyFolded(DomainError):
    """The chunk's marker exists: an earlier delivery applied it (never reaches a user)."""


def _aggregate(series: str, period: str, field: str) -> AggregateItem:
    item = AggregateItem(pk=keys.aggregate_pk(series), sk=keys.aggregate_sk(period, field))
    listing = keys.aggregate_listing(series, period)
    if listing is not None:
        item.gsi2pk, item.gsi2sk = listing, f"{series}{keys.AGGREGATE_SEP}{field}"
    return item


def _listed(item: AggregateItem) -> list[Action]:
    """The actions that list a dated aggregate in its period's gsi2 partitions (the export's read)."""
    if item.gsi2pk is None:
        return []
    return [AggregateItem.gsi2pk.set(item.gsi2pk), AggregateItem.gsi2sk.set(str(item.gsi2sk))]


def apply(record_id: str, moves: Sequence[Move]) -> bool:
    """Apply moves once per `record_id` (chunks of 99, each with its marker); True if any chunk
    was applied by this call."""
    applied = False
    expires_at = utcnow() + timedelta(days=MARKER_DAYS)
    for start in range(0, len(moves), CHUNK):
        uow = UnitOfWork()
        marker = FoldItem(
            pk=keys.fold_pk(f"{record_id}#{start // CHUNK}"), sk=keys.META, expires_at=expires_at
        )
        uow.put(marker, condition=FoldItem.pk.does_not_exist(), on_conflict=_AlreadyFolded)
        for move in moves[start : start + CHUNK]:
            actions = [
                AggregateItem.value.add(move.amount),
                AggregateItem.type.set(AggregateItem),
                AggregateItem.series.set(move.series),
                AggregateItem.period.set(move.period),
                AggregateItem.field.set(move.field),
            ]
            if move.label:
                actions.append(AggregateItem.label.set(move.label))
            aggregate = _aggregate(move.series, move.period, move.field)
            uow.update(aggregate, [*actions, *_listed(aggregate)])
        try:
            uow.commit()
        except _AlreadyFolded:
            continue
        applied = True
    return applied


def put_point(point: Point, period: str, seq: str = "") -> bool:
    """Write a gauge's value for `period` unless a point of the same or a later record is there
    (`seq`: the record's padded sequence number; "" (the snapshot): only where no point is)."""
    item = _aggregate(point.series, period, point.field)
    actions: list[Action] = [
        AggregateItem.value.set(Decimal(point.value)),
        AggregateItem.seq.set(seq),
        AggregateItem.type.set(AggregateItem),
        AggregateItem.series.set(point.series),
        AggregateItem.period.set(period),
        AggregateItem.field.set(point.field),
        AggregateItem.label.set(point.label),
        *_listed(item),
    ]
    try:
        item.update(actions=actions, condition=AggregateItem.seq.does_not_exist() | (AggregateItem.seq < seq))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


# --- reads ----------------------------------------------------------------------------------------
def _row(item: AggregateItem) -> Aggregate:
    return Aggregate(item.series, item.period, item.field, Decimal(str(item.value)), item.label or "")


def read(series: str, start: str, end: str) -> list[Aggregate]:
    """Every aggregate of `series` with a period from `start` to `end` (both included), in period
    order: one Query (more pages only past 1 MB)."""
    condition = AggregateItem.sk.between(f"{start}{keys.AGGREGATE_SEP}", f"{end}{keys.AGGREGATE_LAST}")
    return [_row(item) for item in AggregateItem.query(keys.aggregate_pk(series), condition)]


def read_now(series: str) -> list[Aggregate]:
    """The current values of a series (period NOW)."""
    return read(series, domain.NOW, domain.NOW)


def latest(series: str, before: str) -> list[Aggregate]:
    """The aggregates of the last period before `before` (a gauge's value carried into a range
    with no point of its own): one Query, newest first."""
    condition = AggregateItem.sk < f"{before}{keys.AGGREGATE_SEP}"
    rows: list[Aggregate] = []
    for item in AggregateItem.query(
        keys.aggregate_pk(series), condition, scan_index_forward=False, page_size=20
    ):
        if rows and item.period != rows[0].period:
            break
        if item.period.startswith(domain.NOW):
            continue
        rows.append(_row(item))
    return rows


def listed(period: str) -> list[tuple[Aggregate, bool]]:
    """Every aggregate of one dated period (`D#2026-12-05`, `M#2026-12`), whatever its series, with
    whether it is a gauge's point (else a fact sum), by series and field: a Query per gsi2 shard of
    the period (the export's read; a period's aggregates grow with its series, not with objects)."""
    rows: list[tuple[Aggregate, bool]] = []
    for partition in keys.aggregate_listings(period):
        for item in BaseItem.gsi2.query(partition):
            if isinstance(item, AggregateItem):
                rows.append((_row(item), item.seq is not None))
    return sorted(rows, key=lambda r: (r[0].series, r[0].field))


# --- the daily snapshot ---------------------------------------------------------------------------
def snapshot(today: date) -> int:
    """Write today's point of every gauge of every source that has them (a quiet day has a point
    too); the number written (a point already as new is left alone)."""
    written = 0
    period = domain.day(today)
    for source in sources().values():
        if not source.has_points or source.every is None:
            continue
        for item in source.every():
            for point in source.points(source.read(item)):
                written += put_point(point, period)
    return written


# --- the rebuild ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rebuild:
    objects: int  # objects and events whose facts were added up
    written: int  # aggregates put (new or different)
    deleted: int  # aggregates no object contributes to any more
    unchanged: int

    def as_dict(self) -> dict[str, int]:
        return {
            "objects": self.objects,
            "written": self.written,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
        }


def _facts_now() -> tuple[int, list[list[Add]]]:
    """Every stored object's and every kept event's facts, as they stand: each source type listed
    whole from its index partition (`Source.every`), the events from the staff index's shards."""
    from chalicelib.store.events import _event

    contributions: list[list[Add]] = []
    for kind, source in sources().items():
        if source.every is None:
            raise RuntimeError(f"analytics source {kind!r} names no listing of its items")
        contributions += [list(source.facts(source.read(item))) for item in source.every()]
    if event_types():
        contributions += [list(event_facts(_event(item))) for item in every_event()]
    return len(contributions), contributions


def stored_sums(series: Iterable[str] | None = None) -> dict[tuple[str, str, str], tuple[Decimal, str]]:
    """The fact sums stored (points left out) of `series` (default: every series the stored
    objects contribute to), key → (value, label): one Query per series. A sum the stream moved back
    to zero (a resource's limits after its termination) is left out: it reads as one never written,
    as the rebuild's totals leave it out, so it is no difference between them."""
    if series is None:
        series = {key[0] for key in domain.totals(_facts_now()[1])}
    out: dict[tuple[str, str, str], tuple[Decimal, str]] = {}
    for name in sorted(set(series)):
        for item in AggregateItem.query(keys.aggregate_pk(name)):
            if item.seq is None and Decimal(str(item.value)) != 0:
                out[(item.series, item.period, item.field)] = (Decimal(str(item.value)), item.label or "")
    return out


def rebuild(dry_run: bool = False) -> Rebuild:
    """Recompute every fact sum from what is stored now and write the difference. Run it while the
    stream consumer is quiet (a change folded between the reads and the writes would be counted
    from the objects and again by the stream)."""
    objects, contributions = _facts_now()
    wanted = domain.totals(contributions)
    stored = stored_sums({key[0] for key in wanted})
    changed = {key: value for key, value in wanted.items() if stored.get(key) != value}
    # A sum the stream brought back to zero (an order that left a state) reads as one never
    # written: it is no difference (and is left alone).
    gone = [key for key, (value, _) in stored.items() if key not in wanted and value != 0]
    if not dry_run:
        with AggregateItem.batch_write() as batch:
            for (series, period, field), (value, label) in changed.items():
                item = _aggregate(series, period, field)
                item.series, item.period, item.field = series, period, field
                item.value, item.label = value, label
                batch.save(item)
            for series, period, field in gone:
                batch.delete(_aggregate(series, period, field))
    return Rebuild(objects, len(changed), len(gone), len(wanted) - len(changed))


def dump(rows: Iterable[Aggregate]) -> str:
    """Rows as JSON lines (for the ops command's output and the export)."""
    return "\n".join(
        json.dumps(
            {
                "series": r.series,
                "period": r.period,
                "field": r.field,
                "value": str(r.value),
                "label": r.label,
            }
        )
        for r in rows
    )
