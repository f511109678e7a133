"""`GET /api/events-stats/`: the audit log's number of events per month, newest first, as Waldur's
EventStats (`year`, `month`, `count`), paged as every list; filters as `/api/events/`'s: `scope`,
`event_type`, `feature`, and `related_user_uuid` (the user's feed). Who reads what and how it is
counted: services/analytics_event_stats.py."""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, StringConstraints

from chalicelib.api.events import _is_scope
from chalicelib.api.fields import UuidFilter, object_url
from chalicelib.api.rest import Call, ListQuery, ResponseModel, endpoint, listed
from chalicelib.domain.analytics_event_stats import MonthCount
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import parse_id
from chalicelib.services import analytics_event_stats as service
from chalicelib.services import events as events_service

bp = Blueprint(__name__)
TAG = "events-stats"
Word = Annotated[str, StringConstraints(max_length=150)]
BOTH = "Name the feed by scope or by related_user_uuid, not both."


class EventStatsQuery(ListQuery):
    event_type: list[Word] = Field(default_factory=list, max_length=100)
    feature: list[Word] = Field(default_factory=list, max_length=50)
    scope: object_url(events_service.SCOPE_COLLECTIONS, _is_scope, events_service.INVALID_SCOPE) | None = None  # type: ignore[valid-type]
    related_user_uuid: UuidFilter | None = None


class EventStatsOut(ResponseModel):
    year: int
    month: int
    count: int


def _data(row: MonthCount) -> dict[str, Any]:
    return {"year": row.year, "month": row.month, "count": row.count}


@endpoint(bp, "/api/events-stats", "GET", name="events_stats_list", tag=TAG, query=EventStatsQuery,
          response=EventStatsOut, many=True,
          summary="Events per month, newest first (without `scope`, staff and support only)")  # fmt: skip
def events_stats(call: Call) -> Any:
    q: EventStatsQuery = call.query
    feed: tuple[str, str] | None = None
    if q.scope is not None and q.related_user_uuid is not None:
        raise ValidationError({"non_field_errors": [BOTH]})
    if q.scope is not None:
        feed = events_service.scope_reference(q.scope)
    elif q.related_user_uuid is not None:
        feed = ("user", parse_id(q.related_user_uuid) or "")
    page = service.stats(call.user, feed, tuple(q.event_type), tuple(q.feature), q.page_request())
    return listed(call, page, EventStatsOut, _data)
