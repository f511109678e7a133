"""The marketplace's order and resource commands, and staff's quota limits, for the outbox table
(tests/outbox_commands.py merges MARKETPLACE_COMMANDS into COMMANDS): each scenario, and the
events it must write.

The world's customer Acme and project Apollo consume; a provider customer (Cloud) sells an active
`Marketplace.Basic` offering (agent-driven: orders wait for the provider's review and its agent)
or a `Cirrus.Demo` one (automatic, no delay). Orders are placed by staff (approved by the
consumer at once) or by alice, a member of Apollo (pending the consumer's approval).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.outbox_commands import SLUG_NUMBER, Case, Command, Fields, S, W, World, emits, no_event

# An order's workflow is answered after each change: the stored task token is taken (a conditional
# delete, which deletes nothing when no execution waits, as in these scenarios).
TOKEN = {"CALLBACK/": "the order workflow's stored task token, taken to answer it"}
PROVIDER_REPORT = {"CUST/RES": "the provider's report on its resource (Waldur logs no event)"}


USAGE_REPORT = {
    "CUST/USAGE": "the provider's usage report (Waldur logs no event: its event types have none)",
    "CUST/RES": "the resource's current_usages, moved with the report",
    "counter": "the usages counter (staff's list total)",
}


# --- a small marketplace ---------------------------------------------------------------------------
def _offering(w: World, offering_type: str = "Marketplace.Basic") -> Any:
    from chalicelib.services import customers
    from tests.marketplace_helpers import make_offering

    provider = customers.create_customer(w.ctx, {"name": "Cloud"})
    plans = ({"name": "Small", "unit": "month", "unit_price": "1"}, {"name": "Large", "unit": "month"})
    options = {"delay_seconds": 0} if offering_type == "Cirrus.Demo" else {}
    return make_offering(w.staff, provider.id, offering_type, plans=plans, plugin_options=options)


def _request(w: World, offering: Any) -> Any:
    from chalicelib.services.orders import OrderRequest

    return OrderRequest(
        project=w.project.id,
        offering=offering.id,
        plan=offering.plans[0].id,
        attributes={"name": "vm-1"},
        limits={"cpu": 2},
    )


def _place(w: World, offering: Any, by_member: bool = False) -> Any:
    from chalicelib.services import orders

    if not by_member:
        return orders.create_order(w.ctx, _request(w, offering))
    w.grant(w.alice, "PROJECT.MEMBER", w.project_scope())
    return orders.create_order(w.acting(w.alice), _request(w, offering))


def pending_consumer(w: World) -> Any:
    return _place(w, _offering(w), by_member=True)


def pending_provider(w: World) -> Any:
    return _place(w, _offering(w))


def executing(w: World) -> Any:
    from chalicelib.services import orders

    return orders.approve_by_provider(w.ctx, pending_provider(w).id)


def executing_demo(w: World) -> Any:
    return _place(w, _offering(w, "Cirrus.Demo"))  # no review: executing at once


def erred(w: World) -> Any:
    from chalicelib.services import orders

    return orders.set_state_erred(w.ctx, executing(w).id, "boom")


def live_resource(w: World) -> Any:
    """An OK resource (its Create order done)."""
    from chalicelib.services import orders
    from chalicelib.store import resources

    order = orders.set_state_done(w.ctx, executing(w).id)
    return resources.load(order.customer_id, order.project_id, order.resource_id)


def _executing_change(change: Callable[[World, Any], Any]) -> Callable[[World], Any]:
    """An executing Update or Terminate order of a live resource."""

    def setup(w: World) -> Any:
        from chalicelib.services import orders

        return orders.approve_by_provider(w.ctx, change(w, live_resource(w)).id)

    return setup


def _pending_change(change: Callable[[World, Any], Any]) -> Callable[[World], Any]:
    return lambda w: change(w, live_resource(w))


def _limits(w: World, resource: Any) -> Any:
    from chalicelib.services import resources

    return resources.update_limits(w.ctx, resource.id, {"cpu": 4})


def _plan(w: World, resource: Any) -> Any:
    from chalicelib.services import offerings, resources

    other = offerings.get_offering(resource.offering_id).plans[1]
    return resources.switch_plan(w.ctx, resource.id, other.id)


def _termination(w: World, resource: Any) -> Any:
    from chalicelib.services import resources

    return resources.terminate(w.ctx, resource.id)


# --- expected fields ---------------------------------------------------------------------------------
def order_fields(w: World, order: Any) -> dict[str, str]:
    return {
        "order_uuid": order.id,
        "resource_uuid": order.resource_id,
        "offering_uuid": order.offering_id,
        "project_uuid": w.project.id,
        "project_name": "Apollo",
        "customer_uuid": w.customer.id,
        "customer_name": "Acme",
    }


def resource_fields(w: World, resource_id: str) -> dict[str, str]:
    return {
        "resource_uuid": resource_id,
        "resource_name": "vm-1",
        "project_uuid": w.project.id,
        "customer_uuid": w.customer.id,
    }


def _both(w: World, order: Any, resource_event: str, order_event: str) -> Fields:
    return {order_event: order_fields(w, order), resource_event: resource_fields(w, order.resource_id)}


# --- the commands' acts ------------------------------------------------------------------------------
def create_order(w: World, offering: Any) -> Fields:
    order = _place(w, offering)
    return _both(w, order, "marketplace_resource_create_requested", "marketplace_order_created")


def place_resource_order(w: World, resource: Any) -> Fields:
    from chalicelib.domain.vocabulary import OrderType
    from chalicelib.services import orders

    order = orders.place_resource_order(w.ctx, resource, OrderType.TERMINATE)
    return _both(w, order, "marketplace_resource_terminate_requested", "marketplace_order_created")


def _order_act(command: str, *args: Any) -> Callable[[World, Any], Fields]:
    def act(w: World, order: Any) -> Fields:
        from chalicelib.services import orders

        after = getattr(orders, command)(w.ctx, order.id, *args)
        return {"marketplace_order_approved": order_fields(w, after)}

    return act


def _refusal(command: str, order_event: str, resource_event: str) -> Callable[[World, Any], Fields]:
    def act(w: World, order: Any) -> Fields:
        from chalicelib.services import orders

        getattr(orders, command)(w.ctx, order.id)
        return _both(w, order, resource_event, order_event)

    return act


def expire_order(w: World, order: Any) -> Fields:
    from chalicelib.services import orders

    orders.expire_order(w.ctx, order.customer_id, order.id)
    return _both(w, order, "marketplace_resource_create_canceled", "marketplace_order_terminated")


def _outcome(
    command: str, resource_event: str, order_event: str, *args: Any
) -> Callable[[World, Any], Fields]:
    def act(w: World, order: Any) -> Fields:
        from chalicelib.services import orders

        getattr(orders, command)(w.ctx, order.id, *args)
        return _both(w, order, resource_event, order_event)

    return act


def complete_processed(w: World, order: Any) -> Fields:
    from chalicelib.services import orders

    orders.complete_processed(w.ctx, order.customer_id, order.id, "backend-1")
    return _both(w, order, "marketplace_resource_create_succeeded", "marketplace_order_completed")


def fail_executing(w: World, order: Any) -> Fields:
    from chalicelib.services import orders

    orders.fail_executing(w.ctx, order.customer_id, order.id, "timed out")
    return _both(w, order, "marketplace_resource_create_failed", "marketplace_order_failed")


def start_workflow(w: World, order: Any) -> None:
    from chalicelib.services import effects, order_lifecycle

    effects.execute(order_lifecycle.start(w.ctx, order))


def recheck(w: World, order: Any) -> Fields:
    from chalicelib.workflows import order_workflow

    order_workflow.recheck(w.ctx, {"id": order.id, "customer_id": order.customer_id}, "consumer")
    return _both(w, order, "marketplace_resource_create_canceled", "marketplace_order_terminated")


def process(w: World, order: Any) -> Fields:
    from chalicelib.workflows import order_workflow

    order_workflow.process(w.ctx, {"id": order.id, "customer_id": order.customer_id}, 0, lambda: None)
    return _both(w, order, "marketplace_resource_create_succeeded", "marketplace_order_completed")


def give_up(w: World, order: Any) -> Fields:
    from chalicelib.workflows import order_workflow

    ref = {"id": order.id, "customer_id": order.customer_id}
    order_workflow.give_up(w.ctx, ref, {"Error": "States.Timeout"})
    return _both(w, order, "marketplace_resource_create_failed", "marketplace_order_failed")


def _resource_order(command: str, requested: str, *args: Any) -> Callable[[World, Any], Fields]:
    def act(w: World, resource: Any) -> Fields:
        from chalicelib.services import resources

        arguments = [a(w, resource) if callable(a) else a for a in args]
        order = getattr(resources, command)(w.ctx, resource.id, *arguments)
        return _both(w, order, requested, "marketplace_order_created")

    return act


def _other_plan(w: World, resource: Any) -> str:
    from chalicelib.services import offerings

    return str(offerings.get_offering(resource.offering_id).plans[1].id)


def _usage_report(w: World, resource: Any) -> None:
    from decimal import Decimal

    from chalicelib.domain.usages import UsageReport
    from chalicelib.services import usages

    usages.set_usage(w.ctx, [UsageReport("cpu", Decimal("3.00"))], resource=resource.id)


def _report(command: str, *args: Any) -> Callable[[World, Any], None]:
    def act(w: World, resource: Any) -> None:
        from chalicelib.services import resources

        getattr(resources, command)(w.ctx, resource.id, *args)

    return act


def _resource_change(command: str, event_type: str, *args: Any) -> Callable[[World, Any], Fields]:
    def act(w: World, resource: Any) -> Fields:
        from chalicelib.services import resources

        getattr(resources, command)(w.ctx, resource.id, *args)
        return {event_type: resource_fields(w, resource.id)}

    return act


def _resource_update(w: World, resource: Any) -> Fields:
    from chalicelib.services import resources

    resources.update(w.ctx, resource.id, {"name": "vm-2"}, False)
    return {
        "marketplace_resource_update_succeeded": {**resource_fields(w, resource.id), "resource_name": "vm-2"}
    }


def _resource_end_date(w: World, resource: Any) -> Fields:
    from datetime import date, timedelta

    from chalicelib.services import resources

    resources.update(w.ctx, resource.id, {"end_date": date.today() + timedelta(days=30)}, False)
    return {"marketplace_resource_update_end_date_succeeded": resource_fields(w, resource.id)}


def _resource_ending(w: World) -> Any:
    """A live resource with an end date (set_end_date clears it)."""
    from datetime import date, timedelta

    from chalicelib.services import resources

    resource = live_resource(w)
    return resources.set_end_date(w.ctx, resource.id, date.today() + timedelta(days=30), "consumer")


def set_customer_limits(w: World, _: Any) -> Fields:
    from chalicelib.services import quotas
    from tests.outbox_commands import customer_fields

    quotas.set_customer_limits(w.ctx, w.customer.id, {"nc_resource_count": 10})
    return {"customer_update_succeeded": customer_fields(w.customer)}


def set_project_limits(w: World, _: Any) -> Fields:
    from chalicelib.services import quotas
    from tests.outbox_commands import project_fields

    quotas.set_project_limits(w.ctx, w.project.id, {"nc_resource_count": 10})
    return {"project_update_succeeded": project_fields(w.project)}


# --- billing ---------------------------------------------------------------------------------------------
# The month's invoice is made on first use, before the transaction of the change that bills it (a
# conditional put, so racing writers make one; Waldur's get_or_create logs nothing), with its number
# from a counter; the items themselves go in the change's transaction.
INVOICE_MADE = {
    "CUST/INVOICE": "the month's invoice, made on first use (ensure_invoice; Waldur logs nothing)",
    "counter": "invoice numbers",
}
MADE_AND_BILLED = {**TOKEN, **INVOICE_MADE}  # a resource made: the first item of its month
RUN_WRITES = {
    "CUST/INVOICE": "the new month's invoice and its carried items (Waldur logs no pending invoice)",
    "counter": "invoice numbers",
}
REFERENCES = {"CUST/INVOICE": "an invoice's backend id, payment URL, reference number (Waldur logs none)"}


def _next_month() -> tuple[int, int]:
    from chalicelib.domain import money
    from chalicelib.domain.clock import utcnow

    now = utcnow()
    return money.next_month(now.year, now.month)


def pending_invoice(w: World) -> Any:
    from chalicelib.domain.clock import utcnow
    from chalicelib.services import billing

    now = utcnow()
    return billing.ensure_invoice(w.customer.id, now.year, now.month)


def issued_invoice(w: World) -> Any:
    """This month's invoice, issued by next month's run (which writes its invoice_created)."""
    from chalicelib.services import billing

    invoice = pending_invoice(w)
    billing.run_month(w.ctx, *_next_month(), [w.customer.id])
    return invoice


def billed_item(w: World) -> Any:
    """The cpu limit item of a live resource (its invoice pending)."""
    from chalicelib.store import invoices

    resource = live_resource(w)
    [item] = invoices.items_of(resource.customer_id, resource.created.year, resource.created.month)
    return item


def invoice_fields(w: World, invoice: Any) -> dict[str, str]:
    return {"invoice_uuid": invoice.id, "customer_uuid": w.customer.id, "customer_name": "Acme"}


def item_fields(w: World, item: Any) -> dict[str, str]:
    return {
        "invoice_item_uuid": item.id,
        "resource_uuid": item.resource_id,
        "project_uuid": w.project.id,
        "customer_uuid": w.customer.id,
    }


def run_month(w: World, invoice: Any) -> Fields:
    from chalicelib.services import billing

    billing.run_month(w.ctx, *_next_month(), [w.customer.id])
    return {"invoice_created": invoice_fields(w, invoice)}


def set_paid(w: World, invoice: Any) -> Fields:
    from chalicelib.services import invoices

    invoices.set_paid(w.ctx, invoice.id)
    return {"invoice_paid": invoice_fields(w, invoice)}


def set_references(w: World, invoice: Any) -> None:
    from chalicelib.services import invoices

    invoices.set_references(w.ctx, invoice.id, {"backend_id": "SAP-1"})


def update_item(w: World, item: Any) -> Fields:
    from decimal import Decimal

    from chalicelib.services import invoices

    invoices.update_item(w.ctx, item.id, {"unit_price": Decimal("3")})
    return {"invoice_item_updated": item_fields(w, item)}


def delete_item(w: World, item: Any) -> Fields:
    from chalicelib.services import invoices

    invoices.delete_item(w.ctx, item.id)
    return {"invoice_item_deleted": item_fields(w, item)}


# --- the table ---------------------------------------------------------------------------------------
CREATE_REFUSED = ("marketplace_order_terminated", "marketplace_resource_create_canceled")
DONE = "marketplace_order_completed"
FAILED = "marketplace_order_failed"


def _done(
    label: str, setup: Callable[[World], Any], resource_event: str, outside: dict[str, str] = TOKEN
) -> Case:
    act = _outcome("set_state_done", resource_event, DONE)
    return Case(act, (DONE, resource_event), setup=setup, outside=outside, label=label)


def _failed(label: str, setup: Callable[[World], Any], resource_event: str) -> Case:
    act = _outcome("set_state_erred", resource_event, FAILED, "boom")
    return Case(act, (FAILED, resource_event), setup=setup, outside=TOKEN, label=label)


def _rejected(label: str, setup: Callable[[World], Any], resource_event: str) -> Case:
    act = _refusal("reject_by_provider", "marketplace_order_rejected", resource_event)
    return Case(act, ("marketplace_order_rejected", resource_event), setup=setup, outside=TOKEN, label=label)


LIMITS_CHANGE = _executing_change(_limits)
PLAN_CHANGE = _executing_change(_plan)
TERMINATION = _executing_change(_termination)
APPROVED = ("marketplace_order_approved",)

MARKETPLACE_COMMANDS: dict[str, Command] = {
    f"{S}quotas.set_customer_limits": emits(Case(set_customer_limits, ("customer_update_succeeded",))),
    f"{S}quotas.set_project_limits": emits(Case(set_project_limits, ("project_update_succeeded",))),
    f"{S}orders.create_order": emits(
        Case(
            create_order,
            ("marketplace_order_created", "marketplace_resource_create_requested"),
            setup=_offering,
            outside=SLUG_NUMBER,
        )
    ),
    f"{S}orders.place_resource_order": emits(
        Case(
            place_resource_order,
            ("marketplace_order_created", "marketplace_resource_terminate_requested"),
            setup=live_resource,
        )
    ),
    f"{S}orders.approve_by_consumer": emits(
        Case(_order_act("approve_by_consumer"), APPROVED, setup=pending_consumer, outside=TOKEN)
    ),
    f"{S}orders.approve_by_provider": emits(
        Case(_order_act("approve_by_provider"), APPROVED, setup=pending_provider, outside=TOKEN)
    ),
    f"{S}orders.set_state_executing": emits(
        Case(
            _order_act("set_state_executing"),
            APPROVED,
            setup=pending_provider,
            outside=TOKEN,
            label="pending",
        ),
        Case(_order_act("set_state_executing"), APPROVED, setup=erred, outside=TOKEN, label="retry"),
    ),
    f"{S}orders.reject_by_consumer": emits(
        Case(
            _refusal(
                "reject_by_consumer", "marketplace_order_rejected", "marketplace_resource_create_canceled"
            ),
            ("marketplace_order_rejected", "marketplace_resource_create_canceled"),
            setup=pending_consumer,
            outside=TOKEN,
        )
    ),
    f"{S}orders.reject_by_provider": emits(
        _rejected("create", pending_provider, "marketplace_resource_create_canceled"),
        _rejected("update", _pending_change(_limits), "marketplace_resource_update_canceled"),
        _rejected("terminate", _pending_change(_termination), "marketplace_resource_terminate_canceled"),
    ),
    f"{S}orders.cancel_order": emits(
        Case(
            _refusal("cancel_order", *CREATE_REFUSED),
            CREATE_REFUSED,
            setup=pending_consumer,
            outside=TOKEN,
        )
    ),
    f"{S}orders.delete_order": emits(
        Case(_refusal("delete_order", *CREATE_REFUSED), CREATE_REFUSED, setup=pending_consumer, outside=TOKEN)
    ),
    f"{S}orders.expire_order": emits(
        Case(expire_order, CREATE_REFUSED, setup=pending_consumer, outside=TOKEN)
    ),
    f"{S}orders.set_state_done": emits(
        _done("create", executing, "marketplace_resource_create_succeeded", MADE_AND_BILLED),
        _done("limits", LIMITS_CHANGE, "marketplace_resource_update_limits_succeeded"),
        _done("plan", PLAN_CHANGE, "marketplace_resource_update_succeeded"),
        _done("terminate", TERMINATION, "marketplace_resource_terminate_succeeded"),
    ),
    f"{S}orders.set_state_erred": emits(
        _failed("create", executing, "marketplace_resource_create_failed"),
        _failed("limits", LIMITS_CHANGE, "marketplace_resource_update_limits_failed"),
        _failed("plan", PLAN_CHANGE, "marketplace_resource_update_failed"),
        _failed("terminate", TERMINATION, "marketplace_resource_terminate_failed"),
    ),
    f"{S}orders.complete_processed": emits(
        Case(
            complete_processed,
            (DONE, "marketplace_resource_create_succeeded"),
            setup=executing,
            outside=MADE_AND_BILLED,
        )
    ),
    f"{S}orders.fail_executing": emits(
        Case(fail_executing, (FAILED, "marketplace_resource_create_failed"), setup=executing, outside=TOKEN)
    ),
    f"{S}order_lifecycle.start": no_event(
        "plans the start of the order's workflow (run here: it starts, or queues the start); writes nothing",
        Case(start_workflow, (), setup=pending_provider),
    ),
    f"{W}order_workflow.recheck": emits(
        Case(recheck, CREATE_REFUSED, setup=pending_consumer, outside=TOKEN, label="approval timed out")
    ),
    f"{W}order_workflow.process": emits(
        Case(
            process,
            (DONE, "marketplace_resource_create_succeeded"),
            setup=executing_demo,
            outside=MADE_AND_BILLED,
        )
    ),
    f"{W}order_workflow.give_up": emits(
        Case(give_up, (FAILED, "marketplace_resource_create_failed"), setup=executing, outside=TOKEN)
    ),
    f"{S}resources.terminate": emits(
        Case(
            _resource_order("terminate", "marketplace_resource_terminate_requested"),
            ("marketplace_order_created", "marketplace_resource_terminate_requested"),
            setup=live_resource,
        )
    ),
    f"{S}resources.update_limits": emits(
        Case(
            _resource_order("update_limits", "marketplace_resource_update_requested", {"cpu": 8}),
            ("marketplace_order_created", "marketplace_resource_update_requested"),
            setup=live_resource,
        )
    ),
    f"{S}resources.switch_plan": emits(
        Case(
            _resource_order("switch_plan", "marketplace_resource_update_requested", _other_plan),
            ("marketplace_order_created", "marketplace_resource_update_requested"),
            setup=live_resource,
        )
    ),
    f"{S}resources.set_limits": emits(
        Case(
            _resource_change("set_limits", "marketplace_resource_update_limits_succeeded", {"cpu": 3}),
            ("marketplace_resource_update_limits_succeeded",),
            setup=live_resource,
        )
    ),
    f"{S}resources.set_as_erred": emits(
        Case(
            _resource_change("set_as_erred", "marketplace_resource_erred_on_backend", "disk failed"),
            ("marketplace_resource_erred_on_backend",),
            setup=live_resource,
        )
    ),
    f"{S}resources.set_as_ok": emits(
        Case(
            _resource_change("set_as_ok", "marketplace_resource_update_succeeded"),
            ("marketplace_resource_update_succeeded",),
            setup=live_resource,
        )
    ),
    f"{S}resources.update": emits(
        Case(_resource_update, ("marketplace_resource_update_succeeded",), setup=live_resource, label="name"),
        Case(
            _resource_end_date,
            ("marketplace_resource_update_end_date_succeeded",),
            setup=live_resource,
            label="end date",
        ),
    ),
    f"{S}resources.set_end_date": emits(
        Case(
            _resource_change(
                "set_end_date", "marketplace_resource_update_end_date_succeeded", None, "consumer"
            ),
            ("marketplace_resource_update_end_date_succeeded",),
            setup=_resource_ending,
        )
    ),
    f"{S}resources.set_slug": no_event(
        "Waldur only logs a slug change (no event type)",
        Case(
            _report("set_slug", "vm-one", False),
            (),
            setup=live_resource,
            outside={"CUST/RES": "the new slug", "SLUG/": "the slugs' uniqueness guards"},
        ),
    ),
    f"{S}resources.update_options": no_event(
        "Cirrus's offerings define no resource options: always Waldur's 400, nothing changes",
    ),
    f"{S}resources.set_backend_id": no_event(
        PROVIDER_REPORT["CUST/RES"],
        Case(_report("set_backend_id", "vm-42"), (), setup=live_resource, outside=PROVIDER_REPORT),
    ),
    f"{S}resources.set_backend_metadata": no_event(
        PROVIDER_REPORT["CUST/RES"],
        Case(
            _report("set_backend_metadata", {"state": "ACTIVE"}),
            (),
            setup=live_resource,
            outside=PROVIDER_REPORT,
        ),
    ),
    f"{S}resources.refresh_last_sync": no_event(
        PROVIDER_REPORT["CUST/RES"],
        Case(_report("refresh_last_sync"), (), setup=live_resource, outside=PROVIDER_REPORT),
    ),
    f"{S}resources.submit_report": no_event(
        PROVIDER_REPORT["CUST/RES"],
        Case(
            _report("submit_report", [{"header": "Access", "body": "ssh vm-1"}]),
            (),
            setup=live_resource,
            outside=PROVIDER_REPORT,
        ),
    ),
    f"{S}billing.run_month": emits(
        Case(run_month, ("invoice_created",), setup=pending_invoice, outside=RUN_WRITES, label="issues")
    ),
    f"{S}invoices.set_paid": emits(Case(set_paid, ("invoice_paid",), setup=issued_invoice)),
    f"{S}invoices.set_references": no_event(
        REFERENCES["CUST/INVOICE"], Case(set_references, (), setup=pending_invoice, outside=REFERENCES)
    ),
    f"{S}invoices.update_item": emits(Case(update_item, ("invoice_item_updated",), setup=billed_item)),
    f"{S}invoices.delete_item": emits(Case(delete_item, ("invoice_item_deleted",), setup=billed_item)),
    f"{S}usages.set_usage": no_event(
        USAGE_REPORT["CUST/USAGE"],
        Case(_usage_report, (), setup=live_resource, outside=USAGE_REPORT),
    ),
}
