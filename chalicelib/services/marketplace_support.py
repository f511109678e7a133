"""Request-based offerings (`Support.OfferingTemplate`, domain/marketplace_support.py): an order
opens a support ticket for the provider's people, and the ticket's end settles the order.

- `open_request`: the order workflow, once such an order executes (before it waits for the order
  to be finished), opens its issue in the built-in desk: caller the order's creator, scopes the
  order's customer, project and resource, linked to the order. Idempotent: the issue's id is fixed
  by the order's execution, so a redelivery or a second worker opens nothing more.
- `settle_order`: an issue changed (the `issue_update_succeeded` event's follow-up task): if it is
  linked to an executing order of this type and is now resolved or canceled, the order is done,
  canceled or erred (Waldur's RESOURCE_CALLBACKS). Anything else (an issue of no order, an open
  one, an order already over, an earlier execution's issue) changes nothing, so a redelivered
  event changes nothing twice.
"""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.domain import marketplace_support as domain
from chalicelib.domain import support as desk
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict
from chalicelib.domain.orders import Order
from chalicelib.domain.support import Issue
from chalicelib.domain.vocabulary import Offering, OrderState
from chalicelib.services import orders
from chalicelib.services.ports import orders as order_store
from chalicelib.services.ports import support as issue_store
from chalicelib.services.ports import unit_of_work


def issue_of(order: Order) -> Issue | None:
    """The issue the order's current execution opened, if any."""
    return issue_store.get_issue(domain.issue_id_of(order.id, order.executions))


def open_request(ctx: EventContext, order: Order, offering: Offering) -> Issue | None:
    """Open the order's issue (None when it is open already, or the order no longer executes)."""
    if order.state is not OrderState.EXECUTING:
        return None
    issue_id = domain.issue_id_of(order.id, order.executions)
    if issue_store.get_issue(issue_id) is not None:
        return None
    text = domain.request_of(order, offering, domain.homeport_links(get_settings().homeport_url, order))
    creator = order.created_by
    now = utcnow()
    issue = Issue(
        id=issue_id,
        key=desk.issue_key(issue_store.next_issue_number()),
        type=domain.ISSUE_TYPE,
        summary=text.summary,
        description=text.description,
        created=now,
        modified=now,
        caller_id=creator.id if creator else None,
        caller_full_name=creator.full_name if creator else None,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
        project_id=order.project_id,
        project_name=order.project_name,
        resource_id=order.resource_id,
        resource_name=order.resource_name,
        order_id=order.id,
    )
    uow = unit_of_work()
    made = issue_store.add_issue(uow, issue)
    uow.record(desk.issue_event(made, desk.ISSUE_CREATED, ctx))
    try:
        uow.commit()
    except Conflict:  # another worker opened it meanwhile
        return None
    return made


def settle_order(ctx: EventContext, issue_id: str) -> Order | None:
    """The issue's end settles its order (None: nothing to settle)."""
    issue = issue_store.get_issue(issue_id)
    if issue is None or issue.order_id is None or issue.customer_id is None:
        return None
    resolved = issue.resolved
    if resolved is None:
        return None
    order = order_store.load(issue.customer_id, issue.order_id)
    if order is None or order.state is not OrderState.EXECUTING:
        return None
    current_issue = domain.issue_id_of(order.id, order.executions)
    if order.offering_type != domain.PLUGIN_NAME or issue.id != current_issue:
        return None
    return orders.finish_request(ctx, order, domain.outcome(order.type, resolved, issue.key))
