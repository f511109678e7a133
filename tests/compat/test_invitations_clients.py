"""Invitations through waldur-api-client over HTTP: its strict Invitation parser on create, list and
retrieve, and the send/cancel actions' 200s."""

from __future__ import annotations

from http import HTTPStatus
from uuid import UUID

import pytest
from waldur_api_client.api.user_invitations import (
    user_invitations_cancel,
    user_invitations_create,
    user_invitations_list,
    user_invitations_retrieve,
    user_invitations_send,
)
from waldur_api_client.models.invitation import Invitation
from waldur_api_client.models.invitation_request import InvitationRequest
from waldur_api_client.models.invitation_state import InvitationState
from waldur_api_client.models.invitation_state_enum import InvitationStateEnum

from chalicelib.domain.roles import SYSTEM_ROLES

pytestmark = pytest.mark.compat


@pytest.fixture
def queues_ready(aws):
    from chalicelib.local.aws import create_queues
    from chalicelib.workflows import queues

    queues._lookup_url.cache_clear()
    create_queues()
    yield
    queues._lookup_url.cache_clear()


def test_invitation_lifecycle_through_the_generated_client(api, waldur, queues_ready):
    customer = waldur.create_customer(name="Acme")
    body = InvitationRequest(
        role=UUID(SYSTEM_ROLES["CUSTOMER.SUPPORT"].id),
        scope=customer["url"],
        email="guest@example.org",
        full_name="Guest",
    )
    created = user_invitations_create.sync_detailed(client=api, body=body)
    assert created.status_code == HTTPStatus.CREATED, created.content
    invitation = created.parsed
    assert isinstance(invitation, Invitation)
    assert invitation.state is InvitationStateEnum.PENDING and invitation.scope_type == "customer"
    assert invitation.role_name == "CUSTOMER.SUPPORT" and invitation.customer_name == "Acme"

    (listed,) = user_invitations_list.sync(client=api, state=[InvitationState.PENDING])
    assert listed.uuid == invitation.uuid
    assert user_invitations_send.sync_detailed(uuid=invitation.uuid, client=api).status_code == HTTPStatus.OK
    assert (
        user_invitations_cancel.sync_detailed(uuid=invitation.uuid, client=api).status_code == HTTPStatus.OK
    )
    assert (
        user_invitations_retrieve.sync(uuid=invitation.uuid, client=api).state is InvitationStateEnum.CANCELED
    )
