"""DynamoDB's on-demand capacity arithmetic: an item's size by DynamoDB's rules (attribute names plus
values, in the wire form `{"S": ...}`) and the request units reading or writing it consumes. Pure:
bench/cost.py prices the measured requests with it, tests/ddb_costs.py asserts what an endpoint costs.
"""

from __future__ import annotations

import math
from typing import Any


def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one typed attribute value (its item-size rules)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":  # about one byte per two significant digits, plus one
        digits = len(str(v).lstrip("-").replace(".", "").strip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(x) for k, x in v.items())
    raise ValueError(f"unknown attribute kind {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    """An item's size: its attribute names and values."""
    return sum(len(k.encode()) + value_size(v) for k, v in (item or {}).items())


def read_units(sizes: list[int], consistent: bool, summed: bool) -> float:
    """RRU of a read: 4 KB units, per item (GetItem, BatchGetItem) or of the items' total (Query,
    Scan), at least one; halved when eventually consistent."""
    if summed:
        units = max(1, math.ceil(sum(sizes) / 4096))
    else:
        units = sum(max(1, math.ceil(b / 4096)) for b in sizes) or 1
    return units if consistent else units / 2


def write_units(size: int, indexes: int = 0, factor: int = 1) -> float:
    """WRU of one item written: 1 KB units, times `factor` (2 in a transaction), plus one standard
    write of that size per GSI holding the item (index copies are not transactional)."""
    units = math.ceil(max(size, 1) / 1024)
    return factor * units + indexes * units
