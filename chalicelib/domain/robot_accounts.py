"""Robot accounts (Waldur's `RobotAccount`): an account on a resource's backend that no person logs
in to (a CI/CD runner, a service), set up by the resource's provider, with the Waldur users allowed
to use it and the SSH keys it accepts.

- One per resource and `type` (Waldur's unique_together); `username` may stay empty until the
  provider's agent names the account.
- Its `state` follows Waldur's RobotAccountStates through the set_state_* actions below (one source
  of truth for the API: anything else is Waldur's 400 `StateTransitionError` naming the states the
  action is valid in).
- Its `users` and `responsible_user` must hold a role in the resource's project or customer
  (Waldur's get_resource_users), its `keys` must each be an SSH public key OpenSSH accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from chalicelib.domain import events
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import StateTransitionRefused, ValidationError
from chalicelib.domain.ssh_keys import Fingerprints, clean_public_key

MODEL = "RobotAccount"
TYPE_MAX = 5  # Waldur's RobotAccount.type column
USERNAME_MAX = 32  # Waldur's RobotAccount.username column
DESCRIPTION_MAX = 2000
MAX_KEYS = 100  # Cirrus's bound (Waldur's JSON list has none): a key is up to 2,000 characters
MAX_USERS = 100  # Cirrus's bound on `users`

TYPE_TAKEN = "The fields resource, type must make a unique set."
NOT_A_MEMBER = "User should belong to the same project or organization as resource."
RESPONSIBLE_NOT_A_MEMBER = (
    "The responsible user should belong to the same project or organization as resource."
)
TOO_MANY_KEYS = f"Ensure this field has no more than {MAX_KEYS} elements."
TOO_MANY_USERS = f"Ensure this field has no more than {MAX_USERS} elements."

CREATED = "resource_robot_account_created"
UPDATED = "resource_robot_account_updated"
DELETED = "resource_robot_account_deleted"
STATE_CHANGED = "resource_robot_account_state_changed"
EVENT_TYPES = (CREATED, UPDATED, DELETED, STATE_CHANGED)


class State(StrEnum):
    """Waldur's RobotAccountStates (display strings)."""

    REQUESTED = "Requested"
    CREATING = "Creating"
    OK = "OK"
    REQUESTED_DELETION = "Requested deletion"
    DELETED = "Deleted"
    ERROR = "Error"


# The `state=` filter's numbers (the client's RemoteResourceSyncStatusRemoteStateEnum 1..6 follow
# Waldur's RobotAccount.States integers).
STATE_NUMBERS: dict[str, State] = {
    "1": State.REQUESTED,
    "2": State.CREATING,
    "3": State.OK,
    "4": State.REQUESTED_DELETION,
    "5": State.DELETED,
    "6": State.ERROR,
}

_S = State
# action → (the states it may start from, the state it leads to), from the client's docstrings:
# creating from Requested; OK also recovers from Error; deletion is requested of an OK account and
# completed from Requested deletion; an account may be marked erred at any time before it is gone.
TRANSITIONS: dict[str, tuple[tuple[State, ...], State]] = {
    "set_state_creating": ((_S.REQUESTED,), _S.CREATING),
    "set_state_ok": ((_S.REQUESTED, _S.CREATING, _S.ERROR), _S.OK),
    "set_state_erred": ((_S.REQUESTED, _S.CREATING, _S.OK, _S.REQUESTED_DELETION, _S.ERROR), _S.ERROR),
    "set_state_request_deletion": ((_S.OK,), _S.REQUESTED_DELETION),
    "set_state_deleted": ((_S.REQUESTED_DELETION,), _S.DELETED),
}


@dataclass(frozen=True)
class RobotAccount:
    """A robot account, placed like its resource (consumer customer and project, offering and
    provider customer) so both sides' lists find it, with the names its views show."""

    id: str
    resource_id: str
    customer_id: str
    project_id: str
    offering_id: str
    provider_id: str  # the offering's customer
    type: str
    created: datetime
    modified: datetime
    username: str = ""
    description: str = ""
    users: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    responsible_user_id: str | None = None
    backend_id: str = ""
    state: State = State.REQUESTED
    error_message: str = ""
    error_traceback: str = ""
    resource_name: str = ""
    resource_backend_id: str = ""
    project_name: str = ""
    customer_name: str = ""
    offering_name: str = ""
    provider_name: str = ""
    version: int = 0


# --- rules ---------------------------------------------------------------------------------------
def check_type(value: str) -> str:
    if not value:
        raise ValidationError.field("type", "This field may not be blank.")
    if len(value) > TYPE_MAX:
        raise ValidationError.field("type", f"Ensure this field has no more than {TYPE_MAX} characters.")
    return value


def check_username(value: str) -> str:
    if len(value) > USERNAME_MAX:
        message = f"Ensure this field has no more than {USERNAME_MAX} characters."
        raise ValidationError.field("username", message)
    return value


def clean_keys(values: list[str]) -> tuple[str, ...]:
    """The keys as stored (each trimmed and checked as /api/keys/ checks one), or a ValidationError
    on `keys` with the first bad key's message."""
    if len(values) > MAX_KEYS:
        raise ValidationError.field("keys", TOO_MANY_KEYS)
    cleaned = []
    for value in values:
        try:
            key, _ = clean_public_key(value)
        except ValidationError as exc:
            messages = exc.errors.get("public_key") if isinstance(exc.errors, dict) else None
            raise ValidationError.field("keys", (messages or ["Invalid SSH public key."])[0]) from None
        cleaned.append(key)
    return tuple(cleaned)


def fingerprints(account: RobotAccount) -> list[Fingerprints]:
    """Each key's fingerprints (Waldur's `fingerprints`), in the keys' order."""
    return [clean_public_key(key)[1] for key in account.keys]


def transition(account: RobotAccount, action: str, now: datetime, error_message: str = "") -> RobotAccount:
    """The account after `action`, or StateTransitionRefused (Waldur's 400 StateTransitionError)
    naming the states it is valid in."""
    sources, target = TRANSITIONS[action]
    if account.state not in sources:
        names = ", ".join(s.value for s in sources)
        raise StateTransitionRefused(f"Valid states for operation: {names}.")
    if target is State.ERROR:
        return replace(account, state=target, error_message=error_message, modified=now)
    return replace(account, state=target, error_message="", error_traceback="", modified=now)


# --- events --------------------------------------------------------------------------------------
def event_fields(account: RobotAccount) -> dict[str, str]:
    """The robot account and its resource, so the resource's consumer and provider feeds show it."""
    return {
        "robot_account_uuid": account.id,
        "robot_account_username": account.username,
        "robot_account_type": account.type,
        "resource_uuid": account.resource_id,
        "resource_name": account.resource_name,
        "offering_uuid": account.offering_id,
        "offering_name": account.offering_name,
        "project_uuid": account.project_id,
        "project_name": account.project_name,
        "customer_uuid": account.customer_id,
        "customer_name": account.customer_name,
    }


def _message(account: RobotAccount, event_type: str) -> str:
    if event_type == STATE_CHANGED:
        return f"Robot account {account.username} state has been changed to {account.state.value}."
    verb = {CREATED: "created", UPDATED: "updated", DELETED: "deleted"}[event_type]
    return f"Robot account {account.username} has been {verb}."


def event(account: RobotAccount, event_type: str, ctx: EventContext) -> events.Event:
    """Waldur's robot-account event (its message), in the resource's customer's log."""
    message = _message(account, event_type)
    return events.make_event(event_type, message, ctx, event_fields(account), account.customer_id)
