"""`daily-quotas/`: a customer's or a project's quota usage per day (domain/daily_quotas.py says what
Cirrus can tell of the past). For whoever sees the scope. A scope the caller does not see, or that
does not exist, has no records, as any query parameter of Cirrus's matches nothing there: each
quota named is all zeros (none named: no quota; Waldur answers 400 "Object does not exist", which
would tell a stranger which ids exist). Reads: one Query of the scope's roles (none for a quota
without history)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from chalicelib.domain import daily_quotas as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import NotFound
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, PROJECT_QUOTAS, USER_COUNT
from chalicelib.domain.rbac import Grant
from chalicelib.domain.roles import ScopeType
from chalicelib.services import customers, projects
from chalicelib.services.ports import grants as grant_store

Team = Callable[[], list[Grant]]


def _project(principal: Principal, project_id: str) -> tuple[tuple[str, ...], Team]:
    project = projects.get_visible(principal, project_id)
    return (*PROJECT_QUOTAS, USER_COUNT), lambda: grant_store.for_scope(
        project.customer_id, ScopeType.PROJECT, project.id
    )


def _customer(principal: Principal, customer_id: str) -> tuple[tuple[str, ...], Team]:
    customer = customers.get_visible(principal, customer_id)
    return CUSTOMER_QUOTAS, lambda: [
        g for g in grant_store.for_customer(customer.id) if g.scope_type is not ScopeType.OFFERING
    ]


def _nobody() -> list[Grant]:
    return []


def _scope(principal: Principal, scope_type: str | None, scope_id: str) -> tuple[tuple[str, ...], Team]:
    """The scope's own quota names, and a reader of the roles that make its team (none and nobody
    for a scope the caller does not see). A bare uuid (the client's `scope`) names a project, else
    a customer."""
    readers = {"project": (_project,), "customer": (_customer,)}.get(scope_type or "", (_project, _customer))
    for reader in readers:
        try:
            return reader(principal, scope_id)
        except NotFound:
            continue
    return (), _nobody


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
    own, team = _scope(principal, *scope)
    answer: dict[str, list[int]] = {}
    for name in quota_names or own:
        if name == USER_COUNT:
            answer[name] = domain.team_sizes(team(), first, last)
        else:
            answer[name] = domain.no_history(first, last)
    return answer
