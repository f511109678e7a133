"""Invitation rules (pure): the week, the states as of an instant, and who may move them where."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.invitations import Acceptor, ExecutionState, Invitation, InvitationState, new_token
from chalicelib.domain.roles import ScopeType

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def invitation(**changes) -> Invitation:
    fields = {
        "id": "i" * 32,
        "customer_id": "c" * 32,
        "scope_type": ScopeType.PROJECT,
        "scope_id": "p" * 32,
        "role_id": "r" * 32,
        "email": "x@example.org",
        "created": T0,
        "version": 1,
    }
    return Invitation(**{**fields, **changes})


def test_a_pending_invitation_lasts_a_week_to_the_microsecond():
    i = invitation()
    assert i.expires == T0 + WEEK
    assert i.state_at(T0 + WEEK - timedelta(microseconds=1)) is InvitationState.PENDING
    assert i.state_at(T0 + WEEK) is InvitationState.EXPIRED
    assert invitation(state=InvitationState.ACCEPTED).state_at(T0 + 2 * WEEK) is InvitationState.ACCEPTED


INVITEE = Acceptor(email="x@example.org", civil_number="")


def test_accept_only_while_pending_and_by_the_civil_number_it_names():
    accepted = invitation().accept(INVITEE, T0)
    assert (accepted.state, accepted.version) == (InvitationState.ACCEPTED, 2)
    for refused in (
        lambda: accepted.accept(INVITEE, T0),
        lambda: invitation().accept(INVITEE, T0 + WEEK),
        lambda: invitation(state=InvitationState.CANCELED).accept(INVITEE, T0),
        lambda: invitation(civil_number="42").accept(replace(INVITEE, civil_number="41"), T0),
    ):
        with pytest.raises(NotFound):
            refused()
    assert invitation(civil_number="42").accept(replace(INVITEE, civil_number="42"), T0).state is (
        InvitationState.ACCEPTED
    )


def test_only_the_invited_address_accepts_case_insensitively():
    for email in ("x@example.org", "X@Example.ORG", " x@example.org "):
        assert (
            invitation().accept(Acceptor(email=email, civil_number=""), T0).state is InvitationState.ACCEPTED
        )
    # Another address, or none, is told the invitation does not exist: its uuid is no credential,
    # not even for someone already in the tenant.
    for someone in (
        Acceptor(email="y@example.org", civil_number=""),
        Acceptor(email="", civil_number=""),
        Acceptor(email="y@example.org", civil_number="", in_tenant=True),
    ):
        with pytest.raises(NotFound):
            invitation().accept(someone, T0)
    with pytest.raises(NotFound):  # an invitation with no address accepts nobody by address
        invitation(email="").accept(Acceptor(email="", civil_number=""), T0)


def test_the_mails_token_lets_another_address_accept_unless_already_in_the_tenant():
    token, token_hash = new_token()
    assert token_hash != token and len(token) >= 40
    mailed = invitation(token_hash=token_hash)
    outsider = Acceptor(email="other@example.org", civil_number="", token=token)
    assert mailed.accept(outsider, T0).state is InvitationState.ACCEPTED
    with pytest.raises(ValidationError) as refused:
        mailed.accept(replace(outsider, in_tenant=True), T0)
    assert refused.value.errors == ["User\u2019s email and email of the invitation are not equal."]
    # A wrong token, or any token before a mail was sent, is no better than none.
    for opened in (mailed, invitation()):
        with pytest.raises(NotFound):
            opened.accept(replace(outsider, token=new_token()[0]), T0)
    with pytest.raises(NotFound):
        invitation().accept(replace(outsider, token=""), T0)
    # The token does not lift the other rules.
    with pytest.raises(NotFound):
        mailed.accept(outsider, T0 + WEEK)
    with pytest.raises(NotFound):
        replace(mailed, civil_number="42").accept(outsider, T0)


def test_cancel_only_while_pending():
    assert invitation().cancel(T0).state is InvitationState.CANCELED
    for state in (InvitationState.ACCEPTED, InvitationState.CANCELED, InvitationState.EXPIRED):
        with pytest.raises(ValidationError) as refused:
            invitation(state=state).cancel(T0)
        assert refused.value.errors == ["Only pending invitation can be canceled."]
    with pytest.raises(ValidationError):
        invitation().cancel(T0 + WEEK)  # expired before the job ran


def test_send_again_renews_an_expired_or_canceled_one_and_refuses_an_accepted_one():
    pending = invitation(execution_state=ExecutionState.OK)
    again = pending.resend(T0 + timedelta(days=1))
    assert (again.state, again.created, again.version) == (InvitationState.PENDING, T0, 1)
    assert again.execution_state is ExecutionState.SCHEDULED
    later = T0 + 2 * WEEK
    for before in (
        invitation(),
        invitation(state=InvitationState.CANCELED),
        invitation(state=InvitationState.EXPIRED),
    ):
        renewed = before.resend(later)
        assert (renewed.state, renewed.created, renewed.expires) == (
            InvitationState.PENDING,
            later,
            later + WEEK,
        )
        assert renewed.version == 2
    with pytest.raises(ValidationError):
        invitation(state=InvitationState.ACCEPTED).resend(later)


def test_expire_only_a_pending_one_past_its_week():
    assert invitation().expire(T0 + WEEK).state is InvitationState.EXPIRED
    with pytest.raises(ValidationError):
        invitation().expire(T0 + WEEK - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        invitation(state=InvitationState.CANCELED).expire(T0 + 2 * WEEK)


def test_events_name_the_scope_and_role_but_not_the_invitation_nor_the_invitee():
    from chalicelib.domain import invitations as domain
    from chalicelib.domain.context import EventContext

    secret = invitation(email="Secret.Invitee@example.org", token_hash="h" * 64)
    for event_type in (
        domain.INVITATION_CREATED,
        domain.INVITATION_UPDATED,
        domain.INVITATION_ACCEPTED,
        domain.INVITATION_CANCELED,
        domain.INVITATION_EXPIRED,
    ):
        event = domain.event(
            event_type,
            secret,
            EventContext(),
            scope_name="Apollo",
            customer_name="Acme",
            role_name="PROJECT.ADMIN",
        )
        shown = f"{event.message} {event.context}".lower()
        assert secret.id not in shown and "secret.invitee" not in shown and "h" * 64 not in shown
        assert (
            event.context["project_uuid"] == secret.scope_id and event.context["role_name"] == "PROJECT.ADMIN"
        )
        assert "Apollo" in event.message
