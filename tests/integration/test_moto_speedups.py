"""What chalicelib/local/moto_speedups.py changes in moto that a user of the local stack notices:
a retried transaction is not applied twice, and a request's cost does not grow with the table (no
Query walks it, no transaction copies it). The answers themselves are held equal to moto's by
test_moto_differential.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from chalicelib.local import moto_speedups
from chalicelib.store import schema

TABLE = "cirrus-speedups"


@pytest.fixture
def ddb() -> Iterator[Any]:
    assert moto_speedups.installed()  # tests/conftest.py installs them
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**schema.create_table_request(TABLE))
        yield client


def _put(pk: str, sk: str, **extra: str) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}
    return {"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def _stream_records(ddb: Any) -> int:
    with moto_speedups.LOCK:
        shard = moto_speedups.table_model(TABLE).stream_shard
        return len(shard.items)


def test_a_retried_transaction_is_answered_once_and_applied_once(ddb: Any) -> None:
    """botocore resends the same ClientRequestToken when it retries (a read timeout on a slow
    answer): DynamoDB answers the repeat as a success without applying it again. moto applied it
    again, the creation's own condition failed, and the API answered 409 for a project it made."""
    request = {"TransactItems": [_put("P#1", "S#1", name="first")], "ClientRequestToken": "retry-1"}
    ddb.transact_write_items(**request)
    ddb.transact_write_items(**request)  # the retry: no ConditionalCheckFailed

    assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "P#1"}, "sk": {"S": "S#1"}})["Item"]["name"] == {
        "S": "first"
    }
    assert _stream_records(ddb) == 1  # one write, published once

    with pytest.raises(ClientError) as again:  # a new request (new token) is a new write
        ddb.transact_write_items(TransactItems=[_put("P#1", "S#1", name="first")])
    assert again.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_a_token_reused_for_other_items_is_refused(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[_put("P#1", "S#1")], ClientRequestToken="tok")
    with pytest.raises(ClientError) as mismatch:
        ddb.transact_write_items(TransactItems=[_put("P#2", "S#2")], ClientRequestToken="tok")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "P#2"}, "sk": {"S": "S#2"}})


def test_a_cancelled_transaction_leaves_its_token_unused(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=[_put("P#1", "S#1")])
    cancelled = {"TransactItems": [_put("P#1", "S#1"), _put("P#2", "S#2")], "ClientRequestToken": "tok"}
    with pytest.raises(ClientError):
        ddb.transact_write_items(**cancelled)
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "P#1"}, "sk": {"S": "S#1"}})
    ddb.transact_write_items(**cancelled)  # evaluated afresh: now it commits
    assert "Item" in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "P#2"}, "sk": {"S": "S#2"}})


def test_queries_and_transactions_never_walk_or_copy_the_table(ddb: Any, monkeypatch: Any) -> None:
    """The cost of a Query or a transaction depends on the items it names or reads, not on the
    table: moto's own walked (Table.all_items) and copied (deepcopy of the Table) the whole table."""
    for i in range(30):
        ddb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": f"P#{i % 3}"},
                "sk": {"S": f"S#{i:02}"},
                "gsi1pk": {"S": f"G#{i % 2}"},
                "gsi1sk": {"S": f"{i:02}"},
            },
        )

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the whole table was walked or copied")

    monkeypatch.setattr(Table, "all_items", refuse)
    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)

    page = ddb.query(
        TableName=TABLE,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p AND gsi1sk > :s",
        ExpressionAttributeValues={":p": {"S": "G#1"}, ":s": {"S": "10"}},
        Limit=3,
    )
    assert [i["gsi1sk"]["S"] for i in page["Items"]] == ["11", "13", "15"]
    rest = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "P#0"}},
        ScanIndexForward=False,
        Limit=2,
    )
    assert [i["sk"]["S"] for i in rest["Items"]] == ["S#27", "S#24"] and "LastEvaluatedKey" in rest
    with pytest.raises(ClientError):  # a cancelled transaction: rolled back item by item
        ddb.transact_write_items(TransactItems=[_put("P#9", "S#9"), _put("P#0", "S#00")])
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "P#9"}, "sk": {"S": "S#9"}})


def test_lookups_of_missing_keys_leave_nothing_behind(ddb: Any) -> None:
    """moto's item map made an empty partition for every key it was asked for and did not hold
    (a token lookup with a made-up token, say): memory grew with every miss."""
    for i in range(50):
        ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"TOKEN#{i}"}, "sk": {"S": "TOKEN"}})
    with moto_speedups.LOCK:
        assert len(moto_speedups.table_model(TABLE).items) == 0
