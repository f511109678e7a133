"""Bounds on what moto keeps forever in the local stack, which AWS expires or never keeps.

`make run` runs for days; moto keeps, per request or per task, things AWS drops after a while:

- **Every model object moto ever made** (`moto.core.common_models.BaseModel.__new__` appends each
  instance to its class's `instances_tracked`, for moto's `/moto-api/data.json` dashboard): every
  DynamoDB item copy a Query returns or a transaction takes as its backup, every stream record and
  shard iterator, every SQS message, stayed referenced forever. This was the local stack's largest
  leak (a transaction's backup copied the whole table: all of it stayed). `install()` stops the
  tracking (the dashboard lists nothing; nothing else in the services the stack uses reads it).
- **Step Functions executions** (moto's ASL interpreter, `moto/stepfunctions/parser`): every
  execution, with its whole history and interpreter state, stays in its state machine's
  `executions` list (AWS keeps a finished execution's history 90 days). `trim_executions` keeps
  the newest `CIRRUS_LOCAL_KEEP_EXECUTIONS` (200) finished executions of each state machine and every
  running one. An execution of an order that is still open is kept whatever its age: the stranded
  order sweep (chalicelib/workflows/order_sweep.py) reads it (a FAILED `Cirrus.OrderErred` one errs
  the order; a missing one would restart the workflow instead, re-provisioning an order its
  workflow gave up on), and `ensure_started` relies on its name to start nothing twice.
- **SQS**: each queue keeps the receipt handles of every message it deleted (`deleted_messages`, so
  that deleting twice succeeds); here only the newest `CIRRUS_LOCAL_KEEP_RECEIPTS` (10,000) per queue
  (an older handle deleted again is refused as invalid, as AWS refuses an expired handle).
- **Cognito**: each user pool keeps every id, access and refresh token it issued; here the newest
  `CIRRUS_LOCAL_KEEP_TOKENS` (1,000) of each kind per pool (an older one is refused by moto as if
  revoked; Cirrus itself checks JWTs by signature and expiry, never against this list).

The stream's records are trimmed by the stream reader itself (chalicelib/local/stream.py). A
`Housekeeper` thread runs the periodic trims in `make run`; `install()` applies the two patches the
bounds need (started executions are appended under `SFN_LOCK`, the trim replaces the list under it;
queues keep their receipt handles in a `RecentSet`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, MutableSet
from typing import Any

from chalicelib.local.moto_speedups import ACCOUNT_ID

KEEP_EXECUTIONS_VAR = "CIRRUS_LOCAL_KEEP_EXECUTIONS"
KEEP_RECEIPTS_VAR = "CIRRUS_LOCAL_KEEP_RECEIPTS"
KEEP_TOKENS_VAR = "CIRRUS_LOCAL_KEEP_TOKENS"
DEFAULT_KEEP_EXECUTIONS = 200
DEFAULT_KEEP_RECEIPTS = 10_000
DEFAULT_KEEP_TOKENS = 1_000
FINISHED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
TOKEN_KINDS = ("id_tokens", "access_tokens", "refresh_tokens")

# Held while a start appends to a state machine's executions and while the trim replaces that list:
# without it, a start that read the list before the trim replaced it would append to the old one,
# and its execution would vanish.
SFN_LOCK = threading.RLock()

_originals: dict[tuple[Any, str], Any] = {}


def setting(name: str, default: int) -> int:
    """A bound from the environment (a positive integer), or its default."""
    raw = os.environ.get(name, "").strip()
    return max(1, int(raw)) if raw else default


class RecentSet(MutableSet[str]):
    """A set that keeps only its newest `limit` members (insertion order): moto's `in` and
    `update` are all it needs."""

    def __init__(self, limit: int, members: Iterable[str] = ()) -> None:
        self.limit = limit
        self._members: dict[str, None] = {}
        self.update(members)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._members))

    def __len__(self) -> int:
        return len(self._members)

    def add(self, member: str) -> None:
        self._members[member] = None
        excess = len(self._members) - self.limit
        if excess > 0:
            for old in list(self._members)[:excess]:
                self._members.pop(old, None)

    def discard(self, member: str) -> None:
        self._members.pop(member, None)

    def update(self, members: Iterable[str]) -> None:
        for member in members:
            self.add(member)


# --- patches ------------------------------------------------------------------------------------
def installed() -> bool:
    return bool(_originals)


def install() -> None:
    """Apply the patches the bounds need (once; a second call does nothing)."""
    if installed():
        return
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data
    from moto.sqs.models import Queue
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    for backend in (StepFunctionBackend, StepFunctionsParserBackend):
        _patch(backend, "start_execution", _under_sfn_lock(backend.__dict__["start_execution"]))
    _patch(Queue, "__init__", _bounded_receipts(Queue.__init__))
    _patch(BaseModel, "__new__", staticmethod(_untracked(BaseModel)))
    reset_model_data()  # what was tracked before


def _untracked(base: Any) -> Callable[..., Any]:
    def new_untracked(cls: Any, *args: Any, **kwargs: Any) -> Any:
        return super(base, cls).__new__(cls)  # BaseModel.__new__ without its append

    return new_untracked


def uninstall() -> None:
    for (owner, name), original in reversed(list(_originals.items())):
        setattr(owner, name, original)
    _originals.clear()


def _patch(owner: Any, name: str, replacement: Any) -> None:
    _originals[(owner, name)] = owner.__dict__[name]
    setattr(owner, name, replacement)


def _under_sfn_lock(start_execution: Callable[..., Any]) -> Callable[..., Any]:
    def start_execution_locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with SFN_LOCK:
            return start_execution(self, *args, **kwargs)

    return start_execution_locked


def _bounded_receipts(init: Callable[..., None]) -> Callable[..., None]:
    def init_bounded(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.deleted_messages = RecentSet(setting(KEEP_RECEIPTS_VAR, DEFAULT_KEEP_RECEIPTS))

    return init_bounded


# --- Step Functions -----------------------------------------------------------------------------
KeepExecution = Callable[[dict[str, Any]], bool]


def _status(execution: Any) -> str | None:
    try:
        status = execution.status  # the interpreter's Execution: a property, failing before start
    except AttributeError:
        return None
    return str(getattr(status, "value", status))


def _state_machines(region: str, account_id: str) -> list[Any]:
    from moto.stepfunctions.models import stepfunctions_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    machines: list[Any] = []
    for backends in (stepfunctions_backends, stepfunctions_parser_backends):
        machines += backends[account_id][region].state_machines
    return machines


def _input_of(execution: Any) -> dict[str, Any]:
    found = getattr(execution, "input_data", None)  # the interpreter's: parsed already
    if found is None:
        import json

        try:
            found = json.loads(getattr(execution, "execution_input", None) or "{}")
        except ValueError:
            found = {}
    return found if isinstance(found, dict) else {}


def _droppable(machine: Any, keep_finished: int, keep: KeepExecution | None) -> set[int]:
    """The ids of `machine`'s executions to drop: finished, older than its newest `keep_finished`
    finished ones, and not kept by `keep` (asked outside the lock: it may read the table)."""
    with SFN_LOCK:
        executions = list(machine.executions)
    finished = [e for e in executions if _status(e) in FINISHED]
    older = finished[: max(0, len(finished) - keep_finished)]
    return {id(e) for e in older if keep is None or not keep(_input_of(e))}


def trim_executions(
    keep_finished: int,
    keep: KeepExecution | None = None,
    region: str = "us-east-1",
    account_id: str = ACCOUNT_ID,
) -> int:
    """Drop every state machine's finished executions but its newest `keep_finished` (never a running
    one; never one whose input `keep` says to keep); returns how many were dropped. The list is
    replaced, not changed in place, so a request iterating it meanwhile sees the whole old one."""
    dropped = 0
    for machine in _state_machines(region, account_id):
        drop = _droppable(machine, keep_finished, keep)
        if not drop:
            continue
        with SFN_LOCK:
            kept = [e for e in machine.executions if id(e) not in drop]
            dropped += len(machine.executions) - len(kept)
            machine.executions = kept
    return dropped


def order_still_open(execution_input: dict[str, Any]) -> bool:
    """Whether an execution ran for an order that is not final yet (the sweep still reads it). Any
    doubt (the order unreadable) keeps it."""
    from chalicelib.store import orders

    order = execution_input.get("order")
    if not isinstance(order, dict) or not order.get("id") or not order.get("customer_id"):
        return False
    try:
        found = orders.load(str(order["customer_id"]), str(order["id"]))
    except Exception:
        return True
    return found is not None and not found.is_final


# --- Cognito ------------------------------------------------------------------------------------
def trim_tokens(keep: int, region: str = "us-east-1", account_id: str = ACCOUNT_ID) -> int:
    """Drop each user pool's oldest issued tokens of each kind beyond `keep`; returns how many."""
    from moto.cognitoidp.models import cognitoidp_backends

    dropped = 0
    for pool in list(cognitoidp_backends[account_id][region].user_pools.values()):
        for kind in TOKEN_KINDS:
            tokens: dict[str, Any] = getattr(pool, kind)
            oldest = list(tokens)[: max(0, len(tokens) - keep)]  # dicts keep insertion order
            for token in oldest:
                tokens.pop(token, None)  # a global sign-out may have dropped it meanwhile
            dropped += len(oldest)
    return dropped


# --- the thread ---------------------------------------------------------------------------------
class Housekeeper:
    """Runs the trims every `interval` seconds in a thread (`run_once()` for tests)."""

    def __init__(
        self,
        *,
        interval: float = 30.0,
        region: str = "us-east-1",
        keep_execution: KeepExecution | None = order_still_open,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.interval = interval
        self.region = region
        self.keep_executions = setting(KEEP_EXECUTIONS_VAR, DEFAULT_KEEP_EXECUTIONS)
        self.keep_tokens = setting(KEEP_TOKENS_VAR, DEFAULT_KEEP_TOKENS)
        self._keep_execution = keep_execution
        self._announce = announce or (lambda line: None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cirrus-housekeeping", daemon=True)

    def run_once(self) -> dict[str, int]:
        """One round of trims; returns what each dropped."""
        return {
            "executions": trim_executions(self.keep_executions, self._keep_execution, self.region),
            "tokens": trim_tokens(self.keep_tokens, self.region),
        }

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                dropped = self.run_once()
            except Exception as exc:  # moto's models changed under us: try again next round
                self._announce(f"housekeeping: {exc!r}")
                continue
            if any(dropped.values()):
                self._announce("housekeeping: dropped " + ", ".join(f"{n} {k}" for k, n in dropped.items()))

    def start(self) -> Housekeeper:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
