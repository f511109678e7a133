"""Component usages in their resource's consumer customer's partition
(`CUST#<c>` / `USAGE#<p>#<r>#<billing period>#<component type>`): one item per resource, period and
component, so a resource's usages share a prefix and a new report of the same period overwrites
its item.

gsi1 `USAGES` / `<u>` finds a usage by id alone and lists every usage for staff (newest first);
gsi2 `PUSAGE#<provider customer>` / `<offering>#<u>` lists a service provider's usages, one
offering's with a prefix. The `component_usages` counter counts every usage made (none is deleted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from chalicelib.domain.errors import Conflict
from chalicelib.domain.usages import ComponentUsage
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import Source
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, UsageItem
from chalicelib.store.pages import Listing, everything
from chalicelib.store.unit_of_work import LOST_RACE, transaction

COUNTER = counters.USAGES  # kept by the stream consumer (store/counters.py)

_DOC_FIELDS = (
    "description",
    "missing_usage_policy",
    "name",
    "measured_unit",
    "resource_name",
    "offering_name",
    "project_name",
    "customer_name",
    "modified_by_id",
    "modified_by_username",
)

# The slow path's 400: what is listed, and the filters that narrow the request.
NARROW = ("usages", "customer_uuid=, project_uuid=, resource_uuid= or offering_uuid=")


def _from_item(item: UsageItem) -> ComponentUsage:
    doc = {k: v for k, v in (item.fields or {}).items() if k in _DOC_FIELDS}
    return ComponentUsage(
        id=item.usage_id,
        resource_id=item.resource_id,
        customer_id=item.customer_id,
        project_id=item.project_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        component_type=item.component_type,
        billing_period=date.fromisoformat(item.billing_period),
        amount=Decimal(item.amount),
        date=item.date,
        created=item.created,
        modified=item.modified,
        version=int(item.version),
        **doc,
    )


def _item(usage: ComponentUsage) -> UsageItem:
    period = usage.billing_period.isoformat()
    return UsageItem(
        pk=keys.customer_pk(usage.customer_id),
        sk=keys.usage_sk(usage.project_id, usage.resource_id, period, usage.component_type),
        gsi1pk=keys.USAGES,
        gsi1sk=usage.id,
        gsi2pk=keys.provider_usages(usage.provider_id),
        gsi2sk=keys.by_offering_sk(usage.offering_id, usage.id),
        usage_id=usage.id,
        resource_id=usage.resource_id,
        customer_id=usage.customer_id,
        project_id=usage.project_id,
        offering_id=usage.offering_id,
        provider_id=usage.provider_id,
        component_type=usage.component_type,
        billing_period=period,
        amount=str(usage.amount),
        date=usage.date,
        created=usage.created,
        modified=usage.modified,
        fields={name: getattr(usage, name) for name in _DOC_FIELDS},
        version=usage.version,
    )


def get(usage_id: str) -> ComponentUsage | None:
    """The usage with this id (one gsi1 Query; eventually consistent), or None."""
    for item in BaseItem.gsi1.query(keys.USAGES, BaseItem.gsi1sk == usage_id):
        if isinstance(item, UsageItem):
            return _from_item(item)
    return None


def of_resource(customer_id: str, project_id: str, resource_id: str) -> list[ComponentUsage]:
    """Every usage of a resource (all periods and components), read consistently: one Query."""
    found = BaseItem.query(
        keys.customer_pk(customer_id),
        BaseItem.sk.startswith(keys.usage_resource_prefix(project_id, resource_id)),
        consistent_read=True,
    )
    return [_from_item(i) for i in found if isinstance(i, UsageItem)]


def save(uow: Work, changes: list[tuple[ComponentUsage | None, ComponentUsage]]) -> list[ComponentUsage]:
    """Write each new usage or new report over `before`, if nobody changed it meanwhile (the
    stream consumer counts the new ones in the staff's total)."""
    stored: list[ComponentUsage] = []
    for before, after in changes:
        if before is None:
            made = replace(after, version=1)
            transaction(uow).put(
                _item(made), condition=UsageItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE)
            )
        else:
            made = replace(after, version=before.version + 1)
            condition = UsageItem.version == before.version
            transaction(uow).put(_item(made), condition=condition, on_conflict=Conflict(LOST_RACE))
        stored.append(made)
    return stored


# --- listings -----------------------------------------------------------------------------------------
def listing_all(*, descending: bool = True) -> Listing:
    """Every usage (gsi1 `USAGES`), newest first; the total is the usages counter."""
    return everything(keys.USAGES, UsageItem, COUNTER, descending=descending, narrow=NARROW)


def _listing(source: Source) -> Listing:
    """A consumer customer's usages (one project's: a prefix of its partition), a service
    provider's (gsi2: one offering's with a prefix), or every usage."""
    return pages.of_source(
        source,
        UsageItem,
        project_prefix=keys.usage_project_prefix,
        all_in_customer=keys.USAGE_PREFIX,
        provider_partition=keys.provider_usages,
        everything_else=listing_all,
        narrow=NARROW,
    )


def read(sources: Sequence[Source], *, bounded: bool) -> list[ComponentUsage]:
    """The usages of `sources`, each once, oldest first. `bounded`: the caller filters or sorts
    them in memory, so the read stops after `filter_read_limit` items with a 400 asking to narrow
    the request."""
    return pages.read_rows([_listing(s) for s in sources], _from_item, bounded=bounded)


def newest_page(request: PageRequest, *, descending: bool = True) -> Page[ComponentUsage]:
    """Page `request` of every usage (staff's list), newest first unless `descending` is False: one
    Query whatever the table holds; the total is the stream-kept usages counter."""
    return pages.rows_page(listing_all(descending=descending), _from_item, request.page, request.page_size)
