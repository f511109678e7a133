"""The local stack's pollers under moto: a workflow runs to the end with nobody delivering by hand,
and a message that keeps failing comes back after its visibility timeout until SQS dead-letters it."""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.local.workers import QueuePoller, Workers
from chalicelib.workflows import queues, registry, stepfunctions
from chalicelib.workflows.aws import client
from chalicelib.workflows.registry import TASKS_QUEUE


def wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not true after {timeout}s")


def count(url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


@pytest.fixture
def workers(runtime):
    running = Workers().start()
    yield running
    running.stop()
    assert not any(p.running for p in running.pollers)


def test_a_workflow_runs_to_the_end_on_the_pollers(workers):
    arn = stepfunctions.start_workflow(
        "provider_step", {"step": "cirrus.echo", "input": {"via": "poller"}, "context": {}}, "poll-1"
    )
    sfn = client("stepfunctions")
    done = wait_for(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"via": "poller"}


@pytest.fixture
def failing():
    calls: list[float] = []

    @registry.task("test.always_fails", queue=TASKS_QUEUE)
    def always_fails(payload, ctx):
        calls.append(time.monotonic())
        raise RuntimeError("broken for good")

    yield calls
    registry.TASKS.pop("test.always_fails", None)


def dead_letters_after_two_receives(**attributes: str) -> tuple[str, str]:
    """The tasks queue and its DLQ, set to move a message after its second receive (the stack's
    default is five); `attributes` set more of the queue's attributes."""
    url, dlq = queues.queue_url(TASKS_QUEUE), queues.dead_letter_url(TASKS_QUEUE)
    dlq_arn = client("sqs").get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={**attributes, "RedrivePolicy": redrive})
    return url, dlq


def test_a_failing_message_comes_back_after_its_visibility_timeout_then_is_dead_lettered(runtime, failing):
    url, dlq = dead_letters_after_two_receives(VisibilityTimeout="1")
    queues.enqueue("test.always_fails", {})
    poller = QueuePoller(TASKS_QUEUE, wait=1).start()
    try:
        wait_for(lambda: count(dlq) == 1)
    finally:
        poller.stop()
        poller.join(5)
    assert len(failing) == 2  # received twice, then moved by SQS
    assert failing[1] - failing[0] >= 0.9  # not released at once: back after the visibility timeout
    assert poller.failed == 2 and poller.delivered == 0
    assert count(url) == 0


@pytest.fixture
def recording():
    calls: list[dict] = []

    @registry.task("test.records", queue=TASKS_QUEUE)
    def records(payload, ctx):
        calls.append(payload)

    yield calls
    registry.TASKS.pop("test.records", None)


def test_a_poisoned_message_fails_alone_is_dead_lettered_and_the_queue_flows(runtime, recording):
    from chalicelib.local.workers import deliver_batch

    url, dlq = dead_letters_after_two_receives()
    queues.enqueue("test.records", {"n": 1})
    client("sqs").send_message(QueueUrl=url, MessageBody='{"not": "an envelope"')
    queues.enqueue("test.records", {"n": 2})

    first = deliver_batch(TASKS_QUEUE, release_failed=True)
    assert first.received == 3 and len(first.failed) == 1  # only the poisoned one
    assert sorted(p["n"] for p in recording) == [1, 2]
    deliver_batch(TASKS_QUEUE, release_failed=True)  # its second and last receive
    queues.enqueue("test.records", {"n": 3})
    after = deliver_batch(TASKS_QUEUE, release_failed=True)
    assert (after.received, after.failed) == (1, [])  # SQS moved the poisoned one away
    assert sorted(p["n"] for p in recording) == [1, 2, 3]
    assert count(dlq) == 1 and count(url) == 0
