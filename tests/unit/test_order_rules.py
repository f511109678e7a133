"""Order and resource rules without AWS: Waldur's auto-approval, the transition tables and their
409 messages, what each order outcome does to its resource, and the event types each writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import orders, resources
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.events import EVENT_GROUPS
from chalicelib.domain.orders import Actor, Order
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import BillingType, Component, OrderState, OrderType, Plan, ResourceState

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
ALICE = Actor("a" * 32, "alice", "Alice")


def an_order(
    state: OrderState = OrderState.PENDING_CONSUMER, type_: OrderType = OrderType.CREATE, **kw
) -> Order:
    return Order(
        id="1" * 32, type=type_, state=state, customer_id="c", project_id="p", offering_id="o",
        provider_id="s", resource_id="r", created=NOW, modified=NOW, **kw,
    )  # fmt: skip


def a_resource(state: ResourceState = ResourceState.OK, **kw) -> Resource:
    return Resource(
        id="r", name="vm", state=state, customer_id="c", project_id="p", offering_id="o", provider_id="s",
        created=NOW, modified=NOW, **kw,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("consumer_ok", "review", "state"),
    [
        (False, True, OrderState.PENDING_CONSUMER),
        (False, False, OrderState.PENDING_CONSUMER),
        (True, True, OrderState.PENDING_PROVIDER),
        (True, False, OrderState.EXECUTING),
    ],
)
def test_an_order_skips_the_approvals_waldur_skips(consumer_ok, review, state):
    assert orders.initial_state(consumer_ok, review) is state


def test_the_consumers_approval_leads_to_the_provider_or_straight_to_execution():
    reviewed = orders.approve_by_consumer(an_order(), ALICE, NOW, provider_review=True)
    assert reviewed.state is OrderState.PENDING_PROVIDER
    assert (reviewed.consumer_reviewed_by, reviewed.consumer_reviewed_at) == (ALICE, NOW)
    assert (
        orders.approve_by_consumer(an_order(), ALICE, NOW, provider_review=False).state
        is OrderState.EXECUTING
    )


def test_an_action_from_a_state_it_does_not_start_from_is_waldurs_409():
    with pytest.raises(Conflict) as exc:
        orders.approve_by_consumer(an_order(OrderState.EXECUTING), ALICE, NOW, provider_review=True)
    assert exc.value.detail == "Valid states for operation: pending-consumer."
    with pytest.raises(Conflict) as exc:
        orders.cancel(an_order(OrderState.DONE), NOW)
    assert (
        exc.value.detail == "Valid states for operation: pending-consumer, pending-provider, pending-project."
    )


def test_a_retry_of_an_erred_order_is_a_new_execution_and_forgets_the_error():
    failed = orders.fail(an_order(OrderState.EXECUTING), NOW, "disk full", "trace")
    assert (failed.state, failed.error_message, failed.error_traceback) == (
        OrderState.ERRED,
        "disk full",
        "trace",
    )
    retried = orders.set_executing(failed, NOW)
    assert (retried.state, retried.error_message, retried.executions) == (OrderState.EXECUTING, "", 2)
    assert retried.execution_name == f"{'1' * 32}-2"
    assert an_order().execution_name == "1" * 32


def test_limits_are_whole_non_negative_amounts():
    assert orders.check_limits({"cpu": 4}) == {"cpu": 4}
    for bad in ({"cpu": -1}, {"cpu": 1.5}, {"cpu": "4"}, {"cpu": True}):
        with pytest.raises(ValidationError):
            orders.check_limits(bad)


def _component(kind: str, billing_type: BillingType) -> Component:
    return Component(id=kind, type=kind, name=kind, billing_type=billing_type)


def test_the_cost_is_the_plans_price_plus_its_limit_prices_and_the_one_time_charges():
    """Waldur's Order.init_cost, with the figures of its tests: limits only count limit-based
    components; a creation adds the one-time charges, a plan switch the plan-switch charges."""
    components = (
        _component("cpu", BillingType.LIMIT),
        _component("ram", BillingType.LIMIT),
        _component("ip", BillingType.FIXED),
        _component("setup", BillingType.ONE),
        _component("move", BillingType.FEW),
    )
    prices = {"cpu": Decimal("2"), "ram": Decimal("10"), "ip": Decimal("7"), "setup": Decimal("50"),
              "move": Decimal("3")}  # fmt: skip
    plan = Plan(id="p", offering_id="o", name="Std", unit_price=Decimal("5"), prices=prices)
    limits = {"cpu": 50, "ram": 100, "ip": 4}

    assert orders.estimate_cost(plan, limits, components[:3], OrderType.CREATE) == Decimal("1105.00")
    assert orders.estimate_cost(plan, limits, components, OrderType.CREATE) == Decimal("1155.00")
    assert orders.estimate_cost(plan, limits, components, OrderType.UPDATE) == Decimal("1108.00")
    assert orders.estimate_cost(plan, limits, components, OrderType.TERMINATE) == Decimal("1105.00")
    fixed_only = Plan(id="f", offering_id="o", name="Fixed", prices={"ip": Decimal("7")})
    assert orders.estimate_cost(fixed_only, {"ip": 4}, components) == Decimal("0.00")
    assert orders.estimate_cost(None, {"cpu": 4}, components) is None
    assert (orders.init_price(plan, components), orders.switch_price(plan, components)) == (50, 3)


# --- resources ---------------------------------------------------------------------------------------
def test_resource_actions_run_from_their_states_only_and_one_order_at_a_time():
    with pytest.raises(Conflict) as exc:
        resources.require_action(a_resource(ResourceState.CREATING), "terminate")
    assert exc.value.detail == "Valid states for operation: OK, Erred."
    with pytest.raises(Conflict) as exc:
        resources.require_action(a_resource(ResourceState.ERRED), "update_limits")
    assert exc.value.detail == "Valid states for operation: OK."
    with pytest.raises(ValidationError) as exc:
        resources.require_action(a_resource(order_in_progress_id="x"), "terminate")
    assert exc.value.errors == ["Pending order for resource already exists."]
    resources.require_action(a_resource(ResourceState.ERRED), "terminate")


def test_a_done_update_applies_its_limits_and_plan_and_a_done_termination_ends_the_count():
    update = an_order(OrderState.DONE, OrderType.UPDATE, limits={"cpu": 8}, plan_id="p2", plan_name="Large")
    updated = resources.order_done(a_resource(ResourceState.UPDATING, order_in_progress_id="1"), update, NOW)
    assert (updated.state, dict(updated.limits), updated.plan_id, updated.order_in_progress_id) == (
        ResourceState.OK, {"cpu": 8}, "p2", None,
    )  # fmt: skip
    terminated = resources.order_done(a_resource(), an_order(OrderState.DONE, OrderType.TERMINATE), NOW)
    assert terminated.state is ResourceState.TERMINATED and not terminated.counted
    assert terminated.end_date == NOW.date()


def test_a_refused_order_leaves_an_existing_resource_as_it_was_and_ends_one_never_made():
    created = resources.order_refused(a_resource(ResourceState.CREATING), an_order(), NOW)
    assert created.state is ResourceState.TERMINATED and not created.counted
    kept = resources.order_refused(a_resource(), an_order(type_=OrderType.TERMINATE), NOW)
    assert kept.state is ResourceState.OK and kept.counted
    still_erred = resources.order_refused(
        a_resource(ResourceState.ERRED), an_order(type_=OrderType.TERMINATE), NOW
    )
    assert still_erred.state is ResourceState.ERRED and still_erred.order_in_progress_id is None


def test_a_failed_order_errs_its_resource_with_the_orders_error():
    failed = replace(an_order(OrderState.ERRED), error_message="quota on the provider side")
    erred = resources.order_failed(a_resource(ResourceState.CREATING), failed, NOW)
    assert (erred.state, erred.error_message) == (ResourceState.ERRED, "quota on the provider side")
    assert erred.counted  # an erred resource still exists, and still counts


def test_each_outcome_names_waldurs_event_type():
    limits = an_order(type_=OrderType.UPDATE, plan_id="p", old_plan_id="p")
    plan = an_order(type_=OrderType.UPDATE, plan_id="p2", old_plan_id="p")
    assert resources.succeeded_event(limits) == "marketplace_resource_update_limits_succeeded"
    assert resources.succeeded_event(plan) == "marketplace_resource_update_succeeded"
    assert (
        resources.failed_event(an_order(type_=OrderType.TERMINATE)) == "marketplace_resource_terminate_failed"
    )
    assert resources.canceled_event(an_order()) == "marketplace_resource_create_canceled"


def test_the_resources_group_holds_every_order_resource_and_robot_account_event_type():
    from chalicelib.domain import robot_accounts

    assert set(EVENT_GROUPS["resources"]) == set(orders.ORDER_EVENT_TYPES) | set(
        resources.RESOURCE_EVENT_TYPES
    ) | set(robot_accounts.EVENT_TYPES)


def test_a_report_is_a_list_of_header_and_body_sections():
    assert resources.check_report([{"header": "Access", "body": "ssh"}]) == [
        {"header": "Access", "body": "ssh"}
    ]
    for bad in ([], "text", [{"title": "x"}], [{"header": 1}]):
        with pytest.raises(ValidationError):
            resources.check_report(bad)


def test_only_a_transaction_cancelled_for_contention_is_sent_again():
    from types import SimpleNamespace

    from chalicelib.store.unit_of_work import _only_contended

    def cancelled(*codes: str | None, cause: str = "TransactionCanceledException") -> object:
        reasons = [SimpleNamespace(code=c) if c else None for c in codes]
        return SimpleNamespace(cancellation_reasons=reasons, cause_response_code=cause)

    assert _only_contended(cancelled(None, "TransactionConflict", None))  # type: ignore[arg-type]
    assert not _only_contended(cancelled("ConditionalCheckFailed", "TransactionConflict"))  # type: ignore[arg-type]
    assert not _only_contended(cancelled("ConditionalCheckFailed"))  # type: ignore[arg-type]
    assert _only_contended(cancelled(cause="TransactionConflictException"))  # type: ignore[arg-type]
