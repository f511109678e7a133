"""Composition root: builds the ports the services use from the real adapters, lazily and once, and
binds the store to the configured table (no import-time I/O, no registration by import).

`ensure_ready()` is called by every entry point (the API's request handling, the queue consumer, the
stream publisher, the ops CLI, the local stack). Tests that run services on the in-memory fakes bind
`tests.fakes.build()` with `ports.use(...)` first; `ensure_ready()` leaves a bound set alone.
`wire_services()` plugs the contexts into each other's registries (no AWS): `ensure_ready()` calls
it, and so does the fakes' fixture.
"""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.services import ports
from chalicelib.store import table


def ensure_ready() -> None:
    """Bind the store to the current settings, the ports to the store, and wire the services;
    cheap after the first call."""
    table.bind(get_settings())
    if ports.bound() is None:
        ports.use(dynamodb_ports())
    wire_services()


def dynamodb_ports() -> ports.Ports:
    """The ports on AWS and under moto: the single-table store modules (each checked by mypy
    against its Protocol here), its transactional unit of work, and the workflow layer's executor of
    effects (SQS, Step Functions), which units of work call after they commit; mail goes out
    through the configured backend (SES, or the local outbox)."""
    from chalicelib import files, mail
    from chalicelib.store import (
        agents,
        analytics,
        categories,
        customers,
        events,
        grants,
        hooks,
        invitations,
        invoices,
        offering_users,
        offerings,
        orders,
        projects,
        request_keys,
        resources,
        robot_accounts,
        roles,
        service_providers,
        slugs,
        ssh_keys,
        support,
        support_attachments,
        support_catalog,
        support_feedbacks,
        support_sync,
        tokens,
        usages,
        user_limits,
        user_usages,
        users,
    )
    from chalicelib.store.unit_of_work import UnitOfWork
    from chalicelib.workflows.effects import execute

    return ports.Ports(
        unit_of_work=lambda: UnitOfWork(execute),
        effects=execute,
        categories=categories,
        offerings=offerings,
        service_providers=service_providers,
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
        files=files.S3Files(),
        invoices=invoices,
        user_usages=user_usages,
        user_limits=user_limits,
        agents=agents,
        ssh_keys=ssh_keys,
        slugs=slugs,
        offering_users=offering_users,
        robot_accounts=robot_accounts,
        request_keys=request_keys,
        support=support,
        support_catalog=support_catalog,
        support_attachments=support_attachments,
        support_links=support_sync,
        support_feedbacks=support_feedbacks,
        analytics=analytics,
    )


def wire_services() -> None:
    """Plug the contexts into the shared registries, explicitly (no module registers itself when
    imported): the catalog's offerings become a scope of roles (add_user/, list_users/). Touches
    no AWS, so the fakes' fixture calls it too; idempotent."""
    from chalicelib.services import offering_users, offerings, provider_lists, ssh_keys

    offerings.register_role_scope()
    offering_users.register_followers()
    # The provider's `keys/` list reads its users' SSH keys through this reader.
    if ssh_keys.keys_of_users not in provider_lists.KEY_READERS:
        provider_lists.KEY_READERS.append(ssh_keys.keys_of_users)
