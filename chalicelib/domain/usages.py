"""Component usages: what a provider reports a resource used of its offering's usage-based (and
limit-based) components in a billing period (Waldur's `ComponentUsage`, `set_usage`).

One usage per resource, component and billing period (the first day of a month): a new report for
the same period replaces the amount and keeps the usage's uuid and creation time (Waldur's
`update_or_create`). Only the provider side reports, only for a resource that is OK, Updating or
Terminating, only for a billing period of the resource's life (from the month it was created in,
not in the future), only for its offering's `usage` and `limit` components; a `usage` component with a
`limit_amount` and `limit_period` refuses a report that would take the period's total past it.
Waldur logs no event for a usage report (its event types have none), so neither does Cirrus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import BillingType, Component, LimitPeriod, Offering, ResourceState

MODEL = "ComponentUsage"
REPORTABLE = frozenset({BillingType.USAGE, BillingType.LIMIT})
REPORT_STATES = frozenset({ResourceState.OK, ResourceState.UPDATING, ResourceState.TERMINATING})
MISSING_USAGE_POLICIES = ("none", "reuse", "zero")

NOT_VALID_STATE = "Resource is not in valid state."
FUTURE_DATE = "Usage cannot be reported for a future date."
BEFORE_RESOURCE = "Usage cannot be reported for a billing period before the resource was created."
PERIOD_CLOSED = "Billing period is closed."  # Waldur's, for a plan period that ended before it


@dataclass(frozen=True)
class UsageReport:
    """One line of a `set_usage` request (already parsed)."""

    type: str
    amount: Decimal
    description: str = ""
    missing_usage_policy: str = "none"


@dataclass(frozen=True)
class ComponentUsage:
    id: str
    resource_id: str
    customer_id: str
    project_id: str
    offering_id: str
    provider_id: str
    component_type: str
    billing_period: date
    amount: Decimal
    date: datetime
    created: datetime
    modified: datetime
    description: str = ""
    missing_usage_policy: str = "none"
    name: str = ""  # the component's
    measured_unit: str = ""
    resource_name: str = ""
    offering_name: str = ""
    project_name: str = ""
    customer_name: str = ""
    modified_by_id: str | None = None
    modified_by_username: str = ""
    version: int = 0

    @property
    def recurring(self) -> bool:
        """Waldur's deprecated flag: the value is reused every month until changed."""
        return self.missing_usage_policy == "reuse"


def billing_period(when: date) -> date:
    """The billing period a date falls in: the first day of its month."""
    return date(when.year, when.month, 1)


def check_resource(resource: Resource) -> None:
    if resource.state not in REPORT_STATES:
        raise ValidationError.field("resource", NOT_VALID_STATE)


def components_of(offering: Offering, reports: Sequence[UsageReport]) -> dict[str, Component]:
    """The offering's reportable components named by the reports; any other name is Waldur's 400."""
    valid = {c.type: c for c in offering.components if c.billing_type in REPORTABLE}
    invalid = sorted({r.type for r in reports} - set(valid))
    if invalid:
        raise ValidationError({"non_field_errors": [f"These components are invalid: {', '.join(invalid)}."]})
    return {r.type: valid[r.type] for r in reports}


def check_date(when: datetime, now: datetime) -> None:
    if when > now:
        raise ValidationError.field("date", FUTURE_DATE)


def check_period(resource: Resource, period: date) -> None:
    """A report's billing period lies within the resource's life: not before the month it was
    created in, not after the month it ended in (the future is `check_date`'s)."""
    if period < billing_period(resource.created.astimezone(UTC).date()):
        raise ValidationError.field("date", BEFORE_RESOURCE)
    if resource.end_date is not None and period > billing_period(resource.end_date):
        raise ValidationError.field("date", PERIOD_CLOSED)


def _in_window(period: LimitPeriod, reported: date, candidate: date) -> bool:
    if period is LimitPeriod.MONTH:
        return candidate == reported
    if period is LimitPeriod.QUARTERLY:
        quarter = (reported.month - 1) // 3
        return candidate.year == reported.year and (candidate.month - 1) // 3 == quarter
    if period is LimitPeriod.ANNUAL:
        return candidate.year == reported.year
    return True  # total: every period


def check_limit(
    component: Component, amount: Decimal, period: date, earlier: Iterable[ComponentUsage]
) -> None:
    """A `usage` component with a limit: the usages of its limit window (this month, quarter, year
    or ever) plus `amount` must stay within `limit_amount` (Waldur's message). The usage this
    report replaces (same period) is not counted twice, unlike Waldur, which adds it."""
    if component.billing_type is not BillingType.USAGE:
        return
    if not component.limit_period or not component.limit_amount:
        return
    others = sum(
        (
            u.amount
            for u in earlier
            if u.component_type == component.type
            and u.billing_period != period
            and _in_window(component.limit_period, period, u.billing_period)
        ),
        Decimal(0),
    )
    total = others + amount
    if total > component.limit_amount:
        limit = component.limit_amount
        raise ValidationError([f"Total amount exceeds limit. Total amount: {total}, limit: {limit}."])


def report(
    resource: Resource,
    component: Component,
    line: UsageReport,
    period: date,
    when: datetime,
    now: datetime,
    new_id: str,
    existing: ComponentUsage | None,
    by: tuple[str, str] | None = None,
) -> ComponentUsage:
    """The usage after this report: the existing one of the period with the new amount, or a new one."""
    base = existing or ComponentUsage(
        id=new_id,
        resource_id=resource.id,
        customer_id=resource.customer_id,
        project_id=resource.project_id,
        offering_id=resource.offering_id,
        provider_id=resource.provider_id,
        component_type=component.type,
        billing_period=period,
        amount=line.amount,
        date=when,
        created=now,
        modified=now,
    )
    return replace(
        base,
        amount=line.amount,
        description=line.description,
        missing_usage_policy=line.missing_usage_policy,
        date=when,
        modified=now,
        modified_by_id=by[0] if by else None,
        modified_by_username=by[1] if by else "",
        name=component.name,
        measured_unit=component.measured_unit,
        resource_name=resource.name,
        offering_name=resource.offering_name,
        project_name=resource.project_name,
        customer_name=resource.customer_name,
    )


def current_usages(before: Mapping[str, object], reports: Sequence[UsageReport]) -> dict[str, object]:
    """The resource's `current_usages` after a report: each reported component's amount as a string
    (Waldur's `str(amount)`), the others as they were."""
    after = dict(before)
    for line in reports:
        after[line.type] = str(line.amount)
    return after
