"""Per-user usage limits in their resource's consumer customer's partition
(`CUST#<c>` / `UULIMIT#<p>#<r>#<component>#<offering user>`): one item per resource, component and
offering user (a second limit for the same three is refused by the key's condition), so a resource's
limits share a prefix.

gsi1 `UULIMITS` / `<id>` finds one by id alone and lists every one for staff (newest first); gsi2
`PUULIMIT#<provider customer>` / `<offering>#<id>` lists a service provider's, one offering's with a
prefix. The `component_user_usage_limits` counter (stream-kept) counts the live ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.user_usages import LIMIT_TAKEN, UserUsageLimit
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import Source
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, UserLimitItem
from chalicelib.store.pages import Listing, everything
from chalicelib.store.unit_of_work import LOST_RACE, transaction

COUNTER = counters.USER_LIMITS
_DOC_FIELDS = ("username", "resource_name", "offering_name", "project_name")
NARROW = ("user usage limits", "resource_uuid= or offering_uuid=")


def _from_item(item: UserLimitItem) -> UserUsageLimit:
    doc = {k: v for k, v in (item.fields or {}).items() if k in _DOC_FIELDS}
    return UserUsageLimit(
        id=item.limit_id,
        resource_id=item.resource_id,
        customer_id=item.customer_id,
        project_id=item.project_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        component_id=item.component_id,
        component_type=item.component_type,
        offering_user_id=item.offering_user_id,
        limit=Decimal(item.limit),
        created=item.created,
        modified=item.modified,
        version=int(item.version),
        **doc,
    )


def _key(limit: UserUsageLimit) -> tuple[str, str]:
    sk = keys.user_limit_sk(limit.project_id, limit.resource_id, limit.component_id, limit.offering_user_id)
    return keys.customer_pk(limit.customer_id), sk


def _item(limit: UserUsageLimit) -> UserLimitItem:
    pk, sk = _key(limit)
    return UserLimitItem(
        pk=pk,
        sk=sk,
        gsi1pk=keys.USER_LIMITS,
        gsi1sk=limit.id,
        gsi2pk=keys.provider_user_limits(limit.provider_id),
        gsi2sk=keys.by_offering_sk(limit.offering_id, limit.id),
        limit_id=limit.id,
        resource_id=limit.resource_id,
        customer_id=limit.customer_id,
        project_id=limit.project_id,
        offering_id=limit.offering_id,
        provider_id=limit.provider_id,
        component_id=limit.component_id,
        component_type=limit.component_type,
        offering_user_id=limit.offering_user_id,
        limit=str(limit.limit),
        created=limit.created,
        modified=limit.modified,
        fields={name: getattr(limit, name) for name in _DOC_FIELDS},
        version=limit.version,
    )


def get(limit_id: str) -> UserUsageLimit | None:
    """The limit with this id (one gsi1 Query; eventually consistent), or None."""
    for item in BaseItem.gsi1.query(keys.USER_LIMITS, BaseItem.gsi1sk == limit_id):
        if isinstance(item, UserLimitItem):
            return _from_item(item)
    return None


def of_resource(customer_id: str, project_id: str, resource_id: str) -> list[UserUsageLimit]:
    """A resource's limits, read consistently: one Query of its prefix."""
    prefix = keys.user_limit_resource_prefix(project_id, resource_id)
    partition = keys.customer_pk(customer_id)
    found = BaseItem.query(partition, BaseItem.sk.startswith(prefix), consistent_read=True)
    return [_from_item(i) for i in found if isinstance(i, UserLimitItem)]


def add(uow: Work, limit: UserUsageLimit) -> UserUsageLimit:
    """Create it; a limit for the same resource, component and offering user is a 400."""
    made = replace(limit, version=1)
    _put_new(uow, made)
    return made


def _put_new(uow: Work, limit: UserUsageLimit) -> None:
    taken = ValidationError({"non_field_errors": [LIMIT_TAKEN]})
    transaction(uow).put(_item(limit), condition=UserLimitItem.pk.does_not_exist(), on_conflict=taken)


def save(uow: Work, before: UserUsageLimit, after: UserUsageLimit) -> UserUsageLimit:
    """Write `after` if nobody changed `before` meanwhile; a change of resource, component or user
    moves the item (deleting the old key, creating the new one) in the same transaction."""
    made = replace(after, version=before.version + 1)
    unchanged = UserLimitItem.version == before.version
    if _key(before) == _key(after):
        transaction(uow).put(_item(made), condition=unchanged, on_conflict=Conflict(LOST_RACE))
        return made
    transaction(uow).delete(_item(before), condition=unchanged, on_conflict=Conflict(LOST_RACE))
    _put_new(uow, made)
    return made


def remove(uow: Work, limit: UserUsageLimit) -> None:
    """Delete it, if nobody changed it meanwhile."""
    condition = UserLimitItem.version == limit.version
    transaction(uow).delete(_item(limit), condition=condition, on_conflict=Conflict(LOST_RACE))


# --- listings -----------------------------------------------------------------------------------------
def listing_all(*, descending: bool = True) -> Listing:
    """Every limit (gsi1 `UULIMITS`), newest first; the total is its counter."""
    return everything(keys.USER_LIMITS, UserLimitItem, COUNTER, descending=descending, narrow=NARROW)


def _listing(source: Source) -> Listing:
    return pages.of_source(
        source,
        UserLimitItem,
        project_prefix=keys.user_limit_project_prefix,
        all_in_customer=keys.USER_LIMIT_PREFIX,
        provider_partition=keys.provider_user_limits,
        everything_else=listing_all,
        narrow=NARROW,
    )


def read(sources: Sequence[Source], *, bounded: bool) -> list[UserUsageLimit]:
    """The limits of `sources`, each once, oldest first (`bounded`: stop after `filter_read_limit`
    items with the 400 asking to narrow the request)."""
    return pages.read_rows([_listing(s) for s in sources], _from_item, bounded=bounded)


def newest_page(request: PageRequest, *, descending: bool = True) -> Page[UserUsageLimit]:
    """Page `request` of every limit (staff's list): one Query whatever the table holds."""
    return pages.rows_page(listing_all(descending=descending), _from_item, request.page, request.page_size)
