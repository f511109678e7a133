"""Registration: the invoice items a resource's lifecycle opens, closes and splits (Waldur's
registrators and processors), driven by `services/billing.py` inside the unit of work of the change.

Items run from the moment a resource is made (OK) to the end of the month, close when it is
terminated, close and reopen on a plan switch, split at the day a limit changes; each month's run
opens the month's items of every billable resource; a usage report sets the month's usage item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from chalicelib.domain.invoices import InvoiceItem, LimitSpan
from chalicelib.domain.money import ZERO, month_end, month_start, quantity, quantize_price
from chalicelib.domain.vocabulary import BillingType, Component, LimitPeriod, Offering, Plan, PlanUnit

MakeId = Callable[[str, str], str]  # (component type, item kind) → the new item's id


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
