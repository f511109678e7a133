"""Orders in their consumer customer's partition (`CUST#<c>` / `ORDER#<o>`).

gsi1 `ORDERS` / `<o>` finds an order by id alone and lists every order for staff, newest first (ids
are UUIDv7); gsi2 `PORDERS#<provider customer>` / `<offering>#<o>` lists a service provider's
orders, one offering's with a prefix. A non-final order also has an open mark (`OPENORDERS#<shard>` /
`<o>`), put and deleted in the transactions that make it non-final or final, for the hourly sweep of
orders whose workflow is gone. An order changes only from the state and version it was read in (a
transition that lost a race is a 409, never a second transition). `Idempotency-Key`s of
creations are in store/request_keys.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields as dc_fields
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.domain.errors import Conflict
from chalicelib.domain.orders import Actor, Order
from chalicelib.domain.vocabulary import OrderState, OrderType
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import Source
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, OpenOrderItem, OrderItem
from chalicelib.store.pages import Listing, everything
from chalicelib.store.unit_of_work import LOST_RACE, transaction

COUNTER = counters.ORDERS  # staff's total, kept by the stream consumer (store/counters.py)

_KEYED = {"id", "type", "state", "customer_id", "project_id", "offering_id", "provider_id"}
_KEYED |= {"resource_id", "created", "modified", "version"}
_DOC_FIELDS = tuple(f.name for f in dc_fields(Order) if f.name not in _KEYED)
_ACTORS = ("created_by", "consumer_reviewed_by", "provider_reviewed_by")
_TIMES = ("consumer_reviewed_at", "provider_reviewed_at", "completed_at")

# The slow path's 400: what is listed, and the filters that narrow the request.
NARROW = ("orders", "customer_uuid=, project_uuid=, provider_uuid= or offering_uuid=")


def _to_doc(order: Order) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name in _DOC_FIELDS:
        value = getattr(order, name)
        if isinstance(value, Actor):
            value = {
                "id": value.id,
                "username": value.username,
                "full_name": value.full_name,
                "email": value.email,
            }
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif name in ("attributes", "limits", "old_limits", "offering_plugin_options"):
            value = dict(value)
        doc[name] = value
    return doc


def _from_doc(doc: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in doc.items() if k in _DOC_FIELDS}
    for name in _ACTORS:
        if values.get(name):
            values[name] = Actor(**values[name])
    for name in _TIMES:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    if values.get("cost") is not None:
        values["cost"] = Decimal(values["cost"])
    for name in ("limits", "old_limits"):
        if name in values:
            values[name] = {k: int(v) for k, v in values[name].items()}
    return values


def _from_item(item: OrderItem) -> Order:
    return Order(
        id=item.order_id,
        type=OrderType(item.order_type),
        state=OrderState(item.state),
        customer_id=item.customer_id,
        project_id=item.project_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        resource_id=item.resource_id,
        created=item.created,
        modified=item.modified,
        version=int(item.version),
        **_from_doc(item.fields or {}),
    )


def _key(order: Order) -> OrderItem:
    return OrderItem(pk=keys.customer_pk(order.customer_id), sk=keys.order_sk(order.id))


def _item(order: Order) -> OrderItem:
    return OrderItem(
        pk=keys.customer_pk(order.customer_id),
        sk=keys.order_sk(order.id),
        gsi1pk=keys.ORDERS,
        gsi1sk=order.id,
        gsi2pk=keys.provider_orders(order.provider_id),
        gsi2sk=keys.by_offering_sk(order.offering_id, order.id),
        order_id=order.id,
        customer_id=order.customer_id,
        project_id=order.project_id,
        offering_id=order.offering_id,
        provider_id=order.provider_id,
        resource_id=order.resource_id,
        order_type=order.type.value,
        state=order.state.value,
        created=order.created,
        modified=order.modified,
        fields=_to_doc(order),
        version=order.version,
    )


def _open_mark(order: Order) -> OpenOrderItem:
    return OpenOrderItem(pk=keys.open_order_pk(order.id), sk=order.id, customer_id=order.customer_id)


def _mark_open(uow: Work, before: Order | None, after: Order | None) -> None:
    """Keep the open mark in step with whether the order is final (None: absent)."""
    if after is not None and not after.is_final and (before is None or before.is_final):
        transaction(uow).put(_open_mark(after))
    elif before is not None and not before.is_final and (after is None or after.is_final):
        transaction(uow).delete(_open_mark(before))


def get(order_id: str) -> Order | None:
    """The order with this id (one gsi1 Query; eventually consistent), or None."""
    for item in BaseItem.gsi1.query(keys.ORDERS, BaseItem.gsi1sk == order_id):
        if isinstance(item, OrderItem):
            return _from_item(item)
    return None


def load(customer_id: str, order_id: str) -> Order | None:
    """The order as stored now, before a change: one consistent GetItem of its partition (`get` is
    the gsi1 lookup that names the customer; it may be a version behind)."""
    try:
        return _from_item(
            OrderItem.get(keys.customer_pk(customer_id), keys.order_sk(order_id), consistent_read=True)
        )
    except OrderItem.DoesNotExist:
        return None


def add(uow: Work, order: Order) -> Order:
    """Create the order (counted in the staff list's total)."""
    stored = replace(order, version=1)
    transaction(uow).put(_item(stored), condition=OrderItem.pk.does_not_exist())
    _mark_open(uow, None, stored)
    return stored


def save_transition(uow: Work, before: Order, after: Order) -> Order:
    """Write `after`, provided the order is still in the state and version `before` was read in."""
    actions: list[Action] = [
        OrderItem.version.add(1),
        OrderItem.state.set(after.state.value),
        OrderItem.modified.set(after.modified),
        OrderItem.fields.set(_to_doc(after)),
    ]
    transaction(uow).update(
        _key(before),
        actions,
        condition=(OrderItem.version == before.version) & (OrderItem.state == before.state.value),
        on_conflict=Conflict(LOST_RACE),
    )
    _mark_open(uow, before, after)
    return replace(after, version=before.version + 1)


def remove(uow: Work, order: Order) -> None:
    """Delete a pending order, if it is unchanged."""
    transaction(uow).delete(
        _key(order),
        condition=(OrderItem.version == order.version) & (OrderItem.state == order.state.value),
        on_conflict=Conflict(LOST_RACE),
    )
    _mark_open(uow, order, None)


def open_orders(created_before: str, page_size: int, first_shard: int = 0) -> Iterator[tuple[str, str]]:
    """(customer id, order id) of every non-final order whose id sorts before `created_before` (a
    UUIDv7 bound: made before that instant), shard by shard from `first_shard`, oldest first in
    each, `page_size` marks per Query: the sweep of stranded orders reads open orders only, never
    the table."""
    for step in range(keys.OPEN_ORDER_SHARDS):
        shard = (first_shard + step) % keys.OPEN_ORDER_SHARDS
        query = OpenOrderItem.query(
            keys.open_orders_pk(shard), OpenOrderItem.sk < created_before, page_size=page_size
        )
        for item in query:
            if isinstance(item, OpenOrderItem):
                yield item.customer_id, item.sk


def forget_open(order_id: str) -> None:
    """Delete an open mark whose order is final or gone (marks change in their order's transactions,
    so only a hand edit or a partial restore leaves one)."""
    OpenOrderItem(pk=keys.open_order_pk(order_id), sk=order_id).delete()


# --- listings ---------------------------------------------------------------------------------------
Predicate = Callable[[Any], bool] | None


def listing_all(*, descending: bool = True, predicate: Predicate = None, order_by: Any = None,
                order_descending: bool = False) -> Listing:  # fmt: skip
    """Every order (gsi1 `ORDERS`), newest first; the total is the orders counter."""
    return everything(
        keys.ORDERS, OrderItem, COUNTER, descending=descending, predicate=predicate,
        order_by=order_by, order_descending=order_descending, narrow=NARROW,
    )  # fmt: skip


def _listing(source: Source) -> Listing:
    """A consumer customer's orders (its partition; one project's filtered from it, as orders of
    all its projects share it), a service provider's (gsi2: one offering's with a prefix), or every
    order."""
    predicate: Predicate = None
    prefix: str | None
    index: str | None
    if source.customer_id:
        if source.project_id:
            project_id = source.project_id
            predicate = lambda item: item.project_id == project_id  # noqa: E731
        partition, prefix, index = keys.customer_pk(source.customer_id), keys.ORDER_PREFIX, None
    elif source.provider_id:
        offering = source.offering_id
        partition, index = keys.provider_orders(source.provider_id), "gsi2"
        prefix = keys.offering_prefix(offering) if offering else None
    else:
        return listing_all()
    return Listing(
        partition=partition, prefix=prefix, index=index, predicate=predicate, item_type=OrderItem,
        what=NARROW[0], narrow_with=NARROW[1],
    )  # fmt: skip


def read(sources: Sequence[Source], *, bounded: bool) -> list[Order]:
    """The orders of `sources`, each once, oldest first. `bounded`: the caller filters or sorts them
    in memory, so the read stops after `filter_read_limit` items with a 400 asking to narrow the
    request."""
    return pages.read_rows([_listing(s) for s in sources], _from_item, bounded=bounded)


def newest_page(request: PageRequest, *, descending: bool = True) -> Page[Order]:
    """Page `request` of every order (staff's list), newest first unless `descending` is False: one
    Query whatever the table holds; the total is the stream-kept orders counter."""
    return pages.rows_page(listing_all(descending=descending), _from_item, request.page, request.page_size)
