"""Which stored objects feed the analytics aggregates, and how (store/analytics.py applies them).

A `Source` names an item type (its discriminator), how its item becomes the domain object, the
object's facts and points (domain/analytics_*.py), and how to list every item of the type now (a
Query of the index partition that holds them all, never a Scan: the rebuild adds up their facts,
the daily snapshot writes their points). Event facts are keyed by event type. The table is built on
first use, not at import (cold starts), and is the one list the stream filter (infra events.py:
`source_types()`), the consumer, the snapshot and the rebuild share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from chalicelib.domain.analytics import Add, Point
from chalicelib.domain.events import Event
from chalicelib.store.items import BaseItem

EVENT_TYPE = "event"  # the discriminator of the audit log's records (EventItem)


def _none(_: Any) -> Sequence[Any]:
    return ()


@dataclass(frozen=True)
class Source:
    item: type[BaseItem]
    read: Callable[[Any], Any]  # the item → its domain object
    facts: Callable[[Any], Sequence[Add]] = _none
    points: Callable[[Any], Sequence[Point]] = _none
    # Every item of the type now (a Query of an index, never a Scan): the rebuild's and the
    # daily snapshot's.
    every: Callable[[], Iterable[Any]] | None = None

    @property
    def has_points(self) -> bool:
        return self.points is not _none


def _merged(entries: Sequence[Source]) -> Source:
    """Several entries for one item type (each area of the analytics adds its own) as one: their
    facts and points together; one `read` and one `every` (the first given)."""
    first = entries[0]
    facts = [e.facts for e in entries if e.facts is not _none]
    points = [e.points for e in entries if e.points is not _none]
    return Source(
        first.item,
        first.read,
        facts=(lambda obj: [add for f in facts for add in f(obj)]) if facts else _none,
        points=(lambda obj: [point for p in points for point in p(obj)]) if points else _none,
        every=next((e.every for e in entries if e.every is not None), None),
    )


def every_event() -> Iterator[Any]:
    """Every audit event kept: the staff index's shards (gsi2 `EVENTS#<k>`), one Query each."""
    from chalicelib.store import keys
    from chalicelib.store.items import EventItem

    for shard in keys.event_shards():
        yield from EventItem.gsi2.query(shard)


def _type(item: type[BaseItem]) -> str:
    return str(BaseItem.type.get_discriminator(item))


@cache
def sources() -> dict[str, Source]:
    """Item type → its Source."""
    from chalicelib.domain import analytics_costs as costs
    from chalicelib.domain import analytics_orders as orders_area
    from chalicelib.domain import analytics_providers as providers
    from chalicelib.domain import analytics_quota_lists as quota_lists
    from chalicelib.domain import analytics_quotas as quotas
    from chalicelib.domain import analytics_usages
    from chalicelib.store import customers, invoices, keys, orders, projects, resources, usages, users
    from chalicelib.store.items import (
        CustomerItem,
        InvoiceHeaderItem,
        InvoiceLineItem,
        OrderItem,
        ProjectItem,
        ResourceItem,
        UsageItem,
        UserItem,
    )

    def every(item: type[BaseItem], index: str, partition: str) -> Callable[[], Iterable[Any]]:
        """Every item of a type, from the index partition that lists them all (one Query a page)."""
        return lambda: getattr(item, index).query(partition)

    # Where each type is listed whole (the first line of a type names it).
    every_customer = every(CustomerItem, "gsi1", keys.CUSTOMERS)
    every_project = every(ProjectItem, "gsi2", keys.PROJECTS)  # live ones: a removed one adds nothing

    # One line per area and item type (several areas may read the same type: their facts add up).
    table = [
        Source(CustomerItem, customers._from_item, points=quotas.customer_points, every=every_customer),
        Source(ProjectItem, projects._from_item, points=quotas.project_points, every=every_project),
        Source(UserItem, users.from_item, facts=quotas.user_facts, every=every(UserItem, "gsi2", keys.USERS)),
        Source(
            InvoiceLineItem,
            invoices._item,
            facts=costs.invoice_item_facts,
            every=every(InvoiceLineItem, "gsi1", keys.INVOICE_ITEMS),
        ),
        Source(
            InvoiceHeaderItem,
            invoices._invoice,
            facts=costs.invoice_facts,
            every=every(InvoiceHeaderItem, "gsi1", keys.INVOICES),
        ),
        Source(
            ResourceItem,
            resources._from_item,
            facts=costs.resource_facts,
            every=every(ResourceItem, "gsi1", keys.RESOURCES),
        ),
        # order and organisation statistics (marketplace-stats/order_stats/ and its neighbours)
        Source(
            OrderItem,
            orders._from_item,
            facts=orders_area.order_facts,
            every=every(OrderItem, "gsi1", keys.ORDERS),
        ),
        Source(ResourceItem, resources._from_item, facts=orders_area.resource_facts),
        Source(ProjectItem, projects._from_item, facts=orders_area.project_facts),
        Source(CustomerItem, customers._from_item, facts=orders_area.customer_facts),
        # component usage statistics (marketplace-stats/component_usages*, customers' and projects' usage)
        Source(
            UsageItem,
            usages._from_item,
            facts=analytics_usages.usage_facts,
            every=every(UsageItem, "gsi1", keys.USAGES),
        ),
        Source(ResourceItem, resources._from_item, facts=analytics_usages.resource_facts),
        # customer-quotas/ and project-quotas/: who exists, and each one's current quota usage
        Source(CustomerItem, customers._from_item, facts=quota_lists.customer_facts),
        Source(ProjectItem, projects._from_item, facts=quota_lists.project_facts),
        # service providers' statistics (marketplace-stats/top_service_providers_by_resources/, provider_*)
        Source(ResourceItem, resources._from_item, facts=providers.resource_facts),
        Source(InvoiceLineItem, invoices._item, facts=providers.invoice_item_facts),
    ]
    grouped: dict[str, list[Source]] = {}
    for source in table:
        grouped.setdefault(_type(source.item), []).append(source)
    return {kind: _merged(entries) for kind, entries in grouped.items()}


ANY_EVENT = "*"  # the event type of a line whose facts every event adds


@cache
def _event_facts() -> dict[str, list[Callable[[Event], Sequence[Add]]]]:
    """Event type → what one such event adds (an event never changes: added once). One line per
    area and event type (`ANY_EVENT`: every type); several areas may read one type."""
    from chalicelib.domain import analytics_event_stats as event_stats

    table: list[tuple[str, Callable[[Event], Sequence[Add]]]] = [
        (ANY_EVENT, event_stats.event_facts),  # events-stats/: events per scope, month and type
    ]
    grouped: dict[str, list[Callable[[Event], Sequence[Add]]]] = {}
    for event_type, facts in table:
        grouped.setdefault(event_type, []).append(facts)
    return grouped


def event_facts(event: Event) -> Sequence[Add]:
    table = _event_facts()
    lines = [*table.get(event.event_type, ()), *table.get(ANY_EVENT, ())]
    return [add for facts in lines for add in facts(event)]


def event_types() -> tuple[str, ...]:
    """The event types with facts (`ANY_EVENT` among them: every type has)."""
    return tuple(_event_facts())


def folds_event(event_type: str) -> bool:
    """Whether an event of this type has facts."""
    types = event_types()
    return ANY_EVENT in types or event_type in types


def source_types() -> tuple[str, ...]:
    """The item types whose INSERTs, MODIFYs and REMOVEs the stream consumer folds."""
    return tuple(sources())
