"""`GET /api/marketplace-stats/user_auth_method_count/`: the active users per registration method,
in Waldur's `UserAuthMethodCount` shape, paged (services/analytics_users.py: staff and support)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api.rest import Call, Listed, ListQuery, ResponseModel, endpoint
from chalicelib.services import analytics_users as service

bp = Blueprint(__name__)


class UserAuthMethodCountOut(ResponseModel):
    method: str
    count: int


@endpoint(
    bp,
    "/api/marketplace-stats/user_auth_method_count",
    "GET",
    name="marketplace_stats_user_auth_method_count_list",
    tag="marketplace-stats",
    query=ListQuery,
    response=UserAuthMethodCountOut,
    many=True,
    summary="Active users per registration method, most first (staff, support)",
)
def user_auth_method_count(call: Call) -> Any:
    rows = [{"method": c.method, "count": c.count} for c in service.auth_method_counts(call.user)]
    request = call.query.page_request()
    start = (request.page - 1) * request.page_size
    return Listed(rows[start : start + request.page_size], len(rows), request)
