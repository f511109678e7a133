"""Costs and limits read from the analytics series (domain/analytics_costs.py says what they hold):
`marketplace-stats/total_cost_of_active_resources_per_offering/`, `offering_costs_summary/`,
`resources_limits/` and `billing-total-cost/`.

Who reads: staff and support, platform-wide; anybody else gets a 403 (Waldur's StatsViewSet is
`IsSupport`, its TotalCustomerCostView refuses non-staff, non-support the same way). Reads: one
Query of one series each (its rows grow with months, offerings or customers billed, never with
resources); `resources_limits/` adds a BatchGetItem of the offerings listed and, for those with no
country of their own, one of their providers (Waldur's `offering.country or customer.country`).
"""

from __future__ import annotations

from decimal import Decimal

from chalicelib.domain import analytics_costs as domain
from chalicelib.domain.analytics import month
from chalicelib.domain.analytics_costs import ComponentLimit, CostsSummary, OfferingCost
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied, ValidationError
from chalicelib.services.ports import analytics
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import offerings as offering_store


def require_reader(principal: Principal) -> None:
    """Staff and support read platform-wide statistics; anybody else gets a 403."""
    if not principal.reads_everything:
        raise PermissionDenied()


def offering_costs(
    principal: Principal, start: str | None = None, end: str | None = None
) -> list[OfferingCost]:
    """Each offering's cost in the months from `start` to `end` (`YYYY-MM`; neither: this month)."""
    require_reader(principal)
    first, last = domain.month_range(start, end, utcnow().date())
    return domain.offering_costs(analytics.read(domain.COSTS_BY_OFFERING, first, last))


def costs_summary(principal: Principal, start: str | None = None, end: str | None = None) -> CostsSummary:
    """The offerings' costs added up (the same months as `offering_costs`)."""
    return domain.summary(offering_costs(principal, start, end))


def total_cost(
    principal: Principal,
    year: int | None = None,
    month_number: int | None = None,
    name: str = "",
    customer_id: str | None = None,
) -> tuple[Decimal, Decimal]:
    """(total, price) of every invoice of a month (Waldur's default: this month), of the customers
    whose name contains `name`, or of one customer."""
    require_reader(principal)
    today = utcnow().date()
    year = year or today.year
    month_number = month_number or today.month
    if not 0 < year < 10000:
        raise ValidationError.field("year", "Ensure this value is between 1 and 9999.")
    period = month(today.replace(year=year, month=month_number, day=1))
    invoices = domain.customer_months(analytics.read(domain.INVOICES, period, period))
    return domain.total_cost(invoices, name, customer_id)


def resources_limits(principal: Principal) -> list[tuple[ComponentLimit, str]]:
    """The limits of the `OK` resources summed by offering and component, each with the offering's
    country (its own, else its provider's)."""
    require_reader(principal)
    found = domain.limits(analytics.read_now(domain.LIMITS))
    if not found:
        return []
    offerings = offering_store.get_many((c.provider_id, c.offering_id) for c in found)
    own = {o.id: o.country for o in offerings}
    without = sorted({c.provider_id for c in found if not own.get(c.offering_id)})
    providers = {c.id: c.country for c in customer_store.get_many(without)} if without else {}
    return [(c, domain.country_of(own.get(c.offering_id, ""), providers, c.provider_id)) for c in found]
