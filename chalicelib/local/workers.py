"""The local stand-in for the queue-consumer Lambdas: a poller thread per task queue.

Each poller long-polls its queue, hands the batch to `consumer.handle_sqs_event` (the function the
Lambdas run) in the shape Lambda's SQS event source delivers, and deletes the records that
succeeded. Failed records are left alone: they come back after the queue's visibility timeout and,
after `maxReceiveCount` receives, SQS moves them to the dead-letter queue, exactly as on AWS.

`deliver_batch` is the one delivery step, also used by the tests to drive queues by hand.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from chalicelib import observability
from chalicelib.config import get_settings
from chalicelib.workflows import queues
from chalicelib.workflows.aws import client
from chalicelib.workflows.consumer import handle_sqs_event
from chalicelib.workflows.registry import QUEUES


def as_lambda_event(messages: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    """The SQS event Lambda would deliver for `messages` (from ReceiveMessage; the shape
    powertools' BatchProcessor reads)."""
    settings = get_settings()
    source_arn = f"arn:aws:sqs:{settings.region}:123456789012:{queues.queue_name(queue)}"
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", "0"),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": source_arn,
                "awsRegion": settings.region,
            }
            for m in messages
        ]
    }


class Delivery(NamedTuple):
    received: int  # records in the batch
    failed: list[str]  # message ids of the records that failed
    tasks: dict[str, str]  # message id -> task name

    def summary(self) -> str:
        failed = set(self.failed)
        return ", ".join(f"{task} {'FAILED' if mid in failed else 'ok'}" for mid, task in self.tasks.items())


def deliver_batch(queue: str, *, wait: int = 0, release_failed: bool = False) -> Delivery:
    """Receive one batch (up to 10) from `queue`, run it through the consumer, delete what
    succeeded. Failed records stay invisible until the visibility timeout ends (as with Lambda), or
    with `release_failed` are made visible again at once (tests use it to retry without waiting)."""
    sqs = client("sqs")
    url = queues.queue_url(queue)
    received: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait,
        AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
    ).get("Messages", [])
    if not received:
        return Delivery(0, [], {})
    response = handle_sqs_event(as_lambda_event(received, queue))
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    for m in received:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        elif release_failed:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    return Delivery(len(received), sorted(failed), {m["MessageId"]: _task_name(m["Body"]) for m in received})


def _task_name(body: str) -> str:
    try:
        return str(json.loads(body).get("task", "?"))
    except (ValueError, AttributeError):
        return "?"


class QueuePoller:
    """One thread serving one queue until `stop()`; an error is logged and polling goes on."""

    def __init__(
        self,
        queue: str,
        *,
        wait: int = 1,
        idle_pause: float = 1.0,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.queue = queue
        self.wait = wait
        self.idle_pause = idle_pause
        self.delivered = 0
        self.failed = 0
        self._announce = announce
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"cirrus-worker-{queue}", daemon=True)

    def poll_once(self) -> Delivery:
        delivery = deliver_batch(self.queue, wait=self.wait)
        self.delivered += delivery.received - len(delivery.failed)
        self.failed += len(delivery.failed)
        if delivery.received and self._announce:
            self._announce(f"worker {self.queue}: {delivery.summary()}")
        return delivery

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the endpoint restarting, a malformed batch: log it, keep serving
                observability.logger().exception("queue poller failed", extra={"queue": self.queue})
                self._stop.wait(self.idle_pause)

    def start(self) -> QueuePoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


class Workers:
    """A poller per queue (`tasks`, `heavy`, `background` by default)."""

    def __init__(
        self,
        queue_names: Iterable[str] = QUEUES,
        *,
        wait: int = 1,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.pollers = [QueuePoller(q, wait=wait, announce=announce) for q in queue_names]

    def start(self) -> Workers:
        # Build the shared boto3 clients here, once: creating them from several threads at once races.
        client("sqs")
        client("stepfunctions")
        for poller in self.pollers:
            queues.queue_url(poller.queue)
            poller.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every poller; each finishes the batch in hand (a long poll ends within `wait`)."""
        for poller in self.pollers:
            poller.stop()
        for poller in self.pollers:
            poller.join(timeout)
