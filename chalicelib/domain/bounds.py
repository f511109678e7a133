"""How much free-form input a client may have stored, and how it is measured.

Clients' free-form JSON (order and resource attributes, offering options, backend metadata,
reports) and long texts live inside DynamoDB items, which hold at most 400 KB, and some are copied
into other items (an offering's plugin options into each of its orders and resources, a Create
order's attributes into its resource). Unbounded, one request makes items that later writes of
the same entity cannot store, stranding the order that carries them.

Each budget below is in the bytes the store writes: pynamodb's `JSONAttribute` is `json.dumps`,
which escapes non-ASCII characters (6 bytes each, 12 outside the BMP), so the stored size, not the
character count, is what counts. The figures make the largest item that holds them (a resource:
attributes, their description copied out, plugin options, backend metadata, report, error
message and traceback) fit twice over in one item, because moto (tests, `make run`) counts the
old and the new value of a replaced attribute together; tests/unit/test_input_bounds.py adds it up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

KIB = 1024
ITEM_LIMIT = 400_000  # DynamoDB's largest item, in bytes (names and values)


@dataclass(frozen=True)
class Bound:
    """What one free-form JSON field may hold."""

    max_bytes: int  # stored (json.dumps) size
    max_depth: int = 10  # levels of objects and arrays; a scalar is 0, {"a": 1} is 1
    max_keys: int = 500  # keys of all objects in it, together
    max_key_length: int = 255


ATTRIBUTES = Bound(32 * KIB)  # an order's / resource's / offering's attributes
OPTIONS = Bound(32 * KIB)  # an offering's order form (`options`)
PLUGIN_OPTIONS = Bound(16 * KIB)  # copied into every order and resource of the offering
SECRET_OPTIONS = Bound(16 * KIB)
BACKEND_METADATA = Bound(16 * KIB)
REPORT = Bound(24 * KIB)
# Per component type (a type is at most 50 characters): limits, plan prices and quotas.
AMOUNTS = Bound(8 * KIB, max_depth=1, max_keys=100, max_key_length=50)

# Long texts, also in stored bytes (their character limits stay as the API states them).
LONG_TEXT_BYTES = 16 * KIB  # an offering's full description, terms of service, guides
ERROR_MESSAGE_BYTES = 16 * KIB
ERROR_TRACEBACK_BYTES = 24 * KIB


def stored_size(value: Any) -> int:
    """The bytes `value` takes in an item (what pynamodb's JSONAttribute writes)."""
    return len(json.dumps(value, default=str))


@dataclass(frozen=True)
class Shape:
    depth: int
    keys: int
    longest_key: int


def shape(value: Any, stop_depth: int | None = None) -> Shape:
    """Depth, key count and longest key of a JSON value, walked without recursion (input may be
    deep); below `stop_depth + 1` levels nothing more is looked at (already too deep)."""
    depth = keys = longest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
            keys += len(node)
            longest = max([longest, *(len(str(k)) for k in node)])
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth = max(depth, level + 1)
        if stop_depth is None or level + 1 <= stop_depth:
            stack.extend((child, level + 1) for child in children)
    return Shape(depth, keys, longest)


def problem(value: Any, bound: Bound) -> str | None:
    """Why `value` may not be stored under `bound` (None: it may)."""
    found = shape(value, bound.max_depth)
    if found.depth > bound.max_depth:
        return f"Ensure this value is nested no more than {bound.max_depth} levels deep."
    if found.keys > bound.max_keys:
        return f"Ensure this value has no more than {bound.max_keys} keys."
    if found.longest_key > bound.max_key_length:
        return f"Ensure no key is longer than {bound.max_key_length} characters."
    return text_problem(value, bound.max_bytes)


def text_problem(value: Any, max_bytes: int) -> str | None:
    """Why `value` is too large to store in `max_bytes` (None: it is not)."""
    size = stored_size(value)
    if size > max_bytes:
        return f"Ensure this value is no larger than {max_bytes} bytes as stored (it is {size})."
    return None
