"""The local stack's stand-in for the Lambda stream trigger: reads the table's stream from moto and
hands each batch to the same `handle_stream_event` the `events_publisher` Lambda runs, retrying the
records it reports failed (at least once, in order, a bounded number of times, as the Lambda event
source mapping does)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.config import get_settings
from chalicelib.workflows.aws import client, client_config
from chalicelib.workflows.publisher import MAX_RETRY_ATTEMPTS, dead_letter, handle_stream_event, wanted


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
        config=client_config(settings),
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


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


Trim = Callable[[int], int]


def in_process_trim() -> Trim | None:
    """Drops the table's stream records through a sequence number, when moto's models are in this
    process and patched (moto_speedups installed); None otherwise (a moto server elsewhere, AWS)."""
    from chalicelib.local import moto_speedups

    if not moto_speedups.installed():
        return None
    settings = get_settings()
    table, region = settings.table_name, settings.region
    return lambda through: moto_speedups.trim_stream(table, through, region=region)


class StreamReader:
    """Polls every shard of the table's stream from its start; `poll_once()` for tests.

    Like the event source mapping on AWS, a record the handler reports failed is retried (with
    the records after it, in order) up to `max_retries` times, then its position goes to the
    publisher's dead-letter queue and the shard moves on: one record never stops the stream."""

    def __init__(
        self,
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        interval: float = 0.5,
        announce: Callable[[str], None] | None = None,
        max_retries: int = MAX_RETRY_ATTEMPTS,
        trim: bool | Trim = True,
        on_read: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self._handler = handler or handle_stream_event
        self._interval = interval
        self._announce = announce or (lambda line: None)
        self._max_retries = max_retries
        self._arn = stream_arn()
        self._last: dict[str, str | None] = {}  # shard -> sequence number of the last record read
        self._pending: dict[str, list[dict[str, Any]]] = {}  # failed records, retried first
        self._failures: dict[str, tuple[str, int]] = {}  # shard -> (its first pending record, tries)
        # True: trim moto's stream in-process when it can; False: never; or how to trim
        self._trim: Trim | None = in_process_trim() if trim is True else None if trim is False else trim
        self._trimmed: dict[str, str] = {}  # shard -> the sequence number trimmed through
        # Records read by the last poll, those the filter drops included: a poll that handles none
        # may still have read a hundred (the publisher's own writes); only 0 here means caught up.
        self.read_last_poll = 0
        # Given every record read, before it is trimmed (the data directory's journal).
        self._on_read = on_read
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cirrus-stream", daemon=True)

    def _refresh_shards(self) -> None:
        for shard in _streams().describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]:
            self._last.setdefault(shard["ShardId"], None)

    def _read(self, streams: Any, shard_id: str) -> list[dict[str, Any]]:
        """The shard's records after the last one read. A fresh iterator each time: moto replaces
        the table, stream included, by a copy when a transaction is cancelled, and an iterator
        taken earlier (NextShardIterator included) keeps reading the old copy, seeing nothing new
        ever again."""
        last = self._last[shard_id]
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
            if last
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id, **position)
        records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=100).get("Records", [])
        if records and self._on_read is not None:
            self._on_read(records)  # if it raises, the records are read again at the next poll
        if records:
            self._last[shard_id] = _sequence(records[-1])
        self.read_last_poll += len(records)
        # Like the trigger's filter on AWS: only what the publisher acts on (not, among others, the
        # counters and markers its own counting writes).
        return [_lambda_record(r, self._arn) for r in records if wanted(r)]

    def poll_once(self) -> int:
        """Read what is new on every shard and process it; returns the records handled (published,
        counted, skipped or dead-lettered; records the trigger's filter would drop are not handed on
        and not counted here)."""
        self._refresh_shards()
        streams = _streams()
        handled = 0
        self.read_last_poll = 0
        for shard_id in list(self._last):
            records = self._pending.pop(shard_id, [])
            self._pending[shard_id] = records  # kept if reading or handling raises
            records += self._read(streams, shard_id)
            if records:
                handled += self._handle(shard_id, records)
            if not self._pending[shard_id]:
                del self._pending[shard_id]
            self._trim_read(shard_id)
        return handled

    def _trim_read(self, shard_id: str) -> None:
        """Drop from moto's stream every record read so far. Safe: the reader never reads a record
        twice (the next read starts after `_last`), and the records it still has to retry are in
        `_pending`, its own copy. Not done when handling raised (then `_pending` holds them as well,
        and the next poll trims)."""
        last = self._last.get(shard_id)
        if self._trim is None or last is None or self._trimmed.get(shard_id) == last:
            return
        self._trim(int(last))
        self._trimmed[shard_id] = last

    def _handle(self, shard_id: str, records: list[dict[str, Any]]) -> int:
        result = self._handler({"Records": records})
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        first = next((i for i, r in enumerate(records) if _sequence(r) in failed), None)
        if first is None:
            self._pending[shard_id] = []
            self._failures.pop(shard_id, None)
            return len(records)
        # Like the event source mapping: retry from the first failed record on, in order.
        self._pending[shard_id] = records[first:]
        stuck = _sequence(records[first])
        seen, tries = self._failures.get(shard_id, (stuck, 0))
        tries = tries + 1 if seen == stuck else 1
        if tries <= self._max_retries:
            self._failures[shard_id] = (stuck, tries)
            self._announce(f"stream: {len(records) - first} record(s) to retry")
            return first
        dead_letter(records[first], f"failed {tries} times")
        self._failures.pop(shard_id, None)
        self._pending[shard_id] = records[first + 1 :]
        self._announce(f"stream: record {stuck} dead-lettered after {tries} failures")
        return first + 1

    def drain(self, max_polls: int = 100) -> int:
        """Poll until a poll reads nothing new and nothing waits for a retry (at most `max_polls`):
        what was written is published before the stack saves its data and stops. Returns the records
        handled. Call it once the reader's thread has stopped."""
        handled = 0
        for _ in range(max_polls):
            before = dict(self._last)
            handled += self.poll_once()
            if self._last == before and not self._pending:
                break
        return handled

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once() > 0
            except Exception as exc:  # keep polling; the next poll retries
                self._announce(f"stream: {exc!r}")
                busy = False
            if not busy:  # a poll that handled records polls again at once: the stream may hold more
                self._stop.wait(self._interval)

    def start(self) -> StreamReader:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
