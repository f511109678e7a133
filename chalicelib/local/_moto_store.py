"""The DynamoDB model patches of moto_speedups (transactions and queries); see that module."""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any


class _CopyOncePerTransaction:
    """Stands in for the `copy` module inside moto's DynamoDB models: while a transaction's backups
    are being taken (in this thread), a table already copied is not copied again."""

    def __init__(self) -> None:
        self._local = threading.local()

    def begin(self) -> None:
        self._local.tables = {}

    def end(self) -> None:
        self._local.tables = None

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        tables: dict[int, Any] | None = getattr(self._local, "tables", None)
        if tables is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in tables:
            tables[id(value)] = copy.deepcopy(value, memo)
        return tables[id(value)]

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def install(patch: Callable[[Any, str, Callable[..., Any]], None]) -> None:
    from moto.dynamodb import models

    proxy = _CopyOncePerTransaction()
    original = models.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        proxy.begin()
        try:
            original(self, transact_items)
        finally:
            proxy.end()

    patch(models, "copy", proxy)  # type: ignore[arg-type]
    patch(models.DynamoDBBackend, "transact_write_items", transact_write_items)
