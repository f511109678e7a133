"""Giving slugs to customers, projects and resources (rules in domain/slugs.py).

A creation asks `for_new` for its slug before it builds its unit of work (a generated one costs an
atomic increment and a GetItem), then stages `claim` in that unit of work, so the item and its
guard land together; a change by hand (`change`) releases the old guard and claims the new one in
the changing transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from chalicelib.domain import slugs as rules
from chalicelib.domain.slugs import SlugKind
from chalicelib.services import ports
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import CustomerQuery, ProjectQuery, UnitOfWork
from chalicelib.services.ports import slugs as store


class _Slugged(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def slug(self) -> str: ...


T = TypeVar("T")
S = TypeVar("S", bound=_Slugged)

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


# --- items made before slugs ---------------------------------------------------------------------------
BACKFILL_PAGE = 100


@dataclass
class Backfilled:
    """How many items the backfill gave slugs (or their customer's / project's slugs)."""

    customers: int = 0
    projects: int = 0
    resources: int = 0


def _every(page_of: Callable[[PageRequest], Page[T]]) -> Iterator[T]:
    """Every row of a paged listing, oldest first (a page shorter than asked for is the last)."""
    number = 1
    while True:
        page = page_of(PageRequest(number, BACKFILL_PAGE))
        yield from page.items
        if len(page.items) < BACKFILL_PAGE:
            return
        number += 1


def backfill() -> Backfilled:
    """Give a slug to every customer, project and resource made before slugs existed, and copy the
    customer's and project's slugs onto their projects and resources (`python -m chalicelib.ops
    backfill-slugs`). An operator's command: it reads every item (no request path does), writes
    one small transaction per item that lacks something, and finds nothing to do when run again.
    Reads never fill a slug in: a GET writes nothing, and a slug shown must be the one stored."""
    done = Backfilled()
    customer_slugs: dict[str, str] = {}
    for customer in _every(lambda r: ports.customers.page(CustomerQuery(order="created"), r)):
        if not customer.slug:
            customer = _give(SlugKind.CUSTOMER, customer, customer.name, ports.customers.save_changes)
            done.customers += 1
        customer_slugs[customer.id] = customer.slug
    project_slugs: dict[str, str] = {}
    for project in _every(lambda r: ports.projects.page(ProjectQuery(descending=False), r)):
        customer_slug = customer_slugs.get(project.customer_id, project.customer_slug)
        if not project.slug or project.customer_slug != customer_slug:
            project = _give(
                SlugKind.PROJECT,
                project,
                project.name,
                ports.projects.save_changes,
                customer_slug=customer_slug,
            )
            done.projects += 1
        project_slugs[project.id] = project.slug
    for resource in _every(lambda r: ports.resources.newest_page(r, descending=False)):
        wanted = {
            "project_slug": resource.project_slug or project_slugs.get(resource.project_id, ""),
            "customer_slug": resource.customer_slug or customer_slugs.get(resource.customer_id, ""),
        }
        if not resource.slug or any(getattr(resource, k) != v for k, v in wanted.items()):
            _give(SlugKind.RESOURCE, resource, resource.name, ports.resources.save_changes, **wanted)
            done.resources += 1
    return done


def _give(kind: SlugKind, item: S, name: str, save: Callable[[UnitOfWork, S, S], object], **copied: str) -> S:
    """`item` with a slug (its own if it has one) and the `copied` fields, written with its guard."""
    slug = item.slug or generate(kind, name)
    after = replace(item, slug=slug, **copied)  # type: ignore[type-var]
    uow = ports.unit_of_work()
    save(uow, item, after)
    if not item.slug:
        claim(uow, kind, slug, item.id)
    uow.commit()
    return after
