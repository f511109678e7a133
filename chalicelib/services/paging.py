"""What a list request asks for, independent of HTTP."""

from __future__ import annotations

from dataclasses import dataclass


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
        first = value.split(",")[0].strip()
        return cls(first.lstrip("-"), first.startswith("-"))
