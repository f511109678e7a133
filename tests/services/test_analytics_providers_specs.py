"""The providers' statistics (services/analytics_providers.py) on the fakes: aggregates put in as the
stream consumer would (a resource's facts before and after a change), read through the port, and
the service's own reckoning checked by hand — distinct projects from the pairs, a customer's arrival
month, the twelve-month windows, the top lists' order, revenue in cents, who sees a provider."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import analytics_providers as facts
from chalicelib.domain.clock import set_source
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied
from chalicelib.domain.ids import new_id
from chalicelib.domain.invoices import InvoiceItem
from chalicelib.domain.offerings import ServiceProvider
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import ResourceState as S
from chalicelib.services import access
from chalicelib.services import analytics_providers as service
from chalicelib.services.ports import current, unit_of_work
from chalicelib.services.ports import service_providers as provider_port
from tests.fakes import World

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
STAFF = Principal(user_id=new_id(), username="staff", is_staff=True)
STRANGER = Principal(user_id=new_id(), username="stranger")
P1, P2 = new_id(), new_id()  # the providers' customers


@pytest.fixture
def fold(fakes: World) -> Any:
    access._memo.set(None)
    access._roles_memo.set(None)
    set_source(lambda: NOW)
    return current().analytics.fold  # type: ignore[attr-defined]


def resource(
    provider: str, customer: str, project: str, state: S, created: datetime, **more: Any
) -> Resource:
    names = {P1: "Alpha Cloud", P2: "Beta Cloud"}
    return Resource(
        id=new_id(),
        name="r",
        state=state,
        customer_id=customer,
        project_id=project,
        offering_id=more.pop("offering", "o1"),
        provider_id=provider,
        created=created,
        modified=created,
        customer_name=more.pop("customer_name", customer.title()),
        offering_name="Compute",
        provider_name=names[provider],
        **more,
    )


def add(fold: Any, *resources: Resource) -> None:
    for r in resources:
        fold((), facts.resource_facts(r))


def change(fold: Any, before: Resource, state: S) -> Resource:
    after = replace(before, state=state)
    fold(facts.resource_facts(before), facts.resource_facts(after))
    return after


def registered(customer_id: str) -> ServiceProvider:
    provider = ServiceProvider(id=new_id(), customer_id=customer_id, created=NOW)
    uow = unit_of_work()
    provider_port.add(uow, provider)
    uow.commit()
    return provider


def test_distinct_projects_follow_pairs_going_to_zero_and_back(fold):
    one = resource(P1, "acme", "apollo", S.OK, NOW)
    two = resource(P1, "acme", "apollo", S.OK, NOW)
    three = resource(P1, "acme", "gemini", S.UPDATING, NOW)
    add(fold, one, two, three, resource(P2, "acme", "apollo", S.OK, NOW))
    assert [
        (p.customer_name, p.resources_count, p.projects_count) for p in service.top_providers(STAFF, None)
    ] == [
        ("Alpha Cloud", 3, 2),
        ("Beta Cloud", 1, 1),
    ]
    change(fold, one, S.TERMINATED)
    assert service.top_providers(STAFF, None)[0].projects_count == 2  # Apollo still has `two`
    gone = change(fold, two, S.ERRED)
    assert (
        service.top_providers(STAFF, None)[0].resources_count,
        service.top_providers(STAFF, None)[0].projects_count,
    ) == (1, 1)
    change(fold, gone, S.OK)
    assert service.top_providers(STAFF, 1)[0].projects_count == 2
    assert len(service.top_providers(STAFF, 1)) == 1


def test_ties_are_ordered_by_name_and_a_provider_with_none_active_is_left_out(fold):
    add(fold, resource(P2, "acme", "apollo", S.OK, NOW), resource(P1, "acme", "apollo", S.OK, NOW))
    add(fold, resource(P1, "zen", "zeus", S.CREATING, NOW))
    assert [p.customer_name for p in service.top_providers(STAFF, None)] == ["Alpha Cloud", "Beta Cloud"]
    change(fold, resource(P2, "acme", "apollo", S.OK, NOW), S.TERMINATED)  # its only active one goes
    assert [p.customer_name for p in service.top_providers(STAFF, None)] == ["Alpha Cloud"]


def test_the_platform_lists_are_refused_to_anybody_but_staff_and_support(fold):
    with pytest.raises(PermissionDenied):
        service.top_providers(STRANGER, None)
    with pytest.raises(PermissionDenied):
        service.active_by_offering(STRANGER)


def test_a_customer_arrives_in_the_month_of_its_first_resource(fold):
    provider = registered(P1)
    december = datetime(2025, 12, 5, tzinfo=UTC)
    add(
        fold,
        resource(P1, "acme", "apollo", S.TERMINATED, datetime(2025, 3, 1, tzinfo=UTC)),  # out of the window
        resource(P1, "acme", "apollo", S.OK, NOW),
        resource(P1, "zen", "zeus", S.OK, NOW),
        resource(P1, "zen", "zeus", S.ERRED, december),
        resource(P1, "new", "nova", S.CREATING, NOW),
    )
    found = service.customers(STAFF, provider.id)
    assert found.total == 3  # acme (the OK one), zen, new
    assert found.new_this_month == 1  # only `new`: acme came in March 2025, zen in December
    assert found.monthly[0] == ("2025-04", 0) and found.monthly[-1] == ("2026-03", 3)
    assert dict(found.monthly)["2025-12"] == 1 and len(found.monthly) == 12
    assert [(c.customer_name, c.resource_count) for c in found.top_by_resources] == [
        ("Zen", 2),
        ("Acme", 1),
        ("New", 1),
    ]


def test_revenue_is_in_cents_with_names_from_the_resources(fold):
    provider = registered(P1)
    add(fold, resource(P1, "acme", "apollo", S.OK, NOW, customer_name="Acme Ltd"))
    for customer, price in (("acme", "10.5"), ("acme", "0.25"), ("zen", "99")):
        item = InvoiceItem(
            id=new_id(), customer_id=customer, year=2026, month=3, name="x", unit="month",
            unit_price=Decimal(price), quantity=Decimal(1), start=NOW, end=NOW,
            offering_id="o1", provider_id=P1,
        )  # fmt: skip
        fold((), facts.invoice_item_facts(item))
    top = service.customers(STAFF, provider.id).top_by_revenue
    # zen has no resource of the provider: no label; its name comes from the customers (none here)
    assert [(c.customer_id, c.customer_name, str(c.revenue)) for c in top] == [
        ("zen", "", "99.00"),
        ("acme", "Acme Ltd", "10.75"),
    ]


def test_a_provider_the_caller_does_not_see_has_empty_figures(fold):
    provider = registered(P1)
    add(fold, resource(P1, "acme", "apollo", S.OK, NOW))
    assert service.resources(STAFF, provider.id).total == 1
    hidden = service.resources(STRANGER, provider.id)
    assert (hidden.total, hidden.by_state, hidden.by_offering) == (0, {}, [])
    assert [n for _, n in hidden.monthly] == [0] * 12
    assert service.resources(STAFF, new_id()).total == 0  # no such provider
    assert service.offerings(STRANGER, provider.id) == []
