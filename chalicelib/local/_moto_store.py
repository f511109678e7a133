"""The DynamoDB model patches of moto_speedups: transactions back up only the items they touch, and
queries read their partition from a sorted index instead of walking and sorting the whole table.

Everything here mirrors moto 5.2.6's own code (moto/dynamodb/models): the same candidates, the same
order, the same pages and LastEvaluatedKey, the same errors; any request outside the shapes handled
here (legacy QueryFilter, local secondary indexes, multi-attribute keys, key types other than S, N
and B, mixed types) goes to moto's own function unchanged. tests/integration/
test_moto_differential.py holds the two to identical answers on random operations.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Patch = Callable[[Any, str, Callable[..., Any]], None]

_PARTS = "_cirrus_partitions"  # the attribute a Table's partition index is kept in
_SCALAR_KEYS = frozenset({"S", "N", "B"})
# moto's RESULT_SIZE_LIMIT (1 MB) less the largest item (400 KB): below it, no later item can end a page.
_MAX_ITEM = 400 * 1024


def install(patch: Patch) -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    patch(
        DynamoDBBackend, "transact_write_items", _transact_write_items(DynamoDBBackend.transact_write_items)
    )
    patch(DynamoDBBackend, "update_item", _reindexing_update(DynamoDBBackend.update_item))
    for name in ("update_table", "execute_statement", "execute_transaction", "batch_execute_statement"):
        patch(DynamoDBBackend, name, _forgetting_indexes(getattr(DynamoDBBackend, name)))
    patch(Table, "put_item", _reindexing_put(Table.put_item))
    patch(Table, "delete_item", _reindexing_delete(Table.delete_item))
    patch(Table, "get_item", _tidy_get(Table.get_item))
    patch(Table, "query", _indexed_query(Table.query))


# --- the partition index ---------------------------------------------------------------------------


def _native(value: Any) -> Any:
    """What moto sorts and compares a key value by (DynamoType.cast_value), for S, N and B."""
    return Decimal(value.value) if value.type == "N" else value.value


@dataclass
class _Layout:
    """The partitions of the table (name None) or of one global secondary index: for each partition
    key value, its items' keys in moto's query order. An entry is (sort tuple, table key); the sort
    tuple holds the values of `attrs`, the attributes moto sorts that index's query results by."""

    name: str | None
    hash_attr: str
    range_attr: str | None  # the attribute a key condition on the sort key applies to
    attrs: list[str]
    types: dict[str, str] = field(default_factory=dict)  # attribute -> its type in every item
    buckets: dict[tuple[str, Any], list[tuple[tuple[Any, ...], Any]]] = field(default_factory=dict)
    where: dict[Any, tuple[tuple[str, Any], tuple[Any, ...]]] = field(default_factory=dict)
    broken: bool = False  # an item's key types differ or are not S/N/B: moto's own query is used

    def _entry(self, item: Any) -> tuple[tuple[str, Any], tuple[Any, ...]] | None:
        values = [item.attrs.get(a) for a in self.attrs]
        if any(v is None for v in values):
            return None  # not in this index (a sparse index)
        for attr, value in zip(self.attrs, values, strict=True):
            if value.type not in _SCALAR_KEYS or self.types.setdefault(attr, value.type) != value.type:
                self.broken = True
                return None
        bucket = item.attrs[self.hash_attr]
        return (bucket.type, _native(bucket)), tuple(_native(v) for v in values)

    def place(self, key: Any, item: Any | None) -> None:
        """Put the table key `key` where its current item (None: deleted) belongs."""
        old = self.where.pop(key, None)
        if old is not None:
            entries = self.buckets[old[0]]
            del entries[bisect.bisect_left(entries, (old[1],))]
            if not entries:
                del self.buckets[old[0]]
        entry = None if item is None or self.broken else self._entry(item)
        if entry is not None:
            bisect.insort(self.buckets.setdefault(entry[0], []), (entry[1], key))
            self.where[key] = entry


class _Partitions:
    def __init__(self, table: Any) -> None:
        self.layouts: dict[str | None, _Layout] = {}
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
        if range_attr is None:
            return  # a table without sort key: moto's own query (one item per partition anyway)
        self.layouts[None] = _Layout(
            None, hash_attr, range_attr, table._generate_attr_to_sort_by([hash_attr], [range_attr])
        )
        for index in table.global_indexes:
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            if len(hashes) != 1 or len(ranges) > 1:
                continue  # multi-attribute keys: moto's own query
            # As Table.query builds them: an index without sort key sorts by the table's.
            range_attrs = [ranges[0] if ranges else range_attr, range_attr]
            attrs = table._generate_attr_to_sort_by([hashes[0], hash_attr], range_attrs)
            self.layouts[index.name] = _Layout(index.name, hashes[0], ranges[0] if ranges else None, attrs)
        for item in _all_items(table):
            self.place(table, (item.hash_key, item.range_key), item)

    def place(self, table: Any, key: Any, item: Any | None) -> None:
        for layout in self.layouts.values():
            layout.place(key, item)


def _all_items(table: Any) -> Iterator[Any]:
    for partition in table.items.values():
        yield from partition.values()


def _partitions(table: Any) -> _Partitions:
    parts: _Partitions | None = table.__dict__.get(_PARTS)
    if parts is None:
        parts = _Partitions(table)
        table.__dict__[_PARTS] = parts
    return parts


def _current(table: Any, hash_key: Any, range_key: Any) -> Any:
    partition = table.items.get(hash_key)
    return None if partition is None else partition.get(range_key)


def _reindex(table: Any, hash_key: Any, range_key: Any) -> None:
    """Follow a change of one item in the table's partition index (if it has been built)."""
    partition = table.items.get(hash_key)
    if partition is not None and not partition:
        del table.items[hash_key]  # moto's defaultdict leaves an empty dict per key it looked up
    parts: _Partitions | None = table.__dict__.get(_PARTS)
    if parts is not None and table.range_key_attr is not None:
        parts.place(table, (hash_key, range_key), _current(table, hash_key, range_key))


def _forget(table: Any) -> None:
    table.__dict__.pop(_PARTS, None)


# --- writes ------------------------------------------------------------------------------------


def _reindexing_put(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        item = original(self, item_attrs, *args, **kwargs)
        _reindex(self, item.hash_key, item.range_key)
        return item

    return put_item


def _reindexing_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return original(self, hash_key, range_key)
        finally:
            _reindex(self, hash_key, range_key)

    return delete_item


def _tidy_get(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_item(self: Any, hash_key: Any, range_key: Any = None, projection_expression: Any = None) -> Any:
        try:
            return original(self, hash_key, range_key, projection_expression)
        finally:
            partition = self.items.get(hash_key)
            if range_key and partition is not None and not partition:
                del self.items[hash_key]  # the empty dict moto's defaultdict made for a miss

    return get_item


def _key_of(table: Any, key: dict[str, Any]) -> tuple[Any, Any] | None:
    """The (hash, range) DynamoTypes of a request's key, as moto's update_item reads them."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    return hash_key, range_key


def _reindexing_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, table_name, key, *args, **kwargs)
        finally:
            # The item is changed in place (its index keys included), or made by a put first.
            table = self.tables.get(table_name)
            found = None if table is None or not isinstance(key, dict) else _key_of(table, key)
            if found is not None:
                _reindex(table, *found)

    return update_item


def _forgetting_indexes(original: Callable[..., Any]) -> Callable[..., Any]:
    """Requests that change a table's indexes or items by ways not followed here (PartiQL, a new
    index): the partition index is rebuilt at the next query."""

    def forgetting(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            for table in list(self.tables.values()):
                _forget(table)

    return forgetting


@dataclass
class _Backup:
    """What a transaction may change in one table: its named items (copies; None where absent) and
    its stream's length. Or, when a key cannot be read, a copy of the whole table (moto's way)."""

    table: Any
    items: dict[tuple[Any, Any], Any | None] = field(default_factory=dict)
    stream_length: int = 0
    whole: Any | None = None

    def restore(self, backend: Any, name: str) -> None:
        if self.whole is not None:
            backend.tables[name] = self.whole
            return
        table = self.table
        for (hash_key, range_key), item in self.items.items():
            if table.range_key_attr is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
            elif item is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
            _reindex(table, hash_key, range_key)
        if table.stream_shard is not None:
            del table.stream_shard.items[self.stream_length :]


def _transaction_key(table: Any, op_type: str, op: dict[str, Any]) -> tuple[Any, Any] | None:
    source = op.get("Item") if op_type == "Put" else op.get("Key")
    if not isinstance(source, dict):
        return None
    return _key_of(table, source)


def _backups(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, _Backup]:
    backups: dict[str, _Backup] = {}
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        name = op.get("TableName") if isinstance(op, dict) else None
        if not name or name not in backend.tables:
            continue
        table = backend.tables[name]
        backup = backups.get(name)
        if backup is None:
            shard = table.stream_shard
            backup = backups[name] = _Backup(table, stream_length=len(shard.items) if shard else 0)
        if backup.whole is not None:
            continue
        key = _transaction_key(table, op_type, op)
        if key is None:
            backup.whole = copy.deepcopy(table)  # moto's own backup: the error comes later
            continue
        backup.items.setdefault(key, copy.deepcopy(_current(table, *key)))
    return backups


def _transact_write_items(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's transact_write_items with its backup (a deep copy of each table named) replaced by a
    copy of the items named: moto's function runs unchanged, with its `copy.deepcopy` of a table
    answered from the backups taken here, and its rollback (`self.tables[name] = backup`) undone
    into the per-item restore."""
    from moto.dynamodb import models

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        if len(transact_items) > 100:
            return original(self, transact_items)  # moto's TooManyTransactionsException
        backups = _backups(self, transact_items)
        tables = _RollbackWatch(self.tables, backups, self)
        real_tables = self.tables
        setattr(models, "copy", _BackupCopies(backups))  # noqa: B010 - the module moto imported as `copy`
        self.tables = tables
        try:
            return original(self, transact_items)
        finally:
            self.tables = real_tables
            setattr(models, "copy", copy)  # noqa: B010

    return transact_write_items


class _BackupCopies:
    """Stands in for the `copy` module in moto's transact_write_items: the "deep copy" of a table is
    a marker; the items are saved by _backups."""

    def __init__(self, backups: dict[str, _Backup]) -> None:
        self._tables = {id(b.table): b for b in backups.values()}

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        backup = self._tables.get(id(value))
        return backup if backup is not None else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


class _RollbackWatch(dict):  # type: ignore[type-arg]
    """The backend's `tables` during a transaction: moto's rollback assigns each table its backup
    (`self.tables[name] = backup`); that assignment restores the backup's items instead."""

    def __init__(self, tables: dict[str, Any], backups: dict[str, _Backup], backend: Any) -> None:
        super().__init__(tables)
        self._real = tables
        self._backend = backend

    def __setitem__(self, name: str, value: Any) -> None:
        if isinstance(value, _Backup):
            self._backend.tables = self._real  # the whole-table case assigns into the real dict
            value.restore(self._backend, name)
            self._backend.tables = self
            return
        self._real[name] = value
        super().__setitem__(name, value)


# --- queries -----------------------------------------------------------------------------------

_RANGE_OPS = {"EQ": "EQ", "=": "EQ", "LT": "LT", "<": "LT", "LE": "LE", "<=": "LE"}
_RANGE_OPS |= {
    "GT": "GT",
    ">": "GT",
    "GE": "GE",
    ">=": "GE",
    "BETWEEN": "BETWEEN",
    "BEGINS_WITH": "BEGINS_WITH",
}


@dataclass
class _Query:
    layout: _Layout
    entries: list[tuple[tuple[Any, ...], Any]]
    op: str | None
    values: list[Any]  # the sort-key condition's values (native)
    start_key: tuple[Any, ...] | None
    forward: bool
    limit: int | None


def _plan(table: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Query | None:
    """The query as this module runs it, or None for moto's own function."""
    (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward) = args[:6]
    index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
    consistent_read = args[8] if len(args) > 8 else kwargs.get("consistent_read", False)
    hash_conditions = kwargs.get("hash_key_conditions") or []
    range_conditions = kwargs.get("range_key_conditions") or []
    extra = {k for k in kwargs if k not in _QUERY_KWARGS}
    if extra or len(args) > 10 or (limit is not None and limit < 1):
        return None  # legacy QueryFilter (filter_kwargs), or an odd call: moto's own
    parts = _partitions(table)
    layout = parts.layouts.get(index_name)
    if layout is None or layout.broken or (consistent_read and index_name is not None):
        return None
    hash_value = _hash_value(layout, hash_key, hash_conditions)
    if hash_value is None:
        return None
    if len(range_conditions) > 1 or (range_conditions and range_conditions[0][0] != layout.range_attr):
        return None
    op = _RANGE_OPS.get(range_comparison) if range_comparison else None
    if range_comparison and (op is None or layout.range_attr is None):
        return None
    values = _typed(layout, layout.range_attr, range_objs) if op else []
    if values is None or hash_value.type not in _SCALAR_KEYS:
        return None
    if op == "BEGINS_WITH" and layout.types.get(layout.range_attr or "") not in (None, "S"):
        return None
    start_key = _start_key(layout, exclusive_start_key)
    if exclusive_start_key is not None and start_key is None:
        return None
    entries = layout.buckets.get((hash_value.type, _native(hash_value)), [])
    return _Query(layout, entries, op, values, start_key, scan_index_forward is not False, limit)


def _hash_value(layout: _Layout, hash_key: Any, conditions: list[tuple[str, Any]]) -> Any | None:
    """The partition key value a query names: moto reads the table's from `hash_key`, an index's
    from the key conditions."""
    if layout.name is None:
        return hash_key
    if len(conditions) != 1 or conditions[0][0] != layout.hash_attr:
        return None
    return conditions[0][1]


_QUERY_KWARGS = frozenset(
    {
        "index_name",
        "consistent_read",
        "filter_expression",
        "hash_key_conditions",
        "range_key_conditions",
        "projection_expressions",
    }
)


def _typed(layout: _Layout, attr: str | None, values: list[Any]) -> list[Any] | None:
    """Native values of a condition on `attr`, or None when moto would compare across types."""
    known = layout.types.get(attr or "")
    out = []
    for value in values:
        if value.type not in _SCALAR_KEYS or (known is not None and value.type != known):
            return None
        out.append(_native(value))
    return out


def _start_key(layout: _Layout, key: dict[str, Any] | None) -> tuple[Any, ...] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    if key is None:
        return None
    natives = []
    for attr in layout.attrs:
        raw = key.get(attr)
        if not isinstance(raw, dict) or len(raw) != 1:
            return None
        value = DynamoType(raw)
        known = layout.types.get(attr)
        if value.type not in _SCALAR_KEYS or (known is not None and value.type != known):
            return None
        natives.append(_native(value))
    return tuple(natives)


def _region(query: _Query) -> tuple[int, int]:
    """The entries whose sort-key value meets the condition: [low, high), ascending."""
    entries, values, n = query.entries, query.values, len(query.entries)

    def key(entry: tuple[tuple[Any, ...], Any]) -> Any:
        return entry[0][1]  # the sort-key value (moto's order: partition key, then sort key)

    if query.op is None:
        return 0, n
    left = bisect.bisect_left(entries, values[0], key=key)
    right = bisect.bisect_right(entries, values[-1], key=key)
    if query.op == "BEGINS_WITH":
        high = left
        while high < n and key(entries[high]).startswith(values[0]):
            high += 1
        return left, high
    return {
        "EQ": (left, right),
        "LT": (0, left),
        "LE": (0, right),
        "GT": (right, n),
        "GE": (left, n),
        "BETWEEN": (left, max(left, right)),
    }[query.op]


def _order(query: _Query) -> tuple[range, range]:
    """The entries moto iterates after its start key (in its order), and the region among them."""
    n = len(query.entries)
    low, high = _region(query)
    if query.forward:
        first = (
            0 if query.start_key is None else bisect.bisect_right(query.entries, query.start_key, key=_sort)
        )
        return range(first, n), range(max(first, low), high)
    last = (
        n - 1
        if query.start_key is None
        else bisect.bisect_left(query.entries, query.start_key, key=_sort) - 1
    )
    return range(last, -1, -1), range(min(last, high - 1), low - 1, -1)


def _sort(entry: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    return entry[0]


def _page(table: Any, query: _Query) -> tuple[list[Any], Any]:
    """moto's query loop over the region: results and the item its LastEvaluatedKey names."""
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    walk, region = _order(query)
    results: list[Any] = []
    size = 0
    position = None
    for position in region:
        item = _current(table, *query.entries[position][1])
        if len(results) == query.limit or size + item.size() > RESULT_SIZE_LIMIT:
            return results, results[-1]
        results.append(item)
        size += item.size()
    # After the region moto still visits every later item: a full page ends there; so may the
    # size limit, if the page is near it.
    rest = _after(walk, region, position)
    if rest and results and len(results) == query.limit:
        return results, results[-1]
    if results and size > RESULT_SIZE_LIMIT - _MAX_ITEM:
        for later in rest:
            if size + _current(table, *query.entries[later][1]).size() > RESULT_SIZE_LIMIT:
                return results, results[-1]
    return results, None


def _after(walk: range, region: range, position: int | None) -> range:
    """The positions moto visits after the region's last."""
    end = (region.start if position is None else position + walk.step) if len(region) else None
    if end is None:
        # An empty region: nothing was appended; what follows cannot end a page.
        return range(0)
    return range(end, walk.stop, walk.step)


def _indexed_query(original: Callable[..., Any]) -> Callable[..., Any]:
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        plan = _plan(self, args, kwargs)
        if plan is None:
            return original(self, *args, **kwargs)
        results, last = _page(self, plan)
        index_name = plan.layout.name
        last_key = None if last is None else self._get_last_evaluated_key(last, index_name)
        scanned = len(results)
        results = copy.deepcopy(results)
        if index_name:
            index = self.get_index(index_name)
            results = [index.project(r) for r in results]
        filter_expression = args[9] if len(args) > 9 else kwargs.get("filter_expression")
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        projection = args[6] if len(args) > 6 else kwargs.get("projection_expressions")
        if projection:
            results = [r.project(projection) for r in results]
        return results, scanned, last_key

    return query
