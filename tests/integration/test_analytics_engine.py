"""The analytics aggregates kept from the table's stream (store/analytics.py): a change moves them
once however often its record is delivered, a rebuild from what is stored equals what the stream
built, and the daily snapshot gives every quota a point for the day."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.domain import analytics as domain
from chalicelib.domain.analytics_quotas import USERS_BY_REGISTRATION, quota_series
from chalicelib.domain.clock import utcnow
from tests.helpers import create_customer, create_project


def _today() -> str:
    return domain.day(utcnow())


def test_users_are_counted_by_registration_method_on_the_day_they_joined(client, staff, alice, settle):
    from chalicelib.store import analytics

    settle()
    rows = analytics.read(USERS_BY_REGISTRATION, _today(), _today())
    assert domain.by_field(rows) == {"default": Decimal(2)}  # staff and alice


def test_a_customers_quota_usage_has_a_point_on_the_day_it_changed(client, staff, settle):
    from chalicelib.store import analytics

    acme = create_customer(client, staff, "Acme")
    create_project(client, staff, acme, "Apollo")
    create_project(client, staff, acme, "Gemini")
    settle()
    name = quota_series("customer", acme["uuid"], "nc_project_count")
    [usage] = [r for r in analytics.read(name, _today(), _today()) if r.field == "usage"]
    assert usage.value == 2
    # read from a later day, the last point carries the value
    assert {r.field: r.value for r in analytics.latest(name, domain.day(utcnow().replace(year=2100)))} == {
        "usage": Decimal(2),
        "limit": Decimal(-1),
    }


def test_a_record_delivered_again_moves_nothing(client, staff, alice):
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import analytics

    acme = create_customer(client, staff, "Acme")
    create_project(client, staff, acme, "Apollo")
    first: list[bool] = []
    again: list[bool] = []

    def deliver_twice(batch: dict) -> dict:
        records = [r for r in batch["Records"] if analytics.folds(r)]
        first.extend(analytics.fold(record) for record in records)
        built = analytics.stored_sums()
        again.extend(analytics.fold(record) for record in records)  # the same records, the same eventIDs
        assert analytics.stored_sums() == built
        return {"batchItemFailures": []}

    StreamReader(handler=deliver_twice).poll_once()
    assert any(first) and not any(again)
    assert domain.by_field(analytics.read(USERS_BY_REGISTRATION, _today(), _today())) == {
        "default": Decimal(2)
    }


def test_a_rebuild_equals_what_the_stream_built_and_repairs_a_lost_aggregate(client, staff, alice, settle):
    from chalicelib.store import analytics, keys
    from chalicelib.store.items import AggregateItem

    create_customer(client, staff, "Acme")
    settle()
    built = analytics.stored_sums()
    assert built  # the two users
    report = analytics.rebuild(dry_run=True)
    assert (report.written, report.deleted) == (0, 0)

    # an aggregate lost (or a record dead-lettered): the rebuild puts it back
    (series, period, field) = next(iter(built))
    AggregateItem(pk=keys.aggregate_pk(series), sk=keys.aggregate_sk(period, field)).delete()
    assert analytics.rebuild().written == 1
    assert analytics.stored_sums() == built


def test_the_daily_snapshot_gives_every_quota_a_point_once(client, staff, settle):
    from chalicelib.store import analytics

    acme = create_customer(client, staff, "Acme")
    apollo = create_project(client, staff, acme, "Apollo")
    tomorrow = utcnow().date().replace(year=2100)
    written = analytics.snapshot(tomorrow)
    assert written == 2 * (3 + 1)  # usage and limit of the customer's three quotas and the project's one
    assert analytics.snapshot(tomorrow) == 0
    rows = analytics.read(
        quota_series("project", apollo["uuid"], "nc_resource_count"),
        domain.day(tomorrow),
        domain.day(tomorrow),
    )
    assert {r.field: r.value for r in rows} == {"usage": Decimal(0), "limit": Decimal(-1)}
