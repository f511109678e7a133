"""Fake of the invoices repository (ports.Invoices): invoice headers per customer and month, their
items keyed as the store keys them (month, project, resource, id, so lists come out in the store's
order), the invoice-number counter reserved in blocks, and the pending-state condition that item
writes carry (`require_pending`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from chalicelib.domain import invoices as domain
from chalicelib.domain import money
from chalicelib.domain.errors import Conflict, DomainError
from chalicelib.domain.invoices import Invoice, InvoiceItem, InvoiceState
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import World, lost_race, work

InvoiceKey = tuple[str, str]  # (customer id, yyyy-mm)
ItemKey = tuple[str, str]  # (customer id, "yyyy-mm#project#resource#item id"), as the store's sort key


def _prefix(period: str, project_id: str = "", resource_id: str = "") -> str:
    """As store/keys.invoice_item_prefix: a month's items, or a project's, or a resource's."""
    prefix = f"{period}#"
    if project_id:
        prefix += f"{project_id}#"
        if resource_id:
            prefix += f"{resource_id}#"
    return prefix


def _item_key(item: InvoiceItem) -> ItemKey:
    period = money.period_key(item.year, item.month)
    return item.customer_id, f"{_prefix(period, item.project_id or '-', item.resource_id or '-')}{item.id}"


class FakeInvoices:
    def __init__(self, world: World) -> None:
        self._invoices = world.table("invoices")  # (customer, period) -> Invoice without its items
        self._items = world.table("invoice_items")  # ItemKey -> InvoiceItem
        self._counters = world.table("counters")  # name -> int

    # --- reads: one invoice, one item ------------------------------------------------------------
    def _items_under(self, customer_id: str, prefix: str) -> list[InvoiceItem]:
        found = [(k, i) for k, i in self._items.items() if k[0] == customer_id and k[1].startswith(prefix)]
        return [i for _, i in sorted(found, key=lambda pair: pair[0])]

    def _complete(self, header: Invoice) -> Invoice:
        return replace(header, items=tuple(self._items_under(header.customer_id, f"{header.period}#")))

    def get_in(self, customer_id: str, year: int, month: int, consistent: bool = True) -> Invoice | None:
        found = self.header_in(customer_id, year, month)
        return self._complete(found) if found is not None else None

    def header_in(self, customer_id: str, year: int, month: int) -> Invoice | None:
        found: Invoice | None = self._invoices.get((customer_id, money.period_key(year, month)))
        return found

    def header(self, invoice_id: str) -> Invoice | None:
        return next((i for i in self._invoices.values() if i.id == invoice_id), None)

    def get(self, invoice_id: str) -> Invoice | None:
        found = self.header(invoice_id)
        return self._complete(found) if found is not None else None

    def get_item(self, item_id: str) -> InvoiceItem | None:
        return next((i for i in self._items.values() if i.id == item_id), None)

    def reload_item(self, item: InvoiceItem) -> InvoiceItem | None:
        found: InvoiceItem | None = self._items.get(_item_key(item))
        return found

    # --- reads: lists ----------------------------------------------------------------------------
    def items_of_resource(
        self, customer_id: str, year: int, month: int, project_id: str, resource_id: str
    ) -> list[InvoiceItem]:
        period = money.period_key(year, month)
        return self._items_under(customer_id, _prefix(period, project_id, resource_id))

    def items_of(self, customer_id: str, year: int, month: int, project_id: str = "") -> list[InvoiceItem]:
        return self._items_under(customer_id, _prefix(money.period_key(year, month), project_id))

    def all_items(self, customer_id: str) -> list[InvoiceItem]:
        return self._items_under(customer_id, "")

    def every_item(self) -> Iterable[InvoiceItem]:
        return sorted(self._items.values(), key=lambda i: i.id, reverse=True)

    def page_of_every_item(self, request: PageRequest) -> Page[InvoiceItem]:
        return paginate(sorted(self._items.values(), key=lambda i: i.id), request)

    def headers_of_customer(
        self, customer_id: str, low: str | None = None, high: str | None = None
    ) -> list[Invoice]:
        low, high = low or "0000-00", high or "9999-99"
        found = [i for (c, period), i in self._invoices.items() if c == customer_id and low <= period <= high]
        return sorted(found, key=lambda i: i.period, reverse=True)

    def headers(self, year: int | None = None, month: int | None = None) -> Iterable[Invoice]:
        """Newest first by id (a month's invoices in id order, as gsi1 keeps them)."""
        found = [
            i
            for i in self._invoices.values()
            if year is None or (i.year == year and (month is None or i.month == month))
        ]
        return sorted(found, key=lambda i: i.id, reverse=True)

    def page_of_all(
        self, request: PageRequest, year: int | None = None, month: int | None = None
    ) -> Page[Invoice]:
        return paginate(list(self.headers(year, month)), request)

    def with_items(self, found: list[Invoice]) -> list[Invoice]:
        return [self._complete(i) if (i.customer_id, i.period) in self._invoices else i for i in found]

    # --- writes ----------------------------------------------------------------------------------
    def reserve_numbers(self, count: int) -> int:
        last = int(self._counters.get("invoice_numbers", 0)) + count
        self._counters["invoice_numbers"] = last
        return domain.NUMBER_BASE + last - count + 1

    def create(self, invoice: Invoice) -> bool:
        key = (invoice.customer_id, invoice.period)
        if key in self._invoices:
            return False
        self._invoices[key] = replace(invoice, version=1, items=())
        return True

    def _is_at(self, key: object, version: int, table: dict[object, object]) -> bool:
        found = table.get(key)
        return found is not None and getattr(found, "version", None) == version

    def save_state(self, uow: UnitOfWork, before: Invoice, after: Invoice) -> Invoice:
        stored = replace(after, version=before.version + 1, items=before.items)
        key = (before.customer_id, before.period)
        work(uow).stage(
            "invoices",
            key,
            lambda: None if self._is_at(key, before.version, self._invoices) else lost_race(),
            lambda: self._invoices.__setitem__(key, replace(stored, items=())),
        )
        return stored

    def require_pending(self, uow: UnitOfWork, customer_id: str, year: int, month: int) -> None:
        period = money.period_key(year, month)
        if not work(uow).first(f"invoice-pending:{customer_id}:{period}"):
            return
        key = (customer_id, period)

        def refused() -> DomainError | None:
            found = self._invoices.get(key)
            if found is None or found.state is not InvoiceState.PENDING:
                return Conflict(domain.MUST_BE_PENDING)
            return None

        work(uow).stage("invoices", key, refused, lambda: None)

    def add_item(self, uow: UnitOfWork, item: InvoiceItem) -> InvoiceItem:
        made = replace(item, version=1)
        key = _item_key(made)
        work(uow).stage(
            "invoice_items",
            key,
            lambda: lost_race() if key in self._items else None,
            lambda: self._items.__setitem__(key, made),
        )
        return made

    def put_new_item(self, item: InvoiceItem) -> bool:
        key = _item_key(item)
        if key in self._items:
            return False
        self._items[key] = replace(item, version=1)
        return True

    def save_item(self, uow: UnitOfWork, before: InvoiceItem, after: InvoiceItem) -> InvoiceItem:
        stored = replace(after, version=before.version + 1)
        key = _item_key(stored)
        work(uow).stage(
            "invoice_items",
            key,
            lambda: None if self._is_at(key, before.version, self._items) else lost_race(),
            lambda: self._items.__setitem__(key, stored),
        )
        return stored

    def remove_item(self, uow: UnitOfWork, item: InvoiceItem) -> None:
        key = _item_key(item)
        work(uow).stage(
            "invoice_items",
            key,
            lambda: None if self._is_at(key, item.version, self._items) else lost_race(),
            lambda: self._items.pop(key, None),
        )
