"""Per-user usages (Waldur's `marketplace-component-user-usages/` and a component usage's
`set_user_usage/`, `set_user_usages/`).

Reporting is the provider's, as `set_usage` is (RESOURCE.SET_USAGE on the offering, then its
customer: the provider's owners and managers, OFFERING.MANAGER, staff); a component usage the
caller does not see is a 404, one seen from the consumer side only a 403. Per-user usages are read
from either side of their resource, as its component usages are. They never touch the component
usage's total or billing. Waldur logs no event for them, so none is written.

The offering user a report names (`user`) must be an account in the usage's offering (else the
field's "does not exist", 400, and nothing of the report is stored).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.domain import user_usages as rules
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.roles import P
from chalicelib.domain.usages import MODEL as USAGE_MODEL
from chalicelib.domain.usages import ComponentUsage
from chalicelib.domain.user_usages import ComponentUserUsage, UserUsageReport
from chalicelib.services import market_queries as lists
from chalicelib.services import offering_users
from chalicelib.services import order_sides as sides
from chalicelib.services.paging import Ordering, Page, PageRequest
from chalicelib.services.ports import unit_of_work
from chalicelib.services.ports import usages as usage_store
from chalicelib.services.ports import user_limits as limit_store
from chalicelib.services.ports import user_usages as store

MODEL = rules.MODEL


# --- reads -------------------------------------------------------------------------------------------
def get_visible(principal: Principal, user_usage_id: str) -> ComponentUserUsage:
    """The per-user usage, if the caller sees its resource from either side; else NotFound."""
    found = store.get(user_usage_id)
    if found is None or not sides.sees(sides.rights(principal), found):
        raise NotFound(MODEL)
    return found


@dataclass(frozen=True)
class UserUsageFilters:
    narrowing: lists.Narrowing = field(default_factory=lists.Narrowing)
    type: str | None = None
    billing_period: date | None = None  # `component_usage__billing_period`
    billing_period_year: int | None = None
    billing_period_month: int | None = None
    date_after: date | None = None
    date_before: date | None = None
    username: str | None = None  # contains, case-insensitive (Waldur's `icontains`)

    def keep(self, usage: ComponentUserUsage) -> bool:
        day = usage.date.astimezone(UTC).date()
        period = usage.billing_period
        checks = (
            self.type is None or usage.component_type == self.type,
            self.billing_period is None or period == self.billing_period,
            self.billing_period_year is None or period.year == self.billing_period_year,
            self.billing_period_month is None or period.month == self.billing_period_month,
            self.date_after is None or day >= self.date_after,
            self.date_before is None or day <= self.date_before,
            self.username is None or self.username.lower() in usage.username.lower(),
        )
        return all(checks)

    @property
    def filtered(self) -> bool:
        values = [self.type, self.billing_period, self.billing_period_year, self.billing_period_month]
        return any(v is not None for v in [*values, self.date_after, self.date_before, self.username])


SORT: dict[str, Callable[[ComponentUserUsage], Any]] = {
    "created": lambda u: u.id,
    "component_usage__billing_period": lambda u: (u.billing_period, u.id),
    "usage": lambda u: (u.amount, u.id),
    "username": lambda u: (u.username, u.id),
}


def list_user_usages(
    principal: Principal, filters: UserUsageFilters, ordering: Ordering, request: PageRequest
) -> Page[ComponentUserUsage]:
    query = lists.Query(filters.narrowing, filters.keep, filters.filtered, SORT, ordering, request)
    return lists.listed(store, principal, query)


# --- the provider's report ---------------------------------------------------------------------------
def _reported_usage(principal: Principal, component_usage_id: str) -> ComponentUsage:
    usage = usage_store.get(component_usage_id)
    rights = sides.rights(principal)
    if usage is None or not sides.sees(rights, usage):
        raise NotFound(USAGE_MODEL)
    rights.require(P.SET_RESOURCE_USAGE, sides.provider_scope(usage))
    return usage


def _limits_of(usage: ComponentUsage) -> dict[str, rules.UserUsageLimit]:
    """The component's per-user limits on the usage's resource, by offering user."""
    found = limit_store.of_resource(usage.customer_id, usage.project_id, usage.resource_id)
    return {limit.offering_user_id: limit for limit in found if limit.component_type == usage.component_type}


def _check_accounts(usage: ComponentUsage, reports: Iterable[UserUsageReport]) -> None:
    """Every offering user the reports name is an account in the usage's offering (else 400).
    Reads: one gsi1 Query per account named, at most one per line of the report (≤ 100)."""
    for account_id in sorted({r.offering_user_id for r in reports if r.offering_user_id}):
        offering_users.in_offering(account_id, usage.offering_id)


def _new(usage: ComponentUsage, report: UserUsageReport, now: datetime) -> ComponentUserUsage:
    return ComponentUserUsage(
        id=new_id(),
        component_usage_id=usage.id,
        resource_id=usage.resource_id,
        customer_id=usage.customer_id,
        project_id=usage.project_id,
        offering_id=usage.offering_id,
        provider_id=usage.provider_id,
        component_type=usage.component_type,
        billing_period=usage.billing_period,
        username=report.username,
        amount=report.amount,
        date=usage.date,
        created=now,
        modified=now,
    )


def set_user_usages(
    ctx: EventContext, component_usage_id: str, reports: Sequence[UserUsageReport]
) -> list[ComponentUserUsage]:
    """Create or replace the users' shares of a component usage, all or none (a username given
    twice: its last line counts). The component usage's total is left as `set_usage` made it."""
    usage = _reported_usage(ctx.actor, component_usage_id)
    latest = {report.username: report for report in reports}
    _check_accounts(usage, latest.values())
    limits = _limits_of(usage)
    for report in latest.values():
        rules.check_within_limit(report, limits)
    if not latest:
        return []
    earlier = store.of_component_usage(
        usage.customer_id, usage.project_id, usage.resource_id, usage.billing_period, usage.component_type
    )
    by_username = {u.username: u for u in earlier}
    now = utcnow()
    changes = []
    unchanged: list[ComponentUserUsage] = []
    for report in latest.values():
        before = by_username.get(report.username)
        base = before or _new(usage, report, now)
        after = replace(
            base,
            amount=report.amount,
            offering_user_id=report.offering_user_id or base.offering_user_id,
            date=usage.date,
            modified=now,
            measured_unit=usage.measured_unit,
            resource_name=usage.resource_name,
            offering_name=usage.offering_name,
            project_name=usage.project_name,
            customer_name=usage.customer_name,
        )
        if before is not None and replace(after, modified=before.modified) == before:
            unchanged.append(before)  # the same share again (every report cycle): nothing to write
            continue
        changes.append((before, after))
    if not changes:
        return unchanged
    uow = unit_of_work()
    saved = {u.username: u for u in unchanged + store.save(uow, changes)}
    uow.commit()
    return [saved[username] for username in latest]
