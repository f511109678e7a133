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
# Waldur's name for a sign-in through an OAuth/OIDC provider; Cirrus's is the Cognito hosted UI.
AUTH_LOGGED_IN_WITH_OAUTH = "auth_logged_in_with_oauth"


@dataclass(frozen=True)
class Event:
    """One audit-log entry. `customer_id` places it in its tenant's partition (None: a global event)."""

    event_type: str
    message: str
    context: dict[str, str]
    customer_id: str | None = None
    id: str = field(default_factory=new_id)
    created: datetime = field(default_factory=utcnow)
    # The id of the request (or task) that wrote it, for the logs of what follows from it (the
    # publisher, the hooks). Not part of Waldur's event: no API shows it.
    correlation_id: str | None = field(default=None, compare=False)

    @property
    def scopes(self) -> tuple[tuple[str, str], ...]:
        """Every scope the event concerns, as (scope type, id): it is listed in each one's feed."""
        return scopes_of(self.event_type, self.context)


# Context fields that name a scope the event concerns, and that scope's type (Waldur's feed).
_SCOPE_FIELDS = (
    ("customer_uuid", "customer"),
    ("project_uuid", "project"),
    ("resource_uuid", "resource"),
    ("offering_uuid", "offering"),
    ("affected_user_uuid", "user"),
)
SCOPE_TYPES = tuple(scope_type for _, scope_type in _SCOPE_FIELDS)


def scopes_of(event_type: str, context: dict[str, str]) -> tuple[tuple[str, str], ...]:
    found = [(scope_type, context[name]) for name, scope_type in _SCOPE_FIELDS if context.get(name)]
    if event_type.startswith("auth_") and context.get("user_uuid"):
        found.append(("user", context["user_uuid"]))  # a sign-in concerns the user who signed in
    return tuple(dict.fromkeys(found))


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
        correlation_id=ctx.correlation_id,
    )


ROLE_GRANTED = "role_granted"
ROLE_UPDATED = "role_updated"
ROLE_REVOKED = "role_revoked"

# Waldur's event groups (the `feature` filter, hooks' `event_groups`): group → its event types.
# Every event type Cirrus writes is in at least one group; `/api/events/event_groups/` lists them.
EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "customers": (CUSTOMER_CREATION_SUCCEEDED, CUSTOMER_UPDATE_SUCCEEDED, CUSTOMER_DELETION_SUCCEEDED),
    "projects": (PROJECT_CREATION_SUCCEEDED, PROJECT_UPDATE_SUCCEEDED, PROJECT_DELETION_SUCCEEDED),
    "users": (
        USER_CREATION_SUCCEEDED,
        USER_UPDATE_SUCCEEDED,
        USER_DELETION_SUCCEEDED,
        "user_password_updated_by_staff",
        "ssh_key_creation_succeeded",
        "ssh_key_deletion_succeeded",
        # Waldur's marketplace offering users (domain/offering_users.py) are in its users group.
        "marketplace_offering_user_created",
        "marketplace_offering_user_updated",
        "marketplace_offering_user_deleted",
        "marketplace_offering_user_restriction_updated",
    ),
    # Cirrus's own (Waldur logs no such events): kept out of Waldur's groups, whose expansion
    # waldur-api-client checks against Waldur's event types.
    "invitations": (
        "invitation_created",
        "invitation_updated",
        "invitation_accepted",
        "invitation_canceled",
        "invitation_expired",
    ),
    "auth": (
        AUTH_LOGGED_IN_WITH_USERNAME,
        AUTH_LOGIN_FAILED_WITH_USERNAME,
        AUTH_LOGGED_OUT,
        AUTH_LOGGED_IN_WITH_OAUTH,
    ),
    "permissions": (
        ROLE_GRANTED,
        ROLE_UPDATED,
        ROLE_REVOKED,
        "role_definition_created",
        "role_definition_updated",
        "role_definition_deleted",
        "role_enabled",
        "role_disabled",
    ),
    # Waldur's group of the marketplace catalog's events (offerings, their components and plans).
    "providers": (
        "marketplace_offering_created",
        "marketplace_offering_updated",
        "marketplace_offering_component_created",
        "marketplace_offering_component_updated",
        "marketplace_offering_component_deleted",
        "marketplace_plan_created",
        "marketplace_plan_updated",
        "marketplace_plan_archived",
    ),
    # Waldur's group of marketplace orders and resources (domain/orders.py, domain/resources.py).
    "resources": (
        "marketplace_order_created",
        "marketplace_order_approved",
        "marketplace_order_rejected",
        "marketplace_order_completed",
        "marketplace_order_terminated",
        "marketplace_order_failed",
        "marketplace_resource_create_requested",
        "marketplace_resource_create_succeeded",
        "marketplace_resource_create_failed",
        "marketplace_resource_create_canceled",
        "marketplace_resource_update_requested",
        "marketplace_resource_update_succeeded",
        "marketplace_resource_update_failed",
        "marketplace_resource_update_canceled",
        "marketplace_resource_terminate_requested",
        "marketplace_resource_terminate_succeeded",
        "marketplace_resource_terminate_failed",
        "marketplace_resource_terminate_canceled",
        "marketplace_resource_update_limits_succeeded",
        "marketplace_resource_update_limits_failed",
        "marketplace_resource_erred_on_backend",
        "marketplace_resource_update_end_date_succeeded",
        "resource_import_succeeded",
        # Waldur's RobotAccountEventLogger (domain/robot_accounts.py).
        "resource_robot_account_created",
        "resource_robot_account_updated",
        "resource_robot_account_deleted",
        "resource_robot_account_state_changed",
    ),
    # Waldur's billing group (domain/invoices.py). Waldur's `invoice_canceled` is left out: only its
    # admin cancels an invoice, and nothing in Cirrus does, so no command writes it.
    "invoices": (
        "invoice_created",
        "invoice_paid",
        "invoice_item_updated",
        "invoice_item_deleted",
    ),
    # Waldur's SshPublicKeyEventLogger: its types are in both groups (domain/ssh_keys.py).
    "ssh": ("ssh_key_creation_succeeded", "ssh_key_deletion_succeeded"),
    # Waldur's IssueEventLogger (domain/support.py).
    "support": (
        "issue_creation_succeeded",
        "issue_update_succeeded",
        "issue_deletion_succeeded",
        # Waldur's AttachmentEventLogger (domain/attachments.py), but `attachment_updated`: an
        # attachment is never changed.
        "attachment_created",
        "attachment_deleted",
    ),
    # Cirrus's own: the support desk's comments (Waldur logs none).
    "support_comments": ("issue_comment_created", "issue_comment_updated", "issue_comment_deleted"),
}


def register_group(group: str, event_types: tuple[str, ...]) -> None:
    """Add event types to a group (extensions, e.g. the marketplace, bring their own)."""
    EVENT_GROUPS[group] = tuple(dict.fromkeys(EVENT_GROUPS.get(group, ()) + event_types))


def all_event_types() -> list[str]:
    return sorted({t for types in EVENT_GROUPS.values() for t in types})


def expand_groups(groups: list[str] | tuple[str, ...]) -> set[str]:
    return {t for g in groups for t in EVENT_GROUPS.get(g, ())}
