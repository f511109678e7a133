"""Invoices: one per customer and month, with an item per billed thing (Waldur's `invoices` app).

This module holds the entities (`Invoice`, `InvoiceItem`, `LimitSpan`), their ids, states and
transitions, their audit events and how their items read. The arithmetic of amounts and months is
`money.py`'s; how the resource lifecycle opens, closes and splits items is
`invoice_registration.py`'s (driven by `services/billing.py`); staff's corrections of an item are
`invoice_corrections.py`'s, and the month's running cost `estimates.py`'s. None touches storage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.events import Event, make_event
from chalicelib.domain.money import ZERO, full_days, month_end, month_start, period_key, quantize_price
from chalicelib.domain.vocabulary import BillingType, PlanUnit

MODEL = "Invoice"
ITEM_MODEL = "InvoiceItem"
PAYMENT_INTERVAL_DAYS = 30  # Waldur's WALDUR_INVOICES["PAYMENT_INTERVAL"]: due date after the invoice date
NUMBER_BASE = 100_000  # Waldur's invoice number is 100000 + its row id


class InvoiceState(StrEnum):
    PENDING = "pending"
    CREATED = "created"
    PAID = "paid"
    CANCELED = "canceled"


MUTABLE_STATES = frozenset({InvoiceState.PENDING})

INVOICE_CREATED = "invoice_created"
INVOICE_PAID = "invoice_paid"
INVOICE_CANCELED = "invoice_canceled"
INVOICE_ITEM_UPDATED = "invoice_item_updated"
INVOICE_ITEM_DELETED = "invoice_item_deleted"
EVENT_TYPES = (INVOICE_CREATED, INVOICE_PAID, INVOICE_CANCELED, INVOICE_ITEM_UPDATED, INVOICE_ITEM_DELETED)

MUST_BE_PENDING = "Invoice must be in pending state."
MUST_BE_CREATED = "Invoice must be in created state."


# --- items ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LimitSpan:
    """A stretch of a limit item at one limit (Waldur's `resource_limit_periods`)."""

    start: datetime
    end: datetime
    quantity: Decimal

    @property
    def billing_periods(self) -> int:
        return full_days(self.start, self.end)

    def as_details(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "quantity": f"{self.quantity:f}",
            "billing_periods": self.billing_periods,
            "total": f"{self.quantity * self.billing_periods:f}",
        }


@dataclass(frozen=True)
class InvoiceItem:
    id: str
    customer_id: str
    year: int
    month: int
    name: str
    unit: str
    unit_price: Decimal
    quantity: Decimal
    start: datetime
    end: datetime
    kind: str = ""
    resource_id: str = ""
    project_id: str = ""
    project_name: str = ""
    resource_name: str = ""
    offering_id: str = ""
    provider_id: str = ""
    component_type: str = ""
    measured_unit: str = ""
    article_code: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    limit_periods: tuple[LimitSpan, ...] = ()
    limit_period: str = ""  # a limit component's period (month, quarterly, annual, total)
    version: int = 0

    @property
    def price(self) -> Decimal:
        return quantize_price(self.unit_price * self.quantity)

    def tax(self, tax_percent: Decimal) -> Decimal:
        return self.price * tax_percent / 100

    def total(self, tax_percent: Decimal) -> Decimal:
        return self.price + self.tax(tax_percent)

    @property
    def is_open(self) -> bool:
        """Still running to the end of its month (not closed by a termination or a switch)."""
        return self.end >= month_end(self.start)

    @property
    def billing_type(self) -> str | None:
        return self.kind if self.kind in set(BillingType) else None


@dataclass(frozen=True)
class Invoice:
    id: str
    customer_id: str
    year: int
    month: int
    number: int
    state: InvoiceState
    tax_percent: Decimal
    created: datetime
    customer_name: str = ""
    invoice_date: date | None = None
    backend_id: str = ""
    payment_url: str = ""
    reference_number: str = ""
    items: tuple[InvoiceItem, ...] = ()
    version: int = 0

    @property
    def period(self) -> str:
        return period_key(self.year, self.month)

    @property
    def price(self) -> Decimal:
        return quantize_price(sum((i.price for i in self.items), ZERO))

    @property
    def tax(self) -> Decimal:
        return self.price * self.tax_percent / 100

    @property
    def total(self) -> Decimal:
        return self.price + self.tax

    @property
    def due_date(self) -> date | None:
        return self.invoice_date + timedelta(days=PAYMENT_INTERVAL_DAYS) if self.invoice_date else None

    @property
    def shown_items(self) -> tuple[InvoiceItem, ...]:
        """Waldur lists an invoice's items by project name, then name, without the free ones."""
        kept = [i for i in self.items if i.total(self.tax_percent) != 0]
        return tuple(sorted(kept, key=lambda i: (i.project_name, i.name)))

    def event_fields(self) -> dict[str, str]:
        return {
            "invoice_uuid": self.id,
            "invoice_period": self.period,
            "customer_uuid": self.customer_id,
            "customer_name": self.customer_name,
            "year": str(self.year),
            "month": str(self.month),
        }


def invoice_event(invoice: Invoice, event_type: str, ctx: EventContext) -> Event:
    verb = {INVOICE_CREATED: "created", INVOICE_PAID: "paid", INVOICE_CANCELED: "canceled"}[event_type]
    message = f"Invoice for customer {invoice.customer_name} has been {verb}."
    return make_event(event_type, message, ctx, invoice.event_fields(), invoice.customer_id)


def item_event(
    invoice: Invoice, item: InvoiceItem, event_type: str, ctx: EventContext, changes: str = ""
) -> Event:
    if event_type == INVOICE_ITEM_UPDATED:
        message = f"Invoice item {item.name} has been updated. Details: {changes}"
    else:
        message = f"Invoice item {item.name} has been deleted."
    fields = {**invoice.event_fields(), "invoice_item_uuid": item.id}
    if item.project_id:
        fields["project_uuid"] = item.project_id
        fields["project_name"] = item.project_name
    if item.resource_id:
        fields["resource_uuid"] = item.resource_id
        fields["resource_name"] = item.resource_name
    return make_event(event_type, message, ctx, fields, invoice.customer_id)


# --- ids -----------------------------------------------------------------------------------------
def stable_id(moment: datetime, *parts: str) -> str:
    """A UUIDv7 at `moment` whose other bits come from `parts`: the same parts give the same id
    (a rerun of the monthly run writes the same keys), and ids still sort by time."""
    ms = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    digest = int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:10], "big")
    rand_a = digest >> 68 & 0xFFF
    rand_b = digest & ((1 << 62) - 1)
    value = ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return f"{value:032x}"


def invoice_id(customer_id: str, year: int, month: int) -> str:
    """Each customer's invoice of a month has one id, made at the month's first instant."""
    return stable_id(month_start(date(year, month, 1)), "invoice", customer_id, period_key(year, month))


def new_invoice(
    customer_id: str,
    customer_name: str,
    year: int,
    month: int,
    number: int,
    tax_percent: Decimal,
    now: datetime,
) -> Invoice:
    return Invoice(
        id=invoice_id(customer_id, year, month),
        customer_id=customer_id,
        customer_name=customer_name,
        year=year,
        month=month,
        number=number,
        state=InvoiceState.PENDING,
        tax_percent=tax_percent,
        created=now,
    )


# --- transitions -----------------------------------------------------------------------------------
def set_created(invoice: Invoice, today: date) -> Invoice:
    """The month is over: the pending invoice is issued (dated today, due in 30 days)."""
    if invoice.state is not InvoiceState.PENDING:
        raise Conflict(MUST_BE_PENDING)
    return replace(invoice, state=InvoiceState.CREATED, invoice_date=today)


def set_paid(invoice: Invoice) -> Invoice:
    """Staff mark an issued invoice paid (Waldur's `paid/`: only from `created`, else 409)."""
    if invoice.state is not InvoiceState.CREATED:
        raise Conflict(MUST_BE_CREATED)
    return replace(invoice, state=InvoiceState.PAID)


def require_mutable(invoice: Invoice) -> None:
    if invoice.state not in MUTABLE_STATES:
        raise ValidationError([MUST_BE_PENDING])


def set_references(
    invoice: Invoice,
    *,
    backend_id: str | None = None,
    payment_url: str | None = None,
    reference_number: str | None = None,
) -> Invoice:
    """Staff record where the invoice lives elsewhere; in any state, with no event (Waldur logs
    none). References not given stay as they are."""
    return replace(
        invoice,
        backend_id=invoice.backend_id if backend_id is None else backend_id,
        payment_url=invoice.payment_url if payment_url is None else payment_url,
        reference_number=invoice.reference_number if reference_number is None else reference_number,
    )


# --- how items read ----------------------------------------------------------------------------------
def measured_unit_of(item: InvoiceItem) -> str:
    """Waldur's `get_measured_unit`: the component's own unit if it has one; otherwise one named
    after the item's unit (plural above one)."""
    if item.measured_unit:
        return item.measured_unit
    plural = item.quantity > 1
    if item.unit == PlanUnit.QUANTITY:
        if not item.resource_id:
            return ""
        return "resources" if plural else "resource"
    if item.unit == PlanUnit.HOUR:
        return "hours" if plural else "hour"
    if item.unit == PlanUnit.DAY:
        return "days" if plural else "day"
    if item.unit == PlanUnit.HALF_MONTH:
        return "percents from half a month"
    return "percents from a month"


def incurred_costs(invoice: Invoice) -> Decimal:
    """Waldur's `incurred_costs`: every item's unit price times its quantity, not rounded (Cirrus has
    no credits, so `compensations` is always 0)."""
    return sum((i.unit_price * i.quantity for i in invoice.items), ZERO)
