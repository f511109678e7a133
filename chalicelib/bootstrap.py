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
    """Bind the store to the current settings, the ports to the store, and load the extensions;
    cheap after the first call."""
    table.bind(get_settings())
    if ports.bound() is None:
        ports.use(dynamodb_ports())
    _load_extensions()


def dynamodb_ports() -> ports.Ports:
    """The ports on AWS and under moto: the single-table store modules (each checked by mypy
    against its Protocol here), its transactional unit of work, and the workflow layer's executor of
    effects (SQS, Step Functions), which units of work call after they commit; mail goes out
    through the configured backend (SES, or the local outbox)."""
    from chalicelib import mail
    from chalicelib.store import (
        categories,
        customers,
        events,
        grants,
        hooks,
        invitations,
        invoices,
        orders,
        projects,
        resources,
        roles,
        tokens,
        usages,
        users,
    )
    from chalicelib.store.unit_of_work import UnitOfWork
    from chalicelib.workflows.effects import execute

    return ports.Ports(
        unit_of_work=lambda: UnitOfWork(execute),
        effects=execute,
        categories=categories,
        users=users,
        tokens=tokens,
        roles=roles,
        orders=orders,
        resources=resources,
        usages=usages,
        grants=grants,
        invitations=invitations,
        customers=customers,
        projects=projects,
        events=events,
        hooks=hooks,
        mailer=mail.ConfiguredMailer(),
        invoices=invoices,
    )


def _load_extensions() -> None:
    """Contexts that plug into shared registries when imported (cached by the import system):
    the marketplace catalog registers offerings as a scope of roles."""
    import chalicelib.services.offerings  # noqa: F401
