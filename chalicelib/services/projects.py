"""Project use cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import events
from chalicelib.domain import projects as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.projects import Project
from chalicelib.domain.rbac import Scope
from chalicelib.domain.roles import P, ScopeType
from chalicelib.services import access as access_service
from chalicelib.services import customers as customer_service
from chalicelib.services import memberships
from chalicelib.services.paging import Ordering, Page, PageRequest
from chalicelib.services.ports import grants, unit_of_work
from chalicelib.store import counters, pages
from chalicelib.store import customers as customer_store
from chalicelib.store import projects as store

MODEL = "Project"
INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."


@dataclass(frozen=True)
class ProjectFilters:
    customers: Sequence[str] = ()
    customer_name: str | None = None
    name: str | None = None
    name_exact: str | None = None
    description: str | None = None
    query: str | None = None

    def predicate(self) -> Any:
        checks = []
        if self.name is not None:
            name = self.name.lower()
            checks.append(lambda p: name in p.name.lower())
        if self.name_exact is not None:
            exact = self.name_exact
            checks.append(lambda p: p.name == exact)
        if self.customer_name is not None:
            customer_name = self.customer_name.lower()
            checks.append(lambda p: customer_name in p.customer_name.lower())
        if self.description is not None:
            description = self.description.lower()
            checks.append(lambda p: description in p.description.lower())
        if self.query is not None:
            query = self.query
            checks.append(lambda p: p.matches_query(query))
        if not checks:
            return None
        return lambda item: all(
            check(item if isinstance(item, Project) else store.from_item(item)) for check in checks
        )


_SORT_KEYS = {
    "name": lambda item: item.name.lower(),
    "customer_name": lambda item: item.customer_name.lower(),
}
ORDERING_FIELDS = ("name", "created", "customer_name")


def get_visible(principal: Principal, project_id: str) -> Project:
    project = store.get(project_id)
    if project is None or not access_service.access(principal).sees_project(project.id, project.customer_id):
        raise NotFound(MODEL)
    return project


def for_change(principal: Principal, project_id: str) -> Project:
    """The project as stored now (`store.load`: its version is the latest), if `principal` sees it;
    NotFound otherwise. Every read that a versioned write follows goes through here."""
    project = store.load(project_id)
    if project is None or not access_service.access(principal).sees_project(project.id, project.customer_id):
        raise NotFound(MODEL)
    return project


def scope(project: Project) -> Scope:
    return Scope(ScopeType.PROJECT, project.id, project.customer_id, project.name)


def list_projects(
    principal: Principal, filters: ProjectFilters, ordering: Ordering, request: PageRequest
) -> Page[Any]:
    if not access_service.access(principal).reads_everything:
        return _own_projects(principal, filters, ordering, request)
    predicate = filters.predicate()
    order_by = _SORT_KEYS.get(ordering.field or "")
    # Default and `o=-created`: newest first, the order of the keys.
    newest_first = ordering.field is None or ordering.descending
    customer_ids = list(dict.fromkeys(filters.customers))
    if len(customer_ids) > 1:
        return _merge(customer_ids, predicate, order_by, ordering, newest_first, request)
    customer_id = customer_ids[0] if customer_ids else None
    total = None
    if predicate is None and order_by is None:
        total = _live_count(customer_id)
        if total is None:
            return Page([], 0)
    listing = store.listing(
        customer_id=customer_id,
        descending=newest_first,
        total=total,
        predicate=predicate,
        order_by=order_by,
        order_descending=ordering.descending,
    )
    if customer_id is None:  # every project: the platform-wide counter, which lags (store/counters.py)
        listing = replace(listing, total_lags=True)
    page = pages.fetch_page(listing, request.page, request.page_size)
    return Page([store.from_item(i) for i in page.items], page.total)


def _own_projects(
    principal: Principal, filters: ProjectFilters, ordering: Ordering, request: PageRequest
) -> Page[Any]:
    """What a caller without global read sees: every project of the customers where they hold a
    customer role (one Query each), and the projects where they hold a role (one BatchGetItem)."""
    rights = access_service.access(principal)
    wanted = set(filters.customers)
    whole = sorted(c for c in rights.customer_role_ids() if not wanted or c in wanted)
    items = [i for c in whole for i in pages.read_all(store.listing(customer_id=c))]
    single = {
        p: c for p, c in rights.project_grants().items() if c not in whole and (not wanted or c in wanted)
    }
    found = [store.from_item(i) for i in items] + store.get_many(single)
    predicate = filters.predicate()
    rows = [p for p in found if predicate is None or predicate(p)]
    order_by = _SORT_KEYS.get(ordering.field or "")
    if order_by is not None:
        rows.sort(key=order_by, reverse=ordering.descending)
    else:
        rows.sort(key=lambda p: p.id, reverse=ordering.field is None or ordering.descending)
    start = (request.page - 1) * request.page_size
    return Page(rows[start : start + request.page_size], len(rows))


def _live_count(customer_id: str | None) -> int | None:
    if customer_id is None:
        return counters.value(counters.PROJECTS)
    customer = customer_store.get(customer_id)
    return None if customer is None else customer.projects_count


def _merge(
    customer_ids: list[str],
    predicate: Any,
    order_by: Any,
    ordering: Ordering,
    newest_first: bool,
    request: PageRequest,
) -> Page[Any]:
    """Projects of several customers (`?customer=a,b`): read each partition (bounded between them:
    `pages.read_filtered`), then order and page."""
    listings = [store.listing(customer_id=c, predicate=predicate) for c in customer_ids]
    items = pages.read_filtered(listings)
    if order_by is not None:
        items.sort(key=order_by, reverse=ordering.descending)
    else:
        items.sort(key=lambda item: item.project_id, reverse=newest_first)
    start = (request.page - 1) * request.page_size
    return Page([store.from_item(i) for i in items[start : start + request.page_size]], len(items))


def create_project(ctx: EventContext, customer_id: str | None, fields: Mapping[str, Any]) -> Project:
    principal = ctx.actor
    rights = access_service.access(principal)
    visible = customer_id is not None and rights.sees_customer(customer_id)
    customer = customer_store.get(customer_id) if customer_id and visible else None
    if customer is None:
        raise ValidationError.field("customer", INVALID_HYPERLINK)
    rights.require(P.CREATE_PROJECT, Scope(ScopeType.CUSTOMER, customer.id, customer.id, customer.name))
    customer.require_available()
    project = Project(
        id=new_id(),
        customer_id=customer.id,
        customer_name=customer.name,
        customer_abbreviation=customer.abbreviation,
        customer_native_name=customer.native_name,
        created=utcnow(),
        **fields,
    )
    project.check_dates()
    uow = unit_of_work()
    store.add(uow, project)
    uow.record(domain.event(project, events.CREATION, ctx))
    uow.commit()
    return replace(project, version=1)


def update_project(ctx: EventContext, project_id: str, changes: Mapping[str, Any]) -> Project:
    principal = ctx.actor
    before = for_change(principal, project_id)
    rights = access_service.access(principal)
    rights.require(P.UPDATE_PROJECT, scope(before))
    after = replace(before, **changes)
    after.check_dates()
    if after.end_date != before.end_date:
        # Waldur: ending a project is deciding its fate, PROJECT.DELETE on its customer (an owner's),
        # not the project manager's PROJECT.UPDATE.
        rights.require(P.DELETE_PROJECT, _customer_scope(before))
    if after == before:
        return before
    customer_service.require_available(before.customer_id)
    uow = unit_of_work()
    store.save_changes(uow, before, after)
    uow.record(domain.event(after, events.UPDATE, ctx))
    uow.commit()
    return replace(after, version=before.version + 1)


def delete_project(ctx: EventContext, project_id: str) -> None:
    principal = ctx.actor
    project = for_change(principal, project_id)
    access_service.access(principal).require(P.DELETE_PROJECT, scope(project))
    customer_service.require_available(project.customer_id)
    project.check_removable()
    # Its team goes first (each revocation moves the customer's user count and writes its event), so
    # a deletion cut short can run again while the project is still there to find; a grant added
    # meanwhile is revoked after the deletion.
    _revoke_team(ctx, project)
    uow = unit_of_work()
    store.remove(uow, project, utcnow())
    uow.record(domain.event(project, events.DELETION, ctx))
    uow.commit()
    _revoke_team(ctx, project)


def _customer_scope(project: Project) -> Scope:
    return Scope(ScopeType.CUSTOMER, project.customer_id, project.customer_id, project.customer_name)


def _revoke_team(ctx: EventContext, project: Project) -> None:
    team = grants.for_scope(project.customer_id, ScopeType.PROJECT, project.id)
    if team:
        memberships.revoke_all(ctx, team, scope(project))
