"""Orders, resources and usages: the fakes and the store agree (tests/contract/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import Conflict, NotFound, QuotaExceeded, TooBroad
from chalicelib.domain.orders import Actor, Order
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import RESOURCE_COUNT
from chalicelib.domain.resources import Resource
from chalicelib.domain.usages import ComponentUsage
from chalicelib.domain.vocabulary import OrderState, OrderType, ResourceState
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import Ports, Source

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
C1, C2, PROVIDER = "c1" + "0" * 30, "c2" + "0" * 30, "pv" + "0" * 30
P1, P2, P3 = "p1" + "0" * 30, "p2" + "0" * 30, "p3" + "0" * 30
OFF_A, OFF_B = "oa" + "0" * 30, "ob" + "0" * 30


def _id(n: int) -> str:
    """Ids in creation order (as UUIDv7s sort)."""
    return f"{n:032x}"


def _orgs(ports: Ports) -> tuple[Any, Any]:
    """The customers and projects repositories, whose quotas a resource counts against."""
    return ports.customers, ports.projects


def _commit(ports: Ports, *writes: Any) -> None:
    uow = ports.unit_of_work()
    for write in writes:
        write(uow)
    uow.commit()


@pytest.fixture
def world(ports: Ports) -> Ports:
    """Consumer customers C1 (projects P1, P2) and C2 (project P3), and a provider customer."""
    customers, projects = _orgs(ports)
    for customer_id in (C1, C2, PROVIDER):
        customer = Customer(id=customer_id, name=customer_id[:2], created=NOW)
        _commit(ports, lambda uow, c=customer: customers.add(uow, c))
    for project_id, customer_id in ((P1, C1), (P2, C1), (P3, C2)):
        project = Project(id=project_id, customer_id=customer_id, name=project_id[:2], created=NOW)
        _commit(ports, lambda uow, p=project: projects.add(uow, p))
    return ports


def _order(n: int, project: str = P1, offering: str = OFF_A, **fields: Any) -> Order:
    customer = C2 if project == P3 else C1
    values: dict[str, Any] = {
        "id": _id(n),
        "type": OrderType.CREATE,
        "state": OrderState.PENDING_CONSUMER,
        "customer_id": customer,
        "project_id": project,
        "offering_id": offering,
        "provider_id": PROVIDER,
        "resource_id": _id(100 + n),
        "created": NOW,
        "modified": NOW,
    }
    return Order(**{**values, **fields})


def _resource(n: int, project: str = P1, offering: str = OFF_A, **fields: Any) -> Resource:
    customer = C2 if project == P3 else C1
    values: dict[str, Any] = {
        "id": _id(100 + n),
        "name": f"vm-{n}",
        "state": ResourceState.CREATING,
        "customer_id": customer,
        "project_id": project,
        "offering_id": offering,
        "provider_id": PROVIDER,
        "created": NOW,
        "modified": NOW,
    }
    return Resource(**{**values, **fields})


def _usage(n: int, resource: Resource, component: str = "cpu", **fields: Any) -> ComponentUsage:
    values: dict[str, Any] = {
        "id": _id(200 + n),
        "resource_id": resource.id,
        "customer_id": resource.customer_id,
        "project_id": resource.project_id,
        "offering_id": resource.offering_id,
        "provider_id": resource.provider_id,
        "component_type": component,
        "billing_period": date(2026, 12, 1),
        "amount": Decimal("1.5"),
        "date": NOW,
        "created": NOW,
        "modified": NOW,
    }
    return ComponentUsage(**{**values, **fields})


def _ids(rows: Any) -> list[str]:
    return [r.id for r in rows]


@pytest.fixture
def read_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """`filter_read_limit` lowered to 2."""
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_FILTER_READ_LIMIT", "2")
    reset_settings()
    yield 2
    monkeypatch.delenv("CIRRUS_FILTER_READ_LIMIT")
    reset_settings()


# --- orders -------------------------------------------------------------------------------------------
def test_an_order_added_is_found_by_id_and_in_its_customer_at_version_1(world: Ports) -> None:
    order = _order(
        1,
        attributes={"name": "vm"},
        limits={"cpu": 2},
        created_by=Actor("u" * 32, "alice", "Alice", "a@example.org"),
        consumer_reviewed_at=NOW,
        cost=Decimal("12.50"),
    )
    _commit(world, lambda uow: world.orders.add(uow, order))
    stored = world.orders.get(order.id)
    assert stored == replace(order, version=1)
    assert world.orders.load(C1, order.id) == stored
    assert world.orders.load(C2, order.id) is None and world.orders.get(_id(9)) is None


def test_a_transition_bumps_the_version_and_a_stale_or_moved_order_loses(world: Ports) -> None:
    order = _order(1)
    _commit(world, lambda uow: world.orders.add(uow, order))
    before = world.orders.load(C1, order.id)
    assert before is not None
    after = replace(before, state=OrderState.EXECUTING, consumer_reviewed_at=NOW)
    uow = world.unit_of_work()
    returned = world.orders.save_transition(uow, before, after)
    uow.commit()
    assert returned == replace(after, version=2) == world.orders.load(C1, order.id)
    stale = world.unit_of_work()
    world.orders.save_transition(stale, before, replace(before, state=OrderState.CANCELED))
    with pytest.raises(Conflict):
        stale.commit()
    same_version_other_state = replace(returned, state=OrderState.PENDING_PROVIDER)
    moved = world.unit_of_work()
    world.orders.save_transition(moved, same_version_other_state, replace(returned, state=OrderState.DONE))
    with pytest.raises(Conflict):
        moved.commit()
    assert world.orders.load(C1, order.id) == returned


def test_an_unchanged_order_is_removed_a_stale_one_is_not(world: Ports) -> None:
    order = _order(1)
    _commit(world, lambda uow: world.orders.add(uow, order))
    stored = world.orders.load(C1, order.id)
    assert stored is not None
    stale = world.unit_of_work()
    world.orders.remove(stale, replace(stored, version=7))
    with pytest.raises(Conflict):
        stale.commit()
    _commit(world, lambda uow: world.orders.remove(uow, stored))
    assert world.orders.load(C1, order.id) is None and world.orders.get(order.id) is None


def test_orders_are_read_from_their_customer_their_provider_and_every_one(world: Ports) -> None:
    orders = [_order(1), _order(2, P2, OFF_B), _order(3, P3), _order(4, P1, OFF_B)]
    _commit(world, *[lambda uow, o=o: world.orders.add(uow, o) for o in orders])
    read = world.orders.read
    assert _ids(read([Source.consumer(C1)], bounded=False)) == [_id(1), _id(2), _id(4)]
    assert _ids(read([Source.consumer(C1, P2)], bounded=False)) == [_id(2)]
    assert _ids(read([Source.provider(PROVIDER, OFF_B)], bounded=True)) == [_id(2), _id(4)]
    # several sources: each order once, oldest first
    both = read([Source.consumer(C2), Source.provider(PROVIDER), Source.consumer(C1)], bounded=False)
    assert _ids(both) == [_id(1), _id(2), _id(3), _id(4)]
    assert _ids(read([Source()], bounded=True)) == [_id(1), _id(2), _id(3), _id(4)]
    assert read([Source.consumer("x" * 32)], bounded=False) == []


def test_the_newest_page_of_every_order_and_its_total(world: Ports) -> None:
    orders = [_order(n) for n in (1, 2, 3)]
    _commit(world, *[lambda uow, o=o: world.orders.add(uow, o) for o in orders])
    first = world.orders.newest_page(PageRequest(1, 2))
    assert (_ids(first.items), first.total) == ([_id(3), _id(2)], 3)
    second = world.orders.newest_page(PageRequest(2, 2))
    assert (_ids(second.items), second.total) == ([_id(1)], 3)
    oldest = world.orders.newest_page(PageRequest(1, 2), descending=False)
    assert _ids(oldest.items) == [_id(1), _id(2)]


def test_a_bounded_read_over_the_limit_asks_to_narrow_the_request(world: Ports, read_limit: int) -> None:
    orders = [_order(1), _order(2), _order(3, P3)]
    _commit(world, *[lambda uow, o=o: world.orders.add(uow, o) for o in orders])
    assert len(world.orders.read([Source.consumer(C1)], bounded=True)) == 2  # at the limit
    assert len(world.orders.read([Source.consumer(C1), Source.consumer(C2)], bounded=False)) == 3
    with pytest.raises(TooBroad) as refused:
        world.orders.read([Source.consumer(C1), Source.consumer(C2)], bounded=True)
    assert str(refused.value) == (
        "Too many orders to filter or sort (more than 2); narrow the request with "
        "customer_uuid=, project_uuid=, provider_uuid= or offering_uuid=."
    )


# --- resources ----------------------------------------------------------------------------------------
def _quota_usage(ports: Ports, customer_id: str, project_id: str) -> tuple[int, int]:
    customers, projects = _orgs(ports)
    customer, project = customers.get(customer_id), projects.get(project_id)
    return customer.quota_usage.get(RESOURCE_COUNT, 0), project.quota_usage.get(RESOURCE_COUNT, 0)


def test_a_resource_added_counts_in_its_project_and_customer_until_released(world: Ports) -> None:
    resource = _resource(1, limits={"cpu": 2}, attributes={"name": "vm"}, end_date=date(2027, 1, 1))
    uow = world.unit_of_work()
    assert world.resources.add(uow, resource) == replace(resource, version=1)
    uow.commit()
    stored = world.resources.get(resource.id)
    assert stored == replace(resource, version=1)
    assert world.resources.load(C1, P1, resource.id) == stored
    assert world.resources.load(C1, P2, resource.id) is None
    assert _quota_usage(world, C1, P1) == (1, 1)
    _commit(world, lambda uow: world.resources.release_count(uow, stored))
    assert _quota_usage(world, C1, P1) == (0, 0)


def test_a_resource_over_its_project_quota_is_refused_and_nothing_is_written(world: Ports) -> None:
    _, projects = _orgs(world)
    project = projects.get(P1)
    _commit(world, lambda uow: projects.set_quota_limits(uow, project, {RESOURCE_COUNT: 1}))
    _commit(world, lambda uow: world.resources.add(uow, _resource(1)))
    uow = world.unit_of_work()
    world.resources.add(uow, _resource(2))
    with pytest.raises(QuotaExceeded):
        uow.commit()
    assert world.resources.get(_id(102)) is None
    assert _quota_usage(world, C1, P1) == (1, 1)


def test_a_resource_in_an_unknown_project_is_refused(world: Ports) -> None:
    uow = world.unit_of_work()
    world.resources.add(uow, _resource(1, project="x" * 32))
    with pytest.raises(NotFound):
        uow.commit()


def test_saving_a_resource_bumps_its_version_and_a_stale_copy_loses(world: Ports) -> None:
    _commit(world, lambda uow: world.resources.add(uow, _resource(1)))
    before = world.resources.load(C1, P1, _id(101))
    assert before is not None
    after = replace(
        before,
        name="renamed",
        state=ResourceState.OK,
        current_usages={"cpu": 2},
        backend_id="b-1",
        report=({"header": "h", "body": "b"},),
    )
    uow = world.unit_of_work()
    returned = world.resources.save_changes(uow, before, after)
    uow.commit()
    assert returned == replace(after, version=2) == world.resources.load(C1, P1, before.id)
    stale = world.unit_of_work()
    world.resources.save_changes(stale, before, replace(before, name="old"))
    with pytest.raises(Conflict):
        stale.commit()
    assert world.resources.get(before.id) == returned


def test_resources_are_read_by_customer_project_provider_offering_and_all(world: Ports) -> None:
    resources = [_resource(1), _resource(2, P2, OFF_B), _resource(3, P3)]
    for resource in resources:  # one each: a transaction moves a customer's count once
        _commit(world, lambda uow, r=resource: world.resources.add(uow, r))
    read = world.resources.read
    assert _ids(read([Source.consumer(C1)], bounded=False)) == [_id(101), _id(102)]
    assert _ids(read([Source.consumer(C1, P2)], bounded=True)) == [_id(102)]
    assert _ids(read([Source.provider(PROVIDER, OFF_A)], bounded=False)) == [_id(101), _id(103)]
    assert _ids(read([Source.provider(PROVIDER), Source.consumer(C2)], bounded=True)) == [
        _id(101),
        _id(102),
        _id(103),
    ]
    page = world.resources.newest_page(PageRequest(1, 10))
    assert (_ids(page.items), page.total) == ([_id(103), _id(102), _id(101)], 3)


# --- usages -------------------------------------------------------------------------------------------
def test_usages_are_one_per_resource_period_and_component(world: Ports) -> None:
    resource = _resource(1)
    _commit(world, lambda uow: world.resources.add(uow, resource))
    cpu, ram = _usage(1, resource), _usage(2, resource, "ram")
    uow = world.unit_of_work()
    saved = world.usages.save(uow, [(None, cpu), (None, ram)])
    uow.commit()
    assert saved == [replace(cpu, version=1), replace(ram, version=1)]
    assert world.usages.get(cpu.id) == saved[0]
    assert world.usages.of_resource(C1, P1, resource.id) == saved
    again = world.unit_of_work()  # a second "first" report of the same slot loses
    world.usages.save(again, [(None, _usage(3, resource))])
    with pytest.raises(Conflict):
        again.commit()
    replaced = replace(saved[0], amount=Decimal("4"), description="more")
    uow = world.unit_of_work()
    assert world.usages.save(uow, [(saved[0], replaced)]) == [replace(replaced, version=2)]
    uow.commit()
    assert world.usages.get(cpu.id) == replace(replaced, version=2)
    stale = world.unit_of_work()
    world.usages.save(stale, [(saved[0], replace(saved[0], amount=Decimal("9")))])
    with pytest.raises(Conflict):
        stale.commit()


def test_usages_are_read_by_customer_project_provider_and_all(world: Ports) -> None:
    first, second = _resource(1), _resource(2, P2, OFF_B)
    for resource in (first, second):
        _commit(world, lambda uow, r=resource: world.resources.add(uow, r))
    usages: list[tuple[ComponentUsage | None, ComponentUsage]] = [
        (None, _usage(1, first)),
        (None, _usage(2, second)),
        (None, _usage(3, first, "ram")),
    ]
    _commit(world, lambda uow: world.usages.save(uow, usages))
    read = world.usages.read
    assert _ids(read([Source.consumer(C1)], bounded=False)) == [_id(201), _id(202), _id(203)]
    assert _ids(read([Source.consumer(C1, P2)], bounded=False)) == [_id(202)]
    assert _ids(read([Source.provider(PROVIDER, OFF_A)], bounded=True)) == [_id(201), _id(203)]
    page = world.usages.newest_page(PageRequest(1, 2))
    assert (_ids(page.items), page.total) == ([_id(203), _id(202)], 3)
