"""A unit of work: the writes of one command, committed in a single TransactWriteItems (or, when
the unit holds one write that offers it, as that one conditional PutItem/UpdateItem: `put_alone`,
`update_alone`; a transaction costs twice the write units, for nothing to be atomic with).

The entity, its counters and its audit events (the outbox) go in together, each with its condition,
so either all of them land or none does. A failed condition is reported as the domain error the
caller attached to that write; the store refusing the work for now (throttled) as
ServiceUnavailable (HTTP 503, Retry-After); a write DynamoDB finds invalid (an item over 400 KB) as
TransactionRejected, a bug of ours (HTTP 500, logged with the reasons), never as a lost race. Past
the request's deadline (domain/deadline.py) nothing is sent: ServiceUnavailable, as throttling.

What must happen outside the table once the writes landed (start a workflow, answer one, queue a
task) is attached as data (`after_commit`, effects of `services/effects.py`, opaque here) and handed
after the commit to the executor the composition root gave it (`UnitOfWork(executor)`, built by
`bootstrap.dynamodb_ports`): the store carries no reference to the layer that runs them.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain import deadline
from chalicelib.domain.errors import Conflict, DomainError
from chalicelib.domain.events import Event
from chalicelib.services import ports
from chalicelib.store.errors import THROTTLED_REASONS, lost_condition, throttled
from chalicelib.store.items import BaseItem
from chalicelib.store.outbox import event_items, tally
from chalicelib.store.table import connection

MAX_ITEMS = 100  # DynamoDB's limit for one transaction
LOST_RACE = "The object was changed by another request. Please reload it and try again."

_Op = Callable[[TransactWrite], None]
# A write a unit may send on its own, outside a transaction, when it is the unit's only write.
Alone = Callable[[], None]
# What to raise when a write's condition fails: an error, or a function that works it out (it may
# read, so it runs only on failure).
OnConflict = DomainError | Callable[[], DomainError] | None


# DynamoDB cancels a transaction that touches an item another transaction is writing at that
# moment (TransactionConflict), without evaluating its conditions: nothing was written, so it is
# sent again (a few times, with jitter) before the caller hears of a lost race. Busy counters (a
# project's nc_resource_count under many concurrent orders) are where this happens.
CONFLICT_ATTEMPTS = 4


class TransactionRejected(RuntimeError):
    """DynamoDB refused a write as invalid (ValidationError: an item over 400 KB, a key too long,
    two writes to one item): the input bounds or the store let through something they must not,
    so it is a 500 with the reasons logged, not a conflict the user could resolve by reloading."""


def _codes(exc: TransactWriteError) -> list[str]:
    """The cancellation reasons' codes, without the writes that were fine ("None")."""
    reasons = exc.cancellation_reasons or []
    return [r.code for r in reasons if r is not None and r.code not in (None, "None")]


def _only_contended(exc: TransactWriteError) -> bool:
    if exc.cause_response_code == "TransactionConflictException":
        return True
    codes = _codes(exc)
    return bool(codes) and all(code == "TransactionConflict" for code in codes)


class UnitOfWork:
    """Collect writes, then `commit()` them atomically. Usable once."""

    def __init__(self, executor: ports.Executor | None = None) -> None:
        self._executor = executor
        # TransactWrite sends condition checks, deletes, puts, updates in that order; failures are
        # reported by position, so keep each group's error alongside it.
        self._groups: dict[str, list[tuple[_Op, OnConflict]]] = {
            "check": [],
            "delete": [],
            "put": [],
            "update": [],
        }
        self.events: list[Event] = []
        # The store's own follow-up writes (index entries deleted outside the transaction).
        self.on_commit: list[Callable[[], None]] = []
        self.effects: list[object] = []
        self._marks: set[str] = set()
        self._alone: dict[int, Alone] = {}  # id(op) -> the same write as a single call

    def first(self, mark: str) -> bool:
        """True the first time `mark` is given: a write (or check) that may be asked for twice,
        and that a transaction may hold only once per item, is added once."""
        if mark in self._marks:
            return False
        self._marks.add(mark)
        return True

    def put(
        self,
        item: BaseItem,
        condition: Condition | None = None,
        on_conflict: OnConflict = None,
        *,
        alone: Alone | None = None,
    ) -> None:
        """Put `item` if `condition` holds. `alone`: the same write as one conditional call (see
        `put_alone`), sent instead of a transaction when it is the unit's only write."""
        self._add("put", lambda tx: tx.save(item, condition=condition), on_conflict, alone)

    def update(
        self,
        item: BaseItem,
        actions: Sequence[Action],
        condition: Condition | None = None,
        on_conflict: OnConflict = None,
        *,
        alone: Alone | None = None,
    ) -> None:
        """Update `item` (only its key is used) with `actions`, if `condition` holds. `alone`: as
        for `put` (see `update_alone`)."""
        self._add(
            "update",
            lambda tx: tx.update(item, list(actions), condition=condition, add_version_condition=False),
            on_conflict,
            alone,
        )

    def delete(
        self, item: BaseItem, condition: Condition | None = None, on_conflict: OnConflict = None
    ) -> None:
        self._add(
            "delete",
            lambda tx: tx.delete(item, condition=condition, add_version_condition=False),
            on_conflict,
        )

    def check(
        self, model: type[BaseItem], pk: str, sk: str, condition: Condition, on_conflict: OnConflict
    ) -> None:
        self._add("check", lambda tx: tx.condition_check(model, pk, sk, condition=condition), on_conflict)

    def record(self, event: Event) -> None:
        """Write `event` to the audit log in the same transaction as the change it describes: its
        record (the outbox item the stream publishes) and a copy in the feed of every scope it
        concerns, and +1 on the counts of those feeds (and of its staff index shard) for its month,
        all expiring after the retention period. Several events of one unit that land in one feed
        move its count in a single update (a transaction may touch an item only once)."""
        self.events.append(event)
        retention_days = get_settings().event_retention_days
        for item in event_items(event, retention_days):
            self.put(item, condition=BaseItem.pk.does_not_exist())
        tally(self, event, retention_days)

    def after_commit(self, *effects: object) -> None:
        """Have `effects` carried out, in order, once the writes committed (never if they fail)."""
        self.effects.extend(effects)

    def commit(self) -> None:
        """Write everything in one transaction, then run what waited for it: the store's follow-ups,
        then the effects (a unit of work with no writes commits trivially)."""
        ops = [op for group in self._groups.values() for op in group]
        single = self._alone.get(id(ops[0][0])) if len(ops) == 1 else None
        if single is not None:
            # One write, nothing to be atomic with: a plain conditional call costs half the write
            # units of the same write in a transaction (DynamoDB bills 2 per KB there).
            deadline.check()
            single()
        elif ops:
            self._write(ops)
        for callback in self.on_commit:
            callback()
        if self.effects:
            if self._executor is None:
                raise RuntimeError(f"a unit of work with effects needs an executor: {self.effects!r}")
            self._executor(list(self.effects))

    def _write(self, ops: list[tuple[_Op, OnConflict]]) -> None:
        if len(ops) > MAX_ITEMS:
            raise ValueError(f"a unit of work holds at most {MAX_ITEMS} writes, got {len(ops)}")
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            # One token per call: botocore resends this same call (same token) when an attempt
            # times out or gets a 5xx, and DynamoDB answers a repeat of a transaction that had
            # committed as the success it was instead of evaluating its conditions again (a 409 for
            # a change that happened). A re-send of ours follows a cancellation, nothing committed,
            # and "identical calls have the same effect as one" would replay that cancellation:
            # so it gets a new token.
            token = str(uuid.uuid4())
            deadline.check()  # a request its caller gave up on commits nothing (its retry will)
            try:
                with TransactWrite(connection=connection(), client_request_token=token) as tx:
                    for op, _ in ops:
                        op(tx)
                break
            except TransactWriteError as exc:
                if attempt < CONFLICT_ATTEMPTS and _only_contended(exc):
                    time.sleep(random.uniform(0.02, 0.1) * attempt)  # jitter
                    continue
                raise self._explain(exc, [err for _, err in ops]) from exc

    def _add(self, group: str, op: _Op, on_conflict: OnConflict, alone: Alone | None = None) -> None:
        self._groups[group].append((op, on_conflict))
        if alone is not None:
            self._alone[id(op)] = alone

    @staticmethod
    def _explain(exc: TransactWriteError, errors: list[OnConflict]) -> Exception:
        """What the caller hears of a cancelled transaction, by its reasons (one per write): a
        failed condition first (the caller's own error, what the user must know), then an invalid
        write (our bug), then throttling (try later), and only contention is a lost race."""
        reasons: list[Any] = list(exc.cancellation_reasons or [])
        for reason, error in zip(reasons, errors, strict=False):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                if error is None:
                    return Conflict(LOST_RACE)
                return error if isinstance(error, DomainError) else error()
        codes = _codes(exc)
        if "ValidationError" in codes:
            details = "; ".join(
                f"{r.code}: {r.message}" for r in reasons if r is not None and r.code == "ValidationError"
            )
            return TransactionRejected(f"DynamoDB rejected the transaction: {details}")
        if any(code in THROTTLED_REASONS for code in codes):
            return throttled()
        if _only_contended(exc):
            return Conflict(LOST_RACE)
        return exc


def transaction(uow: ports.UnitOfWork) -> UnitOfWork:
    """The DynamoDB unit of work behind the port a repository was handed (the store's repositories
    stage pynamodb writes; anything else is a wiring mistake, refused loudly)."""
    if not isinstance(uow, UnitOfWork):
        raise TypeError(f"a DynamoDB repository needs the store's UnitOfWork, got {type(uow).__name__}")
    return uow


# --- a unit's only write, sent alone ---------------------------------------------------------------
# A conditional PutItem or UpdateItem is as atomic as a transaction of one write, at half its cost.
# What the transaction's client token gave (a resend of a call that had committed is answered as
# the success it was) is replaced by a look after a failed condition: if the item is now exactly
# what this write made, it was this write that landed (botocore resent it after a timeout or a
# 5xx), and it succeeded; otherwise another request changed the item first, a lost race.
def _conflict(on_conflict: OnConflict) -> DomainError:
    if on_conflict is None:
        return Conflict(LOST_RACE)
    return on_conflict if isinstance(on_conflict, DomainError) else on_conflict()


def _stored(item: BaseItem) -> BaseItem | None:
    try:
        return type(item).get(item.pk, item.sk, consistent_read=True)
    except type(item).DoesNotExist:
        return None


def put_alone(item: BaseItem, condition: Condition, on_conflict: OnConflict = None) -> Alone:
    """`item` put by one PutItem if `condition` holds; a failed condition is `on_conflict` unless
    the stored item is `item` itself."""

    def write() -> None:
        try:
            item.save(condition=condition, add_version_condition=False)
        except PutError as exc:
            if not lost_condition(exc):
                raise
            found = _stored(item)
            if found is None or found.serialize() != item.serialize():
                raise _conflict(on_conflict) from exc

    return write


def update_alone(
    item: BaseItem,
    actions: Sequence[Action],
    condition: Condition,
    landed: Callable[[BaseItem], bool],
    on_conflict: OnConflict = None,
) -> Alone:
    """`item` (its key) updated by one UpdateItem if `condition` holds; a failed condition is
    `on_conflict` unless `landed` finds this update's result in the stored item."""

    def write() -> None:
        try:
            item.update(list(actions), condition=condition, add_version_condition=False)
        except UpdateError as exc:
            if not lost_condition(exc):
                raise
            found = _stored(item)
            if found is None or not landed(found):
                raise _conflict(on_conflict) from exc

    return write
