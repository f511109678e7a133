"""Counters that give list totals without counting items (X-Result-Count in one GetItem)."""

from __future__ import annotations

from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.items import CounterItem
from chalicelib.store.unit_of_work import transaction

CUSTOMERS = "customers"
PROJECTS = "projects"
USERS = "users"


def _key(name: str) -> CounterItem:
    return CounterItem(pk=keys.counter_pk(name), sk=keys.META)


def add(uow: Work, name: str, delta: int) -> None:
    """Move counter `name` by `delta` as part of `uow` (created at zero on first use)."""
    transaction(uow).update(_key(name), [CounterItem.value.add(delta), CounterItem.type.set(CounterItem)])


def value(name: str) -> int:
    try:
        return int(CounterItem.get(keys.counter_pk(name), keys.META).value)
    except CounterItem.DoesNotExist:
        return 0
