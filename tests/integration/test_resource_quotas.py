"""nc_resource_count, enforced atomically: staff set limits; with a limit of 10 and 50 orders placed
at once, exactly 10 resources exist afterwards and the other 40 get Waldur's quota 400, with no
trace of them (no order, resource, event or usage)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.errors import QuotaExceeded
from tests.helpers import call
from tests.marketplace_helpers import ctx_of, order_request

EXCEEDED = ["One or more quotas were exceeded: nc_resource_count quota limit: 10, requires 11"]


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


@pytest.fixture
def atomic_requests(monkeypatch):
    """DynamoDB runs each request atomically; in-process moto does not (a transaction deep-copies the
    table and, when a condition fails, restores the copy over what other threads wrote meanwhile).
    Serialising moto's DynamoDB requests gives the model DynamoDB guarantees, and no more: reads and
    the transaction of one order still interleave with the other orders' requests."""
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def one_at_a_time(self):  # type: ignore[no-untyped-def]
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_at_a_time)


def usage(quotas, name="nc_resource_count"):
    return next((q["usage"], q["limit"]) for q in quotas if q["name"] == name)


def test_staff_set_limits_and_nobody_else(client, market):
    path = f"/api/projects/{market.project.id}/set_quotas/"
    reply = call(client, "POST", path, market.staff, {"quotas": {"nc_resource_count": 3}})
    assert reply.status == 200 and usage(reply.json["quotas"]) == (0, 3)
    assert call(client, "POST", path, market.owner, {"quotas": {"nc_resource_count": 30}}).status == 403
    customer = f"/api/customers/{market.consumer.id}/set_quotas/"
    reply = call(
        client, "POST", customer, market.staff, {"quotas": {"nc_project_count": -1, "nc_resource_count": 5}}
    )
    assert usage(reply.json["quotas"]) == (0, 5) and usage(reply.json["quotas"], "nc_project_count") == (
        1,
        -1,
    )
    for bad in ({"nc_cpu_count": 1}, {"nc_resource_count": -2}, {"nc_resource_count": "ten"}, {}):
        assert call(client, "POST", customer, market.staff, {"quotas": bad}).status == 400, bad


def test_an_order_over_the_limit_gets_waldurs_400_and_leaves_nothing(client, market):
    call(
        client,
        "POST",
        f"/api/customers/{market.consumer.id}/set_quotas/",
        market.staff,
        {"quotas": {"nc_resource_count": 0}},
    )
    from tests.integration.test_marketplace_orders_api import body

    reply = call(client, "POST", "/api/marketplace-orders/", market.owner, body(market))
    assert (reply.status, reply.json) == (
        400,
        ["One or more quotas were exceeded: nc_resource_count quota limit: 0, requires 1"],
    )
    assert call(client, "GET", "/api/marketplace-resources/", market.staff).json == []


@pytest.mark.moto
def test_fifty_orders_at_once_against_a_limit_of_ten_make_exactly_ten_resources(market, atomic_requests):
    from chalicelib.services import orders, quotas
    from chalicelib.store import customers, projects
    from tests.helpers import all_events

    quotas.set_project_limits(ctx_of(market.staff), market.project.id, {"nc_resource_count": 10})
    before = len(all_events())
    ctx = ctx_of(market.owner)

    def attempt(n: int) -> str:
        try:
            orders.create_order(ctx, order_request(market, attributes={"name": f"vm-{n}"}))
            return "made"
        except QuotaExceeded as exc:
            assert exc.errors == EXCEEDED
            return "refused"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))

    assert (outcomes.count("made"), outcomes.count("refused")) == (10, 40)
    assert projects.get(market.project.id).resources_count == 10
    assert customers.get(market.consumer.id).quota_usage["nc_resource_count"] == 10
    from chalicelib.services.ports import Source
    from chalicelib.store import resources as resource_store

    assert len(resource_store.read([Source.consumer(market.consumer.id)], bounded=False)) == 10
    written = [e.event_type for e in all_events()[before:]]
    assert (
        written.count("marketplace_order_created")
        == written.count("marketplace_resource_create_requested")
        == 10
    )
