"""Slug uniqueness without scans: one guard item per slug (`SLUG#<kind>#<slug>`), put only if absent
in the transaction that gives the slug to its item, and one counter per generated base
(`SLUGSEQ#<kind>#<base>`) whose atomic increment hands each creation its own number.

Waldur finds the next number by reading every slug that starts with the base (a prefix query,
racy under concurrent creations). Here two creations with the same name each take a different
number from the counter (one UpdateItem, outside the creating transaction: a creation that fails
afterwards leaves a gap in the numbers, as a deletion does in Waldur), and the guard item refuses a
slug a person gave by hand to another item meanwhile.
"""

from __future__ import annotations

from pynamodb.expressions.condition import Condition

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.slugs import TAKEN
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.items import CounterItem, SlugItem
from chalicelib.store.unit_of_work import transaction


def next_number(kind: str, base: str) -> int:
    """The next number for a generated slug `<base>-<n>` of `kind` (1 first): an atomic increment,
    so concurrent callers never get the same one."""
    counter = CounterItem(pk=keys.slug_counter_pk(kind, base), sk=keys.META)
    counter.update(actions=[CounterItem.value.add(1), CounterItem.type.set(CounterItem)])
    return int(counter.value)


def holder(kind: str, slug: str) -> str | None:
    """The id of the item of `kind` holding `slug` (a consistent GetItem), or None."""
    try:
        return str(SlugItem.get(keys.slug_pk(kind, slug), keys.META, consistent_read=True).holder_id)
    except SlugItem.DoesNotExist:
        return None


def claim(uow: Work, kind: str, slug: str, holder_id: str) -> None:
    """Give `slug` to item `holder_id` in `uow`; refused (400 on `slug`) if another item holds it."""
    free: Condition = SlugItem.pk.does_not_exist() | (SlugItem.holder_id == holder_id)
    transaction(uow).put(
        SlugItem(pk=keys.slug_pk(kind, slug), sk=keys.META, holder_id=holder_id),
        condition=free,
        on_conflict=ValidationError.field("slug", TAKEN),
    )


def release(uow: Work, kind: str, slug: str) -> None:
    """Free `slug` (its item took another one in `uow`)."""
    transaction(uow).delete(SlugItem(pk=keys.slug_pk(kind, slug), sk=keys.META))
