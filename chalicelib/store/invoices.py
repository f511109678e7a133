"""Invoices and their items, in the customer's partition:

- the invoice `CUST#<c>` / `INVOICE#<yyyy-mm>` (gsi1 `INVOICES` / `<invoice id>`; gsi2
  `CINVOICES#<c>` / `<yyyy-mm>`, the customer's invoices without their items);
- its items `CUST#<c>` / `INVOICE#<yyyy-mm>#<project>#<resource>#<item id>` (gsi1 `INVOICE_ITEMS` /
  `<item id>`), so one Query reads an invoice with all its items, a project's or a resource's.

An invoice's id is made from its customer and month (`domain/invoices.invoice_id`), a UUIDv7 at the
month's first instant: ids sort by month, so a month (or a year) is an id range of gsi1, and the
invoice is written with a condition that it does not exist yet, so however many writers race to make
it, there is one. Numbers come from the `invoice_numbers` counter, reserved before the write (a
write that loses its race leaves a gap, as Waldur's ids do).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.domain import invoices as domain
from chalicelib.domain import money
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import id_bounds
from chalicelib.domain.invoices import Invoice, InvoiceItem, InvoiceState, LimitSpan
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys, pages
from chalicelib.store.items import BaseItem, CounterItem, InvoiceHeaderItem, InvoiceLineItem
from chalicelib.store.pages import Listing
from chalicelib.store.unit_of_work import LOST_RACE, transaction

NUMBERS = "invoice_numbers"
_ITEM_DOC = ("project_name", "resource_name", "measured_unit", "article_code", "limit_period")


# --- mapping ---------------------------------------------------------------------------------------
def _header(invoice: Invoice) -> InvoiceHeaderItem:
    return InvoiceHeaderItem(
        pk=keys.customer_pk(invoice.customer_id),
        sk=keys.invoice_sk(invoice.period),
        gsi1pk=keys.INVOICES,
        gsi1sk=invoice.id,
        gsi2pk=keys.customer_invoices(invoice.customer_id),
        gsi2sk=invoice.period,
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        customer_name=invoice.customer_name,
        year=invoice.year,
        month=invoice.month,
        number=invoice.number,
        state=invoice.state.value,
        tax_percent=str(invoice.tax_percent),
        created=invoice.created,
        invoice_date=invoice.invoice_date.isoformat() if invoice.invoice_date else None,
        fields={
            "backend_id": invoice.backend_id,
            "payment_url": invoice.payment_url,
            "reference_number": invoice.reference_number,
        },
        version=invoice.version,
    )


def _invoice(item: InvoiceHeaderItem, items: Iterable[InvoiceItem] = ()) -> Invoice:
    extra = item.fields or {}
    return Invoice(
        id=item.invoice_id,
        customer_id=item.customer_id,
        customer_name=item.customer_name,
        year=int(item.year),
        month=int(item.month),
        number=int(item.number),
        state=InvoiceState(item.state),
        tax_percent=Decimal(item.tax_percent),
        created=item.created,
        invoice_date=date.fromisoformat(item.invoice_date) if item.invoice_date else None,
        backend_id=str(extra.get("backend_id") or ""),
        payment_url=str(extra.get("payment_url") or ""),
        reference_number=str(extra.get("reference_number") or ""),
        items=tuple(items),
        version=int(item.version),
    )


def _line(item: InvoiceItem) -> InvoiceLineItem:
    period = money.period_key(item.year, item.month)
    doc = {name: getattr(item, name) for name in _ITEM_DOC}
    doc["details"] = dict(item.details)
    doc["limit_periods"] = [
        {"start": p.start.isoformat(), "end": p.end.isoformat(), "quantity": str(p.quantity)}
        for p in item.limit_periods
    ]
    return InvoiceLineItem(
        pk=keys.customer_pk(item.customer_id),
        sk=keys.invoice_item_sk(period, item.project_id or "-", item.resource_id or "-", item.id),
        gsi1pk=keys.INVOICE_ITEMS,
        gsi1sk=item.id,
        item_id=item.id,
        customer_id=item.customer_id,
        year=item.year,
        month=item.month,
        name=item.name,
        unit=item.unit,
        unit_price=str(item.unit_price),
        quantity=str(item.quantity),
        start=item.start,
        end=item.end,
        kind=item.kind,
        resource_id=item.resource_id,
        project_id=item.project_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        component_type=item.component_type,
        fields=doc,
        version=item.version,
    )


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _item(line: InvoiceLineItem) -> InvoiceItem:
    doc: dict[str, Any] = dict(line.fields or {})
    return InvoiceItem(
        id=line.item_id,
        customer_id=line.customer_id,
        year=int(line.year),
        month=int(line.month),
        name=line.name,
        unit=line.unit,
        unit_price=Decimal(line.unit_price),
        quantity=Decimal(line.quantity),
        start=line.start,
        end=line.end,
        kind=line.kind,
        resource_id=line.resource_id,
        project_id=line.project_id,
        offering_id=line.offering_id,
        provider_id=line.provider_id,
        component_type=line.component_type,
        details=doc.get("details") or {},
        limit_periods=tuple(
            LimitSpan(_aware(p["start"]), _aware(p["end"]), Decimal(p["quantity"]))
            for p in doc.get("limit_periods") or []
        ),
        version=int(line.version),
        **{name: str(doc.get(name) or "") for name in _ITEM_DOC},
    )


def _assemble(found: Iterable[BaseItem]) -> list[Invoice]:
    """Invoices with their items from a Query over `INVOICE#...` (an invoice precedes its items)."""
    invoices: list[Invoice] = []
    header: InvoiceHeaderItem | None = None
    items: list[InvoiceItem] = []
    for entry in found:
        if isinstance(entry, InvoiceHeaderItem):
            if header is not None:
                invoices.append(_invoice(header, items))
            header, items = entry, []
        elif (
            isinstance(entry, InvoiceLineItem)
            and header is not None
            and (int(entry.year), int(entry.month)) == (int(header.year), int(header.month))
        ):
            items.append(_item(entry))
    if header is not None:
        invoices.append(_invoice(header, items))
    return invoices


# --- reads -----------------------------------------------------------------------------------------
def get_in(customer_id: str, year: int, month: int, consistent: bool = True) -> Invoice | None:
    """A customer's invoice of a month with its items: one Query."""
    found = BaseItem.query(
        keys.customer_pk(customer_id),
        BaseItem.sk.startswith(keys.invoice_sk(money.period_key(year, month))),
        consistent_read=consistent,
    )
    invoices = _assemble(found)
    return invoices[0] if invoices else None


def header_in(customer_id: str, year: int, month: int) -> Invoice | None:
    """A customer's invoice of a month without its items: one GetItem (consistent)."""
    try:
        item = InvoiceHeaderItem.get(
            keys.customer_pk(customer_id),
            keys.invoice_sk(money.period_key(year, month)),
            consistent_read=True,
        )
    except InvoiceHeaderItem.DoesNotExist:
        return None
    return _invoice(item)


def header(invoice_id: str) -> Invoice | None:
    """The invoice with this id, without its items: one gsi1 Query (eventually consistent)."""
    for item in BaseItem.gsi1.query(keys.INVOICES, BaseItem.gsi1sk == invoice_id):
        if isinstance(item, InvoiceHeaderItem):
            return _invoice(item)
    return None


def get(invoice_id: str) -> Invoice | None:
    """The invoice with this id and its items: a gsi1 Query for its customer, then its Query."""
    for item in BaseItem.gsi1.query(keys.INVOICES, BaseItem.gsi1sk == invoice_id):
        if isinstance(item, InvoiceHeaderItem):
            return get_in(item.customer_id, int(item.year), int(item.month))
    return None


def items_of_resource(
    customer_id: str, year: int, month: int, project_id: str, resource_id: str
) -> list[InvoiceItem]:
    """A resource's items of a month, read consistently: one Query."""
    found = BaseItem.query(
        keys.customer_pk(customer_id),
        BaseItem.sk.startswith(
            keys.invoice_item_prefix(money.period_key(year, month), project_id, resource_id)
        ),
        consistent_read=True,
    )
    return [_item(i) for i in found if isinstance(i, InvoiceLineItem)]


def items_of(customer_id: str, year: int, month: int, project_id: str = "") -> list[InvoiceItem]:
    """A month's items of a customer (or of one of its projects): one Query."""
    found = BaseItem.query(
        keys.customer_pk(customer_id),
        BaseItem.sk.startswith(keys.invoice_item_prefix(money.period_key(year, month), project_id)),
    )
    return [_item(i) for i in found if isinstance(i, InvoiceLineItem)]


def get_item(item_id: str) -> InvoiceItem | None:
    """The item with this id: one gsi1 Query (eventually consistent)."""
    for entry in BaseItem.gsi1.query(keys.INVOICE_ITEMS, BaseItem.gsi1sk == item_id):
        if isinstance(entry, InvoiceLineItem):
            return _item(entry)
    return None


def reload_item(item: InvoiceItem) -> InvoiceItem | None:
    """The item as stored now (before a change): one consistent GetItem."""
    key = _line(item)
    try:
        line = InvoiceLineItem.get(key.pk, key.sk, consistent_read=True)
    except InvoiceLineItem.DoesNotExist:
        return None
    return _item(line)


def _month_bounds(year: int, month: int | None) -> tuple[str, str]:
    """The id range of invoices made for a month (or a whole year, `month` None)."""
    first = money.month_start(date(year, month or 1, 1))
    last = money.month_end(date(year, month or 12, 1))
    return id_bounds(int(first.timestamp() * 1000), int(last.timestamp() * 1000))


def headers_of_customer(customer_id: str, low: str | None = None, high: str | None = None) -> list[Invoice]:
    """A customer's invoices (no items), newest month first, `yyyy-mm` within [low, high]."""
    condition = None
    if low or high:
        condition = BaseItem.gsi2sk.between(low or "0000-00", high or "9999-99")
    found = BaseItem.gsi2.query(
        keys.customer_invoices(customer_id), range_key_condition=condition, scan_index_forward=False
    )
    return [_invoice(i) for i in found if isinstance(i, InvoiceHeaderItem)]


def headers(year: int | None = None, month: int | None = None) -> Iterable[Invoice]:
    """Every invoice (no items), newest month first; a year (and month) narrows it to an id range
    (a month without a year does not narrow it)."""
    bounds = _month_bounds(year, month) if year else None
    condition = BaseItem.gsi1sk.between(*bounds) if bounds else None
    found = BaseItem.gsi1.query(keys.INVOICES, range_key_condition=condition, scan_index_forward=False)
    return (_invoice(i) for i in found if isinstance(i, InvoiceHeaderItem))


def page_of_all(request: PageRequest, year: int | None = None, month: int | None = None) -> Page[Invoice]:
    """A page of every invoice (no items), newest month first, optionally of a year (and month):
    one Query for the page, keys-only reads to step over earlier pages, and a COUNT Query for the
    total (there is no invoice counter: keys-only reads of the whole range)."""
    listing = Listing(
        partition=keys.INVOICES,
        index="gsi1",
        between=_month_bounds(year, month) if year else None,
        forward=False,
        item_type=InvoiceHeaderItem,
    )
    found = pages.fetch_page(listing, request.page, request.page_size)
    return Page([_invoice(i) for i in found.items], found.total)


def page_of_every_item(request: PageRequest) -> Page[InvoiceItem]:
    """A page of every invoice item, oldest first (by id: when it was registered), with a COUNT
    Query for the total (keys-only reads of the whole index partition)."""
    listing = Listing(partition=keys.INVOICE_ITEMS, index="gsi1", item_type=InvoiceLineItem)
    found = pages.fetch_page(listing, request.page, request.page_size)
    return Page([_item(i) for i in found.items], found.total)


def with_items(found: list[Invoice]) -> list[Invoice]:
    """The invoices again with their items: one Query per customer, over the months listed."""
    by_customer: dict[str, list[Invoice]] = {}
    for invoice in found:
        by_customer.setdefault(invoice.customer_id, []).append(invoice)
    complete: dict[str, Invoice] = {}
    for customer_id, invoices in by_customer.items():
        periods = sorted(i.period for i in invoices)
        if len(periods) == 1:
            read = BaseItem.query(
                keys.customer_pk(customer_id), BaseItem.sk.startswith(keys.invoice_sk(periods[0]))
            )
        else:
            read = BaseItem.query(
                keys.customer_pk(customer_id),
                BaseItem.sk.between(keys.invoice_sk(periods[0]), keys.invoice_sk(periods[-1]) + "#~"),
            )
        wanted = {i.id for i in invoices}
        for invoice in _assemble(read):
            if invoice.id in wanted:
                complete[invoice.id] = invoice
    return [complete.get(i.id, i) for i in found]


def all_items(customer_id: str) -> list[InvoiceItem]:
    """Every item of a customer's invoices (the slow path of invoice-items/ filters)."""
    found = BaseItem.query(keys.customer_pk(customer_id), BaseItem.sk.startswith(keys.INVOICE_PREFIX))
    return [_item(i) for i in found if isinstance(i, InvoiceLineItem)]


def every_item() -> Iterable[InvoiceItem]:
    """Every invoice item, newest first (staff's filtered lists of items)."""
    found = BaseItem.gsi1.query(keys.INVOICE_ITEMS, scan_index_forward=False)
    return (_item(i) for i in found if isinstance(i, InvoiceLineItem))


# --- writes ----------------------------------------------------------------------------------------
def reserve_numbers(count: int) -> int:
    """Reserve `count` invoice numbers: returns the first (`NUMBER_BASE + n`). One UpdateItem."""
    response = BaseItem._get_connection().update_item(
        keys.counter_pk(NUMBERS),
        keys.META,
        actions=[CounterItem.value.add(count), CounterItem.type.set(CounterItem)],
        return_values="UPDATED_NEW",
    )
    last = int(response["Attributes"]["value"]["N"])
    return domain.NUMBER_BASE + last - count + 1


def _put_if_absent(item: BaseItem) -> bool:
    """One conditional PutItem: False (and nothing written) when the key is taken already."""
    try:
        item.save(condition=BaseItem.pk.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def create(invoice: Invoice) -> bool:
    """Write a new invoice unless the customer has that month's already (False then)."""
    return _put_if_absent(_header(replace(invoice, version=1)))


def save_state(uow: Work, before: Invoice, after: Invoice) -> Invoice:
    """The invoice's state (and dates, references) as `after`, if nobody changed it meanwhile."""
    stored = replace(after, version=before.version + 1, items=before.items)
    transaction(uow).put(
        _header(stored),
        condition=InvoiceHeaderItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )
    return stored


def require_pending(uow: Work, customer_id: str, year: int, month: int) -> None:
    """Item writes of a month go in only while its invoice is still pending (checked once)."""
    period = money.period_key(year, month)
    if not transaction(uow).first(f"invoice-pending:{customer_id}:{period}"):
        return
    transaction(uow).check(
        InvoiceHeaderItem,
        keys.customer_pk(customer_id),
        keys.invoice_sk(period),
        InvoiceHeaderItem.state == InvoiceState.PENDING.value,
        Conflict(domain.MUST_BE_PENDING),
    )


def add_item(uow: Work, item: InvoiceItem) -> InvoiceItem:
    """A new item (its key must be free: a rerun that made it already is refused)."""
    made = replace(item, version=1)
    transaction(uow).put(
        _line(made), condition=InvoiceLineItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE)
    )
    return made


def put_new_item(item: InvoiceItem) -> bool:
    """Write one new item outside a unit of work; False if it exists already (a rerun)."""
    return _put_if_absent(_line(replace(item, version=1)))


def save_item(uow: Work, before: InvoiceItem, after: InvoiceItem) -> InvoiceItem:
    """The item as `after` (a version more), if nobody changed it meanwhile."""
    stored = replace(after, version=before.version + 1)
    condition = InvoiceLineItem.version == before.version
    transaction(uow).put(_line(stored), condition=condition, on_conflict=Conflict(LOST_RACE))
    return stored


def remove_item(uow: Work, item: InvoiceItem) -> None:
    """Remove the item, if nobody changed it meanwhile."""
    condition = InvoiceLineItem.version == item.version
    transaction(uow).delete(_line(item), condition=condition, on_conflict=Conflict(LOST_RACE))
