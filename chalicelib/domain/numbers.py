"""Bounds of the numbers Cirrus takes, and the precision its money arithmetic runs at.

Whole numbers are bounded as Waldur's columns bound them (DRF refuses what the column cannot
hold): Django's IntegerField and PositiveIntegerField hold at most 2**31 - 1, a
PositiveSmallIntegerField at most 32767. Prices and amounts are bounded by their DecimalField's
digits at the API. Products of bounded values still outgrow Python's default 28 significant
digits (a usage of 18 whole digits at a price of 12), where rounding to the cent would raise
`InvalidOperation`; money is rounded in `MONEY`, wide enough for any product of two bounded values.
"""

from __future__ import annotations

from decimal import Context

MAX_INTEGER = 2**31 - 1  # Django's IntegerField / PositiveIntegerField
MIN_INTEGER = -(2**31)
MAX_SMALL_INTEGER = 2**15 - 1  # Django's PositiveSmallIntegerField

MONEY = Context(prec=80)


def at_most(limit: int) -> str:
    """DRF's message for a value above a field's maximum."""
    return f"Ensure this value is less than or equal to {limit}."
