"""Domain events: what happened, in Waldur's event type names and message templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.ids import new_id

CUSTOMER_CREATION_SUCCEEDED = "customer_creation_succeeded"
CUSTOMER_UPDATE_SUCCEEDED = "customer_update_succeeded"
CUSTOMER_DELETION_SUCCEEDED = "customer_deletion_succeeded"
PROJECT_CREATION_SUCCEEDED = "project_creation_succeeded"
PROJECT_UPDATE_SUCCEEDED = "project_update_succeeded"
PROJECT_DELETION_SUCCEEDED = "project_deletion_succeeded"
USER_CREATION_SUCCEEDED = "user_creation_succeeded"
USER_UPDATE_SUCCEEDED = "user_update_succeeded"
USER_DELETION_SUCCEEDED = "user_deletion_succeeded"
AUTH_LOGGED_IN_WITH_USERNAME = "auth_logged_in_with_username"
AUTH_LOGIN_FAILED_WITH_USERNAME = "auth_login_failed_with_username"
AUTH_LOGGED_OUT = "auth_logged_out"


@dataclass(frozen=True)
class Event:
    """One audit-log entry. `customer_id` places it in its tenant's partition (None: a global event)."""

    event_type: str
    message: str
    context: dict[str, str]
    customer_id: str | None = None
    id: str = field(default_factory=new_id)
    created: datetime = field(default_factory=utcnow)


_PAST_TENSE = {"creation": "created", "update": "updated", "deletion": "deleted"}
CREATION, UPDATE, DELETION = "creation", "update", "deletion"


def lifecycle_event(
    kind: str,
    action: str,
    name: str,
    ctx: EventContext,
    fields: dict[str, str],
    customer_id: str | None = None,
) -> Event:
    """`<kind>_<action>_succeeded` with Waldur's message, e.g. "Project Apollo has been created."."""
    message = f"{kind.capitalize()} {name} has been {_PAST_TENSE[action]}."
    return make_event(f"{kind}_{action}_succeeded", message, ctx, fields, customer_id)


def make_event(
    event_type: str,
    message: str,
    ctx: EventContext,
    entity_fields: dict[str, str],
    customer_id: str | None = None,
) -> Event:
    """Build an event whose context joins the actor's fields and the entity's fields."""
    return Event(
        event_type=event_type,
        message=message,
        context={**ctx.as_event_fields(), **entity_fields},
        customer_id=customer_id,
    )


ROLE_GRANTED = "role_granted"
ROLE_UPDATED = "role_updated"
ROLE_REVOKED = "role_revoked"
