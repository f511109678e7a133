"""The order workflow's worker side (`statemachines/order.asl.json`): what its task states run.

For automatic offering types the workflow runs the type's processor on a worker (`process`), with
retries and timeouts, and gives up into `erred` (`give_up`). A wait stores the execution's token
(`wait`); a wait that times out re-reads the order (`recheck`), so even an answer lost in transit
ends the wait in the order's real state. A start the request could not make is made here
(`start_queued`, `ensure_started`). The tasks that call these are in `workflows/marketplace.py`;
which effects a change of the order has on its workflow is decided in `services/order_lifecycle.py`.
Every change of the order goes through `services/orders.py` (events included).

Every Task state retries SQS's errors with backoff; what still fails (or a recheck or the erring
that fails) ends the execution in the alarmed `Stranded` state with the order as it was, and the
hourly sweep (`workflows/order_sweep.py`) starts a new execution for any open order whose
execution is gone or ended (`ensure_started`, under the order's next execution name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.domain.orders import AGENT_TIMED_OUT, Order
from chalicelib.domain.vocabulary import OrderState, OrderType
from chalicelib.providers import registry
from chalicelib.services import offerings as catalog
from chalicelib.services import order_lifecycle as lifecycle
from chalicelib.services import orders
from chalicelib.services.order_lifecycle import STAGES, WORKFLOW, callback_key, reference
from chalicelib.store import callbacks
from chalicelib.store import orders as store
from chalicelib.workflows import cloud_driver, effects, stepfunctions, steps
from chalicelib.workflows.envelope import TaskContext

_KIND = {
    OrderType.CREATE: registry.ProcessorKind.CREATE,
    OrderType.UPDATE: registry.ProcessorKind.UPDATE,
    OrderType.TERMINATE: registry.ProcessorKind.TERMINATE,
}


# --- starts the request could not make ---------------------------------------------------------------
def start_queued(payload: dict[str, Any]) -> str:
    return stepfunctions.start_workflow(WORKFLOW, payload["input"], payload["execution_name"])


def ensure_started(event: dict[str, Any]) -> bool:
    """From a published `marketplace_order_created` event: start the order's execution unless the
    order is over (an execution that exists already is left alone). True if a start was asked."""
    context = event.get("context") or {}
    order = store.load(str(context.get("customer_uuid", "")), str(context.get("order_uuid", "")))
    if order is None or order.is_final:
        return False
    actor = TaskContext(
        user_uuid=context.get("user_uuid"),
        username=context.get("user_username"),
        full_name=context.get("user_full_name"),
        ip_address=context.get("ip_address"),
    )
    effects.start(lifecycle.start(actor.restore(), order))
    return True


# --- the worker side --------------------------------------------------------------------------------
def _state_of(ref: dict[str, Any]) -> dict[str, str]:
    """The order's reference as the table has it now (an order deleted while pending: canceled)."""
    return _reference_of(ref, store.load(ref["customer_id"], ref["id"]))


def _reference_of(ref: dict[str, Any], order: Order | None) -> dict[str, str]:
    if order is None:
        return {"id": ref["id"], "customer_id": ref["customer_id"], "state": OrderState.CANCELED.value}
    return reference(order)


def wait(ref: dict[str, Any], stage: str, token: str, ctx: EventContext | None = None) -> bool:
    """Keep the execution's token until the order leaves `stage`; answers at once (True) if it
    already has. An order still waiting for its provider's work gets its type's request made, if
    the type has one (`request`: e.g. a ticket opened), once its token is kept."""
    key = callback_key(ref["id"], stage)
    callbacks.store(key, token, WORKFLOW)
    order = store.load(ref["customer_id"], ref["id"])
    current = _reference_of(ref, order)
    if current["state"] == STAGES[stage].value:
        if stage == "agent" and order is not None:
            _request(ctx or EventContext(), order)
        return False
    taken = callbacks.take(key)
    if taken is not None:
        steps.send_success(taken, current)
    return True


def _no_heartbeat() -> None:
    return None


def request(ctx: EventContext, ref: dict[str, Any]) -> None:
    """Make the type's request for an executing order (what `wait` does before the provider's work)."""
    order = store.load(ref["customer_id"], ref["id"])
    if order is not None:
        _request(ctx, order)


def _request(ctx: EventContext, order: Order) -> None:
    """An executing order of a type the platform does not provision, with a processor registered
    for its kind: run it as the type's request (providers/types.py), e.g. Support.OfferingTemplate's
    ticket. Its failure fails the task (redelivered: the wait keeps its token again, and the request
    is made again, so it must be idempotent)."""
    if order.state is not OrderState.EXECUTING or lifecycle.is_automatic(order.offering_type):
        return
    processor = registry.processor(order.offering_type, _KIND[order.type])
    if processor is None:
        return
    processor(order, catalog.get_offering(order.offering_id), _no_heartbeat, 0, ctx=ctx)


def recheck(ctx: EventContext, ref: dict[str, Any], stage: str) -> dict[str, str]:
    """A wait timed out: a still pending order is canceled (not approved in time), a still
    executing one erred (its agent never finished); either way the order's state is answered."""
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
    order = store.load(ref["customer_id"], ref["id"])
    if order is None or order.state is not OrderState.EXECUTING:
        return _state_of(ref)
    offering = catalog.get_offering(order.offering_id)
    kind = _KIND[order.type]
    processor = registry.processor(offering.type, kind) or cloud_driver.processor_for(offering.type, kind)
    result = processor(order, offering, heartbeat, attempt) if processor else None
    backend_id = str((result or {}).get("backend_id") or "")
    metadata = (result or {}).get("backend_metadata")
    done = orders.complete_processed(ctx, order.customer_id, order.id, backend_id, metadata)
    return reference(done) if done else _state_of(ref)


def give_up(ctx: EventContext, ref: dict[str, Any], error: dict[str, Any] | None) -> Order | None:
    """The processor failed for good or timed out: the order is erred with what the workflow knows."""
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
