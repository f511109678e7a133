"""A unit of work: the writes of one command, committed in a single TransactWriteItems.

The entity, its counters and its audit events (the outbox) go in together, each with its condition,
so either all of them land or none does. A failed condition is reported as the domain error the
caller attached to that write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.errors import Conflict, DomainError
from chalicelib.domain.events import Event
from chalicelib.store.items import BaseItem
from chalicelib.store.table import connection

MAX_ITEMS = 100  # DynamoDB's limit for one transaction
LOST_RACE = "The object was changed by another request. Please reload it and try again."

_Op = Callable[[TransactWrite], None]
# What to raise when a write's condition fails: an error, or a function that works it out (it may
# read, so it runs only on failure).
OnConflict = DomainError | Callable[[], DomainError] | None


# DynamoDB cancels a transaction that touches an item another transaction is writing at that
# moment (TransactionConflict), without evaluating its conditions: nothing was written, so it is
# sent again (a few times, with jitter) before the caller hears of a lost race. Busy counters (a
# project's nc_resource_count under many concurrent orders) are where this happens.
CONFLICT_ATTEMPTS = 4


def _only_contended(exc: TransactWriteError) -> bool:
    reasons = [r for r in (exc.cancellation_reasons or []) if r is not None and r.code not in (None, "None")]
    if exc.cause_response_code == "TransactionConflictException":
        return True
    return bool(reasons) and all(r.code == "TransactionConflict" for r in reasons)


class UnitOfWork:
    """Collect writes, then `commit()` them atomically. Usable once."""

    def __init__(self) -> None:
        # TransactWrite sends condition checks, deletes, puts, updates in that order; failures are
        # reported by position, so keep each group's error alongside it.
        self._groups: dict[str, list[tuple[_Op, OnConflict]]] = {
            "check": [],
            "delete": [],
            "put": [],
            "update": [],
        }
        self.events: list[Event] = []
        self.on_commit: list[Callable[[], None]] = []
        self._marks: set[str] = set()

    def first(self, mark: str) -> bool:
        """True the first time `mark` is given: a write (or check) that may be asked for twice,
        and that a transaction may hold only once per item, is added once."""
        if mark in self._marks:
            return False
        self._marks.add(mark)
        return True

    def put(self, item: BaseItem, condition: Condition | None = None, on_conflict: OnConflict = None) -> None:
        self._add("put", lambda tx: tx.save(item, condition=condition), on_conflict)

    def update(
        self,
        item: BaseItem,
        actions: Sequence[Action],
        condition: Condition | None = None,
        on_conflict: OnConflict = None,
    ) -> None:
        """Update `item` (only its key is used) with `actions`, if `condition` holds."""
        self._add(
            "update",
            lambda tx: tx.update(item, list(actions), condition=condition, add_version_condition=False),
            on_conflict,
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
        from chalicelib.store.events import event_items, tally

        self.events.append(event)
        retention_days = get_settings().event_retention_days
        for item in event_items(event, retention_days):
            self.put(item, condition=BaseItem.pk.does_not_exist())
        tally(self, event, retention_days)

    def commit(self) -> None:
        ops = [op for group in self._groups.values() for op in group]
        if not ops:
            return
        if len(ops) > MAX_ITEMS:
            raise ValueError(f"a unit of work holds at most {MAX_ITEMS} writes, got {len(ops)}")
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                with TransactWrite(connection=connection()) as tx:
                    for op, _ in ops:
                        op(tx)
                break
            except TransactWriteError as exc:
                if attempt < CONFLICT_ATTEMPTS and _only_contended(exc):
                    time.sleep(random.uniform(0.02, 0.1) * attempt)  # jitter
                    continue
                raise self._explain(exc, [err for _, err in ops]) from exc
        for callback in self.on_commit:
            callback()

    def _add(self, group: str, op: _Op, on_conflict: OnConflict) -> None:
        self._groups[group].append((op, on_conflict))

    @staticmethod
    def _explain(exc: TransactWriteError, errors: list[OnConflict]) -> Exception:
        reasons: list[Any] = list(exc.cancellation_reasons or [])
        for reason, error in zip(reasons, errors, strict=False):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                if error is None:
                    return Conflict(LOST_RACE)
                return error if isinstance(error, DomainError) else error()
        if exc.cause_response_code in ("TransactionCanceledException", "TransactionConflictException"):
            return Conflict(LOST_RACE)
        return exc
