"""The monthly run as it runs on AWS: the schedule's task fans the customers out in batches on the
`heavy` queue, each batch runs on a worker; a crash half-way and a rerun leave exactly what one clean
run leaves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import metrics
from chalicelib.domain import clock
from tests.integration.test_billing import COMPONENTS, PLANS, at, snapshot
from tests.marketplace_helpers import build_market, ctx_of, make_offering, order_request

CUSTOMERS = 5  # with a resource each, plus the market's provider (no resources)


@pytest.fixture
def aws(stack: None) -> Iterator[None]:
    yield


@pytest.fixture
def world(aws: None, staff: Any) -> Iterator[dict[str, Any]]:
    """`CUSTOMERS` customers, each with a project and a resource made on 15 November 2026."""
    from chalicelib.services import customers, orders, projects

    clock.set_source(lambda: at("2026-11-15T10:00:00"))
    market = build_market(staff)
    offering = make_offering(staff, market.provider.id, name="Billed", components=COMPONENTS, plans=PLANS)
    ctx = ctx_of(staff)
    ids = [market.provider.id]
    for n in range(CUSTOMERS):
        customer = market.consumer if n == 0 else customers.create_customer(ctx, {"name": f"Customer {n}"})
        project = market.project if n == 0 else projects.create_project(ctx, customer.id, {"name": "P"})
        market.project = project
        order = orders.create_order(ctx, order_request(market, offering, limits={"cpu": n + 1}))
        orders.approve_by_provider(ctx, order.id)
        orders.set_state_done(ctx, order.id)
        ids.append(customer.id)
    yield {"market": market, "customers": ids}
    clock.set_source(None)


def december() -> None:
    clock.set_source(lambda: datetime(2026, 12, 1, 0, 0, 5, tzinfo=UTC))


def serve_heavy() -> int:
    """Run what waits on `heavy` through the same consumer the Lambdas run; how many ran."""
    from tests.workflow_helpers import deliver_once

    ran = 0
    while True:
        received, failed = deliver_once("heavy")
        assert failed == []
        if received == 0:
            return ran
        ran += received


def sqs_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQS operations the code under test makes (botocore's before-call event)."""
    from chalicelib.workflows.aws import client

    made: list[str] = []
    sqs = client("sqs")
    sqs.meta.events.register("before-call.sqs.*", lambda model, **_: made.append(model.name))
    return made


def test_the_schedule_fans_customers_out_in_batches_on_heavy(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.workflows import billing as run
    from chalicelib.workflows.consumer import run as run_task
    from chalicelib.workflows.queues import envelope_for

    monkeypatch.setenv("CIRRUS_INVOICE_BATCH_SIZE", "2")
    december()
    calls = sqs_calls(monkeypatch)
    with metrics.capture() as seen:
        assert run_task(envelope_for(run.START_TASK, {}))
        # 6 customers in batches of 2: 3 messages, in one SendMessageBatch call.
        assert calls.count("SendMessageBatch") == 1 and "SendMessage" not in calls
        assert serve_heavy() == 3
    assert seen.names() == ["BillingRuns", "BillingBatches", "BillingBatches", "BillingBatches"]
    assert seen[0]["batches"] == 3 and sum(d["customers"] for d in seen[1:]) == 6
    shots = snapshot(world["customers"], 2026, 12)
    assert all(s is not None and s[1] == "pending" for s in shots)
    november = snapshot(world["customers"], 2026, 11)
    assert all(s is not None and s[1] == "created" for s in november[1:])
    # Each consumer's December: its fixed IP and its cpu limit, whole months.
    assert [len(s[4]) for s in shots] == [0, 2, 2, 2, 2, 2]


def test_a_run_killed_half_way_then_run_again_equals_one_clean_run(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kill the run in the middle of the fourth customer's items (one item written of two), run the
    month again from the start, and compare with one clean run from the same starting table."""
    from chalicelib.services import billing
    from chalicelib.store.unit_of_work import UnitOfWork  # the kind bound on moto (not the Protocol)

    customers = world["customers"]
    before = dump_table()
    december()
    clean = billing.run_month(ctx_of(world["market"].staff), 2026, 12, customers)
    clean_result = snapshot(customers, 2026, 12) + snapshot(customers, 2026, 11)
    restore_table(before)

    monkeypatch.setattr(billing, "CHUNK", 1)
    writes = [0]
    original = UnitOfWork.commit

    def dies_on_the_ninth_write(self: Any) -> None:
        writes[0] += 1
        if writes[0] == 9:  # 3rd consumer: its issue, its first item, then dies
            raise SystemExit("killed")  # the Lambda dies mid-batch
        original(self)

    monkeypatch.setattr(UnitOfWork, "commit", dies_on_the_ninth_write)
    with pytest.raises(SystemExit):
        billing.run_month(ctx_of(world["market"].staff), 2026, 12, customers)
    monkeypatch.setattr(UnitOfWork, "commit", original)
    half = snapshot(customers, 2026, 12)
    assert half[-1] is None  # the last customers were not reached
    assert sum(len(s[4]) for s in half if s) < sum(len(s[4]) for s in clean_result[:6] if s)

    rerun = billing.run_month(ctx_of(world["market"].staff), 2026, 12, customers)
    assert snapshot(customers, 2026, 12) + snapshot(customers, 2026, 11) == clean_result
    assert rerun.items_made + sum(len(s[4]) for s in half if s) == clean.items_made
    again = billing.run_month(ctx_of(world["market"].staff), 2026, 12, customers)
    assert (again.issued, again.invoices_made, again.items_made) == (0, 0, 0)
    numbers = [i.number for i in invoices_of(customers)]
    assert len(numbers) == len(set(numbers))  # unique, though a rerun may leave gaps


def invoices_of(customer_ids: list[str]) -> list[Any]:
    from chalicelib.store import invoices

    found = []
    for customer_id in customer_ids:
        found += invoices.headers_of_customer(customer_id)
    return found


def dump_table() -> list[dict[str, Any]]:
    from chalicelib.config import get_settings
    from chalicelib.workflows.aws import client

    dynamodb = client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": get_settings().table_name}
    while True:
        page = dynamodb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def restore_table(items: list[dict[str, Any]]) -> None:
    """Put the table back as `dump_table` saw it (test set-up only: a Scan is fine here)."""
    from chalicelib.config import get_settings
    from chalicelib.workflows.aws import client

    dynamodb = client("dynamodb")
    table = get_settings().table_name
    for item in dump_table():
        dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    for item in items:
        dynamodb.put_item(TableName=table, Item=item)


def test_a_failing_batch_is_counted_each_try_and_once_when_it_goes_through(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services import billing
    from chalicelib.workflows import billing as run
    from chalicelib.workflows.queues import enqueue
    from tests.workflow_helpers import deliver_once

    december()
    real, tries = billing.run_month, [0]

    def fails_once(*args: Any) -> Any:
        tries[0] += 1
        if tries[0] == 1:
            raise RuntimeError("throttled")
        return real(*args)

    monkeypatch.setattr(billing, "run_month", fails_once)
    enqueue(run.BATCH_TASK, {"year": 2026, "month": 12, "customer_ids": world["customers"][:2]})
    with metrics.capture() as seen:
        assert deliver_once("heavy")[1] != []  # the failed try goes back to the queue
        assert deliver_once("heavy") == (1, [])
        assert deliver_once("heavy") == (0, [])
    assert seen.names() == ["BillingBatchFailures", "BillingBatches"]
