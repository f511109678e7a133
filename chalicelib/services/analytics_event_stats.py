"""`events-stats/`: how many events the audit log holds per month, newest first (Waldur's
EventsStatsViewSet), of a scope's feed (`scope=`, or `related_user_uuid=`: the user's) or, for
staff and support only, of the whole log; `event_type=` and `feature=` narrow to those types. Who
reads what is `/api/events/`'s rule (services/events.py): a feed the caller may not read, or no
scope for anybody else, is an empty list, as in Waldur. Reads: one Query of the scope's series (four,
one per shard, for the whole log), over the months still kept (domain/analytics_event_stats.py)."""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.domain import analytics_event_stats as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.services import events
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import analytics as aggregates


def stats(
    principal: Principal,
    feed: tuple[str, str] | None,
    event_types: tuple[str, ...],
    features: tuple[str, ...],
    request: PageRequest,
) -> Page[domain.MonthCount]:
    """One page of the months' counts of `feed` (None: the whole log)."""
    if feed is not None:
        if not events.readable_feed(principal, *feed):
            return Page([], 0)
        names = [domain.scope_series(*feed)]
    elif principal.reads_everything:
        names = domain.all_series()
    else:
        return Page([], 0)
    start, end = domain.kept_periods(utcnow(), get_settings().event_retention_days)
    rows = [row for name in names for row in aggregates.read(name, start, end)]
    wanted = events.EventFilters(event_types=event_types, features=features).wanted_types()
    return paginate(domain.per_month(rows, wanted), request)
