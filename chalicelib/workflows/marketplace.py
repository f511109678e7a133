"""The order workflow's workers (`statemachines/order.asl.json`) and the simulated provider
`Cirrus.Demo`'s processor.

- `marketplace.await_order` (tasks): keep the execution's token until the order leaves a stage.
- `marketplace.recheck_order` (tasks): a wait timed out; settle the order and answer its state.
- `marketplace.process_order` (heavy): run the offering type's processor, set the order done.
- `marketplace.fail_order` (tasks): the workflow's error branch; the order becomes erred.
- `marketplace.start_order` (tasks): start an execution the request could not start.
- `marketplace.ensure_started` (tasks): the same, from the published `marketplace_order_created`
  event (the outbox), so a request that died between its commit and the start loses nothing.

The work itself is in `workflows/order_workflow.py`; every change goes through `services/orders.py`
(events included).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from chalicelib import observability
from chalicelib.domain.context import EventContext
from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import Offering
from chalicelib.providers import registry
from chalicelib.providers.builtin import DEMO, DEMO_DEFAULTS
from chalicelib.workflows import order_workflow, steps
from chalicelib.workflows.registry import HEAVY_QUEUE, TASKS_QUEUE, task


@task("marketplace.await_order", queue=TASKS_QUEUE)
def await_order(payload: dict[str, Any], ctx: EventContext) -> bool:
    return order_workflow.wait(payload["order"], payload["stage"], payload["token"], ctx)


@task("marketplace.recheck_order", queue=TASKS_QUEUE)
def recheck_order(payload: dict[str, Any], ctx: EventContext) -> None:
    steps.send_success(payload["token"], order_workflow.recheck(ctx, payload["order"], payload["stage"]))


@task("marketplace.process_order", queue=HEAVY_QUEUE)
def process_order(payload: dict[str, Any], ctx: EventContext) -> None:
    """Answers the workflow itself: success with the order's state, `Cirrus.Transient` to be
    retried, `Cirrus.Permanent` (any other failure) for its error branch."""
    token = payload["token"]

    def heartbeat() -> None:
        from chalicelib.workflows.aws import client

        client("stepfunctions").send_task_heartbeat(taskToken=token)

    try:
        output = order_workflow.process(ctx, payload["order"], int(payload.get("attempt") or 0), heartbeat)
    except steps.TRANSIENT_ERRORS as exc:
        steps.send_failure(token, steps.TRANSIENT, str(exc))
        return
    except Exception as exc:  # the provider's failure, not the worker's: the workflow decides
        observability.logger().warning(
            "order processing failed", extra={"order_uuid": payload["order"].get("id"), "cause": str(exc)}
        )
        # A provider's own failure says what went wrong in its words; anything else names its kind.
        cause = str(exc) if isinstance(exc, steps.PermanentStepError) else f"{type(exc).__name__}: {exc}"
        steps.send_failure(token, steps.PERMANENT, cause)
        return
    steps.send_success(token, output)


@task("marketplace.fail_order", queue=TASKS_QUEUE)
def fail_order(payload: dict[str, Any], ctx: EventContext) -> None:
    order_workflow.give_up(ctx, payload["order"], payload.get("error"))


@task("marketplace.start_order", queue=TASKS_QUEUE)
def start_order(payload: dict[str, Any], ctx: EventContext) -> str:
    return order_workflow.start_queued(payload)


@task("marketplace.ensure_started", queue=TASKS_QUEUE)
def ensure_started(payload: dict[str, Any], ctx: EventContext) -> bool:
    """The published `marketplace_order_created` event: start the order's workflow if the request
    could not (a no-op when it did: starts are idempotent on the execution name)."""
    return order_workflow.ensure_started(payload["event"])


# --- Cirrus.Demo ---------------------------------------------------------------------------------------
HEARTBEAT_EVERY = 1.0  # seconds; shorter than any HeartbeatSeconds the workflow is rendered with


def demo_processor(
    order: Order, offering: Offering, heartbeat: Callable[[], None], attempt: int = 0
) -> dict[str, Any]:
    """Provision nothing, convincingly: wait `delay_seconds` (heartbeating), then fail with
    probability `failure_rate` (decided by a generator seeded with the order's uuid, so one order
    always has the same fate), or, for tests and demos, fail transiently on the first
    `transient_failures` attempts. Success sets a made-up backend id on the resource."""
    options = {**DEMO_DEFAULTS, **dict(offering.plugin_options)}
    if attempt < int(options.get("transient_failures") or 0):
        raise steps.TransientStepError(f"Demo provider is busy (attempt {attempt + 1}).")
    _sleep(float(options.get("delay_seconds") or 0), heartbeat)
    if random.Random(order.id).random() < float(options.get("failure_rate") or 0):
        raise steps.PermanentStepError("Demo provider failed to provision the resource.")
    return {"backend_id": f"demo-{order.resource_id[:12]}"}


def _sleep(seconds: float, heartbeat: Callable[[], None]) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, HEARTBEAT_EVERY))
        heartbeat()


for _kind in (registry.ProcessorKind.CREATE, registry.ProcessorKind.UPDATE, registry.ProcessorKind.TERMINATE):
    registry.register_processor(DEMO, _kind, demo_processor)
