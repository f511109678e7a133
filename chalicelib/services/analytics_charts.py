"""Charts of analytics series, as SVG (domain/charts.py draws them; api/analytics_charts.py serves
them, one route per chart). Each chart reads a few series through the analytics port, one Query
each (a second to carry a gauge's value into the range), never the objects behind them.

- `daily_quotas`: a customer's or a project's quota usage per day (the points of the series
  `quota#<customer|project>#<id>#<quota>`, domain/analytics_quotas.py), a line per quota. Who sees
  the scope sees the chart, as `daily-quotas/` (services/daily_quotas.py): a bare uuid names a
  project, else a customer; a scope the caller does not see, or that does not exist, draws each
  named quota at zero under a title that names nothing (never another tenant's numbers or name).
- `users_registration`: the users who joined in the period, by registration method (the series
  `users#registration`): platform-wide, so staff and support only (Waldur's stats are theirs).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from chalicelib.domain import analytics as agg
from chalicelib.domain import charts
from chalicelib.domain import daily_quotas as periods
from chalicelib.domain.analytics import SEP, Aggregate
from chalicelib.domain.analytics_quotas import USAGE, USERS_BY_REGISTRATION, quota_series
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, PROJECT_QUOTAS
from chalicelib.services import customers, projects
from chalicelib.services.ports import analytics

TOO_MANY_DAYS = f"A chart shows at most {charts.MAX_POINTS} days: ask for a shorter period."


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """Waldur's defaults and rule (`daily-quotas/`: the last 30 days, start before end) and the
    chart's bound on the number of days."""
    first, last = periods.period(start, end, utcnow().date())
    if (last - first).days + 1 > charts.MAX_POINTS:
        raise ValidationError({"non_field_errors": [TOO_MANY_DAYS]})
    return first, last


def carried(rows: Sequence[Aggregate], before: Sequence[Aggregate], days: Sequence[date]) -> list[Decimal]:
    """A gauge's value on each day: its point of the day, else the last one before (`before`: the
    points of the last day before the range), 0 before the first point (as Waldur's daily quotas)."""
    value = next((r.value for r in before if r.field == USAGE), Decimal(0))
    points = {r.period: r.value for r in rows if r.field == USAGE}
    out = []
    for day in days:
        value = points.get(agg.day(day), value)
        out.append(value)
    return out


def _scope(
    principal: Principal, scope_type: str | None, scope_id: str
) -> tuple[str, str, tuple[str, ...]] | None:
    """(type, name, own quotas) of the scope the caller sees; None for one they do not (or none)."""
    if scope_type in (None, "project"):
        try:
            project = projects.get_visible(principal, scope_id)
            return "project", project.name, PROJECT_QUOTAS
        except NotFound:
            pass
    if scope_type in (None, "customer"):
        try:
            customer = customers.get_visible(principal, scope_id)
            return "customer", customer.name, CUSTOMER_QUOTAS
        except NotFound:
            pass
    return None


def daily_quotas(
    principal: Principal,
    scope: tuple[str | None, str],
    quota_names: Sequence[str],
    start: date | None,
    end: date | None,
) -> str:
    first, last = period(start, end)
    days = periods.days(first, last)
    seen = _scope(principal, *scope)
    lines: list[charts.Series] = []
    for name in dict.fromkeys(quota_names or (seen[2] if seen else ())):
        values = [Decimal(0)] * len(days)
        if seen is not None and name and SEP not in name:  # a name no series can have reads nothing
            series = quota_series(seen[0], scope[1], name)
            values = carried(
                analytics.read(series, agg.day(first), agg.day(last)),
                analytics.latest(series, agg.day(first)),
                days,
            )
        lines.append(charts.Series(name, values))
    title = f"{seen[1]}: quota usage per day" if seen else "Quota usage per day"
    return charts.line_chart(title, [d.isoformat() for d in days], lines, y_label="usage")


def users_registration(principal: Principal, start: date | None, end: date | None) -> str:
    if not principal.reads_everything:
        raise PermissionDenied()
    first, last = period(start, end)
    joined = agg.by_field(analytics.read(USERS_BY_REGISTRATION, agg.day(first), agg.day(last)))
    bars = sorted(joined.items(), key=lambda item: (-item[1], item[0]))[: charts.MAX_BARS]
    title = f"Users registered {first.isoformat()} to {last.isoformat()}, by method"
    return charts.bar_chart(title, bars, y_label="users")
