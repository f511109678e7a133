"""moto made fit to be the local stack's database: cost per request independent of the table's size,
bounded memory, safe under concurrent requests. DynamoDB's semantics are unchanged
(tests/integration/test_moto_differential.py runs the same random operations on patched and
unpatched moto and compares every answer, error and the final table).

Applied by `make run` (chalicelib/local/__main__.py), the benchmarks and the tests; never imported by
deployed code. Written against one moto release (`MOTO_VERSION`, pinned in pyproject.toml):
`install()` refuses any other, because every patch below replaces or wraps a private function.

What moto 5 does, and what this module does instead:

- **Thread safety.** moto's server is threaded, and its DynamoDB models are plain dicts: a
  transaction's backup (`copy.deepcopy` of a table) raced with a concurrent write and raised
  `dictionary changed size during iteration`. Every DynamoDB and DynamoDB Streams request runs under
  one lock (`LOCK`); in-process readers of the models (the data directory's save, the stream trim)
  take it too.
- **Transactions** (`DynamoDBBackend.transact_write_items`) deep-copied every table they touched,
  stream included, before applying (their rollback backup): O(table) per write. Here the backup is
  a copy of the items the transaction names (and the stream's length), restored the same way.
- **Queries** (`Table.query`) walked and sorted the whole table to find one partition, on the table
  and on every index. Here each table keeps its partitions (table and each global secondary index)
  in key order, updated on every write; a Query reads its partition from there.
- **Idempotent transactions.** botocore gives every TransactWriteItems a `ClientRequestToken` and
  resends it on a retry (after a read timeout, say); DynamoDB answers a repeat within 10 minutes
  without applying it again. moto ignored the token, so a retried transaction that had in fact
  committed failed its own conditions and the API answered 409 for a project it had created. The
  tokens of committed transactions are kept `TOKEN_SECONDS` (at most `MAX_TOKENS`).
- **The stream** kept every record forever: `trim_stream` drops what the local stream reader has
  handled. Shard iterators (one per GetShardIterator and per GetRecords) were never dropped: the
  newest `MAX_SHARD_ITERATORS` are kept (AWS expires them after 15 minutes).
- **SendTaskFailure's cause.** moto's handler passed the `error` on and dropped the `cause`, so a
  workflow's Catch saw no cause and an erred order said "(Cirrus.Permanent)" instead of the
  provider's words (what AWS gives). The handler here passes both.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

# The moto release these patches were written against (and read: they replace private functions).
MOTO_VERSION = "5.2.6"
# Shard iterators kept per streams backend: the local stream reader takes two per poll.
MAX_SHARD_ITERATORS = 1_000
ACCOUNT_ID = "123456789012"  # moto's default account
# DynamoDB honours a TransactWriteItems ClientRequestToken for 10 minutes.
TOKEN_SECONDS = 600.0
MAX_TOKENS = 10_000

# Held by every DynamoDB and DynamoDB Streams request moto serves, and by in-process readers of its
# models. Re-entrant: a request's handler may call back into the backend.
LOCK = threading.RLock()

_originals: dict[tuple[Any, str], Any] = {}


class MotoVersionMismatch(RuntimeError):
    """The installed moto is not the release the patches were written against."""


def check_version() -> None:
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise MotoVersionMismatch(
            f"chalicelib/local/moto_speedups.py patches moto {MOTO_VERSION}, but moto {moto.__version__} is "
            "installed. The patches replace moto's private functions: read the new release's "
            "moto/dynamodb/models, port them, run tests/integration/test_moto_differential.py, then "
            "change MOTO_VERSION and the pin in pyproject.toml together."
        )


def installed() -> bool:
    return bool(_originals)


def _patch(owner: Any, name: str, replacement: Callable[..., Any]) -> None:
    _originals[(owner, name)] = owner.__dict__.get(name, _MISSING)
    setattr(owner, name, replacement)


_MISSING = object()


def install() -> None:
    """Apply every patch (once per process; a second call does nothing). Raises
    MotoVersionMismatch if moto is not MOTO_VERSION."""
    if installed():
        return
    check_version()
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        _patch(handler, "call_action", _locked(handler.call_action))
    _patch(DynamoHandler, "transact_write_items", _idempotent(DynamoHandler.transact_write_items))
    _patch(
        DynamoDBStreamsBackend,
        "get_shard_iterator",
        _bounded_iterators(DynamoDBStreamsBackend.get_shard_iterator),
    )
    _patch(DynamoDBStreamsBackend, "get_records", _bounded_iterators(DynamoDBStreamsBackend.get_records))
    _install_store_patches()
    from moto.stepfunctions.responses import StepFunctionResponse

    _patch(StepFunctionResponse, "send_task_failure", _send_task_failure)


def _send_task_failure(self: Any) -> Any:
    """moto's `StepFunctionResponse.send_task_failure`, with the cause passed on as AWS does."""
    from moto.core.responses import EmptyResult

    task_token, error, cause = (self._get_param(n) for n in ("taskToken", "error", "cause"))
    backend = self.stepfunction_backend
    try:
        backend.send_task_failure(task_token, error=error, cause=cause)
    except TypeError:  # moto's backend without execution (no cause to keep): as moto does
        backend.send_task_failure(task_token, error=error)
    return EmptyResult()


def uninstall() -> None:
    """Put moto back as it was (the differential test compares the two)."""
    for (owner, name), original in reversed(list(_originals.items())):
        if original is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _originals.clear()


def _locked(call_action: Callable[..., Any]) -> Callable[..., Any]:
    def call_action_locked(self: Any) -> Any:
        with LOCK:
            return call_action(self)

    return call_action_locked


class _Tokens:
    """ClientRequestTokens of committed transactions: token -> (request digest, when, answer)."""

    def __init__(self) -> None:
        self.seen: OrderedDict[str, tuple[str, float, Any]] = OrderedDict()

    def expire(self, now: float) -> None:
        while self.seen and (
            len(self.seen) > MAX_TOKENS or next(iter(self.seen.values()))[1] < now - TOKEN_SECONDS
        ):
            self.seen.popitem(last=False)


def _idempotent(transact_write_items: Callable[..., Any]) -> Callable[..., Any]:
    def idempotent(self: Any) -> Any:
        from moto.dynamodb.exceptions import DynamodbException

        token = self.body.get("ClientRequestToken")
        if not token:
            return transact_write_items(self)
        digest = hashlib.sha256(
            json.dumps(self.body.get("TransactItems"), sort_keys=True).encode()
        ).hexdigest()
        now = time.monotonic()
        # Kept with the backend: a fresh moto (a test's mock_aws) knows no token.
        tokens: _Tokens = self.dynamodb_backend.__dict__.setdefault("_cirrus_tokens", _Tokens())
        tokens.expire(now)
        seen = tokens.seen.get(token)
        if seen is not None:
            if seen[0] != digest:
                raise DynamodbException(
                    "IdempotentParameterMismatchException",
                    "Request token already used with a different TransactItems list.",
                )
            return seen[2]
        answer = transact_write_items(self)  # raises if cancelled: only commits are remembered
        tokens.seen[token] = (digest, now, answer)
        return answer

    return idempotent


def _bounded_iterators(method: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        iterators: dict[str, Any] = self.shard_iterators
        excess = len(iterators) - MAX_SHARD_ITERATORS
        if excess > 0:
            for arn in list(iterators)[:excess]:  # the oldest: dicts keep insertion order
                del iterators[arn]
        return result

    return bounded


def table_model(table_name: str, region: str = "us-east-1", account_id: str = ACCOUNT_ID) -> Any:
    """moto's model of `table_name` (hold LOCK while reading or changing it)."""
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account_id][region].get_table(table_name)


def trim_stream(
    table_name: str, through: int, region: str = "us-east-1", account_id: str = ACCOUNT_ID
) -> int:
    """Drop the table's stream records up to and including sequence number `through` (the last
    record its reader has handled); returns how many were dropped. Sequence numbers stay as they
    were: an iterator after `through`, or TRIM_HORIZON, reads the first record kept."""
    with LOCK:
        shard = table_model(table_name, region, account_id).stream_shard
        if shard is None:
            return 0
        count = min(max(0, through + 1 - shard.starting_sequence_number), len(shard.items))
        if count:
            del shard.items[:count]
            shard.starting_sequence_number += count
        return int(count)


def _install_store_patches() -> None:
    """The transaction and query patches (filled in below)."""
    from chalicelib.local import _moto_store

    _moto_store.install(_patch)
