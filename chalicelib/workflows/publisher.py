"""Publishing the audit log: the table's stream → the EventBridge bus, and → the web/email hooks;
and keeping the platform-wide totals (store/counters.py) and the analytics aggregates
(store/analytics.py) from the same stream.

Every INSERT or REMOVE of a counted item (a customer, project, user, order, …: `counters.counted_in`)
moves its counter by ±1, once per stream record whatever the deliveries (`counters.tally`). No
request transaction writes those counters, so unrelated tenants never contend on them; a total
lags the table by the stream's delay.

Every event record (`type = event`) that lands in the table is, at least once: put on the custom
EventBridge bus (source `cirrus`, detail-type = the event type, detail = the event), and handed to
the `hooks.dispatch` task on the background queue when an active hook wants its type. Both are keyed
by the event's uuid: EventBridge consumers and the hooks dedupe by it (the task's idempotency key is
`hooks:<uuid>`). Feed copies and every other item in the stream are skipped. The CDK filter sends
only event INSERTs and counted items' INSERTs and REMOVEs; the checks here keep the local stack
(which reads the whole stream) and the Lambda the same.

A record that can never be published (unreadable, or an event too large for an EventBridge entry
or an SQS message) is not retried: it goes to the publisher's dead-letter queue at once, with what
names it, and the batch goes on. A record that fails otherwise (the bus or the queue unavailable)
is reported failed and retried, at most `MAX_RETRY_ATTEMPTS` times, before its position goes to the
same queue (the event source mapping on AWS, `local/stream.py` locally), so one record never holds
up the stream for long.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from chalicelib import bootstrap, observability
from chalicelib.config import get_settings
from chalicelib.domain.context import EventContext
from chalicelib.domain.events import Event
from chalicelib.store import analytics, counters
from chalicelib.store import events as event_store
from chalicelib.workflows.aws import client
from chalicelib.workflows.queues import dead_letter_name, enqueue, url_of

SOURCE = "cirrus"
# `<prefix>-events-publisher-dlq` (CDK makes it, `local.aws.create_queues` locally); CDK sets its URL.
DEAD_LETTERS = "events-publisher"
DEAD_LETTERS_URL_ENV = "CIRRUS_DLQ_URL_PUBLISHER"
# Tries of a failing record after the first before it goes to the dead-letter queue.
MAX_RETRY_ATTEMPTS = 10
# An event larger than this, as JSON, fits neither an EventBridge entry nor an SQS message (256 KiB
# each, with the envelope around it).
MAX_DOCUMENT_BYTES = 240 * 1024
DISPATCH_TASK = "hooks.dispatch"
# The `type` of the items published (`EventItem`; feed copies are `feed_entry`).
EVENT_ITEM_TYPE = "event"
# Work that must follow an event even if the request that wrote it died right after its commit:
# event type → the task queued (on its queue, keyed by the event's uuid) with the event document.
FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    # the order's workflow, started in the request; a crash before the start leaves this one
    "marketplace_order_created": ("marketplace.ensure_started",),
    # the support desk's files (workflows/support.py)
    "attachment_deleted": ("support.delete_attachment_file",),
    "issue_deletion_succeeded": ("support.delete_issue_attachments", "support.delete_issue_feedback"),
    # the caller's mail (services/support_notifications.py); an external service desk's copy of the
    # issue (workflows/support_sync.py); a request-based order's ticket resolved or canceled settles
    # the order (workflows/marketplace_support.py)
    "issue_creation_succeeded": ("support_sync.create_issue",),
    "issue_update_succeeded": (
        "support.mail_status_change",
        "support.mail_feedback_request",
        "marketplace_support.settle_order",
        "support_sync.update_issue",
    ),
    "issue_comment_created": ("support.mail_comment", "support_sync.push_comment"),
}


def _support_sync_enabled() -> bool:
    from chalicelib.workflows.support_sync import sync_enabled

    return sync_enabled()


# Follow-ups queued only while their feature is configured (task -> whether, asked at publishing):
# with the built-in desk alone no support sync task is queued at all.
FOLLOW_UP_WHEN: dict[str, Callable[[], bool]] = {
    "support_sync.create_issue": _support_sync_enabled,
    "support_sync.update_issue": _support_sync_enabled,
    "support_sync.push_comment": _support_sync_enabled,
}


def follow_up_tasks() -> tuple[str, ...]:
    """Every task some event type is followed by (what the publisher may queue)."""
    return tuple(sorted({task for tasks in FOLLOW_UPS.values() for task in tasks}))


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
    """Put one event on the bus, queue its hook dispatch if any active hook wants its type (and its
    follow-ups, see FOLLOW_UPS); raises if any fails (retried)."""
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
    # The tasks follow the event's correlation id (no actor: they act for the platform).
    carried = EventContext(correlation_id=event.correlation_id)
    if _hooks_want(event.event_type):
        enqueue(DISPATCH_TASK, {"event": document}, carried, idempotency_key=f"hooks:{event.id}")
    for follow_up in FOLLOW_UPS.get(event.event_type, ()):
        wanted = FOLLOW_UP_WHEN.get(follow_up)
        if wanted is not None and not wanted():
            continue
        enqueue(follow_up, {"event": document}, carried, idempotency_key=f"{follow_up}:{event.id}")


# Per stream batch: event type → whether an active hook wants it (cleared by `handle_stream_event`).
_wanted_by_hooks: dict[str, bool] = {}


def _hooks_want(event_type: str) -> bool:
    """Whether any active hook subscribes to `event_type`: one Query of its subscription partition
    per type and batch (eventually consistent, as the dispatch task's own read). Most events have no
    subscriber; skipping their dispatch saves a queued task, a worker invocation and its idempotency
    record per event (bench/cost.py)."""
    if event_type not in _wanted_by_hooks:
        from chalicelib.store import hooks as hook_store

        _wanted_by_hooks[event_type] = bool(hook_store.subscribers(event_type))
    return _wanted_by_hooks[event_type]


def dead_letter_url() -> str:
    return os.environ.get(DEAD_LETTERS_URL_ENV) or url_of(dead_letter_name(DEAD_LETTERS))


def dead_letter(record: dict[str, Any], reason: str, **details: Any) -> None:
    """Put a stream record the publisher gives up on in its dead-letter queue: where it is in the
    stream, which item and why (the event itself stays in the table until its TTL)."""
    change = record.get("dynamodb") or {}
    body = {
        "reason": reason,
        "eventSourceARN": record.get("eventSourceARN"),
        "eventID": record.get("eventID"),
        "SequenceNumber": change.get("SequenceNumber"),
        "Keys": change.get("Keys"),
        **details,
    }
    client("sqs").send_message(QueueUrl=dead_letter_url(), MessageBody=json.dumps(body, default=str))
    observability.logger().error("stream record dead-lettered", extra={k: str(v) for k, v in body.items()})


def wanted(record: dict[str, Any]) -> bool:
    """Whether the publisher acts on a stream record: an event record's INSERT, or a change that
    moves a platform-wide total. The trigger's filter on AWS (infra events.py) passes a superset of
    these; the local stream reader hands on only these, so both see the same records acted on."""
    if counters.moves(record) or analytics.folds(record):
        return True
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and (image.get("type") or {}).get("S") == EVENT_ITEM_TYPE


def _is_event_record(record: dict[str, Any]) -> bool:
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return (image.get("type") or {}).get("S") == EVENT_ITEM_TYPE


def _record_handler(record: Any) -> None:
    raw: dict[str, Any] = record.raw_event
    with observability.invocation(stream_event_id=raw.get("eventID")):
        _handle_record(raw)


def _handle_record(raw: dict[str, Any]) -> None:
    if analytics.folds(raw):
        try:
            analytics.fold(raw)  # the aggregates (a failure raises: retried; a repeat changes nothing)
        except analytics.Unreadable as exc:
            if not _is_event_record(raw):  # an event's is dead-lettered below, once
                dead_letter(raw, "unreadable record", error=str(exc))
    if counters.moves(raw):
        counters.tally(raw)  # a failure raises: the record is retried (a repeat changes nothing)
        return
    if raw.get("eventName") != "INSERT":
        return
    image = (raw.get("dynamodb") or {}).get("NewImage") or {}
    try:
        event = event_store.event_from_image(image)
    except Exception as exc:  # a malformed record stays malformed: retrying cannot help
        dead_letter(raw, "unreadable event record", error=repr(exc))
        return
    if event is None:
        return
    # The request's (or task's) id the event was written under: this record's lines, and the tasks
    # it queues, carry it on.
    observability.append_keys(
        correlation_id=event.correlation_id, event_uuid=event.id, event_type=event.event_type
    )
    counters.tally(raw)  # the audit log's counts shared between tenants (a repeat changes nothing)
    size = len(json.dumps(event_document(event)))
    if size > MAX_DOCUMENT_BYTES:
        dead_letter(raw, "event too large to publish", event_uuid=event.id, size=size)
        return
    try:
        publish(event)
    except Exception:
        observability.logger().exception("event not published", extra={"event_uuid": event.id})
        raise


def handle_stream_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Process a DynamoDB stream batch; failed records come back (`batchItemFailures`) and are
    retried from there (the stream keeps order per item, and each record is one event). Each
    record logs in its own scope (its event's correlation id), within the invocation's."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    with observability.invocation("stream", **observability.lambda_keys(context)):
        bootstrap.ensure_ready()
        _wanted_by_hooks.clear()  # hooks made or changed since the last batch count from now
        processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        response = process_partial_response(
            event=event, record_handler=_record_handler, processor=processor, context=context
        )
    return dict(response)
