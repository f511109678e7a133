"""The local stack's stand-in for the Lambda stream trigger: reads the table's stream from moto and
hands each batch to the same `handle_stream_event` the `events_publisher` Lambda runs, retrying the
records it reports failed (at least once, in order, as the Lambda event source mapping does)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.config import get_settings
from chalicelib.workflows.aws import client


def create_event_bus() -> str:
    """The bus events are published to (CDK makes it on AWS). Idempotent; returns its name."""
    events = client("events")
    name = get_settings().event_bus_name
    if name not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}:
        events.create_event_bus(Name=name)
    return name


def _streams() -> Any:
    """The DynamoDB Streams client. Without a local endpoint (moto in-process), name the AWS
    endpoint with its trailing slash: moto's in-process router matches only that form."""
    settings = get_settings()
    if settings.aws_endpoint_url:
        return client("dynamodbstreams")
    import boto3

    return boto3.client(
        "dynamodbstreams",
        region_name=settings.region,
        endpoint_url=f"https://streams.dynamodb.{settings.region}.amazonaws.com/",
    )


def _lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A GetRecords record as the Lambda trigger delivers it (epoch seconds, the stream's ARN)."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": change, "eventSourceARN": arn}


def stream_arn() -> str:
    table = client("dynamodb").describe_table(TableName=get_settings().table_name)["Table"]
    return str(table["LatestStreamArn"])


class StreamReader:
    """Polls every shard of the table's stream from its start; `poll_once()` for tests."""

    def __init__(
        self,
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        interval: float = 0.5,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        if handler is None:
            from chalicelib.workflows.publisher import handle_stream_event

            handler = handle_stream_event
        self._handler = handler
        self._interval = interval
        self._announce = announce or (lambda line: None)
        self._arn = stream_arn()
        self._iterators: dict[str, str | None] = {}
        self._pending: dict[str, list[dict[str, Any]]] = {}  # failed records, retried first
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cirrus-stream", daemon=True)

    def _refresh_shards(self) -> None:
        streams = _streams()
        for shard in streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def poll_once(self) -> int:
        """Read what is new on every shard and process it; returns the records handled."""
        self._refresh_shards()
        streams = _streams()
        handled = 0
        for shard_id, iterator in list(self._iterators.items()):
            records = self._pending.pop(shard_id, [])
            if iterator is not None:
                reply = streams.get_records(ShardIterator=iterator, Limit=100)
                self._iterators[shard_id] = reply.get("NextShardIterator")
                records += [_lambda_record(r, self._arn) for r in reply.get("Records", [])]
            if not records:
                continue
            result = self._handler({"Records": records})
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            if failed:
                # Like the event source mapping: retry from the first failed record on, in order.
                first = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
                self._pending[shard_id] = records[first:]
                self._announce(f"stream: {len(records) - first} record(s) to retry")
            handled += len(records) - (len(records) - first if failed else 0)
        return handled

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # keep polling; the next poll retries
                self._announce(f"stream: {exc!r}")
            self._stop.wait(self._interval)

    def start(self) -> StreamReader:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
