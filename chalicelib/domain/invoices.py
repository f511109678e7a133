"""Invoices: one per customer and month, with an item per billed thing (Waldur's `invoices` app).

Money is `Decimal` throughout, never float. Waldur's arithmetic, to the cent:

- An item's quantity follows its unit (`quantity()`): `month` counts the days used with both ends
  counted over the days of the month (a whole month is exactly 1), `half_month` counts halves,
  `day` and `hour` count whole days and hours begun (ceil), `quantity` is the number given.
  Fractions are rounded **up** to 2 places (`quantize_price`, Waldur's ROUND_UP).
- An item's price is `unit_price * quantity`, rounded up to the cent; its tax is
  `price * tax_percent / 100`, and its total `price + tax` (shown to the cent, half-even).
- An invoice's price is the sum of its items' prices; its tax is `price * tax_percent / 100`
  and its total `price + tax`, not rounded (Waldur shows them with 10 decimal places).

Items are registered by the resource's lifecycle (`billing.py` in the services): from the moment a
resource is made (OK) to the end of the month, closed when it is terminated, closed and reopened on
a plan switch, split at the day a limit changes; each month's run opens the month's items of every
billable resource. This module holds the rules; it touches no storage.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_UP, Decimal
from enum import StrEnum
from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.events import Event, make_event
from chalicelib.domain.marketplace import BillingType, Component, LimitPeriod, Offering, Plan, PlanUnit
from chalicelib.domain.numbers import MONEY

MODEL = "Invoice"
ITEM_MODEL = "InvoiceItem"
PAYMENT_INTERVAL_DAYS = 30  # Waldur's WALDUR_INVOICES["PAYMENT_INTERVAL"]: due date after the invoice date
NUMBER_BASE = 100_000  # Waldur's invoice number is 100000 + its row id

CENT = Decimal("0.01")
ZERO = Decimal("0")


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
MakeId = Callable[[str, str], str]  # (component type, item kind) → the new item's id
MUST_BE_CREATED = "Invoice must be in created state."


# --- money and time ------------------------------------------------------------------------------
def quantize_price(value: Decimal) -> Decimal:
    """Waldur's rounding of prices and fractional quantities: up (away from zero), to the cent."""
    return value.quantize(CENT, rounding=ROUND_UP, context=MONEY)


def cents(value: Decimal) -> Decimal:
    """A shown amount (an item's tax and total): to the cent, half-even (DRF's DecimalField)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN, context=MONEY)


def month_start(moment: datetime | date) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def month_end(moment: datetime | date) -> datetime:
    """The month's last instant (its last day at 23:59:59.999999), the end of an open item."""
    last = calendar.monthrange(moment.year, moment.month)[1]
    return datetime.combine(date(moment.year, moment.month, last), time.max, tzinfo=UTC)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def period_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def full_days(start: datetime, end: datetime) -> int:
    """Days begun from `start` to `end` (Waldur's get_full_days: any part of a day counts)."""
    whole, extra = divmod((end - start).total_seconds(), 86400)
    return int(whole) + (1 if extra > 0 else 0)


def full_hours(start: datetime, end: datetime) -> int:
    whole, extra = divmod((end - start).total_seconds(), 3600)
    return int(whole) + (1 if extra > 0 else 0)


def quantity(unit: str, start: datetime, end: datetime) -> Decimal:
    """How many of `unit` the span [start, end] bills, exactly as Waldur's `get_quantity`.

    `month`: a span from the 1st to the month's last day is 1; otherwise the days used, both ends
    counted (`(end - start).days + 1`), over the days in the month, rounded up to the cent.
    `half_month`: a half (1st-15th, 16th-last) is 1, the whole month 2, other spans their days over
    half the month's days (rounded up). `day`, `hour`: days or hours begun. `quantity` has no span:
    1 (the caller gives the amount).
    """
    month_days = calendar.monthrange(start.year, start.month)[1]
    if unit == PlanUnit.HOUR:
        return Decimal(full_hours(start, end))
    if unit == PlanUnit.DAY:
        return Decimal(full_days(start, end))
    if unit == PlanUnit.QUANTITY:
        return Decimal(1)
    if unit == PlanUnit.HALF_MONTH:
        return _half_months(start, end, month_days)
    if start.day == 1 and end.day == month_days:
        return Decimal(1)
    use_days = (end - start).days + 1
    return quantize_price(Decimal(use_days) / month_days)


def _half_months(start: datetime, end: datetime, month_days: int) -> Decimal:
    half = Decimal(month_days) / 2
    if (start.day == 1 and end.day == 15) or (start.day == 16 and end.day == month_days):
        return Decimal(1)
    if start.day == 1 and end.day == month_days:
        return Decimal(2)
    if start.day == 1 and end.day > 15:
        return quantize_price(1 + (end.day - 15) / half)
    if start.day < 16 and end.day == month_days:
        return quantize_price(1 + (16 - start.day) / half)
    return quantize_price((end.day - start.day + 1) / half)


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


# --- registration -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Billed:
    """What an item bills: the resource (with its names), its offering and plan."""

    resource_id: str
    resource_name: str
    customer_id: str
    project_id: str
    project_name: str
    offering: Offering
    plan: Plan
    provider_name: str
    limits: Mapping[str, int]
    created: datetime  # the resource's (an annual limit renews on its anniversary)

    def details(self, component: Component) -> dict[str, Any]:
        return {
            "resource_name": self.resource_name,
            "resource_uuid": self.resource_id,
            "plan_name": self.plan.name,
            "plan_uuid": self.plan.id,
            "offering_type": self.offering.type,
            "offering_name": self.offering.name,
            "offering_uuid": self.offering.id,
            "service_provider_name": self.provider_name,
            "service_provider_uuid": self.offering.customer_id,
            "plan_component_id": component.id,
            "offering_component_type": component.type,
            "offering_component_name": component.name,
        }

    def item_name(self, component: Component) -> str:
        return f"{self.resource_name} ({self.offering.name} / {self.plan.name}) / {component.name}"


class Reason(StrEnum):
    CREATE = "create"  # the resource was made: one-time charges too
    SWITCH = "switch"  # a new plan: plan-switch charges too
    CARRY = "carry"  # a new month: the running charges only


def _fixed_amount(plan: Plan, component: Component) -> int:
    """A fixed component's amount in the plan; a plan that does not name it bills one."""
    return int(plan.quotas.get(component.type, 1))


def open_items(
    billed: Billed, start: datetime, reason: Reason, make_id: MakeId, *, year: int, month: int
) -> list[InvoiceItem]:
    """The items a resource opens at `start` (to its month's end) for `reason`, one per billable
    component of its plan (Waldur's `_process_resource`). `make_id(component_type, kind)` names
    each item. Usage components open no item: their reports do (`usage_item`)."""
    if not billed.offering.billable:
        return []
    end = month_end(start)
    made: list[InvoiceItem] = []
    for component in billed.offering.components:
        price = Decimal(billed.plan.prices.get(component.type, ZERO))
        kind = component.billing_type
        base: dict[str, Any] = {
            "customer_id": billed.customer_id,
            "year": year,
            "month": month,
            "name": billed.item_name(component),
            "resource_id": billed.resource_id,
            "resource_name": billed.resource_name,
            "project_id": billed.project_id,
            "project_name": billed.project_name,
            "offering_id": billed.offering.id,
            "provider_id": billed.offering.customer_id,
            "component_type": component.type,
            "measured_unit": component.measured_unit,
            "article_code": component.article_code or billed.plan.article_code,
            "details": billed.details(component),
            "kind": kind.value,
        }
        if kind is BillingType.FIXED:
            made.append(
                InvoiceItem(
                    id=make_id(component.type, kind.value),
                    unit=billed.plan.unit.value,
                    unit_price=price * _fixed_amount(billed.plan, component),
                    quantity=quantity(billed.plan.unit, start, end),
                    start=start,
                    end=end,
                    **base,
                )
            )
        elif (kind is BillingType.ONE and reason is Reason.CREATE) or (
            kind is BillingType.FEW and reason is Reason.SWITCH
        ):
            made.append(
                InvoiceItem(
                    id=make_id(component.type, kind.value),
                    unit=PlanUnit.QUANTITY.value,
                    unit_price=price,
                    quantity=Decimal(1),
                    start=start,
                    end=end,
                    **base,
                )
            )
        elif kind is BillingType.LIMIT:
            item = _limit_item(billed, component, price, start, reason, make_id, base)
            if item is not None:
                made.append(item)
    return made


def _limit_item(
    billed: Billed,
    component: Component,
    price: Decimal,
    start: datetime,
    reason: Reason,
    make_id: MakeId,
    base: dict[str, Any],
) -> InvoiceItem | None:
    """A limit component's item (Waldur's LimitPeriodProcessor): a monthly limit bills its amount
    each month (by day on a daily plan); a quarterly one in the quarter's first month, an annual
    one on the resource's anniversary month, a total one once when the resource is made."""
    limit = int(billed.limits.get(component.type, 0) or 0)
    if limit <= 0:
        return None
    period = component.limit_period or LimitPeriod.MONTH
    end = month_end(start)
    if period is LimitPeriod.TOTAL:
        if reason is not Reason.CREATE:
            return None
        return InvoiceItem(
            id=make_id(component.type, BillingType.LIMIT.value),
            unit=PlanUnit.QUANTITY.value,
            unit_price=price,
            quantity=Decimal(limit),
            start=start,
            end=end,
            limit_period=period.value,
            **{**base, "details": {**base["details"], "limit_period": period.value}},
        )
    if period is LimitPeriod.QUARTERLY and start.month not in (1, 4, 7, 10):
        return None
    if period is LimitPeriod.ANNUAL and start.month != billed.created.month and reason is Reason.CARRY:
        return None
    periods = (LimitSpan(start, end, Decimal(limit)),)
    return limit_item_with(
        InvoiceItem(
            id=make_id(component.type, BillingType.LIMIT.value),
            unit=billed.plan.unit.value,
            unit_price=price,
            quantity=Decimal(limit),
            start=start,
            end=end,
            limit_period=period.value,
            **base,
        ),
        periods,
    )


def limit_quantity(unit: str, periods: Sequence[LimitSpan]) -> Decimal:
    """A limit item's quantity from its periods (Waldur's `quantity_from_limit_periods`): on a daily
    plan the limit times the days of each period; otherwise the day-weighted average limit."""
    if unit == PlanUnit.DAY:
        return Decimal(sum(int(p.quantity * p.billing_periods) for p in periods))
    days = sum(p.billing_periods for p in periods)
    if days == 0:
        return periods[-1].quantity if periods else ZERO
    return quantize_price(sum((p.quantity * p.billing_periods for p in periods), ZERO) / days)


def limit_item_with(item: InvoiceItem, periods: Sequence[LimitSpan]) -> InvoiceItem:
    details = {**item.details, "resource_limit_periods": [p.as_details() for p in periods]}
    if item.limit_period:
        details["limit_period"] = item.limit_period
    return replace(
        item,
        limit_periods=tuple(periods),
        quantity=limit_quantity(item.unit, periods),
        details=details,
    )


def close_item(item: InvoiceItem, end: datetime) -> InvoiceItem:
    """The resource stopped (terminated, or left its plan) at `end`: the item ends there and a
    fixed item's quantity is prorated to the span; a limit item's last period ends there.
    One-time, plan-switch and usage items keep their quantity; total limits are not prorated."""
    end = max(end, item.start)
    if item.kind == BillingType.FIXED and item.unit != PlanUnit.QUANTITY:
        return replace(item, end=end, quantity=quantity(item.unit, item.start, end))
    if item.kind == BillingType.LIMIT and item.limit_periods:
        periods = [*item.limit_periods[:-1], replace(item.limit_periods[-1], end=end)]
        return limit_item_with(replace(item, end=end), periods)
    return replace(item, end=end)


def change_limit(item: InvoiceItem, new_limit: int, now: datetime) -> InvoiceItem | None:
    """A limit changed at `now` (Waldur's rule): a decrease still bills the old limit for today
    (its period ends tonight, the new starts tomorrow); an increase bills the new limit from today.
    None when the item has nothing to split (no periods, or a total limit)."""
    if not item.limit_periods or item.limit_period == LimitPeriod.TOTAL.value:
        return None
    last = item.limit_periods[-1]
    new = Decimal(new_limit)
    if new == last.quantity:
        return item
    today = datetime.combine(now.date(), time.min, tzinfo=UTC)
    split = today + timedelta(days=1) if new < last.quantity else today
    split = max(split, last.start)
    closed = replace(last, end=split - timedelta(seconds=1)) if split > last.start else None
    following = LimitSpan(split, last.end, new)
    periods = [*item.limit_periods[:-1], *([closed] if closed else []), following]
    return limit_item_with(item, periods)


def total_limit_change(
    item: InvoiceItem, new_limit: int, old_limit: int, make_id: MakeId
) -> InvoiceItem | None:
    """A total limit changed: a new item bills (or refunds) the difference once."""
    diff = new_limit - old_limit
    if diff == 0:
        return None
    return replace(
        item,
        id=make_id(item.component_type, "limit-change"),
        unit=PlanUnit.QUANTITY.value,
        unit_price=item.unit_price if diff > 0 else -item.unit_price,
        quantity=Decimal(abs(diff)),
        limit_periods=(),
        version=0,
    )


def usage_item(
    billed: Billed,
    component: Component,
    amount: Decimal,
    year: int,
    month: int,
    start: datetime,
    item_id: str,
    existing: InvoiceItem | None,
) -> InvoiceItem:
    """The month's usage of a usage component: the reported amount replaces the item's quantity
    (Waldur's usage processor); a first report opens the item at the component's price."""
    if existing is not None:
        return replace(existing, quantity=amount)
    return InvoiceItem(
        id=item_id,
        customer_id=billed.customer_id,
        year=year,
        month=month,
        name=f"{billed.resource_name} / {component.name}",
        unit=PlanUnit.QUANTITY.value,
        unit_price=Decimal(billed.plan.prices.get(component.type, ZERO)),
        quantity=amount,
        start=max(start, month_start(start)),
        end=month_end(start),
        kind=BillingType.USAGE.value,
        resource_id=billed.resource_id,
        resource_name=billed.resource_name,
        project_id=billed.project_id,
        project_name=billed.project_name,
        offering_id=billed.offering.id,
        provider_id=billed.offering.customer_id,
        component_type=component.type,
        measured_unit=component.measured_unit,
        article_code=component.article_code or billed.plan.article_code,
        details=billed.details(component),
    )


# --- staff corrections ---------------------------------------------------------------------------------
EDITABLE = ("article_code", "quantity", "unit_price", "start", "end")


def edit_item(item: InvoiceItem, changes: Mapping[str, Any]) -> tuple[InvoiceItem, str]:
    """Staff correct an item (Waldur's InvoiceItemUpdateSerializer): a fixed item's quantity follows
    its new span; other items take the quantity given and keep their span. Returns the item and
    the event's "field: old -> new" details."""
    allowed = {k: v for k, v in changes.items() if k in EDITABLE}
    if item.kind == BillingType.FIXED:
        allowed.pop("quantity", None)
    else:
        allowed.pop("start", None)
        allowed.pop("end", None)
    after = replace(item, **allowed)
    if after.start > after.end:
        raise ValidationError({"end": ["End must be after start."]})
    if item.kind == BillingType.FIXED and ("start" in allowed or "end" in allowed):
        after = replace(after, quantity=quantity(after.unit, after.start, after.end))
    shown = [
        f"{name}: {getattr(item, name)} -> {getattr(after, name)}"
        for name in ("article_code", "quantity", "unit_price", "start", "end")
        if getattr(item, name) != getattr(after, name)
    ]
    return after, ", ".join(shown)


def estimate(items: Sequence[InvoiceItem], tax_percent: Decimal, now: datetime) -> dict[str, Decimal]:
    """A month's cost so far and in all (Waldur's `billing_price_estimate`): `total` bills every item
    to its end; `current` counts day and hour items only to now."""
    total = ZERO
    current = ZERO
    for item in items:
        total += item.unit_price * item.quantity
        if item.unit in (PlanUnit.DAY, PlanUnit.HOUR) and item.kind != BillingType.LIMIT:
            so_far = min(item.end, now)
            count = quantity(item.unit, item.start, so_far) if so_far > item.start else ZERO
            current += item.unit_price * count
        else:
            current += item.unit_price * item.quantity
    total, current = quantize_price(total), quantize_price(current)
    return {
        "total": total,
        "current": current,
        "tax": quantize_price(total * tax_percent / 100),
        "tax_current": quantize_price(current * tax_percent / 100),
    }
