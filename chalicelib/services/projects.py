"""Project use cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import events, rbac
from chalicelib.domain import projects as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.projects import Project
from chalicelib.domain.rbac import Scope
from chalicelib.domain.roles import P, ScopeType
from chalicelib.domain.slugs import CHANGED, UNCHANGED, SlugKind
from chalicelib.domain.slugs import check as rules_check_slug
from chalicelib.services import access as access_service
from chalicelib.services import customers as customer_service
from chalicelib.services import memberships, request_keys, slugs
from chalicelib.services.paging import Ordering, Page, PageRequest, order_rows, paginate
from chalicelib.services.ports import ProjectQuery, grants, unit_of_work
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import projects as store

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
    slug: str | None = None

    def matches(self, project: Project) -> bool:
        """The filters beyond the customers (which the store's keys narrow to)."""
        checks: list[tuple[str | None, str]] = [
            (self.name, project.name),
            (self.customer_name, project.customer_name),
            (self.description, project.description),
        ]
        if any(wanted is not None and wanted.lower() not in value.lower() for wanted, value in checks):
            return False
        if self.name_exact is not None and project.name != self.name_exact:
            return False
        if self.slug is not None and project.slug != self.slug:
            return False
        return self.query is None or project.matches_query(self.query)

    def narrows(self) -> bool:
        return any(
            v is not None
            for v in (self.name, self.name_exact, self.customer_name, self.description, self.query, self.slug)
        )


ORDERING_FIELDS = ("name", "created", "customer_name")

# The in-memory order of a caller's own projects, as the store orders lists (ties by creation).
_ORDER_BY: dict[str, Callable[[Project], Any]] = {
    "created": lambda p: p.id,
    "name": lambda p: (p.name.lower(), p.id),
    "customer_name": lambda p: (p.customer_name.lower(), p.id),
}


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
) -> Page[Project]:
    query = _query(filters, ordering)
    if not access_service.access(principal).reads_everything:
        return _own_projects(principal, filters, query, request)
    return store.page(query, request)


def _query(filters: ProjectFilters, ordering: Ordering) -> ProjectQuery:
    """By `o=name` / `o=customer_name`, else by creation: newest first unless `o=created`."""
    if ordering.field in ("name", "customer_name"):
        order, descending = ordering.field, ordering.descending
    else:
        order, descending = "created", ordering.field is None or ordering.descending
    return ProjectQuery(
        customer_ids=tuple(dict.fromkeys(filters.customers)),
        matches=filters.matches if filters.narrows() else None,
        order=order,
        descending=descending,
    )


def _own_projects(
    principal: Principal, filters: ProjectFilters, query: ProjectQuery, request: PageRequest
) -> Page[Project]:
    """What a caller without global read sees: every project of the customers where they hold a
    customer role (one Query each), and the projects where they hold a role (one BatchGetItem)."""
    rights = access_service.access(principal)
    wanted = set(filters.customers)
    whole = sorted(c for c in rights.customer_role_ids() if not wanted or c in wanted)
    single = {
        p: c for p, c in rights.project_grants().items() if c not in whole and (not wanted or c in wanted)
    }
    found = [p for c in whole for p in store.of_customer(c)] + store.get_many(single)
    rows = [p for p in found if filters.matches(p)]
    ordered = order_rows(rows, Ordering(query.order, query.descending), _ORDER_BY)
    return paginate(ordered, request)


def create_project(ctx: EventContext, customer_id: str | None, fields: Mapping[str, Any]) -> Project:
    """Make a project in a customer (PROJECT.CREATE there); a retry with the request's
    `Idempotency-Key` answers with the project it made (services/request_keys.py)."""
    return request_keys.once(
        ctx,
        lambda: _create_project(ctx, customer_id, fields),
        lambda used: get_visible(ctx.actor, used.object_id),
    )


def _create_project(ctx: EventContext, customer_id: str | None, fields: Mapping[str, Any]) -> Project:
    principal = ctx.actor
    rights = access_service.access(principal)
    visible = customer_id is not None and rights.sees_customer(customer_id)
    customer = customer_store.get(customer_id) if customer_id and visible else None
    if customer is None:
        raise ValidationError.field("customer", INVALID_HYPERLINK)
    customer_scope = Scope(ScopeType.CUSTOMER, customer.id, customer.id, customer.name)
    rights.require(P.CREATE_PROJECT, customer_scope)
    customer.require_available()
    given = dict(fields)
    # Waldur: a slug given on creation counts from staff and PROJECT.SET_SLUG holders; else ignored.
    wanted = given.pop("slug", None) if rights.has(P.SET_PROJECT_SLUG, customer_scope) else None
    given.pop("slug", None)
    project = Project(
        id=new_id(),
        customer_id=customer.id,
        customer_name=customer.name,
        customer_abbreviation=customer.abbreviation,
        customer_native_name=customer.native_name,
        customer_slug=customer.slug,
        created=utcnow(),
        **given,
    )
    project.check_dates()
    project = replace(project, slug=slugs.for_new(SlugKind.PROJECT, project.name, wanted))
    uow = unit_of_work()
    store.add(uow, project)
    slugs.claim(uow, SlugKind.PROJECT, project.slug, project.id)
    request_keys.remember(uow, ctx, project.id)
    uow.record(domain.event(project, events.CREATION, ctx))
    uow.commit()
    return replace(project, version=1)


def update_project(ctx: EventContext, project_id: str, changes: Mapping[str, Any]) -> Project:
    principal = ctx.actor
    before = for_change(principal, project_id)
    rights = access_service.access(principal)
    rights.require(P.UPDATE_PROJECT, scope(before))
    rest = dict(changes)
    rbac.refuse_staff_only(principal, ("slug",), before, rest)
    new_slug = slugs.wanted_change(rest, before.slug)
    after = replace(before, **rest, slug=new_slug or before.slug)
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
    if new_slug:
        slugs.change(uow, SlugKind.PROJECT, before.id, before.slug, new_slug)
    uow.record(domain.event(after, events.UPDATE, ctx))
    uow.commit()
    return replace(after, version=before.version + 1)


def set_slug(ctx: EventContext, project_id: str, given: Any) -> str:
    """`set_slug/`: staff, or a PROJECT.SET_SLUG holder while the project holds no resource (its
    slug may already name accounts on a provider's systems). Returns Waldur's status message."""
    principal = ctx.actor
    before = for_change(principal, project_id)
    access_service.access(principal).require(P.SET_PROJECT_SLUG, scope(before))
    slug = rules_check_slug(given)
    if slug == before.slug:
        return UNCHANGED.format(model="Project")
    if not principal.is_staff and before.resources_count > 0:
        raise ValidationError([domain.SLUG_IN_USE])
    after = replace(before, slug=slug)
    uow = unit_of_work()
    store.save_changes(uow, before, after)
    slugs.change(uow, SlugKind.PROJECT, before.id, before.slug, slug)
    uow.record(domain.event(after, events.UPDATE, ctx))
    uow.commit()
    return CHANGED.format(model="Project")


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
