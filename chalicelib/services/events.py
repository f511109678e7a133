"""The audit log as the API shows it: who may read which feed, filters, one event, counts.

Events are written only with the change they describe (`UnitOfWork.record`); nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.domain import events as domain
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.events import Event
from chalicelib.domain.ids import id_bounds, parse_id
from chalicelib.domain.rbac import Access
from chalicelib.domain.roles import ScopeType
from chalicelib.services import access as access_service
from chalicelib.services import memberships
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import EventQuery
from chalicelib.services.ports import events as store
from chalicelib.services.ports import resources as resource_store

INVALID_SCOPE = "Invalid scope: {} is not the URL of a customer, project, user, resource or offering."

# URL collection → the scope type whose feed it names.
SCOPE_COLLECTIONS = {
    "customers": "customer",
    "projects": "project",
    "users": "user",
    "marketplace-resources": "resource",
    "marketplace-provider-resources": "resource",
    "marketplace-provider-offerings": "offering",
    "marketplace-public-offerings": "offering",
}


@dataclass(frozen=True)
class EventFilters:
    event_types: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    scope: str | None = None
    created_from: float | None = None  # Unix seconds, inclusive
    created_to: float | None = None
    message: str | None = None
    customer_uuid: str | None = None  # Waldur's shortcuts for a customer's / project's feed
    project_uuid: str | None = None
    user_uuid: str | None = None  # the actor
    newest_first: bool = True

    def wanted_types(self) -> frozenset[str] | None:
        """The event types asked for (None: any). `event_type` and `feature` both narrow."""
        wanted: frozenset[str] | None = None
        if self.event_types:
            wanted = frozenset(self.event_types)
        if self.features:
            grouped = frozenset(domain.expand_groups(self.features))
            wanted = grouped if wanted is None else wanted & grouped
        return wanted

    def feed(self) -> tuple[str, str] | None:
        """The one feed to read: `scope`, else the project's, else the customer's (None: all)."""
        if self.scope is not None:
            return scope_reference(self.scope)
        if self.project_uuid is not None:
            return ("project", self.project_uuid)
        if self.customer_uuid is not None:
            return ("customer", self.customer_uuid)
        return None

    def _selecting_field(self) -> str | None:
        """The uuid filter that chose the feed: every event of a scope's feed names that scope in its
        context (that is how it got there), so it needs no test, and the page stays on the fast path."""
        if self.scope is not None:
            return None
        if self.project_uuid is not None:
            return "project_uuid"
        return "customer_uuid" if self.customer_uuid is not None else None

    def predicate(self) -> Callable[[Event], bool] | None:
        types = self.wanted_types()
        needle = (self.message or "").lower() or None
        fields = {
            name: value
            for name, value in (
                ("customer_uuid", self.customer_uuid),
                ("project_uuid", self.project_uuid),
                ("user_uuid", self.user_uuid),
            )
            if value is not None and name != self._selecting_field()
        }
        if types is None and needle is None and not fields:
            return None

        def matches(event: Event) -> bool:
            if types is not None and event.event_type not in types:
                return False
            if any(event.context.get(name) != value for name, value in fields.items()):
                return False
            return needle is None or needle in event.message.lower()

        return matches

    def id_range(self) -> tuple[str, str]:
        start = None if self.created_from is None else int(self.created_from * 1000)
        end = None if self.created_to is None else int(self.created_to * 1000) + 999
        return id_bounds(start, end)


def scope_reference(value: str) -> tuple[str, str]:
    """`https://host/api/projects/<uuid>/` → ("project", id); a 400 on the `scope` field otherwise."""
    parts = [p for p in value.split("?")[0].split("#")[0].split("/") if p]
    if len(parts) >= 2:
        found = parse_id(parts[-1])
        scope_type = SCOPE_COLLECTIONS.get(parts[-2])
        if found is not None and scope_type is not None:
            return scope_type, found
    raise ValidationError.field("scope", INVALID_SCOPE.format(value))


def _readable_feed(principal: Principal, scope_type: str, scope_id: str) -> bool:
    access = access_service.access(principal)
    if access.reads_everything or scope_type == "user":
        return access.sees_feed(scope_type, scope_id, None)
    if scope_type == "resource":
        return _sees_resource_log(access, scope_id)
    customer_id: str | None = None
    if scope_type == "project":
        scope = memberships.find_scope(ScopeType.PROJECT, scope_id)
        if scope is None:
            return False
        customer_id = scope.customer_id
    return access.sees_feed(scope_type, scope_id, customer_id)


def readable_feed(principal: Principal, scope_type: str, scope_id: str) -> bool:
    """Whether the caller may read a scope's feed (`events-stats/` counts by the same rule)."""
    return _readable_feed(principal, scope_type, scope_id)


def _sees_resource_log(access: Access, resource_id: str) -> bool:
    """A resource's log is read by whoever sees its project (its owners, managers and members: HomePort's
    resource details page shows it). Its events name the resource's project, whose log they read already."""
    resource = resource_store.get(resource_id)
    return resource is not None and access.sees_project(resource.project_id, resource.customer_id)


def _query(principal: Principal, filters: EventFilters) -> EventQuery | None:
    """What the caller may read of the log under these filters (None: nothing)."""
    feed = filters.feed()
    if feed is not None:
        if not _readable_feed(principal, *feed):
            return None
    elif not principal.reads_everything:
        return None  # Waldur: without a scope, only staff and support read the log
    return EventQuery(feed, filters.id_range(), filters.newest_first, filters.predicate())


def list_events(principal: Principal, filters: EventFilters, page: PageRequest) -> Page[Event]:
    """The page of the log the caller may read under these filters (an empty one when they may
    read none of it: Waldur answers an empty list, not a 403)."""
    query = _query(principal, filters)
    return Page([], 0) if query is None else store.page(query, page)


def count_events(principal: Principal, filters: EventFilters) -> int:
    query = _query(principal, filters)
    return 0 if query is None else store.count(query)


def get_event(principal: Principal, event_id: str) -> Event:
    found = store.get(event_id)
    if found is None:
        raise NotFound("Event")
    event, scopes = found
    if not access_service.access(principal).sees_event(scopes, event.customer_id):
        raise NotFound("Event")
    return event


def scope_types() -> list[str]:
    return sorted(domain.SCOPE_TYPES)


def event_groups() -> dict[str, list[str]]:
    return {group: sorted(types) for group, types in sorted(domain.EVENT_GROUPS.items())}
