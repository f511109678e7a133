"""An order never loses its workflow: a start that fails in the request is retried from the tasks
queue, and the published `marketplace_order_created` event starts it too (the outbox: a request
that died right after its commit), idempotently, so the usual case starts one execution only."""

from __future__ import annotations

import pytest

from chalicelib.services import order_lifecycle, orders
from chalicelib.workflows import order_workflow, stepfunctions
from chalicelib.workflows.aws import client
from chalicelib.workflows.registry import TASKS_QUEUE
from tests.marketplace_helpers import ctx_of, order_request
from tests.workflow_helpers import deliver_once

NOWHERE = "arn:aws:states:us-east-1:123456789012:stateMachine:cirrus-gone"


@pytest.fixture
def aws(stack):
    yield


def executions() -> list[str]:
    machine = stepfunctions.state_machine_arn("order")
    return [e["name"] for e in client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]]


def drain(queue: str) -> list[str]:
    import json

    from chalicelib.workflows.queues import queue_url

    sqs, tasks = client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=queue_url(queue), MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            tasks.append(json.loads(message["Body"])["task"])
            sqs.delete_message(QueueUrl=queue_url(queue), ReceiptHandle=message["ReceiptHandle"])
    return tasks


def test_a_start_that_fails_in_the_request_is_retried_from_the_tasks_queue(market, monkeypatch):
    real = stepfunctions.state_machine_arn("order")
    monkeypatch.setattr(order_lifecycle, "START_RETRY_DELAY", 0)
    monkeypatch.setenv("CIRRUS_STATE_MACHINE_ARN_ORDER", NOWHERE)  # Step Functions refuses the start

    order = orders.create_order(ctx_of(market.owner), order_request(market))

    assert order.state.value == "pending-provider"  # the order is made all the same
    monkeypatch.setenv("CIRRUS_STATE_MACHINE_ARN_ORDER", real)
    assert executions() == []
    received, failed = deliver_once(TASKS_QUEUE, wait=1)
    # At least the retry: on a loaded machine an execution left running by an earlier test (moto
    # runs them in threads past their test's end) may drop its own task into this queue.
    assert received >= 1 and failed == []
    assert executions() == [order.id]


def test_the_published_order_event_starts_a_missing_workflow_once(market, monkeypatch):
    from chalicelib.local.stream import create_event_bus
    from chalicelib.workflows import publisher
    from tests.helpers import all_events

    create_event_bus()
    real = stepfunctions.state_machine_arn("order")
    monkeypatch.setenv("CIRRUS_STATE_MACHINE_ARN_ORDER", NOWHERE)
    order = orders.create_order(ctx_of(market.owner), order_request(market))
    monkeypatch.setenv("CIRRUS_STATE_MACHINE_ARN_ORDER", real)
    drain(TASKS_QUEUE)  # as if the request had died before queueing its retry

    created = next(e for e in all_events() if e.event_type == "marketplace_order_created")
    publisher.publish(created)
    publisher.publish(created)  # the stream delivers at least once
    received, failed = deliver_once(TASKS_QUEUE, wait=1)
    assert (received, failed) == (2, [])  # both deliveries carry the event's key: the second is skipped
    assert executions() == [order.id]

    publisher.publish(created)
    assert drain(TASKS_QUEUE) == ["marketplace.ensure_started"]
    assert order_workflow.ensure_started(publisher.event_document(created))  # starting again: a no-op
    assert executions() == [order.id]
