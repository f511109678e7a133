"""Categories, offerings (with their plans) and service providers: the fakes and the store agree
(tests/contract/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.offerings import Category, ServiceProvider
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import (
    BillingType,
    Component,
    Offering,
    OfferingState,
    Plan,
    ResourceState,
)
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import Ports

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
SELLER, OTHER = "c" * 32, "d" * 32


def _id(n: int) -> str:
    return f"{n:032x}"


def _offering(n: int, customer_id: str = SELLER, plans: tuple[int, ...] = (), **fields: object) -> Offering:
    offering_id = _id(n)
    return Offering(
        id=offering_id,
        customer_id=customer_id,
        name=f"Offering {n}",
        type="Marketplace.Basic",
        created=NOW,
        components=(Component(id=_id(900 + n), type="cpu", name="CPU", billing_type=BillingType.USAGE),),
        plans=tuple(_plan(offering_id, p) for p in plans),
        **fields,  # type: ignore[arg-type]
    )


def _plan(offering_id: str, n: int) -> Plan:
    return Plan(
        id=_id(500 + n),
        offering_id=offering_id,
        name=f"Plan {n}",
        unit_price=Decimal("1.50"),
        prices={"cpu": Decimal("0.25")},
        created=NOW,
    )


def _add(ports: Ports, offering: Offering) -> Offering:
    uow = ports.unit_of_work()
    ports.offerings.add(uow, offering)
    uow.commit()
    stored = ports.offerings.load(offering.customer_id, offering.id)
    assert stored is not None
    return stored


def _settle(request: pytest.FixtureRequest) -> None:
    """On DynamoDB the platform-wide count of offerings comes from the stream: read it first."""
    if request.node.callspec.params["ports"] == "dynamodb":
        request.getfixturevalue("settle")()


# --- offerings -------------------------------------------------------------------------------------
def test_an_offering_added_is_found_at_version_1_with_its_plans(ports: Ports) -> None:
    given = _offering(1, plans=(1, 2), secret_options={"token": "s3"}, attributes={"a": [1]}, latitude=1.5)
    stored = _add(ports, given)
    assert stored == replace(given, version=1)
    assert ports.offerings.get(given.id) == stored
    assert ports.offerings.plan_owner(_id(501)) == (SELLER, given.id)
    assert ports.offerings.plan_owner(_id(509)) is None
    assert ports.offerings.get(_id(2)) is None
    assert ports.offerings.load(OTHER, given.id) is None  # named with another customer: not found


def test_lists_of_offerings_keep_the_store_order(ports: Ports, request: pytest.FixtureRequest) -> None:
    first, second, third = (_add(ports, _offering(n, customer_id)) for n, customer_id in
                            ((1, SELLER), (2, OTHER), (3, SELLER)))  # fmt: skip
    assert ports.offerings.for_customer(SELLER) == [first, third]  # oldest first
    assert ports.offerings.for_customer(_id(77)) == []
    assert ports.offerings.read_all() == [third, second, first]  # newest first
    wanted = [(SELLER, first.id), (OTHER, second.id), (SELLER, _id(9)), (OTHER, first.id)]
    assert sorted(ports.offerings.get_many(wanted), key=lambda o: o.id) == [first, second]
    assert ports.offerings.get_many([]) == []
    _settle(request)
    assert ports.offerings.page_all(PageRequest(1, 2)) == Page([third, second], 3)
    assert ports.offerings.page_all(PageRequest(2, 2)) == Page([first], 3)


def test_saving_bumps_the_version_points_new_plans_and_a_stale_copy_loses(ports: Ports) -> None:
    before = _add(ports, _offering(1, plans=(1,)))
    after = replace(before, state=OfferingState.ACTIVE, plans=(*before.plans, _plan(before.id, 2)))
    uow = ports.unit_of_work()
    ports.offerings.save(uow, before, after)
    uow.commit()
    saved = ports.offerings.load(SELLER, before.id)
    assert saved == replace(after, version=2)
    assert ports.offerings.plan_owner(_id(502)) == (SELLER, before.id)
    stale = ports.unit_of_work()
    ports.offerings.save(stale, before, replace(before, name="Old"))
    with pytest.raises(Conflict):
        stale.commit()
    assert ports.offerings.load(SELLER, before.id) == saved


def test_a_plan_id_is_one_plan_of_its_provider(ports: Ports) -> None:
    _add(ports, _offering(1, plans=(1,)))
    taken = _offering(2, plans=(1,))
    uow = ports.unit_of_work()
    ports.offerings.add(uow, taken)
    with pytest.raises(Conflict):
        uow.commit()
    assert ports.offerings.get(taken.id) is None
    assert ports.offerings.plan_owner(_id(501)) == (SELLER, _id(1))


def test_a_removed_offering_and_its_plans_are_gone_and_a_stale_copy_is_refused(ports: Ports) -> None:
    offering = _add(ports, _offering(1, plans=(1,)))
    stale = ports.unit_of_work()
    ports.offerings.remove(stale, replace(offering, version=0))
    with pytest.raises(Conflict):
        stale.commit()
    assert ports.offerings.get(offering.id) == offering
    uow = ports.unit_of_work()
    ports.offerings.remove(uow, offering)
    uow.commit()
    assert ports.offerings.get(offering.id) is None and ports.offerings.load(SELLER, offering.id) is None
    assert ports.offerings.plan_owner(_id(501)) is None
    assert ports.offerings.for_customer(SELLER) == []


def _resource(offering: Offering) -> Resource:
    return Resource(
        id=_id(700),
        name="vm",
        state=ResourceState.TERMINATED,  # any state counts
        customer_id=_id(600),
        project_id=_id(601),
        offering_id=offering.id,
        provider_id=offering.customer_id,
        created=NOW,
        modified=NOW,
    )


def _seed_resource(ports: Ports, request: pytest.FixtureRequest, resource: Resource) -> None:
    """A resource as the resources repository keeps it (written directly: its port is not this
    suite's subject)."""
    if request.node.callspec.params["ports"] == "dynamodb":
        from chalicelib.store import resources

        resources._item(replace(resource, version=1)).save()
    else:
        from tests.fakes.world import work

        work(ports.unit_of_work()).world.table("resources")[resource.id] = resource


def test_an_offering_has_resources_once_one_was_ordered_from_it(
    ports: Ports, request: pytest.FixtureRequest
) -> None:
    ordered, other = _add(ports, _offering(1)), _add(ports, _offering(2))
    assert not ports.offerings.has_resources(ordered)
    _seed_resource(ports, request, _resource(ordered))
    assert ports.offerings.has_resources(ordered)
    assert not ports.offerings.has_resources(other)


# --- service providers -----------------------------------------------------------------------------
def _provider(n: int, customer_id: str, **fields: object) -> ServiceProvider:
    return ServiceProvider(id=_id(n), customer_id=customer_id, created=NOW, version=1, **fields)  # type: ignore[arg-type]


def test_a_provider_is_found_by_its_id_and_its_customer_and_listed_oldest_first(ports: Ports) -> None:
    first, second = _provider(2, OTHER, description="We sell"), _provider(1, SELLER, image=None)
    for provider in (first, second):
        uow = ports.unit_of_work()
        ports.service_providers.add(uow, provider)
        uow.commit()
    assert ports.service_providers.get(first.id) == first
    assert ports.service_providers.for_customer(SELLER) == second
    assert ports.service_providers.get(_id(3)) is None
    assert ports.service_providers.for_customer(_id(3)) is None
    assert ports.service_providers.read_all() == [second, first]  # by the provider's id


def test_a_customer_is_one_provider_at_most(ports: Ports) -> None:
    uow = ports.unit_of_work()
    ports.service_providers.add(uow, _provider(1, SELLER))
    uow.commit()
    again = ports.unit_of_work()
    ports.service_providers.add(again, _provider(2, SELLER))
    with pytest.raises(ValidationError) as refused:
        again.commit()
    assert refused.value.errors == {"customer": ["service provider with this customer already exists."]}
    assert ports.service_providers.get(_id(2)) is None
    assert ports.service_providers.read_all() == [_provider(1, SELLER)]


# --- categories ------------------------------------------------------------------------------------
def test_categories_are_added_saved_and_removed_with_their_versions(ports: Ports) -> None:
    category = Category(id=_id(1), title="VMs", created=NOW, icon="vm.png", version=1)
    uow = ports.unit_of_work()
    ports.categories.add(uow, category)
    uow.commit()
    assert ports.categories.get(category.id) == ports.categories.load(category.id) == category
    assert ports.categories.get_many([category.id, _id(2)]) == {category.id: category}
    assert ports.categories.read_all() == [category]
    uow = ports.unit_of_work()
    ports.categories.save(uow, category, replace(category, title="Virtual machines"))
    uow.commit()
    saved = ports.categories.load(category.id)
    assert saved == replace(category, title="Virtual machines", version=2)
    stale = ports.unit_of_work()
    ports.categories.save(stale, category, replace(category, title="Old"))
    with pytest.raises(Conflict):
        stale.commit()
    uow = ports.unit_of_work()
    ports.categories.remove(uow, saved)
    uow.commit()
    assert ports.categories.load(category.id) is None and ports.categories.read_all() == []
