"""Daily series of a quota's usage (Waldur's `daily-quotas/`, HomePort's "Team size" chart).

Waldur records each quota's usage per day (on a change and by a daily task) and answers, for each
day of a period, the last usage recorded on or before it. Cirrus keeps the same history as gauge
points (domain/analytics_quotas.py: a point on the day a usage changed, and one a day from the
daily snapshot), and carries into the period the last point before it, so a period beginning on a
day without a point starts from the usage then (Waldur's answer when its daily task ran that day;
Waldur itself starts from 0 up to the first record inside the period).

Before a quota's first point (days before the history began: the engine was deployed, or the
scope was created, later) nothing was recorded. There Waldur answers 0, and so does Cirrus, but
for the team size (`nc_user_count`), which it can reconstruct from the roles in force today, each
with the time it was granted and, for a temporary one, when it ends: a user counts on a day when
one of their roles had begun by the end of it and had not ended by its start (a role revoked since
leaves no trace, so these days can only undercount). A project has no `nc_user_count` quota of its
own: its team size is always the one reconstructed from its roles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.rbac import Grant

DEFAULT_DAYS = 30  # Waldur: `start` defaults to 30 days before `end` (today)
MAX_DAYS = 3660  # about ten years of days in one answer
INVALID_PERIOD = "Invalid period specified. `start` should be lesser than `end`."
TOO_LONG = f"The period is longer than {MAX_DAYS} days: ask for a shorter one."


def period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """Waldur's defaults and rule (start before end), and Cirrus's bound on the number of days."""
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ValidationError({"non_field_errors": [INVALID_PERIOD]})
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError({"non_field_errors": [TOO_LONG]})
    return start, end


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _in_force(grant: Grant, day: date) -> bool:
    begins = datetime.combine(day, time.min, UTC)
    ends = begins + timedelta(days=1)
    return grant.created < ends and (grant.expiration_time is None or grant.expiration_time > begins)


def team_sizes(grants: Sequence[Grant], start: date, end: date) -> list[int]:
    """The number of distinct users with a role (of `grants`) in force on each day of the period."""
    return [len({g.user_id for g in grants if _in_force(g, day)}) for day in days(start, end)]


def no_history(start: date, end: date) -> list[int]:
    return [0 for _ in days(start, end)]


def usage_per_day(
    points: Mapping[date, Decimal | int],
    carried: Decimal | int | None,
    start: date,
    end: date,
    before_history: Sequence[int] | None = None,
) -> list[int]:
    """The usage on each day from `start` to `end`: the last point on or before the day (`points`:
    the period's, by day; `carried`: the last before `start`, None if there is none). Days before
    the first point take `before_history` (the same days' values from elsewhere), or 0."""
    out: list[int] = []
    current = None if carried is None else int(carried)
    for i, each in enumerate(days(start, end)):
        if each in points:
            current = int(points[each])
        if current is not None:
            out.append(current)
        else:
            out.append(before_history[i] if before_history is not None else 0)
    return out
