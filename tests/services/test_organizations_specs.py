"""Customers and projects, specified on the in-memory fakes (tests/fakes): the services called
directly with a caller, no AWS. The contract suite (tests/contract) holds the fakes to the store.

The specs of owners', managers' and members' rights go through the grants and the users the
memberships service reads; they run once those reach their repositories through ports (until then
the services would reach for DynamoDB, which the fakes do not have)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import Conflict, NotFound, PermissionDenied, QuotaExceeded, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.projects import Project
from chalicelib.domain.roles import CUSTOMER_OWNER, PROJECT_ADMIN, PROJECT_MANAGER
from chalicelib.domain.users import User
from chalicelib.services import customers, memberships, projects, quotas, users
from chalicelib.services.paging import Ordering, PageRequest
from chalicelib.services.ports import unit_of_work
from chalicelib.services.ports import users as user_port
from tests.fakes import World

STAFF = Principal(user_id=new_id(), username="staff", is_staff=True)
PAGE = PageRequest(1, 10)


def ctx(principal: Principal = STAFF) -> EventContext:
    return EventContext(principal=principal)


def person(username: str) -> Principal:
    """A user stored in the fakes, and the caller they are."""
    user = User(id=new_id(), username=username, date_joined=_now(), full_name=username.title())
    uow = unit_of_work()
    user_port.add(uow, user)
    uow.commit()
    return Principal(user_id=user.id, username=username, full_name=user.full_name)


def _now() -> Any:
    from chalicelib.domain.clock import utcnow

    return utcnow()


def customer(name: str = "Acme", **fields: Any) -> Customer:
    return customers.create_customer(ctx(), {"name": name, **fields})


def project(of: Customer, name: str = "Web", principal: Principal = STAFF, **fields: Any) -> Project:
    return projects.create_project(ctx(principal), of.id, {"name": name, **fields})


def event_types(world: World) -> list[str]:
    return [e.event_type for e in world.events]


def grant(principal: Principal, role: str, scope: Any) -> None:
    memberships.add_user(ctx(), scope, principal.user_id, role, None)


# --- customers -----------------------------------------------------------------------------------


def test_staff_create_a_customer_with_no_usage_at_version_1(fakes: World) -> None:
    made = customer("Acme", abbreviation="AC")
    stored = customers.get_visible(STAFF, made.id)
    assert (stored.name, stored.abbreviation, stored.version, stored.projects_count) == ("Acme", "AC", 1, 0)
    assert made == stored
    assert event_types(fakes) == ["customer_creation_succeeded"]


def test_only_staff_create_customers_and_a_refusal_writes_nothing(fakes: World) -> None:
    with pytest.raises(PermissionDenied):
        customers.create_customer(ctx(person("owen")), {"name": "Mine"})
    assert customers.list_customers(STAFF, customers.CustomerFilters(), Ordering(), PAGE).total == 0
    assert event_types(fakes) == []


def test_a_project_beyond_the_customers_limit_is_refused_and_nothing_is_written(fakes: World) -> None:
    acme = customer()
    limited = quotas.set_customer_limits(ctx(), acme.id, {"nc_project_count": 1})
    assert limited.quota_limits["nc_project_count"] == 1 and limited.version == 2
    project(acme, "First")
    with pytest.raises(QuotaExceeded) as refused:
        project(acme, "Second")
    assert refused.value.errors == [
        "One or more quotas were exceeded: nc_project_count quota limit: 1, requires 2"
    ]
    listed = projects.list_projects(STAFF, projects.ProjectFilters(customers=(acme.id,)), Ordering(), PAGE)
    assert ([p.name for p in listed.items], listed.total) == (["First"], 1)
    assert customers.get_visible(STAFF, acme.id).projects_count == 1
    assert event_types(fakes).count("project_creation_succeeded") == 1


def test_limits_are_whole_numbers_of_known_quotas(fakes: World) -> None:
    acme = customer()
    with pytest.raises(ValidationError) as refused:
        quotas.set_customer_limits(ctx(), acme.id, {"nc_project_count": -2, "disk": 1})
    assert refused.value.errors == {
        "quotas": [
            "Unknown quota: disk.",
            "nc_project_count: the limit must be a whole number, -1 (unlimited) or more.",
        ]
    }
    assert customers.get_visible(STAFF, acme.id).version == 1


def test_a_customer_with_projects_is_not_deleted(fakes: World) -> None:
    acme = customer()
    project(acme)
    with pytest.raises(Conflict) as refused:
        customers.delete_customer(ctx(), acme.id)
    assert refused.value.detail == "Cannot delete organization with existing projects."
    assert customers.get_visible(STAFF, acme.id).projects_count == 1


def test_staff_lock_a_customer_and_it_takes_no_new_projects(fakes: World) -> None:
    acme = customer()
    locked = customers.update_customer(ctx(), acme.id, {"blocked": True, "default_tax_percent": 20})
    assert locked.blocked and locked.version == 2
    with pytest.raises(ValidationError) as refused:
        project(acme)
    assert refused.value.errors == ["Blocked organization is not available."]
    unlocked = customers.update_customer(ctx(), acme.id, {"blocked": False})
    assert project(unlocked).customer_id == acme.id


def test_staff_list_customers_filtered_ordered_and_totalled(fakes: World) -> None:
    beta = customer("Beta", abbreviation="B")
    alpha = customer("Alpha", abbreviation="Z")
    gamma = customer("Gamma", abbreviation="B")
    every = customers.list_customers(STAFF, customers.CustomerFilters(), Ordering(), PageRequest(1, 2))
    assert ([c.id for c in every.items], every.total) == ([alpha.id, beta.id], 3)
    newest = customers.list_customers(STAFF, customers.CustomerFilters(), Ordering.parse("-created"), PAGE)
    assert [c.id for c in newest.items] == [gamma.id, alpha.id, beta.id]
    by_abbreviation = customers.list_customers(
        STAFF, customers.CustomerFilters(abbreviation="b"), Ordering.parse("-name"), PAGE
    )
    assert ([c.id for c in by_abbreviation.items], by_abbreviation.total) == ([gamma.id, beta.id], 2)
    exact = customers.list_customers(STAFF, customers.CustomerFilters(name_exact="Alpha"), Ordering(), PAGE)
    assert ([c.id for c in exact.items], exact.total) == ([alpha.id], 1)


def test_a_rename_is_copied_to_the_projects_by_the_task_it_queues(fakes: World) -> None:
    acme = customer()
    web = project(acme)
    customers.update_customer(ctx(), acme.id, {"name": "Acme Ltd"})
    assert projects.get_visible(STAFF, web.id).customer_name == "Acme"  # not in the request
    assert any(getattr(e, "task", None) == customers.FOLLOW_RENAME_TASK for e in fakes.effects)
    assert customers.copy_names_to_projects(acme.id) == 1
    assert projects.get_visible(STAFF, web.id).customer_name == "Acme Ltd"
    assert customers.copy_names_to_projects(acme.id) == 0  # once per version


# --- projects ------------------------------------------------------------------------------------


def test_staff_list_projects_newest_first_filtered_and_totalled(fakes: World) -> None:
    acme, zeta = customer("Acme"), customer("Zeta")
    web = project(acme, "web")
    mail = project(zeta, "Mail", description="the mail")
    site = project(acme, "Web site")
    every = projects.list_projects(STAFF, projects.ProjectFilters(), Ordering(), PageRequest(1, 2))
    assert ([p.id for p in every.items], every.total) == ([site.id, mail.id], 3)
    of_acme = projects.list_projects(STAFF, projects.ProjectFilters(customers=(acme.id,)), Ordering(), PAGE)
    assert ([p.id for p in of_acme.items], of_acme.total) == ([site.id, web.id], 2)
    by_name = projects.list_projects(STAFF, projects.ProjectFilters(name="WEB"), Ordering.parse("name"), PAGE)
    assert [p.id for p in by_name.items] == [web.id, site.id]
    described = projects.list_projects(
        STAFF, projects.ProjectFilters(customers=(acme.id, zeta.id), query="mail"), Ordering(), PAGE
    )
    assert ([p.id for p in described.items], described.total) == ([mail.id], 1)


def test_two_quick_changes_of_a_project_both_apply(fakes: World) -> None:
    web = project(customer())
    projects.update_project(ctx(), web.id, {"description": "first"})
    second = projects.update_project(ctx(), web.id, {"name": "Site"})
    assert (second.name, second.description, second.version) == ("Site", "first", 3)


def test_a_project_ending_before_it_starts_is_refused(fakes: World) -> None:
    from datetime import date

    web = project(customer())
    with pytest.raises(ValidationError):
        projects.update_project(ctx(), web.id, {"start_date": date(2027, 1, 2), "end_date": date(2027, 1, 1)})
    assert projects.get_visible(STAFF, web.id).version == 1


def test_users_list_for_staff_in_order_with_the_total(fakes: World) -> None:
    person("bob")
    person("alice")
    page = users.list_users(STAFF, users.UserFilters(), Ordering.parse("-username"), PageRequest(1, 1))
    assert ([u.username for u in page.items], page.total) == (["bob"], 2)
    named = users.list_users(STAFF, users.UserFilters(full_name="ALI"), Ordering(), PAGE)
    assert ([u.username for u in named.items], named.total) == (["alice"], 1)


def test_a_user_without_roles_lists_only_themselves(fakes: World) -> None:
    person("bob")
    alice = person("alice")
    page = users.list_users(alice, users.UserFilters(), Ordering(), PAGE)
    assert ([u.username for u in page.items], page.total) == (["alice"], 1)
    assert users.list_users(alice, users.UserFilters(username="bob"), Ordering(), PAGE).total == 0


# --- owners, managers, members, outsiders ----------------------------------------------------------


def test_a_soft_deleted_project_is_gone_from_reads_and_lists(fakes: World) -> None:
    acme = customer()
    web, kept = project(acme, "Web"), project(acme, "Kept")
    projects.delete_project(ctx(), web.id)
    with pytest.raises(NotFound):
        projects.get_visible(STAFF, web.id)
    listed = projects.list_projects(STAFF, projects.ProjectFilters(customers=(acme.id,)), Ordering(), PAGE)
    assert ([p.id for p in listed.items], listed.total) == ([kept.id], 1)
    assert customers.get_visible(STAFF, acme.id).projects_count == 1
    assert fakes.tables["removed_projects"][web.id].removed is not None


def test_an_empty_customer_is_deleted_with_its_team(fakes: World) -> None:
    acme = customer()
    owner = person("owen")
    grant(owner, CUSTOMER_OWNER, customers.scope(acme))
    customers.delete_customer(ctx(), acme.id)
    with pytest.raises(NotFound):
        customers.get_visible(STAFF, acme.id)
    assert event_types(fakes)[-2:] == ["role_revoked", "customer_deletion_succeeded"]


def test_an_owner_sees_and_changes_their_customer_but_not_its_staff_only_fields(fakes: World) -> None:
    acme, other = customer("Acme"), customer("Other")
    owner = person("owen")
    grant(owner, CUSTOMER_OWNER, customers.scope(acme))
    listed = customers.list_customers(owner, customers.CustomerFilters(), Ordering(), PAGE)
    assert ([c.id for c in listed.items], listed.total) == ([acme.id], 1)
    assert customers.update_customer(ctx(owner), acme.id, {"email": "it@acme.test"}).version == 2
    with pytest.raises(PermissionDenied) as refused:
        customers.update_customer(ctx(owner), acme.id, {"blocked": True, "domain": "acme.test"})
    assert refused.value.detail == "Only staff can change blocked, domain."
    with pytest.raises(NotFound):
        customers.update_customer(ctx(owner), other.id, {"email": "x@other.test"})
    with pytest.raises(PermissionDenied):
        customers.delete_customer(ctx(owner), acme.id)
    with pytest.raises(PermissionDenied):
        quotas.set_customer_limits(ctx(owner), acme.id, {"nc_project_count": 10})


def test_an_owner_creates_and_deletes_projects_a_manager_changes_but_may_not_end_them(fakes: World) -> None:
    from datetime import date

    acme = customer()
    owner, manager = person("owen"), person("mary")
    grant(owner, CUSTOMER_OWNER, customers.scope(acme))
    web = project(acme, "Web", principal=owner)
    grant(manager, PROJECT_MANAGER, projects.scope(web))
    assert projects.update_project(ctx(manager), web.id, {"description": "ours"}).version == 2
    with pytest.raises(PermissionDenied):
        projects.update_project(ctx(manager), web.id, {"end_date": date(2030, 1, 1)})
    with pytest.raises(PermissionDenied):
        projects.delete_project(ctx(manager), web.id)
    listed = projects.list_projects(manager, projects.ProjectFilters(), Ordering(), PAGE)
    assert ([p.id for p in listed.items], listed.total) == ([web.id], 1)
    projects.delete_project(ctx(owner), web.id)
    assert projects.list_projects(owner, projects.ProjectFilters(), Ordering(), PAGE).total == 0


def test_a_project_admin_reads_but_an_outsider_sees_nothing(fakes: World) -> None:
    acme = customer()
    web, other = project(acme, "Web"), project(acme, "Other")
    admin, outsider = person("adam"), person("otto")
    grant(admin, PROJECT_ADMIN, projects.scope(web))
    assert projects.get_visible(admin, web.id) == projects.get_visible(STAFF, web.id)
    with pytest.raises(NotFound):
        projects.get_visible(admin, other.id)
    with pytest.raises(NotFound):
        projects.get_visible(outsider, web.id)
    assert projects.list_projects(outsider, projects.ProjectFilters(), Ordering(), PAGE).total == 0
    assert customers.list_customers(outsider, customers.CustomerFilters(), Ordering(), PAGE).total == 0
    with pytest.raises(ValidationError) as refused:
        project(acme, "Mine", principal=outsider)
    assert refused.value.errors == {"customer": ["Invalid hyperlink - Object does not exist."]}
