"""The order and organisation statistics of `marketplace-stats/` (what they hold:
domain/analytics_orders.py). Each answer reads a few series, one Query each, never the orders,
resources or projects themselves.

Who sees them: Waldur's StatsViewSet is for staff and support only, and so are these, except
`order_stats/` narrowed to one customer (`customer_uuid`) or one provider (`provider_uuid`), which
that customer's or provider's customer-level roles may read too (those who see its spend). Anybody
else gets Waldur's 403, for a customer that exists and one that does not alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.domain import analytics as engine
from chalicelib.domain import analytics_orders as domain
from chalicelib.domain.analytics import Aggregate, by_field, by_period
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied, ValidationError
from chalicelib.services import access as access_service
from chalicelib.services.ports import analytics

DEFAULT_DAYS = 30  # Waldur's order_stats: from 30 days ago to today
MAX_DAYS = 366  # Cirrus's bound on one answer's range (one Query of at most a year of days)
DEFAULT_MINUTES = 60  # Waldur's resource_provisioning_stats window
MAX_MINUTES = 31 * 24 * 60  # Cirrus's bound: a month of minutes (at most 744 hours read)
START_AFTER_END = "start must not be after end."
TOO_LONG = f"The period is longer than {MAX_DAYS} days: ask for a shorter one."


def _require_platform_reader(principal: Principal) -> None:
    if not principal.reads_everything:
        raise PermissionDenied()


def _require_scope_reader(principal: Principal, customer_id: str | None, provider_id: str | None) -> None:
    """Staff and support; or a customer-level role of the customer or of the provider asked about
    (the orders of both together are among those of either)."""
    if principal.reads_everything:
        return
    mine = access_service.access(principal)
    if any(scope and mine.sees_whole_customer(scope) for scope in (customer_id, provider_id)):
        return
    raise PermissionDenied()


# --- order_stats ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Day:
    day: date
    totals: domain.OrderTotals


@dataclass(frozen=True)
class OrderStats:
    totals: domain.OrderTotals
    days: list[Day]


def _range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    end = end or today
    start = start or today - timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise ValidationError({"non_field_errors": [START_AFTER_END]})
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError({"non_field_errors": [TOO_LONG]})
    return start, end


def order_stats(
    principal: Principal,
    start: date | None,
    end: date | None,
    customer_id: str | None = None,
    provider_id: str | None = None,
) -> OrderStats:
    """The orders created from `start` to `end` (both included; Waldur's defaults: 30 days ago to
    today), by their state now and type, with cost and revenue, in total and per day that has
    any. One Query."""
    first, last = _range(start, end, utcnow().date())
    _require_scope_reader(principal, customer_id, provider_id)
    rows = analytics.read(domain.orders_series(customer_id, provider_id), engine.day(first), engine.day(last))
    days = [
        Day(engine.period_date(period), domain.order_totals(fields))
        for period, fields in sorted(by_period(rows).items())
    ]
    return OrderStats(domain.order_totals(by_field(rows)), [d for d in days if d.totals.total])


# --- resource_provisioning_stats ------------------------------------------------------------------
def provisioning_stats(principal: Principal, last_minutes: int | None) -> list[domain.Provisioning]:
    """Per offering: creation orders in progress now, and those that ended (done or erred) in the
    last `last_minutes` (Waldur's default 60), to the minute. Three Queries (now; the minutes of
    the window's first hour; its whole hours), two when the window starts in this hour."""
    _require_platform_reader(principal)
    minutes = DEFAULT_MINUTES if last_minutes is None else last_minutes
    minute_range, hour_range = domain.window(utcnow(), minutes)
    rows: list[Aggregate] = list(analytics.read_now(domain.PROVISIONING_NOW))
    rows += analytics.read(domain.PROVISIONING_MINUTE, *minute_range)
    if hour_range is not None:
        rows += analytics.read(domain.PROVISIONING_HOUR, *hour_range)
    return domain.provisioning(rows)


# --- creation trends ------------------------------------------------------------------------------
FIRST_MONTH, LAST_MONTH = f"{engine.MONTH}0000-00", f"{engine.MONTH}9999-99"


def _trend(principal: Principal, name: str) -> list[tuple[str, int]]:
    _require_platform_reader(principal)
    rows = analytics.read(name, FIRST_MONTH, LAST_MONTH)
    return [
        (period[len(engine.MONTH) :], int(value))
        for period, value in sorted((row.period, row.value) for row in rows)
        if value
    ]


def project_creation_trend(principal: Principal) -> list[tuple[str, int]]:
    """(month `YYYY-MM`, projects created that month and not removed), oldest first. One Query."""
    return _trend(principal, domain.PROJECTS_CREATED)


def resource_creation_trend(principal: Principal) -> list[tuple[str, int]]:
    """(month `YYYY-MM`, resources created that month), oldest first. One Query."""
    return _trend(principal, domain.RESOURCES_CREATED)


# --- per organisation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    abbreviation: str
    count: int
    has_resources: bool = False


def _customers() -> dict[str, tuple[str, str, int]]:
    """Every customer now: id → (name, abbreviation, users). One Query."""
    found: dict[str, tuple[str, str, int]] = {}
    users: dict[str, int] = {}
    for row in analytics.read_now(domain.CUSTOMERS):
        customer_id, _, metric = row.field.partition(domain.SEP)
        if metric == domain.USERS:
            users[customer_id] = int(row.value)
        elif not metric and row.value > 0:
            name, abbreviation = domain.unnames(row.label, 2)
            found[customer_id] = (name, abbreviation, 0)
    return {cid: (name, abbr, users.get(cid, 0)) for cid, (name, abbr, _) in found.items()}


def _counts(name: str) -> dict[str, int]:
    return {row.field: int(row.value) for row in analytics.read_now(name) if row.value > 0}


def _per_customer(name: str) -> list[Organisation]:
    counts = _counts(name)
    customers = _customers()
    return [
        Organisation(cid, customers[cid][0], customers[cid][1], count)
        for cid, count in sorted(counts.items(), key=lambda item: (customers.get(item[0], ("",))[0], item[0]))
        if cid in customers
    ]


def organization_project_count(principal: Principal) -> list[Organisation]:
    """Customers with projects (not removed), and how many. Two Queries."""
    _require_platform_reader(principal)
    return _per_customer(domain.CUSTOMER_PROJECTS)


def organization_resource_count(principal: Principal) -> list[Organisation]:
    """Customers with resources in OK, and how many. Two Queries."""
    _require_platform_reader(principal)
    return _per_customer(domain.CUSTOMER_RESOURCES)


def customer_member_count(principal: Principal) -> list[Organisation]:
    """Every customer: its user count (its `nc_user_count` quota's usage) and whether it has
    resources in OK or Updating. Two Queries."""
    _require_platform_reader(principal)
    active = _counts(domain.CUSTOMER_ACTIVE)
    return [
        Organisation(cid, name, abbreviation, users, has_resources=cid in active)
        for cid, (name, abbreviation, users) in sorted(_customers().items(), key=lambda i: (i[1][0], i[0]))
    ]
