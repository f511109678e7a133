"""The support desk's catalogs, each one small partition (both are a handful of staff-kept items).

- `SUPPORT#PRIORITIES` / `PRIORITY#<p>`: a priority; `#SEEDED` marks that the defaults were written
  (so a priority an operator removed stays removed).
- `SUPPORT#TEMPLATES` / `TEMPLATE#<t>`: an issue template.

A list is one Query of its partition; a lookup by id is one GetItem.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import Conflict
from chalicelib.domain.support_catalog import Priority, Template
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.codec import Codec
from chalicelib.store.items import BaseItem, SupportCatalogMarkItem, SupportPriorityItem, SupportTemplateItem
from chalicelib.store.unit_of_work import LOST_RACE, transaction

_PRIORITY = Codec(Priority, keyed=frozenset({"id", "name"}))
_TEMPLATE = Codec(Template, keyed=frozenset({"id", "name", "created", "version"}))


# --- priorities ------------------------------------------------------------------------------------
def _priority(item: SupportPriorityItem) -> Priority:
    return _PRIORITY.from_doc(item.fields or {}, id=item.priority_id, name=item.name)


def _priority_item(priority: Priority) -> SupportPriorityItem:
    return SupportPriorityItem(
        pk=keys.SUPPORT_PRIORITIES,
        sk=keys.support_priority_sk(priority.id),
        priority_id=priority.id,
        name=priority.name,
        fields=_PRIORITY.to_doc(priority),
    )


def _mark() -> SupportCatalogMarkItem:
    return SupportCatalogMarkItem(pk=keys.SUPPORT_PRIORITIES, sk=keys.SUPPORT_PRIORITIES_SEEDED)


def priorities() -> tuple[list[Priority], bool]:
    """Every priority (in id order), and whether the defaults were ever written (one Query)."""
    found: list[Priority] = []
    seeded = False
    for item in BaseItem.query(keys.SUPPORT_PRIORITIES):
        if isinstance(item, SupportPriorityItem):
            found.append(_priority(item))
        elif isinstance(item, SupportCatalogMarkItem):
            seeded = True
    return found, seeded


def get_priority(priority_id: str) -> Priority | None:
    """The priority (one GetItem), or None."""
    try:
        return _priority(
            SupportPriorityItem.get(keys.SUPPORT_PRIORITIES, keys.support_priority_sk(priority_id))
        )
    except SupportPriorityItem.DoesNotExist:
        return None


def seed_priorities(uow: Work, defaults: list[Priority]) -> None:
    """Write the defaults with the marker, unless the marker is there (then the commit raises
    Conflict: somebody seeded first)."""
    tx = transaction(uow)
    tx.put(_mark(), condition=SupportCatalogMarkItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE))
    for priority in defaults:
        tx.put(_priority_item(priority))


def add_priority(uow: Work, priority: Priority) -> None:
    transaction(uow).put(
        _priority_item(priority),
        condition=SupportPriorityItem.pk.does_not_exist(),
        on_conflict=Conflict(LOST_RACE),
    )


def remove_priority(uow: Work, priority: Priority) -> None:
    transaction(uow).delete(
        _priority_item(priority), condition=SupportPriorityItem.pk.exists(), on_conflict=Conflict(LOST_RACE)
    )


# --- templates -------------------------------------------------------------------------------------
def _template(item: SupportTemplateItem) -> Template:
    return _TEMPLATE.from_doc(
        item.fields or {},
        id=item.template_id,
        name=item.name,
        created=item.created,
        version=int(item.version),
    )


def _template_item(template: Template) -> SupportTemplateItem:
    return SupportTemplateItem(
        pk=keys.SUPPORT_TEMPLATES,
        sk=keys.support_template_sk(template.id),
        template_id=template.id,
        name=template.name,
        created=template.created,
        fields=_TEMPLATE.to_doc(template),
        version=template.version,
    )


def get_template(template_id: str) -> Template | None:
    """The template for a lookup (one eventually consistent GetItem), or None."""
    return _read_template(template_id, consistent=False)


def load_template(template_id: str) -> Template | None:
    """The template as stored now, before a change (one consistent GetItem), or None."""
    return _read_template(template_id, consistent=True)


def _read_template(template_id: str, consistent: bool) -> Template | None:
    try:
        item = SupportTemplateItem.get(
            keys.SUPPORT_TEMPLATES, keys.support_template_sk(template_id), consistent_read=consistent
        )
    except SupportTemplateItem.DoesNotExist:
        return None
    return _template(item)


def templates() -> list[Template]:
    """Every template, oldest first (one Query: templates are few)."""
    found = SupportTemplateItem.query(
        keys.SUPPORT_TEMPLATES, SupportTemplateItem.sk.startswith(keys.SUPPORT_TEMPLATE_PREFIX)
    )
    return [_template(i) for i in found if isinstance(i, SupportTemplateItem)]


def add_template(uow: Work, template: Template) -> None:
    transaction(uow).put(_template_item(template), condition=SupportTemplateItem.pk.does_not_exist())


def save_template(uow: Work, before: Template, after: Template) -> Template:
    """Write `after` at version + 1; Conflict if the template changed or went since `before`."""
    stored = replace(after, version=before.version + 1)
    transaction(uow).put(
        _template_item(stored),
        condition=SupportTemplateItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )
    return stored


def remove_template(uow: Work, template: Template) -> None:
    transaction(uow).delete(
        _template_item(template), condition=SupportTemplateItem.pk.exists(), on_conflict=Conflict(LOST_RACE)
    )
