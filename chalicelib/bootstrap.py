"""Composition root: wires the store to the configured table, lazily and once (no import-time I/O)."""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.store import table


def ensure_ready() -> None:
    """Bind the store to the current settings; cheap after the first call."""
    table.bind(get_settings())
