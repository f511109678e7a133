"""Robot accounts in their resource's consumer customer's partition
(`CUST#<c>` / `ROBOT#<p>#<r>#<type>`): one item per resource and type (a second account of the same
type on a resource is refused by the key's condition), so a resource's accounts share a prefix and a
project's another.

gsi1 `ROBOTS` / `<id>` finds one by id alone and lists every one for staff (newest first); gsi2
`PROBOT#<provider customer>` / `<offering>#<id>` lists a service provider's, one offering's with a
prefix. The `robot_accounts` counter (stream-kept) counts the live ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chalicelib.domain import robot_accounts as domain
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.robot_accounts import RobotAccount
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import Source
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.codec import Codec
from chalicelib.store.items import BaseItem, RobotAccountItem
from chalicelib.store.pages import Listing, everything
from chalicelib.store.unit_of_work import LOST_RACE, transaction

COUNTER = counters.ROBOT_ACCOUNTS
NARROW = ("robot accounts", "resource_uuid=, project_uuid=, customer_uuid= or provider_uuid=")
_CODEC = Codec(
    RobotAccount,
    keyed=frozenset(
        {"id", "resource_id", "customer_id", "project_id", "offering_id", "provider_id", "created", "version"}
    ),
)


def _from_item(item: RobotAccountItem) -> RobotAccount:
    return _CODEC.from_doc(
        item.fields or {},
        id=item.robot_account_id,
        resource_id=item.resource_id,
        customer_id=item.customer_id,
        project_id=item.project_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        created=item.created,
        version=int(item.version),
    )


def _key(account: RobotAccount) -> tuple[str, str]:
    sk = keys.robot_account_sk(account.project_id, account.resource_id, account.type)
    return keys.customer_pk(account.customer_id), sk


def _item(account: RobotAccount) -> RobotAccountItem:
    pk, sk = _key(account)
    return RobotAccountItem(
        pk=pk,
        sk=sk,
        gsi1pk=keys.ROBOT_ACCOUNTS,
        gsi1sk=account.id,
        gsi2pk=keys.provider_robot_accounts(account.provider_id),
        gsi2sk=keys.by_offering_sk(account.offering_id, account.id),
        robot_account_id=account.id,
        resource_id=account.resource_id,
        customer_id=account.customer_id,
        project_id=account.project_id,
        offering_id=account.offering_id,
        provider_id=account.provider_id,
        created=account.created,
        fields=_CODEC.to_doc(account),
        version=account.version,
    )


def get(account_id: str) -> RobotAccount | None:
    """The account with this id (one gsi1 Query; eventually consistent), or None."""
    for item in BaseItem.gsi1.query(keys.ROBOT_ACCOUNTS, BaseItem.gsi1sk == account_id):
        if isinstance(item, RobotAccountItem):
            return _from_item(item)
    return None


def of_resource(customer_id: str, project_id: str, resource_id: str) -> list[RobotAccount]:
    """A resource's accounts, by type, read consistently: one Query of its prefix."""
    prefix = keys.robot_account_resource_prefix(project_id, resource_id)
    partition = keys.customer_pk(customer_id)
    found = BaseItem.query(partition, BaseItem.sk.startswith(prefix), consistent_read=True)
    return [_from_item(i) for i in found if isinstance(i, RobotAccountItem)]


def add(uow: Work, account: RobotAccount) -> RobotAccount:
    """Create it; a second account of the same type on the resource is a 400."""
    made = replace(account, version=1)
    _put_new(uow, made)
    return made


def _put_new(uow: Work, account: RobotAccount) -> None:
    taken = ValidationError({"non_field_errors": [domain.TYPE_TAKEN]})
    transaction(uow).put(_item(account), condition=RobotAccountItem.pk.does_not_exist(), on_conflict=taken)


def save(uow: Work, before: RobotAccount, after: RobotAccount) -> RobotAccount:
    """Write `after` if nobody changed `before` meanwhile; a new type moves the item (deleting the
    old key, creating the new one, refused if the type is taken) in the same transaction."""
    made = replace(after, version=before.version + 1)
    unchanged = RobotAccountItem.version == before.version
    if _key(before) == _key(made):
        transaction(uow).put(_item(made), condition=unchanged, on_conflict=Conflict(LOST_RACE))
        return made
    transaction(uow).delete(_item(before), condition=unchanged, on_conflict=Conflict(LOST_RACE))
    _put_new(uow, made)
    return made


def remove(uow: Work, account: RobotAccount) -> None:
    """Delete it, if nobody changed it meanwhile."""
    condition = RobotAccountItem.version == account.version
    transaction(uow).delete(_item(account), condition=condition, on_conflict=Conflict(LOST_RACE))


# --- listings -----------------------------------------------------------------------------------------
def listing_all(*, descending: bool = True) -> Listing:
    """Every account (gsi1 `ROBOTS`), newest first; the total is its counter."""
    return everything(keys.ROBOT_ACCOUNTS, RobotAccountItem, COUNTER, descending=descending, narrow=NARROW)


def _listing(source: Source) -> Listing:
    return pages.of_source(
        source,
        RobotAccountItem,
        project_prefix=keys.robot_account_project_prefix,
        all_in_customer=keys.ROBOT_ACCOUNT_PREFIX,
        provider_partition=keys.provider_robot_accounts,
        everything_else=listing_all,
        narrow=NARROW,
    )


def read(sources: Sequence[Source], *, bounded: bool) -> list[RobotAccount]:
    """The accounts of `sources`, each once, oldest first (`bounded`: stop after `filter_read_limit`
    items with the 400 asking to narrow the request)."""
    return pages.read_rows([_listing(s) for s in sources], _from_item, bounded=bounded)


def newest_page(request: PageRequest, *, descending: bool = True) -> Page[RobotAccount]:
    """Page `request` of every account (staff's list): one Query whatever the table holds."""
    return pages.rows_page(listing_all(descending=descending), _from_item, request.page, request.page_size)
