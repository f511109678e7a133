"""What a list request asks for and what it gets, independent of HTTP and of the store.

`Page[T]` is what every list service returns and what the store's listings return (the store
depends on this services-layer type, not the reverse). `paginate` pages rows already in memory and
`order_rows` sorts them by Waldur's `o=` ordering: the one implementation of each, so a list that
must filter or sort in memory pages the way every other list does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 10


@dataclass(frozen=True)
class Ordering:
    """`o=name` / `o=-created`: a field and a direction (None: the endpoint's default)."""

    field: str | None = None
    descending: bool = False

    @classmethod
    def parse(cls, value: str | None) -> Ordering:
        if not value:
            return cls()
        first = next((part.strip() for part in value.split(",") if part.strip()), "")
        if not first:  # `o=,`: django-filter skips empty parts
            return cls()
        return cls(first.lstrip("-"), first.startswith("-"))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the list's total (Waldur's X-Result-Count)."""

    items: list[T]
    total: int


def paginate(rows: Sequence[T], request: PageRequest) -> Page[T]:
    """Page `request.page` (1-based) of `rows`, which hold the whole list."""
    start = (request.page - 1) * request.page_size
    return Page(list(rows[start : start + request.page_size]), len(rows))


def order_rows(
    rows: Sequence[T],
    ordering: Ordering,
    sort_keys: Mapping[str, Callable[[T], Any]],
    default: str | None = None,
) -> list[T]:
    """`rows` sorted by `ordering` when it names one of `sort_keys` (else by `default`, ascending;
    else as given). Sorting is stable, so rows equal on the key keep their given order."""
    field = ordering.field if ordering.field in sort_keys else default
    if field is None:
        return list(rows)
    descending = ordering.descending if field == ordering.field else False
    return sorted(rows, key=sort_keys[field], reverse=descending)
