"""Composition root: builds the ports the services use from the real adapters, lazily and once, and
binds the store to the configured table (no import-time I/O, no registration by import).

`ensure_ready()` is called by every entry point (the API's request handling, the queue consumer, the
stream publisher, the ops CLI, the local stack). Tests that run services on the in-memory fakes bind
`tests.fakes.build()` with `ports.use(...)` first; `ensure_ready()` leaves a bound set alone.
"""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.services import ports
from chalicelib.store import table


def ensure_ready() -> None:
    """Bind the store to the current settings, the ports to the store, give the services their
    effect executor and load the extensions; cheap after the first call."""
    table.bind(get_settings())
    if ports.bound() is None:
        ports.use(dynamodb_ports())
    _bind_effects()
    _load_extensions()


def dynamodb_ports() -> ports.Ports:
    """The ports on AWS and under moto: the single-table store modules (each checked by mypy
    against its Protocol here) and its transactional unit of work."""
    from chalicelib.store import categories, roles, tokens, users
    from chalicelib.store.unit_of_work import UnitOfWork

    return ports.Ports(
        unit_of_work=UnitOfWork,
        categories=categories,
        users=users,
        tokens=tokens,
        roles=roles,
    )


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
