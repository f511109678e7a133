"""`/api/events/`: the audit log, read-only. Staff and support read all of it; others read the feed
of a scope they may see (`?scope=<url>`), and get an empty list without one, as in Waldur."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, RootModel

from chalicelib.api.fields import UuidField, object_url
from chalicelib.api.rest import (
    Call,
    Counted,
    FieldsQuery,
    Listed,
    ListQuery,
    QueryModel,
    ResponseModel,
    endpoint,
    object_id,
    render,
)
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.events import Event
from chalicelib.services import events as service
from chalicelib.services.paging import Ordering

bp = Blueprint(__name__)
TAG = "events"


class EventOut(ResponseModel):
    uuid: str
    created: datetime
    event_type: str
    message: str
    context: dict[str, Any]


def _is_scope(value: str) -> bool:
    try:
        service.scope_reference(value)
    except ValidationError:
        return False
    return True


# A time as Unix seconds, within the years 1 to 9999 (as a datetime holds it): a larger number
# overflowed the id range it becomes (a 500), and infinity is no time.
UnixSeconds = Annotated[
    float, Field(ge=-62_135_596_800, le=253_402_300_799, allow_inf_nan=False, description="Unix seconds")
]


class EventFilterQuery(QueryModel):
    event_type: list[str] = Field(default_factory=list)
    feature: list[str] = Field(default_factory=list)
    # The URL of a customer, project, user, resource or offering, whose feed to read. Whether that
    # object exists and is the caller's to see is not the data's shape: a feed the caller may not
    # read is an empty list (services/events).
    scope: object_url(service.SCOPE_COLLECTIONS, _is_scope, service.INVALID_SCOPE) | None = None  # type: ignore[valid-type]
    created_from: UnixSeconds | None = None
    created_to: UnixSeconds | None = None
    message: str | None = None
    customer_uuid: UuidField | None = None
    project_uuid: UuidField | None = None
    user_uuid: UuidField | None = None
    # HomePort's user event log sends it (Waldur's old Elasticsearch filter, "leave out the resource
    # `update` group"); today's Waldur has no such filter and ignores it: so does Cirrus (checked as a
    # boolean, which is what HomePort sends).
    exclude_extra: bool | None = None


class EventQuery(ListQuery, EventFilterQuery):
    ordering_fields = ("created",)


class CountQuery(EventFilterQuery):
    o: str | None = None


class CountOut(ResponseModel):
    count: int


class EventGroupsOut(RootModel[dict[str, list[str]]]):
    pass


class ScopeTypesOut(RootModel[list[str]]):
    pass


def _filters(q: EventFilterQuery, o: str | None) -> service.EventFilters:
    return service.EventFilters(
        event_types=tuple(q.event_type),
        features=tuple(q.feature),
        scope=q.scope,
        created_from=q.created_from,
        created_to=q.created_to,
        message=q.message,
        customer_uuid=q.customer_uuid,
        project_uuid=q.project_uuid,
        user_uuid=q.user_uuid,
        newest_first=Ordering.parse(o) != Ordering("created"),  # `o=created`: oldest first
    )


def to_data(event: Event) -> dict[str, Any]:
    return {
        "uuid": event.id,
        "created": event.created,
        "event_type": event.event_type,
        "message": event.message,
        "context": event.context,
    }


@endpoint(
    bp,
    "/api/events",
    "GET",
    name="events_list",
    tag=TAG,
    query=EventQuery,
    response=EventOut,
    many=True,
    summary="List events (without `scope`, staff and support only)",
)
def list_events(call: Call) -> Any:
    q: EventQuery = call.query
    page = q.page_request()
    found = service.list_events(call.user, _filters(q, q.o), page)
    return Listed([render(EventOut, to_data(e), q.field) for e in found.items], found.total, page)


@endpoint(
    bp,
    "/api/events/count",
    "GET",
    name="events_count",
    tag=TAG,
    query=CountQuery,
    response=CountOut,
    summary="Count the events the list would show",
)
def count_events(call: Call) -> Any:
    q: CountQuery = call.query
    count = service.count_events(call.user, _filters(q, q.o))
    return Counted({"count": count}, count)  # HEAD's X-Result-Count is the count itself


@endpoint(
    bp,
    "/api/events/event_groups",
    "GET",
    name="events_event_groups",
    tag=TAG,
    response=EventGroupsOut,
    summary="Event groups (the `feature` filter) and their event types",
)
def event_groups(call: Call) -> Any:
    return service.event_groups()


@endpoint(
    bp,
    "/api/events/scope_types",
    "GET",
    name="events_scope_types",
    tag=TAG,
    response=ScopeTypesOut,
    summary="The kinds of object whose events `scope=` can select",
)
def scope_types(call: Call) -> Any:
    return service.scope_types()


@endpoint(
    bp, "/api/events/{uuid}", "GET", name="events_retrieve", tag=TAG, query=FieldsQuery, response=EventOut
)
def retrieve_event(call: Call, uuid: str) -> Any:
    event = service.get_event(call.user, object_id(uuid, "Event"))
    return render(EventOut, to_data(event), call.query.field)
