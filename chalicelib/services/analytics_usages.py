"""Component usage statistics, read from the analytics series (domain/analytics_usages.py says what
each series holds); nothing is counted at read time. Each answer reads one or a few series (one
Query each) and looks up the handful of offerings (and their providers, categories, projects) its
rows name in a BatchGetItem or two.

Who sees what:
- `marketplace-stats/component_usages*`: staff and support only (Waldur's StatsViewSet: 403 for
  anybody else).
- `marketplace-customer-usage/<customer>/...`: staff, support and the customer's customer-level roles
  (those who see its spend); `marketplace-project-usage/<project>/...`: whoever sees the project.
  Anybody else: 404, as for a customer or project that does not exist.
- `marketplace-component-usage-monthly/`: staff and support every usage; a customer's or project's
  usage (`customer_uuid=`, `project_uuid=`) for those who see that scope as above; otherwise the
  usage of the offerings the caller provides (a customer role in the provider, or a role on the
  offering). A scope the caller does not see matches nothing.

What Cirrus cannot tell apart: a usage is not split by its resource's state (the stream sees a
usage and its resource as two objects), so `usage` counts terminated resources' usage too and
`usage_terminated` is 0; resources' limits are split (`limit_usage_terminated`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.domain import analytics as agg
from chalicelib.domain import analytics_usages as rules
from chalicelib.domain import offerings as offering_rules
from chalicelib.domain.analytics import Aggregate
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied, ValidationError
from chalicelib.domain.vocabulary import BillingType, Component, Offering
from chalicelib.services import access as access_service
from chalicelib.services import customers, projects
from chalicelib.services import offerings as offering_service
from chalicelib.services import order_sides as sides
from chalicelib.services.paging import Ordering, Page, PageRequest, paginate
from chalicelib.services.ports import analytics
from chalicelib.services.ports import categories as category_store
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import projects as project_store

FIRST = f"{agg.MONTH}0000-01"  # before any month: a series read from its beginning
CENT = Decimal("0.01")


def _today() -> date:
    return utcnow().date()


def _staff_or_support(principal: Principal) -> None:
    if not principal.reads_everything:
        raise PermissionDenied()


def _offerings(keys: Iterable[tuple[str, str]]) -> dict[str, Offering]:
    """Offerings by (provider, offering) key: one BatchGetItem per 100."""
    wanted = sorted(set(keys))
    return {o.id: o for o in offering_store.get_many(wanted)} if wanted else {}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _cents(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _months(rows: Iterable[Aggregate]) -> dict[tuple[str, str, str, date], Decimal]:
    """(provider, offering, type, month) → amount, of a series of offering fields."""
    out: dict[tuple[str, str, str, date], Decimal] = {}
    for row in rows:
        provider, offering, component_type = rules.split_offering(row.field)
        if row.value and component_type:
            key = (provider, offering, component_type, agg.period_date(row.period))
            out[key] = out.get(key, Decimal(0)) + row.value
    return out


# --- marketplace-stats/ ------------------------------------------------------------------------------
def _countries(offerings: dict[str, Offering]) -> dict[str, str]:
    """offering → its country, else its provider's (Waldur's `offering.country or customer.country`)."""
    providers = {o.customer_id for o in offerings.values() if not o.country}
    found = {c.id: c.country for c in customer_store.get_many(sorted(providers))} if providers else {}
    return {o.id: o.country or found.get(o.customer_id, "") for o in offerings.values()}


def _stats_rows(rows: list[Aggregate], with_month: bool) -> list[dict[str, Any]]:
    amounts = _months(rows)
    offerings = _offerings((p, o) for p, o, _, _ in amounts)
    countries = _countries(offerings)
    out: list[dict[str, Any]] = []
    for (_, offering_id, component_type, first), amount in sorted(
        amounts.items(), key=lambda kv: (kv[0][3], kv[0][1], kv[0][2])
    ):
        row: dict[str, Any] = {
            "usage": _cents(amount),
            "offering_uuid": offering_id,
            "component_type": component_type,
            "offering_country": countries.get(offering_id, ""),
            # Cirrus has no organisation groups: Waldur's row for an offering without any
            "organization_group_name": "",
            "organization_group_uuid": "",
        }
        if with_month:
            row["month"], row["year"] = first.month, first.year
        out.append(row)
    return out


def component_usages(principal: Principal) -> list[dict[str, Any]]:
    """This month's usage per offering and component type, platform-wide."""
    _staff_or_support(principal)
    this_month = agg.month(_today())
    return _stats_rows(analytics.read(rules.PLATFORM, this_month, this_month), with_month=False)


def default_months(today: date) -> tuple[date, date]:
    """Waldur's default range: from this month a year ago to this month."""
    this_month = today.replace(day=1)
    return rules.add_months(this_month, -12), this_month


def check_months(start: date, end: date, start_name: str = "start") -> None:
    if start > end:
        raise ValidationError({"non_field_errors": ["Start date must be earlier or equal to end date."]})
    if len(rules.months_between(start, end)) > rules.MAX_MONTHS:
        raise ValidationError.field(
            start_name, f"A range of at most {rules.MAX_MONTHS} months may be asked for."
        )


def component_usages_per_month(
    principal: Principal, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """Usage per offering, component type and month from `start`'s month to `end`'s (both given or
    neither: a year ago to now), platform-wide."""
    _staff_or_support(principal)
    if (start is None) != (end is None):
        raise ValidationError({"non_field_errors": ["Both parameters must be specified."]})
    first, last = (start, end) if start is not None and end is not None else default_months(_today())
    check_months(first, last)
    rows = analytics.read(rules.PLATFORM, agg.month(first), agg.month(last))
    return _stats_rows(rows, with_month=True)


def component_usages_per_project(principal: Principal) -> list[dict[str, Any]]:
    """This month's usage per project and component type, platform-wide."""
    _staff_or_support(principal)
    this_month = agg.month(_today())
    out: list[dict[str, Any]] = []
    for row in analytics.read(rules.PROJECTS, this_month, this_month):
        project_id, component_type = rules.split(row.field)
        if row.value:
            out.append(
                {"project_uuid": project_id, "component_type": component_type, "usage": _number(row.value)}
            )
    return out


# --- a customer's or a project's usage -------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    kind: str  # "customer" or "project"
    id: str
    customer_id: str

    @property
    def usage_series(self) -> str:
        if self.kind == "customer":
            return rules.customer_series(self.id)
        return rules.project_series(self.id)

    def resources(self, state: str) -> str:
        return rules.resources_series(state, self.kind, self.id)


def customer_scope(principal: Principal, customer_id: str) -> Scope:
    """A customer whose usage the caller sees (its spend's readers); NotFound otherwise."""
    customer = customers.get_reported(principal, customer_id)
    return Scope("customer", customer.id, customer.id)


def project_scope(principal: Principal, project_id: str) -> Scope:
    project = projects.get_visible(principal, project_id)
    return Scope("project", project.id, project.customer_id)


def _limits(rows: Iterable[Aggregate]) -> tuple[set[tuple[str, str]], dict[tuple[str, str], Decimal]]:
    """A resources series now: the (provider, offering) keys it counts, and (offering, type) → the
    sum of the limits."""
    offerings: set[tuple[str, str]] = set()
    limits: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        provider, offering, component_type = rules.split_offering(row.field)
        if not row.value:
            continue
        if component_type:
            limits[(offering, component_type)] = (
                limits.get((offering, component_type), Decimal(0)) + row.value
            )
        else:
            offerings.add((provider, offering))
    return offerings, limits


def _window_fields(window: rules.Window) -> dict[str, Any]:
    return {
        "limit_period": None,
        "current_period_label": window.label,
        "current_period_start": window.start,
        "current_period_end": window.end,
    }


def _component_fields(offering: Offering, component: Component) -> dict[str, Any]:
    return {
        "type": component.type,
        "name": component.name,
        "measured_unit": component.measured_unit,
        "billing_type": component.billing_type.value,
        "limit_period": component.limit_period.value if component.limit_period else None,
        "limit": float(component.limit_amount) if component.limit_amount is not None else None,
        "offering_name": offering.name,
        "offering_uuid": offering.id,
    }


def components_usage(scope: Scope, include_terminated: bool) -> dict[str, Any]:
    """One row per component of every offering the scope has resources of (terminated ones too if
    `include_terminated`) or usage of: the usage of the component's current limit period (a month
    without one), and the sum of the resources' limits of it now."""
    today = _today()
    usage = _months(analytics.read(scope.usage_series, FIRST, agg.month(today)))
    live_offerings, live_limits = _limits(analytics.read_now(scope.resources(rules.LIVE)))
    ended_offerings: set[tuple[str, str]] = set()
    ended_limits: dict[tuple[str, str], Decimal] = {}
    if include_terminated:
        ended_offerings, ended_limits = _limits(analytics.read_now(scope.resources(rules.TERMINATED)))
    keys = live_offerings | ended_offerings | {(p, o) for p, o, _, _ in usage}
    offerings = _offerings(keys)
    rows: list[dict[str, Any]] = []
    for offering in sorted(offerings.values(), key=lambda o: (o.name.lower(), o.id)):
        for component in offering.components:
            window = rules.window(component.limit_period, today)
            used = sum(
                (
                    v
                    for (_, o, t, m), v in usage.items()
                    if (o, t) == (offering.id, component.type) and window.holds(m)
                ),
                Decimal(0),
            )
            live = live_limits.get((offering.id, component.type), Decimal(0))
            ended = ended_limits.get((offering.id, component.type), Decimal(0))
            rows.append(
                {
                    **_window_fields(window),
                    **_component_fields(offering, component),
                    "description": component.description,
                    "usage": float(used),
                    "limit_usage": float(live + ended),
                    "usage_terminated": 0.0,
                    "limit_usage_terminated": float(ended),
                }
            )
    return {"components": rows}


def _known_to(principal: Principal, scope: Scope, offering: Offering) -> bool:
    """Whether the caller may read the offering's details here: a catalog offering, one they see
    from the provider side, or one the scope has (had) resources of (a private offering)."""
    rights = access_service.access(principal)
    if (
        rights.reads_everything
        or offering_rules.is_public(offering)
        or offering_service.manages(rights, offering)
    ):
        return True
    key = rules.offering_key(offering.customer_id, offering.id)
    return any(
        row.field == key and row.value
        for state in (rules.LIVE, rules.TERMINATED)
        for row in analytics.read_now(scope.resources(state))
    )


def _offering_and_component(
    principal: Principal, scope: Scope, offering_id: str, component_type: str | None
) -> tuple[Offering, Component]:
    offering = offering_store.get(offering_id)
    if offering is None or not _known_to(principal, scope, offering):
        raise ValidationError.field("offering_uuid", "Object with this UUID does not exist.")
    if component_type:
        component = offering.component(component_type)
        if component is None:
            raise ValidationError.field("component_type", f"The offering has no component {component_type}.")
        return offering, component
    reported = [c for c in offering.components if c.billing_type is BillingType.USAGE]
    reported += [c for c in offering.components if c.billing_type is BillingType.LIMIT]
    candidates = reported or list(offering.components)
    if not candidates:
        raise ValidationError.field("offering_uuid", "The offering has no components.")
    return offering, candidates[0]


def _series_head(
    offering: Offering, component: Component, window: rules.Window, today: date
) -> dict[str, Any]:
    head = {**_window_fields(window), **_component_fields(offering, component), "today": today}
    return head


def _buckets(window: rules.Window, amounts: dict[date, Decimal]) -> list[dict[str, Any]]:
    months = window.months() or sorted(amounts)
    return [
        {"billing_period": m, "usage": float(amounts.get(m, Decimal(0))), "usage_terminated": 0.0}
        for m in months
    ]


def _read_window(series: str, window: rules.Window, today: date) -> list[Aggregate]:
    start = agg.month(window.start) if window.start else FIRST
    end = agg.month(window.end) if window.end else agg.month(today)
    return analytics.read(series, start, end)


def components_usage_timeseries(
    principal: Principal, scope: Scope, offering_id: str, component_type: str | None, period_offset: int
) -> dict[str, Any]:
    """One component's usage in the scope per month of its limit period (`period_offset` periods
    back); a total's buckets are the months with usage."""
    today = _today()
    offering, component = _offering_and_component(principal, scope, offering_id, component_type)
    window = rules.window(component.limit_period, today, period_offset)
    amounts: dict[date, Decimal] = {}
    for (_, o, t, first), value in _months(_read_window(scope.usage_series, window, today)).items():
        if (o, t) == (offering.id, component.type):
            amounts[first] = amounts.get(first, Decimal(0)) + value
    return {**_series_head(offering, component, window, today), "buckets": _buckets(window, amounts)}


def components_usage_by_project(
    principal: Principal, scope: Scope, offering_id: str, component_type: str | None, period_offset: int
) -> dict[str, Any]:
    """One component's usage in the customer's projects over its limit period, per project (most
    used first) with each project's months."""
    today = _today()
    offering, component = _offering_and_component(principal, scope, offering_id, component_type)
    window = rules.window(component.limit_period, today, period_offset)
    per_project: dict[str, dict[date, Decimal]] = {}
    names: dict[str, str] = {}
    for row in _read_window(rules.by_project_series(scope.customer_id, offering.id), window, today):
        project_id, row_type = rules.split(row.field)
        if row_type != component.type or not row.value:
            continue
        months = per_project.setdefault(project_id, {})
        first = agg.period_date(row.period)
        months[first] = months.get(first, Decimal(0)) + row.value
        names[project_id] = row.label or names.get(project_id, "")
    live = (
        {p.id for p in project_store.get_many(dict.fromkeys(per_project, scope.customer_id))}
        if per_project
        else set()
    )
    totals = {p: sum(months.values(), Decimal(0)) for p, months in per_project.items()}
    order = sorted(per_project, key=lambda p: (-totals[p], names.get(p, "").lower(), p))
    entries = [
        {
            "project_uuid": project_id,
            "project_name": names.get(project_id, ""),
            "is_removed": project_id not in live,
            "usage": float(totals[project_id]),
            "usage_terminated": 0.0,
            "buckets": _buckets(window, per_project[project_id]),
        }
        for project_id in order
    ]
    total = sum(totals.values(), Decimal(0))
    return {
        **_series_head(offering, component, window, today),
        "total_usage": float(total),
        "projects": entries,
    }


# --- marketplace-component-usage-monthly/ ----------------------------------------------------------------
@dataclass(frozen=True)
class MonthlyFilters:
    billing_period: date | None = None
    start: date | None = None
    end: date | None = None
    billing_type: str | None = None
    component_type: str | None = None
    offering_type: str | None = None
    offering_id: str | None = None
    customer_id: str | None = None
    project_id: str | None = None

    def months(self, today: date) -> tuple[date, date]:
        """The months asked for: `billing_period`'s; else `start` to `end` (one of them: to this month,
        or from it); none: this month (Waldur's default)."""
        if self.billing_period is not None:
            first = self.billing_period.replace(day=1)
            return first, first
        this_month = today.replace(day=1)
        if self.start is None and self.end is None:
            return this_month, this_month
        first = (self.start or min(self.end or this_month, this_month)).replace(day=1)
        last = (self.end or max(first, this_month)).replace(day=1)
        check_months(first, last)
        return first, last


MONTHLY_ORDERING = (
    "billing_period",
    "offering_name",
    "component_type",
    "total_consumed",
    "service_provider_name",
    "category_title",
)


def _provided(principal: Principal) -> tuple[set[str], set[str]]:
    """The provider customers (a customer role) and the offerings (a role on it) the caller provides."""
    rights = access_service.access(principal)
    return set(rights.customer_role_ids()), set(sides.provided_offerings(rights))


def _monthly_sources(principal: Principal, filters: MonthlyFilters) -> tuple[list[str], bool]:
    """The series to read, and whether their rows need the caller's provider sight checked (a scope
    seen only as a provider): an empty list matches nothing."""
    rights = access_service.access(principal)
    if filters.project_id is not None:
        project = project_store.get(filters.project_id)
        if project is None or (
            filters.customer_id is not None and project.customer_id != filters.customer_id
        ):
            return [], False
        if rights.sees_project(project.id, project.customer_id):
            return [rules.project_series(project.id)], False
        return [rules.project_series(project.id)], True
    if filters.customer_id is not None:
        whole = rights.sees_whole_customer(filters.customer_id)
        return [rules.customer_series(filters.customer_id)], not whole
    if rights.reads_everything:
        return [rules.PLATFORM], False
    providers, offerings = _provided(principal)
    # A provider's series holds only its offerings' usage; an offering role's is filtered to it.
    named = {o.customer_id for o in _offerings_by_id(offerings)}
    return [rules.provider_series(p) for p in sorted(providers | named)], bool(named - providers)


def _offerings_by_id(offering_ids: Iterable[str]) -> list[Offering]:
    found = [offering_store.get(o) for o in sorted(set(offering_ids))]
    return [o for o in found if o is not None]


def monthly(
    principal: Principal, filters: MonthlyFilters, ordering: Ordering, request: PageRequest
) -> Page[dict[str, Any]]:
    today = _today()
    first, last = filters.months(today)
    names, check_sight = _monthly_sources(principal, filters)
    amounts: dict[tuple[str, str, str, date], Decimal] = {}
    for name in names:
        for key, value in _months(analytics.read(name, agg.month(first), agg.month(last))).items():
            amounts[key] = amounts.get(key, Decimal(0)) + value
    if filters.offering_id is not None:
        amounts = {k: v for k, v in amounts.items() if k[1] == filters.offering_id}
    offerings = _offerings((p, o) for p, o, _, _ in amounts)
    if check_sight:
        providers, provided = _provided(principal)
        offerings = {k: o for k, o in offerings.items() if o.customer_id in providers or o.id in provided}
    providers_named = (
        {c.id: c.name for c in customer_store.get_many(sorted({o.customer_id for o in offerings.values()}))}
        if offerings
        else {}
    )
    category_ids = sorted({o.category_id for o in offerings.values() if o.category_id})
    categories = category_store.get_many(category_ids) if category_ids else {}
    rows: list[dict[str, Any]] = []
    for (_, offering_id, component_type, period), consumed in amounts.items():
        offering = offerings.get(offering_id)
        if offering is None:
            continue
        component = offering.component(component_type)
        billing_type = component.billing_type.value if component else ""
        if filters.billing_type is not None and billing_type != filters.billing_type:
            continue
        if filters.component_type is not None and component_type != filters.component_type:
            continue
        if filters.offering_type is not None and offering.type != filters.offering_type:
            continue
        category = categories.get(offering.category_id) if offering.category_id else None
        row: dict[str, Any] = {
            "offering_uuid": offering.id,
            "offering_name": offering.name,
            "offering_type": offering.type,
            "service_provider_uuid": offering.customer_id,
            "service_provider_name": providers_named.get(offering.customer_id, ""),
            "category_uuid": category.id if category else None,
            "category_title": category.title if category else None,
            "component_type": component_type,
            "component_name": component.name if component else component_type,
            "measured_unit": component.measured_unit if component else "",
            "billing_type": billing_type,
            "limit_amount": component.limit_amount if component else None,
            "limit_period": component.limit_period.value if component and component.limit_period else None,
            "billing_period": period,
            "total_consumed": _cents(consumed),
            "usage_percent": None,
        }
        rows.append(row)
    rows.sort(key=lambda r: (r["offering_name"].lower(), r["component_type"]))
    rows.sort(key=lambda r: r["billing_period"], reverse=True)
    return paginate(_ordered(rows, ordering), request)


def _ordered(rows: list[dict[str, Any]], ordering: Ordering) -> list[dict[str, Any]]:
    """Rows by `?o=` (one field, as the other lists), after the default order."""
    if ordering.field is None:
        return rows
    name = ordering.field

    def key(row: dict[str, Any]) -> Any:
        value = row.get(name)
        if name == "total_consumed":
            return Decimal(str(value))
        if isinstance(value, str):
            return (value is None, value.lower())
        return (value is None, value or date.min)

    return sorted(rows, key=key, reverse=ordering.descending)
