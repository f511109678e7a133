"""The queue consumer the Lambdas run (and the local pollers call): powertools BatchProcessor with
partial batch failure, so only the records that failed come back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib import bootstrap, observability
from chalicelib.domain.clock import utcnow
from chalicelib.store import idempotency
from chalicelib.workflows import registry
from chalicelib.workflows.envelope import TaskEnvelope
from chalicelib.workflows.queues import key_digest

# How long a worker holds a delivery before another may take it over: longer than any worker may run
# (150 s Lambda timeout) and shorter than the queues' visibility timeout (900 s), so the redelivery
# that follows a crashed worker finds the lease over instead of spending a receive on StillRunning.
LEASE = timedelta(minutes=14)


def run(envelope: TaskEnvelope) -> bool:
    """Run one task once: False when this delivery already ran (a duplicate), True when it ran now."""
    bootstrap.ensure_ready()
    spec = registry.get(envelope.task)
    digest = key_digest(envelope.idempotency_key)
    if not idempotency.claim(digest, envelope.task, utcnow(), LEASE):
        observability.logger().info("duplicate delivery skipped", extra={"task": envelope.task})
        return False
    try:
        spec.handler(envelope.payload, envelope.context.restore())
    except Exception:
        idempotency.release(digest)
        raise
    idempotency.finish(digest)
    return True


def _record_handler(record: Any) -> None:
    with observability.invocation(message_id=record.message_id):
        _run_record(record)


def _run_record(record: Any) -> None:
    task = "?"
    try:
        envelope = TaskEnvelope.model_validate_json(record.body)
        task = envelope.task
        receives = record.attributes.approximate_receive_count
        envelope.attempt = int(receives) if receives else envelope.attempt
        # The request's id when a request queued it (a workflow's tasks carry its starter's), the
        # Scheduler's execution id for a schedule; else the delivery's own key.
        correlation = envelope.context.correlation_id or envelope.idempotency_key
        observability.append_keys(task=task, attempt=envelope.attempt, correlation_id=correlation)
        run(envelope)
    except Exception:
        # The record goes back to the queue (the DLQ after the last receive); the log says why.
        observability.logger().exception("task failed", extra={"task": task, "message_id": record.message_id})
        raise


def handle_sqs_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Process an SQS batch; the answer lists the failed records (`batchItemFailures`). Each record
    logs in its own scope: its task, its correlation id, and the Lambda invocation's keys."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    with observability.invocation("task", **observability.lambda_keys(context)):
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response = process_partial_response(
            event=event, record_handler=_record_handler, processor=processor, context=context
        )
    return dict(response)
