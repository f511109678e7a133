"""Customers and projects (and the users' list): the fakes and the store agree
(tests/contract/conftest.py). Platform-wide totals lag on the store (kept from the stream, which
these tests do not run); a page never shows a total below what it and the next item hold, so with
a few items the totals agree with the fakes' exact ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import Conflict, NotFound, QuotaExceeded
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import PROJECT_COUNT, RESOURCE_COUNT, UNLIMITED, USER_COUNT
from chalicelib.domain.users import User
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import CustomerQuery, Ports, ProjectQuery, UserQuery

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
LOST_RACE = "The object was changed by another request. Please reload it and try again."
HAS_PROJECTS = "Cannot delete organization with existing projects."
HAS_RESOURCES = "Project has resources. Please remove them before deleting the project."


def _id(n: int) -> str:
    """Ids in creation order (as new_id's are)."""
    return f"{n:032x}"


def _customer(ports: Ports, n: int, name: str, **fields: object) -> Customer:
    uow = ports.unit_of_work()
    ports.customers.add(uow, Customer(id=_id(n), name=name, created=NOW, **fields))  # type: ignore[arg-type]
    uow.commit()
    stored = ports.customers.load(_id(n))
    assert stored is not None
    return stored


def _project(ports: Ports, customer: Customer, n: int, name: str, **fields: Any) -> Project:
    project = Project(
        id=_id(n), customer_id=customer.id, name=name, created=NOW, customer_name=customer.name, **fields
    )
    uow = ports.unit_of_work()
    ports.projects.add(uow, project)
    uow.commit()
    stored = ports.projects.load(project.id)
    assert stored is not None
    return stored


def _ids(items: list[Customer] | list[Project] | list[User]) -> list[str]:
    return [item.id for item in items]


# --- customers -----------------------------------------------------------------------------------


def test_a_customer_added_is_found_at_version_1_with_zero_usage_and_no_limits(ports: Ports) -> None:
    stored = _customer(ports, 1, "Acme", abbreviation="AC", email="a@acme.test")
    assert (stored.name, stored.abbreviation, stored.email, stored.version) == (
        "Acme",
        "AC",
        "a@acme.test",
        1,
    )
    assert stored.quota_usage == {PROJECT_COUNT: 0, USER_COUNT: 0, RESOURCE_COUNT: 0}
    assert set(stored.quota_limits.values()) == {UNLIMITED}
    assert ports.customers.get(stored.id) == stored
    assert ports.customers.get_many([_id(2), stored.id, stored.id]) == [stored]
    assert ports.customers.get(_id(2)) is None and ports.customers.load(_id(2)) is None


def test_saving_a_customer_bumps_its_version_and_a_stale_copy_loses(ports: Ports) -> None:
    before = _customer(ports, 1, "Acme")
    uow = ports.unit_of_work()
    ports.customers.save_changes(uow, before, replace(before, name="Acme Ltd", blocked=True))
    uow.commit()
    after = ports.customers.load(before.id)
    assert after is not None and (after.name, after.blocked, after.version) == ("Acme Ltd", True, 2)
    stale = ports.unit_of_work()
    ports.customers.save_changes(stale, before, replace(before, email="x@acme.test"))
    with pytest.raises(Conflict) as refused:
        stale.commit()
    assert refused.value.detail == LOST_RACE
    assert ports.customers.load(before.id) == after


def test_a_project_over_the_customers_limit_is_refused_and_nothing_is_written(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    uow = ports.unit_of_work()
    ports.customers.set_quota_limits(uow, acme, {PROJECT_COUNT: 1})
    uow.commit()
    limited = ports.customers.load(acme.id)
    assert limited is not None and limited.version == 2 and limited.quota_limits[PROJECT_COUNT] == 1
    _project(ports, acme, 10, "First")
    uow = ports.unit_of_work()
    ports.projects.add(uow, Project(id=_id(11), customer_id=acme.id, name="Second", created=NOW))
    with pytest.raises(QuotaExceeded) as refused:
        uow.commit()
    assert refused.value.errors == [
        "One or more quotas were exceeded: nc_project_count quota limit: 1, requires 2"
    ]
    assert ports.projects.get(_id(11)) is None
    counted = ports.customers.load(acme.id)
    assert counted is not None and counted.projects_count == 1


def test_a_setting_of_limits_on_a_stale_customer_loses(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    uow = ports.unit_of_work()
    ports.customers.save_changes(uow, acme, replace(acme, email="new@acme.test"))
    uow.commit()
    stale = ports.unit_of_work()
    ports.customers.set_quota_limits(stale, acme, {PROJECT_COUNT: 5})
    with pytest.raises(Conflict):
        stale.commit()


def test_a_unit_of_quota_is_taken_and_given_back(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    uow = ports.unit_of_work()
    ports.customers.take_one(uow, acme.id, USER_COUNT)
    uow.commit()
    taken = ports.customers.load(acme.id)
    assert taken is not None and taken.users_count == 1 and taken.version == acme.version
    uow = ports.unit_of_work()
    ports.customers.release_one(uow, acme.id, USER_COUNT)
    uow.commit()
    released = ports.customers.load(acme.id)
    assert released is not None and released.users_count == 0
    missing = ports.unit_of_work()
    ports.customers.take_one(missing, _id(9), USER_COUNT)
    with pytest.raises(NotFound):
        missing.commit()


def test_a_customer_with_projects_is_not_removed_and_without_them_is(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    project = _project(ports, acme, 10, "Web")
    uow = ports.unit_of_work()
    ports.customers.remove(uow, ports.customers.load(acme.id))  # type: ignore[arg-type]
    with pytest.raises(Conflict) as refused:
        uow.commit()
    assert refused.value.detail == HAS_PROJECTS
    uow = ports.unit_of_work()
    ports.projects.remove(uow, project, NOW)
    uow.commit()
    uow = ports.unit_of_work()
    ports.customers.remove(uow, ports.customers.load(acme.id))  # type: ignore[arg-type]
    uow.commit()
    assert ports.customers.get(acme.id) is None


def _three_customers(ports: Ports) -> None:
    _customer(ports, 1, "Beta", abbreviation="X", native_name="b")
    _customer(ports, 2, "Alpha", abbreviation="Y", native_name="c")
    _customer(ports, 3, "Gamma", abbreviation="X", native_name="a")


@pytest.mark.parametrize(
    ("order", "descending", "expected"),
    [
        ("name", False, [2, 1, 3]),
        ("name", True, [3, 1, 2]),
        ("created", False, [1, 2, 3]),
        ("created", True, [3, 2, 1]),
        ("abbreviation", False, [1, 3, 2]),  # ties by name
        ("abbreviation", True, [2, 3, 1]),  # ties by name, descending
        ("native_name", False, [3, 1, 2]),
    ],
)
def test_customer_pages_come_in_the_stores_orders(
    ports: Ports, order: str, descending: bool, expected: list[int]
) -> None:
    _three_customers(ports)
    page = ports.customers.page(CustomerQuery(order=order, descending=descending), PageRequest(1, 10))
    assert (_ids(page.items), page.total) == ([_id(n) for n in expected], 3)


def test_customer_pages_are_cut_with_the_whole_lists_total(ports: Ports) -> None:
    _three_customers(ports)
    first = ports.customers.page(CustomerQuery(), PageRequest(1, 2))
    second = ports.customers.page(CustomerQuery(), PageRequest(2, 2))
    assert (_ids(first.items), first.total) == ([_id(2), _id(1)], 3)
    assert (_ids(second.items), second.total) == ([_id(3)], 3)


def test_customer_pages_filter_by_exact_name_and_by_what_the_service_matches(ports: Ports) -> None:
    _three_customers(ports)
    _customer(ports, 4, "Alpha", abbreviation="Z")
    exact = ports.customers.page(CustomerQuery(name_exact="Alpha"), PageRequest(1, 10))
    assert (_ids(exact.items), exact.total) == ([_id(2), _id(4)], 2)
    newest = ports.customers.page(
        CustomerQuery(name_exact="Alpha", order="created", descending=True), PageRequest(1, 10)
    )
    assert _ids(newest.items) == [_id(4), _id(2)]
    both = ports.customers.page(
        CustomerQuery(name_exact="Alpha", matches=lambda c: c.abbreviation == "Z"), PageRequest(1, 10)
    )
    assert (_ids(both.items), both.total) == ([_id(4)], 1)
    matched = ports.customers.page(
        CustomerQuery(matches=lambda c: c.abbreviation == "X", order="created", descending=True),
        PageRequest(1, 1),
    )
    assert (_ids(matched.items), matched.total) == ([_id(3)], 2)


# --- projects ------------------------------------------------------------------------------------


def test_a_project_added_is_found_every_way_and_counted_against_its_customer(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    stored = _project(ports, acme, 10, "Web", description="the site")
    assert (stored.name, stored.description, stored.customer_name, stored.version) == (
        "Web",
        "the site",
        "Acme",
        1,
    )
    assert stored.quota_usage == {RESOURCE_COUNT: 0} and stored.quota_limits == {RESOURCE_COUNT: UNLIMITED}
    assert ports.projects.get(stored.id) == stored
    assert ports.projects.load_in(acme.id, stored.id) == stored
    assert ports.projects.load_in(_id(2), stored.id) is None
    assert ports.projects.get_many({stored.id: acme.id, _id(11): acme.id}) == [stored]
    counted = ports.customers.load(acme.id)
    assert counted is not None and counted.projects_count == 1


def test_a_project_for_a_missing_customer_is_refused(ports: Ports) -> None:
    uow = ports.unit_of_work()
    ports.projects.add(uow, Project(id=_id(10), customer_id=_id(9), name="Orphan", created=NOW))
    with pytest.raises(NotFound):
        uow.commit()
    assert ports.projects.get(_id(10)) is None


def test_saving_a_project_bumps_its_version_and_a_stale_copy_loses(ports: Ports) -> None:
    before = _project(ports, _customer(ports, 1, "Acme"), 10, "Web")
    uow = ports.unit_of_work()
    ports.projects.save_changes(uow, before, replace(before, name="Site", is_industry=True))
    uow.commit()
    after = ports.projects.load(before.id)
    assert after is not None and (after.name, after.is_industry, after.version) == ("Site", True, 2)
    stale = ports.unit_of_work()
    ports.projects.save_changes(stale, before, replace(before, description="old"))
    with pytest.raises(Conflict) as refused:
        stale.commit()
    assert refused.value.detail == LOST_RACE
    assert ports.projects.load(before.id) == after


def test_a_removed_project_is_gone_from_reads_and_lists_and_gives_its_unit_back(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    gone = _project(ports, acme, 10, "Old")
    kept = _project(ports, acme, 11, "New")
    uow = ports.unit_of_work()
    ports.projects.remove(uow, gone, NOW)
    uow.commit()
    assert ports.projects.get(gone.id) is None and ports.projects.load(gone.id) is None
    assert ports.projects.get_many({gone.id: acme.id}) == []
    assert _ids(ports.projects.of_customer(acme.id)) == [kept.id]
    page = ports.projects.page(ProjectQuery(customer_ids=(acme.id,)), PageRequest(1, 10))
    assert (_ids(page.items), page.total) == ([kept.id], 1)
    counted = ports.customers.load(acme.id)
    assert counted is not None and counted.projects_count == 1


def test_a_project_holding_resources_is_not_removed_and_a_stale_one_loses(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    project = _project(ports, acme, 10, "Web")
    uow = ports.unit_of_work()
    ports.projects.take_one(uow, acme.id, project.id, RESOURCE_COUNT)
    uow.commit()
    holding = ports.projects.load(project.id)
    assert holding is not None and holding.resources_count == 1 and holding.version == 1
    refused = ports.unit_of_work()
    ports.projects.remove(refused, holding, NOW)
    with pytest.raises(Conflict) as has_resources:
        refused.commit()
    assert has_resources.value.detail == HAS_RESOURCES
    uow = ports.unit_of_work()
    ports.projects.release_one(uow, acme.id, project.id, RESOURCE_COUNT)
    uow.commit()
    uow = ports.unit_of_work()
    ports.projects.save_changes(uow, holding, replace(holding, name="Renamed"))
    uow.commit()
    stale = ports.unit_of_work()
    ports.projects.remove(stale, holding, NOW)
    with pytest.raises(Conflict) as lost:
        stale.commit()
    assert lost.value.detail == LOST_RACE
    assert ports.projects.get(project.id) is not None


def test_a_projects_resources_are_refused_at_its_limit(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    project = _project(ports, acme, 10, "Web")
    uow = ports.unit_of_work()
    ports.projects.set_quota_limits(uow, project, {RESOURCE_COUNT: 1})
    uow.commit()
    for _ in range(2):
        uow = ports.unit_of_work()
        ports.projects.take_one(uow, acme.id, project.id, RESOURCE_COUNT)
        if _ == 1:
            with pytest.raises(QuotaExceeded) as refused:
                uow.commit()
        else:
            uow.commit()
    assert refused.value.errors == [
        "One or more quotas were exceeded: nc_resource_count quota limit: 1, requires 2"
    ]
    limited = ports.projects.load(project.id)
    assert limited is not None and (limited.resources_count, limited.version) == (1, 2)


def test_a_customer_rename_is_copied_once_per_version_and_never_backwards(ports: Ports) -> None:
    acme = _customer(ports, 1, "Acme")
    _project(ports, acme, 10, "Web")
    _project(ports, acme, 11, "Mail")
    assert ports.projects.follow_customer_rename(acme.id, "Acme Ltd", "AL", "Acme", 3) == 2
    assert ports.projects.follow_customer_rename(acme.id, "Acme Old", "AO", "", 2) == 0
    copied = ports.projects.load(_id(10))
    assert copied is not None
    assert (copied.customer_name, copied.customer_abbreviation, copied.customer_native_name) == (
        "Acme Ltd",
        "AL",
        "Acme",
    )
    assert copied.version == 1  # the copy is not a change of the project's own


def _projects_of_two(ports: Ports) -> tuple[Customer, Customer]:
    acme = _customer(ports, 1, "acme")
    zeta = _customer(ports, 2, "Zeta")
    _project(ports, acme, 10, "web")
    _project(ports, zeta, 11, "Mail")
    _project(ports, acme, 12, "Web")
    return acme, zeta


@pytest.mark.parametrize(
    ("order", "descending", "expected"),
    [
        ("created", True, [12, 11, 10]),
        ("created", False, [10, 11, 12]),
        ("name", False, [11, 10, 12]),  # case-insensitive, ties by creation
        ("name", True, [12, 10, 11]),  # ties by creation, newest first
        ("customer_name", False, [10, 12, 11]),
    ],
)
def test_project_pages_come_in_the_stores_orders(
    ports: Ports, order: str, descending: bool, expected: list[int]
) -> None:
    acme, zeta = _projects_of_two(ports)
    wanted = [_id(n) for n in expected]
    for customer_ids in [(), (acme.id, zeta.id)]:
        query = ProjectQuery(customer_ids=customer_ids, order=order, descending=descending)
        page = ports.projects.page(query, PageRequest(1, 10))
        assert (_ids(page.items), page.total) == (wanted, 3)


def test_project_pages_of_one_customer_are_totalled_by_its_count(ports: Ports) -> None:
    acme, _ = _projects_of_two(ports)
    first = ports.projects.page(ProjectQuery(customer_ids=(acme.id,)), PageRequest(1, 1))
    second = ports.projects.page(ProjectQuery(customer_ids=(acme.id,)), PageRequest(2, 1))
    assert (_ids(first.items), first.total) == ([_id(12)], 2)
    assert (_ids(second.items), second.total) == ([_id(10)], 2)
    every = ports.projects.page(ProjectQuery(), PageRequest(2, 2))
    assert (_ids(every.items), every.total) == ([_id(10)], 3)
    nobody = ports.projects.page(ProjectQuery(customer_ids=(_id(9),)), PageRequest(1, 10))
    assert (nobody.items, nobody.total) == ([], 0)


def test_project_pages_keep_what_the_service_matches(ports: Ports) -> None:
    acme, zeta = _projects_of_two(ports)
    web = ProjectQuery(matches=lambda p: p.name.lower() == "web")
    page = ports.projects.page(web, PageRequest(1, 1))
    assert (_ids(page.items), page.total) == ([_id(12)], 2)
    narrowed = replace(web, customer_ids=(zeta.id,))
    assert ports.projects.page(narrowed, PageRequest(1, 10)).total == 0
    merged = replace(web, customer_ids=(acme.id, zeta.id), descending=False)
    assert _ids(ports.projects.page(merged, PageRequest(1, 10)).items) == [_id(10), _id(12)]
    assert _ids(ports.projects.of_customer(acme.id)) == [_id(12), _id(10)]


# --- the users' list -----------------------------------------------------------------------------


def _user(ports: Ports, n: int, username: str, full_name: str, **fields: object) -> User:
    user = User(id=_id(n), username=username, date_joined=NOW, full_name=full_name, **fields)  # type: ignore[arg-type]
    uow = ports.unit_of_work()
    ports.users.add(uow, user)
    uow.commit()
    return user


@pytest.mark.parametrize(
    ("order", "descending", "expected"),
    [
        ("username", False, [2, 1, 3]),
        ("username", True, [3, 1, 2]),
        ("full_name", False, [1, 2, 3]),  # case-insensitive, ties by username
        ("full_name", True, [2, 3, 1]),  # ties still by username, ascending
        ("is_staff", True, [3, 2, 1]),
    ],
)
def test_user_pages_come_in_the_stores_orders(
    ports: Ports, order: str, descending: bool, expected: list[int]
) -> None:
    _user(ports, 1, "bob", "Anna")
    _user(ports, 2, "alice", "zed")
    _user(ports, 3, "carol", "Zed", is_staff=True)
    page = ports.users.page(UserQuery(order=order, descending=descending), PageRequest(1, 10))
    assert (_ids(page.items), page.total) == ([_id(n) for n in expected], 3)
    cut = ports.users.page(UserQuery(order=order, descending=descending), PageRequest(2, 2))
    assert (_ids(cut.items), cut.total) == ([_id(expected[2])], 3)


def test_user_pages_filter_by_exact_username_and_what_the_service_matches(ports: Ports) -> None:
    _user(ports, 1, "bob", "Anna")
    _user(ports, 2, "alice", "zed", is_staff=True)
    exact = ports.users.page(UserQuery(username_exact="alice"), PageRequest(1, 10))
    assert (_ids(exact.items), exact.total) == ([_id(2)], 1)
    staff = UserQuery(username_exact="bob", matches=lambda u: u.is_staff)
    assert ports.users.page(staff, PageRequest(1, 10)).total == 0
    anna = ports.users.page(UserQuery(matches=lambda u: u.full_name == "Anna"), PageRequest(1, 10))
    assert (_ids(anna.items), anna.total) == ([_id(1)], 1)
