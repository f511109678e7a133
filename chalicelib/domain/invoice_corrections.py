"""Staff's corrections of an invoice item (Waldur's InvoiceItemUpdateSerializer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.invoices import InvoiceItem
from chalicelib.domain.money import quantity
from chalicelib.domain.vocabulary import BillingType

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
