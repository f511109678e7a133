"""What customers, projects and users contribute to the analytics series (domain/analytics.py).

- Quota gauges: a customer's and a project's quota usage and limit, one series per scope and quota
  (`quota#<customer|project>#<id>#<quota name>`, fields `usage` and `limit`), as points: written on
  the day a change is seen and by the daily snapshot; `daily-quotas/` reads them.
- Users by registration method, per day joined (`users#registration`, field = the method), and
  the active users by it now (`users#method`, period NOW: `marketplace-stats/user_auth_method_count/`).
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain.analytics import NOW, Add, Point, day, series
from chalicelib.domain.customers import Customer
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import Quota
from chalicelib.domain.users import User

USAGE = "usage"
LIMIT = "limit"
USERS_BY_REGISTRATION = series("users", "registration")
ACTIVE_USERS_BY_METHOD = series("users", "method")


def quota_series(scope_type: str, scope_id: str, quota: str) -> str:
    return series("quota", scope_type, scope_id, quota)


def _quota_points(scope_type: str, scope_id: str, quotas: Sequence[Quota]) -> list[Point]:
    out: list[Point] = []
    for quota in quotas:
        name_series = quota_series(scope_type, scope_id, quota.name)
        out.append(Point(name_series, USAGE, quota.usage))
        out.append(Point(name_series, LIMIT, quota.limit))
    return out


def customer_points(customer: Customer) -> list[Point]:
    return _quota_points("customer", customer.id, customer.quotas)


def project_points(project: Project) -> list[Point]:
    if project.removed is not None:  # a removed project's quotas stay as they were on its last day
        return []
    return _quota_points("project", project.id, project.quotas)


def user_facts(user: User) -> list[Add]:
    method = user.registration_method or "default"
    facts = [Add(USERS_BY_REGISTRATION, day(user.date_joined), method)]
    if user.is_active:  # a deactivated user leaves the count; reactivated, comes back
        facts.append(Add(ACTIVE_USERS_BY_METHOD, NOW, method))
    return facts
