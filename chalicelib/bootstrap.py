"""Composition root: wires the store to the configured table, lazily and once (no import-time I/O)."""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.store import table


def ensure_ready() -> None:
    """Bind the store to the current settings and load the extensions; cheap after the first call."""
    table.bind(get_settings())
    _load_extensions()


def _load_extensions() -> None:
    """Contexts that plug into shared registries when imported (cached by the import system):
    the marketplace catalog registers offerings as a scope of roles."""
    import chalicelib.services.offerings  # noqa: F401
