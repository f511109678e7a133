"""Every Lambda entry point logs with a correlation id, on moto: an API request (its X-Correlation-ID
or API Gateway's request id), each SQS task (the id of the request that queued it), each stream
record (its event's, carried on into the hooks' tasks); with the Lambda context where there is one;
and nothing of one invocation is on the lines of the next one a warm container runs."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chalicelib import observability
from chalicelib.domain.context import EventContext
from chalicelib.workflows import queues, registry
from chalicelib.workflows.aws import client as aws_client
from chalicelib.workflows.registry import TASKS_QUEUE
from tests.helpers import call, create_customer
from tests.log_capture import captured_logs
from tests.workflow_helpers import as_lambda_event


def lambda_context(request_id: str) -> SimpleNamespace:
    return SimpleNamespace(function_name="cirrus-test-tasks_worker", aws_request_id=request_id)


@pytest.fixture
def logging_task():
    """A task that logs one line and fails when asked to."""

    @registry.task("test.log", queue=TASKS_QUEUE)
    def log(payload, ctx):
        observability.logger().info("task ran", extra={"n": payload["n"]})
        if payload.get("fail"):
            raise RuntimeError("this one breaks")

    yield
    registry.TASKS.pop("test.log", None)


def receive_all(queue: str) -> list[dict]:
    sqs = aws_client("sqs")
    messages = sqs.receive_message(
        QueueUrl=queues.queue_url(queue), MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    return messages


def test_each_task_logs_its_own_correlation_id_and_the_next_invocation_none_of_them(
    runtime, logging_task, monkeypatch
):
    from chalicelib.workflows.consumer import handle_sqs_event

    monkeypatch.setattr(observability, "_cold_start", True)
    queues.enqueue("test.log", {"n": 1}, EventContext(correlation_id="corr-first"))
    queues.enqueue("test.log", {"n": 2, "fail": True}, EventContext(correlation_id="corr-second"))
    first_batch = receive_all(TASKS_QUEUE)
    with captured_logs() as lines:
        handle_sqs_event(as_lambda_event(first_batch, TASKS_QUEUE), lambda_context("req-1"))
    ran = {line["n"]: line for line in lines if line["message"] == "task ran"}
    (failed,) = [line for line in lines if line["message"] == "task failed"]
    assert (ran[1]["correlation_id"], ran[2]["correlation_id"]) == ("corr-first", "corr-second")
    assert failed["correlation_id"] == "corr-second"  # the failure names the request it came from
    for line in [*ran.values(), failed]:
        assert (line["entry_point"], line["task"], line["function_request_id"]) == (
            "task",
            "test.log",
            "req-1",
        )
        assert line["cold_start"] is True and line["function_name"] == "cirrus-test-tasks_worker"
    assert {ran[1]["message_id"], ran[2]["message_id"]} == {m["MessageId"] for m in first_batch}
    assert observability.current_keys() == {}

    # The same warm container's next invocation: a task no request queued (a schedule's, locally).
    queues.enqueue("test.log", {"n": 3}, idempotency_key="purge-expired-tokens:2026-12-01T00:00:00")
    with captured_logs() as lines:
        handle_sqs_event(as_lambda_event(receive_all(TASKS_QUEUE), TASKS_QUEUE), lambda_context("req-2"))
    (line,) = [line for line in lines if line["message"] == "task ran"]
    assert line["correlation_id"] == "purge-expired-tokens:2026-12-01T00:00:00"  # its delivery's key
    assert (line["function_request_id"], line["cold_start"], line["attempt"]) == ("req-2", False, 1)
    assert observability.current_keys() == {}


def test_an_api_request_logs_its_correlation_id_and_its_events_keep_it(client, staff):
    from chalicelib.store import events as event_store

    with captured_logs() as lines:
        acme = create_customer(client, staff, "Acme")  # no X-Correlation-ID: a new id
        reply = call(
            client, "GET", "/api/customers/", staff, headers={"X-Correlation-ID": "corr-from-client"}
        )
        assert reply.status == 200
        anonymous = call(client, "GET", "/api/customers/", headers={"Content-Type": "application/json"})
    created, listed, refused = [line for line in lines if line["message"] == "request"]
    assert (created["method"], created["path"].rstrip("/"), created["status"]) == (
        "POST",
        "/api/customers",
        201,
    )
    assert created["entry_point"] == "api" and len(created["correlation_id"]) == 32
    assert created["user_uuid"] == staff.id
    assert listed["correlation_id"] == "corr-from-client"
    assert created["function_request_id"] != listed["function_request_id"] and listed["cold_start"] is False
    assert anonymous.status == 401 and "user_uuid" not in refused  # not the previous request's caller
    assert refused["correlation_id"] not in {created["correlation_id"], "corr-from-client"}
    assert observability.current_keys() == {}
    (event,) = [e for e in event_store.every_event() if e.context.get("customer_uuid") == acme["uuid"]]
    assert event.correlation_id == created["correlation_id"]


def test_a_caller_cannot_make_its_correlation_id_long(client, staff):
    with captured_logs() as lines:
        call(client, "GET", "/api/customers/", staff, headers={"X-Correlation-ID": "x" * 5000})
    (line,) = [line for line in lines if line["message"] == "request"]
    assert line["correlation_id"] == "x" * 128


@pytest.fixture
def published_queues(aws):
    from chalicelib.local.aws import create_queues
    from chalicelib.local.stream import create_event_bus

    queues._lookup_url.cache_clear()
    create_queues(visibility_timeout=30)
    create_event_bus()
    yield
    queues._lookup_url.cache_clear()


def stream_records() -> list[dict]:
    """The event records the table's stream holds now, as Lambda gets them."""
    from chalicelib.local.stream import StreamReader

    seen: list[dict] = []
    reader = StreamReader(handler=lambda batch: seen.extend(batch["Records"]) or {"batchItemFailures": []})
    reader.poll_once()
    return [r for r in seen if (r["dynamodb"].get("NewImage") or {}).get("type", {}).get("S") == "event"]


def _correlation(record: dict) -> str | None:
    return record["dynamodb"]["NewImage"].get("correlation_id", {}).get("S")


def test_the_publisher_logs_each_record_with_its_events_correlation_id_and_hands_it_on(
    client, staff, published_queues, monkeypatch
):
    from chalicelib.workflows import publisher

    call(
        client, "POST", "/api/customers/", staff, {"name": "Acme"}, headers={"X-Correlation-ID": "corr-acme"}
    )
    call(
        client, "POST", "/api/customers/", staff, {"name": "Beta"}, headers={"X-Correlation-ID": "corr-beta"}
    )
    records = [r for r in stream_records() if _correlation(r) in {"corr-acme", "corr-beta"}]
    assert len(records) == 2

    real_publish = publisher.publish

    def bus_down_for_beta(event):
        if event.correlation_id == "corr-beta":
            raise RuntimeError("bus unavailable")
        real_publish(event)

    monkeypatch.setattr(publisher, "publish", bus_down_for_beta)
    with captured_logs() as lines:
        response = publisher.handle_stream_event({"Records": records}, lambda_context("req-stream"))
    assert len(response["batchItemFailures"]) == 1
    (failed,) = [line for line in lines if line["message"] == "event not published"]
    assert (failed["correlation_id"], failed["entry_point"]) == ("corr-beta", "stream")
    assert (
        failed["event_type"] == "customer_creation_succeeded"
        and failed["function_request_id"] == "req-stream"
    )
    assert observability.current_keys() == {}

    # Acme's hooks dispatch is queued with the request's correlation id: its task logs under it.
    dispatches = [json.loads(m["Body"]) for m in receive_all("background")]
    assert [d["context"]["correlation_id"] for d in dispatches if d["task"] == "hooks.dispatch"] == [
        "corr-acme"
    ]


@pytest.mark.parametrize("front_door", ["http", "rest"])
def test_the_api_function_logs_api_gateways_request_id_and_its_invocation(
    aws, staff, front_door, monkeypatch
):
    """The API function as Lambda runs it (`app.api_handler`), with the events both front doors send."""
    from app import api_handler
    from chalicelib.config import reset_settings
    from tests.integration.test_api_gateway_events import http_event, rest_event

    monkeypatch.setenv("CIRRUS_ALLOWED_HOSTS", ".execute-api.eu-west-1.amazonaws.com")
    reset_settings()
    if front_door == "http":
        event = http_event("GET", "/api/customers/", account=staff)
    else:
        event = rest_event("GET", "/api/customers/", "/api/customers", account=staff)
    context = SimpleNamespace(function_name="cirrus-test-APIHandler", aws_request_id="lambda-req-9")
    try:
        with captured_logs() as lines:
            assert api_handler(event, context)["statusCode"] == 200
    finally:
        reset_settings()
    (line,) = [line for line in lines if line["message"] == "request"]
    assert line["correlation_id"] == event["requestContext"]["requestId"]
    assert (line["function_name"], line["function_request_id"]) == ("cirrus-test-APIHandler", "lambda-req-9")
    assert (line["path"], line["user_uuid"]) == ("/api/customers/", staff.id)
    assert observability.current_keys() == {}
