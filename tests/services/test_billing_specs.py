"""Billing, specified on the in-memory fakes (no AWS): what a resource's lifecycle registers on its
customer's invoice, the monthly run, and who reads which invoices.

The offering bills a fixed `ip` (30 a month), a `cpu` limit (2 per core a month), a one-time
`setup` (50) and a usage `storage` (0.5 per GB); November 2026 has 30 days. The changes are the
services' (`billing.on_order_done` etc., in a unit of work, as the order lifecycle calls them).

Offerings have no port yet (another helper of issue 14 ports them): until they do, the `billing`
fixture stands billing's lookup of one (`_offering`) in for a read of the same World (`_Lookups`);
resources are read through their port (the fakes' `resources` table).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import clock
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.invoices import Invoice, InvoiceItem, InvoiceState
from chalicelib.domain.orders import Order
from chalicelib.domain.rbac import Grant
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import CUSTOMER_OWNER, PROJECT_MEMBER, ScopeType, system_role_id
from chalicelib.domain.usages import ComponentUsage
from chalicelib.domain.vocabulary import (
    BillingType,
    Component,
    Offering,
    OrderState,
    OrderType,
    Plan,
    ResourceState,
)
from chalicelib.services import billing as billing_service
from chalicelib.services import invoices as invoice_service
from chalicelib.services import ports
from chalicelib.services.paging import Ordering, PageRequest
from tests.fakes.world import World

ACME, OTHER, PROVIDER = "a" * 32, "b" * 32, "c" * 32
PROJECT, VM = "1" * 32, "5" * 32
STAFF = Principal("f" * 32, "staff", is_staff=True)
SUPPORT = Principal("e" * 32, "support", is_support=True)
OWNER = Principal("d" * 32, "owner")
MEMBER = Principal("9" * 32, "member")  # a role in ACME's project only
STRANGER = Principal("8" * 32, "stranger")  # owns OTHER

OFFERING = Offering(
    id="7" * 32,
    customer_id=PROVIDER,
    name="Billed",
    type="Marketplace.Basic",
    components=(
        Component(id="c1", type="ip", name="Public IP", measured_unit="IPs", billing_type=BillingType.FIXED),
        Component(id="c2", type="cpu", name="CPU", measured_unit="cores", billing_type=BillingType.LIMIT),
        Component(id="c3", type="setup", name="Setup", billing_type=BillingType.ONE),
        Component(
            id="c4", type="storage", name="Storage", measured_unit="GB", billing_type=BillingType.USAGE
        ),
    ),
    plans=(
        Plan(
            id="p1",
            offering_id="7" * 32,
            name="Standard",
            prices={"ip": Decimal(30), "cpu": Decimal(2), "setup": Decimal(50), "storage": Decimal("0.5")},
            quotas={"ip": 1},
        ),
    ),
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class _Lookups:
    """The reads of not-yet-ported aggregates the billing services make, answered from the World."""

    world: World

    def offering(self, _cache: object, offering_id: str) -> Offering | None:
        return OFFERING if offering_id == OFFERING.id else None


@dataclass
class Billing:
    world: World

    def invoice(self, customer_id: str = ACME, year: int = 2026, month: int = 11) -> Invoice:
        found = ports.invoices.get_in(customer_id, year, month)
        assert found is not None
        return found

    def items(self, year: int = 2026, month: int = 11) -> dict[str, list[InvoiceItem]]:
        table: dict[str, list[InvoiceItem]] = {}
        for item in sorted(self.invoice(ACME, year, month).items, key=lambda i: i.start):
            table.setdefault(item.component_type, []).append(item)
        return table

    def resource(self) -> Resource:
        found: Resource = self.world.table("resources")[VM]
        return found

    def done(self, kind: OrderType, when: datetime, limits: dict[str, int] | None = None) -> Resource:
        """An order of `kind` on the VM done at `when`: the resource changes and billing registers
        it in the same unit of work (as the order lifecycle does)."""
        clock.set_source(lambda: when)
        table = self.world.table("resources")
        before = table.get(VM) or _resource(when, limits or {})
        after = before
        if kind is OrderType.TERMINATE:
            after = replace(before, state=ResourceState.TERMINATED)
        elif kind is OrderType.UPDATE:
            after = replace(before, limits=limits or {})
        order = _order(kind, when, before.plan_id)
        uow = ports.unit_of_work()
        billing_service.on_order_done(uow, order, before, after, OFFERING, when)
        uow.commit()
        table[VM] = after
        return after

    def report_usage(self, amount: str, when: datetime) -> None:
        clock.set_source(lambda: when)
        usage = ComponentUsage(
            id=f"{int(when.timestamp()):032x}",
            resource_id=VM,
            customer_id=ACME,
            project_id=PROJECT,
            offering_id=OFFERING.id,
            provider_id=PROVIDER,
            component_type="storage",
            billing_period=date(when.year, when.month, 1),
            amount=Decimal(amount),
            date=when,
            created=when,
            modified=when,
        )
        uow = ports.unit_of_work()
        billing_service.on_usage_reported(uow, self.resource(), OFFERING, [usage], when)
        uow.commit()


def _resource(when: datetime, limits: dict[str, int]) -> Resource:
    return Resource(
        id=VM,
        name="vm-1",
        state=ResourceState.OK,
        customer_id=ACME,
        project_id=PROJECT,
        offering_id=OFFERING.id,
        provider_id=PROVIDER,
        created=when,
        modified=when,
        plan_id="p1",
        limits=limits,
        project_name="Web",
        provider_name="Provider",
    )


def _order(kind: OrderType, when: datetime, plan_id: str | None) -> Order:
    return Order(
        id=f"{int(when.timestamp()):032x}",
        type=kind,
        state=OrderState.DONE,
        customer_id=ACME,
        project_id=PROJECT,
        offering_id=OFFERING.id,
        provider_id=PROVIDER,
        resource_id=VM,
        created=when,
        modified=when,
        plan_id=plan_id,
        old_plan_id=plan_id,
    )


def _grant(n: int, user: Principal, scope_type: ScopeType, scope_id: str, role: str) -> Grant:
    return Grant(
        id=f"{n:032x}",
        user_id=user.user_id,
        role_id=system_role_id(role),
        scope_type=scope_type,
        scope_id=scope_id,
        customer_id=ACME if scope_id in (ACME, PROJECT) else OTHER,
        created=at("2026-01-01T00:00:00"),
    )


@pytest.fixture
def billing(fakes: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Billing]:
    uow = ports.unit_of_work()
    for customer_id, name in ((ACME, "Acme"), (OTHER, "Other"), (PROVIDER, "Provider")):
        ports.customers.add(uow, Customer(id=customer_id, name=name, created=at("2026-01-01T00:00:00")))
    uow.commit()
    for n, (user, scope_type, scope_id, role) in enumerate(
        (
            (OWNER, ScopeType.CUSTOMER, ACME, CUSTOMER_OWNER),
            (MEMBER, ScopeType.PROJECT, PROJECT, PROJECT_MEMBER),
            (STRANGER, ScopeType.CUSTOMER, OTHER, CUSTOMER_OWNER),
        )
    ):
        uow = ports.unit_of_work()  # one each: two owners' grants move one role's holder count
        ports.grants.add(uow, _grant(n, user, scope_type, scope_id, role), held=0)
        uow.commit()
    lookups = _Lookups(fakes)
    monkeypatch.setattr(billing_service, "_offering", lookups.offering)
    yield Billing(fakes)


def test_a_resource_made_mid_month_is_billed_from_that_moment_by_waldurs_month_rule(billing: Billing) -> None:
    billing.done(OrderType.CREATE, at("2026-11-15T10:00:00"), {"cpu": 4})
    bill = billing.invoice()
    assert (bill.state, bill.number, bill.customer_name) == (InvoiceState.PENDING, 100_001, "Acme")
    items = billing.items()
    assert set(items) == {"ip", "cpu", "setup"}  # usage waits for a report
    ip, cpu, setup = items["ip"][0], items["cpu"][0], items["setup"][0]
    assert (ip.quantity, ip.price) == (Decimal("0.54"), Decimal("16.20"))  # 15th..30th: 16/30 days, up
    assert (cpu.quantity, cpu.price) == (Decimal(4), Decimal("8.00"))  # a monthly limit, not prorated
    assert (setup.quantity, setup.price) == (Decimal(1), Decimal("50.00"))
    assert ip.name == "vm-1 (Billed / Standard) / Public IP" and ip.start == at("2026-11-15T10:00:00")
    assert bill.price == Decimal("74.20")


def test_a_raised_limit_splits_the_limit_item_at_the_day_of_the_change(billing: Billing) -> None:
    billing.done(OrderType.CREATE, at("2026-11-01T00:00:00"), {"cpu": 4})
    billing.done(OrderType.UPDATE, at("2026-11-11T15:00:00"), {"cpu": 8})
    [cpu] = billing.items()["cpu"]
    assert [(p.start.day, p.end.day, p.quantity) for p in cpu.limit_periods] == [
        (1, 10, Decimal(4)),
        (11, 30, Decimal(8)),
    ]
    assert (cpu.quantity, cpu.price, cpu.version) == (Decimal("6.67"), Decimal("13.34"), 2)  # (4*10+8*20)/30


def test_a_usage_report_sets_the_months_usage_item(billing: Billing) -> None:
    billing.done(OrderType.CREATE, at("2026-11-02T00:00:00"))
    billing.report_usage("10", at("2026-11-05T08:00:00"))
    billing.report_usage("40", at("2026-11-20T08:00:00"))
    [storage] = billing.items()["storage"]  # two reports of one month: one item, the last amount
    assert (storage.unit, storage.quantity, storage.price) == ("quantity", Decimal(40), Decimal("20.00"))
    assert storage.name == "vm-1 / Storage"


def test_termination_closes_the_items_and_prorates_the_fixed_ones(billing: Billing) -> None:
    billing.done(OrderType.CREATE, at("2026-11-15T10:00:00"), {"cpu": 2})
    billing.done(OrderType.TERMINATE, at("2026-11-20T09:00:00"))
    items = billing.items()
    ip = items["ip"][0]
    assert ip.end == at("2026-11-20T09:00:00")
    assert (ip.quantity, ip.price) == (Decimal("0.17"), Decimal("5.10"))  # 15th..20th: 5/30 days
    assert items["setup"][0].price == Decimal("50.00") and items["cpu"][0].quantity == Decimal(2)
    assert all(not i.is_open for i in (ip, items["cpu"][0]))


def test_an_issued_invoice_takes_no_more_items(billing: Billing) -> None:
    billing.done(OrderType.CREATE, at("2026-11-15T10:00:00"))
    issued = billing_service.run_month(EventContext(STAFF), 2026, 12, [ACME])
    assert issued.issued == 1
    with pytest.raises(ValidationError):  # staff's correction of an item: the invoice is not pending
        invoice_service.update_item(EventContext(STAFF), billing.items()["ip"][0].id, {"unit_price": 1})


def test_the_monthly_run_issues_last_months_invoice_and_opens_the_new_one(billing: Billing) -> None:
    billing.done(OrderType.CREATE, at("2026-11-15T10:00:00"), {"cpu": 4})
    clock.set_source(lambda: at("2026-12-01T00:00:00"))
    report = billing_service.run_month(EventContext(STAFF), 2026, 12, [ACME, PROVIDER])
    assert (report.customers, report.issued, report.invoices_made, report.items_made) == (2, 1, 2, 2)
    november = billing.invoice()
    assert (november.state, november.invoice_date, november.due_date) == (
        InvoiceState.CREATED,
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    created = [e for e in billing.world.events if e.event_type == "invoice_created"]
    assert [e.message for e in created] == ["Invoice for customer Acme has been created."]
    december = billing.invoice(month=12)
    assert december.state is InvoiceState.PENDING and december.number != november.number
    items = billing.items(month=12)
    assert set(items) == {"ip", "cpu"}  # the one-time charge is not carried
    assert (items["ip"][0].quantity, items["ip"][0].price) == (Decimal(1), Decimal("30.00"))
    assert items["ip"][0].start == at("2026-12-01T00:00:00") and items["cpu"][0].price == Decimal("8.00")
    again = billing_service.run_month(EventContext(STAFF), 2026, 12, [ACME, PROVIDER])
    assert (again.issued, again.invoices_made, again.items_made) == (0, 0, 0)
    assert billing.invoice(month=12) == december


def _listed(principal: Principal, **filters: Any) -> list[tuple[str, int]]:
    found = invoice_service.list_invoices(
        principal, invoice_service.InvoiceFilters(**filters), Ordering(), PageRequest(page_size=50)
    )
    return [(v.invoice.customer_id, v.invoice.month) for v in found.items]


def test_owners_staff_and_support_read_a_customers_invoices_and_nobody_else(billing: Billing) -> None:
    billing.done(OrderType.CREATE, at("2026-11-15T10:00:00"))
    other = billing_service.ensure_invoice(OTHER, 2026, 11, at("2026-11-16T00:00:00"))
    acme = billing.invoice()
    for reader in (STAFF, SUPPORT, OWNER):
        assert invoice_service.get_visible(reader, acme.id).invoice == acme
    for outsider in (MEMBER, STRANGER):  # a project role does not show the customer's invoices
        with pytest.raises(NotFound):
            invoice_service.get_visible(outsider, acme.id)
    by_id = sorted((acme, other), key=lambda i: i.id, reverse=True)  # a month's: by id, as indexed
    assert _listed(STAFF) == _listed(SUPPORT) == [(i.customer_id, 11) for i in by_id]
    assert _listed(OWNER) == [(ACME, 11)] and _listed(STRANGER) == [(OTHER, 11)]
    assert _listed(MEMBER) == [] and _listed(OWNER, customer_id=OTHER) == []
    assert _listed(OWNER, year=2026, month=11, customer_id=ACME) == [(ACME, 11)]
