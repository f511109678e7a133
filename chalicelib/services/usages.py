"""Component usage use cases (Waldur's `marketplace-component-usages/`).

`set_usage` is the provider's report (its staff, owners and managers, and OFFERING.MANAGER: the
RESOURCE.SET_USAGE permission on the offering): the usages of the billing period are created or
replaced and the resource's `current_usages` follow, in one transaction. Waldur logs no event for
a usage report, so none is written. Usages are read from either side of their resource, as the
resource is (lists: services/market_queries.py's sources and sight).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.domain import usages as rules
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import id_from_url, new_id
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P
from chalicelib.domain.usages import ComponentUsage, UsageReport
from chalicelib.services import billing
from chalicelib.services import market_queries as lists
from chalicelib.services import offerings as catalog
from chalicelib.services import order_sides as sides
from chalicelib.services.paging import Ordering, Page, PageRequest
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import unit_of_work
from chalicelib.services.ports import usages as store

MODEL = rules.MODEL


# --- reads -------------------------------------------------------------------------------------------
def get_visible(principal: Principal, usage_id: str) -> ComponentUsage:
    """The usage, if the caller sees its resource from either side; else NotFound."""
    usage = store.get(usage_id)
    if usage is None or not sides.sees(sides.rights(principal), usage):
        raise NotFound(MODEL)
    return usage


@dataclass(frozen=True)
class UsageFilters:
    narrowing: lists.Narrowing = field(default_factory=lists.Narrowing)
    types: tuple[str, ...] = ()
    billing_period: date | None = None
    billing_period_year: int | None = None
    billing_period_month: int | None = None
    date_after: date | None = None
    date_before: date | None = None
    missing_usage_policies: tuple[str, ...] = ()

    def keep(self, usage: ComponentUsage) -> bool:
        day = usage.date.astimezone(UTC).date()
        period = usage.billing_period
        checks = (
            not self.types or usage.component_type in self.types,
            self.billing_period is None or period == self.billing_period,
            self.billing_period_year is None or period.year == self.billing_period_year,
            self.billing_period_month is None or period.month == self.billing_period_month,
            self.date_after is None or day >= self.date_after,
            self.date_before is None or day <= self.date_before,
            not self.missing_usage_policies or usage.missing_usage_policy in self.missing_usage_policies,
        )
        return all(checks)

    @property
    def filtered(self) -> bool:
        values = [self.billing_period, self.billing_period_year, self.billing_period_month]
        values += [self.date_after, self.date_before]
        return bool(self.types or self.missing_usage_policies) or any(v is not None for v in values)


SORT: dict[str, Callable[[ComponentUsage], Any]] = {
    "created": lambda u: u.id,
    "billing_period": lambda u: (u.billing_period, u.id),
    "usage": lambda u: (u.amount, u.id),
    "missing_usage_policy": lambda u: (u.missing_usage_policy, u.id),
}


def list_usages(
    principal: Principal, filters: UsageFilters, ordering: Ordering, request: PageRequest
) -> Page[ComponentUsage]:
    query = lists.Query(filters.narrowing, filters.keep, filters.filtered, SORT, ordering, request)
    return lists.listed(store, principal, query)


# --- the provider's report ---------------------------------------------------------------------------
def _reported_resource(principal: Principal, resource_ref: str | None, plan_period: str | None) -> Resource:
    """The resource a report names: by uuid (`resource`) or by its plan period (Cirrus keeps one
    plan period per resource, with the resource's uuid). One the caller does not see is DRF's
    "does not exist"; one they see from the consumer side only is a 403 (the permission check)."""
    field, reference = ("plan_period", plan_period) if plan_period else ("resource", resource_ref)
    if not reference:
        raise ValidationError.field("resource", "This field is required.")
    resource_id = id_from_url(reference)
    found = resource_store.get(resource_id) if resource_id else None
    if found is None or not sides.sees(sides.rights(principal), found):
        raise ValidationError.field(field, f"Object with uuid={reference} does not exist.")
    current = resource_store.load(found.customer_id, found.project_id, found.id)
    if current is None:
        raise ValidationError.field(field, f"Object with uuid={reference} does not exist.")
    return current


def set_usage(
    ctx: EventContext,
    reports: Sequence[UsageReport],
    resource: str | None = None,
    plan_period: str | None = None,
    when: datetime | None = None,
) -> list[ComponentUsage]:
    """Create or replace the usages of the billing period `when` falls in (default: now)."""
    principal = ctx.actor
    target = _reported_resource(principal, resource, plan_period)
    sides.rights(principal).require(P.SET_RESOURCE_USAGE, sides.provider_scope(target))
    rules.check_resource(target)
    offering = catalog.get_offering(target.offering_id)
    components = rules.components_of(offering, reports)
    now = utcnow()
    when = (when.replace(tzinfo=UTC) if when.tzinfo is None else when) if when else now
    rules.check_date(when, now)
    period = rules.billing_period(when.astimezone(UTC).date())
    rules.check_period(target, period)
    latest = {line.type: line for line in reports}  # a type given twice: the last line counts
    earlier = store.of_resource(target.customer_id, target.project_id, target.id)
    for line in latest.values():
        rules.check_limit(components[line.type], line.amount, period, earlier)
    if not latest:
        return []

    by_key = {(u.billing_period, u.component_type): u for u in earlier}
    by = (principal.user_id, principal.username)
    uow = unit_of_work()
    changes = []
    for line in latest.values():
        before = by_key.get((period, line.type))
        after = rules.report(target, components[line.type], line, period, when, now, new_id(), before, by)
        changes.append((before, after))
    saved = store.save(uow, changes)
    billing.on_usage_reported(uow, target, offering, saved, now)
    if period == rules.billing_period(now.date()):
        usages_now = rules.current_usages(target.current_usages, list(latest.values()))
        resource_store.save_changes(uow, target, replace(target, current_usages=usages_now, modified=now))
    uow.commit()
    return saved
