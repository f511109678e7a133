"""`GET /api/marketplace-stats/user_auth_method_count/`: the active users per registration method,
in Waldur's `UserAuthMethodCount` shape, paged (services/analytics_users.py: staff and support)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api.rest import Call, ListQuery, ResponseModel, endpoint, listed
from chalicelib.services import analytics_users as service
from chalicelib.services.paging import paginate

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
    counts = service.auth_method_counts(call.user)
    page = paginate(counts, call.query.page_request())
    return listed(call, page, UserAuthMethodCountOut, lambda c: {"method": c.method, "count": c.count})
