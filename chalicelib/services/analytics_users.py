"""Users by how they registered (Waldur's `marketplace-stats/user_auth_method_count/`): the active
users counted per registration method (`default` for local accounts, `cognito`, an identity
provider's name), most first, then by method. Platform-wide: staff and support only (Waldur's
StatsViewSet), 403 for anybody else. Reads: one Query of `users#method` (its fields are the methods,
a handful), never the users."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.analytics_quotas import ACTIVE_USERS_BY_METHOD
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied
from chalicelib.services.ports import analytics


@dataclass(frozen=True)
class MethodCount:
    method: str
    count: int


def auth_method_counts(principal: Principal) -> list[MethodCount]:
    if not principal.reads_everything:
        raise PermissionDenied()
    counts = [MethodCount(row.field, int(row.value)) for row in analytics.read_now(ACTIVE_USERS_BY_METHOD)]
    return sorted((c for c in counts if c.count > 0), key=lambda c: (-c.count, c.method))
