"""Resources in their consumer customer's partition (`CUST#<c>` / `RES#<p>#<r>`): a project's
resources share a prefix.

gsi1 `RESOURCES` / `<r>` finds a resource by id alone and lists every resource for staff (newest
first); gsi2 `PRES#<provider customer>` / `<offering>#<r>` lists a service provider's resources, one
offering's with a prefix. A resource is counted in its project's and customer's nc_resource_count
from its creation (`add`, in the Create order's transaction) until it is Terminated (the service
releases both counts in the transaction that terminates it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields as dc_fields
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.domain.errors import Conflict
from chalicelib.domain.quotas import RESOURCE_COUNT
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import ResourceState
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import Source
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, customers, keys, pages, projects
from chalicelib.store.items import BaseItem, ResourceItem
from chalicelib.store.pages import Listing, everything
from chalicelib.store.unit_of_work import LOST_RACE, transaction, update_alone

COUNTER = counters.RESOURCES  # staff's total, kept by the stream consumer (store/counters.py)

_KEYED = {"id", "name", "state", "customer_id", "project_id", "offering_id", "provider_id"}
_KEYED |= {"created", "modified", "current_usages", "version"}
_DOC_FIELDS = tuple(f.name for f in dc_fields(Resource) if f.name not in _KEYED)

# The slow path's 400: what is listed, and the filters that narrow the request.
NARROW = ("resources", "customer_uuid=, project_uuid=, provider_uuid= or offering_uuid=")


def _to_doc(resource: Resource) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name in _DOC_FIELDS:
        value = getattr(resource, name)
        if isinstance(value, date):
            value = value.isoformat()
        elif name == "report":
            value = [dict(section) for section in value]
        elif isinstance(value, dict) or hasattr(value, "items"):
            value = dict(value)
        doc[name] = value
    return doc


def _from_doc(doc: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in doc.items() if k in _DOC_FIELDS}
    if values.get("end_date"):
        values["end_date"] = date.fromisoformat(values["end_date"])
    if values.get("last_sync"):
        values["last_sync"] = datetime.fromisoformat(values["last_sync"])
    if "limits" in values:
        values["limits"] = {k: int(v) for k, v in values["limits"].items()}
    if "report" in values:
        values["report"] = tuple(values["report"])
    return values


def _from_item(item: ResourceItem) -> Resource:
    return Resource(
        id=item.resource_id,
        name=item.name,
        state=ResourceState(item.state),
        customer_id=item.customer_id,
        project_id=item.project_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        created=item.created,
        modified=item.modified,
        current_usages=dict(item.current_usages or {}),
        version=int(item.version),
        **_from_doc(item.fields or {}),
    )


def _key(resource: Resource) -> ResourceItem:
    return ResourceItem(
        pk=keys.customer_pk(resource.customer_id), sk=keys.resource_sk(resource.project_id, resource.id)
    )


def _item(resource: Resource) -> ResourceItem:
    return ResourceItem(
        pk=keys.customer_pk(resource.customer_id),
        sk=keys.resource_sk(resource.project_id, resource.id),
        gsi1pk=keys.RESOURCES,
        gsi1sk=resource.id,
        gsi2pk=keys.provider_resources(resource.provider_id),
        gsi2sk=keys.by_offering_sk(resource.offering_id, resource.id),
        resource_id=resource.id,
        customer_id=resource.customer_id,
        project_id=resource.project_id,
        offering_id=resource.offering_id,
        provider_id=resource.provider_id,
        name=resource.name,
        state=resource.state.value,
        created=resource.created,
        modified=resource.modified,
        current_usages=dict(resource.current_usages),
        fields=_to_doc(resource),
        version=resource.version,
    )


def get(resource_id: str) -> Resource | None:
    """The resource with this id (one gsi1 Query; eventually consistent), or None."""
    for item in BaseItem.gsi1.query(keys.RESOURCES, BaseItem.gsi1sk == resource_id):
        if isinstance(item, ResourceItem):
            return _from_item(item)
    return None


def load(customer_id: str, project_id: str, resource_id: str) -> Resource | None:
    """The resource as stored now, before a change: one consistent GetItem of its partition (`get`
    is the gsi1 lookup that names it; it may be a version behind)."""
    try:
        item = ResourceItem.get(
            keys.customer_pk(customer_id), keys.resource_sk(project_id, resource_id), consistent_read=True
        )
    except ResourceItem.DoesNotExist:
        return None
    return _from_item(item)


def add(uow: Work, resource: Resource) -> Resource:
    """Create the resource and count it against its project's and customer's nc_resource_count,
    each refused atomically at its limit (Waldur's quota 400)."""
    stored = replace(resource, version=1)
    transaction(uow).put(_item(stored), condition=ResourceItem.pk.does_not_exist())
    customers.take_one(uow, resource.customer_id, RESOURCE_COUNT)
    projects.take_one(uow, resource.customer_id, resource.project_id, RESOURCE_COUNT)
    return stored


def release_count(uow: Work, resource: Resource) -> None:
    """The resource stops counting (it became Terminated in this unit of work)."""
    customers.release_one(uow, resource.customer_id, RESOURCE_COUNT)
    projects.release_one(uow, resource.customer_id, resource.project_id, RESOURCE_COUNT)


def save_changes(uow: Work, before: Resource, after: Resource) -> Resource:
    """Write what differs between `before` and `after`, if nobody changed the resource meanwhile."""
    actions: list[Action] = [ResourceItem.version.add(1), ResourceItem.modified.set(after.modified)]
    if after.name != before.name:
        actions.append(ResourceItem.name.set(after.name))
    if after.state != before.state:
        actions.append(ResourceItem.state.set(after.state.value))
    if after.current_usages != before.current_usages:
        actions.append(ResourceItem.current_usages.set(dict(after.current_usages)))
    doc = _to_doc(after)
    if doc != _to_doc(before):
        actions.append(ResourceItem.fields.set(doc))
    version = before.version + 1
    condition = ResourceItem.version == before.version

    def landed(found: BaseItem) -> bool:
        """The stored item is this change (its version, with its fields)."""
        return (
            isinstance(found, ResourceItem) and int(found.version) == version and _from_item(found) == stored
        )

    stored = replace(after, version=version)
    # The provider's bookkeeping (refresh_last_sync/, set_backend_id/, ...) is a unit's only write.
    alone = update_alone(_key(before), actions, condition, landed, Conflict(LOST_RACE))
    transaction(uow).update(
        _key(before), actions, condition=condition, on_conflict=Conflict(LOST_RACE), alone=alone
    )
    return stored


# --- listings ---------------------------------------------------------------------------------------
def listing_all(*, descending: bool = True) -> Listing:
    """Every resource (gsi1 `RESOURCES`), newest first; the total is the resources counter."""
    return everything(keys.RESOURCES, ResourceItem, COUNTER, descending=descending, narrow=NARROW)


def _listing(source: Source) -> Listing:
    """A consumer customer's resources (one project's: a prefix of its partition), a service
    provider's (gsi2: one offering's with a prefix), or every resource."""
    return pages.of_source(
        source,
        ResourceItem,
        project_prefix=keys.resource_project_prefix,
        all_in_customer=keys.RESOURCE_PREFIX,
        provider_partition=keys.provider_resources,
        everything_else=listing_all,
        narrow=NARROW,
    )


def read(sources: Sequence[Source], *, bounded: bool) -> list[Resource]:
    """The resources of `sources`, each once, oldest first. `bounded`: the caller filters or sorts
    them in memory, so the read stops after `filter_read_limit` items with a 400 asking to narrow
    the request."""
    return pages.read_rows([_listing(s) for s in sources], _from_item, bounded=bounded)


def newest_page(request: PageRequest, *, descending: bool = True) -> Page[Resource]:
    """Page `request` of every resource (staff's list), newest first unless `descending` is False:
    one Query whatever the table holds; the total is the stream-kept resources counter."""
    return pages.rows_page(listing_all(descending=descending), _from_item, request.page, request.page_size)
