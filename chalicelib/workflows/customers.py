"""Background work of customers: copying a renamed customer's names to its projects."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task


@task("customers.follow_rename", queue=BACKGROUND_QUEUE)
def follow_rename(payload: dict[str, Any], ctx: EventContext) -> int:
    """Copy the customer's current names to its projects. Queued once per customer and version
    after a rename; idempotent (a repeated or late task writes the same or nothing)."""
    from chalicelib.services import customers

    return customers.copy_names_to_projects(str(payload["customer_uuid"]))
