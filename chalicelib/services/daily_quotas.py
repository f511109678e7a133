"""`daily-quotas/`: a customer's or a project's quota usage per day, from the quota's gauge points
(domain/analytics_quotas.py; what is answered for days before them: domain/daily_quotas.py). For
whoever sees the scope. A scope the caller does not see, or that does not exist, has no records, as
any query parameter of Cirrus's matches nothing there: each quota named is all zeros (none named: no
quota; Waldur answers 400 "Object does not exist", which would tell a stranger which ids exist).

Reads, besides the scope's lookup: per quota of the scope named, one Query of its points in the
period, a second (`latest`) only when the period's first day has no point, and for the team size
one Query of the scope's roles only when days before its first point remain. A name that is not
one of the scope's quotas has no points: zeros, without a read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from chalicelib.domain import analytics
from chalicelib.domain import daily_quotas as domain
from chalicelib.domain.analytics_quotas import USAGE, quota_series
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import NotFound
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, PROJECT_QUOTAS, USER_COUNT
from chalicelib.domain.rbac import Grant
from chalicelib.domain.roles import ScopeType
from chalicelib.services import customers, projects
from chalicelib.services.ports import analytics as aggregates
from chalicelib.services.ports import grants as grant_store

Team = Callable[[], list[Grant]]


@dataclass(frozen=True)
class _Scope:
    kind: str  # "customer" or "project": the scopes of the quota points
    id: str
    quotas: tuple[str, ...]  # the quotas that have points
    names: tuple[str, ...]  # the names answered when none are asked for (Waldur's scope quotas)
    team: Team  # the roles that make its team, for the team size before its first point


def _project(principal: Principal, project_id: str) -> _Scope:
    project = projects.get_visible(principal, project_id)
    return _Scope(
        "project",
        project.id,
        PROJECT_QUOTAS,
        (*PROJECT_QUOTAS, USER_COUNT),
        lambda: grant_store.for_scope(project.customer_id, ScopeType.PROJECT, project.id),
    )


def _customer(principal: Principal, customer_id: str) -> _Scope:
    customer = customers.get_visible(principal, customer_id)
    return _Scope(
        "customer",
        customer.id,
        CUSTOMER_QUOTAS,
        CUSTOMER_QUOTAS,
        lambda: [g for g in grant_store.for_customer(customer.id) if g.scope_type is not ScopeType.OFFERING],
    )


def _nobody() -> list[Grant]:
    return []


def _scope(principal: Principal, scope_type: str | None, scope_id: str) -> _Scope:
    """The scope, its quotas and a reader of the roles that make its team (none and nobody for a
    scope the caller does not see). A bare uuid (the client's `scope`) names a project, else a
    customer."""
    readers = {"project": (_project,), "customer": (_customer,)}.get(scope_type or "", (_project, _customer))
    for reader in readers:
        try:
            return reader(principal, scope_id)
        except NotFound:
            continue
    return _Scope("", "", (), (), _nobody)


def _usage(scope: _Scope, name: str, start: date, end: date) -> list[int]:
    """One quota's usage per day: its points in the period, the last one before it carried in."""
    team_size = name == USER_COUNT and bool(scope.kind)
    if name not in scope.quotas:  # no points: the team size from the roles, any other quota zeros
        return domain.team_sizes(scope.team(), start, end) if team_size else domain.no_history(start, end)
    series = quota_series(scope.kind, scope.id, name)
    rows = aggregates.read(series, analytics.day(start), analytics.day(end))
    points = {analytics.period_date(r.period): r.value for r in rows if r.field == USAGE}
    carried = None
    if start not in points:
        carried = next(
            (r.value for r in aggregates.latest(series, analytics.day(start)) if r.field == USAGE), None
        )
    before = None
    if team_size and carried is None and start not in points:
        before = domain.team_sizes(scope.team(), start, end)
    return domain.usage_per_day(points, carried, start, end, before)


def series(
    principal: Principal,
    scope: tuple[str | None, str],
    quota_names: Sequence[str],
    start: date | None,
    end: date | None,
) -> dict[str, list[int]]:
    """Each quota's usage on each day from `start` to `end` (both included); Waldur's defaults: the
    scope's own quotas, the last 30 days to today."""
    first, last = domain.period(start, end, utcnow().date())
    seen = _scope(principal, *scope)
    return {name: _usage(seen, name, first, last) for name in quota_names or seen.names}
