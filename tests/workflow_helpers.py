"""Driving queues and workflows under moto: the same consumer the Lambdas run, fed by hand."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.workflows import queues
from chalicelib.workflows.aws import client
from chalicelib.workflows.consumer import handle_sqs_event

# Shortest timings that still let a test worker answer (moto really sleeps in Wait/Retry).
TEST_TIMING = {
    "StepTimeoutSeconds": 6,
    "StepHeartbeatSeconds": 2,
    "RetryIntervalSeconds": 1,
    "RetryMaxAttempts": 3,
    "CallbackTimeoutSeconds": 3,
}


def as_lambda_event(messages: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    """The SQS event Lambda would deliver for `messages` (the shape BatchProcessor reads)."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": "0",
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queues.queue_name(queue)}",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def deliver_once(queue: str, wait: int = 0) -> tuple[int, list[str]]:
    """Receive one batch from `queue`, run it through the consumer, delete what succeeded.
    Returns (records received, ids of failed records)."""
    sqs = client("sqs")
    url = queues.queue_url(queue)
    received = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, AttributeNames=["ApproximateReceiveCount"]
    ).get("Messages", [])
    if not received:
        return 0, []
    response = handle_sqs_event(as_lambda_event(received, queue))
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    for m in received:
        if m["MessageId"] in failed:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return len(received), sorted(failed)


def run_until_done(execution_arn: str, queue: str, timeout: float = 20.0) -> dict[str, Any]:
    """Serve `queue` until the execution leaves RUNNING; returns describe_execution."""
    sfn = client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliver_once(queue)
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise AssertionError(f"{execution_arn} still running after {timeout}s")


def history(execution_arn: str) -> list[dict[str, Any]]:
    return list(client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"])
