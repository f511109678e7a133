"""What must happen outside the table because of a command, as data (the planner half of the
planner/executor split, as in aws/chalice's deployer).

A service decides the effects of a change and attaches them to its unit of work
(`uow.after_commit(effect)`): they are carried out after the transaction commits, and not at all if
it fails. Work without a transaction (a background task queueing the next one) hands its effects to
`execute`. Either way the executor is the workflow layer's (`workflows/effects.py`), given to the
services (the `effects` port) and to the unit of work by the composition root (`bootstrap.py`):
services never talk to SQS or Step Functions themselves, and never import the layer that does.

How each effect fails is part of it: a workflow start that fails is queued as a retry
(`StartWorkflow.retry_task`), an answer that cannot be sent is logged (the wait's timeout re-reads
the truth), an `Enqueue` or `SendToDeadLetter` that fails raises to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.context import EventContext, Principal
from chalicelib.services import ports


@dataclass(frozen=True)
class Enqueue:
    """Send task `task` (to the queue it is registered on), after `delay_seconds`. The same
    `idempotency_key` makes a redelivery, or a second send, run once."""

    task: str
    payload: Mapping[str, Any]
    context: EventContext | None = None
    idempotency_key: str | None = None
    delay_seconds: int = 0


@dataclass(frozen=True)
class SendToDeadLetter:
    """Put task `task` straight on the dead-letter queue of its queue: an operator's redrive runs it."""

    task: str
    payload: Mapping[str, Any]
    idempotency_key: str
    context: EventContext | None = None


@dataclass(frozen=True)
class StartWorkflow:
    """Start workflow `workflow` (a state machine of `statemachines/`) as execution `name`;
    idempotent on the name. `context`, when given, goes into the input as `context` (the task
    envelope's form), so the workflow's workers act for the same actor. A start that fails is
    queued as task `retry_task` (payload `{"input", "execution_name"}`) after `retry_delay`."""

    workflow: str
    name: str
    input: Mapping[str, Any]
    context: EventContext | None = None
    retry_task: str | None = None
    retry_delay: int = 0


@dataclass(frozen=True)
class AnswerCallback:
    """Answer the workflow waiting under `key` (a task token kept by `store/callbacks.py`) with
    `output`; nothing happens when none waits."""

    key: str
    output: Mapping[str, Any]


@dataclass(frozen=True)
class FailCallback:
    """Fail the workflow waiting under `key` with `error` (its Catch matches on it) and `cause`."""

    key: str
    error: str
    cause: str


@dataclass(frozen=True)
class ForgetAccess:
    """Drop what this process memoised of `principal`'s rights (their grants just changed)."""

    principal: Principal


Effect = Enqueue | SendToDeadLetter | StartWorkflow | AnswerCallback | FailCallback | ForgetAccess


def execute(*effects: Effect) -> None:
    """Carry `effects` out now, in order (work with no transaction to wait for)."""
    ports.current().effects(effects)
