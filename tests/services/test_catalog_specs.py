"""The marketplace catalog, specified on the in-memory fakes (no AWS): an offering's lifecycle and
who may move it, plans and their prices, categories in use, service providers, and what
consumers see of an offering (never its secret options).

The same behaviours are exercised through the API on moto by
tests/integration/test_marketplace_catalog_api.py and test_marketplace_offering_lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import offerings as rules
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import CUSTOMER_OWNER, CUSTOMER_SUPPORT, OFFERING_MANAGER, ScopeType
from chalicelib.domain.vocabulary import Offering, OfferingState, ResourceState
from chalicelib.services import access, catalog, categories, memberships, offerings, plans
from chalicelib.services import service_providers as providers
from chalicelib.services.catalog import OfferingFilters
from chalicelib.services.paging import Ordering, PageRequest
from chalicelib.services.ports import offerings as offering_port
from chalicelib.services.ports import service_providers as provider_port
from chalicelib.services.ports import unit_of_work
from tests.fakes import World

CPU = {"type": "cpu", "name": "CPU", "measured_unit": "cores", "billing_type": "limit"}
RAM = {"type": "ram", "name": "RAM", "measured_unit": "GB", "billing_type": "limit"}
PLAN = {"name": "Standard", "unit": "month", "unit_price": "10", "prices": {"cpu": "2"}}
SECRETS = {"api_token": "s3cr3t"}
EVERYTHING = OfferingFilters()
FIRST_PAGE = PageRequest(1, 50)


@dataclass
class Catalog:
    world: World
    staff: EventContext
    owner: EventContext  # CUSTOMER.OWNER of the provider
    support: EventContext  # CUSTOMER.SUPPORT of the provider
    manager: EventContext  # OFFERING.MANAGER of `offering` (granted by the test that needs it)
    consumer: EventContext  # no role at all
    provider_id: str

    def draft(self, **fields: Any) -> Offering:
        data = {
            "name": "Compute",
            "type": "Marketplace.Basic",
            "components": [CPU, RAM],
            "plans": [PLAN],
            "secret_options": SECRETS,
            **fields,
        }
        return offerings.create_offering(self.staff, self.provider_id, data)

    def active(self, **fields: Any) -> Offering:
        return offerings.set_state(self.staff, self.draft(**fields).id, "activate")


def _person(username: str, **flags: bool) -> EventContext:
    """A user, written through the users port (registration itself is not this module's subject)."""
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.users import User
    from chalicelib.services.ports import users

    user = User(id=new_id(), username=username, date_joined=datetime.now(UTC), **flags)  # type: ignore[arg-type]
    uow = unit_of_work()
    users.add(uow, user)
    uow.commit()
    return EventContext(principal=user.principal(), ip_address="10.0.0.9")


def _grant(by: EventContext, who: EventContext, scope_type: ScopeType, scope_id: str, role: str) -> None:
    scope = memberships.find_scope(scope_type, scope_id)
    assert scope is not None and who.principal is not None
    memberships.add_user(by, scope, who.principal.user_id, role, None)


@pytest.fixture
def market(fakes: World) -> Iterator[Catalog]:
    from chalicelib.services import customers

    access._memo.set(None)  # outside a request: nothing memoised between calls
    access._roles_memo.set(None)
    staff = _person("staff", is_staff=True)
    provider = customers.create_customer(staff, {"name": "Cloud Provider"})
    owner, support, manager, consumer = (_person(n) for n in ("owner", "support", "manager", "consumer"))
    _grant(staff, owner, ScopeType.CUSTOMER, provider.id, CUSTOMER_OWNER)
    _grant(staff, support, ScopeType.CUSTOMER, provider.id, CUSTOMER_SUPPORT)
    yield Catalog(fakes, staff, owner, support, manager, consumer, provider.id)


def _actor(ctx: EventContext) -> Principal:
    assert ctx.principal is not None
    return ctx.principal


# --- the lifecycle ---------------------------------------------------------------------------------
def test_a_new_offering_is_a_draft_and_its_customer_becomes_a_provider(market: Catalog) -> None:
    offering = market.draft()
    assert (offering.state, offering.version) == (OfferingState.DRAFT, 1)
    assert offering_port.get(offering.id) == offering
    provider = provider_port.for_customer(market.provider_id)
    assert provider is not None
    assert market.world.events[-1].event_type == rules.OFFERING_CREATED
    market.draft(name="Storage")  # a second offering: still one provider
    assert [p.customer_id for p in provider_port.read_all()] == [market.provider_id]


def test_an_owner_creates_offerings_a_stranger_does_not_and_nothing_is_stored(market: Catalog) -> None:
    data = {"name": "Mine", "type": "Marketplace.Basic", "plans": [PLAN], "components": [CPU]}
    created = offerings.create_offering(market.owner, market.provider_id, data)
    assert created.customer_id == market.provider_id
    with pytest.raises(ValidationError) as refused:  # the customer is not theirs to see
        offerings.create_offering(market.consumer, market.provider_id, {**data, "name": "Theirs"})
    assert refused.value.errors == {"customer": [offerings.INVALID_HYPERLINK]}
    with pytest.raises(PermissionDenied):  # support reads the customer, does not sell for it
        offerings.create_offering(market.support, market.provider_id, {**data, "name": "Support's"})
    assert [o.name for o in offering_port.read_all()] == ["Mine"]


def test_draft_active_paused_archived_with_who_may_do_each(market: Catalog) -> None:
    offering = market.draft()
    with pytest.raises(PermissionDenied):  # activation is staff's (Waldur)
        offerings.set_state(market.owner, offering.id, "activate")
    active = offerings.set_state(market.staff, offering.id, "activate")
    assert (active.state, active.version) == (OfferingState.ACTIVE, 2)
    with pytest.raises(NotFound):  # a stranger does not see it on the provider side at all
        offerings.set_state(market.consumer, offering.id, "pause")
    with pytest.raises(PermissionDenied):  # support reads, does not pause
        offerings.set_state(market.support, offering.id, "pause")
    paused = offerings.set_state(market.owner, offering.id, "pause", paused_reason="Maintenance")
    assert (paused.state, paused.paused_reason) == (OfferingState.PAUSED, "Maintenance")
    unpaused = offerings.set_state(market.owner, offering.id, "unpause")
    assert (unpaused.state, unpaused.paused_reason) == (OfferingState.ACTIVE, "")
    archived = offerings.set_state(market.owner, offering.id, "archive")
    assert archived.state is OfferingState.ARCHIVED
    with pytest.raises(ValidationError) as invalid:
        offerings.set_state(market.owner, offering.id, "pause")
    assert invalid.value.errors == [rules.STATE_INVALID]
    with pytest.raises(ValidationError):  # an archived offering is not changed any more
        offerings.update_offering(market.owner, offering.id, "update_overview", {"description": "x"})
    assert offering_port.get(offering.id) == archived


def test_an_offering_manager_manages_their_offering_only(market: Catalog) -> None:
    offering, other = market.active(), market.active(name="Other")
    _grant(market.owner, market.manager, ScopeType.OFFERING, offering.id, OFFERING_MANAGER)
    paused = offerings.set_state(market.manager, offering.id, "pause")
    assert paused.state is OfferingState.PAUSED
    changed = offerings.update_offering(
        market.manager, offering.id, "update_overview", {"description": "Fast"}
    )
    assert changed.description == "Fast"
    with pytest.raises(NotFound):
        offerings.set_state(market.manager, other.id, "pause")
    shown = catalog.list_provider_offerings(_actor(market.manager), EVERYTHING, Ordering(), FIRST_PAGE)
    assert [v.offering.id for v in shown.items] == [offering.id]


def test_a_stale_copy_loses_and_changes_nothing(market: Catalog) -> None:
    offering = market.draft()
    before = offering_port.load(offering.customer_id, offering.id)
    assert before is not None
    offerings.set_state(market.staff, offering.id, "activate")
    uow = unit_of_work()
    offering_port.save(uow, before, replace(before, name="Stale"))
    with pytest.raises(Conflict):
        uow.commit()
    assert offerings.get_offering(offering.id).name == "Compute"


def test_only_a_draft_nobody_ordered_is_deleted_and_staff_delete_any(market: Catalog) -> None:
    draft, active = market.draft(), market.active(name="Live")
    with pytest.raises(PermissionDenied) as refused:
        offerings.delete_offering(market.owner, active.id)
    assert refused.value.detail == offerings.NOT_DRAFT
    offerings.delete_offering(market.owner, draft.id)
    assert offering_port.get(draft.id) is None
    assert offering_port.plan_owner(draft.plans[0].id) is None
    market.world.table("resources")["r1"] = _resource_of(active)
    with pytest.raises(PermissionDenied) as used:  # ordered from: kept, even for staff
        offerings.delete_offering(market.staff, active.id)
    assert used.value.detail == offerings.HAS_RESOURCES
    assert offering_port.get(active.id) is not None


def _resource_of(offering: Offering) -> Resource:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    return Resource(
        id="r1",
        name="vm",
        state=ResourceState.OK,
        customer_id="c" * 32,
        project_id="p" * 32,
        offering_id=offering.id,
        provider_id=offering.customer_id,
        created=now,
        modified=now,
    )


def test_offerings_are_a_scope_of_roles_once_the_services_are_wired(market: Catalog) -> None:
    offering = market.draft()
    scope = memberships.find_scope(ScopeType.OFFERING, offering.id)
    assert scope is not None and (scope.customer_id, scope.name) == (market.provider_id, "Compute")


# --- plans and their prices ------------------------------------------------------------------------
def test_plans_are_added_priced_and_archived_by_the_provider(market: Catalog) -> None:
    offering = market.active()
    view = plans.create_plan(market.owner, offering.id, {"name": "Large", "unit_price": "30"})
    plan_id = view.plan.id
    assert offerings.find_plan(plan_id)[1].name == "Large"
    priced = plans.update_prices(market.owner, plan_id, {"ram": "0.5"})
    assert priced.plan.prices == {"ram": Decimal("0.5")}
    priced = plans.update_prices(market.owner, plan_id, {"cpu": "3"})
    assert priced.plan.prices == {"ram": Decimal("0.5"), "cpu": Decimal("3")}  # the others keep theirs
    quotas = plans.update_quotas(market.owner, plan_id, {"cpu": 4})
    assert quotas.plan.quotas == {"cpu": 4}
    with pytest.raises(ValidationError):  # a component the offering does not have
        plans.update_prices(market.owner, plan_id, {"gpu": "1"})
    plans.archive_plan(market.owner, plan_id)
    with pytest.raises(ValidationError) as again:
        plans.archive_plan(market.owner, plan_id)
    assert again.value.errors == [rules.PLAN_ARCHIVED]
    public = catalog.public_plans(None, offering.id)
    assert [p.plan.name for p in public] == ["Standard"]  # archived plans are not offered
    assert offerings.find_plan(plan_id)[1].archived  # an order naming it still finds it


def test_plans_are_listed_to_who_manages_their_offering_only(market: Catalog) -> None:
    offering = market.active()
    plans.create_plan(market.owner, offering.id, {"name": "Large"})
    owned = plans.list_plans(_actor(market.owner), plans.PlanFilters())
    assert [v.plan.name for v in owned] == ["Standard", "Large"]
    assert plans.list_plans(_actor(market.consumer), plans.PlanFilters()) == []
    with pytest.raises(NotFound):
        plans.get_visible(_actor(market.consumer), offering.plans[0].id)
    with pytest.raises(ValidationError):  # not theirs: the offering does not exist for them
        plans.create_plan(market.consumer, offering.id, {"name": "Mine"})
    with pytest.raises(PermissionDenied):
        plans.update_prices(market.support, offering.plans[0].id, {"cpu": "0"})


# --- categories ------------------------------------------------------------------------------------
def test_a_category_in_use_is_not_deleted_and_only_staff_write_categories(market: Catalog) -> None:
    vms = categories.create_category(market.staff, {"title": "VMs"})
    storage = categories.create_category(market.staff, {"title": "Storage"})
    with pytest.raises(PermissionDenied):
        categories.create_category(market.owner, {"title": "Mine"})
    market.draft(category_id=vms.id)
    with pytest.raises(ValidationError) as in_use:
        categories.delete_category(market.staff, vms.id)
    assert in_use.value.errors == [categories.IN_USE]
    categories.delete_category(market.staff, storage.id)
    assert [c.title for c in categories.list_categories()] == ["VMs"]
    assert categories.list_categories(name_exact="vms") == []
    assert [c.id for c in categories.list_categories(title="vm")] == [vms.id]
    with pytest.raises(ValidationError) as unknown:
        market.draft(category_id="0" * 32)
    assert unknown.value.errors == {"category": [offerings.INVALID_HYPERLINK]}


# --- service providers -----------------------------------------------------------------------------
def test_a_customer_registers_as_a_provider_once_by_its_owner(market: Catalog) -> None:
    with pytest.raises(ValidationError):  # a stranger does not see the customer
        providers.register(market.consumer, market.provider_id, {})
    with pytest.raises(PermissionDenied):
        providers.register(market.support, market.provider_id, {})
    view = providers.register(market.owner, market.provider_id, {"description": "We sell"})
    assert view.customer is not None and view.customer.name == "Cloud Provider"
    with pytest.raises(ValidationError) as twice:
        providers.register(market.owner, market.provider_id, {})
    assert twice.value.errors == {"customer": ["service provider with this customer already exists."]}
    market.draft()
    market.draft(name="Storage")
    found = providers.get(view.provider.id)
    assert (found.provider.description, found.offering_count) == ("We sell", 2)
    assert [v.provider.id for v in providers.list_providers(name="cloud")] == [view.provider.id]
    assert providers.list_providers(name="nobody") == []
    assert providers.list_providers(customer_id="0" * 32) == []


# --- what consumers see ----------------------------------------------------------------------------
def test_consumers_see_shared_active_and_paused_offerings_without_secrets(market: Catalog) -> None:
    market.draft(name="Draft")
    active = market.active(name="Active")
    paused = offerings.set_state(market.owner, market.active(name="Paused").id, "pause")
    private = market.active(name="Private", shared=False)
    for who in (None, _actor(market.consumer)):
        shown = catalog.list_public_offerings(who, EVERYTHING, Ordering(), FIRST_PAGE)
        assert [v.offering.name for v in shown.items] == ["Paused", "Active"]  # newest first
        assert all(v.offering.secret_options == {} for v in shown.items)
        one = catalog.get_public(who, active.id)
        assert one.offering.secret_options == {} and one.offering.plans == active.plans
        with pytest.raises(NotFound):
            catalog.get_public(who, private.id)
    theirs = catalog.list_public_offerings(_actor(market.owner), EVERYTHING, Ordering("name"), FIRST_PAGE)
    assert [v.offering.name for v in theirs.items] == ["Active", "Paused", "Private"]
    assert all(v.offering.secret_options == {} for v in theirs.items)  # the catalog never shows them
    stored = offering_port.get(paused.id)
    assert stored is not None and stored.secret_options == SECRETS  # kept: the provider reads them


def test_only_who_may_set_an_offerings_secrets_reads_them_on_the_provider_side(market: Catalog) -> None:
    offering = market.active()
    assert offerings.rights_on(_actor(market.owner), offering).integration
    assert offerings.rights_on(_actor(market.staff), offering).integration
    assert not offerings.rights_on(_actor(market.support), offering).integration
    assert offerings.get_visible(_actor(market.support), offering.id).id == offering.id
    with pytest.raises(NotFound):
        offerings.get_visible(_actor(market.consumer), offering.id)
    with pytest.raises(NotFound):
        catalog.retrieve_provider_offering(_actor(market.consumer), offering.id)


def test_provider_lists_filter_order_and_page(market: Catalog) -> None:
    for name in ("b-vm", "a-storage", "c-hpc"):
        market.active(name=name)
    by_name = catalog.list_provider_offerings(
        _actor(market.owner), EVERYTHING, Ordering("name"), PageRequest(1, 2)
    )
    assert ([v.offering.name for v in by_name.items], by_name.total) == (["a-storage", "b-vm"], 3)
    staff_page = catalog.list_provider_offerings(
        _actor(market.staff), EVERYTHING, Ordering(), PageRequest(2, 2)
    )
    assert ([v.offering.name for v in staff_page.items], staff_page.total) == (["b-vm"], 3)
    named = catalog.list_provider_offerings(
        _actor(market.support), OfferingFilters(name="VM"), Ordering(), FIRST_PAGE
    )
    assert [v.offering.name for v in named.items] == ["b-vm"]
    assert (
        catalog.list_provider_offerings(_actor(market.consumer), EVERYTHING, Ordering(), FIRST_PAGE).total
        == 0
    )
