"""moto with chalicelib/local/moto_speedups.py installed answers exactly as moto does without it.

The same seeded random sequence of DynamoDB operations (transactions with failing conditions and
duplicate keys, single writes with every ReturnValues, batch writes, paginated Queries on the table
and on each GSI, GetItem, Scan) runs twice, each time in a fresh `mock_aws()` holding Cirrus's real
table (chalicelib/store/schema.py, stream on): once patched, once plain. Every answer (each page of a
Query or Scan), every error (code, message, CancellationReasons), the final table and the stream
records must be identical. The key space is small on purpose (4 partitions x 6 sort keys, GSI keys
from a few values, sometimes absent) so that conditions collide, items move between index
partitions, and GSI sort keys tie. Every READ_STREAM_EVERY operations the stream is read from
TRIM_HORIZON, compared, and trimmed with `moto_speedups.trim_stream` (in both runs), as the local
stack's stream reader does.

A failure names the seed and the operation's index: rerun that seed alone
(`pytest tests/integration/test_moto_differential.py -k seed-23`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import moto
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.local import moto_speedups
from chalicelib.store import schema

TABLE = "cirrus-differential"
REGION = "us-east-1"
SEEDS = (11, 23, 37, 41)
OPERATIONS = 300
MAX_PAGES = 60  # a Query that pages further than the table holds items is itself a failure
# The stream is read (and compared) and then trimmed every so many operations, as the local stack's
# stream reader does: unpatched moto deep-copies the whole stream for every action of every
# transaction, so a stream kept whole would make the plain run quadratic.
READ_STREAM_EVERY = 40

PARTITIONS = [f"P{i}" for i in range(4)]
SORT_KEYS = [f"S{i}" for i in range(6)]
INDEX_VALUES = {
    schema.GSI1.partition_key: ["A", "B", "C"],
    schema.GSI1.sort_key: ["a1", "a2", "b1"],  # three values over many items: sort keys tie
    schema.GSI2.partition_key: ["D", "E"],
    schema.GSI2.sort_key: ["c", "c1", "d"],
}
PLAIN = ["version", "note", "n", "tags"]
NO_RETRIES = Config(retries={"mode": "standard", "max_attempts": 1})
VOLATILE = {"ResponseMetadata", "ConsumedCapacity"}

Operation = tuple[str, dict[str, Any]]


def S(value: str) -> dict[str, Any]:
    return {"S": value}


def N(value: int) -> dict[str, Any]:
    return {"N": str(value)}


class Expr:
    """One request's expression placeholders (DynamoDB refuses unused ones, so only used ones)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        self.names[f"#{attribute}"] = attribute
        return f"#{attribute}"

    def value(self, value: dict[str, Any]) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.names:
            params["ExpressionAttributeNames"] = self.names
        if self.values:
            params["ExpressionAttributeValues"] = self.values
        return params


class Workload:
    """The random operations of one seed, generated up front (they never depend on answers)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def operations(self, count: int) -> list[Operation]:
        kinds: list[Callable[[], Operation]] = [
            self.transaction,
            self.put,
            self.update,
            self.delete,
            self.batch,
            self.query,
            self.get,
            self.scan,
        ]
        weights = [30, 10, 15, 4, 7, 25, 5, 2]
        operations: list[Operation] = []
        for number in range(1, count + 1):
            operations.append(self.rng.choices(kinds, weights)[0]())
            if number % READ_STREAM_EVERY == 0:
                operations.append(("read_stream", {}))
        return operations

    # -- values ---------------------------------------------------------------------------------

    def key(self) -> dict[str, Any]:
        return {"pk": S(self.rng.choice(PARTITIONS)), "sk": S(self.rng.choice(SORT_KEYS))}

    def keys(self, most: int) -> list[dict[str, Any]]:
        pairs = self.rng.sample([(p, s) for p in PARTITIONS for s in SORT_KEYS], self.rng.randint(1, most))
        if len(pairs) > 1 and self.rng.random() < 0.1:
            pairs[-1] = pairs[0]  # the same item twice in one request: ValidationException
        return [{"pk": S(p), "sk": S(s)} for p, s in pairs]

    def item(self, key: dict[str, Any]) -> dict[str, Any]:
        item = {**key, "version": N(self.rng.randint(0, 3))}
        for index in schema.GLOBAL_INDEXES:
            # Both keys mostly; one or none sometimes (then the item is not in that index).
            present = self.rng.choices(["both", "hash", "range", "none"], [70, 10, 5, 15])[0]
            for attribute, part in ((index.partition_key, "hash"), (index.sort_key, "range")):
                if present in ("both", part):
                    item[attribute] = S(self.rng.choice(INDEX_VALUES[attribute]))
        if self.rng.random() < 0.5:
            item["note"] = S(self.rng.choice(["x", "y"]))
        return item

    def condition(self, x: Expr, chance: float = 0.7) -> str | None:
        rng = self.rng
        if rng.random() >= chance:
            return None
        return rng.choice(
            [
                lambda: f"attribute_exists({x.name('pk')})",
                lambda: f"attribute_not_exists({x.name('pk')})",
                lambda: f"{x.name('version')} = {x.value(N(rng.randint(0, 3)))}",
                lambda: f"{x.name('version')} < {x.value(N(rng.randint(0, 4)))}",
                lambda: (
                    f"attribute_not_exists({x.name('version')}) OR "
                    f"{x.name('version')} <= {x.value(N(rng.randint(0, 3)))}"
                ),
                lambda: f"attribute_exists({x.name('gsi1pk')}) AND {x.name('gsi1pk')} <> {x.value(S('A'))}",
            ]
        )()

    def update_expression(self, x: Expr) -> str:
        attributes = self.rng.sample([*INDEX_VALUES, *PLAIN], self.rng.randint(1, 4))
        if self.rng.random() < 0.03:
            attributes.append(attributes[0])  # overlapping paths
        if self.rng.random() < 0.02:
            attributes.append("sk")  # a key attribute cannot be updated
        clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": []}
        for attribute in attributes:
            verb, clause = self.update_clause(x, attribute)
            clauses[verb].append(clause)
        return " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses.items() if parts)

    def update_clause(self, x: Expr, attribute: str) -> tuple[str, str]:
        name, roll = x.name(attribute), self.rng.random()
        if attribute in INDEX_VALUES:
            if roll < 0.75:  # set or changed: the item enters or moves within the index
                return "SET", f"{name} = {x.value(S(self.rng.choice(INDEX_VALUES[attribute])))}"
            return "REMOVE", name  # the item drops out of the index
        if attribute == "version":
            if roll < 0.7:
                return "SET", f"{name} = if_not_exists({name}, {x.value(N(0))}) + {x.value(N(1))}"
            return "ADD", f"{name} {x.value(N(self.rng.randint(-1, 2)))}"
        if attribute == "n":
            return "ADD", f"{name} {x.value(N(self.rng.randint(1, 3)))}"
        if attribute == "tags":
            return "ADD", f"{name} {x.value({'SS': self.rng.sample(['t1', 't2', 't3'], 2)})}"
        if attribute == "sk":
            return "SET", f"{name} = {x.value(S('S0'))}"
        if roll < 0.7:
            return "SET", f"{name} = {x.value(S(self.rng.choice(['x', 'y', 'z'])))}"
        return "REMOVE", name

    def return_values(self, *choices: str) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.rng.random() < 0.7:
            options["ReturnValues"] = self.rng.choice(choices)
        if self.rng.random() < 0.3:
            options["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return options

    # -- writes ---------------------------------------------------------------------------------

    def transaction(self) -> Operation:
        return "transact_write_items", {"TransactItems": [self.action(key) for key in self.keys(5)]}

    def action(self, key: dict[str, Any]) -> dict[str, Any]:
        kind = self.rng.choice(["Put", "Put", "Update", "Update", "Delete", "ConditionCheck"])
        x = Expr()
        body: dict[str, Any] = {"TableName": TABLE}
        if kind == "Put":
            body["Item"] = self.item(key)
        else:
            body["Key"] = key
        if kind == "Update":
            body["UpdateExpression"] = self.update_expression(x)
        # Conditions on a third of the actions: a transaction of five still commits now and then.
        condition = self.condition(x, 1.0 if kind == "ConditionCheck" else 0.3)
        if condition is not None:
            body["ConditionExpression"] = condition
        if self.rng.random() < 0.4:
            body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {kind: {**body, **x.params()}}

    def conditional(self, x: Expr, body: dict[str, Any]) -> dict[str, Any]:
        condition = self.condition(x)
        if condition is not None:
            body["ConditionExpression"] = condition
        return {"TableName": TABLE, **body, **x.params()}

    def put(self) -> Operation:
        body = {"Item": self.item(self.key()), **self.return_values("NONE", "ALL_OLD")}
        return "put_item", self.conditional(Expr(), body)

    def update(self) -> Operation:
        x = Expr()
        body = {
            "Key": self.key(),
            "UpdateExpression": self.update_expression(x),
            **self.return_values("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"),
        }
        return "update_item", self.conditional(x, body)

    def delete(self) -> Operation:
        return "delete_item", self.conditional(Expr(), {"Key": self.key(), **self.return_values("ALL_OLD")})

    def batch(self) -> Operation:
        requests = [
            {"PutRequest": {"Item": self.item(key)}}
            if self.rng.random() < 0.75
            else {"DeleteRequest": {"Key": key}}
            for key in self.keys(6)
        ]
        return "batch_write_item", {"RequestItems": {TABLE: requests}}

    # -- reads ----------------------------------------------------------------------------------

    def query(self) -> Operation:
        index = self.rng.choice([None, *schema.GLOBAL_INDEXES])
        if index is None:
            body: dict[str, Any] = {}
            hash_name, range_name = schema.PARTITION_KEY, schema.SORT_KEY
            hash_values, range_values = [*PARTITIONS, "P9"], SORT_KEYS
        else:
            body = {"IndexName": index.name}
            hash_name, range_name = index.partition_key, index.sort_key
            hash_values = [*INDEX_VALUES[hash_name], "none"]  # "none": a partition with no items
            range_values = INDEX_VALUES[range_name]
        x = Expr()
        key_condition = f"{x.name(hash_name)} = {x.value(S(self.rng.choice(hash_values)))}"
        range_condition = self.range_condition(x, range_name, range_values)
        if range_condition:
            key_condition += f" AND {range_condition}"
        body["KeyConditionExpression"] = key_condition
        body.update(self.read_options(x))
        if self.rng.random() < 0.15 and "ProjectionExpression" not in body:
            body["Select"] = "COUNT"
        body["ScanIndexForward"] = self.rng.random() < 0.5
        return "query", {"TableName": TABLE, **body, **x.params()}

    def range_condition(self, x: Expr, attribute: str, values: list[str]) -> str | None:
        rng = self.rng
        operator = rng.choice([None, None, "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"])
        if operator is None:
            return None
        name = x.name(attribute)
        if operator == "BETWEEN":
            low, high = rng.choice(values), rng.choice(values)  # sometimes low > high
            return f"{name} BETWEEN {x.value(S(low))} AND {x.value(S(high))}"
        if operator == "begins_with":
            prefix = rng.choice(values)[: rng.randint(1, 2)]
            return f"begins_with({name}, {x.value(S(prefix))})"
        return f"{name} {operator} {x.value(S(rng.choice(values)))}"

    def read_options(self, x: Expr) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.rng.random() < 0.8:
            options["Limit"] = self.rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 7])
        if self.rng.random() < 0.3:
            options["FilterExpression"] = self.rng.choice(
                [
                    lambda: f"attribute_exists({x.name('note')})",
                    lambda: f"{x.name('version')} >= {x.value(N(self.rng.randint(0, 3)))}",
                    lambda: f"attribute_not_exists({x.name('n')}) OR {x.name('n')} > {x.value(N(2))}",
                ]
            )()
        if self.rng.random() < 0.25:
            names = self.rng.sample(["pk", "sk", "version", "note", "gsi1sk", "gsi2pk"], 3)
            options["ProjectionExpression"] = ", ".join(x.name(n) for n in names)
        return options

    def get(self) -> Operation:
        body: dict[str, Any] = {"TableName": TABLE, "Key": self.key()}
        if self.rng.random() < 0.3:
            x = Expr()
            body["ProjectionExpression"] = f"{x.name('version')}, {x.name('gsi1pk')}"
            body.update(x.params())
        return "get_item", body

    def scan(self) -> Operation:
        x = Expr()
        body: dict[str, Any] = {"TableName": TABLE, **self.read_options(x)}
        if self.rng.random() < 0.5:
            body["IndexName"] = self.rng.choice(schema.GLOBAL_INDEXES).name
        return "scan", {**body, **x.params()}


@dataclass
class Run:
    answers: list[Any]
    table: Any
    stream: list[dict[str, Any]]


def clean(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k not in VOLATILE}


def attempt(action: Callable[[], Any]) -> Any:
    """The answer, or the error as the caller sees it (code, message, CancellationReasons, Item)."""
    try:
        return action()
    except ClientError as error:
        return {"error": clean(error.response)}
    except Exception as error:  # moto itself failing: both runs must fail alike
        return {"exception": type(error).__name__, "message": str(error)}


def call(client: Any, name: str, body: dict[str, Any]) -> Any:
    return attempt(lambda: clean(getattr(client, name)(**body)))


def paginate(client: Any, name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page, following LastEvaluatedKey to the end."""
    pages: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while len(pages) < MAX_PAGES:
        page = call(client, name, body if start is None else {**body, "ExclusiveStartKey": start})
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if start is None:
            return pages
    pages.append({"error": f"still paging after {MAX_PAGES} pages"})
    return pages


def perform(client: Any, streams: Any, operation: Operation) -> Any:
    name, body = operation
    if name == "read_stream":
        return attempt(lambda: read_stream(client, streams))
    return paginate(client, name, body) if name in ("query", "scan") else call(client, name, body)


def read_stream(client: Any, streams: Any) -> list[dict[str, Any]]:
    """The stream's records from TRIM_HORIZON, then trimmed through the last one read."""
    records = stream_records(client, streams)
    if records:
        moto_speedups.trim_stream(TABLE, int(records[-1]["dynamodb"]["SequenceNumber"]))
    return records


def stream_records(client: Any, streams: Any) -> list[dict[str, Any]]:
    """The table's stream from TRIM_HORIZON, without what is random or time (eventID, the
    timestamp, and the size, which moto measures with the timestamp in it)."""
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
    for record in records:
        record.pop("eventID", None)
        record["dynamodb"].pop("ApproximateCreationDateTime", None)
        record["dynamodb"].pop("SizeBytes", None)
    return records


def run(operations: list[Operation]) -> Run:
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name=REGION, config=NO_RETRIES)
        streams = boto3.client("dynamodbstreams", region_name=REGION, config=NO_RETRIES)
        client.create_table(**schema.create_table_request(TABLE))
        answers = [perform(client, streams, operation) for operation in operations]
        table = paginate(client, "scan", {"TableName": TABLE})
        reads = [
            answer for (name, _), answer in zip(operations, answers, strict=True) if name == "read_stream"
        ]
        reads.append(attempt(lambda: read_stream(client, streams)))
        # A failed read (an error, not a list) is kept as it is, to be compared too.
        stream = [r for read in reads for r in (read if isinstance(read, list) else [read])]
        return Run(answers, table, stream)


@contextmanager
def speedups(on: bool) -> Iterator[None]:
    """The patches on or off for the block; the process is left as it was found (conftest.py
    installs them for every test)."""
    was = moto_speedups.installed()
    if on:
        moto_speedups.install()
    else:
        moto_speedups.uninstall()
    try:
        yield
    finally:
        if was:
            moto_speedups.install()
        else:
            moto_speedups.uninstall()


def run_both(operations: list[Operation]) -> tuple[Run, Run]:
    with speedups(on=True):
        patched = run(operations)
    with speedups(on=False):
        plain = run(operations)
    return patched, plain


def assert_same(seed: int, operations: list[Operation], patched: Run, plain: Run) -> None:
    for index, (operation, mine, theirs) in enumerate(
        zip(operations, patched.answers, plain.answers, strict=True)
    ):
        assert mine == theirs, (
            f"seed {seed}, operation #{index}: {operation}\n  patched: {mine}\n  moto:    {theirs}"
        )
    assert patched.table == plain.table, f"seed {seed}: the final tables differ"
    assert len(patched.stream) == len(plain.stream), f"seed {seed}: stream lengths differ"
    for index, (mine, theirs) in enumerate(zip(patched.stream, plain.stream, strict=True)):
        assert mine == theirs, f"seed {seed}: stream record #{index} differs"


def assert_exercised(operations: list[Operation], run: Run) -> None:
    """The workload did what it is for (a generator bug making every request invalid would
    compare equal and prove nothing)."""
    seen: set[str] = set()
    for (name, body), answer in zip(operations, run.answers, strict=True):
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        code = error.get("Error", {}).get("Code") if isinstance(error, dict) else None
        if name == "transact_write_items":
            reasons = {r.get("Code") for r in error.get("CancellationReasons", [])}
            seen.add("transaction committed" if not error else f"transaction {code}")
            if "ConditionalCheckFailed" in reasons:
                seen.add("transaction condition failed")
        if name == "query" and len(answer) > 1 and answer[0].get("Items"):
            seen.add(f"paged query on {body.get('IndexName', 'table')}")
        if name == "update_item" and not error:
            seen.add("update applied")
    expected = {
        "transaction committed",
        "transaction TransactionCanceledException",
        "transaction condition failed",
        "transaction ValidationException",
        "paged query on table",
        "paged query on gsi1",
        "paged query on gsi2",
        "update applied",
    }
    assert expected <= seen, f"the workload never reached: {expected - seen}"
    assert len(run.table[0]["Items"]) > 5 and len(run.stream) > 50


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed-{seed}" for seed in SEEDS])
def test_patched_moto_answers_every_operation_as_moto_does(seed: int) -> None:
    operations = Workload(seed).operations(OPERATIONS)

    patched, plain = run_both(operations)

    assert_exercised(operations, plain)
    assert_same(seed, operations, patched, plain)


def test_the_patches_refuse_a_moto_release_they_were_not_written_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = f"{moto_speedups.MOTO_VERSION}.post1"
    with speedups(on=False):
        monkeypatch.setattr(moto, "__version__", other)

        with pytest.raises(moto_speedups.MotoVersionMismatch, match=re.escape(other)):
            moto_speedups.check_version()
        with pytest.raises(moto_speedups.MotoVersionMismatch):
            moto_speedups.install()
        assert not moto_speedups.installed()

        monkeypatch.undo()  # the pinned release again, before `speedups` reinstalls
        moto_speedups.check_version()
