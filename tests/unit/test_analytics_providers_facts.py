"""What a resource and an invoice item add to the providers' series (domain/analytics_providers.py):
placed by the object's own state, created month and ids, so a change moves exactly the difference."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain import analytics_providers as facts
from chalicelib.domain.analytics import NOW, moves
from chalicelib.domain.invoices import InvoiceItem
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import ResourceState as S

CREATED = datetime(2026, 2, 27, 23, 59, tzinfo=UTC)
MINE = facts.provider_series("prov")


def vm(state: S = S.OK, plan: str | None = "plan") -> Resource:
    return Resource(
        id="r1", name="vm", state=state, customer_id="cust", project_id="proj", offering_id="off",
        provider_id="prov", created=CREATED, modified=CREATED, plan_id=plan, customer_name="Acme",
        offering_name="Compute", provider_name="Cloud", plan_name="Small",
    )  # fmt: skip


def keys(resource: Resource) -> set[tuple[str, str, str]]:
    return {(a.series, a.period, a.field) for a in facts.resource_facts(resource)}


def test_an_active_resource_counts_everywhere():
    assert keys(vm()) == {
        (MINE, NOW, "state:OK"),
        (MINE, NOW, "offering_all:off"),
        (MINE, NOW, "offering:off"),
        (MINE, NOW, "offering_active:off"),
        (MINE, NOW, "customer:cust"),
        (MINE, NOW, "offering_customer:off:cust"),
        (MINE, NOW, "plan:plan"),
        (MINE, "M#2026-02", "created"),
        (MINE, "M#2026-02", "customer:cust"),
        (facts.PROVIDERS_ACTIVE, NOW, "prov"),
        (facts.PROVIDERS_PROJECTS, NOW, "prov:proj"),
        (facts.PROVIDERS_OFFERINGS, NOW, "prov:off"),
    }
    labels = {a.field: a.label for a in facts.resource_facts(vm()) if a.series == facts.PROVIDERS_ACTIVE}
    assert labels == {"prov": "Cloud"}


def test_erred_is_live_but_not_active_and_terminated_is_neither():
    erred, gone = keys(vm(S.ERRED)), keys(vm(S.TERMINATED))
    assert (MINE, NOW, "customer:cust") in erred and (facts.PROVIDERS_ACTIVE, NOW, "prov") not in erred
    assert gone == {
        (MINE, NOW, "state:Terminated"),
        (MINE, NOW, "offering_all:off"),
        (MINE, "M#2026-02", "created"),
        (MINE, "M#2026-02", "customer:cust"),
    }


def test_terminating_counts_as_active_as_in_waldur():
    assert (facts.PROVIDERS_ACTIVE, NOW, "prov") in keys(vm(S.TERMINATING))


def test_a_state_change_moves_only_what_differs():
    moved = {
        (m.series, m.field, m.amount)
        for m in moves(facts.resource_facts(vm()), facts.resource_facts(vm(S.ERRED)))
    }
    assert moved == {
        (MINE, "state:OK", Decimal(-1)),
        (MINE, "state:Erred", Decimal(1)),
        (MINE, "offering_active:off", Decimal(-1)),
        (MINE, "plan:plan", Decimal(-1)),
        (facts.PROVIDERS_ACTIVE, "prov", Decimal(-1)),
        (facts.PROVIDERS_PROJECTS, "prov:proj", Decimal(-1)),
        (facts.PROVIDERS_OFFERINGS, "prov:off", Decimal(-1)),
    }
    assert moves(facts.resource_facts(vm()), facts.resource_facts(replace(vm(), name="renamed"))) == []


def test_a_resource_without_a_provider_or_a_plan():
    assert facts.resource_facts(replace(vm(), provider_id="")) == []
    assert not any(a.field.startswith("plan:") for a in facts.resource_facts(vm(plan=None)))


def test_an_invoice_items_price_is_its_providers_revenue():
    item = InvoiceItem(
        id="i", customer_id="cust", year=2026, month=2, name="x", unit="month", unit_price=Decimal("2.5"),
        quantity=Decimal(3), start=CREATED, end=CREATED, offering_id="off", provider_id="prov",
    )  # fmt: skip
    assert [(a.series, a.period, a.field, a.amount) for a in facts.invoice_item_facts(item)] == [
        (MINE, NOW, "revenue:cust", Decimal("7.50")),
        (MINE, NOW, "revenue_offering:off", Decimal("7.50")),
    ]
    assert facts.invoice_item_facts(replace(item, quantity=Decimal(0))) == []
    assert facts.invoice_item_facts(replace(item, provider_id="")) == []
