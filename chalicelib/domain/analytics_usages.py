"""What component usages and resources contribute to the analytics series (domain/analytics.py),
and the limit-period windows the usage endpoints read them over.

Component usage, per month (the period is the usage's billing period, `M#YYYY-MM`; the amount is the
reported usage, so a report that replaces a period's amount moves the sums by the difference):

- `usage#all`: field `<provider>:<offering>:<component type>` (an "offering field": the offering
  with its provider customer, so a reader fetches the offering by its key), platform-wide
  (`marketplace-stats/component_usages`, `component_usages_per_month`);
- `usage#projects`: field `<project>:<component type>`, platform-wide (`component_usages_per_project`);
- `usage#provider#<provider customer>`: offering fields (a provider's offerings);
- `usage#customer#<customer>` and `usage#project#<project>`: offering fields (the consumer
  side: `marketplace-customer-usage/`, `marketplace-project-usage/`);
- `usage#customer#<customer>#offering#<offering>`: field `<project>:<type>` (one offering's usage by
  project: `components-usage-by-project/`).

Resources, now (period NOW; a state change or a new limit moves them): per consumer customer and
project, `usage#resources#<live|terminated>#<customer|project>#<id>`: field `<provider>:<offering>`
the number of resources, offering field `<provider>:<offering>:<type>` the sum of their limits of
the component.

Ids (a uuid's hex) hold no `:`, so the first `:`s split a field; a component type is the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chalicelib.domain.analytics import NOW, Add, month, series
from chalicelib.domain.resources import Resource
from chalicelib.domain.usages import ComponentUsage
from chalicelib.domain.vocabulary import LimitPeriod, ResourceState

AREA = "usage"
PLATFORM = series(AREA, "all")
PROJECTS = series(AREA, "projects")
LIVE = "live"
TERMINATED = "terminated"
# The longest month range a usage endpoint reads (ten years): a range past it is a 400.
MAX_MONTHS = 120


def field(owner_id: str, rest: str) -> str:
    return f"{owner_id}:{rest}"


def split(value: str) -> tuple[str, str]:
    """`<id>:<rest>` → (id, rest); a field with no `:` → (id, "")."""
    owner, _, rest = value.partition(":")
    return owner, rest


def offering_key(provider_id: str, offering_id: str) -> str:
    return f"{provider_id}:{offering_id}"


def offering_field(provider_id: str, offering_id: str, component_type: str) -> str:
    return f"{provider_id}:{offering_id}:{component_type}"


def split_offering(value: str) -> tuple[str, str, str]:
    """An offering field → (provider id, offering id, component type); a resource count's field
    (`<provider>:<offering>`) → component type ""."""
    provider, _, rest = value.partition(":")
    offering, _, component_type = rest.partition(":")
    return provider, offering, component_type


def provider_series(provider_id: str) -> str:
    return series(AREA, "provider", provider_id)


def customer_series(customer_id: str) -> str:
    return series(AREA, "customer", customer_id)


def project_series(project_id: str) -> str:
    return series(AREA, "project", project_id)


def by_project_series(customer_id: str, offering_id: str) -> str:
    return series(AREA, "customer", customer_id, "offering", offering_id)


def resources_series(kind: str, scope_type: str, scope_id: str) -> str:
    return series(AREA, "resources", kind, scope_type, scope_id)


def usage_facts(usage: ComponentUsage) -> list[Add]:
    """A usage's amount in its billing month, in every series that shows it."""
    period = month(usage.billing_period)
    amount = usage.amount
    by_offering = offering_field(usage.provider_id, usage.offering_id, usage.component_type)
    name = usage.offering_name
    return [
        Add(PLATFORM, period, by_offering, amount, label=name),
        Add(PROJECTS, period, field(usage.project_id, usage.component_type), amount, usage.project_name),
        Add(provider_series(usage.provider_id), period, by_offering, amount, label=name),
        Add(customer_series(usage.customer_id), period, by_offering, amount, label=name),
        Add(project_series(usage.project_id), period, by_offering, amount, label=name),
        Add(
            by_project_series(usage.customer_id, usage.offering_id),
            period,
            field(usage.project_id, usage.component_type),
            amount,
            label=usage.project_name,
        ),
    ]


def resource_facts(resource: Resource) -> list[Add]:
    """A resource counted, with its limits, under its customer and its project, now: as live until
    it is terminated, then as terminated."""
    kind = TERMINATED if resource.state is ResourceState.TERMINATED else LIVE
    out: list[Add] = []
    for scope_type, scope_id in (("customer", resource.customer_id), ("project", resource.project_id)):
        name = resources_series(kind, scope_type, scope_id)
        key = offering_key(resource.provider_id, resource.offering_id)
        out.append(Add(name, NOW, key, 1, label=resource.offering_name))
        for component_type, limit in sorted(resource.limits.items()):
            if limit:
                out.append(Add(name, NOW, field(key, component_type), limit, label=resource.offering_name))
    return out


# --- windows ----------------------------------------------------------------------------------------
def add_months(first: date, months: int) -> date:
    """The first day of the month `months` after (or before, negative) `first`'s month."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """The first days of every month from `start`'s to `end`'s, both included."""
    first, last = start.replace(day=1), end.replace(day=1)
    out: list[date] = []
    while first <= last:
        out.append(first)
        first = add_months(first, 1)
    return out


def last_day(first: date) -> date:
    return date.fromordinal(add_months(first, 1).toordinal() - 1)


@dataclass(frozen=True)
class Window:
    """The months a limit period covers: a month, a quarter, a year, or (total) every month."""

    label: str
    start: date | None  # None: since the beginning (total)
    end: date | None

    def months(self) -> list[date]:
        if self.start is None or self.end is None:
            return []
        return months_between(self.start, self.end)

    def holds(self, billing_period: date) -> bool:
        if self.start is None or self.end is None:
            return True
        return self.start <= billing_period <= self.end


MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def window(limit_period: LimitPeriod | None, today: date, offset: int = 0) -> Window:
    """The limit period holding `today`, moved back `offset` periods (a component without a limit
    period counts by month, as billing does). A total has no bounds and no offset."""
    this_month = today.replace(day=1)
    if limit_period is LimitPeriod.TOTAL:
        return Window("Total", None, None)
    if limit_period is LimitPeriod.QUARTERLY:
        first = add_months(this_month.replace(month=(today.month - 1) // 3 * 3 + 1), -3 * offset)
        quarter = (first.month - 1) // 3 + 1
        return Window(f"Q{quarter} {first.year}", first, last_day(add_months(first, 2)))
    if limit_period is LimitPeriod.ANNUAL:
        first = date(today.year - offset, 1, 1)
        return Window(str(first.year), first, date(first.year, 12, 31))
    first = add_months(this_month, -offset)
    return Window(f"{MONTH_NAMES[first.month - 1]} {first.year}", first, last_day(first))
