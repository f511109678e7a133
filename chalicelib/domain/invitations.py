"""Invitations (Waldur's `user-invitations/`): an offer of a role on a customer or project, sent by
email, that the invitee may accept within a week.

Who may accept: the signed-in user whose email is the invited address (compared case-insensitively,
as Waldur's ENABLE_STRICT_CHECK_ACCEPTING_INVITATION does), or one signed in with another address who
presents the single-use token the invitation's mail carries (only its hash is stored). A user who
already holds a role in the invitation's customer or its projects accepts only invitations to their
own address. If the invitation names a civil number, only its holder may accept. Anyone else is told
the invitation does not exist (404), as Waldur's VALIDATE_INVITATION_EMAIL filter does: the
invitation's uuid alone is no credential.

States and transitions:

    pending ──accept──► accepted
       │ ──cancel──► canceled ──send──► pending (created again now: a new week)
       └ ─(a week passes)─► expired ──send──► pending (likewise)

An invitation is expired from the instant its week ends, whether or not the hourly job has written
the `expired` state yet: every rule here reads the time. Accepted invitations are final.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.events import Event, make_event
from chalicelib.domain.roles import ScopeType
from chalicelib.domain.tokens import hash_key

LIFETIME = timedelta(days=7)  # Waldur's INVITATION_LIFETIME default
MODEL = "Invitation"

ONLY_PENDING_CANCELED = "Only pending invitation can be canceled."
ONLY_RESENDABLE = "Only pending, expired and canceled invitations can be resent."
NOT_EXPIRED_YET = "Only a pending invitation past its expiry can expire."
# Waldur's words (with its typographic apostrophe) when the caller's email is not the invited one
# (ENABLE_STRICT_CHECK_ACCEPTING_INVITATION).
EMAIL_MISMATCH = "User\u2019s email and email of the invitation are not equal."

INVITATION_CREATED = "invitation_created"
INVITATION_UPDATED = "invitation_updated"
INVITATION_ACCEPTED = "invitation_accepted"
INVITATION_CANCELED = "invitation_canceled"
INVITATION_EXPIRED = "invitation_expired"


class InvitationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    CANCELED = "canceled"
    EXPIRED = "expired"


class ExecutionState(StrEnum):
    """Where the invitation's email stands (Waldur's `execution_state`)."""

    SCHEDULED = "Scheduled"
    OK = "OK"
    ERRED = "Erred"


# Optional details about the invitee, copied from the request (Waldur's Invitation fields).
DETAIL_FIELDS: tuple[str, ...] = (
    "full_name",
    "native_name",
    "phone_number",
    "organization",
    "job_title",
    "civil_number",
    "extra_invitation_text",
)


@dataclass(frozen=True)
class Acceptor:
    """The user accepting an invitation, with what may bind them to it."""

    email: str
    civil_number: str
    token: str = ""  # the token from the invitation's mail, if they present one
    in_tenant: bool = False  # holds a role in the invitation's customer or one of its projects


def new_token() -> tuple[str, str]:
    """A fresh mail token and the hash that is stored of it."""
    token = secrets.token_urlsafe(32)
    return token, hash_key(token)


@dataclass(frozen=True)
class Invitation:
    id: str
    customer_id: str
    scope_type: ScopeType
    scope_id: str
    role_id: str
    email: str
    created: datetime
    state: InvitationState = InvitationState.PENDING
    created_by_id: str | None = None
    created_by_username: str = ""
    created_by_full_name: str = ""
    full_name: str = ""
    native_name: str = ""
    phone_number: str = ""
    organization: str = ""
    job_title: str = ""
    civil_number: str = ""
    extra_invitation_text: str = ""
    execution_state: ExecutionState = ExecutionState.SCHEDULED
    error_message: str = ""
    # The SHA-256 of the token the latest mail carried ("" before any mail): never shown, never logged.
    token_hash: str = ""
    version: int = 0

    @property
    def expires(self) -> datetime:
        return self.created + LIFETIME

    def state_at(self, now: datetime) -> InvitationState:
        """The state as of `now`: a pending invitation past its week is expired."""
        if self.state is InvitationState.PENDING and now >= self.expires:
            return InvitationState.EXPIRED
        return self.state

    def is_pending(self, now: datetime) -> bool:
        return self.state_at(now) is InvitationState.PENDING

    def addressed_to(self, email: str) -> bool:
        """Whether `email` is the invited address (case-insensitively; an empty one never is)."""
        wanted = self.email.strip().lower()
        return bool(wanted) and email.strip().lower() == wanted

    def opened_by(self, token: str) -> bool:
        """Whether `token` is the one the invitation's latest mail carried."""
        return bool(token and self.token_hash) and hmac.compare_digest(hash_key(token), self.token_hash)

    # --- transitions (each returns the invitation after it; the store bumps the version) ---------
    def accept(self, acceptor: Acceptor, now: datetime) -> Invitation:
        """Accepted by `acceptor` (see the module's rules): NotFound for whoever may not even learn
        that it exists; a ValidationError for a member of the tenant holding another's token."""
        if not self.is_pending(now) or (self.civil_number and self.civil_number != acceptor.civil_number):
            raise NotFound(MODEL)
        if not self.addressed_to(acceptor.email):
            if not self.opened_by(acceptor.token):
                raise NotFound(MODEL)
            if acceptor.in_tenant:  # already inside: they accept only what was sent to them
                raise ValidationError([EMAIL_MISMATCH])
        return self._moved(InvitationState.ACCEPTED)

    def cancel(self, now: datetime) -> Invitation:
        if not self.is_pending(now):
            raise ValidationError([ONLY_PENDING_CANCELED])
        return self._moved(InvitationState.CANCELED)

    def resend(self, now: datetime) -> Invitation:
        """Send again: a pending invitation stays as it is; an expired or canceled one becomes
        pending again with a new week from now (Waldur resets its `created`)."""
        state = self.state_at(now)
        if state is InvitationState.PENDING:
            return replace(self, execution_state=ExecutionState.SCHEDULED, error_message="")
        if state in (InvitationState.EXPIRED, InvitationState.CANCELED):
            return replace(
                self._moved(InvitationState.PENDING),
                created=now,
                execution_state=ExecutionState.SCHEDULED,
                error_message="",
            )
        raise ValidationError([ONLY_RESENDABLE])

    def expire(self, now: datetime) -> Invitation:
        if self.state is not InvitationState.PENDING or now < self.expires:
            raise ValidationError([NOT_EXPIRED_YET])
        return self._moved(InvitationState.EXPIRED)

    def _moved(self, state: InvitationState) -> Invitation:
        return replace(self, state=state, version=self.version + 1)


# --- events ----------------------------------------------------------------------------------------
# An invitation's events go to its customer's and project's feeds and to their hooks, which members
# without any say over invitations read: they name the scope and the role, never the invitation's
# uuid nor the invited address (its managers see those in `user-invitations/`).
_MESSAGES = {
    INVITATION_CREATED: "Invitation to {kind} {name} as {role} has been created.",
    INVITATION_UPDATED: "Invitation to {kind} {name} as {role} has been renewed.",
    INVITATION_ACCEPTED: "Invitation to {kind} {name} as {role} has been accepted by {user}.",
    INVITATION_CANCELED: "Invitation to {kind} {name} as {role} has been canceled.",
    INVITATION_EXPIRED: "Invitation to {kind} {name} as {role} has expired.",
}


def event(
    event_type: str,
    invitation: Invitation,
    ctx: EventContext,
    *,
    scope_name: str,
    customer_name: str,
    role_name: str,
    accepted_by: str = "",
) -> Event:
    """An invitation event in its customer's log, naming its scope and role (see above)."""
    message = _MESSAGES[event_type].format(
        kind=invitation.scope_type.value,
        name=scope_name,
        role=role_name,
        user=accepted_by,
    )
    fields = {
        "role_uuid": invitation.role_id,
        "role_name": role_name,
        "structure_type": invitation.scope_type.value,
        "customer_uuid": invitation.customer_id,
        "customer_name": customer_name,
    }
    if invitation.scope_type is not ScopeType.CUSTOMER:
        fields[f"{invitation.scope_type.value}_uuid"] = invitation.scope_id
        fields[f"{invitation.scope_type.value}_name"] = scope_name
    return make_event(event_type, message, ctx, fields, invitation.customer_id)
