"""The order's workflow (`statemachines/order.asl.json`): one Step Functions execution per order,
named by the order's uuid, from its creation to a final state.

The order's state in the table is the truth; the workflow follows it and does what nobody else
does. It waits for each human or external step (the consumer's approval, the provider's, a
provider's agent setting the order done) as a task token stored under `order:<uuid>:<stage>`; the
service that changes the order answers it after its transaction commits (`answer`). A waiting
worker stores its token first and then reads the order, and a service commits first and then takes
the token, so whichever comes second sees the other: no answer is lost to a race. For automatic
offering types the workflow runs the type's processor on a worker (`process`), with retries and
timeouts, and gives up into `erred`. A wait that times out re-reads the order (`recheck`), so even
an answer lost in transit ends the wait in the order's real state.

Every Task state retries SQS's errors with backoff; what still fails (or a recheck or the erring
that fails) ends the execution in the alarmed `Stranded` state with the order as it was, and the
hourly sweep (`workflows/order_sweep.py`) starts a new execution for any open order whose
execution is gone or ended (`ensure_started`, under the order's next execution name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import observability
from chalicelib.domain.context import EventContext
from chalicelib.domain.marketplace import OrderState, OrderType
from chalicelib.domain.orders import AGENT_TIMED_OUT, Order
from chalicelib.providers import registry
from chalicelib.store import callbacks
from chalicelib.store import orders as store
from chalicelib.workflows import stepfunctions, steps
from chalicelib.workflows.envelope import TaskContext

WORKFLOW = "order"
START_TASK = "marketplace.start_order"
START_RETRY_DELAY = 5  # seconds before the tasks queue tries a start that failed in the request

# What each wait waits for: the order to leave this state.
STAGES: dict[str, OrderState] = {
    "consumer": OrderState.PENDING_CONSUMER,
    "provider": OrderState.PENDING_PROVIDER,
    "agent": OrderState.EXECUTING,
}
_STAGE_OF = {state: stage for stage, state in STAGES.items()}
_KIND = {
    OrderType.CREATE: registry.ProcessorKind.CREATE,
    OrderType.UPDATE: registry.ProcessorKind.UPDATE,
    OrderType.TERMINATE: registry.ProcessorKind.TERMINATE,
}


def reference(order: Order) -> dict[str, str]:
    """How the workflow knows the order: enough to read it from the base table, and its state."""
    return {"id": order.id, "customer_id": order.customer_id, "state": order.state.value}


def callback_key(order_id: str, stage: str) -> str:
    return f"order:{order_id}:{stage}"


def is_automatic(offering_type: str) -> bool:
    found = registry.get_type(offering_type)
    return bool(found and found.automatic)


def _workflow_input(ctx: EventContext, order: Order) -> dict[str, Any]:
    return {
        "order": reference(order),
        "automatic": is_automatic(order.offering_type),
        "context": TaskContext.of(ctx).model_dump(),
    }


# --- the request side -------------------------------------------------------------------------------
def start(ctx: EventContext, order: Order) -> None:
    """Start the order's execution after its transaction committed. A failed start does not fail
    the request (the order exists): it is queued on `tasks` to be retried (the start is idempotent
    on the execution name), and logged if even that fails."""
    payload = {"input": _workflow_input(ctx, order), "execution_name": order.execution_name}
    log = observability.logger()
    try:
        start_queued(payload)
        return
    except Exception:
        log.warning("order workflow not started; queued for a retry", extra={"order_uuid": order.id})
    from chalicelib.workflows.queues import enqueue

    try:
        enqueue(
            START_TASK,
            payload,
            ctx,
            idempotency_key=f"start:{order.execution_name}",
            delay_seconds=START_RETRY_DELAY,
        )
    except Exception:
        log.exception("order workflow could not be started nor queued", extra={"order_uuid": order.id})


def start_queued(payload: dict[str, Any]) -> str:
    return stepfunctions.start_workflow(WORKFLOW, payload["input"], payload["execution_name"])


def ensure_started(event: dict[str, Any]) -> bool:
    """From a published `marketplace_order_created` event: start the order's execution unless the
    order is over (an execution that exists already is left alone). True if a start was asked."""
    context = event.get("context") or {}
    order = store.get_in(str(context.get("customer_uuid", "")), str(context.get("order_uuid", "")))
    if order is None or order.is_final:
        return False
    actor = TaskContext(
        user_uuid=context.get("user_uuid"),
        username=context.get("user_username"),
        full_name=context.get("user_full_name"),
        ip_address=context.get("ip_address"),
    )
    start_queued({"input": _workflow_input(actor.restore(), order), "execution_name": order.execution_name})
    return True


def answer(before: Order, after: Order) -> bool:
    """Tell the execution waiting on `before`'s stage that the order is now `after` (after the
    commit). False when nobody waited (the worker has not stored its token yet: it will see the
    new state itself) or the answer could not be sent (the wait's timeout re-reads the order)."""
    stage = _STAGE_OF.get(before.state)
    if stage is None or after.state is before.state:
        return False
    try:
        return steps.complete_callback(callback_key(before.id, stage), reference(after))
    except Exception:
        observability.logger().exception("order workflow not answered", extra={"order_uuid": before.id})
        return False


# --- the worker side --------------------------------------------------------------------------------
def _state_of(ref: dict[str, Any]) -> dict[str, str]:
    """The order's reference as the table has it now (an order deleted while pending: canceled)."""
    order = store.get_in(ref["customer_id"], ref["id"])
    if order is None:
        return {"id": ref["id"], "customer_id": ref["customer_id"], "state": OrderState.CANCELED.value}
    return reference(order)


def wait(ref: dict[str, Any], stage: str, token: str) -> bool:
    """Keep the execution's token until the order leaves `stage`; answers at once (True) if it
    already has."""
    key = callback_key(ref["id"], stage)
    callbacks.store(key, token, WORKFLOW)
    current = _state_of(ref)
    if current["state"] == STAGES[stage].value:
        return False
    taken = callbacks.take(key)
    if taken is not None:
        steps.send_success(taken, current)
    return True


def recheck(ctx: EventContext, ref: dict[str, Any], stage: str) -> dict[str, str]:
    """A wait timed out: a still pending order is canceled (not approved in time), a still
    executing one erred (its agent never finished); either way the order's state is answered."""
    from chalicelib.services import orders

    callbacks.take(callback_key(ref["id"], stage))  # the timed-out wait's token: nobody may answer it
    if _state_of(ref)["state"] == STAGES[stage].value:
        if stage == "agent":
            orders.fail_executing(ctx, ref["customer_id"], ref["id"], AGENT_TIMED_OUT)
        else:
            orders.expire_order(ctx, ref["customer_id"], ref["id"])
    return _state_of(ref)


def process(
    ctx: EventContext, ref: dict[str, Any], attempt: int, heartbeat: Callable[[], None]
) -> dict[str, str]:
    """Run the offering type's processor for an executing order, then set it done (its resource
    OK, changed or Terminated). Raises steps.TransientStepError to be retried, anything else to
    take the workflow's error branch. An order no longer executing is left as it is."""
    from chalicelib.services import offerings as catalog
    from chalicelib.services import orders

    order = store.get_in(ref["customer_id"], ref["id"])
    if order is None or order.state is not OrderState.EXECUTING:
        return _state_of(ref)
    offering = catalog.get_offering(order.offering_id)
    processor = registry.processor(offering.type, _KIND[order.type])
    result = processor(order, offering, heartbeat, attempt) if processor else None
    backend_id = str((result or {}).get("backend_id") or "")
    done = orders.complete_processed(ctx, order.customer_id, order.id, backend_id)
    return reference(done) if done else _state_of(ref)


def give_up(ctx: EventContext, ref: dict[str, Any], error: dict[str, Any] | None) -> Order | None:
    """The processor failed for good or timed out: the order is erred with what the workflow knows."""
    from chalicelib.services import orders

    return orders.fail_executing(ctx, ref["customer_id"], ref["id"], error_message(error))


_ERRORS = {
    "States.Timeout": "The provider did not finish the order in time.",
    "States.HeartbeatTimeout": "The provider stopped answering while processing the order.",
    steps.TRANSIENT: "The provider kept failing; the order was retried and given up.",
}


def error_message(error: dict[str, Any] | None) -> str:
    """The erred order's `error_message`: the failure's cause if the workflow kept it, else what its
    error name means."""
    error = error or {}
    cause = str(error.get("Cause") or "").strip()
    if cause:
        return cause[:2000]
    name = str(error.get("Error") or "")
    return _ERRORS.get(name, f"The provider failed to process the order ({name or 'unknown error'}).")
