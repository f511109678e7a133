"""Money and months: Waldur's arithmetic of invoice amounts and of prorating a span of a month.

Money is `Decimal` throughout, never float. To the cent:

- An item's quantity follows its unit (`quantity()`): `month` counts the days used with both ends
  counted over the days of the month (a whole month is exactly 1), `half_month` counts halves,
  `day` and `hour` count whole days and hours begun (ceil), `quantity` is the number given.
  Fractions are rounded **up** to 2 places (`quantize_price`, Waldur's ROUND_UP).
- An item's price is `unit_price * quantity`, rounded up to the cent; its tax is
  `price * tax_percent / 100`, and its total `price + tax` (shown to the cent, half-even: `cents`).
- An invoice's price is the sum of its items' prices; its tax is `price * tax_percent / 100`
  and its total `price + tax`, not rounded (Waldur shows them with 10 decimal places).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_EVEN, ROUND_UP, Decimal

from chalicelib.domain.numbers import MONEY
from chalicelib.domain.vocabulary import PlanUnit

CENT = Decimal("0.01")
ZERO = Decimal("0")


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
