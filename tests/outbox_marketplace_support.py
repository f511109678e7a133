"""Request-based offerings' commands (`Support.OfferingTemplate`) for the outbox table
(tests/outbox_commands.py merges MARKET_SUPPORT_COMMANDS into COMMANDS): each scenario, and the
events it must write.

Staff order a request-based offering of provider Cloud for Acme's project Apollo (no review: the
order executes at once); its ticket is opened in the built-in desk, and its end settles the order.
"""

from __future__ import annotations

from typing import Any

from tests.outbox_commands import Case, Command, Fields, S, W, World, emits
from tests.outbox_marketplace import (
    CREATE_REFUSED,
    DONE,
    FAILED,
    MADE_AND_BILLED,
    TOKEN,
    _both,
    _offering,
    _place,
)
from tests.outbox_support import CREATED, NUMBER

SUPPORT_TYPE = "Support.OfferingTemplate"


def executing(w: World) -> Any:
    return _place(w, _offering(w, SUPPORT_TYPE))  # no review: executing at once


def _issue_fields(w: World, issue: Any) -> dict[str, str]:
    return {
        "issue_uuid": issue.id,
        "issue_key": issue.key,
        "customer_uuid": w.customer.id,
        "project_uuid": w.project.id,
        "resource_uuid": issue.resource_id,
    }


def _opened(w: World, order: Any) -> Fields:
    from chalicelib.services import marketplace_support

    issue = marketplace_support.issue_of(order)
    assert issue is not None and issue.order_id == order.id
    return {CREATED: _issue_fields(w, issue)}


def open_request(w: World, order: Any) -> Fields:
    from chalicelib.services import marketplace_support, offerings

    marketplace_support.open_request(w.ctx, order, offerings.get_offering(order.offering_id))
    return _opened(w, order)


def request(w: World, order: Any) -> Fields:
    from chalicelib.workflows import order_workflow

    order_workflow.request(w.ctx, {"id": order.id, "customer_id": order.customer_id})
    return _opened(w, order)


def _ticket_ended(status: str) -> Any:
    """An executing order whose ticket the desk moved to `status`."""

    def setup(w: World) -> Any:
        from chalicelib.services import marketplace_support, support

        order = executing(w)
        open_request(w, order)
        issue = marketplace_support.issue_of(order)
        support.set_status(w.ctx, issue.id, status)
        return order

    return setup


def _settle(order_event: str, resource_event: str) -> Any:
    def act(w: World, order: Any) -> Fields:
        from chalicelib.services import marketplace_support

        issue = marketplace_support.issue_of(order)
        assert marketplace_support.settle_order(w.ctx, issue.id) is not None
        return _both(w, order, resource_event, order_event)

    return act


def _finish(resolved: bool, order_event: str, resource_event: str) -> Any:
    def act(w: World, order: Any) -> Fields:
        from chalicelib.domain import marketplace_support as rules
        from chalicelib.services import orders

        orders.finish_request(w.ctx, order, rules.outcome(order.type, resolved, "SUP-1"))
        return _both(w, order, resource_event, order_event)

    return act


def _terminating(w: World) -> Any:
    """An executing Terminate order of a live request-based resource."""
    from chalicelib.services import resources

    created = executing(w)
    _finish(True, DONE, "marketplace_resource_create_succeeded")(w, created)
    return resources.terminate(w.ctx, created.resource_id)


def _limits_changing(w: World) -> Any:
    from chalicelib.services import resources

    created = executing(w)
    _finish(True, DONE, "marketplace_resource_create_succeeded")(w, created)
    return resources.update_limits(w.ctx, created.resource_id, {"cpu": 4})


CREATE_OK = "marketplace_resource_create_succeeded"
TERMINATE_FAILED = "marketplace_resource_terminate_failed"
LIMITS_FAILED = "marketplace_resource_update_limits_failed"

MARKET_SUPPORT_COMMANDS: dict[str, Command] = {
    f"{S}marketplace_support.open_request": emits(
        Case(open_request, (CREATED,), setup=executing, outside=NUMBER)
    ),
    f"{W}order_workflow.request": emits(Case(request, (CREATED,), setup=executing, outside=NUMBER)),
    f"{S}marketplace_support.settle_order": emits(
        Case(
            _settle(DONE, CREATE_OK),
            (DONE, CREATE_OK),
            setup=_ticket_ended("Resolved"),
            outside=MADE_AND_BILLED,
            label="resolved",
        ),
        Case(
            _settle(*CREATE_REFUSED),
            CREATE_REFUSED,
            setup=_ticket_ended("Canceled"),
            outside=TOKEN,
            label="canceled",
        ),
    ),
    f"{S}orders.finish_request": emits(
        Case(_finish(True, DONE, CREATE_OK), (DONE, CREATE_OK), setup=executing, outside=MADE_AND_BILLED),
        Case(
            _finish(False, *CREATE_REFUSED), CREATE_REFUSED, setup=executing, outside=TOKEN, label="canceled"
        ),
        Case(
            _finish(False, FAILED, TERMINATE_FAILED),
            (FAILED, TERMINATE_FAILED),
            setup=_terminating,
            outside=TOKEN,
            label="terminate canceled",
        ),
        Case(
            _finish(False, FAILED, LIMITS_FAILED),
            (FAILED, LIMITS_FAILED),
            setup=_limits_changing,
            outside=TOKEN,
            label="limits canceled",
        ),
    ),
}
