"""The local stack's memory stays bounded under use: what moto would keep forever (stream records,
finished executions, deleted messages' receipt handles, issued tokens) is trimmed, and what is kept
is what a reader or a sweep may still need."""

from __future__ import annotations

from typing import Any

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
