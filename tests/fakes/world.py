"""The in-memory world the fakes share, and its unit of work.

A `World` holds what a DynamoDB table would, as plain dicts of domain objects, one per aggregate,
plus the audit log and what was asked to happen after commits. Each fake repository is a view on
one world, so cross-aggregate rules (a grant counting against its customer's quota) see the same
state the store's conditions would.

`FakeUnitOfWork` keeps DynamoDB's transaction semantics that the services rely on: every staged
write is checked against the state before the commit, then all are applied or none; a failed
check raises the error its write was staged with (or the lost-race Conflict); one commit may not
touch the same item twice; at most 100 writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain import deadline
from chalicelib.domain.errors import Conflict, DomainError
from chalicelib.domain.events import Event

MAX_ITEMS = 100
LOST_RACE = "The object was changed by another request. Please reload it and try again."

Check = Callable[[], DomainError | None]
Apply = Callable[[], None]


@dataclass
class World:
    """Everything the fakes store. `tables[name]` maps a key to a domain object (or a plain value)."""

    tables: dict[str, dict[Any, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    effects: list[object] = field(default_factory=list)  # what was carried out, in order
    mail: list[Any] = field(default_factory=list)  # what the fake mailer sent (tests/fakes/mail.py)
    commits: int = 0

    def table(self, name: str) -> dict[Any, Any]:
        return self.tables.setdefault(name, {})


@dataclass
class _Write:
    item: tuple[str, Any]
    check: Check
    apply: Apply


class FakeUnitOfWork:
    """Collects staged writes and audit events; `commit()` applies them atomically. Usable once."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.events: list[Event] = []
        self.effects: list[object] = []
        self._writes: list[_Write] = []
        self._marks: set[str] = set()

    def first(self, mark: str) -> bool:
        if mark in self._marks:
            return False
        self._marks.add(mark)
        return True

    def stage(self, table: str, key: Any, check: Check | None, apply: Apply) -> None:
        """Stage one write to `table[key]`: `check` (None: unconditional) returns the error that
        refuses it, read against the world as it is before the commit."""
        self._writes.append(_Write((table, key), check or (lambda: None), apply))

    def record(self, event: Event) -> None:
        self.events.append(event)

    def after_commit(self, *effects: object) -> None:
        self.effects.extend(effects)

    def commit(self) -> None:
        if self._writes or self.events:
            self._apply()
        if self.effects:
            carry_out(self.world, self.effects)

    def _apply(self) -> None:
        deadline.check()  # as the store's: past the request's deadline nothing is written
        if len(self._writes) + len(self.events) > MAX_ITEMS:
            raise ValueError(f"a unit of work holds at most {MAX_ITEMS} writes")
        touched = [w.item for w in self._writes]
        if len(set(touched)) != len(touched):
            raise ValueError("a transaction may not touch the same item twice")
        for write in self._writes:
            error = write.check()
            if error is not None:
                raise error
        for write in self._writes:
            write.apply()
        self.world.events.extend(self.events)
        self.world.commits += 1


def carry_out(world: World, effects: Sequence[object]) -> None:
    """The fakes' executor of effects: each is kept in `world.effects` (specifications read what
    was asked of SQS and Step Functions there); the in-process one (forgetting memoised rights) is
    done, as the real executor does."""
    from chalicelib.services import access
    from chalicelib.services.effects import ForgetAccess

    for effect in effects:
        world.effects.append(effect)
        if isinstance(effect, ForgetAccess):
            access.forget(effect.principal)


def lost_race() -> Conflict:
    return Conflict(LOST_RACE)


def work(uow: object) -> FakeUnitOfWork:
    """The fake unit of work a fake repository was given (a DynamoDB one is a wiring mistake)."""
    if not isinstance(uow, FakeUnitOfWork):
        raise TypeError(f"a fake repository needs a FakeUnitOfWork, got {type(uow).__name__}")
    return uow
