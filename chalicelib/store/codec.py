"""One mapping between a domain dataclass and the JSON document an item keeps it in.

A store module keeps its keys and its access patterns: which fields are attributes of their own
(keys, index keys, what a condition or a filter reads). Everything else of the dataclass goes into
one `fields` document through a `Codec`, so a field added to the dataclass is stored and read back
without anybody listing it (a hand-written mapping silently dropped a forgotten one). Values are
written as JSON (decimals as strings, dates as ISO 8601, enums as their values) and read back
through pydantic's validation of the dataclass, which turns them into the declared types again.
Keys the dataclass does not have (written by an older or newer version) are ignored on reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from functools import cached_property
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")


class Codec(Generic[T]):
    """Encodes instances of `kind` (a dataclass) to a JSON-ready dict of its fields but `keyed`
    (the item's own attributes), and decodes such a dict, with the keyed values, back."""

    def __init__(self, kind: type[T], keyed: frozenset[str] = frozenset()) -> None:
        self._kind = kind
        self._names = frozenset(f.name for f in fields(kind)) - keyed  # type: ignore[arg-type]

    @cached_property
    def _adapter(self) -> TypeAdapter[T]:
        # Built on first use, not at import (building one walks the dataclass's types).
        return TypeAdapter(self._kind)

    def to_doc(self, value: T) -> dict[str, Any]:
        """The document of `value`: every field not keyed, as JSON values."""
        dumped: dict[str, Any] = self._adapter.dump_python(value, mode="json")
        return {name: dumped[name] for name in sorted(self._names)}

    def from_doc(self, doc: Mapping[str, Any], **keyed: Any) -> T:
        """The instance from its document and the item's own attributes (`keyed`); a field the
        document lacks takes the dataclass's default."""
        known = {name: value for name, value in doc.items() if name in self._names}
        return self._adapter.validate_python({**known, **keyed})
