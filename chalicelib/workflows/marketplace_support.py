"""Request-based offerings (`Support.OfferingTemplate`, services/marketplace_support.py) in the
order workflow and the audit log's follow-ups.

- The type's request processor (`open_request`), registered for its create, update and terminate
  orders: the order workflow runs it once such an order executes, before it waits for the order to
  be finished (workflows/order_workflow.py `request`); it opens the order's support ticket.
- `marketplace_support.settle_order` (tasks): follows every published `issue_update_succeeded`
  event (publisher.FOLLOW_UPS, keyed by the event's uuid): a ticket resolved or canceled settles its
  order, on behalf of whoever changed the ticket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.domain.marketplace_support import PLUGIN_NAME
from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import Offering
from chalicelib.providers import registry
from chalicelib.services import marketplace_support
from chalicelib.workflows.envelope import TaskContext
from chalicelib.workflows.registry import TASKS_QUEUE, task

SETTLE_TASK = "marketplace_support.settle_order"


def open_request(
    order: Order,
    offering: Offering,
    heartbeat: Callable[[], None],
    attempt: int = 0,
    ctx: EventContext | None = None,
) -> dict[str, Any]:
    """The type's request: open the order's ticket (nothing when it is open already)."""
    issue = marketplace_support.open_request(ctx or EventContext(), order, offering)
    return {"issue_uuid": issue.id} if issue else {}


@task(SETTLE_TASK, queue=TASKS_QUEUE)
def settle_order(payload: dict[str, Any], ctx: EventContext) -> bool:
    """An issue changed: settle its order if the issue ended (True if an order was settled)."""
    event = payload["event"]
    context = event.get("context") or {}
    issue_id = str(context.get("issue_uuid") or "")
    if not issue_id:
        return False
    actor = TaskContext(
        user_uuid=context.get("user_uuid"),
        username=context.get("user_username"),
        full_name=context.get("user_full_name"),
        ip_address=context.get("ip_address"),
        correlation_id=ctx.correlation_id,
    ).restore()
    return marketplace_support.settle_order(actor, issue_id) is not None


for _kind in (registry.ProcessorKind.CREATE, registry.ProcessorKind.UPDATE, registry.ProcessorKind.TERMINATE):
    registry.register_processor(PLUGIN_NAME, _kind, open_request)
