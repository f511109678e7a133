"""Slugs stay unique per kind on DynamoDB (moto) when creations interleave: each creation takes its
number from an atomic counter before its transaction and claims its slug's guard item in it, so
two creations of the same name racing each other get different slugs, and a slug set by hand
meanwhile refuses the creation that would have doubled it, writing nothing."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.slugs import TAKEN, SlugKind
from tests.conftest import make_account
from tests.marketplace_helpers import ctx_of


@pytest.fixture
def staff(aws):
    return make_account("staff", is_staff=True)


def test_two_creations_with_one_name_get_two_slugs_however_they_interleave(staff):
    from chalicelib.services import customers, projects, slugs
    from chalicelib.services.ports import projects as project_store
    from chalicelib.services.ports import unit_of_work

    ctx = ctx_of(staff)
    acme = customers.create_customer(ctx, {"name": "Acme"})
    # Request A has its slug and has not committed yet when request B creates the same name.
    pending = slugs.generate(SlugKind.PROJECT, "Apollo")
    other = projects.create_project(ctx, acme.id, {"name": "Apollo"})
    uow = unit_of_work()
    slugs.claim(uow, SlugKind.PROJECT, pending, "project-of-a")
    uow.commit()
    assert (pending, other.slug) == ("apollo-1", "apollo-2")
    assert project_store.get(other.id).slug == "apollo-2"
    third = projects.create_project(ctx, acme.id, {"name": "Apollo"})
    assert third.slug == "apollo-3"


def test_a_slug_set_by_hand_meanwhile_refuses_the_creation_that_would_double_it(staff):
    from chalicelib.services import customers, projects, slugs
    from chalicelib.services.ports import unit_of_work

    ctx = ctx_of(staff)
    acme = customers.create_customer(ctx, {"name": "Acme"})
    mars = projects.create_project(ctx, acme.id, {"name": "Mars"})
    pending = slugs.generate(SlugKind.PROJECT, "Gemini")  # free when it was checked
    projects.set_slug(ctx, mars.id, pending)
    uow = unit_of_work()
    slugs.claim(uow, SlugKind.PROJECT, pending, "project-of-a")
    with pytest.raises(ValidationError) as refused:
        uow.commit()
    assert refused.value.errors == {"slug": [TAKEN]}
    # the next creation of that name steps over the taken number
    assert projects.create_project(ctx, acme.id, {"name": "Gemini"}).slug == "gemini-2"


def test_the_api_shows_slugs_and_refuses_a_taken_one(client, staff):
    from tests.helpers import call, create_customer, create_project

    customer = create_customer(client, staff)
    assert customer["slug"] == "acme-1"
    first, second = create_project(client, staff, customer), create_project(client, staff, customer)
    assert (first["slug"], second["slug"], second["customer_slug"]) == ("apollo-1", "apollo-2", "acme-1")
    taken = call(client, "POST", f"/api/projects/{second['uuid']}/set_slug/", staff, {"slug": "apollo-1"})
    assert (taken.status, taken.json) == (400, {"slug": [TAKEN]})
    renamed = call(client, "PATCH", f"/api/projects/{first['uuid']}/", staff, {"name": "Z"})
    assert (renamed.json["name"], renamed.json["slug"]) == ("Z", "apollo-1")
    found = call(client, "GET", "/api/projects/?slug=apollo-2", staff)
    assert [p["uuid"] for p in found.json] == [second["uuid"]]
