"""The month's running cost of a customer or project (Waldur's `billing_price_estimate`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from chalicelib.domain.invoices import InvoiceItem
from chalicelib.domain.money import ZERO, quantity, quantize_price
from chalicelib.domain.vocabulary import BillingType, PlanUnit


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
