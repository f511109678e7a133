"""The order's workflow (`statemachines/order.asl.json`), as the services see it: which effects an
order's change has on it. One Step Functions execution per order, named by the order's uuid, runs
from its creation to a final state; its workers are in `workflows/order_workflow.py`.

The order's state in the table is the truth; the workflow follows it and does what nobody else
does. It waits for each human or external step (the consumer's approval, the provider's, a
provider's agent setting the order done) as a task token stored under `order:<uuid>:<stage>`; the
service that changes the order answers it after its transaction commits (`answer`, an effect the
unit of work carries out). A waiting worker stores its token first and then reads the order, and a
service commits first and then takes the token, so whichever comes second sees the other: no
answer is lost to a race.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import OrderState
from chalicelib.providers import registry
from chalicelib.services.effects import AnswerCallback, Effect, StartWorkflow

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


def reference(order: Order) -> dict[str, str]:
    """How the workflow knows the order: enough to read it from the base table, and its state."""
    return {"id": order.id, "customer_id": order.customer_id, "state": order.state.value}


def callback_key(order_id: str, stage: str) -> str:
    return f"order:{order_id}:{stage}"


def is_automatic(offering_type: str) -> bool:
    found = registry.get_type(offering_type)
    return bool(found and found.automatic)


def _workflow_input(order: Order) -> dict[str, Any]:
    return {"order": reference(order), "automatic": is_automatic(order.offering_type)}


# --- the request side -------------------------------------------------------------------------------
def start(ctx: EventContext, order: Order) -> StartWorkflow:
    """Start the order's execution, on behalf of `ctx`'s actor, once its transaction committed. A
    failed start does not fail the request (the order exists): it is queued on `tasks` to be
    retried (the start is idempotent on the execution name), and logged if even that fails."""
    return StartWorkflow(
        WORKFLOW,
        order.execution_name,
        _workflow_input(order),
        context=ctx,
        retry_task=START_TASK,
        retry_delay=START_RETRY_DELAY,
    )


def answer(before: Order, after: Order) -> list[Effect]:
    """Tell the execution waiting on `before`'s stage that the order is now `after` (after the
    commit). Nothing when the order stayed in its stage. Once carried out, nothing happens when
    nobody waited (the worker has not stored its token yet: it will see the new state itself), and
    an answer that cannot be sent is logged (the wait's timeout re-reads the order)."""
    stage = _STAGE_OF.get(before.state)
    if stage is None or after.state is before.state:
        return []
    return [AnswerCallback(callback_key(before.id, stage), reference(after))]
