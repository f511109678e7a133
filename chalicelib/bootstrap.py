"""Composition root: wires the store to the configured table and the services to the workflow layer,
lazily and once (no import-time I/O)."""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.store import table


def ensure_ready() -> None:
    """Bind the store to the current settings, give the services their effect executor and load
    the extensions; cheap after the first call."""
    table.bind(get_settings())
    _bind_effects()
    _load_extensions()


def _bind_effects() -> None:
    """What services plan (`services/effects.py`) the workflow layer carries out: after a unit of
    work commits, or at once for work with no transaction. Neither side imports the other's
    executor; this is the one place that knows both."""
    from chalicelib.services import effects
    from chalicelib.store import unit_of_work
    from chalicelib.workflows.effects import execute

    effects.bind(execute)
    unit_of_work.bind_executor(execute)


def _load_extensions() -> None:
    """Contexts that plug into shared registries when imported (cached by the import system):
    the marketplace catalog registers offerings as a scope of roles."""
    import chalicelib.services.offerings  # noqa: F401
