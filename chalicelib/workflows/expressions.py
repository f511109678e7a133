"""EventBridge schedule expressions, `rate(...)` and `cron(...)`: parsed, validated and evaluated.

Pure (no AWS imports): the local ticker fires the schedule registry with it, and infrastructure code
can call `parse` to refuse a bad expression before a deployment does. Times are UTC, as EventBridge
evaluates them by default.

Supported: `rate(N minute|minutes|hour|hours|day|days)` (singular unit for 1, plural otherwise, as
EventBridge requires) and the six-field `cron(minutes hours day-of-month month day-of-week year)`
with `*`, `?`, lists `,`, ranges `-`, steps `/`, months 1-12 or JAN-DEC, days of the week 1-7
(1 = Sunday) or SUN-SAT; exactly one of day-of-month and day-of-week is `?`. The day wildcards `L`,
`W` and `#` are refused with an error rather than approximated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

MIN_YEAR, MAX_YEAR = 1970, 2199


class ExpressionError(ValueError):
    """An expression EventBridge would refuse, or one this parser does not support."""


@dataclass(frozen=True)
class Rate:
    """`rate(...)`: fires every `interval`, counted from the previous fire."""

    interval: timedelta

    def next_after(self, previous: datetime) -> datetime:
        """The fire that follows one at `previous`."""
        return previous + self.interval


@dataclass(frozen=True)
class Cron:
    """`cron(...)`: fires at every minute its fields match. Each field holds its sorted values;
    `days`/`weekdays` is None where the expression says `?`. Weekdays: 1 = Sunday ... 7 = Saturday."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...] | None
    months: tuple[int, ...]
    weekdays: tuple[int, ...] | None
    years: tuple[int, ...]

    def matches_day(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days is not None:
            return day.day in self.days
        if self.weekdays is None:  # _parse_cron makes none with both day fields `?`; a hand-made one
            raise ExpressionError("a cron expression needs a day-of-month or a day-of-week")
        return day.isoweekday() % 7 + 1 in self.weekdays  # isoweekday: Monday 1 ... Sunday 7

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire strictly after `after` (in `after`'s time zone if it has one, which should
        be UTC), or None when the expression never fires again (its years are over)."""
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day, earliest = start.date(), (start.hour, start.minute)
        while day.year <= MAX_YEAR:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
            elif day.month not in self.months:
                day = _first_of_next_month(day)
            else:
                at = self._first_time(earliest) if self.matches_day(day) else None
                if at is not None:
                    return datetime.combine(day, at, tzinfo=after.tzinfo)
                day += timedelta(days=1)
            earliest = (0, 0)
        return None

    def _first_time(self, earliest: tuple[int, int]) -> time | None:
        for hour in self.hours:
            for minute in self.minutes:
                if (hour, minute) >= earliest:
                    return time(hour, minute)
        return None


Expression = Rate | Cron


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def parse(expression: str) -> Expression:
    """Parse an EventBridge schedule expression; raises ExpressionError for anything EventBridge
    would refuse, or that uses `L`, `W` or `#`."""
    text = expression.strip()
    if text.startswith("rate(") and text.endswith(")"):
        return _parse_rate(text[5:-1], expression)
    if text.startswith("cron(") and text.endswith(")"):
        return _parse_cron(text[5:-1], expression)
    raise ExpressionError(f"{expression!r}: expected rate(...) or cron(...)")


_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_RATE = re.compile(r"\s*(\d+)\s+([a-z]+)\s*")


def _parse_rate(body: str, expression: str) -> Rate:
    match = _RATE.fullmatch(body)
    if match is None:
        raise ExpressionError(f"{expression!r}: expected rate(<value> <unit>), e.g. rate(5 minutes)")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        raise ExpressionError(f"{expression!r}: the value must be a positive whole number")
    singular = unit.removesuffix("s")
    if singular not in _UNITS:
        raise ExpressionError(f"{expression!r}: the unit must be minute(s), hour(s) or day(s)")
    if (value == 1) != (unit == singular):
        expected = singular if value == 1 else singular + "s"
        raise ExpressionError(f"{expression!r}: with the value {value}, write the unit as {expected!r}")
    return Rate(value * _UNITS[singular])


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] = field(default_factory=dict)
    optional: bool = False  # may be `?` (the two day fields)


_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, optional=True),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _WEEKDAYS, optional=True),
    _Field("year", MIN_YEAR, MAX_YEAR),
)
# EventBridge's last day (L, 5L), nearest weekday (15W, LW) and nth weekday (6#3).
_UNSUPPORTED = re.compile(r"L|W$|#")


def _parse_cron(body: str, expression: str) -> Cron:
    parts = body.split()
    if len(parts) != len(_FIELDS):
        raise ExpressionError(
            f"{expression!r}: cron needs 6 fields (minutes hours day-of-month month day-of-week year),"
            f" got {len(parts)}"
        )
    try:
        values = [_parse_field(text, spec) for text, spec in zip(parts, _FIELDS, strict=True)]
    except ExpressionError as exc:
        raise ExpressionError(f"{expression!r}: {exc}") from None
    minutes, hours, days, months, weekdays, years = values
    if (days is None) == (weekdays is None):
        raise ExpressionError(
            f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'"
            " (EventBridge cannot match both)"
        )
    if not (minutes and hours and months and years):  # _parse_field refuses `?` in any other field
        raise ExpressionError(f"{expression!r}: only the day fields may be '?'")
    return Cron(minutes, hours, days, months, weekdays, years)


def _parse_field(text: str, spec: _Field) -> tuple[int, ...] | None:
    if text == "?":
        if not spec.optional:
            raise ExpressionError(f"'?' is only allowed in day-of-month and day-of-week, not {spec.name}")
        return None
    values: set[int] = set()
    for part in text.split(","):
        values.update(_parse_element(part, spec))
    return tuple(sorted(values))


def _parse_element(part: str, spec: _Field) -> range:
    base, slash, step_text = part.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) < 1:
            raise ExpressionError(f"bad step {step_text!r} in {spec.name} {part!r}")
        step = int(step_text)
    if base == "*":
        low, high = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, spec), _value(last, spec)
        if low > high:
            raise ExpressionError(f"range {base!r} in {spec.name} runs backwards")
    else:
        low = _value(base, spec)
        high = spec.high if slash else low  # `a/n`: from a, every n
    return range(low, high + 1, step)


def _value(token: str, spec: _Field) -> int:
    upper = token.upper()
    if upper in spec.names:
        return spec.names[upper]
    if upper.isdigit():
        value = int(upper)
        if not spec.low <= value <= spec.high:
            raise ExpressionError(f"{spec.name} {value} is outside {spec.low}-{spec.high}")
        return value
    if spec.optional and _UNSUPPORTED.search(upper):
        raise ExpressionError(
            f"{token!r} in {spec.name}: the L, W and # wildcards are not supported by Cirrus's schedule"
            " parser; list the days explicitly"
        )
    raise ExpressionError(f"{token!r} is not a valid {spec.name} value")
