"""Giving slugs to customers, projects and resources (rules in domain/slugs.py).

A creation asks `for_new` for its slug before it builds its unit of work (a generated one costs an
atomic increment and a GetItem), then stages `claim` in that unit of work, so the item and its
guard land together; a change by hand (`change`) releases the old guard and claims the new one in
the changing transaction.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import slugs as rules
from chalicelib.domain.slugs import SlugKind
from chalicelib.services.ports import UnitOfWork
from chalicelib.services.ports import slugs as store

# A generated number can be taken already only by a slug somebody set by hand to `<base>-<n>`
# (or gave an item in a backfill); a few more numbers get past any such run.
ATTEMPTS = 20


def generate(kind: SlugKind, name: str) -> str:
    """A fresh `<base>-<n>` for an item named `name`, held by no other item of `kind` now."""
    base = rules.base_of(name, kind)
    slug = rules.numbered(base, store.next_number(kind, base))
    for _ in range(ATTEMPTS - 1):
        if store.holder(kind, slug) is None:
            return slug
        slug = rules.numbered(base, store.next_number(kind, base))
    return slug  # its claim fails loudly (400 on slug) if even this one is taken


def for_new(kind: SlugKind, name: str, given: Any = None) -> str:
    """The slug of a new item: `given` (checked; staff only, the caller decides) or a generated one."""
    if given is not None and given != "":
        return rules.check(given)
    return generate(kind, name)


def wanted_change(changes: dict[str, Any], current: str) -> str | None:
    """Take `slug` out of an update's `changes`: the new slug (checked) if it differs from
    `current`, else None (absent, blank or the same value: no change, so a client that sends the
    whole object back works)."""
    given = changes.pop("slug", None)
    if given is None or given == "" or given == current:
        return None
    return rules.check(given)


def claim(uow: UnitOfWork, kind: SlugKind, slug: str, holder_id: str) -> None:
    store.claim(uow, kind.value, slug, holder_id)


def change(uow: UnitOfWork, kind: SlugKind, holder_id: str, old: str, new: str) -> None:
    """Move item `holder_id` from slug `old` (none: an item made before slugs) to `new`."""
    if old:
        store.release(uow, kind.value, old)
    store.claim(uow, kind.value, new, holder_id)
