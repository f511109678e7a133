"""Publishing the audit log: the table's stream → the EventBridge bus and the hooks' dispatch task,
at least once, event records only, a failed record retried until it goes through."""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import all_events, call, create_customer, create_project


@pytest.fixture
def queues(aws):
    from chalicelib.local.aws import create_queues
    from chalicelib.workflows import queues

    queues._lookup_url.cache_clear()
    create_queues(visibility_timeout=30)
    yield
    queues._lookup_url.cache_clear()


@pytest.fixture
def bus_tap(queues):
    """The bus, and an SQS queue receiving everything a rule on it matches (what a subscriber sees)."""
    import boto3

    from chalicelib.local.stream import create_event_bus

    bus = create_event_bus()
    sqs = boto3.client("sqs", region_name="us-east-1")
    tap = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name="us-east-1")
    events.put_rule(Name="everything", EventBusName=bus, EventPattern=json.dumps({"source": ["cirrus"]}))
    events.put_targets(Rule="everything", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])

    def received() -> list[dict]:
        out = []
        while batch := sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10).get("Messages", []):
            for m in batch:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=tap, ReceiptHandle=m["ReceiptHandle"])
        return out

    return received


def queued(queue: str) -> list[dict]:
    import boto3

    from chalicelib.workflows.queues import queue_url

    sqs = boto3.client("sqs", region_name="us-east-1")
    out = []
    while batch := sqs.receive_message(QueueUrl=queue_url(queue), MaxNumberOfMessages=10).get("Messages", []):
        for m in batch:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url(queue), ReceiptHandle=m["ReceiptHandle"])
    return out


def test_every_event_reaches_the_bus_once_and_nothing_else_does(client, staff, bus_tap):
    from chalicelib.local.stream import StreamReader

    acme = create_customer(client, staff, "Acme")
    apollo = create_project(client, staff, acme, "Apollo")
    StreamReader().poll_once()

    published = bus_tap()
    written = all_events()
    # one bus event per event record: feed copies, entities, counters never reach the bus
    assert sorted(p["detail"]["uuid"] for p in published) == sorted(e.id for e in written)
    (created,) = [p for p in published if p["detail-type"] == "project_creation_succeeded"]
    assert created["source"] == "cirrus"
    assert created["detail"]["message"] == "Project Apollo has been created."
    assert created["detail"]["context"]["project_uuid"] == apollo["uuid"]
    assert created["detail"]["context"]["user_uuid"] == staff.id
    assert ["project", apollo["uuid"]] in created["detail"]["scopes"]


def test_each_event_a_hook_wants_queues_one_hooks_dispatch_keyed_by_its_uuid(client, staff, bus_tap):
    from chalicelib.local.stream import StreamReader

    hook = call(
        client,
        "POST",
        "/api/hooks-web/",
        staff,
        {
            "destination_url": "https://hooks.example.org/cirrus",
            "event_types": ["customer_creation_succeeded"],
        },
    )
    assert hook.status == 201, hook.json
    create_customer(client, staff, "Acme")
    create_project(client, staff, create_customer(client, staff, "Beta"), "Apollo")
    queued("background")  # what signing up and in queued so far is not this test's concern
    reader = StreamReader()
    reader.poll_once()
    dispatches = [m for m in queued("background") if m["task"] == "hooks.dispatch"]
    # Only the events whose type an active hook wants are dispatched: the two customers' creations,
    # not the project's, nor the hook's own creation (no hook wants those: no task, no worker run).
    wanted = [e for e in all_events() if e.event_type == "customer_creation_succeeded"]
    assert len(wanted) == 2 and len(all_events()) > 2
    assert sorted(m["idempotency_key"] for m in dispatches) == sorted(f"hooks:{e.id}" for e in wanted)
    names = sorted(m["payload"]["event"]["context"]["customer_name"] for m in dispatches)
    assert names == ["Acme", "Beta"]
    assert reader.poll_once() == 0  # nothing new: nothing published twice


def test_a_record_that_fails_comes_back_and_is_published_on_retry(client, staff, bus_tap, monkeypatch):
    from chalicelib.config import reset_settings
    from chalicelib.local.stream import StreamReader

    reader = StreamReader()
    reader.poll_once()
    bus_tap()
    monkeypatch.setenv("CIRRUS_EVENT_BUS_NAME", "no-such-bus")
    reset_settings()
    acme = create_customer(client, staff, "Acme")
    reader.poll_once()  # the event record is refused: reported failed, kept for the retry
    assert bus_tap() == []
    assert reader.poll_once() >= 0 and bus_tap() == []  # still refused, still kept

    monkeypatch.setenv(
        "CIRRUS_EVENT_BUS_NAME", os.environ.get("CIRRUS_RESOURCE_PREFIX", "cirrus") + "-events"
    )
    reset_settings()
    assert reader.poll_once() >= 1
    published = bus_tap()
    assert [p["detail"]["context"]["customer_uuid"] for p in published] == [acme["uuid"]]


def test_the_lambda_handler_reports_failed_records_by_sequence_number(aws, monkeypatch):
    from chalicelib.workflows import publisher

    def refuse(event):
        raise RuntimeError("bus unavailable")

    monkeypatch.setattr(publisher, "publish", refuse)
    image = {
        "pk": {"S": "EVT#GLOBAL#2026-11"},
        "sk": {"S": "0" * 32},
        "type": {"S": "event"},
        "event_id": {"S": "0" * 32},
        "event_type": {"S": "user_creation_succeeded"},
        "message": {"S": "User x has been created."},
        "created": {"S": "2026-11-27T00:00:00.000000+0000"},
        "context": {"S": "{}"},
    }
    other = {"pk": {"S": "TOKEN#1"}, "sk": {"S": "#META"}, "type": {"S": "token"}}
    records = [
        {"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
         "dynamodb": {"NewImage": other, "SequenceNumber": "100"}},
        {"eventID": "2", "eventName": "INSERT", "eventSource": "aws:dynamodb",
         "dynamodb": {"NewImage": image, "SequenceNumber": "101"}},
        {"eventID": "3", "eventName": "MODIFY", "eventSource": "aws:dynamodb",
         "dynamodb": {"NewImage": image, "SequenceNumber": "102"}},
    ]  # fmt: skip
    response = publisher.handle_stream_event({"Records": records})
    assert response == {"batchItemFailures": [{"itemIdentifier": "101"}]}


def test_staff_sees_in_the_api_what_was_published(client, staff, bus_tap):
    from chalicelib.local.stream import StreamReader

    acme = create_customer(client, staff, "Acme")
    StreamReader().poll_once()
    (bus_event,) = [p for p in bus_tap() if p["detail-type"] == "customer_creation_succeeded"]
    api_event = call(client, "GET", f"/api/events/{bus_event['detail']['uuid']}/", staff).json
    assert api_event["context"] == bus_event["detail"]["context"]
    assert api_event["context"]["customer_uuid"] == acme["uuid"]


# --- a poisoned record is isolated (issue 13, finding 7) ----------------------------------------------
def dead_lettered() -> list[dict]:
    import boto3

    from chalicelib.workflows.publisher import dead_letter_url

    sqs = boto3.client("sqs", region_name="us-east-1")
    out = []
    while batch := sqs.receive_message(QueueUrl=dead_letter_url(), MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for m in batch:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=dead_letter_url(), ReceiptHandle=m["ReceiptHandle"])
    return out


def event_record(sequence: int, event_id: str, context: dict) -> dict:
    image = {
        "pk": {"S": "EVT#GLOBAL#2026-11"},
        "sk": {"S": event_id},
        "type": {"S": "event"},
        "event_id": {"S": event_id},
        "event_type": {"S": "user_creation_succeeded"},
        "message": {"S": "User x has been created."},
        "created": {"S": "2026-11-27T00:00:00.000000+0000"},
        "context": {"S": json.dumps(context)},
    }
    return {"eventID": str(sequence), "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": {"NewImage": image, "SequenceNumber": str(sequence)}}  # fmt: skip


def test_a_record_too_large_to_publish_is_dead_lettered_and_the_rest_of_the_batch_published(bus_tap):
    from chalicelib.workflows import publisher

    huge = event_record(101, "b" * 32, {"blob": "x" * 300_000})  # over EventBridge's 256 KB entry
    unreadable = event_record(102, "c" * 32, {})
    unreadable["dynamodb"]["NewImage"]["created"] = {"S": "not a time"}
    records = [event_record(100, "a" * 32, {}), huge, unreadable, event_record(103, "d" * 32, {})]

    response = publisher.handle_stream_event({"Records": records})

    assert response == {"batchItemFailures": []}  # nothing retried: it would fail the same way
    assert sorted(p["detail"]["uuid"] for p in bus_tap()) == ["a" * 32, "d" * 32]
    letters = {d["SequenceNumber"]: d for d in dead_lettered()}
    assert set(letters) == {"101", "102"}
    assert letters["101"]["reason"] == "event too large to publish"
    assert letters["101"]["event_uuid"] == "b" * 32
    assert letters["102"]["reason"] == "unreadable event record"


def test_the_local_reader_dead_letters_a_record_that_keeps_failing_and_goes_on(
    client, staff, bus_tap, monkeypatch
):
    from chalicelib.local.stream import StreamReader
    from chalicelib.workflows import publisher

    reader = StreamReader(max_retries=2)
    reader.poll_once()
    bus_tap()
    real_publish = publisher.publish

    def publish(event):
        if event.context.get("customer_name") == "Poison":
            raise RuntimeError("bus refuses this one")
        real_publish(event)

    monkeypatch.setattr(publisher, "publish", publish)
    create_customer(client, staff, "Acme")
    poison = create_customer(client, staff, "Poison")
    create_customer(client, staff, "Zeta")

    reader.poll_once()  # fails once, retried twice below, then dead-lettered
    assert dead_lettered() == []
    reader.poll_once()
    reader.poll_once()
    (letter,) = dead_lettered()
    assert letter["reason"] == "failed 3 times" and letter["Keys"]
    names = [p["detail"]["context"].get("customer_name") for p in bus_tap()]
    assert names.count("Acme") == 1 and "Zeta" in names and "Poison" not in names
    assert poison["uuid"]

    create_customer(client, staff, "Next")  # the next batch flows
    reader.poll_once()
    assert "Next" in [p["detail"]["context"].get("customer_name") for p in bus_tap()]
    assert reader.poll_once() == 0


def test_a_cancelled_transaction_does_not_stop_publishing(client, staff, bus_tap):
    import boto3

    from chalicelib.config import get_settings
    from chalicelib.local.stream import StreamReader

    reader = StreamReader()
    reader.poll_once()
    bus_tap()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    missing = {"pk": {"S": "NOPE"}, "sk": {"S": "NOPE"}}
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        # moto swaps the table (stream included) for a copy when a transaction is cancelled
        dynamodb.transact_write_items(
            TransactItems=[
                {"ConditionCheck": {"TableName": get_settings().table_name, "Key": missing,
                                    "ConditionExpression": "attribute_exists(pk)"}}
            ]
        )  # fmt: skip

    create_customer(client, staff, "After")
    reader.poll_once()
    assert "After" in [p["detail"]["context"].get("customer_name") for p in bus_tap()]


def test_the_publisher_also_keeps_the_platform_totals(client, staff, bus_tap):
    """What `make run`'s stream poller and the Lambda run: events published, totals counted."""
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import counters

    acme = create_customer(client, staff, "Acme")
    create_project(client, staff, acme, "Apollo")
    StreamReader().poll_once()

    assert len(bus_tap()) == len(all_events())
    assert [counters.value(n) for n in (counters.CUSTOMERS, counters.PROJECTS, counters.USERS)] == [1, 1, 1]
    assert StreamReader().poll_once() >= 0 and counters.value(counters.PROJECTS) == 1  # read again: once
