"""Make moto's TransactWriteItems copy each table once per transaction, not once per write.

moto 5 backs up every table a transaction touches before applying it (its rollback on a failed
condition), but it takes that backup inside a loop over the transaction's writes: a transaction of
ten writes deep-copies the whole table, stream records included, ten times. All those copies are
taken before the first write is applied, so they are identical; this keeps the first copy of each
table for the rest of that call. Behaviour is unchanged (the same backup, the same rollback); the
cost of a transaction falls by its number of writes. A write still costs O(table) once: the
embedded stack's own issue (moto is an emulator, not a database).

`install()` is idempotent and touches only moto's DynamoDB model module; the tests apply it.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

_installed: list[bool] = [False]


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


def install() -> None:
    """Patch moto's DynamoDB backend (once per process)."""
    if _installed[0]:
        return
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

    setattr(models, "copy", proxy)  # noqa: B010 - replaces the module moto imported as `copy`
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed[0] = True
