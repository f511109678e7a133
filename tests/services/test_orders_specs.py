"""Orders, resources and usages, specified on the in-memory fakes of every port (no AWS): placing
Create, Update and Terminate orders against quotas and limits, approval and rejection on either
side, cancellation, Idempotency-Key replays and reuse, the resource's state after each outcome,
usage reports and their limits, and what each role sees in the lists. What a unit of work asks of
the workflows is read from `world.effects` (StartWorkflow, AnswerCallback), never run.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict, NotFound, PermissionDenied, Unprocessable, ValidationError
from chalicelib.domain.request_keys import KeyUse
from chalicelib.domain.usages import UsageReport
from chalicelib.domain.vocabulary import OrderState, ResourceState
from chalicelib.services import ports
from chalicelib.services.effects import AnswerCallback, StartWorkflow
from chalicelib.services.paging import Ordering, PageRequest
from tests.fakes import World
from tests.marketplace_helpers import (
    CPU,
    DEMO,
    PLAN,
    Market,
    build_market,
    ctx_of,
    make_offering,
    order_request,
)

STORAGE = {
    "type": "storage",
    "name": "Storage",
    "measured_unit": "GB",
    "billing_type": "usage",
    "limit_period": "month",
    "limit_amount": 10,
}


@pytest.fixture
def market(fakes: World) -> Market:
    from tests.conftest import make_account

    return build_market(make_account("staff", is_staff=True))


def _place(market: Market, who: Any, **overrides: Any) -> Any:
    from chalicelib.services import orders

    return orders.create_order(ctx_of(who), order_request(market, **overrides))


def _resource(order: Any) -> Any:
    return ports.resources.get(order.resource_id)


def _resource_counts(market: Market) -> tuple[int, int]:
    customer = ports.customers.get(market.consumer.id)
    project = ports.projects.get(market.project.id)
    assert customer is not None and project is not None
    return customer.quota_usage["nc_resource_count"], project.quota_usage["nc_resource_count"]


def _answers(world: World) -> list[str]:
    return [e.key for e in world.effects if isinstance(e, AnswerCallback)]


def _starts(world: World) -> list[str]:
    return [e.name for e in world.effects if isinstance(e, StartWorkflow)]


# --- placing ----------------------------------------------------------------------------------------
def test_a_create_order_makes_its_resource_counts_it_and_starts_its_workflow(
    fakes: World, market: Market
) -> None:
    order = _place(market, market.member)
    assert order.state is OrderState.PENDING_CONSUMER and order.version == 1
    resource = _resource(order)
    assert (resource.state, resource.name, resource.creation_order_id) == (
        ResourceState.CREATING,
        "vm-1",
        order.id,
    )
    assert dict(resource.limits) == {"cpu": 2} and resource.order_in_progress_id == order.id
    assert _resource_counts(market) == (1, 1)
    assert _starts(fakes) == [order.id]
    assert [e.event_type for e in fakes.events[-2:]] == [
        "marketplace_order_created",
        "marketplace_resource_create_requested",
    ]


def test_who_places_decides_where_the_order_starts(market: Market) -> None:
    assert _place(market, market.owner).state is OrderState.PENDING_PROVIDER  # approver; Basic is reviewed
    demo = make_offering(market.staff, market.provider.id, DEMO, name="Demo")
    executing = _place(market, market.owner, offering=demo)
    assert executing.state is OrderState.EXECUTING  # no provider review
    assert executing.cost == Decimal("14.00")  # 10 a month + 2 cpu x 2


def test_an_order_over_the_projects_resource_quota_is_refused_and_leaves_nothing(
    fakes: World, market: Market
) -> None:
    from chalicelib.domain.errors import QuotaExceeded
    from chalicelib.services import quotas

    quotas.set_project_limits(ctx_of(market.staff), market.project.id, {"nc_resource_count": 1})
    _place(market, market.member)
    events, effects = len(fakes.events), len(fakes.effects)
    with pytest.raises(QuotaExceeded):
        _place(market, market.member, attributes={"name": "vm-2"})
    assert (len(fakes.events), len(fakes.effects)) == (events, effects)
    assert _resource_counts(market) == (1, 1)
    assert len(ports.orders.read([ports.Source.consumer(market.consumer.id)], bounded=False)) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"limits": {"cpu": -1}}, "limits"), ({"type": "Terminate"}, "type"), ({"plan": None}, "plan")],
)
def test_bad_orders_are_refused_and_change_nothing(
    fakes: World, market: Market, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _place(market, market.member, **overrides)
    assert isinstance(refused.value.errors, dict) and field in refused.value.errors
    assert fakes.tables.get("orders", {}) == {} and _resource_counts(market) == (0, 0)


# --- approvals, rejections, cancellation ---------------------------------------------------------------
def test_the_consumer_then_the_provider_approve_and_the_provider_finishes(
    fakes: World, market: Market
) -> None:
    from chalicelib.services import orders

    order = _place(market, market.member)
    approved = orders.approve_by_consumer(ctx_of(market.owner), order.id)
    assert (
        approved.state is OrderState.PENDING_PROVIDER and approved.consumer_reviewed_by.id == market.owner.id
    )
    executing = orders.approve_by_provider(ctx_of(market.seller), order.id)
    assert executing.state is OrderState.EXECUTING and executing.version == 3
    done = orders.set_state_done(ctx_of(market.seller), order.id)
    assert done.state is OrderState.DONE and done.completed_at is not None
    assert _resource(order).state is ResourceState.OK and _resource(order).order_in_progress_id is None
    assert _answers(fakes) == [
        f"order:{order.id}:consumer",
        f"order:{order.id}:provider",
        f"order:{order.id}:agent",
    ]


def test_each_side_decides_only_its_own_step(market: Market) -> None:
    from chalicelib.services import orders

    order = _place(market, market.member)
    with pytest.raises(PermissionDenied):
        orders.approve_by_consumer(ctx_of(market.member), order.id)  # a member may not approve
    with pytest.raises(Conflict):
        orders.approve_by_provider(ctx_of(market.seller), order.id)  # not the provider's turn yet
    orders.approve_by_consumer(ctx_of(market.owner), order.id)
    with pytest.raises(Conflict) as again:
        orders.approve_by_consumer(ctx_of(market.owner), order.id)
    assert str(again.value) == "Valid states for operation: pending-consumer."


@pytest.mark.parametrize(
    ("refuse", "who", "state"),
    [
        ("reject_by_consumer", "owner", OrderState.REJECTED),
        ("cancel_order", "member", OrderState.CANCELED),  # its creator
    ],
)
def test_a_refused_create_order_terminates_its_resource_and_frees_the_quota(
    fakes: World, market: Market, refuse: str, who: str, state: OrderState
) -> None:
    from chalicelib.services import orders

    order = _place(market, market.member)
    refused = getattr(orders, refuse)(ctx_of(getattr(market, who)), order.id)
    assert refused.state is state
    assert _resource(order).state is ResourceState.TERMINATED and _resource_counts(market) == (0, 0)
    assert _answers(fakes) == [f"order:{order.id}:consumer"]


def test_the_provider_rejects_and_fails_and_an_erred_order_is_retried(fakes: World, market: Market) -> None:
    from chalicelib.services import orders

    rejected = _place(market, market.owner)
    assert orders.reject_by_provider(ctx_of(market.seller), rejected.id).state is OrderState.REJECTED
    order = _place(market, market.owner, attributes={"name": "vm-2"})
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    erred = orders.set_state_erred(ctx_of(market.seller), order.id, "no capacity")
    assert (erred.state, erred.error_message) == (OrderState.ERRED, "no capacity")
    assert (_resource(order).state, _resource(order).error_message) == (ResourceState.ERRED, "no capacity")
    retried = orders.set_state_executing(ctx_of(market.seller), order.id)
    assert (retried.state, retried.error_message) == (OrderState.EXECUTING, "")
    assert _resource(order).state is ResourceState.CREATING
    assert _starts(fakes)[-1] == f"{order.id}-2"  # a new execution


def test_only_a_pending_order_is_deleted(market: Market) -> None:
    from chalicelib.services import orders

    order = _place(market, market.owner)
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    with pytest.raises(Conflict):
        orders.delete_order(ctx_of(market.owner), order.id)
    pending = _place(market, market.member, attributes={"name": "vm-2"})
    orders.delete_order(ctx_of(market.member), pending.id)
    assert ports.orders.get(pending.id) is None and _resource(pending).state is ResourceState.TERMINATED
    with pytest.raises(NotFound):
        orders.get_visible(ctx_of(market.owner).actor, pending.id)


# --- Idempotency-Key ---------------------------------------------------------------------------------
def keyed(ctx: EventContext, key: str, request_hash: str) -> EventContext:
    """`ctx` as the API hands it to a creation sent with an Idempotency-Key."""
    return replace(ctx, request_key=KeyUse(key, request_hash))


def test_a_retry_with_the_same_key_answers_with_the_first_order_and_another_body_is_a_422(
    fakes: World, market: Market
) -> None:
    from chalicelib.services import orders

    ctx = keyed(ctx_of(market.member), "k-1", "same")  # the API hashes the body: same body, same hash
    first = orders.create_order(ctx, order_request(market))
    effects = len(fakes.effects)
    again = orders.create_order(ctx, order_request(market))
    assert again == first and len(fakes.effects) == effects  # nothing placed, nothing started
    with pytest.raises(Unprocessable):
        orders.create_order(keyed(ctx, "k-1", "other"), order_request(market, limits={"cpu": 3}))
    other = orders.create_order(keyed(ctx_of(market.owner), "k-1", "same"), order_request(market))
    assert other.id != first.id  # keys are per user
    assert _resource_counts(market) == (2, 2)


# --- changing a resource by ordering -------------------------------------------------------------------
def _made(market: Market) -> Any:
    from chalicelib.services import orders

    order = _place(market, market.owner)
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    orders.set_state_done(ctx_of(market.seller), order.id)
    return _resource(order)


def test_new_limits_apply_when_their_order_is_done_and_a_refused_change_leaves_the_resource(
    market: Market,
) -> None:
    from chalicelib.services import orders, resources

    resource = _made(market)
    update = resources.update_limits(ctx_of(market.owner), resource.id, {"cpu": 4})
    assert (update.state, dict(update.old_limits), dict(update.limits)) == (
        OrderState.PENDING_PROVIDER,
        {"cpu": 2},
        {"cpu": 4},
    )
    with pytest.raises(ValidationError):  # one open order at a time
        resources.update_limits(ctx_of(market.owner), resource.id, {"cpu": 8})
    orders.reject_by_provider(ctx_of(market.seller), update.id)
    assert _resource(update) == replace(
        resource, modified=_resource(update).modified, version=resource.version + 2
    )
    second = resources.update_limits(ctx_of(market.owner), resource.id, {"cpu": 4})
    orders.approve_by_provider(ctx_of(market.seller), second.id)
    assert _resource(second).state is ResourceState.UPDATING
    orders.set_state_done(ctx_of(market.seller), second.id)
    assert (_resource(second).state, dict(_resource(second).limits)) == (ResourceState.OK, {"cpu": 4})


def test_termination_frees_the_quota_when_done(market: Market) -> None:
    from chalicelib.services import orders, resources

    resource = _made(market)
    with pytest.raises(PermissionDenied):
        resources.terminate(ctx_of(market.member), resource.id)
    order = resources.terminate(ctx_of(market.owner), resource.id)
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    assert _resource(order).state is ResourceState.TERMINATING and _resource_counts(market) == (1, 1)
    orders.set_state_done(ctx_of(market.seller), order.id)
    ended = _resource(order)
    assert ended.state is ResourceState.TERMINATED and ended.end_date is not None
    assert _resource_counts(market) == (0, 0)


# --- usages -------------------------------------------------------------------------------------------
def test_usages_are_reported_by_the_provider_replaced_in_the_period_and_held_to_their_limit(
    market: Market,
) -> None:
    from chalicelib.services import orders, usages

    offering = make_offering(
        market.staff, market.provider.id, name="Storage", components=[CPU, STORAGE], plans=(PLAN,)
    )
    order = _place(market, market.owner, offering=offering)
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    orders.set_state_done(ctx_of(market.seller), order.id)
    report = [UsageReport("storage", Decimal("4"))]
    with pytest.raises(PermissionDenied):
        usages.set_usage(ctx_of(market.owner), report, resource=order.resource_id)
    [first] = usages.set_usage(ctx_of(market.seller), report, resource=order.resource_id)
    [second] = usages.set_usage(
        ctx_of(market.seller), [UsageReport("storage", Decimal("9"))], resource=order.resource_id
    )
    assert (second.id, second.amount, second.version) == (first.id, Decimal("9"), 2)  # replaced, not added
    assert dict(_resource(order).current_usages) == {"storage": "9"}  # this period's report
    with pytest.raises(ValidationError):
        usages.set_usage(
            ctx_of(market.seller), [UsageReport("storage", Decimal("11"))], resource=order.resource_id
        )
    assert ports.usages.get(first.id).amount == Decimal("9")


# --- what each role sees ---------------------------------------------------------------------------------
def test_each_role_sees_its_sides_orders_and_resources(market: Market) -> None:
    from chalicelib.services import market_queries as lists
    from tests.conftest import make_account

    mine = _place(market, market.member)
    other_project = _place(market, market.owner, attributes={"name": "vm-2"})
    outsider = make_account("alice")

    def seen(who: Any, **filters: Any) -> tuple[list[str], int]:
        page = lists.list_orders(
            ctx_of(who).actor, lists.OrderFilters(**filters), Ordering(), PageRequest(1, 10)
        )
        return [o.id for o in page.items], page.total

    both = ([other_project.id, mine.id], 2)  # newest first
    assert seen(market.staff) == both
    assert seen(market.owner) == both and seen(market.member) == both and seen(market.seller) == both
    assert seen(outsider) == ([], 0)
    assert seen(market.owner, can_approve_as_consumer=True) == ([mine.id], 1)
    assert seen(market.seller, can_approve_as_provider=True) == ([other_project.id], 1)
    provider_view = lists.list_resources(
        ctx_of(market.member).actor,
        lists.ResourceFilters(),
        Ordering(),
        PageRequest(1, 10),
        provider_view=True,
    )
    assert provider_view.items == [] and provider_view.total == 0
    by_name = lists.list_resources(
        ctx_of(market.seller).actor,
        lists.ResourceFilters(),
        Ordering("name"),
        PageRequest(1, 1),
        provider_view=True,
    )
    assert ([r.name for r in by_name.items], by_name.total) == (["vm-1"], 2)


# --- metrics ------------------------------------------------------------------------------------------
def test_an_orders_journey_emits_placed_then_done_with_its_time_to_done(market: Market) -> None:
    from datetime import timedelta

    from chalicelib import metrics
    from chalicelib.domain import clock
    from chalicelib.services import orders

    placed_at = clock.utcnow()
    with metrics.capture() as seen:
        clock.set_source(lambda: placed_at)
        try:
            order = _place(market, market.member)
            orders.approve_by_consumer(ctx_of(market.owner), order.id)
            orders.approve_by_provider(ctx_of(market.seller), order.id)
            clock.set_source(lambda: placed_at + timedelta(minutes=3))
            orders.set_state_done(ctx_of(market.seller), order.id)
            with pytest.raises(Conflict):  # done already: a second `set_state_done` changes nothing
                orders.set_state_done(ctx_of(market.seller), order.id)
        finally:
            clock.set_source(None)
    assert seen.names() == ["OrdersPlaced", "OrdersDone", "OrderTimeToDone"]
    assert seen.values("OrderTimeToDone") == [180.0]
    assert {d["order_uuid"] for d in seen} == {order.id}


def test_a_transition_that_loses_its_race_emits_nothing(market: Market) -> None:
    """Two workers finish the same executing order from the same read: one commits and counts."""
    from chalicelib import metrics
    from chalicelib.services import orders

    order = _place(market, market.owner)
    executing = orders.approve_by_provider(ctx_of(market.seller), order.id)
    with metrics.capture() as seen:
        orders._complete(ctx_of(market.seller), executing)
        with pytest.raises(Conflict):
            orders._complete(ctx_of(market.seller), executing)
        with pytest.raises(Conflict):
            orders._fail(ctx_of(market.seller), executing, "late", "")
    assert seen.names() == ["OrdersDone", "OrderTimeToDone"]


def test_erred_orders_are_counted_each_time_they_err_and_a_retry_is_no_new_order(market: Market) -> None:
    from chalicelib import metrics
    from chalicelib.services import orders

    with metrics.capture() as seen:
        order = _place(market, market.owner)
        orders.approve_by_provider(ctx_of(market.seller), order.id)
        orders.set_state_erred(ctx_of(market.seller), order.id, "no capacity")
        orders.set_state_executing(ctx_of(market.seller), order.id)  # the provider retries it
        orders.set_state_erred(ctx_of(market.seller), order.id, "still none")
        rejected = _place(market, market.owner, attributes={"name": "vm-2"})
        orders.reject_by_provider(ctx_of(market.seller), rejected.id)
    assert seen.names() == ["OrdersPlaced", "OrdersErred", "OrdersErred", "OrdersPlaced"]
