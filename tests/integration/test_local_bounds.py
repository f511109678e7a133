"""The local stack's memory stays bounded under use: what moto would keep forever (stream records,
finished executions, deleted messages' receipt handles, issued tokens) is trimmed, and what is kept
is what a reader or a sweep may still need."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.local import moto_speedups
from tests.helpers import create_customer


def _shard_records() -> list[Any]:
    from chalicelib.config import get_settings

    with moto_speedups.LOCK:
        shard = moto_speedups.table_model(get_settings().table_name).stream_shard
        return list(shard.items)


def test_the_stream_reader_trims_what_it_read_and_still_reads_what_comes_next(client, staff):
    from chalicelib.local.stream import StreamReader

    handled: list[str] = []

    def handler(batch: dict[str, Any]) -> dict[str, Any]:
        handled.extend(r["dynamodb"]["SequenceNumber"] for r in batch["Records"])
        return {"batchItemFailures": []}

    reader = StreamReader(handler=handler)
    for name in ("Acme", "Umbrella", "Initech"):
        create_customer(client, staff, name)
    while reader.poll_once():
        pass
    assert handled and _shard_records() == []  # moto kept every record; now none it has read

    create_customer(client, staff, "Zeta")
    before = len(handled)
    assert reader.poll_once() > 0 and len(handled) > before  # what comes next is still read
    assert _shard_records() == []


def test_records_still_to_retry_are_retried_after_the_trim(client, staff):
    from chalicelib.local.stream import StreamReader

    attempts: dict[str, int] = {}

    def fails_once(batch: dict[str, Any]) -> dict[str, Any]:
        failed = []
        for record in batch["Records"]:
            sequence = record["dynamodb"]["SequenceNumber"]
            attempts[sequence] = attempts.get(sequence, 0) + 1
            if attempts[sequence] == 1:
                failed.append({"itemIdentifier": sequence})
        return {"batchItemFailures": failed[:1]}

    reader = StreamReader(handler=fails_once)
    create_customer(client, staff, "Acme")
    reader.poll_once()
    assert _shard_records() == [] and attempts
    while reader.poll_once():
        pass
    # Each record reached the handler again after its failure, though moto no longer holds it.
    assert all(n >= 2 for n in attempts.values()), attempts


def test_without_the_patches_the_reader_trims_nothing(client, staff, monkeypatch):
    from chalicelib.local.stream import StreamReader

    monkeypatch.setattr(moto_speedups, "installed", lambda: False)
    reader = StreamReader(handler=lambda batch: {"batchItemFailures": []})
    create_customer(client, staff, "Acme")
    assert reader.poll_once() > 0
    assert _shard_records()  # moto's stream as it was; the reader still works


# --- what moto keeps per request, bounded by chalicelib/local/housekeeping.py ----------------------
@pytest.fixture
def bounds() -> Iterator[Any]:
    from chalicelib.local import housekeeping

    was_installed = housekeeping.installed()
    housekeeping.install()
    yield housekeeping
    if not was_installed:
        housekeeping.uninstall()


PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
WAIT = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}})


def _machine(sfn: Any, name: str, definition: str) -> str:
    role = "arn:aws:iam::123456789012:role/bounds"
    return str(sfn.create_state_machine(name=name, definition=definition, roleArn=role)["stateMachineArn"])


def _wait_finished(sfn: Any, arns: list[str]) -> None:
    deadline = time.monotonic() + 10
    while any(sfn.describe_execution(executionArn=a)["status"] == "RUNNING" for a in arns):
        assert time.monotonic() < deadline, "executions still running"
        time.sleep(0.05)


def test_only_the_newest_finished_executions_are_kept_and_never_a_running_one(runtime, bounds):
    from chalicelib.workflows.aws import client

    sfn = client("stepfunctions")
    passing, waiting = _machine(sfn, "bounds-pass", PASS), _machine(sfn, "bounds-wait", WAIT)
    running = sfn.start_execution(stateMachineArn=waiting, name="still-waiting")["executionArn"]
    started = [
        sfn.start_execution(stateMachineArn=passing, name=f"run-{n}", input=json.dumps({"n": n}))[
            "executionArn"
        ]
        for n in range(6)
    ]
    _wait_finished(sfn, started)
    kept_for_its_input = started[0]

    dropped = bounds.trim_executions(2, keep=lambda given: given.get("n") == 0)

    assert dropped == 3
    listed = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=passing)["executions"]}
    assert listed == {kept_for_its_input, *started[-2:]}
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=started[1])
    assert sfn.describe_execution(executionArn=running)["status"] == "RUNNING"
    again = sfn.start_execution(stateMachineArn=passing, name="run-9")["executionArn"]  # still starts
    _wait_finished(sfn, [again])
    sfn.stop_execution(executionArn=running)


def test_an_execution_of_an_open_order_is_kept(stack, market):
    from chalicelib.local.housekeeping import order_still_open
    from chalicelib.services import orders
    from tests.marketplace_helpers import ctx_of, order_request

    order = orders.create_order(ctx_of(market.member), order_request(market))
    assert not order.is_final
    assert order_still_open({"order": {"id": order.id, "customer_id": order.customer_id, "state": "x"}})
    assert not order_still_open({"order": {"id": "0" * 32, "customer_id": order.customer_id}})
    assert not order_still_open({"n": 1})


def test_a_queue_keeps_only_its_newest_deleted_receipt_handles(aws, bounds, monkeypatch):
    import boto3
    from moto.sqs.models import sqs_backends

    monkeypatch.setenv(bounds.KEEP_RECEIPTS_VAR, "5")
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="bounds")["QueueUrl"]
    handles = []
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
        (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handles.append(message["ReceiptHandle"])

    assert len(sqs_backends["123456789012"]["us-east-1"].queues["bounds"].deleted_messages) == 5
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[-1])  # deleting again still succeeds


def test_a_user_pool_keeps_only_its_newest_tokens_and_the_newest_still_refresh(aws, bounds):
    import boto3
    from moto.cognitoidp.models import cognitoidp_backends

    from chalicelib.local.cognito import add_user

    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = idp.create_user_pool(PoolName="bounds")["UserPool"]["Id"]
    app = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="bounds",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    add_user(idp, pool, "ann", "Bounds-password-1", name="Ann", email="ann@example.org")
    signed_in = [
        idp.initiate_auth(
            ClientId=app,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "ann", "PASSWORD": "Bounds-password-1"},
        )["AuthenticationResult"]
        for _ in range(5)
    ]

    assert bounds.trim_tokens(2) == 9
    model = cognitoidp_backends["123456789012"]["us-east-1"].user_pools[pool]
    assert [len(getattr(model, kind)) for kind in bounds.TOKEN_KINDS] == [2, 2, 2]
    refreshed = idp.initiate_auth(
        ClientId=app,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": signed_in[-1]["RefreshToken"]},
    )
    assert refreshed["AuthenticationResult"]["AccessToken"]


def test_moto_keeps_no_copy_of_what_a_query_returned(client, staff, bounds):
    from moto.dynamodb.models.dynamo_type import Item

    create_customer(client, staff, "Acme")
    before = len(Item.instances_tracked)
    for _ in range(5):
        assert client.get("/api/customers/", headers=staff.headers).status_code == 200
    assert len(Item.instances_tracked) == before == 0  # moto tracked every copy it ever made
