"""Offering users (Waldur's `OfferingUser`): a user's account at a service provider, one per user
per offering, with the username the provider's backend knows them by.

- Made when a user gains access to a resource of the offering (a project role where one lives, or
  a resource made where they hold a project role), with a username by the offering's
  `plugin_options.username_generation_policy` (the default, `service_provider`, leaves it empty
  for the provider's agent to set).
- Its `state` follows Waldur's account lifecycle (the transitions below, one source of truth for
  the API's actions: anything else is a 409); setting a username on an account being created
  makes it OK, as Waldur's save does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from chalicelib.domain import events
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict, ValidationError

MODEL = "OfferingUser"
USERNAME_MAX = 100  # Waldur's OfferingUser.username
COMMENT_MAX = 2000
# Letters, digits and . _ - @ + (the rule of users/, ASCII only: a backend account name).
USERNAME_CHARACTERS = "A-Za-z0-9._@+-"
_USERNAME = re.compile(f"[{USERNAME_CHARACTERS}]+")
# `check_username` as the schema says it (blank: no username yet), and a username that must be given.
USERNAME_PATTERN = f"^[{USERNAME_CHARACTERS}]*$"
GIVEN_USERNAME_PATTERN = f"^[{USERNAME_CHARACTERS}]+$"
INVALID_USERNAME = (
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
)
ALREADY = "This user already has an account in this offering."
TOO_LONG = f"Ensure this field has no more than {USERNAME_MAX} characters."

CREATED = "marketplace_offering_user_created"
UPDATED = "marketplace_offering_user_updated"
DELETED = "marketplace_offering_user_deleted"
RESTRICTION_UPDATED = "marketplace_offering_user_restriction_updated"
EVENT_TYPES = (CREATED, UPDATED, DELETED, RESTRICTION_UPDATED)


class State(StrEnum):
    """Waldur's OfferingUserState (display strings)."""

    REQUESTED = "Requested"
    CREATING = "Creating"
    PENDING_ACCOUNT_LINKING = "Pending account linking"
    PENDING_ADDITIONAL_VALIDATION = "Pending additional validation"
    OK = "OK"
    ERROR_CREATING = "Error creating"
    REQUESTED_DELETION = "Requested deletion"
    DELETING = "Deleting"
    DELETED = "Deleted"
    ERROR_DELETING = "Error deleting"


_S = State
_CREATING_SIDE = (_S.REQUESTED, _S.CREATING, _S.ERROR_CREATING)
_PENDING = (_S.PENDING_ACCOUNT_LINKING, _S.PENDING_ADDITIONAL_VALIDATION)

# action → (the states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[State, ...], State]] = {
    "begin_creating": ((_S.REQUESTED, _S.ERROR_CREATING), _S.CREATING),
    "set_ok": ((*_CREATING_SIDE, *_PENDING), _S.OK),
    "set_error_creating": ((_S.REQUESTED, _S.CREATING, *_PENDING), _S.ERROR_CREATING),
    "set_pending_account_linking": (
        (*_CREATING_SIDE, _S.PENDING_ADDITIONAL_VALIDATION, _S.OK),
        _S.PENDING_ACCOUNT_LINKING,
    ),
    "set_pending_additional_validation": (
        (*_CREATING_SIDE, _S.PENDING_ACCOUNT_LINKING, _S.OK),
        _S.PENDING_ADDITIONAL_VALIDATION,
    ),
    "set_validation_complete": (_PENDING, _S.OK),
    "request_deletion": ((_S.OK, _S.ERROR_DELETING, _S.ERROR_CREATING), _S.REQUESTED_DELETION),
    "set_deleting": ((_S.REQUESTED_DELETION, _S.ERROR_DELETING), _S.DELETING),
    "set_deleted": ((_S.DELETING, _S.REQUESTED_DELETION), _S.DELETED),
    "set_error_deleting": ((_S.REQUESTED_DELETION, _S.DELETING), _S.ERROR_DELETING),
}
# A username set on an account still being made completes it (Waldur's save does the same).
COMPLETED_BY_USERNAME = frozenset({_S.REQUESTED, _S.CREATING, _S.ERROR_CREATING})
# Actions that carry the provider's comment (why the user must act).
COMMENTED = frozenset({"set_pending_account_linking", "set_pending_additional_validation"})


@dataclass(frozen=True)
class OfferingUser:
    id: str
    offering_id: str
    provider_id: str  # the offering's customer (its partition)
    user_id: str
    created: datetime
    modified: datetime
    username: str = ""
    state: State = State.REQUESTED
    is_restricted: bool = False
    service_provider_comment: str = ""
    service_provider_comment_url: str = ""
    offering_name: str = ""
    version: int = 1


@dataclass(frozen=True)
class AttributeConfig:
    """Which of a user's attributes the offering's provider sees (Waldur's
    OfferingUserAttributeConfig); `saved`: False for the default one nobody stored."""

    offering_id: str
    provider_id: str
    exposed: tuple[str, ...]
    created: datetime
    modified: datetime
    saved: bool = False
    version: int = 0


# The user attributes Cirrus keeps (domain/users.py) and so can expose; Waldur's default exposes
# username, full name and email.
EXPOSABLE = ("username", "full_name", "email", "organization", "job_title", "phone_number", "civil_number")
DEFAULT_EXPOSED = ("username", "full_name", "email")


# --- rules ---------------------------------------------------------------------------------------
def check_username(username: str, field_name: str = "username") -> str:
    """A username as given (empty: none yet), or ValidationError on the field."""
    if len(username) > USERNAME_MAX:
        raise ValidationError.field(field_name, TOO_LONG)
    if username and _USERNAME.fullmatch(username) is None:
        raise ValidationError.field(field_name, INVALID_USERNAME)
    return username


def initial_state(username: str) -> State:
    """A new account with a username is ready; one without waits for the provider."""
    return State.OK if username else State.REQUESTED


def transition(user: OfferingUser, action: str, now: datetime) -> OfferingUser:
    """The account after `action`, or Conflict naming the states it is valid in."""
    sources, target = TRANSITIONS[action]
    if user.state not in sources:
        names = ", ".join(s.value for s in sources)
        raise Conflict(f"Valid states for operation: {names}.")
    return replace(user, state=target, modified=now)


def with_username(user: OfferingUser, username: str, now: datetime) -> OfferingUser:
    state = State.OK if username and user.state in COMPLETED_BY_USERNAME else user.state
    return replace(user, username=username, state=state, modified=now)


# --- usernames by policy ----------------------------------------------------------------------------
POLICY_SERVICE_PROVIDER = "service_provider"
POLICY_ANONYMIZED = "anonymized"
POLICY_FULL_NAME = "full_name"
POLICY_WALDUR_USERNAME = "waldur_username"
POLICY_FREEIPA = "freeipa"
POLICY_IDENTITY_CLAIM = "identity_claim"
ANONYMIZED_DIGITS = 3  # Waldur's USERNAME_ANONYMIZED_POSTFIX_LENGTH
FULL_NAME_DIGITS = 2  # Waldur's USERNAME_POSTFIX_LENGTH


def _sanitize(name: str) -> str:
    """Waldur's sanitize_name: lower case, spaces to `_`, the rest of the punctuation dropped, ASCII."""
    name = re.sub(r"\s+", "_", name.strip().lower())
    name = re.sub(r"\W+", "", name)
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def _next_number(prefix: str, taken: Iterable[str], digits: int) -> str:
    """`prefix` + the number after the highest one already used with it (zero-padded)."""
    numbers = [int(u[len(prefix) :]) for u in taken if u.startswith(prefix) and u[len(prefix) :].isdigit()]
    return f"{prefix}{str(max(numbers) + 1 if numbers else 0).zfill(digits)}"


def generate_username(
    policy: str, username: str, full_name: str, taken: Iterable[str], anonymized_prefix: str = "walduruser_"
) -> str:
    """The username Waldur's `generate_username` gives a user under `policy` ("" when the provider
    chooses it: `service_provider`, and `freeipa`/`identity_claim`, whose sources Cirrus does not
    have). `taken`: the offering's usernames so far."""
    if policy == POLICY_WALDUR_USERNAME:
        name = username
    elif policy == POLICY_ANONYMIZED:
        name = _next_number(anonymized_prefix, taken, ANONYMIZED_DIGITS)
    elif policy == POLICY_FULL_NAME:
        first, _, last = full_name.strip().partition(" ")
        name = _next_number(f"{_sanitize(first)}_{_sanitize(last)}_", taken, FULL_NAME_DIGITS)
    else:
        return ""
    name = name[:USERNAME_MAX]
    return name if _USERNAME.fullmatch(name) else ""


def policy_of(plugin_options: dict[str, object] | None) -> str:
    value = (plugin_options or {}).get("username_generation_policy")
    return value if isinstance(value, str) and value else POLICY_SERVICE_PROVIDER


# --- events --------------------------------------------------------------------------------------
_MESSAGES = {
    CREATED: "Account for user {user} in offering {offering} has been created.",
    UPDATED: "Account for user {user} in offering {offering} has been updated.",
    DELETED: "Account for user {user} in offering {offering} has been deleted.",
    RESTRICTION_UPDATED: (
        "Restriction status for user {user} in offering {offering} has been set to {restricted}."
    ),
}


def event(user: OfferingUser, event_type: str, ctx: EventContext, user_username: str) -> events.Event:
    """Waldur's offering-user event: in the provider's log and the offering's and user's feeds."""
    message = _MESSAGES[event_type].format(
        user=user_username, offering=user.offering_name, restricted=user.is_restricted
    )
    fields = {
        "offering_user_uuid": user.id,
        "offering_user_username": user.username,
        "offering_uuid": user.offering_id,
        "offering_name": user.offering_name,
        "customer_uuid": user.provider_id,
        "affected_user_uuid": user.user_id,
        "affected_user_username": user_username,
    }
    return events.make_event(event_type, message, ctx, fields, user.provider_id)
