"""The three SQS queues (and their dead-letter queues), and `enqueue`."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain.context import EventContext
from chalicelib.domain.ids import new_id
from chalicelib.workflows import registry
from chalicelib.workflows.aws import client
from chalicelib.workflows.envelope import TaskContext, TaskEnvelope


def queue_name(queue: str) -> str:
    return f"{get_settings().resource_prefix}-{queue}"


def dead_letter_name(queue: str) -> str:
    return f"{queue_name(queue)}-dlq"


def queue_url(queue: str) -> str:
    """From CIRRUS_QUEUE_URL_<QUEUE> when set (CDK sets it), else looked up by name once."""
    configured = os.environ.get(f"CIRRUS_QUEUE_URL_{queue.upper()}")
    return configured or _lookup_url(queue_name(queue), get_settings().aws_endpoint_url)


def dead_letter_url(queue: str) -> str:
    configured = os.environ.get(f"CIRRUS_DLQ_URL_{queue.upper()}")
    return configured or _lookup_url(dead_letter_name(queue), get_settings().aws_endpoint_url)


def url_of(name: str) -> str:
    """The URL of the queue named `name` (a full name), looked up once."""
    return _lookup_url(name, get_settings().aws_endpoint_url)


@lru_cache(maxsize=16)
def _lookup_url(name: str, endpoint: str | None) -> str:
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def envelope_for(
    task_name: str,
    payload: dict[str, Any],
    ctx: EventContext | None = None,
    idempotency_key: str | None = None,
) -> TaskEnvelope:
    return TaskEnvelope(
        task=task_name,
        payload=payload,
        context=TaskContext.of(ctx),
        idempotency_key=idempotency_key or new_id(),
    )


def enqueue(
    task_name: str,
    payload: dict[str, Any],
    ctx: EventContext | None = None,
    *,
    idempotency_key: str | None = None,
    delay_seconds: int = 0,
) -> str:
    """Send task `task_name` to its queue; returns the idempotency key (a redelivery reuses it)."""
    spec = registry.get(task_name)
    envelope = envelope_for(task_name, payload, ctx, idempotency_key)
    client("sqs").send_message(
        QueueUrl=queue_url(spec.queue), MessageBody=envelope.model_dump_json(), DelaySeconds=delay_seconds
    )
    return envelope.idempotency_key


def key_digest(idempotency_key: str) -> str:
    """Keys can be long (Step Functions task tokens are): store their SHA-256."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


def enqueue_many(
    task_name: str,
    messages: Iterable[tuple[dict[str, Any], str]],
    ctx: EventContext | None = None,
) -> int:
    """Send task `task_name` once per (payload, idempotency key), ten per SendMessageBatch call;
    returns how many were sent. A batch entry SQS refuses raises (the caller's task is retried:
    the keys make the ones already sent run once)."""
    spec = registry.get(task_name)
    url = queue_url(spec.queue)
    sent = 0
    chunk: list[dict[str, str]] = []

    def flush() -> None:
        if not chunk:
            return
        response = client("sqs").send_message_batch(QueueUrl=url, Entries=list(chunk))
        failed = response.get("Failed") or []
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} of {len(chunk)} messages: {failed[0]}")
        chunk.clear()

    for payload, key in messages:
        envelope = envelope_for(task_name, payload, ctx, key)
        chunk.append({"Id": str(len(chunk)), "MessageBody": envelope.model_dump_json()})
        sent += 1
        if len(chunk) == 10:
            flush()
    flush()
    return sent
