"""Daily series of a quota's usage (Waldur's `daily-quotas/`, HomePort's "Team size" chart).

Waldur records each quota's usage per day and answers, for each day of a period, the last usage
recorded on or before it (0 before the first). Cirrus records no daily history; what it can say
about a team's size on a past day comes from the roles in force today, each with the time it was
granted and, for a temporary one, when it ends: a user counts on a day when one of their roles had
begun by the end of it and had not ended by its start. A role revoked since leaves no trace in
Cirrus, so it is missing from the days it was in force (the series can only undercount the past).
Every other quota has no history in Cirrus: its series is Waldur's answer for a quota without
records, zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

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
