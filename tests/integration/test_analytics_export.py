"""The BI export (workflows/analytics.py `analytics.export`): a day's aggregates and audit events go
to the export bucket (moto's S3) as gzipped JSON lines under Hive-style day partitions, read
without a Scan, and a day exported again replaces the same keys."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import analytics as domain
from chalicelib.domain.analytics import Move, Point
from chalicelib.domain.analytics_quotas import USERS_BY_REGISTRATION, quota_series
from chalicelib.domain.clock import utcnow
from tests.helpers import create_customer, create_project


def _objects() -> dict[str, list[dict[str, Any]]]:
    """Every object in the export bucket: key → its JSON lines."""
    from chalicelib.config import get_settings
    from chalicelib.workflows.aws import client

    s3, bucket = client("s3"), get_settings().export_bucket_name
    out = {}
    for entry in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        text = gzip.decompress(body).decode()
        out[entry["Key"]] = [json.loads(line) for line in text.splitlines()]
    return out


def _event_id(when: datetime, tail: str) -> str:
    """A UUIDv7 made at `when` (its first 48 bits are the milliseconds)."""
    ms = int(when.timestamp() * 1000)
    return f"{ms:012x}7{tail:0>19}"


def _store_event(event_id: str, created: datetime, customer_id: str | None = None) -> None:
    from chalicelib.domain.events import Event
    from chalicelib.store.outbox import event_items

    event = Event(
        "customer_update_succeeded", "edited", {"note": 'a "quoted" <b>'}, customer_id, event_id, created
    )
    for item in event_items(event, 365):
        item.save()


def test_a_days_aggregates_and_events_are_written_under_its_partition(client, staff, alice, settle):
    from chalicelib.store import analytics, events
    from chalicelib.workflows.analytics import export_day

    acme = create_customer(client, staff, "Acme")
    apollo = create_project(client, staff, acme, "Apollo")
    gemini = create_project(client, staff, acme, "Gemini")
    settle()
    today = utcnow().date()

    report = export_day(today)

    objects = _objects()
    aggregates_key = f"aggregates/dt={today.isoformat()}/part-0000.jsonl.gz"
    events_key = f"events/dt={today.isoformat()}/part-0000.jsonl.gz"
    assert set(objects) == {aggregates_key, events_key}
    rows = objects[aggregates_key]
    by_key = {(r["series"], r["field"]): r for r in rows}
    # Counted by hand: staff and alice joined today; Acme has two projects (its three quotas'
    # usage and limit as points), each project none of its one quota's resources.
    assert by_key[(USERS_BY_REGISTRATION, "default")] == {
        "series": USERS_BY_REGISTRATION,
        "period": domain.day(today),
        "field": "default",
        "label": "",
        "kind": "sum",
        "value": 2,
    }
    customer_quota = quota_series("customer", acme["uuid"], "nc_project_count")
    assert (by_key[(customer_quota, "usage")]["value"], by_key[(customer_quota, "usage")]["kind"]) == (
        2,
        "point",
    )
    assert by_key[(customer_quota, "limit")]["value"] == -1
    for project in (apollo, gemini):
        assert by_key[(quota_series("project", project["uuid"], "nc_resource_count"), "usage")]["value"] == 0
    quota_rows = [r for r in rows if r["series"].startswith("quota#")]
    assert len(quota_rows) == 2 * 3 + 2 * 2 * 1
    # every row is the stored aggregate, and the day's only
    for row in rows:
        assert row["period"] == domain.day(today)
        [stored] = [
            a for a in analytics.read(row["series"], row["period"], row["period"]) if a.field == row["field"]
        ]
        assert Decimal(str(row["value"])) == stored.value
    assert report["aggregates"]["rows"] == len(rows)

    logged = [e for e in events.every_event() if e.created.date() == today]
    lines = objects[events_key]
    assert [line["uuid"] for line in lines] == [e.id for e in logged]  # every one, oldest first
    created = next(line for line in lines if line["event_type"] == "customer_creation_succeeded")
    assert created["customer_uuid"] == acme["uuid"]
    assert f"customer:{acme['uuid']}" in created["scopes"]
    assert json.loads(created["context"])["customer_uuid"] == acme["uuid"]
    assert datetime.fromisoformat(created["created"].replace("Z", "+00:00")).date() == today
    assert report["events"]["rows"] == len(lines)


def test_a_day_takes_the_events_of_its_own_utc_day_and_exporting_again_replaces_it(client, staff):
    from chalicelib.workflows.analytics import export_day

    day = date(2026, 11, 20)
    midnight = datetime.combine(day, time.min, UTC)
    _store_event(_event_id(midnight - timedelta(milliseconds=1), "1"), midnight - timedelta(milliseconds=1))
    first = _event_id(midnight, "2")
    last = _event_id(midnight + timedelta(days=1) - timedelta(milliseconds=1), "3")
    _store_event(last, midnight + timedelta(days=1) - timedelta(milliseconds=1))
    _store_event(first, midnight)
    _store_event(_event_id(midnight + timedelta(days=1), "4"), midnight + timedelta(days=1))

    export_day(day)
    key = f"events/dt={day.isoformat()}/part-0000.jsonl.gz"
    lines = _objects()[key]
    assert [line["uuid"] for line in lines] == [first, last]
    assert json.loads(lines[0]["context"]) == {"note": 'a "quoted" <b>'}

    # Again, after one more event of the day: the same key, replaced whole (no duplicate, no stale part)
    middle = _event_id(midnight + timedelta(hours=12), "5")
    _store_event(middle, midnight + timedelta(hours=12))
    export_day(day)
    again = _objects()
    assert [line["uuid"] for line in again[key]] == [first, middle, last]
    assert sorted(again) == [f"aggregates/dt={day.isoformat()}/part-0000.jsonl.gz", key]


def test_a_months_figures_go_out_with_its_last_day(aws):
    from chalicelib.store import analytics
    from chalicelib.workflows.analytics import export_day

    analytics.apply(
        "test-record",
        [
            Move("cost#offering#x", "M#2026-11", "total", Decimal("12.345")),
            Move("orders#offering#x", "D#2026-11-30", "done", Decimal(3), label="Offering <X>"),
            Move("orders#offering#x", "D#2026-11-29", "done", Decimal(1)),
            Move("active#offering", domain.NOW, "x", Decimal(7)),
            Move("orders#offering#x", "D#2026-11-29", "erred", Decimal(1)),
        ],
    )
    # a sum moved back to zero (the erred order is gone) is no row; a gauge's point at zero is one
    analytics.apply("test-record-2", [Move("orders#offering#x", "D#2026-11-29", "erred", Decimal(-1))])
    analytics.put_point(Point("quota#customer#c#nc_resource_count", "usage", 0), "D#2026-11-29")
    export_day(date(2026, 11, 29))
    export_day(date(2026, 11, 30))
    objects = _objects()
    assert objects["aggregates/dt=2026-11-29/part-0000.jsonl.gz"] == [
        {
            "series": "orders#offering#x",
            "period": "D#2026-11-29",
            "field": "done",
            "label": "",
            "kind": "sum",
            "value": 1,
        },
        {
            "series": "quota#customer#c#nc_resource_count",
            "period": "D#2026-11-29",
            "field": "usage",
            "label": "",
            "kind": "point",
            "value": 0,
        },
    ]
    last_day = objects["aggregates/dt=2026-11-30/part-0000.jsonl.gz"]
    assert [(r["series"], r["period"], r["value"], r["label"]) for r in last_day] == [
        ("orders#offering#x", "D#2026-11-30", 3, "Offering <X>"),
        ("cost#offering#x", "M#2026-11", 12.345, ""),
    ]
    # the decimal is written as it is, not through a float
    from chalicelib.config import get_settings
    from chalicelib.workflows.aws import client

    body = (
        client("s3")
        .get_object(
            Bucket=get_settings().export_bucket_name, Key="aggregates/dt=2026-11-30/part-0000.jsonl.gz"
        )["Body"]
        .read()
    )
    assert b'"value": 12.345}' in gzip.decompress(body)


def test_reading_a_day_queries_its_listing_and_never_scans(client, staff, alice, settle):
    from chalicelib.store.analytics_export import periods
    from chalicelib.workflows.analytics import export_day
    from tests.ddb_costs import Meter

    create_customer(client, staff, "Acme")
    settle()
    today = utcnow().date()
    with Meter.installed() as meter, meter.measuring() as cost:
        export_day(today)
    # a Query per listing shard of each period (the day; on a month's last day the month too) and
    # per shard of the events' index: as many for ten customers as for one
    assert cost.ops == ["Query"] * (4 * len(periods(today)) + 4)


def test_a_large_day_goes_up_in_parts(aws, monkeypatch):
    import moto.s3.models

    from chalicelib import exports

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 256)
    sink = exports.S3Export(part_bytes=16 * 1024)
    lines = [json.dumps({"n": i, "pad": os.urandom(32).hex()}) for i in range(2000)]  # ~80 kB gzipped
    written = sink.write(exports.key(exports.EVENTS, date(2026, 1, 2)), iter(lines))
    assert written.parts >= 4 and written.rows == 2000
    [(key, stored)] = _objects().items()
    assert key == "events/dt=2026-01-02/part-0000.jsonl.gz"
    assert [json.loads(json.dumps(s)) for s in stored] == [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"day": "2026-13-01"}, "ISO date"),
        ({"day": "2026-12-06"}, "not over"),
        ({"day": "2027-01-01"}, "not over"),
    ],
)
def test_the_task_refuses_a_day_that_is_not_a_past_date(payload, error):
    from chalicelib.workflows.analytics import BadExportDay, export_payload_day

    with pytest.raises(BadExportDay, match=error):
        export_payload_day(payload, date(2026, 12, 6))
    assert export_payload_day({}, date(2026, 12, 6)) == date(2026, 12, 5)
    assert export_payload_day({"day": "2026-12-05"}, date(2026, 12, 6)) == date(2026, 12, 5)


def test_the_export_is_scheduled_daily_on_the_background_queue():
    from chalicelib.workflows.registry import BACKGROUND_QUEUE, load_all
    from chalicelib.workflows.schedules import SCHEDULES

    [schedule] = [s for s in SCHEDULES if s.task == "analytics.export"]
    assert schedule.expression.startswith("cron(") and schedule.expression.endswith("* * ? *)")
    assert load_all()["analytics.export"].queue == BACKGROUND_QUEUE


def test_an_aggregate_the_rebuild_puts_back_is_listed_for_its_day_again(client, staff, alice, settle):
    from chalicelib.store import analytics, keys
    from chalicelib.store.analytics_export import aggregate_lines
    from chalicelib.store.items import AggregateItem

    settle()
    today = utcnow().date()
    before = list(aggregate_lines(today))
    report = analytics.rebuild(dry_run=True)
    assert (report.written, report.deleted) == (0, 0)
    AggregateItem(
        pk=keys.aggregate_pk(USERS_BY_REGISTRATION), sk=keys.aggregate_sk(domain.day(today), "default")
    ).delete()
    assert not any(USERS_BY_REGISTRATION in line for line in aggregate_lines(today))
    assert analytics.rebuild().written == 1
    assert list(aggregate_lines(today)) == before


def test_the_ops_command_exports_a_past_day_and_refuses_today(aws, capsys):
    import io

    from chalicelib import ops

    out = io.StringIO()
    assert ops.main(["analytics", "export", "--day", "2026-11-20"], out=out) == 0
    report = json.loads(out.getvalue())
    assert report["events"] == {"key": "events/dt=2026-11-20/part-0000.jsonl.gz", "rows": 0, "bytes": 20}
    assert set(_objects()) == {report["aggregates"]["key"], report["events"]["key"]}
    assert ops.main(["analytics", "export", "--day", utcnow().date().isoformat()], out=io.StringIO()) == 2
    assert "not over yet" in capsys.readouterr().err
