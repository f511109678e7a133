"""Per-user usages in their resource's consumer customer's partition
(`CUST#<c>` / `UUSAGE#<p>#<r>#<billing period>#<component type>#<username>`): one item per component
usage and username, so the users of one component usage share a prefix and a new report for the
same username overwrites its item.

gsi1 `UUSAGES` / `<id>` finds one by id alone and lists every one for staff (newest first); gsi2
`PUUSAGE#<provider customer>` / `<offering>#<id>` lists a service provider's, one offering's with a
prefix. The `component_user_usages` counter (stream-kept) counts every one made (none is deleted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from pynamodb.expressions.condition import Condition

from chalicelib.domain.errors import Conflict
from chalicelib.domain.user_usages import ComponentUserUsage
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import Source
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, UserUsageItem
from chalicelib.store.pages import Listing, everything
from chalicelib.store.unit_of_work import LOST_RACE, put_alone, transaction

COUNTER = counters.USER_USAGES

_DOC_FIELDS = (
    "offering_user_id",
    "description",
    "backend_id",
    "measured_unit",
    "resource_name",
    "offering_name",
    "project_name",
    "customer_name",
)

# The slow path's 400: what is listed, and the filters that narrow the request.
NARROW = ("user usages", "customer_uuid=, project_uuid=, resource_uuid= or offering_uuid=")


def _from_item(item: UserUsageItem) -> ComponentUserUsage:
    doc = {k: v for k, v in (item.fields or {}).items() if k in _DOC_FIELDS}
    return ComponentUserUsage(
        id=item.user_usage_id,
        component_usage_id=item.component_usage_id,
        resource_id=item.resource_id,
        customer_id=item.customer_id,
        project_id=item.project_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        component_type=item.component_type,
        billing_period=date.fromisoformat(item.billing_period),
        username=item.username,
        amount=Decimal(item.amount),
        date=item.date,
        created=item.created,
        modified=item.modified,
        version=int(item.version),
        **doc,
    )


def _sk(usage: ComponentUserUsage) -> str:
    period = usage.billing_period.isoformat()
    return keys.user_usage_sk(
        usage.project_id, usage.resource_id, period, usage.component_type, usage.username
    )


def _item(usage: ComponentUserUsage) -> UserUsageItem:
    return UserUsageItem(
        pk=keys.customer_pk(usage.customer_id),
        sk=_sk(usage),
        gsi1pk=keys.USER_USAGES,
        gsi1sk=usage.id,
        gsi2pk=keys.provider_user_usages(usage.provider_id),
        gsi2sk=keys.by_offering_sk(usage.offering_id, usage.id),
        user_usage_id=usage.id,
        component_usage_id=usage.component_usage_id,
        resource_id=usage.resource_id,
        customer_id=usage.customer_id,
        project_id=usage.project_id,
        offering_id=usage.offering_id,
        provider_id=usage.provider_id,
        component_type=usage.component_type,
        billing_period=usage.billing_period.isoformat(),
        username=usage.username,
        amount=str(usage.amount),
        date=usage.date,
        created=usage.created,
        modified=usage.modified,
        fields={name: getattr(usage, name) for name in _DOC_FIELDS},
        version=usage.version,
    )


def get(user_usage_id: str) -> ComponentUserUsage | None:
    """The per-user usage with this id (one gsi1 Query; eventually consistent), or None."""
    for item in BaseItem.gsi1.query(keys.USER_USAGES, BaseItem.gsi1sk == user_usage_id):
        if isinstance(item, UserUsageItem):
            return _from_item(item)
    return None


def of_component_usage(
    customer_id: str, project_id: str, resource_id: str, billing_period: date, component_type: str
) -> list[ComponentUserUsage]:
    """The per-user usages of one component usage, read consistently: one Query of its prefix
    (a component usage has one per user of its resource)."""
    prefix = keys.user_usage_slot_prefix(project_id, resource_id, billing_period.isoformat(), component_type)
    partition = keys.customer_pk(customer_id)
    found = BaseItem.query(partition, BaseItem.sk.startswith(prefix), consistent_read=True)
    return [_from_item(i) for i in found if isinstance(i, UserUsageItem)]


def save(
    uow: Work, changes: list[tuple[ComponentUserUsage | None, ComponentUserUsage]]
) -> list[ComponentUserUsage]:
    """Write each new per-user usage, or each new report over `before` if nobody changed it
    meanwhile (a lost race is a 409 and nothing is written)."""
    stored: list[ComponentUserUsage] = []
    for before, after in changes:
        made = replace(after, version=1 if before is None else before.version + 1)
        condition: Condition = (
            UserUsageItem.pk.does_not_exist() if before is None else UserUsageItem.version == before.version
        )
        item = _item(made)
        # One changed share alone in its unit goes as a single PutItem (half a transaction's units).
        alone = put_alone(item, condition, Conflict(LOST_RACE)) if before is not None else None
        transaction(uow).put(item, condition=condition, on_conflict=Conflict(LOST_RACE), alone=alone)
        stored.append(made)
    return stored


# --- listings -----------------------------------------------------------------------------------------
def listing_all(*, descending: bool = True) -> Listing:
    """Every per-user usage (gsi1 `UUSAGES`), newest first; the total is its counter."""
    return everything(keys.USER_USAGES, UserUsageItem, COUNTER, descending=descending, narrow=NARROW)


def _listing(source: Source) -> Listing:
    return pages.of_source(
        source,
        UserUsageItem,
        project_prefix=keys.user_usage_project_prefix,
        all_in_customer=keys.USER_USAGE_PREFIX,
        provider_partition=keys.provider_user_usages,
        everything_else=listing_all,
        narrow=NARROW,
    )


def read(sources: Sequence[Source], *, bounded: bool) -> list[ComponentUserUsage]:
    """The per-user usages of `sources`, each once, oldest first (`bounded`: stop after
    `filter_read_limit` items with the 400 asking to narrow the request)."""
    return pages.read_rows([_listing(s) for s in sources], _from_item, bounded=bounded)


def newest_page(request: PageRequest, *, descending: bool = True) -> Page[ComponentUserUsage]:
    """Page `request` of every per-user usage (staff's list): one Query whatever the table holds."""
    return pages.rows_page(listing_all(descending=descending), _from_item, request.page, request.page_size)
