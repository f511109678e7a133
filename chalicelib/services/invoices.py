"""Invoices and their items as people read them (Waldur's `invoices/` and `invoice-items/`), and
the few changes staff make to them.

Who sees: staff and support see every invoice; anybody else sees the invoices of the customers in
which they hold a customer-level role (owners; Waldur filters invoices by the customer's roles),
and nothing of any other: a role in a project only, or none, is a 404, as for Waldur's project
members. Every write is staff's (a 403 for anybody else who sees the invoice):

- `set_paid`: an issued (`created`) invoice is paid (else 409), with `invoice_paid`;
- `set_references`: its backend id, payment URL, reference number (Waldur logs nothing);
- `update_item` / `delete_item`: an item of a pending invoice is corrected or removed (else 400),
  with `invoice_item_updated` / `invoice_item_deleted`.

Each write commits with its event in one transaction. What each read costs is in the store's
ACCESS_PATTERNS.md: an invoice read is a Query of its customer's partition (its header and items
together), lists read headers first and then the items of the page's invoices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.domain import invoice_corrections as corrections
from chalicelib.domain import invoices as domain
from chalicelib.domain import money, rbac
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import NotFound
from chalicelib.domain.invoices import Invoice, InvoiceItem
from chalicelib.domain.rbac import Access
from chalicelib.services import access as access_service
from chalicelib.services.paging import Ordering, Page, PageRequest, order_rows, paginate
from chalicelib.services.ports import categories as category_store
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import invoices as store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import unit_of_work

MODEL = "Invoice"
ITEM_MODEL = "InvoiceItem"


@dataclass(frozen=True)
class InvoiceView:
    """An invoice with its items, and its customer as it is now (the response's customer_details)."""

    invoice: Invoice
    customer: Customer | None


@dataclass(frozen=True)
class ItemView:
    item: InvoiceItem
    customer_name: str


# --- sight -------------------------------------------------------------------------------------------
def _rights(principal: Principal) -> Access:
    return access_service.access(principal)


def _sees(rights: Access, customer_id: str) -> bool:
    return rights.sees_whole_customer(customer_id)


def _customers(ids: Iterable[str]) -> dict[str, Customer]:
    """The customers named, in one BatchGetItem (none for no ids)."""
    wanted = sorted(set(ids))
    return {c.id: c for c in customer_store.get_many(wanted)} if wanted else {}


def _views(invoices: Sequence[Invoice]) -> list[InvoiceView]:
    found = _customers(i.customer_id for i in invoices)
    return [InvoiceView(i, found.get(i.customer_id)) for i in invoices]


def _named(items: Sequence[InvoiceItem]) -> list[ItemView]:
    found = _customers(i.customer_id for i in items)
    return [ItemView(i, found[i.customer_id].name if i.customer_id in found else "") for i in items]


# --- invoices ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvoiceFilters:
    """Waldur's InvoiceFilter (`min_sum`/`max_sum` are not offered)."""

    customer_id: str | None = None
    year: int | None = None
    month: int | None = None
    states: tuple[str, ...] = ()
    created: date | None = None
    start_date: date | None = None  # created after (exclusive)
    end_date: date | None = None  # created before (exclusive)

    def keep(self, invoice: Invoice) -> bool:
        made = invoice.created.date()
        checks = (
            self.year is None or invoice.year == self.year,
            self.month is None or invoice.month == self.month,
            not self.states or invoice.state.value in self.states,
            self.created is None or made == self.created,
            self.start_date is None or made > self.start_date,
            self.end_date is None or made < self.end_date,
        )
        return all(checks)

    @property
    def by_key_only(self) -> bool:
        """Whether the invoice ids alone answer the filters (a year, or a year and month)."""
        unkeyed = (self.created, self.start_date, self.end_date)
        return not self.states and all(v is None for v in unkeyed) and (self.month is None or bool(self.year))

    def keyed_period(self) -> tuple[int | None, int | None]:
        """The year (and month) the store narrows a list of every invoice to (a month alone does not
        narrow it: the other filters do)."""
        return (self.year, self.month) if self.year else (None, None)

    def periods(self) -> tuple[str | None, str | None]:
        """The `yyyy-mm` range of a customer's invoices the year (and month) allow."""
        if not self.year:
            return None, None
        if self.month:
            return (money.period_key(self.year, self.month),) * 2
        return money.period_key(self.year, 1), money.period_key(self.year, 12)


SORT: dict[str, Callable[[Invoice], Any]] = {
    "created": lambda i: (i.created, i.number),
    "year": lambda i: (i.year, i.number),
    "month": lambda i: (i.month, i.number),
}


NEWEST_FIRST = "newest"  # Waldur's default order: -year, -month (then the number, newest first)
_SORT_OR_DEFAULT: dict[str, Callable[[Invoice], Any]] = {
    **SORT,
    NEWEST_FIRST: lambda i: (-i.year, -i.month, -i.number),
}


def _page(rows: list[Invoice], ordering: Ordering, request: PageRequest) -> Page[Invoice]:
    """Sorted by `o=` (else newest first) and paged."""
    return paginate(order_rows(rows, ordering, _SORT_OR_DEFAULT, default=NEWEST_FIRST), request)


def list_invoices(
    principal: Principal, filters: InvoiceFilters, ordering: Ordering, request: PageRequest
) -> Page[InvoiceView]:
    """The invoices the caller sees (a page of InvoiceView). A customer's invoice of one month (what
    python-waldur-client asks for) is one Query; other lists read the headers of the customers in
    question (or staff's index of every invoice), then the page's items, one Query per customer."""
    rights = _rights(principal)
    f = filters
    customers: list[str] | None
    if f.customer_id is not None:
        if not _sees(rights, f.customer_id):
            return Page([], 0)
        customers = [f.customer_id]
    else:
        customers = None if rights.reads_everything else sorted(rights.customer_role_ids())

    if customers is not None and len(customers) == 1 and f.year and f.month:
        one = store.get_in(customers[0], f.year, f.month, consistent=False)
        page = _page([one] if one is not None and f.keep(one) else [], ordering, request)
        return Page(_views(page.items), page.total)
    if customers is None and f.by_key_only and ordering.field is None:
        page = store.page_of_all(request, *f.keyed_period())
    else:
        if customers is None:
            headers: Iterable[Invoice] = store.headers(*f.keyed_period())
        else:
            low, high = f.periods()
            headers = [h for c in customers for h in store.headers_of_customer(c, low, high)]
        page = _page([h for h in headers if f.keep(h)], ordering, request)
    return Page(_views(store.with_items(page.items)), page.total)


def _visible_invoice(principal: Principal, invoice_id: str) -> Invoice:
    found = store.get(invoice_id)
    if found is None or not _sees(_rights(principal), found.customer_id):
        raise NotFound(MODEL)
    return found


def get_visible(principal: Principal, invoice_id: str) -> InvoiceView:
    """The invoice with its items, if the caller sees it; else NotFound."""
    invoice = _visible_invoice(principal, invoice_id)
    return InvoiceView(invoice, customer_store.get(invoice.customer_id))


@dataclass(frozen=True)
class ShownItemFilters:
    """The filters of an invoice's `items/` (Waldur's InvoiceViewSet.items)."""

    query: str | None = None  # in the resource's name
    provider_id: str | None = None
    project_id: str | None = None
    offering_id: str | None = None

    def keep(self, item: InvoiceItem) -> bool:
        query = (self.query or "").lower()
        checks = (
            not query or query in item.resource_name.lower(),
            self.provider_id is None or item.provider_id == self.provider_id,
            self.project_id is None or item.project_id == self.project_id,
            self.offering_id is None or item.offering_id == self.offering_id,
        )
        return all(checks)


ITEM_SORT: dict[str, Callable[[InvoiceItem], Any]] = {
    "project_name": lambda i: (i.project_name, i.name),
    "resource_name": lambda i: (i.resource_name, i.name),
    "provider_name": lambda i: (str(i.details.get("service_provider_name", "")), i.name),
    "name": lambda i: i.name,
}


def items_of_invoice(
    principal: Principal, invoice_id: str, filters: ShownItemFilters, ordering: Ordering
) -> tuple[Invoice, list[InvoiceItem]]:
    """The invoice and its shown items (those that cost something), by project and name unless
    ordered otherwise."""
    invoice = _visible_invoice(principal, invoice_id)
    shown = [i for i in invoice.shown_items if filters.keep(i)]
    return invoice, order_rows(shown, ordering, ITEM_SORT)


@dataclass(frozen=True)
class OfferingStats:
    """One offering's share of an invoice (Waldur's `stats/` rows)."""

    offering_id: str
    offering_name: str
    price: Decimal
    tax: Decimal
    total: Decimal
    category_title: str
    provider_name: str
    provider_id: str


def stats(principal: Principal, invoice_id: str, provider_id: str | None = None) -> list[OfferingStats]:
    """The invoice's resource items summed per offering (one provider's, if named), by offering
    name. The offerings and their categories are read in one BatchGetItem each."""
    invoice = _visible_invoice(principal, invoice_id)
    groups: dict[str, list[InvoiceItem]] = {}
    for item in invoice.items:
        if item.resource_id and item.offering_id and provider_id in (None, item.provider_id):
            groups.setdefault(item.offering_id, []).append(item)
    offerings = {
        o.id: o for o in offering_store.get_many((items[0].provider_id, oid) for oid, items in groups.items())
    }
    categories = category_store.get_many(sorted({o.category_id for o in offerings.values() if o.category_id}))
    rows = []
    tax_percent = invoice.tax_percent
    for offering_id, items in groups.items():
        offering = offerings.get(offering_id)
        category = categories.get(offering.category_id) if offering and offering.category_id else None
        first = items[0]
        rows.append(
            OfferingStats(
                offering_id=offering_id,
                offering_name=offering.name if offering else str(first.details.get("offering_name", "")),
                price=money.quantize_price(sum((i.price for i in items), money.ZERO)),
                tax=money.quantize_price(sum((i.tax(tax_percent) for i in items), money.ZERO)),
                total=money.quantize_price(sum((i.total(tax_percent) for i in items), money.ZERO)),
                category_title=category.title if category else "",
                provider_name=str(first.details.get("service_provider_name", "")),
                provider_id=first.provider_id,
            )
        )
    return sorted(rows, key=lambda r: (r.offering_name, r.offering_id))


# --- staff's changes to invoices -------------------------------------------------------------------
def _invoice_for_change(principal: Principal, invoice_id: str) -> Invoice:
    """The invoice's header as stored now (no items), for staff; NotFound for whoever does not see
    it, PermissionDenied for anybody else."""
    found = store.header(invoice_id)
    if found is None or not _sees(_rights(principal), found.customer_id):
        raise NotFound(MODEL)
    rbac.require_staff(principal)
    current = store.header_in(found.customer_id, found.year, found.month)
    if current is None:
        raise NotFound(MODEL)
    return current


def _reread(invoice: Invoice) -> InvoiceView:
    """The invoice as it is after a change (consistent), with its items and customer."""
    fresh = store.get_in(invoice.customer_id, invoice.year, invoice.month)
    return InvoiceView(fresh or invoice, customer_store.get(invoice.customer_id))


def set_paid(ctx: EventContext, invoice_id: str) -> InvoiceView:
    """Staff mark an issued invoice paid (`created` → `paid`, else 409), with `invoice_paid`."""
    before = _invoice_for_change(ctx.actor, invoice_id)
    after = domain.set_paid(before)
    uow = unit_of_work()
    paid = store.save_state(uow, before, after)
    uow.record(domain.invoice_event(paid, domain.INVOICE_PAID, ctx))
    uow.commit()
    return _reread(paid)


def set_references(ctx: EventContext, invoice_id: str, references: Mapping[str, str]) -> InvoiceView:
    """Staff set the invoice's backend id, payment URL or reference number (in any state). Waldur
    logs no event for these; neither does Cirrus."""
    before = _invoice_for_change(ctx.actor, invoice_id)
    after = domain.set_references(before, **references)
    if after == before:
        return _reread(before)
    uow = unit_of_work()
    saved = store.save_state(uow, before, after)
    uow.commit()
    return _reread(saved)


# --- invoice items -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemFilters:
    """Waldur's InvoiceItemFilter."""

    customer_id: str | None = None
    project_id: str | None = None
    resource_id: str | None = None
    offering_id: str | None = None
    credit_id: str | None = None  # Cirrus has no credits: a credit names no item
    year: int | None = None
    month: int | None = None
    start_year: int | None = None
    start_month: int | None = None

    def keep(self, item: InvoiceItem) -> bool:
        checks = (
            self.customer_id is None or item.customer_id == self.customer_id,
            self.project_id is None or item.project_id == self.project_id,
            self.resource_id is None or item.resource_id == self.resource_id,
            self.offering_id is None or item.offering_id == self.offering_id,
            self.year is None or item.year == self.year,
            self.month is None or item.month == self.month,
            self.start_year is None or item.start.year == self.start_year,
            self.start_month is None or item.start.month == self.start_month,
        )
        return all(checks)

    @property
    def filtered(self) -> bool:
        values = (self.customer_id, self.project_id, self.resource_id, self.offering_id, self.year)
        return any(v is not None for v in (*values, self.month, self.start_year, self.start_month))


def _items_in(customer_id: str, f: ItemFilters, project_id: str, resource_id: str) -> list[InvoiceItem]:
    """A customer's items the filters may want: one month's (of a project, of a resource) when the
    month is given, else every item of the customer's invoices (the slow path)."""
    if f.year and f.month:
        if resource_id:
            return store.items_of_resource(customer_id, f.year, f.month, project_id, resource_id)
        return store.items_of(customer_id, f.year, f.month, project_id)
    return store.all_items(customer_id)


def _item_source(rights: Access, f: ItemFilters) -> list[InvoiceItem] | None:
    """Where the items may be: the partition of the customer the filters name (directly, or by a
    project or resource), the caller's customers, or (staff, None) the index of every item."""
    customer_id, project_id, resource_id = f.customer_id, f.project_id or "", ""
    if f.resource_id:
        resource = resource_store.get(f.resource_id)
        if resource is None:
            return []
        customer_id, project_id, resource_id = resource.customer_id, resource.project_id, resource.id
    elif f.project_id:
        project = project_store.get(f.project_id)
        if project is None:
            return []
        customer_id = project.customer_id
    if customer_id is not None:
        if not _sees(rights, customer_id) or f.customer_id not in (None, customer_id):
            return []
        return _items_in(customer_id, f, project_id, resource_id)
    if rights.reads_everything:
        return list(store.every_item()) if f.filtered else None
    return [i for c in sorted(rights.customer_role_ids()) for i in store.all_items(c)]


def list_items(principal: Principal, filters: ItemFilters, request: PageRequest) -> Page[ItemView]:
    """The invoice items the caller sees (a page of ItemView), by start (Waldur's order)."""
    rights = _rights(principal)
    if filters.credit_id is not None:
        return Page([], 0)
    source = _item_source(rights, filters)
    if source is None:
        page = store.page_of_every_item(request)
        return Page(_named(page.items), page.total)
    rows = [i for i in source if filters.keep(i) and _sees(rights, i.customer_id)]
    page = paginate(sorted(rows, key=lambda i: (i.start, i.id)), request)
    return Page(_named(page.items), page.total)


@dataclass(frozen=True)
class MonthCost:
    year: int
    month: int
    price: Decimal  # the items' prices, to the cent
    incurred: Decimal  # their unit prices times quantities, unrounded (the invoice's incurred_costs)


def project_costs(principal: Principal, project_id: str | None, request: PageRequest) -> Page[MonthCost]:
    """Waldur's `invoice-items/costs/`: what a project's items cost per invoice month (before tax),
    newest month first; months without items are not listed. A project's spend is for whoever sees
    the project (as its `billing_price_estimate`); no project, one the caller does not see, or none
    named: no months. One Query of the customer's invoices."""
    project = project_store.get(project_id) if project_id else None
    if project is None or not _rights(principal).sees_project(project.id, project.customer_id):
        return Page([], 0)
    months: dict[tuple[int, int], list[InvoiceItem]] = {}
    for item in store.all_items(project.customer_id):
        if item.project_id == project.id:
            months.setdefault((item.year, item.month), []).append(item)
    rows = [
        MonthCost(
            year,
            month,
            money.cents(sum((i.price for i in items), Decimal(0))),
            sum((i.unit_price * i.quantity for i in items), Decimal(0)),
        )
        for (year, month), items in sorted(months.items(), reverse=True)
    ]
    return paginate(rows, request)


def get_visible_item(principal: Principal, item_id: str) -> ItemView:
    item = store.get_item(item_id)
    if item is None or not _sees(_rights(principal), item.customer_id):
        raise NotFound(ITEM_MODEL)
    return _named([item])[0]


def _item_for_change(principal: Principal, item_id: str) -> tuple[InvoiceItem, Invoice]:
    """The item as stored now and its invoice's header, for staff, while the invoice is pending
    (else 400, Waldur's "Invoice must be in pending state.")."""
    found = store.get_item(item_id)
    if found is None or not _sees(_rights(principal), found.customer_id):
        raise NotFound(ITEM_MODEL)
    rbac.require_staff(principal)
    invoice = store.header_in(found.customer_id, found.year, found.month)
    current = store.reload_item(found)
    if invoice is None or current is None:
        raise NotFound(ITEM_MODEL)
    domain.require_mutable(invoice)
    return current, invoice


def update_item(ctx: EventContext, item_id: str, changes: Mapping[str, Any]) -> ItemView:
    """Staff correct an item (article code, quantity, unit price, start, end: Waldur's rules in
    corrections.edit_item), with `invoice_item_updated` naming what changed. Nothing changed: no write."""
    before, invoice = _item_for_change(ctx.actor, item_id)
    after, details = corrections.edit_item(before, changes)
    if not details:
        return _named([before])[0]
    uow = unit_of_work()
    store.require_pending(uow, before.customer_id, before.year, before.month)
    saved = store.save_item(uow, before, after)
    uow.record(domain.item_event(invoice, saved, domain.INVOICE_ITEM_UPDATED, ctx, details))
    uow.commit()
    return _named([saved])[0]


def delete_item(ctx: EventContext, item_id: str) -> None:
    """Staff remove an item of a pending invoice, with `invoice_item_deleted`."""
    item, invoice = _item_for_change(ctx.actor, item_id)
    uow = unit_of_work()
    store.require_pending(uow, item.customer_id, item.year, item.month)
    store.remove_item(uow, item)
    uow.record(domain.item_event(invoice, item, domain.INVOICE_ITEM_DELETED, ctx))
    uow.commit()
