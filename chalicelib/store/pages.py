"""Paging a partition of the single table the way Waldur pages a queryset.

Fast path (no post-filter, order given by the key): read `page_size` items, after a keys-only read
that steps over earlier pages; the total comes from a counter, so a first page costs one Query
whatever the table holds. A platform-wide counter lags the table (the stream consumer keeps it,
store/counters.py): such a total (`total_lags`) is never trusted to cut a page short, and is never
less than the items up to and including the page, plus one if another item follows.

Slow path (a filter or an ordering no key provides): read the partition, filter and sort in
memory. Callers choose keys so that the common lists take the fast path; ACCESS_PATTERNS.md says
which do. The slow path stops after `filter_read_limit` items (config) with a 400 asking to narrow
the request, so no request reads a partition without bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from pynamodb.expressions.condition import Condition

from chalicelib.config import get_settings
from chalicelib.domain.errors import TooBroad
from chalicelib.services.paging import Page
from chalicelib.store import keys
from chalicelib.store.items import BaseItem

TOO_BROAD = "Too many {what} to filter or sort (more than {limit}); narrow the request{hint}."


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
    # For the slow path's 400: what is listed, and the filters that would narrow it.
    what: str = "items"
    narrow_with: str = ""


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
    """Every item of the listing, filtered and ordered (the slow path: bounded when it filters or
    sorts, see `read_filtered`)."""
    if listing.predicate is None and listing.order_by is None:
        return _typed(_query(listing), listing.item_type)
    return read_filtered([listing])


def read_filtered(listings: Sequence[Listing]) -> list[Any]:
    """The items of `listings` (one request's partitions) that pass their predicates, ordered by
    the first one's `order_by` (else, for several, by sort key in their direction). Reading stops
    after `filter_read_limit` items between them, with a 400 naming the filters that would narrow
    it: a request never reads a partition without bound, whatever the table holds."""
    limit = get_settings().filter_read_limit
    found: list[Any] = []
    read = 0
    for listing in listings:
        for item in _query(listing, limit=limit - read + 1):
            read += 1
            if read > limit:
                raise _too_broad(listing, limit)
            if isinstance(item, listing.item_type) and (listing.predicate is None or listing.predicate(item)):
                found.append(item)
    if not listings:
        return found
    first = listings[0]
    if first.order_by is not None:
        found.sort(key=first.order_by, reverse=first.descending)
    elif len(listings) > 1:
        found.sort(key=_sort_value(first), reverse=not first.forward)
    return found


def _too_broad(listing: Listing, limit: int) -> TooBroad:
    hint = f" with {listing.narrow_with}" if listing.narrow_with else ""
    return TooBroad(TOO_BROAD.format(what=listing.what, limit=limit, hint=hint))


def _sort_value(listing: Listing) -> Callable[[Any], str]:
    name = "sk" if listing.index is None else f"{listing.index}sk"
    return lambda item: str(getattr(item, name))


def fetch_page(listing: Listing, page: int, page_size: int) -> Page[Any]:
    """Items of page `page` (1-based) and the listing's total."""
    if listing.predicate is not None or listing.order_by is not None:
        items = read_filtered([listing])
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


def fetch_merged_page(listings: Sequence[Listing], page: int, page_size: int, total: int) -> Page[Any]:
    """Page `page` of several partitions read as one list in sort-key order (the shards of one
    index; same index and direction, no filter), and its total. Constant in what they hold: one
    Query of `page_size` per partition, after keys-only reads of at most (page - 1) x page_size keys
    per partition to find where the page starts in each. A total that lags (`total_lags`) is never
    trusted to cut the page short (one more item a partition tells whether another page follows)."""
    skip = (page - 1) * page_size
    lags = any(listing.total_lags for listing in listings)
    if page_size <= 0 or (skip >= total and not lags) or not listings:
        return Page([], total)
    starts = _merged_starts(listings, skip) if skip else [None] * len(listings)
    if starts is None:
        return Page([], total)
    wanted = page_size + 1 if lags else page_size
    items: list[Any] = []
    for listing, start in zip(listings, starts, strict=True):
        items += _typed(_query(listing, limit=wanted, last_evaluated_key=start), listing.item_type)
    first = listings[0]
    items.sort(key=_sort_value(first), reverse=not first.forward)
    if lags:
        total = max(total, skip + len(items[:wanted]))
    return Page(items[:page_size], total)


def _merged_starts(listings: Sequence[Listing], skip: int) -> list[dict[str, Any] | None] | None:
    """Each partition's start key after the first `skip` items of the merged list (None: it starts
    at its beginning); None if the partitions hold fewer than `skip` items between them."""
    heads: list[tuple[str, int, dict[str, Any]]] = []
    for n, listing in enumerate(listings):
        name = "sk" if listing.index is None else f"{listing.index}sk"
        heads += [(str(key[name]["S"]), n, key) for key in _first_keys(listing, skip)]
    if len(heads) < skip:
        return None
    heads.sort(key=lambda head: head[0], reverse=not listings[0].forward)
    starts: list[dict[str, Any] | None] = [None] * len(listings)
    for _, n, key in heads[:skip]:
        starts[n] = key  # in each partition's order, so its last skipped key wins
    return starts


def _first_keys(listing: Listing, count: int) -> list[dict[str, Any]]:
    """The keys (raw, usable as start keys) of the listing's first `count` items."""
    table = BaseItem._get_connection()
    found: list[dict[str, Any]] = []
    start_key: dict[str, Any] | None = None
    while len(found) < count:
        response = table.query(
            listing.partition,
            range_key_condition=_condition(listing),
            attributes_to_get=_key_names(listing.index),
            exclusive_start_key=start_key,
            index_name=listing.index,
            limit=count - len(found),
            scan_index_forward=listing.forward,
        )
        found += response.get("Items", [])
        start_key = response.get("LastEvaluatedKey")
        if start_key is None:
            break
    return found


def everything(
    partition: str,
    item_type: type[BaseItem],
    counter: str,
    *,
    descending: bool = True,
    predicate: Callable[[Any], bool] | None = None,
    order_by: Callable[[Any], Any] | None = None,
    order_descending: bool = False,
    narrow: tuple[str, str] = ("items", ""),
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
        what=narrow[0],
        narrow_with=narrow[1],
    )
    plain = predicate is None and order_by is None
    return platform_total(listing, counter) if plain else listing


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


Row = TypeVar("Row", bound=_Identified)


def read_rows(listings: Sequence[Listing], convert: Callable[[Any], Row], *, bounded: bool) -> list[Row]:
    """The rows of `listings` (one request's partitions), each once, in id order (UUIDv7: oldest
    first). `bounded` (the caller filters or sorts in memory): stop after `filter_read_limit`
    items between them with the 400 asking to narrow the request (`read_filtered`)."""
    items = read_filtered(listings) if bounded else [i for s in listings for i in read_all(s)]
    rows = {row.id: row for row in map(convert, items)}
    return [rows[k] for k in sorted(rows)]


def rows_page(listing: Listing, convert: Callable[[Any], Row], page: int, page_size: int) -> Page[Row]:
    """Page `page` of `listing` (read in key order, the fast path), as domain rows."""
    found = fetch_page(listing, page, page_size)
    return Page([convert(i) for i in found.items], found.total)


def of_source(
    source: Any,
    item_type: type[BaseItem],
    *,
    project_prefix: Callable[[str], str],
    all_in_customer: str,
    provider_partition: Callable[[str], str],
    everything_else: Callable[[], Listing],
    narrow: tuple[str, str],
) -> Listing:
    """What one `ports.Source` lists of a kind kept under its consumer customer (one project's: a
    prefix of the partition) and indexed under its provider on gsi2 (one offering's: a prefix); a
    source naming neither is `everything_else()`."""
    index: str | None = None
    if source.customer_id:
        partition = keys.customer_pk(source.customer_id)
        prefix: str | None = project_prefix(source.project_id) if source.project_id else all_in_customer
    elif source.provider_id:
        partition, index = provider_partition(source.provider_id), "gsi2"
        prefix = keys.offering_prefix(source.offering_id) if source.offering_id else None
    else:
        return everything_else()
    return Listing(
        partition=partition, prefix=prefix, index=index, item_type=item_type,
        what=narrow[0], narrow_with=narrow[1],
    )  # fmt: skip
