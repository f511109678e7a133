"""Invoices and their items: the fake and the store agree (tests/contract/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import invoices as domain
from chalicelib.domain import money
from chalicelib.domain.errors import Conflict
from chalicelib.domain.invoices import Invoice, InvoiceItem, InvoiceState, LimitSpan
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import Ports

NOW = datetime(2026, 11, 15, 10, 0, tzinfo=UTC)
ALICE, BOB = "a" * 32, "b" * 32
PROJECT, OTHER_PROJECT = "1" * 32, "2" * 32
VM, DISK = "5" * 32, "6" * 32


def _invoice(ports: Ports, customer_id: str = ALICE, year: int = 2026, month: int = 11) -> Invoice:
    number = ports.invoices.reserve_numbers(1)
    made = domain.new_invoice(customer_id, "Alice Ltd", year, month, number, Decimal("20"), NOW)
    assert ports.invoices.create(made)
    return replace(made, version=1)


def _item(
    n: int,
    customer_id: str = ALICE,
    project_id: str = PROJECT,
    resource_id: str = VM,
    year: int = 2026,
    month: int = 11,
    **fields: object,
) -> InvoiceItem:
    start = max(NOW, money.month_start(datetime(year, month, 1)))
    values: dict[str, object] = {
        "name": f"item {n}",
        "unit": "month",
        "unit_price": Decimal("30"),
        "quantity": Decimal("0.54"),
        "start": start,
        "end": money.month_end(start),
        "kind": "fixed",
        "project_name": "Web",
        "resource_name": "vm-1",
        "details": {"plan_name": "Standard", "billing_periods": 3},
        **fields,
    }
    return InvoiceItem(
        id=f"{n:032x}",
        customer_id=customer_id,
        year=year,
        month=month,
        resource_id=resource_id,
        project_id=project_id,
        **values,  # type: ignore[arg-type]
    )


def _add(ports: Ports, *items: InvoiceItem) -> list[InvoiceItem]:
    uow = ports.unit_of_work()
    made = [ports.invoices.add_item(uow, i) for i in items]
    uow.commit()
    return made


def test_numbers_are_reserved_in_blocks(ports: Ports) -> None:
    first = ports.invoices.reserve_numbers(1)
    assert first == domain.NUMBER_BASE + 1
    assert ports.invoices.reserve_numbers(3) == first + 1
    assert ports.invoices.reserve_numbers(1) == first + 4


def test_an_invoice_is_made_once_and_read_back_by_month_and_id(ports: Ports) -> None:
    made = _invoice(ports)
    assert made.state is InvoiceState.PENDING and made.number == domain.NUMBER_BASE + 1
    again = domain.new_invoice(ALICE, "Alice Ltd", 2026, 11, 999_999, Decimal("0"), NOW)
    assert not ports.invoices.create(again)  # another writer made it first
    assert ports.invoices.header_in(ALICE, 2026, 11) == made
    assert ports.invoices.get_in(ALICE, 2026, 11) == made
    assert ports.invoices.header(made.id) == made and ports.invoices.get(made.id) == made
    assert ports.invoices.header_in(ALICE, 2026, 10) is None and ports.invoices.get_in(BOB, 2026, 11) is None
    assert ports.invoices.header("f" * 32) is None and ports.invoices.get("f" * 32) is None


def test_items_are_read_with_their_invoice_in_key_order(ports: Ports) -> None:
    invoice = _invoice(ports)
    _invoice(ports, month=12)
    limit = _item(
        3,
        resource_id=DISK,
        kind="limit",
        limit_period="month",
        limit_periods=(LimitSpan(NOW, money.month_end(NOW), Decimal(4)),),
    )
    made = _add(ports, _item(2), _item(1), limit, _item(4, project_id=OTHER_PROJECT), _item(5, month=12))
    assert [i.version for i in made] == [1] * 5
    items = {i.id: i for i in made}
    full = ports.invoices.get_in(ALICE, 2026, 11)
    assert full is not None and full.id == invoice.id
    assert [i.id for i in full.items] == [f"{n:032x}" for n in (1, 2, 3, 4)]  # project, resource, id
    assert full.items[2] == items[f"{3:032x}"]  # every field round-trips (limit periods, details)
    got = ports.invoices.get(invoice.id)
    assert got is not None and got.items == full.items
    of_project = ports.invoices.items_of(ALICE, 2026, 11, PROJECT)
    assert [i.id for i in of_project] == [f"{n:032x}" for n in (1, 2, 3)]
    assert [i.id for i in ports.invoices.items_of(ALICE, 2026, 12)] == [f"{5:032x}"]
    of_vm = ports.invoices.items_of_resource(ALICE, 2026, 11, PROJECT, VM)
    assert [i.id for i in of_vm] == [f"{n:032x}" for n in (1, 2)]
    assert [i.id for i in ports.invoices.all_items(ALICE)] == [f"{n:032x}" for n in (1, 2, 3, 4, 5)]
    assert ports.invoices.all_items(BOB) == []
    assert ports.invoices.get_item(f"{4:032x}") == items[f"{4:032x}"]
    assert ports.invoices.get_item("f" * 32) is None
    assert ports.invoices.reload_item(_item(1)) == items[f"{1:032x}"]
    assert ports.invoices.reload_item(_item(9)) is None


def test_every_item_lists_and_pages_by_id(ports: Ports) -> None:
    _invoice(ports)
    _invoice(ports, BOB)
    _add(ports, _item(2), _item(1, customer_id=BOB), _item(3))
    assert [i.id for i in ports.invoices.every_item()] == [f"{n:032x}" for n in (3, 2, 1)]
    page = ports.invoices.page_of_every_item(PageRequest(page=2, page_size=2))
    assert ([i.id for i in page.items], page.total) == ([f"{3:032x}"], 3)


def test_headers_list_newest_first_by_customer_and_month(ports: Ports) -> None:
    october, november = _invoice(ports, month=10), _invoice(ports, month=11)
    last_year = _invoice(ports, year=2025, month=11)
    bobs = _invoice(ports, BOB, month=11)
    _add(ports, _item(1))
    mine = ports.invoices.headers_of_customer(ALICE)
    assert mine == [november, october, last_year]  # no items on headers
    assert ports.invoices.headers_of_customer(ALICE, high="2026-10") == [october, last_year]
    assert ports.invoices.headers_of_customer(ALICE, "2026-01", "2026-12") == [november, october]
    every = list(ports.invoices.headers())
    assert [i.period for i in every] == ["2026-11", "2026-11", "2026-10", "2025-11"]
    assert {i.id for i in every[:2]} == {november.id, bobs.id}
    assert list(ports.invoices.headers(2026, 10)) == [october]
    assert list(ports.invoices.headers(2025)) == [last_year]
    page = ports.invoices.page_of_all(PageRequest(page=1, page_size=2), 2026)
    assert (page.items, page.total) == (every[:2], 3)
    page = ports.invoices.page_of_all(PageRequest(page=2, page_size=3))
    assert (page.items, page.total) == ([last_year], 4)
    complete = ports.invoices.with_items([october, november, bobs])
    assert [len(i.items) for i in complete] == [0, 1, 0]
    assert complete[1].id == november.id


def test_saving_the_state_bumps_the_version_and_a_stale_copy_loses(ports: Ports) -> None:
    before = _invoice(ports)
    _add(ports, _item(1))
    uow = ports.unit_of_work()
    issued = ports.invoices.save_state(uow, before, domain.set_created(before, NOW.date()))
    uow.commit()
    assert (issued.state, issued.version, issued.invoice_date) == (InvoiceState.CREATED, 2, NOW.date())
    assert ports.invoices.header_in(ALICE, 2026, 11) == issued
    found = ports.invoices.get_in(ALICE, 2026, 11)
    assert found is not None and len(found.items) == 1  # the items stay
    stale = ports.unit_of_work()
    ports.invoices.save_state(stale, before, domain.set_references(before, backend_id="SAP-1"))
    with pytest.raises(Conflict):
        stale.commit()
    assert ports.invoices.header_in(ALICE, 2026, 11) == issued


def test_item_writes_need_a_pending_invoice(ports: Ports) -> None:
    before = _invoice(ports)
    uow = ports.unit_of_work()
    ports.invoices.require_pending(uow, BOB, 2026, 11)  # BOB has no invoice that month
    ports.invoices.add_item(uow, _item(1, customer_id=BOB))
    with pytest.raises(Conflict) as refused:
        uow.commit()
    assert refused.value.detail == domain.MUST_BE_PENDING
    assert ports.invoices.all_items(BOB) == []
    uow = ports.unit_of_work()
    ports.invoices.save_state(uow, before, domain.set_created(before, NOW.date()))
    uow.commit()
    uow = ports.unit_of_work()
    ports.invoices.require_pending(uow, ALICE, 2026, 11)
    ports.invoices.require_pending(uow, ALICE, 2026, 11)  # asked twice, checked once
    ports.invoices.add_item(uow, _item(1))
    with pytest.raises(Conflict) as refused:
        uow.commit()
    assert refused.value.detail == domain.MUST_BE_PENDING
    assert ports.invoices.all_items(ALICE) == []


def test_a_pending_invoice_takes_items_and_an_item_is_added_once(ports: Ports) -> None:
    _invoice(ports)
    uow = ports.unit_of_work()
    ports.invoices.require_pending(uow, ALICE, 2026, 11)
    [made] = [ports.invoices.add_item(uow, _item(1))]
    uow.commit()
    assert ports.invoices.all_items(ALICE) == [made]
    again = ports.unit_of_work()
    ports.invoices.add_item(again, _item(1, name="rerun"))
    with pytest.raises(Conflict):
        again.commit()
    assert not ports.invoices.put_new_item(_item(1, name="rerun"))
    assert ports.invoices.put_new_item(_item(2))
    assert [(i.name, i.version) for i in ports.invoices.all_items(ALICE)] == [("item 1", 1), ("item 2", 1)]


def test_saving_and_removing_an_item_follow_its_version(ports: Ports) -> None:
    _invoice(ports)
    [before] = _add(ports, _item(1))
    uow = ports.unit_of_work()
    saved = ports.invoices.save_item(uow, before, replace(before, quantity=Decimal("0.2")))
    uow.commit()
    assert (saved.quantity, saved.version) == (Decimal("0.2"), 2)
    assert ports.invoices.reload_item(before) == saved
    for write in (
        lambda u: ports.invoices.save_item(u, before, replace(before, quantity=Decimal(9))),
        lambda u: ports.invoices.remove_item(u, before),
    ):
        stale = ports.unit_of_work()
        write(stale)
        with pytest.raises(Conflict):
            stale.commit()
    assert ports.invoices.reload_item(before) == saved
    uow = ports.unit_of_work()
    ports.invoices.remove_item(uow, saved)
    uow.commit()
    assert ports.invoices.reload_item(before) is None and ports.invoices.get_item(before.id) is None
    missing = ports.unit_of_work()
    ports.invoices.save_item(missing, saved, replace(saved, quantity=Decimal(1)))
    with pytest.raises(Conflict):
        missing.commit()
