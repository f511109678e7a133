"""`GET /api/analytics-charts/<chart>/?...`: an analytics series drawn as an SVG image (a Cirrus
addition; Waldur draws its charts in the browser from the JSON endpoints). One route per chart of
`CHARTS`, each with its own query parameters, so the OpenAPI document lists them; adding a chart is
adding an entry (its query model and a service function that returns the SVG text).

- `daily-quotas/?scope=<customer or project URL>&quota_names=...&start=&end=`: the quotas' usage per
  day, a line each (the parameters of `daily-quotas/`, and its visibility).
- `users-registration/?start=&end=`: users who joined in the period by registration method, bars
  (staff and support only: 403 for anybody else).

The image is sent as `image/svg+xml` with a policy that lets it run and load nothing (every text in
it is escaped already: domain/charts.py), and like every answer it is not cached (a tenant's data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.daily_quotas import QuotaName, Scope, scope_of
from chalicelib.api.fields import DateFilter
from chalicelib.api.rest import Call, QueryModel, Raw, endpoint
from chalicelib.domain.context import Principal
from chalicelib.services import analytics_charts as service

bp = Blueprint(__name__)
TAG = "analytics-charts"
SVG = "image/svg+xml"
PREFIX = "/api/analytics-charts"
HEADERS = {"Content-Type": SVG, "Content-Security-Policy": "default-src 'none'; sandbox"}


class PeriodQuery(QueryModel):
    start: DateFilter | None = None
    end: DateFilter | None = None


class DailyQuotasChartQuery(PeriodQuery):
    scope: Scope  # required, as in daily-quotas/
    quota_names: list[QuotaName] = Field(default_factory=list, max_length=20)


@dataclass(frozen=True)
class Chart:
    name: str  # the route's last segment
    query: type[QueryModel]
    draw: Callable[[Principal, Any], str]  # (caller, parsed query) → the SVG text
    summary: str

    @property
    def path(self) -> str:
        return f"{PREFIX}/{self.name}"


CHARTS: tuple[Chart, ...] = (
    Chart(
        "daily-quotas",
        DailyQuotasChartQuery,
        lambda user, q: service.daily_quotas(user, scope_of(q.scope), q.quota_names, q.start, q.end),
        "A customer's or project's quota usage per day, as an SVG line chart",
    ),
    Chart(
        "users-registration",
        PeriodQuery,
        lambda user, q: service.users_registration(user, q.start, q.end),
        "Users who joined in the period by registration method, as an SVG bar chart (staff, support)",
    ),
)


def _serve(chart: Chart) -> None:
    @endpoint(
        bp,
        chart.path,
        "GET",
        name=f"analytics_charts_{chart.name.replace('-', '_')}",
        tag=TAG,
        query=chart.query,
        media=SVG,
        summary=chart.summary,
    )
    def view(call: Call) -> Any:
        return Raw(chart.draw(call.user, call.query), HEADERS)


for _chart in CHARTS:
    _serve(_chart)
