"""Marketplace categories: global catalog headings, all in one small partition.

- `CATEGORIES` / `CAT#<c>`: a category (lookup by id is a GetItem; the list is one Query).
"""

from __future__ import annotations

from chalicelib.domain.errors import Conflict
from chalicelib.domain.offerings import Category
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.codec import Codec
from chalicelib.store.items import CategoryItem
from chalicelib.store.unit_of_work import LOST_RACE, transaction

_CATEGORY = Codec(Category, keyed=frozenset({"id", "title", "created", "version"}))


def _from_item(item: CategoryItem) -> Category:
    return _CATEGORY.from_doc(
        item.fields or {},
        id=item.category_id,
        title=item.title,
        created=item.created,
        version=int(item.version),
    )


def _item(category: Category) -> CategoryItem:
    return CategoryItem(
        pk=keys.CATEGORIES,
        sk=keys.category_sk(category.id),
        category_id=category.id,
        title=category.title,
        created=category.created,
        fields=_CATEGORY.to_doc(category),
        version=category.version,
    )


def get(category_id: str) -> Category | None:
    """The category for a lookup (one eventually consistent GetItem), or None."""
    return _read(category_id, consistent=False)


def load(category_id: str) -> Category | None:
    """The category as stored now, before a change (one consistent GetItem: `get` may be a version
    behind right after a change), or None."""
    return _read(category_id, consistent=True)


def _read(category_id: str, consistent: bool) -> Category | None:
    try:
        return _from_item(
            CategoryItem.get(keys.CATEGORIES, keys.category_sk(category_id), consistent_read=consistent)
        )
    except CategoryItem.DoesNotExist:
        return None


def get_many(category_ids: list[str]) -> dict[str, Category]:
    wanted = [(keys.CATEGORIES, keys.category_sk(c)) for c in dict.fromkeys(category_ids)]
    return {c.id: c for c in map(_from_item, CategoryItem.batch_get(wanted))}


def read_all() -> list[Category]:
    """Every category, oldest first (one Query: categories are few)."""
    found = CategoryItem.query(keys.CATEGORIES, CategoryItem.sk.startswith(keys.CATEGORY_PREFIX))
    return [_from_item(i) for i in found if isinstance(i, CategoryItem)]


def add(uow: Work, category: Category) -> None:
    transaction(uow).put(_item(category), condition=CategoryItem.pk.does_not_exist())


def save(uow: Work, before: Category, after: Category) -> None:
    from dataclasses import replace

    transaction(uow).put(
        _item(replace(after, version=before.version + 1)),
        condition=CategoryItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )


def remove(uow: Work, category: Category) -> None:
    transaction(uow).delete(
        _item(category), condition=CategoryItem.pk.exists(), on_conflict=Conflict(LOST_RACE)
    )
