"""`customer-quotas/` and `project-quotas/`: every customer (or available project) with its current
usage of one quota, most first (Waldur's analytics lists; the facts: domain/analytics_quota_lists.py).
Staff and support only, as in Waldur (IsStaffOrSupportUser): anybody else gets 403, whatever the
filters. Reads: two Queries (the directory of customers or projects and the quota's usage), nothing
that grows with resources; a quota Cirrus does not keep (an OpenStack one of Waldur's enum) has no
usage anywhere: one Query, every value 0 (Waldur's Coalesce to 0)."""

from __future__ import annotations

from chalicelib.domain import analytics_quota_lists as domain
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import PermissionDenied
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, PROJECT_QUOTAS
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import analytics as aggregates

KEPT = {"customer": CUSTOMER_QUOTAS, "project": PROJECT_QUOTAS}
DIRECTORY = {"customer": domain.CUSTOMERS, "project": domain.PROJECTS}


def listing(
    principal: Principal,
    kind: str,
    quota: str,
    request: PageRequest,
    customer_id: str | None = None,
    by: str = "value",
    ascending: bool = False,
) -> Page[domain.Row]:
    """One page of the customers' (kind "customer") or projects' ("project") usage of `quota`;
    `customer_id`: only that customer's (or that customer)."""
    if not principal.reads_everything:
        raise PermissionDenied()
    directory = aggregates.read_now(DIRECTORY[kind])
    usage = aggregates.read_now(domain.usage_series(kind, quota)) if quota in KEPT[kind] else []
    found = domain.rows(kind, directory, usage)
    if customer_id is not None:
        found = [r for r in found if r.customer_id == customer_id]
    return paginate(domain.ordered(found, by, ascending), request)
