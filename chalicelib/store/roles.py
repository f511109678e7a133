"""Roles in the `ROLES` partition: custom roles, and overrides of the system roles defined in code.

Every role a request may need is read with one Query of that partition (tens of items). A role's
`users_count` is a counter: a custom role's is moved in the transaction that grants or revokes it
(its deletion is refused while it is not zero); a system role's, held in every customer, is kept
by the stream consumer (store/counters.py), so grants in different customers share no item, and
it lags the grants by the stream's delay.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.roles import ROLE_IN_USE, ROLE_NAME_TAKEN, SYSTEM_ROLES, Role, ScopeType
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys
from chalicelib.store.items import BaseItem, CounterItem, RoleItem, RoleNameItem
from chalicelib.store.unit_of_work import LOST_RACE, transaction

NAME_TAKEN = ROLE_NAME_TAKEN
IN_USE = ROLE_IN_USE


def users_counter(role_id: str) -> str:
    return counters.role_users(role_id)


def _from_item(item: RoleItem) -> Role:
    return Role(
        id=item.role_id,
        name=item.name,
        content_type=ScopeType(item.content_type),
        permissions=frozenset(item.permissions or ()),
        description=item.description,
        is_system_role=bool(item.is_system_role),
        is_active=bool(item.is_active),
        version=int(item.version),
    )


def all_roles() -> dict[str, Role]:
    """Every role by id: the system roles (with their stored overrides) and the custom ones."""
    roles = {role.id: role for role in SYSTEM_ROLES.values()}
    for item in BaseItem.query(keys.ROLES, BaseItem.sk.startswith(keys.ROLE_PREFIX)):
        if isinstance(item, RoleItem):
            roles[item.role_id] = _from_item(item)
    return roles


def load(role_id: str) -> Role | None:
    """The role as stored now, before a change: one consistent GetItem (`all_roles` is an eventually
    consistent Query, a version behind right after a change). A system role never changed is its
    definition in code (version 0); None if there is no such role."""
    try:
        return _from_item(RoleItem.get(keys.ROLES, keys.role_sk(role_id), consistent_read=True))
    except RoleItem.DoesNotExist:
        return next((r for r in SYSTEM_ROLES.values() if r.id == role_id), None)


def with_users_counts(roles: list[Role]) -> list[Role]:
    """The roles with their `users_count` (one BatchGetItem per 100 roles)."""
    wanted = [(keys.counter_pk(users_counter(r.id)), keys.META) for r in roles]
    counts = {item.pk: int(item.value) for item in CounterItem.batch_get(wanted)}
    return [replace(r, users_count=counts.get(keys.counter_pk(users_counter(r.id)), 0)) for r in roles]


def _item(role: Role) -> RoleItem:
    return RoleItem(
        pk=keys.ROLES,
        sk=keys.role_sk(role.id),
        role_id=role.id,
        name=role.name,
        content_type=role.content_type.value,
        description=role.description,
        permissions=sorted(role.permissions),
        is_system_role=role.is_system_role,
        is_active=role.is_active,
        version=role.version + 1,
    )


def _guard(uow: Work, role: Role) -> None:
    transaction(uow).put(
        RoleNameItem(pk=keys.ROLES, sk=keys.role_name_sk(role.name), role_id=role.id),
        condition=RoleNameItem.pk.does_not_exist(),
        on_conflict=ValidationError.field("name", NAME_TAKEN),
    )


def add(uow: Work, role: Role) -> None:
    _guard(uow, role)
    transaction(uow).put(_item(role), condition=RoleItem.pk.does_not_exist())


def save(uow: Work, before: Role, after: Role) -> None:
    """Write `after` over `before` if nobody changed the role meanwhile. A system role is stored
    the first time it is changed (version 0 → 1); its name stays guarded by the code, not an item."""
    if after.name != before.name:
        transaction(uow).delete(RoleNameItem(pk=keys.ROLES, sk=keys.role_name_sk(before.name)))
        _guard(uow, after)
    condition = RoleItem.pk.does_not_exist() if before.version == 0 else RoleItem.version == before.version
    transaction(uow).put(
        _item(replace(after, version=before.version)), condition=condition, on_conflict=Conflict(LOST_RACE)
    )


def remove(uow: Work, role: Role) -> None:
    """Delete a custom role, refused while anybody holds it: its users counter (moved by every
    grant and revocation) must be absent or zero when the transaction commits."""
    transaction(uow).delete(
        CounterItem(pk=keys.counter_pk(users_counter(role.id)), sk=keys.META),
        condition=CounterItem.pk.does_not_exist() | (CounterItem.value == 0),
        on_conflict=ValidationError([IN_USE]),
    )
    transaction(uow).delete(
        RoleItem(pk=keys.ROLES, sk=keys.role_sk(role.id)),
        condition=RoleItem.version == role.version,
        on_conflict=Conflict(LOST_RACE),
    )
    transaction(uow).delete(RoleNameItem(pk=keys.ROLES, sk=keys.role_name_sk(role.name)))


def count_user(uow: Work, role_id: str, delta: int) -> None:
    """Move a custom role's holders counter in the grant's transaction (a system role's is moved
    by the stream consumer)."""
    if not counters.counted_by_stream(role_id):
        counters.add(uow, users_counter(role_id), delta)
