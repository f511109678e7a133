"""Project items live in their customer's partition (`CUST#<c>` / `PROJ#<p>`).

gsi1 (`PROJ#<p>`) finds a project from its id alone; gsi2 (`PROJECTS`) lists every live project by
creation. Removal is soft: the item moves to `RMPROJ#<p>` (same transaction), leaving the live
prefix and the sparse gsi2 list, but stays readable for the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain.errors import Conflict, DomainError, NotFound, QuotaExceeded
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import PROJECT_COUNT, PROJECT_QUOTAS, RESOURCE_COUNT, UNLIMITED
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import ProjectQuery
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, customers, keys, pages
from chalicelib.store.items import BaseItem, ProjectItem
from chalicelib.store.pages import Listing
from chalicelib.store.table import connection
from chalicelib.store.unit_of_work import LOST_RACE, MAX_ITEMS, transaction

_DOC_FIELDS = ("description", "backend_id", "start_date", "end_date", "is_industry", "slug", "customer_slug")
HAS_RESOURCES = "Project has resources. Please remove them before deleting the project."

# The slow path's 400: what is listed, and the filters that narrow the request.
NARROW = ("projects", "customer=")


def _to_doc(project: Project) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name in _DOC_FIELDS:
        value = getattr(project, name)
        doc[name] = value.isoformat() if isinstance(value, date) else value
    return doc


def _from_doc(doc: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in doc.items() if k in _DOC_FIELDS}
    for name in ("start_date", "end_date"):
        if values.get(name):
            values[name] = date.fromisoformat(values[name])
    return values


def _from_item(item: ProjectItem) -> Project:
    return Project(
        id=item.project_id,
        customer_id=item.customer_id,
        name=item.name,
        created=item.created,
        customer_name=item.customer_name,
        customer_abbreviation=item.customer_abbreviation,
        customer_native_name=item.customer_native_name,
        removed=item.removed,
        quota_usage={k: int(v) for k, v in (item.quota_usage.as_dict() or {}).items()},
        quota_limits={k: int(v) for k, v in (item.quota_limits.as_dict() or {}).items()},
        version=int(item.version),
        **_from_doc(item.fields or {}),
    )


def _item(project: Project, removed: datetime | None = None) -> ProjectItem:
    live = removed is None
    return ProjectItem(
        pk=keys.customer_pk(project.customer_id),
        sk=keys.project_sk(project.id) if live else keys.removed_project_sk(project.id),
        gsi1pk=keys.project_lookup(project.id),
        gsi1sk=keys.META if live else keys.REMOVED,
        gsi2pk=keys.PROJECTS if live else None,
        gsi2sk=project.id if live else None,
        project_id=project.id,
        customer_id=project.customer_id,
        name=project.name,
        created=project.created,
        customer_name=project.customer_name,
        customer_abbreviation=project.customer_abbreviation,
        customer_native_name=project.customer_native_name,
        fields=_to_doc(project),
        removed=removed,
        quota_usage=project.quota_usage or {q: 0 for q in PROJECT_QUOTAS},
        quota_limits=project.quota_limits or {q: UNLIMITED for q in PROJECT_QUOTAS},
        version=project.version,
    )


def _key(project: Project) -> ProjectItem:
    return ProjectItem(pk=keys.customer_pk(project.customer_id), sk=keys.project_sk(project.id))


def get(project_id: str) -> Project | None:
    """The live project with this id (one gsi1 Query, eventually consistent: for reads; a change
    reads it with `load`), or None."""
    for item in BaseItem.gsi1.query(keys.project_lookup(project_id), BaseItem.gsi1sk == keys.META):
        if isinstance(item, ProjectItem):
            return _from_item(item)
    return None


def load(project_id: str) -> Project | None:
    """The live project as stored now, before a change: gsi1 names its key (a key never changes, so
    a lagging index is good enough for that), then a consistent GetItem of the base item, whose
    version the write will be conditioned on. Two round trips; `get` is one, but may be a version
    behind right after a change (two quick PATCHes would conflict)."""
    for item in BaseItem.gsi1.query(keys.project_lookup(project_id), BaseItem.gsi1sk == keys.META):
        if isinstance(item, ProjectItem):
            return load_in(item.customer_id, project_id)
    return None


def load_in(customer_id: str, project_id: str) -> Project | None:
    """The live project read consistently from its customer's partition (one GetItem), or None."""
    try:
        item = ProjectItem.get(
            keys.customer_pk(customer_id), keys.project_sk(project_id), consistent_read=True
        )
    except ProjectItem.DoesNotExist:
        return None
    return _from_item(item)


def get_many(project_customers: dict[str, str]) -> list[Project]:
    """Live projects by id, given each one's customer (one BatchGetItem per 100)."""
    wanted = [(keys.customer_pk(c), keys.project_sk(p)) for p, c in project_customers.items()]
    return [_from_item(item) for item in ProjectItem.batch_get(wanted)]


def add(uow: Work, project: Project) -> None:
    """Create the project and count it against its customer's quota, atomically."""
    transaction(uow).put(_item(replace(project, version=1)), condition=ProjectItem.pk.does_not_exist())
    customers.take_one(uow, project.customer_id, PROJECT_COUNT)


def save_changes(uow: Work, before: Project, after: Project) -> None:
    actions: list[Action] = [ProjectItem.version.add(1)]
    if after.name != before.name:
        actions.append(ProjectItem.name.set(after.name))
    doc = _to_doc(after)
    if doc != _to_doc(before):
        actions.append(ProjectItem.fields.set(doc))
    transaction(uow).update(
        _key(after),
        actions,
        condition=ProjectItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )


def remove(uow: Work, project: Project, when: datetime) -> None:
    """Soft-delete: move the item out of the live lists, if it is unchanged and holds no resources."""
    transaction(uow).delete(
        _key(project),
        condition=(ProjectItem.version == project.version) & (ProjectItem.quota_usage[RESOURCE_COUNT] == 0),
        on_conflict=lambda: _removal_error(project),
    )
    transaction(uow).put(_item(replace(project, version=project.version + 1), removed=when))
    customers.release_one(uow, project.customer_id, PROJECT_COUNT)


def take_one(uow: Work, customer_id: str, project_id: str, quota: str) -> None:
    """Use one more unit of the live project's `quota`, refused atomically at its limit (as
    `customers.take_one`)."""
    usage = ProjectItem.quota_usage[quota]
    limit = ProjectItem.quota_limits[quota]
    transaction(uow).update(
        ProjectItem(pk=keys.customer_pk(customer_id), sk=keys.project_sk(project_id)),
        [usage.add(1)],
        condition=ProjectItem.pk.exists() & ((limit == UNLIMITED) | (usage < limit)),
        on_conflict=lambda: _quota_error(customer_id, project_id, quota),
    )


def release_one(uow: Work, customer_id: str, project_id: str, quota: str) -> None:
    """Give back one unit of `quota` (the project may have been removed meanwhile: then nothing)."""
    transaction(uow).update(
        ProjectItem(pk=keys.customer_pk(customer_id), sk=keys.project_sk(project_id)),
        [ProjectItem.quota_usage[quota].add(-1)],
        condition=ProjectItem.pk.exists(),
        on_conflict=NotFound("Project"),
    )


def set_quota_limits(uow: Work, project: Project, limits: dict[str, int]) -> None:
    """Set quota limits in place (usage is untouched), if the project is unchanged otherwise."""
    transaction(uow).update(
        _key(project),
        [ProjectItem.version.add(1)] + [ProjectItem.quota_limits[n].set(v) for n, v in limits.items()],
        condition=ProjectItem.version == project.version,
        on_conflict=Conflict(LOST_RACE),
    )


def _quota_error(customer_id: str, project_id: str, quota: str) -> DomainError:
    current = load_in(customer_id, project_id)
    if current is None:
        return NotFound("Project")
    q = next(q for q in current.quotas if q.name == quota)
    return QuotaExceeded(q.name, q.limit, q.usage + 1)


def _removal_error(project: Project) -> Conflict:
    current = load_in(project.customer_id, project.id)
    return Conflict(HAS_RESOURCES if current and current.resources_count else LOST_RACE)


def follow_customer_rename(
    customer_id: str, name: str, abbreviation: str, native_name: str, customer_version: int
) -> int:
    """Copy the customer's names, as of its version `customer_version`, to its live projects;
    returns how many changed.

    The background task of a rename runs it (workflows/customers.py): one keys-only Query, then
    one transaction per 100 projects. Each write is conditional on the project still existing and
    not holding names of this version or a later one already, so a project removed meanwhile is
    skipped rather than resurrected, and a late or repeated task never writes older names over newer.
    """
    found = BaseItem.query(
        keys.customer_pk(customer_id),
        BaseItem.sk.startswith(keys.PROJECT_PREFIX),
        attributes_to_get=["pk", "sk"],
    )
    project_keys = [(item.pk, item.sk) for item in found]
    actions: list[Action] = [
        ProjectItem.customer_name.set(name),
        ProjectItem.customer_abbreviation.set(abbreviation),
        ProjectItem.customer_native_name.set(native_name),
        ProjectItem.customer_version.set(customer_version),
    ]
    older = ProjectItem.customer_version.does_not_exist() | (ProjectItem.customer_version < customer_version)
    changed = 0
    for start in range(0, len(project_keys), MAX_ITEMS):
        changed += _update_all(project_keys[start : start + MAX_ITEMS], actions, older)
    return changed


def _update_all(batch: list[tuple[str, str]], actions: list[Action], condition: Any = None) -> int:
    """Apply `actions` to every item of `batch` that exists (and meets `condition`) in one
    transaction; returns how many. An item that fails the condition is left out, the rest retried."""
    guard = ProjectItem.pk.exists() if condition is None else ProjectItem.pk.exists() & condition
    while batch:
        try:
            with TransactWrite(connection=connection()) as tx:
                for pk, sk in batch:
                    tx.update(
                        ProjectItem(pk=pk, sk=sk), actions, condition=guard, add_version_condition=False
                    )
            return len(batch)
        except TransactWriteError as exc:
            reasons = list(exc.cancellation_reasons or [])
            gone = {i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"}
            if not gone:
                raise
            batch = [key for i, key in enumerate(batch) if i not in gone]
    return 0


# `o=` fields no key orders by: read by creation, then sorted stably (ties stay by creation).
_SORTED_IN_MEMORY: dict[str, Callable[[Any], str]] = {
    "name": lambda project: str(project.name).lower(),
    "customer_name": lambda project: str(project.customer_name).lower(),
}


def of_customer(customer_id: str) -> list[Project]:
    """Every live project of the customer, newest first (one Query of its partition, unbounded: a
    caller's own customers)."""
    return [_from_item(item) for item in pages.read_all(_listing(customer_id=customer_id))]


def page(query: ProjectQuery, request: PageRequest) -> Page[Project]:
    """One page of the live projects `query` selects and its total.

    Unfiltered, by creation, of one customer or of all: one Query of the page, totalled by the
    customer's project count (transactional) or the platform-wide count (which lags:
    store/counters.py). A filter or another order reads the partition (bounded: `pages`), filters
    and sorts in memory; several customers are read one partition each and merged."""
    customer_ids = list(dict.fromkeys(query.customer_ids))
    if len(customer_ids) > 1:
        return _merged(customer_ids, query, request)
    customer_id = customer_ids[0] if customer_ids else None
    chosen = _listing(customer_id=customer_id, descending=query.descending)
    sort_key = _SORTED_IN_MEMORY.get(query.order)
    if sort_key is not None:
        chosen = replace(chosen, order_by=sort_key, descending=query.descending)
    if query.matches is not None:
        chosen = replace(chosen, predicate=_predicate(query.matches))
    if chosen.predicate is None and chosen.order_by is None:
        if customer_id is None:
            chosen = pages.platform_total(chosen, counters.PROJECTS)
        else:
            customer = customers.get(customer_id)
            if customer is None:
                return Page([], 0)
            chosen = replace(chosen, known_total=customer.projects_count)
    found = pages.fetch_page(chosen, request.page, request.page_size)
    return Page([_from_item(item) for item in found.items], found.total)


def _predicate(matches: Callable[[Project], bool]) -> Callable[[Any], bool]:
    return lambda item: matches(_from_item(item))


def _merged(customer_ids: list[str], query: ProjectQuery, request: PageRequest) -> Page[Project]:
    """Projects of several customers (`?customer=a,b`): each partition read (bounded between them:
    `pages.read_filtered`), then ordered (ties by creation) and paged."""
    predicate = None if query.matches is None else _predicate(query.matches)
    listings = [_listing(customer_id=c, predicate=predicate) for c in customer_ids]
    found = [_from_item(item) for item in pages.read_filtered(listings)]
    sort_key = _SORTED_IN_MEMORY.get(query.order)
    if sort_key is None:
        found.sort(key=lambda project: project.id, reverse=query.descending)
    else:
        found.sort(key=lambda project: (sort_key(project), project.id), reverse=query.descending)
    return paginate(found, request)


def _listing(
    *,
    customer_id: str | None = None,
    descending: bool = True,
    total: int | None = None,
    predicate: Any = None,
    order_by: Any = None,
    order_descending: bool = False,
) -> Listing:
    """Live projects, newest first by default: one customer's (its partition) or all (gsi2)."""
    if customer_id is not None:
        return Listing(
            partition=keys.customer_pk(customer_id),
            prefix=keys.PROJECT_PREFIX,
            forward=not descending,
            known_total=total,
            predicate=predicate,
            order_by=order_by,
            descending=order_descending,
            item_type=ProjectItem,
            what=NARROW[0],
            narrow_with=NARROW[1],
        )
    return Listing(
        partition=keys.PROJECTS,
        index="gsi2",
        forward=not descending,
        known_total=total,
        predicate=predicate,
        order_by=order_by,
        descending=order_descending,
        item_type=ProjectItem,
        what=NARROW[0],
        narrow_with=NARROW[1],
    )
