"""The executor of the services' effects (`services/effects.py`): each one mapped to SQS, Step
Functions or a callback answer, in order. The composition root binds `execute` to the services and
to the unit of work, which call it after their transaction commits (or at once, with none).

Failures are handled as each effect says: a start that fails is queued for a retry (and logged if
even that fails), an answer that fails is logged (the wait's timeout re-reads the order), anything
else raises to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chalicelib import observability
from chalicelib.services import access
from chalicelib.services.effects import (
    AnswerCallback,
    Enqueue,
    FailCallback,
    ForgetAccess,
    SendToDeadLetter,
    StartWorkflow,
)
from chalicelib.workflows import queues, registry, stepfunctions, steps
from chalicelib.workflows.aws import client
from chalicelib.workflows.envelope import TaskContext


def execute(effects: Sequence[object]) -> None:
    """Carry out `effects` in order."""
    for effect in effects:
        _one(effect)


def _one(effect: object) -> None:
    match effect:
        case Enqueue():
            enqueue(effect)
        case SendToDeadLetter():
            send_to_dead_letter(effect)
        case StartWorkflow():
            start_or_queue(effect)
        case AnswerCallback():
            _answer(effect.key, lambda: steps.complete_callback(effect.key, dict(effect.output)))
        case FailCallback():
            _answer(effect.key, lambda: steps.fail_callback(effect.key, effect.error, effect.cause))
        case ForgetAccess():
            access.forget(effect.principal)
        case _:
            raise TypeError(f"not an effect: {effect!r}")


def enqueue(effect: Enqueue) -> str:
    return queues.enqueue(
        effect.task,
        dict(effect.payload),
        effect.context,
        idempotency_key=effect.idempotency_key,
        delay_seconds=effect.delay_seconds,
    )


def send_to_dead_letter(effect: SendToDeadLetter) -> None:
    envelope = queues.envelope_for(effect.task, dict(effect.payload), effect.context, effect.idempotency_key)
    url = queues.dead_letter_url(registry.get(effect.task).queue)
    client("sqs").send_message(QueueUrl=url, MessageBody=envelope.model_dump_json())


def workflow_input(effect: StartWorkflow) -> dict[str, Any]:
    if effect.context is None:
        return dict(effect.input)
    return {**effect.input, "context": TaskContext.of(effect.context).model_dump()}


def start(effect: StartWorkflow) -> str:
    """Start the execution now (raises if Step Functions refuses); returns its ARN."""
    return stepfunctions.start_workflow(effect.workflow, workflow_input(effect), effect.name)


def start_or_queue(effect: StartWorkflow) -> None:
    """Start the execution; a failed start does not fail the caller (its change committed): it is
    queued on its retry task (the start is idempotent on the execution name), and logged if even
    that fails."""
    log = observability.logger()
    extra = {"workflow": effect.workflow, "execution": effect.name}
    try:
        start(effect)
        return
    except Exception:
        if effect.retry_task is None:
            log.exception("workflow not started", extra=extra)
            return
        log.warning("workflow not started; queued for a retry", extra=extra)
    payload = {"input": workflow_input(effect), "execution_name": effect.name}
    retry = Enqueue(
        effect.retry_task,
        payload,
        effect.context,
        idempotency_key=f"start:{effect.name}",
        delay_seconds=effect.retry_delay,
    )
    try:
        enqueue(retry)
    except Exception:
        log.exception("workflow could not be started nor queued", extra=extra)


def _answer(key: str, send: Callable[[], object]) -> None:
    try:
        send()
    except Exception:
        observability.logger().exception("workflow not answered", extra={"callback": key})
