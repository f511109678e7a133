"""Role grants (Waldur's UserRole) in their scope's customer partition.

`CUST#<c>` / `GRANT#<scope type>#<scope>#<user>#<role>`, so a scope's team is one Query and a
customer's whole membership (its projects' included) is one Query; gsi1 `USER#<u>` / `GRANT#…`
gives a user's grants in one Query (what every permission check reads); gsi2 `GRANTS` / `<grant id>`
lists every grant for staff and finds one by id.

Alongside, per customer and user, a `MEMBER#<u>` item counts the user's grants there: the
customer's `nc_user_count` moves when it appears or disappears, in the same transaction. A grant
with an expiration time is listed in the expiry bucket of its hour for the revocation job.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.quotas import USER_COUNT
from chalicelib.domain.rbac import Grant
from chalicelib.domain.roles import ScopeType
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import customers, keys, pages, roles
from chalicelib.store.items import BaseItem, ExpiryMarkItem, GrantItem, MemberItem, RoleItem
from chalicelib.store.pages import Listing
from chalicelib.store.unit_of_work import LOST_RACE, transaction

GRANTS_EXPIRY = "GRANT"
ALREADY_GRANTED = "User has already the same role in this scope."


def _sk(grant: Grant) -> str:
    return keys.grant_sk(grant.scope_type.value, grant.scope_id, grant.user_id, grant.role_id)


def _from_item(item: GrantItem) -> Grant:
    by = item.created_by or {}
    return Grant(
        id=item.grant_id,
        user_id=item.user_id,
        role_id=item.role_id,
        scope_type=ScopeType(item.scope_type),
        scope_id=item.scope_id,
        customer_id=item.customer_id,
        created=item.created,
        expiration_time=item.expiration_time,
        created_by_id=by.get("id"),
        created_by_username=by.get("username", ""),
        created_by_full_name=by.get("full_name", ""),
        version=int(item.version),
    )


def _item(grant: Grant) -> GrantItem:
    return GrantItem(
        pk=keys.customer_pk(grant.customer_id),
        sk=_sk(grant),
        gsi1pk=keys.user_grants(grant.user_id),
        gsi1sk=keys.user_grant_sk(grant.scope_type.value, grant.scope_id, grant.role_id),
        gsi2pk=keys.GRANTS,
        gsi2sk=grant.id,
        grant_id=grant.id,
        user_id=grant.user_id,
        role_id=grant.role_id,
        scope_type=grant.scope_type.value,
        scope_id=grant.scope_id,
        customer_id=grant.customer_id,
        created=grant.created,
        expiration_time=grant.expiration_time,
        created_by={
            "id": grant.created_by_id,
            "username": grant.created_by_username,
            "full_name": grant.created_by_full_name,
        },
        version=grant.version,
    )


# --- reads ---------------------------------------------------------------------------------------
def for_user(user_id: str) -> list[Grant]:
    """Every grant of the user (one gsi1 Query; eventually consistent, like every index read)."""
    found = BaseItem.gsi1.query(keys.user_grants(user_id), BaseItem.gsi1sk.startswith(keys.GRANT_PREFIX))
    return [_from_item(i) for i in found if isinstance(i, GrantItem)]


def for_scope(customer_id: str, scope_type: ScopeType, scope_id: str) -> list[Grant]:
    found = BaseItem.query(
        keys.customer_pk(customer_id),
        BaseItem.sk.startswith(keys.grant_scope_prefix(scope_type.value, scope_id)),
        consistent_read=True,
    )
    return [_from_item(i) for i in found if isinstance(i, GrantItem)]


def for_customer(customer_id: str) -> list[Grant]:
    """The grants on the customer, its projects and its offerings (one Query of its partition)."""
    found = BaseItem.query(
        keys.customer_pk(customer_id), BaseItem.sk.startswith(keys.GRANT_PREFIX), consistent_read=True
    )
    return [_from_item(i) for i in found if isinstance(i, GrantItem)]


def get(customer_id: str, scope_type: ScopeType, scope_id: str, user_id: str, role_id: str) -> Grant | None:
    try:
        item = GrantItem.get(
            keys.customer_pk(customer_id),
            keys.grant_sk(scope_type.value, scope_id, user_id, role_id),
            consistent_read=True,
        )
    except GrantItem.DoesNotExist:
        return None
    return _from_item(item)


def get_by_id(grant_id: str) -> Grant | None:
    for item in BaseItem.gsi2.query(keys.GRANTS, BaseItem.gsi2sk == grant_id):
        if isinstance(item, GrantItem):
            return _from_item(item)
    return None


def all_grants() -> list[Grant]:
    """Every grant (staff's unfiltered user-permissions/): a Query of gsi2 `GRANTS`, whose cost
    grows with the number of grants in the deployment (a documented slow path)."""
    return [
        _from_item(i)
        for i in pages.read_all(Listing(partition=keys.GRANTS, index="gsi2", item_type=GrantItem))
    ]


def member_grants(customer_id: str, user_id: str) -> int:
    """How many grants the user holds in the customer (0: not a member)."""
    try:
        item = MemberItem.get(keys.customer_pk(customer_id), keys.member_sk(user_id), consistent_read=True)
    except MemberItem.DoesNotExist:
        return 0
    return int(item.grants)


# --- writes --------------------------------------------------------------------------------------
def add(uow: Work, grant: Grant, held: int, *, stored_role: bool = False) -> None:
    """Grant the role; `held` is the user's grant count in the customer read before (see
    `member_grants`): the write is refused as a lost race if it changed meanwhile. A custom role
    (`stored_role`) must still exist when the transaction commits (its deletion races with this)."""
    if stored_role:
        transaction(uow).check(
            RoleItem,
            keys.ROLES,
            keys.role_sk(grant.role_id),
            RoleItem.pk.exists(),
            on_conflict=ValidationError.field("role", f"Object with uuid={grant.role_id} does not exist."),
        )
    transaction(uow).put(
        _item(grant),
        condition=GrantItem.pk.does_not_exist(),
        on_conflict=ValidationError([ALREADY_GRANTED]),
    )
    _count_member(uow, grant, held, +1)
    roles.count_user(uow, grant.role_id, 1)
    if grant.expiration_time is not None:
        _mark_expiry(uow, grant, grant.expiration_time)


def set_expiration(uow: Work, before: Grant, expiration_time: datetime | None) -> None:
    transaction(uow).update(
        GrantItem(pk=keys.customer_pk(before.customer_id), sk=_sk(before)),
        [GrantItem.expiration_time.set(expiration_time), GrantItem.version.add(1)]
        if expiration_time is not None
        else [GrantItem.expiration_time.remove(), GrantItem.version.add(1)],
        condition=GrantItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )
    old_hour = _hour(before.expiration_time) if before.expiration_time else None
    new_hour = _hour(expiration_time) if expiration_time else None
    if old_hour != new_hour:  # (one transaction may not touch the same mark twice)
        if before.expiration_time is not None:
            _unmark_expiry(uow, before, before.expiration_time)
        if expiration_time is not None:
            _mark_expiry(uow, before, expiration_time)


def remove(uow: Work, grant: Grant, held: int) -> None:
    transaction(uow).delete(
        GrantItem(pk=keys.customer_pk(grant.customer_id), sk=_sk(grant)),
        condition=GrantItem.version == grant.version,
        on_conflict=Conflict(LOST_RACE),
    )
    _count_member(uow, grant, held, -1)
    roles.count_user(uow, grant.role_id, -1)
    if grant.expiration_time is not None:
        _unmark_expiry(uow, grant, grant.expiration_time)


def _count_member(uow: Work, grant: Grant, held: int, delta: int) -> None:
    key = MemberItem(pk=keys.customer_pk(grant.customer_id), sk=keys.member_sk(grant.user_id))
    after = held + delta
    if held == 0:  # first grant in this customer: a new member
        transaction(uow).put(
            MemberItem(pk=key.pk, sk=key.sk, user_id=grant.user_id, grants=after),
            condition=MemberItem.pk.does_not_exist(),
            on_conflict=Conflict(LOST_RACE),
        )
        customers.take_one(uow, grant.customer_id, USER_COUNT)
    elif after == 0:  # last grant gone: no longer a member
        transaction(uow).delete(key, condition=MemberItem.grants == held, on_conflict=Conflict(LOST_RACE))
        customers.release_one(uow, grant.customer_id, USER_COUNT)
    else:
        transaction(uow).update(
            key,
            [MemberItem.grants.set(after)],
            condition=MemberItem.grants == held,
            on_conflict=Conflict(LOST_RACE),
        )


def _hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def _mark_expiry(uow: Work, grant: Grant, when: datetime) -> None:
    transaction(uow).put(
        ExpiryMarkItem(
            pk=keys.expiry_bucket(GRANTS_EXPIRY, _hour(when)),
            sk=keys.grant_expiry_sk(grant.customer_id, _sk(grant)),
            target_pk=keys.customer_pk(grant.customer_id),
            target_sk=_sk(grant),
        )
    )


def _unmark_expiry(uow: Work, grant: Grant, when: datetime) -> None:
    transaction(uow).delete(
        ExpiryMarkItem(
            pk=keys.expiry_bucket(GRANTS_EXPIRY, _hour(when)),
            sk=keys.grant_expiry_sk(grant.customer_id, _sk(grant)),
        )
    )


def lapsing_in(hour: datetime) -> list[Grant]:
    """The grants listed as lapsing within `hour`: one Query of its bucket, then a consistent
    GetItem of each (a mark leaves in the transaction that removes its grant or moves its expiry;
    a grant gone meanwhile is skipped)."""
    found = BaseItem.query(keys.expiry_bucket(GRANTS_EXPIRY, _hour(hour)))
    marks = [(i.target_pk, i.target_sk) for i in found if isinstance(i, ExpiryMarkItem)]
    return [grant for grant in (_get_by_key(pk, sk) for pk, sk in marks) if grant is not None]


def _get_by_key(pk: str, sk: str) -> Grant | None:
    try:
        return _from_item(GrantItem.get(pk, sk, consistent_read=True))
    except GrantItem.DoesNotExist:
        return None
