"""Paging a partition of the single table the way Waldur pages a queryset.

Fast path (no post-filter, order given by the key): read `page_size` items, after a keys-only read
that steps over earlier pages; the total comes from a counter, so a first page costs one Query
whatever the table holds. A platform-wide counter lags the table (the stream consumer keeps it,
store/counters.py): such a total (`total_lags`) is never trusted to cut a page short, and is never
less than the items up to and including the page, plus one if another item follows.

Slow path (a filter or an ordering no key provides): read the partition, filter and sort in
memory. Callers choose keys so that the common lists take the fast path; ACCESS_PATTERNS.md says
which do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.store.items import BaseItem


@dataclass(frozen=True)
class Listing:
    partition: str
    prefix: str | None = None
    between: tuple[str, str] | None = None  # sort key range (inclusive), instead of a prefix
    index: str | None = None  # None: the table; else "gsi1" or "gsi2"
    forward: bool = True
    predicate: Callable[[Any], bool] | None = None
    order_by: Callable[[Any], Any] | None = None
    descending: bool = False
    known_total: int | None = None
    total_lags: bool = False  # known_total is eventually consistent (a platform-wide counter)
    item_type: type[BaseItem] = BaseItem


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int


def _key_names(index: str | None) -> list[str]:
    names = ["pk", "sk"]
    if index:
        names += [f"{index}pk", f"{index}sk"]
    return names


def _condition(listing: Listing) -> Condition | None:
    attr = BaseItem.sk if listing.index is None else getattr(BaseItem, f"{listing.index}sk")
    if listing.between is not None:
        return attr.between(*listing.between)
    if listing.prefix is None:
        return None
    return attr.startswith(listing.prefix)


def _query(listing: Listing, **kwargs: Any) -> Any:
    target = BaseItem if listing.index is None else getattr(BaseItem, listing.index)
    return target.query(
        listing.partition,
        range_key_condition=_condition(listing),
        scan_index_forward=listing.forward,
        **kwargs,
    )


def _typed(items: Iterator[Any], item_type: type[BaseItem]) -> list[Any]:
    return [i for i in items if isinstance(i, item_type)]


def read_all(listing: Listing) -> list[Any]:
    """Every item of the listing, filtered and ordered (the slow path)."""
    items = _typed(_query(listing), listing.item_type)
    if listing.predicate is not None:
        items = [i for i in items if listing.predicate(i)]
    if listing.order_by is not None:
        items.sort(key=listing.order_by, reverse=listing.descending)
    return items


def fetch_page(listing: Listing, page: int, page_size: int) -> Page:
    """Items of page `page` (1-based) and the listing's total."""
    if listing.predicate is not None or listing.order_by is not None:
        items = read_all(listing)
        start = (page - 1) * page_size
        return Page(items[start : start + page_size], len(items))

    total = listing.known_total
    if total is None:
        total = BaseItem.count(
            listing.partition, range_key_condition=_condition(listing), index_name=listing.index
        )
    skip = (page - 1) * page_size
    if page_size <= 0 or (skip >= total and not listing.total_lags):
        return Page([], total)
    start_key = _step_over(listing, skip) if skip else None
    if skip and start_key is None:
        return Page([], total)
    if not listing.total_lags:
        results = _query(listing, limit=page_size, last_evaluated_key=start_key)
        return Page(_typed(results, listing.item_type), total)
    # One item more than the page tells whether another page follows, so a total behind the stream
    # never ends a walk over the pages (Link rel="next") before the items do.
    found = _typed(_query(listing, limit=page_size + 1, last_evaluated_key=start_key), listing.item_type)
    return Page(found[:page_size], max(total, skip + len(found)))


def _step_over(listing: Listing, count: int) -> dict[str, Any] | None:
    """The start key after the first `count` items, found with keys-only reads that ask each time
    for exactly the number still to skip (so no read goes past the page wanted)."""
    table = BaseItem._get_connection()
    start_key: dict[str, Any] | None = None
    remaining = count
    while remaining > 0:
        response = table.query(
            listing.partition,
            range_key_condition=_condition(listing),
            attributes_to_get=_key_names(listing.index),
            exclusive_start_key=start_key,
            index_name=listing.index,
            limit=remaining,
            scan_index_forward=listing.forward,
        )
        remaining -= int(response.get("Count", 0))
        start_key = response.get("LastEvaluatedKey")
        if start_key is None:
            return None  # the listing ended before `count` items
    return start_key


def platform_total(listing: Listing, counter: str) -> Listing:
    """`listing` totalled by a platform-wide counter (kept from the stream, so it lags the table
    by the stream's delay: store/counters.py)."""
    from chalicelib.store import counters

    return replace(listing, known_total=counters.value(counter), total_lags=True)


def everything(
    partition: str,
    item_type: type[BaseItem],
    counter: str,
    *,
    descending: bool = True,
    predicate: Callable[[Any], bool] | None = None,
    order_by: Callable[[Any], Any] | None = None,
    order_descending: bool = False,
) -> Listing:
    """Every item of one kind, on its gsi1 partition (newest first by default). Unfiltered and in
    key order, the total is the kind's platform-wide counter; otherwise the slow path counts what
    it reads."""
    listing = Listing(
        partition=partition,
        index="gsi1",
        forward=not descending,
        predicate=predicate,
        order_by=order_by,
        descending=order_descending,
        item_type=item_type,
    )
    plain = predicate is None and order_by is None
    return platform_total(listing, counter) if plain else listing
