"""Marketplace category use cases (`marketplace-categories/`): global catalog headings that anybody
reads (anonymously too, as Waldur's public catalog) and only staff write. Waldur logs no events
for categories; neither does Cirrus."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain import rbac
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.offerings import CATEGORY_MODEL, Category
from chalicelib.services.ports import categories as store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import unit_of_work

IN_USE = "Category has offerings; move or archive them first."


def get(category_id: str) -> Category:
    category = store.get(category_id)
    if category is None:
        raise NotFound(CATEGORY_MODEL)
    return category


def _for_change(category_id: str) -> Category:
    """The category as stored now (`store.load`), before a versioned write; NotFound if none."""
    category = store.load(category_id)
    if category is None:
        raise NotFound(CATEGORY_MODEL)
    return category


def list_categories(title: str | None = None, name_exact: str | None = None) -> list[Category]:
    """Every category, by title (`title`: contains, case-insensitive; `name_exact`: the title
    itself, as python-waldur-client looks a category up by name)."""
    found = store.read_all()
    if title is not None:
        found = [c for c in found if title.lower() in c.title.lower()]
    if name_exact is not None:
        found = [c for c in found if c.title == name_exact]
    return sorted(found, key=lambda c: (c.title.lower(), c.id))


def create_category(ctx: EventContext, fields: Mapping[str, Any]) -> Category:
    rbac.require_staff(ctx.actor)
    category = Category(id=new_id(), created=utcnow(), version=1, **fields)
    uow = unit_of_work()
    store.add(uow, category)
    uow.commit()
    return category


def update_category(ctx: EventContext, category_id: str, changes: Mapping[str, Any]) -> Category:
    rbac.require_staff(ctx.actor)
    before = _for_change(category_id)
    after = replace(before, **changes)
    if after == before:
        return before
    uow = unit_of_work()
    store.save(uow, before, after)
    uow.commit()
    return replace(after, version=before.version + 1)


def delete_category(ctx: EventContext, category_id: str) -> None:
    """Delete a category no offering is in (reads the catalog: categories are deleted rarely)."""
    rbac.require_staff(ctx.actor)
    category = _for_change(category_id)
    if any(o.category_id == category.id for o in offering_store.read_all()):
        raise ValidationError([IN_USE])
    uow = unit_of_work()
    store.remove(uow, category)
    uow.commit()
