"""Task queues under moto: partial batch failure, dead-letter after N receives, duplicate delivery,
the event context carried into the task."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.domain.context import EventContext, Principal
from chalicelib.workflows import queues, registry
from chalicelib.workflows.aws import client
from chalicelib.workflows.consumer import handle_sqs_event
from chalicelib.workflows.registry import BACKGROUND_QUEUE, TASKS_QUEUE
from tests.workflow_helpers import as_lambda_event, deliver_once

ALICE = EventContext(
    principal=Principal(user_id="a1", username="alice", impersonator_id="s1", impersonator_username="staff"),
    ip_address="10.1.2.3",
    correlation_id="corr-42",
)


@pytest.fixture
def ran():
    """A test task that records what it ran with; it fails while payload["fail"] is truthy."""
    calls: list[tuple[dict, EventContext]] = []

    @registry.task("test.record", queue=TASKS_QUEUE)
    def record(payload, ctx):
        calls.append((payload, ctx))
        if payload.get("fail"):
            raise RuntimeError("this one breaks")

    yield calls
    registry.TASKS.pop("test.record", None)


def depth(url: str) -> int:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_task_runs_with_the_requests_event_context(runtime, ran):
    queues.enqueue("test.record", {"n": 1}, ALICE)
    assert deliver_once(TASKS_QUEUE) == (1, [])
    payload, ctx = ran[0]
    assert payload == {"n": 1}
    assert ctx == ALICE


def test_only_the_failed_record_of_a_batch_comes_back(runtime, ran):
    for n in range(3):
        queues.enqueue("test.record", {"n": n, "fail": n == 1})
    received, failed = deliver_once(TASKS_QUEUE)
    assert received == 3 and len(failed) == 1
    assert sorted(p["n"] for p, _ in ran) == [0, 1, 2]
    ran.clear()
    assert deliver_once(TASKS_QUEUE) == (1, failed)  # the same message, and only it
    assert [p["n"] for p, _ in ran] == [1]


def test_a_poison_message_lands_in_the_dead_letter_queue_after_five_receives(runtime, ran):
    queues.enqueue("test.record", {"fail": True})
    for _ in range(5):
        assert deliver_once(TASKS_QUEUE)[1]  # received and failed
    assert deliver_once(TASKS_QUEUE) == (0, [])  # the sixth receive finds it moved
    assert depth(queues.dead_letter_url(TASKS_QUEUE)) == 1
    assert len(ran) == 5


def test_a_duplicate_delivery_changes_nothing_twice(runtime, ran):
    envelope = queues.envelope_for("test.record", {"n": 7}, ALICE, idempotency_key="order-7/approve")
    url = queues.queue_url(TASKS_QUEUE)
    for _ in range(2):  # SQS delivers at least once: the same message twice
        client("sqs").send_message(QueueUrl=url, MessageBody=envelope.model_dump_json())
    assert deliver_once(TASKS_QUEUE) == (2, [])
    assert len(ran) == 1


def test_a_failed_delivery_is_retried_not_skipped(runtime, ran):
    key = "order-8/provision"
    failing = queues.envelope_for("test.record", {"fail": True}, idempotency_key=key)
    fixed = queues.envelope_for("test.record", {"fail": False}, idempotency_key=key)
    url = queues.queue_url(TASKS_QUEUE)
    client("sqs").send_message(QueueUrl=url, MessageBody=failing.model_dump_json())
    assert deliver_once(TASKS_QUEUE)[1]
    client("sqs").send_message(QueueUrl=url, MessageBody=fixed.model_dump_json())
    delete_failing_copy()
    assert deliver_once(TASKS_QUEUE) == (1, [])
    assert [p["fail"] for p, _ in ran] == [True, False]


def delete_failing_copy() -> None:
    sqs = client("sqs")
    url = queues.queue_url(TASKS_QUEUE)
    for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        if json.loads(m["Body"])["payload"].get("fail"):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        else:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)


def test_garbage_and_unknown_tasks_fail_their_record_only(runtime, ran):
    queues.enqueue("test.record", {"n": 1})
    sqs = client("sqs")
    url = queues.queue_url(TASKS_QUEUE)
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"task": "no.such.task", "idempotency_key": "k"}))
    received, failed = deliver_once(TASKS_QUEUE)
    assert received == 3 and len(failed) == 2
    assert len(ran) == 1


def test_the_consumer_answers_lambda_in_the_partial_batch_shape(runtime, ran):
    queues.enqueue("test.record", {"fail": True})
    sqs = client("sqs")
    messages = sqs.receive_message(QueueUrl=queues.queue_url(TASKS_QUEUE), AttributeNames=["All"])["Messages"]
    response = handle_sqs_event(as_lambda_event(messages, TASKS_QUEUE))
    assert response == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}


def test_purge_tasks_remove_lapsed_tokens_and_lockouts_only(runtime, monkeypatch):
    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.tokens import hash_key
    from chalicelib.store import tokens
    from chalicelib.workflows import maintenance
    from tests.conftest import make_account

    lasting = make_account("lasting", token_lifetime=3600)
    brief = make_account("brief", token_lifetime=60)
    tokens.record_login_failure("brief", "10.0.0.1", utcnow(), utcnow() + timedelta(minutes=10))
    later = utcnow() + timedelta(minutes=30)
    monkeypatch.setattr(maintenance, "utcnow", lambda: later)
    queues.enqueue("maintenance.purge_expired_tokens", {})
    queues.enqueue("maintenance.purge_login_lockouts", {})
    assert deliver_once(BACKGROUND_QUEUE) == (2, [])
    assert tokens.get(hash_key(brief.token)) is None
    assert tokens.get(hash_key(lasting.token)) is not None
    assert tokens.login_failures("brief", "10.0.0.1") is None


def test_the_lambda_entry_point_reports_partial_batch_failures(runtime, ran):
    from chalice.test import Client

    from app import app

    good = queues.envelope_for("test.record", {"n": 1}).model_dump_json()
    bad = queues.envelope_for("test.record", {"fail": True}).model_dump_json()
    with Client(app) as lambda_client:
        event = lambda_client.events.generate_sqs_event(message_bodies=[good, bad], queue_name="cirrus-tasks")
        response = lambda_client.lambda_.invoke("tasks_worker", event)
    failed = response.payload["batchItemFailures"]
    assert len(failed) == 1
    assert failed[0]["itemIdentifier"] == event["Records"][1]["messageId"]
    assert len(ran) == 2


def test_a_failed_task_logs_why_with_its_name_and_message(runtime, ran, caplog):
    queues.enqueue("test.record", {"fail": True})
    _, failed = deliver_once(TASKS_QUEUE)
    failure = next(r for r in caplog.records if r.getMessage() == "task failed")
    assert failure.levelname == "ERROR"
    assert (failure.task, failure.message_id) == ("test.record", failed[0])
    assert failure.exc_info and str(failure.exc_info[1]) == "this one breaks"
