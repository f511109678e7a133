"""Invitations (Waldur's `user-invitations/`): an offer of a role on a customer or project, sent by
email, that any signed-in user holding the link may accept within a week.

States and transitions:

    pending ──accept──► accepted
       │ ──cancel──► canceled ──send──► pending (created again now: a new week)
       └ ─(a week passes)─► expired ──send──► pending (likewise)

An invitation is expired from the instant its week ends, whether or not the hourly job has written
the `expired` state yet: every rule here reads the time. Accepted invitations are final.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.events import Event, make_event
from chalicelib.domain.roles import ScopeType

LIFETIME = timedelta(days=7)  # Waldur's INVITATION_LIFETIME default
MODEL = "Invitation"

ONLY_PENDING_CANCELED = "Only pending invitation can be canceled."
ONLY_RESENDABLE = "Only pending, expired and canceled invitations can be resent."
NOT_EXPIRED_YET = "Only a pending invitation past its expiry can expire."

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

    def may_be_accepted_by(self, civil_number: str, now: datetime) -> bool:
        """Anyone may accept a pending invitation, unless it names a civil number (then only its
        holder may). Waldur does not even show the others the invitation: they get a 404."""
        return self.is_pending(now) and (not self.civil_number or self.civil_number == civil_number)

    # --- transitions (each returns the invitation after it; the store bumps the version) ---------
    def accept(self, civil_number: str, now: datetime) -> Invitation:
        if not self.may_be_accepted_by(civil_number, now):
            raise NotFound(MODEL)
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
_MESSAGES = {
    INVITATION_CREATED: "Invitation for {email} to {kind} {name} as {role} has been created.",
    INVITATION_UPDATED: "Invitation for {email} to {kind} {name} as {role} has been renewed.",
    INVITATION_ACCEPTED: "Invitation for {email} to {kind} {name} as {role} has been accepted by {user}.",
    INVITATION_CANCELED: "Invitation for {email} to {kind} {name} as {role} has been canceled.",
    INVITATION_EXPIRED: "Invitation for {email} to {kind} {name} as {role} has expired.",
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
    """An invitation event in its customer's log, naming the invitation, its scope and role."""
    message = _MESSAGES[event_type].format(
        email=invitation.email,
        kind=invitation.scope_type.value,
        name=scope_name,
        role=role_name,
        user=accepted_by,
    )
    fields = {
        "invitation_uuid": invitation.id,
        "invitation_email": invitation.email,
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
