"""The slug guards and counters (store/slugs.py) and their fake behave alike."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.slugs import TAKEN
from chalicelib.services.ports import Ports


def test_numbers_count_up_per_kind_and_base(ports: Ports) -> None:
    store = ports.slugs
    assert [store.next_number("project", "apollo") for _ in range(3)] == [1, 2, 3]
    assert store.next_number("project", "gemini") == 1
    assert store.next_number("resource", "apollo") == 1


def test_a_claimed_slug_names_its_holder_until_released(ports: Ports) -> None:
    store = ports.slugs
    assert store.holder("project", "apollo-1") is None
    uow = ports.unit_of_work()
    store.claim(uow, "project", "apollo-1", "p1")
    uow.commit()
    assert store.holder("project", "apollo-1") == "p1"
    assert store.holder("customer", "apollo-1") is None  # unique per kind only

    uow = ports.unit_of_work()
    store.release(uow, "project", "apollo-1")
    store.claim(uow, "project", "apollo-x", "p1")
    uow.commit()
    assert (store.holder("project", "apollo-1"), store.holder("project", "apollo-x")) == (None, "p1")


def test_a_slug_held_by_another_item_is_refused_and_nothing_lands(ports: Ports) -> None:
    store = ports.slugs
    uow = ports.unit_of_work()
    store.claim(uow, "resource", "vm-1", "r1")
    uow.commit()

    uow = ports.unit_of_work()
    store.claim(uow, "resource", "vm-2", "r2")
    store.claim(uow, "resource", "vm-1", "r2")
    with pytest.raises(ValidationError) as refused:
        uow.commit()
    assert refused.value.errors == {"slug": [TAKEN]}
    assert (store.holder("resource", "vm-1"), store.holder("resource", "vm-2")) == ("r1", None)


def test_the_holder_claiming_its_own_slug_again_is_fine(ports: Ports) -> None:
    store = ports.slugs
    for _ in range(2):
        uow = ports.unit_of_work()
        store.claim(uow, "customer", "acme-1", "c1")
        uow.commit()
    assert store.holder("customer", "acme-1") == "c1"


def test_customers_projects_and_resources_keep_their_slugs(ports: Ports) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from chalicelib.domain.customers import Customer
    from chalicelib.domain.projects import Project

    now = datetime(2026, 1, 1, tzinfo=UTC)
    customer = Customer(id="c" * 32, name="Acme", created=now, slug="acme-1")
    project = Project(id="p" * 32, customer_id=customer.id, name="Apollo", created=now, slug="apollo-1")
    uow = ports.unit_of_work()
    ports.customers.add(uow, customer)
    uow.commit()
    uow = ports.unit_of_work()  # the project counts against its customer: a transaction of its own
    ports.projects.add(uow, replace(project, customer_slug="acme-1"))
    uow.commit()
    stored = ports.projects.load(project.id)
    assert stored is not None and (stored.slug, stored.customer_slug) == ("apollo-1", "acme-1")
    assert ports.customers.load(customer.id).slug == "acme-1"  # type: ignore[union-attr]

    uow = ports.unit_of_work()
    ports.projects.save_changes(uow, stored, replace(stored, slug="apollo", customer_slug="acme"))
    uow.commit()
    again = ports.projects.load(project.id)
    assert again is not None and (again.slug, again.customer_slug) == ("apollo", "acme")
