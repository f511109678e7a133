"""Invitation rules (pure): the week, the states as of an instant, and who may move them where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.invitations import ExecutionState, Invitation, InvitationState
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


def test_accept_only_while_pending_and_by_the_civil_number_it_names():
    accepted = invitation().accept("", T0)
    assert (accepted.state, accepted.version) == (InvitationState.ACCEPTED, 2)
    for refused in (
        lambda: accepted.accept("", T0),
        lambda: invitation().accept("", T0 + WEEK),
        lambda: invitation(state=InvitationState.CANCELED).accept("", T0),
        lambda: invitation(civil_number="42").accept("41", T0),
    ):
        with pytest.raises(NotFound):
            refused()
    assert invitation(civil_number="42").accept("42", T0).state is InvitationState.ACCEPTED


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
