"""The JSON lines the powertools logger writes, as dicts: what CloudWatch Logs would get."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib import observability


@contextmanager
def captured_logs(level: int = logging.INFO) -> Iterator[list[dict[str, Any]]]:
    """Every line logged meanwhile (by any thread) at `level` or above, formatted by the logger's own
    formatter in the thread that logged it (so with that thread's scope keys)."""
    log = observability.logger()
    lines: list[dict[str, Any]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(log.registered_formatter.format(record)))

    inner = log._logger
    handler, before = Collect(level), inner.level
    inner.addHandler(handler)
    inner.setLevel(level)
    try:
        yield lines
    finally:
        inner.removeHandler(handler)
        inner.setLevel(before)
