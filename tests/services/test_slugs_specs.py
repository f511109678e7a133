"""Slugs and the changes a resource takes without an order, specified on the fakes: generated at
creation from the name (unique per kind), kept on rename, set by staff (or RESOURCE/PROJECT.SET_SLUG
holders while nothing is made yet), copied to orders and resources; a resource's name, description
and end date, with Waldur's events and who may change them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.slugs import TAKEN
from chalicelib.services import ports
from tests.fakes import World
from tests.marketplace_helpers import Market, build_market, ctx_of, order_request


@pytest.fixture
def market(fakes: World) -> Market:
    from tests.conftest import make_account

    return build_market(make_account("staff", is_staff=True))


def _resource(market: Market, who: Any = None, name: str = "vm-1") -> Any:
    from chalicelib.services import orders

    order = orders.create_order(ctx_of(who or market.staff), order_request(market, attributes={"name": name}))
    resource = ports.resources.get(order.resource_id)
    assert resource is not None
    return resource


# --- slugs -----------------------------------------------------------------------------------------
def test_customers_projects_and_resources_get_a_slug_from_their_name(market: Market) -> None:
    resource = _resource(market, name="Big Compute Node")
    assert (market.consumer.slug, market.project.slug) == ("acme-1", "apollo-1")
    assert (resource.slug, resource.project_slug, resource.customer_slug) == (
        "big-comp-1",
        "apollo-1",
        "acme-1",
    )
    order = ports.orders.get(resource.creation_order_id)
    assert (order.project_slug, order.customer_slug) == ("apollo-1", "acme-1")


def test_the_same_name_twice_gets_two_slugs(market: Market) -> None:
    from chalicelib.services import projects

    again = projects.create_project(ctx_of(market.staff), market.consumer.id, {"name": "Apollo"})
    assert again.slug == "apollo-2"
    assert [_resource(market).slug for _ in range(2)] == ["vm-1-1", "vm-1-2"]


def test_a_rename_keeps_the_slug(market: Market) -> None:
    from chalicelib.services import customers, projects

    renamed = projects.update_project(ctx_of(market.staff), market.project.id, {"name": "Artemis"})
    assert renamed.slug == "apollo-1"
    staff = ctx_of(market.staff)
    assert customers.update_customer(staff, market.consumer.id, {"name": "Zed"}).slug == "acme-1"


def test_staff_give_a_slug_on_creation_and_it_is_refused_when_taken(market: Market) -> None:
    from chalicelib.services import customers, projects

    made = customers.create_customer(ctx_of(market.staff), {"name": "Beta", "slug": "beta-org"})
    assert made.slug == "beta-org"
    with pytest.raises(ValidationError) as refused:
        projects.create_project(ctx_of(market.staff), market.consumer.id, {"name": "X", "slug": "apollo-1"})
    assert refused.value.errors == {"slug": [TAKEN]}


def test_an_owners_slug_on_project_creation_is_ignored(market: Market) -> None:
    from chalicelib.services import projects

    made = projects.create_project(ctx_of(market.owner), market.consumer.id, {"name": "Own", "slug": "mine"})
    assert made.slug == "own-1"


def test_a_generated_number_skips_a_slug_set_by_hand(market: Market) -> None:
    from chalicelib.services import customers, projects

    projects.set_slug(ctx_of(market.staff), market.project.id, "gemini-1")
    made = projects.create_project(ctx_of(market.staff), market.consumer.id, {"name": "Gemini"})
    assert made.slug == "gemini-2"
    # and the old slug is free again
    customers_ctx = ctx_of(market.staff)
    assert customers.create_customer(customers_ctx, {"name": "Q", "slug": "apollo-1"}).slug == "apollo-1"


def test_only_staff_change_a_customers_or_projects_slug(market: Market) -> None:
    from chalicelib.services import customers, projects

    with pytest.raises(PermissionDenied):
        customers.update_customer(ctx_of(market.owner), market.consumer.id, {"slug": "acme"})
    with pytest.raises(PermissionDenied):
        projects.update_project(ctx_of(market.owner), market.project.id, {"slug": "apollo"})
    with pytest.raises(PermissionDenied):
        projects.set_slug(ctx_of(market.owner), market.project.id, "apollo")
    staff = ctx_of(market.staff)
    assert customers.update_customer(staff, market.consumer.id, {"slug": "acme"}).slug == "acme"
    # sending the current value back is no change
    projects.update_project(ctx_of(market.owner), market.project.id, {"slug": "apollo-1", "description": "d"})


def test_set_slug_answers_whether_it_changed(market: Market) -> None:
    from chalicelib.services import projects, resources

    staff = ctx_of(market.staff)
    assert projects.set_slug(staff, market.project.id, "apollo-1") == "Project slug is not changed."
    assert projects.set_slug(staff, market.project.id, "apollo") == "Project slug has been changed."
    resource = _resource(market)
    assert resources.set_slug(staff, resource.id, "vm", True) == "Resource slug has been changed."
    assert ports.resources.get(resource.id).slug == "vm"
    with pytest.raises(ValidationError) as refused:
        resources.set_slug(staff, _resource(market).id, "vm", False)
    assert refused.value.errors == {"slug": [TAKEN]}
    with pytest.raises(ValidationError):
        resources.set_slug(staff, resource.id, "not a slug", False)


def test_a_resources_slug_is_not_the_members_or_the_providers_to_set(market: Market) -> None:
    from chalicelib.services import resources

    resource = _resource(market)
    with pytest.raises(PermissionDenied):
        resources.set_slug(ctx_of(market.owner), resource.id, "mine", False)
    with pytest.raises(PermissionDenied):
        resources.set_slug(ctx_of(market.seller), resource.id, "mine", True)
    with pytest.raises(NotFound):
        resources.set_slug(ctx_of(_stranger()), resource.id, "mine", False)


def _stranger() -> Any:
    from tests.conftest import make_account

    return make_account("stranger")


# --- a resource's name, description and end date ---------------------------------------------------
def test_the_owner_renames_a_resource_with_waldurs_event(fakes: World, market: Market) -> None:
    from chalicelib.services import resources

    resource = _resource(market)
    changed = resources.update(ctx_of(market.owner), resource.id, {"name": "vm-2", "description": "d"}, False)
    assert (changed.name, changed.description, changed.slug) == ("vm-2", "d", resource.slug)
    event = fakes.events[-1]
    assert event.event_type == "marketplace_resource_update_succeeded"
    assert event.message == (
        "Marketplace resource 'vm-2' has been changed."
        " Field 'name': from vm-1 to vm-2, field 'description': from  to d."
    )


def test_a_member_may_not_change_a_resource_and_a_stranger_does_not_see_it(market: Market) -> None:
    from chalicelib.services import resources

    resource = _resource(market)
    with pytest.raises(PermissionDenied):
        resources.update(ctx_of(market.member), resource.id, {"name": "x"}, False)
    with pytest.raises(PermissionDenied):
        resources.set_end_date(ctx_of(market.member), resource.id, date.today(), "consumer")
    stranger = ctx_of(_stranger())
    with pytest.raises(NotFound):
        resources.update(stranger, resource.id, {"name": "x"}, False)
    with pytest.raises(NotFound):
        resources.set_end_date(stranger, resource.id, None, "consumer")


def test_the_consumers_end_date_may_not_be_in_the_past(fakes: World, market: Market) -> None:
    from chalicelib.services import resources

    resource = _resource(market)
    with pytest.raises(ValidationError) as refused:
        yesterday = date.today() - timedelta(days=1)
        resources.update(ctx_of(market.owner), resource.id, {"end_date": yesterday}, False)
    assert refused.value.errors == {"end_date": ["Cannot be earlier than the current date."]}
    ended = resources.set_end_date(ctx_of(market.owner), resource.id, date.today(), "consumer")
    assert ended.end_date == date.today()
    assert fakes.events[-1].event_type == "marketplace_resource_update_end_date_succeeded"
    assert resources.set_end_date(ctx_of(market.owner), resource.id, None, "consumer").end_date is None


def test_the_provider_gives_a_weeks_notice_and_does_not_patch_the_end_date(market: Market) -> None:
    from chalicelib.services import resources

    resource = _resource(market)
    seller = ctx_of(market.seller)
    with pytest.raises(ValidationError) as refused:
        resources.set_end_date(seller, resource.id, date.today() + timedelta(days=6), "provider")
    assert refused.value.errors == {"end_date": ["Please set at least 7 days in advance."]}
    later = date.today() + timedelta(days=7)
    assert resources.set_end_date(seller, resource.id, later, "provider").end_date == later
    with pytest.raises(ValidationError):
        resources.update(seller, resource.id, {"end_date": None}, True)
    assert resources.update(seller, resource.id, {"name": "renamed"}, True).name == "renamed"
    with pytest.raises(PermissionDenied):
        resources.set_end_date(seller, resource.id, later, "staff")
    with pytest.raises(NotFound):  # the provider's view of it is the provider's
        resources.set_end_date(ctx_of(market.member), resource.id, later, "provider")


def test_update_options_is_waldurs_400_for_an_offering_without_resource_options(market: Market) -> None:
    from chalicelib.services import resources

    resource = _resource(market)
    with pytest.raises(PermissionDenied):
        resources.update_options(ctx_of(market.member), resource.id, {"a": 1})
    with pytest.raises(ValidationError) as refused:
        resources.update_options(ctx_of(market.owner), resource.id, {"a": 1})
    assert refused.value.errors == {"options": ["Metadata for resource options is not defined."]}


# --- items made before slugs -------------------------------------------------------------------------
def _forget_slugs(*items: Any) -> None:
    """Make `items` look as they were stored before slugs existed (no slug, no guard)."""
    from dataclasses import replace

    from chalicelib.domain.customers import Customer
    from chalicelib.domain.projects import Project

    for item in items:
        store = ports.customers if isinstance(item, Customer) else ports.projects
        if not isinstance(item, Customer | Project):
            store = ports.resources
        current = store.load(item.customer_id, item.project_id, item.id) if store is ports.resources else None
        current = current or (store.load(item.id) if store is not ports.resources else None)
        blank = {"slug": ""}
        if isinstance(item, Project):
            blank["customer_slug"] = ""
        if store is ports.resources:
            blank.update(project_slug="", customer_slug="")
        uow = ports.unit_of_work()
        store.save_changes(uow, current, replace(current, **blank))
        ports.slugs.release(uow, type(item).__name__.lower(), item.slug)
        uow.commit()


def test_the_backfill_gives_old_items_slugs_once(market: Market) -> None:
    from chalicelib.services import slugs

    resource = _resource(market)
    _forget_slugs(market.consumer, market.project, resource)
    assert ports.resources.get(resource.id).slug == ""  # a read fills nothing in

    done = slugs.backfill()

    assert (done.customers, done.projects, done.resources) == (1, 1, 1)
    project, filled = ports.projects.get(market.project.id), ports.resources.get(resource.id)
    assert (project.slug, project.customer_slug) == ("apollo-2", "acme-2")
    assert (filled.slug, filled.project_slug, filled.customer_slug) == ("vm-1-2", "apollo-2", "acme-2")
    assert ports.slugs.holder("project", "apollo-2") == project.id
    assert slugs.backfill() == slugs.Backfilled()  # nothing left to do
