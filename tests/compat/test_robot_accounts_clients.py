"""Robot accounts through the real clients over HTTP: waldur-api-client's `marketplace_robot_accounts`
functions with strict parsing (RobotAccountDetails on reads and state actions, RobotAccount on
writes), and python-waldur-client's nine robot-account methods; the consumer reads, a stranger
gets 404."""

from __future__ import annotations

from uuid import UUID

import pytest

from tests.compat.test_marketplace_user_usages_clients import api_of, client_of, live_resource
from tests.conftest import make_account
from tests.marketplace_helpers import build_market

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMI8mOlDJAWsXHu2OOZiOdaEhJ8q0XbC9uZKPuk9DlM6 ci@example"


@pytest.fixture
def aws(stack):
    yield


@pytest.fixture
def market(aws, admin):
    return build_market(admin)


def test_waldur_api_clients_robot_account_functions(server, market):
    from waldur_api_client.api.marketplace_robot_accounts import (
        marketplace_robot_accounts_create,
        marketplace_robot_accounts_destroy,
        marketplace_robot_accounts_list,
        marketplace_robot_accounts_partial_update,
        marketplace_robot_accounts_retrieve,
        marketplace_robot_accounts_set_state_creating,
        marketplace_robot_accounts_set_state_deleted,
        marketplace_robot_accounts_set_state_erred,
        marketplace_robot_accounts_set_state_ok,
        marketplace_robot_accounts_set_state_request_deletion,
        marketplace_robot_accounts_update,
    )
    from waldur_api_client.models import (
        PatchedRobotAccountRequest,
        RobotAccount,
        RobotAccountDetails,
        RobotAccountErrorRequest,
        RobotAccountRequest,
        RobotAccountStates,
        StateTransitionError,
    )
    from waldur_api_client.models.remote_resource_sync_status_remote_state_enum import (
        RemoteResourceSyncStatusRemoteStateEnum as StateNumber,
    )

    resource, _ = live_resource(server, market)
    resource_url = f"{server.url}/api/marketplace-resources/{resource}/"
    member_url = f"{server.url}/api/users/{market.member.id}/"
    with api_of(server, market.seller) as seller:
        body = RobotAccountRequest(
            resource=resource_url, type_="cicd", username="", users=[member_url], keys=[KEY]
        )
        made = marketplace_robot_accounts_create.sync(client=seller, body=body)
        assert isinstance(made, RobotAccount) and not made.additional_properties
        assert (made.type_, made.users, made.keys, made.backend_id) == ("cicd", [member_url], [KEY], "")
        assert made.fingerprints[0].sha256.startswith("SHA256:")
        uuid = made.uuid

        [listed] = marketplace_robot_accounts_list.sync_all(
            client=seller, resource_uuid=UUID(resource), provider_uuid=UUID(market.provider.id)
        )
        assert isinstance(listed, RobotAccountDetails) and not listed.additional_properties
        assert listed.state is RobotAccountStates.REQUESTED
        assert [u.uuid for u in listed.users] == [UUID(market.member.id)]
        assert listed.resource_uuid == UUID(resource) and listed.project_uuid == UUID(market.project.id)
        assert listed.customer_uuid == UUID(market.consumer.id)
        assert listed.provider_uuid == UUID(market.provider.id)
        assert marketplace_robot_accounts_list.sync_all(client=seller, state=StateNumber.VALUE_3) == []
        assert (
            len(
                marketplace_robot_accounts_list.sync_all(
                    client=seller, type_="cicd", state=StateNumber.VALUE_1
                )
            )
            == 1
        )

        patch = PatchedRobotAccountRequest(username="ci_bot", responsible_user=member_url)
        patched = marketplace_robot_accounts_partial_update.sync(uuid=uuid, client=seller, body=patch)
        assert isinstance(patched, RobotAccount) and patched.responsible_user == member_url
        put = RobotAccountRequest(resource=resource_url, type_="ci", username="ci_bot", users=[], keys=[])
        replaced = marketplace_robot_accounts_update.sync(uuid=uuid, client=seller, body=put)
        assert isinstance(replaced, RobotAccount) and (replaced.type_, replaced.users) == ("ci", [])

        steps = [
            (marketplace_robot_accounts_set_state_creating, RobotAccountStates.CREATING),
            (marketplace_robot_accounts_set_state_ok, RobotAccountStates.OK),
            (marketplace_robot_accounts_set_state_request_deletion, RobotAccountStates.REQUESTED_DELETION),
        ]
        for action, state in steps:
            moved = action.sync(uuid=uuid, client=seller)
            assert isinstance(moved, RobotAccountDetails) and moved.state is state
        erred = marketplace_robot_accounts_set_state_erred.sync(
            uuid=uuid, client=seller, body=RobotAccountErrorRequest(error_message="backend down")
        )
        assert isinstance(erred, RobotAccountDetails) and erred.error_message == "backend down"
        # outside its states: Waldur's 400, which the client parses as a StateTransitionError
        refused = marketplace_robot_accounts_set_state_deleted.sync(uuid=uuid, client=seller)
        assert isinstance(refused, StateTransitionError)
        assert refused.detail == "Valid states for operation: Requested deletion."
        detail = marketplace_robot_accounts_retrieve.sync(uuid=uuid, client=seller)
        assert isinstance(detail, RobotAccountDetails) and detail.state is RobotAccountStates.ERROR
        assert marketplace_robot_accounts_destroy.sync_detailed(uuid=uuid, client=seller).status_code == 204
        assert marketplace_robot_accounts_list.sync_all(client=seller) == []


def test_python_waldur_clients_robot_account_methods(server, market):
    from waldur_client import WaldurClientException

    resource, _ = live_resource(server, market)
    seller, member = client_of(server, market.seller), client_of(server, market.member)
    made = seller.create_robot_account(resource, "cicd", users=[market.member.id], keys=[KEY])
    assert made["state"] == "Requested" and made["keys"] == [KEY]
    uuid = made["uuid"]
    assert seller.update_robot_account(uuid, {"username": "ci_bot"})["username"] == "ci_bot"
    assert seller.marketplace_robot_account_set_state_creating(uuid)["state"] == "Creating"
    assert seller.marketplace_robot_account_set_state_erred(uuid)["state"] == "Error"
    assert seller.marketplace_robot_account_set_state_ok(uuid)["state"] == "OK"
    assert seller.marketplace_robot_account_set_state_request_deletion(uuid)["state"] == "Requested deletion"
    assert seller.marketplace_robot_account_set_state_deleted(uuid)["state"] == "Deleted"

    [seen] = member.list_robot_account({"resource_uuid": resource})
    assert seen["username"] == "ci_bot" and seen["users"][0]["uuid"] == market.member.id
    with pytest.raises(WaldurClientException):
        member.create_robot_account(resource, "ssh")
    with pytest.raises(WaldurClientException):
        member.delete_robot_account(uuid)
    stranger = client_of(server, make_account("stranger"))
    assert stranger.list_robot_account({}) == []
    with pytest.raises(WaldurClientException, match=r"404|Not found"):
        stranger.update_robot_account(uuid, {"username": "mine"})

    seller.delete_robot_account(uuid)
    assert seller.list_robot_account({"resource_uuid": resource}) == []
