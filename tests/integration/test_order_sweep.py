"""The hourly sweep of stranded orders (issue 14, item 9): an order still waiting whose workflow
never started, or ended, gets a new execution from the scheduled task, once; an order whose
workflow runs, a final one and a fresh one are left alone. On the `stack` fixture: moto records
executions and does not run them, so a started execution stays RUNNING."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.domain.context import EventContext
from chalicelib.domain.vocabulary import OrderState
from chalicelib.services import orders
from chalicelib.store import orders as order_store
from chalicelib.workflows import order_sweep, registry, stepfunctions
from chalicelib.workflows.aws import client
from chalicelib.workflows.schedules import SCHEDULES
from tests.marketplace_helpers import ctx_of, order_request


@pytest.fixture
def aws(stack):
    yield


def run_schedule(after: timedelta = order_sweep.GRACE + timedelta(minutes=1)) -> dict[str, int]:
    """Fire the hourly schedule's task as its worker would, `after` from now."""
    (entry,) = [s for s in SCHEDULES if s.name == "restart-stranded-orders"]
    assert entry.expression == "rate(1 hour)"
    now = clock.utcnow()
    clock.set_source(lambda: now + after)
    try:
        return registry.get(entry.task).handler(dict(entry.payload), EventContext())
    finally:
        clock.set_source(None)


def status(order) -> str | None:
    return stepfunctions.execution_status("order", order.execution_name)[0]


def placed_without_a_workflow(market, monkeypatch):
    """An order whose start failed in the request (the state machine was missing) and whose queued
    retry never ran: pending, with no execution."""
    real = stepfunctions.state_machine_arn("order")
    monkeypatch.setenv("CIRRUS_STATE_MACHINE_ARN_ORDER", real + "-missing")
    order = orders.create_order(ctx_of(market.member), order_request(market))
    monkeypatch.setenv("CIRRUS_STATE_MACHINE_ARN_ORDER", real)
    assert order.state is OrderState.PENDING_CONSUMER and status(order) is None
    return order


def test_an_order_whose_workflow_never_started_is_started_once(market, monkeypatch):
    order = placed_without_a_workflow(market, monkeypatch)

    first = run_schedule()
    second = run_schedule()

    assert (first["checked"], first["restarted"]) == (1, 1)
    assert status(order) == "RUNNING"
    assert (second["checked"], second["running"], second["restarted"]) == (1, 1, 0)


def test_an_order_whose_execution_ended_gets_a_new_one_and_keeps_its_state(market):
    order = orders.create_order(ctx_of(market.member), order_request(market))
    sfn = client("stepfunctions")
    arn = stepfunctions.execution_arn(stepfunctions.state_machine_arn("order"), order.execution_name)
    sfn.stop_execution(executionArn=arn, error="Test", cause="stopped by hand")
    assert status(order) == "ABORTED"

    first = run_schedule()
    second = run_schedule()

    assert first["restarted"] == 1 and second["restarted"] == 0
    again = order_store.load(order.customer_id, order.id)
    assert again.state is OrderState.PENDING_CONSUMER and again.executions == 2
    assert again.execution_name == f"{order.id}-2" and status(again) == "RUNNING"
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"  # the old one untouched


def test_fresh_running_and_final_orders_are_left_alone(market, monkeypatch):
    fresh = placed_without_a_workflow(market, monkeypatch)
    canceled = orders.create_order(ctx_of(market.member), order_request(market))
    orders.cancel_order(ctx_of(market.member), canceled.id)
    running = orders.create_order(ctx_of(market.member), order_request(market))

    # Within the grace period nothing is even read; later only the open orders are.
    assert run_schedule(after=timedelta(minutes=1))["checked"] == 0
    swept = run_schedule()

    assert (swept["checked"], swept["restarted"], swept["running"]) == (2, 1, 1)
    assert status(fresh) == "RUNNING" and status(running) == "RUNNING"
    assert order_store.load(canceled.customer_id, canceled.id).executions == 1


def test_an_order_changed_within_the_grace_period_waits_for_the_next_run(market, monkeypatch):
    """An old order changed a moment ago may have a start in flight (a retry after `erred` starts
    one after its commit): the sweep leaves it to a later run."""
    order = placed_without_a_workflow(market, monkeypatch)
    later = clock.utcnow() + timedelta(minutes=10)
    clock.set_source(lambda: later)
    try:
        orders.approve_by_consumer(ctx_of(market.owner), order.id)
    finally:
        clock.set_source(None)

    swept = order_sweep.sweep(later + order_sweep.GRACE - timedelta(minutes=5))

    assert (swept["checked"], swept["skipped"], swept["restarted"]) == (1, 1, 0)
    assert status(order) is None
