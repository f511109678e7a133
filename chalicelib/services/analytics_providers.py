"""Service providers' statistics (`marketplace-stats/top_service_providers_by_resources/`,
`count_active_resources_grouped_by_offering/`, `provider_customers/`, `provider_resources/`,
`provider_offerings/`, `marketplace-provider-offerings/<uuid>/stats/`), read from the aggregates
the stream keeps (domain/analytics_providers.py says which). Nothing is counted here from
resources: each answer reads one or two series (one Query each).

Who sees what:
- the platform-wide lists: staff and support (Waldur's StatsViewSet); anybody else 403;
- a provider's figures (`provider_uuid`: the service provider's uuid): its team (owners and
  managers of its customer: the permission to list its consumers), staff and support. For anybody
  else, and for a uuid naming no provider, the figures are empty (zeros, no lists): the same answer
  for a provider one may not see as for none, as a filter of Cirrus's that matches nothing;
- an offering's stats: whoever sees the offering on the provider side (else 404, as its page).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.domain import analytics as agg
from chalicelib.domain import analytics_providers as facts
from chalicelib.domain.analytics import Aggregate
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied
from chalicelib.domain.offerings import ServiceProvider
from chalicelib.domain.rbac import Scope
from chalicelib.domain.roles import P, ScopeType
from chalicelib.domain.vocabulary import Offering
from chalicelib.services import access as access_service
from chalicelib.services import offerings as offering_service
from chalicelib.services.ports import analytics
from chalicelib.services.ports import categories as category_store
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import service_providers as provider_store

TOP = 10  # the length of a provider's "top" lists (customers by revenue, by resources; offerings)
MONTHS = 12  # the months of the monthly series, the current one included
DEFAULT_LIMIT = 10  # top_service_providers_by_resources without `limit`
MAX_LIMIT = 1000
CENT = Decimal("0.01")
FIRST_MONTH = f"{agg.MONTH}0000"  # sorts before every month period (and after the days)


def _require_platform_reader(principal: Principal) -> None:
    if not access_service.access(principal).reads_everything:
        raise PermissionDenied()


def _nonzero(rows: Iterable[Aggregate]) -> list[Aggregate]:
    """Aggregates still counting something (one that went back to zero stays stored until a rebuild)."""
    return [r for r in rows if r.value != 0]


def _cents(value: Decimal) -> Decimal:
    """A sum of prices as Waldur renders money (the store keeps numbers without trailing zeros)."""
    return value.quantize(CENT)


def _split(field: str) -> tuple[str, str]:
    first, _, second = field.partition(facts.PAIR)
    return first, second


# --- platform-wide ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TopProvider:
    customer_id: str
    customer_name: str
    resources_count: int
    projects_count: int


def top_providers(principal: Principal, limit: int | None) -> list[TopProvider]:
    """Providers by their active resources, most first (ties by name), with the number of distinct
    projects those resources are in; at most `limit`. Two Queries: the providers' counts and the
    (provider, project) pairs."""
    _require_platform_reader(principal)
    providers = _nonzero(analytics.read_now(facts.PROVIDERS_ACTIVE))
    projects: dict[str, int] = {}
    for row in _nonzero(analytics.read_now(facts.PROVIDERS_PROJECTS)):
        provider, _ = _split(row.field)
        projects[provider] = projects.get(provider, 0) + 1
    found = [TopProvider(r.field, r.label, int(r.value), projects.get(r.field, 0)) for r in providers]
    found.sort(key=lambda p: (-p.resources_count, p.customer_name, p.customer_id))
    return found[: limit or DEFAULT_LIMIT]


@dataclass(frozen=True)
class OfferingCount:
    offering_id: str
    name: str
    country: str
    count: int


def active_by_offering(principal: Principal) -> list[OfferingCount]:
    """Active resources per offering (Waldur's OK, Updating, Terminating), by offering name. One
    Query; the offerings' countries from one BatchGetItem per 100 offerings counted."""
    _require_platform_reader(principal)
    rows = _nonzero(analytics.read_now(facts.PROVIDERS_OFFERINGS))
    keys = [_split(r.field) for r in rows]
    countries = {o.id: o.country for o in offering_store.get_many(keys)} if keys else {}
    out = [
        OfferingCount(offering_id, r.label, countries.get(offering_id, ""), int(r.value))
        for (_, offering_id), r in zip(keys, rows, strict=True)
    ]
    out.sort(key=lambda o: (o.name, o.offering_id))
    return out


# --- one provider ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProviderFigures:
    """A provider's series, read whole (one Query): NOW values and month values by field."""

    now: dict[str, Aggregate]
    months: dict[str, dict[str, Aggregate]]  # period → field → aggregate
    labels: dict[str, str]  # field → the latest label (any period)

    def prefixed(self, prefix: str) -> dict[str, Aggregate]:
        """NOW fields starting with `prefix`, by the rest of their name (zeros left out)."""
        return {
            field[len(prefix) :]: row
            for field, row in self.now.items()
            if field.startswith(prefix) and row.value != 0
        }

    def label(self, field: str) -> str:
        return self.labels.get(field, "")


def _visible(principal: Principal, provider_id: str) -> ServiceProvider | None:
    """The provider, if the caller reads its figures (staff, support, its team); else None. The
    uuid is the service provider's (Waldur's); its customer's is taken too (one GetItem more)."""
    provider = provider_store.get(provider_id) or provider_store.for_customer(provider_id)
    if provider is None:
        return None
    rights = access_service.access(principal)
    if rights.reads_everything:
        return provider
    scope = Scope(ScopeType.CUSTOMER, provider.customer_id, provider.customer_id, "")
    return provider if rights.has(P.LIST_RESOURCE_USERS, scope) else None


NOTHING = ProviderFigures({}, {}, {})


def _figures(provider: ServiceProvider | None) -> ProviderFigures:
    if provider is None:
        return NOTHING
    rows = analytics.read(facts.provider_series(provider.customer_id), FIRST_MONTH, agg.NOW)
    now: dict[str, Aggregate] = {}
    months: dict[str, dict[str, Aggregate]] = {}
    for row in rows:
        if row.period == agg.NOW:
            now[row.field] = row
        elif row.period.startswith(agg.MONTH):
            months.setdefault(row.period, {})[row.field] = row
    return ProviderFigures(now, months, agg.labels(rows))


def _last_months(today: date) -> list[str]:
    """The periods of the last MONTHS months, oldest first, this month last."""
    year, month = today.year, today.month
    out: list[str] = []
    for _ in range(MONTHS):
        out.append(agg.month(date(year, month, 1)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _month_text(period: str) -> str:
    return period[len(agg.MONTH) :]


@dataclass(frozen=True)
class CustomerRevenue:
    customer_id: str
    customer_name: str
    revenue: Decimal


@dataclass(frozen=True)
class CustomerResources:
    customer_id: str
    customer_name: str
    resource_count: int


@dataclass(frozen=True)
class ProviderCustomers:
    total: int
    new_this_month: int
    top_by_revenue: list[CustomerRevenue]
    top_by_resources: list[CustomerResources]
    monthly: list[tuple[str, int]]  # (YYYY-MM, customers who created a resource that month)


def _customer_names(figures: ProviderFigures, ids: Iterable[str]) -> dict[str, str]:
    """Names from the series' labels; the few it lacks (revenue of a customer whose resources are
    gone) from one BatchGetItem."""
    names = {i: figures.label(f"{facts.CUSTOMER}{i}") for i in ids}
    missing = [i for i, name in names.items() if not name]
    if missing:
        names.update({c.id: c.name for c in customer_store.get_many(missing)})
    return names


def customers(principal: Principal, provider_id: str) -> ProviderCustomers:
    figures = _figures(_visible(principal, provider_id))
    live = figures.prefixed(facts.CUSTOMER)
    first_month: dict[str, str] = {}
    per_month: dict[str, int] = {}
    for period in sorted(figures.months):
        for field, row in figures.months[period].items():
            if field.startswith(facts.CUSTOMER) and row.value != 0:
                first_month.setdefault(field[len(facts.CUSTOMER) :], period)
                per_month[period] = per_month.get(period, 0) + 1
    this_month = agg.month(utcnow())
    revenue = figures.prefixed(facts.REVENUE)
    top_revenue = sorted(revenue.items(), key=lambda kv: (-kv[1].value, kv[0]))[:TOP]
    top_resources = sorted(live.items(), key=lambda kv: (-kv[1].value, kv[1].label, kv[0]))[:TOP]
    names = _customer_names(figures, [i for i, _ in top_revenue])
    return ProviderCustomers(
        total=len(live),
        new_this_month=sum(1 for period in first_month.values() if period == this_month),
        top_by_revenue=[CustomerRevenue(i, names.get(i, ""), _cents(row.value)) for i, row in top_revenue],
        top_by_resources=[CustomerResources(i, row.label, int(row.value)) for i, row in top_resources],
        monthly=[(_month_text(p), per_month.get(p, 0)) for p in _last_months(utcnow().date())],
    )


@dataclass(frozen=True)
class OfferingResources:
    offering_id: str
    offering_name: str
    count: int


@dataclass(frozen=True)
class ProviderResources:
    total: int
    by_state: dict[str, int]
    by_offering: list[OfferingResources]
    monthly: list[tuple[str, int]]  # (YYYY-MM, resources created that month)


def resources(principal: Principal, provider_id: str) -> ProviderResources:
    figures = _figures(_visible(principal, provider_id))
    by_state = {state: int(row.value) for state, row in sorted(figures.prefixed(facts.STATE).items())}
    offerings = figures.prefixed(facts.OFFERING)
    top = sorted(offerings.items(), key=lambda kv: (-kv[1].value, kv[1].label, kv[0]))[:TOP]
    monthly = []
    for period in _last_months(utcnow().date()):
        created = figures.months.get(period, {}).get(facts.CREATED)
        monthly.append((_month_text(period), int(created.value) if created else 0))
    return ProviderResources(
        total=sum(by_state.values()),
        by_state=by_state,
        by_offering=[OfferingResources(i, row.label, int(row.value)) for i, row in top],
        monthly=monthly,
    )


@dataclass(frozen=True)
class PlanFigures:
    plan_id: str
    plan_name: str
    usage: int
    limit: int | None
    utilization: float | None  # usage / limit, in percent


@dataclass(frozen=True)
class OfferingFigures:
    offering: Offering
    category_name: str
    active_resources: int
    total_resources: int
    revenue: Decimal | None  # None: nothing billed yet
    plans: list[PlanFigures]


def _int(row: Aggregate | None) -> int:
    return int(row.value) if row is not None else 0


def offerings(principal: Principal, provider_id: str) -> list[OfferingFigures]:
    """Each of the provider's offerings (one Query of them) with its resources, revenue and plans'
    use (the provider's series); category titles from one BatchGetItem."""
    provider = _visible(principal, provider_id)
    if provider is None:
        return []
    figures = _figures(provider)
    own = offering_store.for_customer(provider.customer_id)
    category_ids = sorted({o.category_id for o in own if o.category_id})
    titles = {i: c.title for i, c in category_store.get_many(category_ids).items()} if category_ids else {}
    active = figures.prefixed(facts.OFFERING_ACTIVE)
    every = figures.prefixed(facts.OFFERING_ALL)
    revenue = figures.prefixed(facts.REVENUE_OFFERING)
    plans = figures.prefixed(facts.PLAN)
    out: list[OfferingFigures] = []
    for offering in sorted(own, key=lambda o: (o.name, o.id)):
        plan_figures = []
        for plan in offering.plans:
            usage = _int(plans.get(plan.id))
            limit = plan.max_amount
            utilization = round(usage * 100 / limit, 2) if limit else None
            plan_figures.append(PlanFigures(plan.id, plan.name, usage, limit, utilization))
        billed = revenue.get(offering.id)
        out.append(
            OfferingFigures(
                offering=offering,
                category_name=titles.get(offering.category_id or "", ""),
                active_resources=_int(active.get(offering.id)),
                total_resources=_int(every.get(offering.id)),
                revenue=_cents(billed.value) if billed is not None else None,
                plans=plan_figures,
            )
        )
    return out


@dataclass(frozen=True)
class OfferingStats:
    resources_count: int  # resources not Terminated
    customers_count: int  # distinct customers of those


def offering_stats(principal: Principal, offering_id: str) -> OfferingStats:
    """Waldur's `marketplace-provider-offerings/<uuid>/stats/`: the offering's resources that are not
    Terminated and their distinct customers (the pairs of the provider's series: one Query)."""
    offering = offering_service.get_visible(principal, offering_id)
    rows = analytics.read_now(facts.provider_series(offering.customer_id))
    count = 0
    customers_seen = 0
    pairs = f"{facts.OFFERING_CUSTOMER}{offering.id}{facts.PAIR}"
    for row in rows:
        if row.value == 0:
            continue
        if row.field == f"{facts.OFFERING}{offering.id}":
            count = int(row.value)
        elif row.field.startswith(pairs):
            customers_seen += 1
    return OfferingStats(count, customers_seen)
