"""Provider steps: the work a workflow's Task state hands to a worker over SQS.

The `provider_step` state machine sends `workflows.run_step` to the `heavy` queue with its task
token and waits; the worker runs the named step and answers SendTaskSuccess, or SendTaskFailure
with an error the state machine's Retry (`Cirrus.Transient`) or Catch (anything else) matches.
A long step calls `heartbeat()` so the state's HeartbeatSeconds does not end it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib import observability
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import ServiceUnavailable
from chalicelib.store import callbacks
from chalicelib.workflows.aws import client
from chalicelib.workflows.registry import HEAVY_QUEUE, TASKS_QUEUE, task

TRANSIENT = "Cirrus.Transient"
PERMANENT = "Cirrus.Permanent"

Step = Callable[[dict[str, Any], Callable[[], None]], dict[str, Any]]
STEPS: dict[str, Step] = {}


class TransientStepError(Exception):
    """Worth retrying (a provider timed out, a rate limit): the state machine retries with backoff."""


class PermanentStepError(Exception):
    """Not worth retrying: the state machine takes its error branch."""


# Failures a step (or the worker around it) reports as `Cirrus.Transient`: the store throttled a
# call, which says nothing about the provider or the order, so the state machine retries.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (TransientStepError, ServiceUnavailable)


def step(name: str) -> Callable[[Step], Step]:
    """Register `fn(input, heartbeat) -> output` as provider step `name`."""

    def register(fn: Step) -> Step:
        STEPS[name] = fn
        return fn

    return register


@step("cirrus.echo")
def echo(data: dict[str, Any], heartbeat: Callable[[], None]) -> dict[str, Any]:
    """Returns its input: proves the path end to end (and serves as the smoke test of a deployment)."""
    return data


def _answer(method: str, **kwargs: Any) -> None:
    sfn = client("stepfunctions")
    try:
        getattr(sfn, method)(**kwargs)
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        # The workflow moved on (timed out, or was stopped): there is nobody left to answer.
        observability.logger().warning("workflow no longer waits for this step", extra={"method": method})


def send_success(token: str, output: dict[str, Any]) -> None:
    """Answer a waiting Task state (a no-op, logged, if it stopped waiting)."""
    _answer("send_task_success", taskToken=token, output=json.dumps(output))


def send_failure(token: str, error: str, cause: str) -> None:
    _answer("send_task_failure", taskToken=token, error=error, cause=cause[:32_000])


@task("workflows.run_step", queue=HEAVY_QUEUE)
def run_step(payload: dict[str, Any], ctx: EventContext) -> None:
    token = payload["token"]
    fn = STEPS.get(payload.get("step", ""))

    def heartbeat() -> None:
        client("stepfunctions").send_task_heartbeat(taskToken=token)

    try:
        if fn is None:
            raise PermanentStepError(f"No provider step named {payload.get('step')!r}.")
        output = fn(payload.get("input") or {}, heartbeat)
    except TRANSIENT_ERRORS as exc:
        _answer("send_task_failure", taskToken=token, error=TRANSIENT, cause=str(exc)[:32_000])
        return
    except Exception as exc:  # any other failure is the step's, not the worker's: report it
        observability.logger().warning(
            "provider step failed", extra={"step": payload.get("step"), "cause": str(exc)}
        )
        _answer(
            "send_task_failure",
            taskToken=token,
            error=PERMANENT,
            cause=f"{type(exc).__name__}: {exc}"[:32_000],
        )
        return
    _answer("send_task_success", taskToken=token, output=json.dumps(output))


@task("workflows.await_callback", queue=TASKS_QUEUE)
def await_callback(payload: dict[str, Any], ctx: EventContext) -> None:
    """Keep a workflow's task token under a key an external party (an approver, a provider's agent)
    will answer with `complete_callback` / `fail_callback`."""
    callbacks.store(payload["key"], payload["token"], payload.get("workflow", ""))


def complete_callback(key: str, output: dict[str, Any]) -> bool:
    """Answer the workflow waiting under `key`; False when none waits (already answered, or gone)."""
    token = callbacks.take(key)
    if token is None:
        return False
    _answer("send_task_success", taskToken=token, output=json.dumps(output))
    return True


def fail_callback(key: str, error: str, cause: str) -> bool:
    token = callbacks.take(key)
    if token is None:
        return False
    _answer("send_task_failure", taskToken=token, error=error, cause=cause)
    return True
