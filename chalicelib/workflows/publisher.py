"""Publishing the audit log: the table's stream → the EventBridge bus, and → the web/email hooks.

Every event record (`type = event`) that lands in the table is, at least once: put on the custom
EventBridge bus (source `cirrus`, detail-type = the event type, detail = the event), and handed to
the `hooks.dispatch` task on the background queue. Both are keyed by the event's uuid: EventBridge
consumers and the hooks dedupe by it (the task's idempotency key is `hooks:<uuid>`). Feed copies and
every other item in the stream are skipped. The CDK filter sends only event INSERTs; the check here
keeps the local stack (which reads the whole stream) and the Lambda the same.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib import bootstrap, observability
from chalicelib.config import get_settings
from chalicelib.domain.events import Event
from chalicelib.store import events as event_store
from chalicelib.workflows.aws import client
from chalicelib.workflows.queues import enqueue

SOURCE = "cirrus"
DISPATCH_TASK = "hooks.dispatch"
# Work that must follow an event even if the request that wrote it died right after its commit:
# event type → the task queued (on its queue, keyed by the event's uuid) with the event document.
FOLLOW_UPS: dict[str, str] = {
    # the order's workflow, started in the request; a crash before the start leaves this one
    "marketplace_order_created": "marketplace.ensure_started",
}


def event_document(event: Event) -> dict[str, Any]:
    """An event as published (EventBridge detail, hooks' task payload)."""
    return {
        "uuid": event.id,
        "created": event.created.isoformat(),
        "event_type": event.event_type,
        "message": event.message,
        "context": event.context,
        "customer_uuid": event.customer_id,
        "scopes": [list(s) for s in event.scopes],
    }


def publish(event: Event) -> None:
    """Put one event on the bus and queue its hook dispatch (and its follow-up, see FOLLOW_UPS);
    raises if any fails (retried)."""
    document = event_document(event)
    reply = client("events").put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": event.event_type,
                "Detail": json.dumps(document),
                "EventBusName": get_settings().event_bus_name,
                "Time": event.created,
            }
        ]
    )
    if reply.get("FailedEntryCount"):
        failed = reply["Entries"][0]
        raise RuntimeError(
            f"EventBridge refused event {event.id}: {failed.get('ErrorCode')} {failed.get('ErrorMessage')}"
        )
    enqueue(DISPATCH_TASK, {"event": document}, idempotency_key=f"hooks:{event.id}")
    follow_up = FOLLOW_UPS.get(event.event_type)
    if follow_up:
        enqueue(follow_up, {"event": document}, idempotency_key=f"{follow_up}:{event.id}")


def _record_handler(record: Any) -> None:
    if record.raw_event.get("eventName") != "INSERT":
        return
    image = (record.raw_event.get("dynamodb") or {}).get("NewImage") or {}
    event = event_store.event_from_image(image)
    if event is None:
        return
    try:
        publish(event)
    except Exception:
        observability.logger().exception("event not published", extra={"event_uuid": event.id})
        raise


def handle_stream_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Process a DynamoDB stream batch; failed records come back (`batchItemFailures`) and are
    retried from there (the stream keeps order per item, and each record is one event)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    bootstrap.ensure_ready()
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=_record_handler, processor=processor, context=context
    )
    return dict(response)
