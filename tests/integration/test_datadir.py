"""The local stack's data directory (chalicelib/local/datadir.py): what `make run` keeps across a
restart. Each "restart" here is a second, fresh moto (a new `mock_aws`) with the table, queues and
state machines made again, as `make run` makes them at start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.domain import clock
from chalicelib.domain.vocabulary import OrderState
from chalicelib.local import datadir, moto_speedups
from chalicelib.local.datadir import DataDir, DataDirError

TABLE = "cirrus-test"


@contextmanager
def fresh_stack() -> Iterator[None]:
    """A new moto holding the table, the queues and the state machines (recorded, not run): the
    `stack` fixture, enterable twice in one test."""
    from tests.workflow_helpers import embedded_stack

    with embedded_stack():
        yield


def dynamodb():
    from chalicelib.workflows.aws import client

    return client("dynamodb")


def stream_records() -> int:
    with moto_speedups.LOCK:
        return len(moto_speedups.table_model(TABLE).stream_shard.items)


EVERY_TYPE = {
    "pk": {"S": "THING#1"},
    "sk": {"S": "META"},
    "gsi1pk": {"S": "BYNAME"},
    "gsi1sk": {"S": "thing one"},
    "gsi2pk": {"S": "WORK"},
    "gsi2sk": {"S": "0001"},
    "text": {"S": "héllo ✓"},
    "number": {"N": "12.50"},
    "blob": {"B": b"\x00\xffbinary"},
    "yes": {"BOOL": True},
    "nothing": {"NULL": True},
    "list": {"L": [{"S": "a"}, {"N": "1"}, {"B": b"\x01"}, {"M": {"deep": {"BOOL": False}}}]},
    "map": {"M": {"name": {"S": "x"}, "bytes": {"B": b"\x02\x03"}, "inner": {"L": [{"NULL": True}]}}},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x04", b"\x05"]},
}
OTHER = {"pk": {"S": "THING#2"}, "sk": {"S": "META"}, "gsi1pk": {"S": "BYNAME"}, "gsi1sk": {"S": "thing two"}}


def test_items_of_every_type_come_back_without_stream_records_and_the_indexes_answer(tmp_path):
    with fresh_stack():
        for item in (EVERY_TYPE, OTHER):
            dynamodb().put_item(TableName=TABLE, Item=item)
        saved = DataDir(tmp_path, TABLE)
        saved.open()
        assert saved.save().items == 2
        saved.close()

    with fresh_stack():
        restored = DataDir(tmp_path, TABLE)
        data = restored.open()
        assert data is not None and restored.restore(data) == 2

        assert stream_records() == 0  # nothing is published again
        db = dynamodb()
        got = db.get_item(TableName=TABLE, Key={"pk": EVERY_TYPE["pk"], "sk": EVERY_TYPE["sk"]})["Item"]
        assert {k: v for k, v in got.items() if k not in ("strings", "numbers", "blobs")} == {
            k: v for k, v in EVERY_TYPE.items() if k not in ("strings", "numbers", "blobs")
        }
        assert sorted(got["strings"]["SS"]) == ["a", "b"]
        assert sorted(got["numbers"]["NS"]) == ["1", "2.5"]
        assert sorted(got["blobs"]["BS"]) == [b"\x04", b"\x05"]
        by_name = db.query(
            TableName=TABLE,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": "BYNAME"}},
            ScanIndexForward=False,
        )["Items"]
        assert [i["gsi1sk"]["S"] for i in by_name] == ["thing two", "thing one"]
        work = db.query(
            TableName=TABLE,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :p",
            ExpressionAttributeValues={":p": {"S": "WORK"}},
        )["Items"]
        assert [i["pk"]["S"] for i in work] == ["THING#1"]
        db.put_item(TableName=TABLE, Item={"pk": {"S": "NEW"}, "sk": {"S": "META"}})
        assert stream_records() == 1  # and the stream goes on for what is written afterwards


def test_a_save_that_fails_halfway_leaves_the_previous_copy(tmp_path, monkeypatch):
    with fresh_stack():
        dynamodb().put_item(TableName=TABLE, Item=OTHER)
        data = DataDir(tmp_path, TABLE)
        data.open()
        data.save()
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        dynamodb().put_item(TableName=TABLE, Item=EVERY_TYPE)

        real = datadir._binary
        calls = {"n": 0}

        def disk_full(value):
            calls["n"] += 1
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(datadir, "_binary", disk_full)  # the table file's write raises mid-way
        with pytest.raises(OSError):
            data.save()
        monkeypatch.setattr(datadir, "_binary", real)

        assert calls["n"] == 1
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temp file left either
        data.close()
        again = DataDir(tmp_path, TABLE)
        loaded = again.open()
        assert loaded is not None and [i["pk"]["S"] for i in loaded.items] == ["THING#2"]
        again.close()


def test_a_data_directory_of_an_unknown_format_is_refused_and_left_alone(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 99}))
    (tmp_path / "table.jsonl").write_text('{"pk": {"S": "x"}}\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    with pytest.raises(DataDirError, match="format version 99"):
        DataDir(tmp_path, TABLE).open()

    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != ".lock"} == before


def test_a_directory_that_is_not_ours_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DataDirError, match="not a Cirrus data directory"):
        DataDir(tmp_path, TABLE).open()


def test_fresh_moves_the_old_directory_aside(tmp_path):
    path = tmp_path / "data"
    with fresh_stack():
        dynamodb().put_item(TableName=TABLE, Item=OTHER)
        first = DataDir(path, TABLE)
        first.open()
        first.save()
        first.close()

        again = DataDir(path, TABLE)
        assert again.open(fresh=True) is None
        again.close()

    assert again.moved_aside is not None and again.moved_aside.name.startswith("data.previous-")
    assert (again.moved_aside / "table.jsonl").read_text().count("\n") == 1


def test_a_second_stack_on_the_same_directory_is_refused(tmp_path):
    with fresh_stack():
        first = DataDir(tmp_path, TABLE)
        first.open()
        try:
            with pytest.raises(DataDirError, match="in use"):
                DataDir(tmp_path, TABLE).open()
        finally:
            first.close()


def test_the_data_directory_setting():
    assert datadir.configured({}) == datadir.DEFAULT_DIR
    assert datadir.configured({"CIRRUS_DATA_DIR": "none"}) is None
    assert datadir.configured({"CIRRUS_DATA_DIR": "/tmp/x"}) == Path("/tmp/x")


def test_queued_messages_come_back_except_those_waiting_on_a_lost_execution(tmp_path):
    from chalicelib.workflows import queues
    from chalicelib.workflows.aws import client

    with fresh_stack():
        sqs = client("sqs")
        queues.enqueue("maintenance.purge_expired_tokens", {}, idempotency_key="kept-1")
        sqs.send_message(
            QueueUrl=queues.queue_url("tasks"),
            MessageBody=json.dumps({"task": "marketplace.await_order", "payload": {"token": "t"}}),
        )
        sqs.send_message(
            QueueUrl=queues.dead_letter_url("tasks"),
            MessageBody="dead",
            MessageAttributes={"why": {"DataType": "String", "StringValue": "failed"}},
        )
        data = DataDir(tmp_path, TABLE)
        data.open()
        assert data.save().messages == 3
        data.close()

    with fresh_stack():
        data = DataDir(tmp_path, TABLE)
        loaded = data.open()
        assert loaded is not None
        assert datadir.restore_messages(loaded.messages) == (2, 1)
        sqs = client("sqs")
        background = sqs.receive_message(QueueUrl=queues.queue_url("background"), MaxNumberOfMessages=10)
        assert [json.loads(m["Body"])["idempotency_key"] for m in background["Messages"]] == ["kept-1"]
        assert "Messages" not in sqs.receive_message(QueueUrl=queues.queue_url("tasks"))
        dead = sqs.receive_message(QueueUrl=queues.dead_letter_url("tasks"), MessageAttributeNames=["All"])
        [message] = dead["Messages"]
        assert message["Body"] == "dead" and message["MessageAttributes"]["why"]["StringValue"] == "failed"
        data.close()


def _journaling_reader(data: DataDir):
    """The stream reader as `make run` runs it, feeding the journal (the publisher left out)."""
    from chalicelib.local.stream import StreamReader

    assert data.journal is not None
    return StreamReader(handler=lambda event: {"batchItemFailures": []}, on_read=data.journal.record)


def test_a_killed_stack_loses_no_change_its_stream_reader_read(tmp_path):
    """Between full saves every change is a line of the journal: a stack killed (no save at stop)
    comes back with every write its stream reader had read, deletes and in-place updates included,
    and numbers its new stream on from there (the journal orders changes across restarts)."""
    first = {"pk": {"S": "THING#1"}, "sk": {"S": "A"}, "n": {"N": "1"}}
    second = {"pk": {"S": "THING#2"}, "sk": {"S": "B"}, "gsi1pk": {"S": "G"}, "gsi1sk": {"S": "2"}}
    with fresh_stack():
        data = DataDir(tmp_path, TABLE)
        data.open()
        dynamodb().put_item(TableName=TABLE, Item=first)
        assert data.save().items == 1  # a full save: the journal starts empty after it
        reader = _journaling_reader(data)
        dynamodb().put_item(TableName=TABLE, Item=second)
        dynamodb().update_item(
            TableName=TABLE,
            Key={"pk": first["pk"], "sk": first["sk"]},
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": "2"}},
        )
        dynamodb().put_item(TableName=TABLE, Item={**OTHER})
        dynamodb().delete_item(TableName=TABLE, Key={"pk": OTHER["pk"], "sk": OTHER["sk"]})
        reader.poll_once()
        # 5: the put before the full save is read too (the reader lags); a restart skips it
        assert data.journal is not None and data.journal.lines == 5
        # kill -9: no save. close() saves nothing; it lets go of the directory as the process's
        # end would (the journal's lines reached the operating system when they were read)
        data.close()

    with fresh_stack():
        again = DataDir(tmp_path, TABLE)
        saved = again.open()
        assert saved is not None
        assert again.restore(saved) == 2
        assert stream_records() == 0  # restored, not written: nothing is published again
        got = dynamodb().get_item(TableName=TABLE, Key={"pk": first["pk"], "sk": first["sk"]})["Item"]
        assert got["n"] == {"N": "2"}
        page = dynamodb().query(
            TableName=TABLE,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues={":g": {"S": "G"}},
        )
        assert [i["pk"]["S"] for i in page["Items"]] == ["THING#2"]
        with moto_speedups.LOCK:
            shard = moto_speedups.table_model(TABLE).stream_shard
            assert shard.starting_sequence_number == saved.position > 0
        again.close()


def test_a_stack_killed_before_its_first_full_save_keeps_its_writes(tmp_path):
    """A new data directory gets a full save at once (the table as it is at start), so the journal
    has something to be replayed over: a stack killed minutes after its first start kept nothing."""
    with fresh_stack():
        data = DataDir(tmp_path, TABLE)
        assert data.open() is None
        reader = _journaling_reader(data)
        dynamodb().put_item(TableName=TABLE, Item=OTHER)
        reader.poll_once()
        data.close()  # kill -9: no save

    with fresh_stack():
        again = DataDir(tmp_path, TABLE)
        saved = again.open()
        assert saved is not None and again.restore(saved) == 1
        again.close()
    # Only its owner may read it (the items hold password hashes and tokens).
    assert {
        oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir() if p.is_file() and p.name != ".lock"
    } == {"0o600"}


def test_periodic_saves_keep_the_journal_and_save_the_whole_table_only_when_it_is_long(tmp_path, monkeypatch):
    """A periodic save makes the journal durable and writes the queues when they changed; it
    writes the whole table only once the journal holds as many changes as the table holds items,
    so a write's share of full saves stays the same however large the table grows."""
    monkeypatch.setattr(datadir, "MIN_FULL_SAVE", 3)
    with fresh_stack():
        data = DataDir(tmp_path, TABLE)
        data.open()
        reader = _journaling_reader(data)
        for n in range(2):
            dynamodb().put_item(TableName=TABLE, Item={**OTHER, "sk": {"S": f"S{n}"}})
        reader.poll_once()
        assert data.save_if_changed() is None  # 2 changes < max(3, 2 items): journal only
        assert (tmp_path / datadir.TABLE_FILE).read_text() == ""  # the first save, at open
        dynamodb().put_item(TableName=TABLE, Item={**OTHER, "sk": {"S": "S2"}})
        reader.poll_once()
        full = data.save_if_changed()  # 3 changes >= max(3, 3 items)
        assert full is not None and full.items == 3
        assert data.journal is not None and data.journal.lines == 0

        from chalicelib.workflows import queues
        from chalicelib.workflows.aws import client

        client("sqs").send_message(QueueUrl=queues.queue_url("tasks"), MessageBody="{}")
        assert data.save_if_changed() is None
        saved = json.loads((tmp_path / datadir.QUEUES_FILE).read_text())
        assert sum(len(m) for m in saved.values()) == 1
        data.close()


def test_a_pending_order_gets_its_execution_back_after_a_restart(tmp_path):
    """Step Functions executions are not kept: `order_sweep.resume` starts one for every waiting
    order, however recent (the hourly sweep waits 15 minutes)."""
    from chalicelib.services import orders
    from chalicelib.workflows import order_sweep, stepfunctions
    from tests.conftest import make_account
    from tests.marketplace_helpers import build_market, ctx_of, order_request

    with fresh_stack():
        market = build_market(make_account("staff", is_staff=True))
        order = orders.create_order(ctx_of(market.member), order_request(market))
        assert stepfunctions.execution_status("order", order.execution_name)[0] == "RUNNING"
        data = DataDir(tmp_path, TABLE)
        data.open()
        data.save()
        data.close()

    with fresh_stack():
        data = DataDir(tmp_path, TABLE)
        loaded = data.open()
        assert loaded is not None
        data.restore(loaded)
        data.close()
        assert stepfunctions.execution_status("order", order.execution_name)[0] is None

        now = clock.utcnow()
        assert order_sweep.sweep(now)["restarted"] == 0  # within the hourly sweep's grace
        resumed = order_sweep.resume(now + timedelta(seconds=1))

        assert resumed["restarted"] == 1
        assert stepfunctions.execution_status("order", order.execution_name)[0] == "RUNNING"
        from chalicelib.store import orders as order_store

        again = order_store.load(order.customer_id, order.id)
        assert again.state is OrderState.PENDING_CONSUMER
        assert order_sweep.resume(now + timedelta(seconds=2))["running"] == 1  # a second run starts nothing
