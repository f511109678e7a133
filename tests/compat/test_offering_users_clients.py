"""Offering users and the service provider's lists through the real clients over HTTP: the site
agent's calls on waldur-api-client (strict OfferingUser, OfferingUserAttributeConfig, ProjectUser,
Project, ProjectPermissionLog, MarketplaceServiceProviderUser, MarketplaceProviderCustomer,
ProviderOffering, SshKey parsers) and python-waldur-client's offering-user and service-provider
methods; who may see and change what."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from tests.conftest import Account, make_account
from tests.marketplace_helpers import Market, build_market, ctx_of, order_request


@pytest.fixture
def aws(stack):
    """Orders start their workflow (recorded by moto, not run)."""
    yield


@pytest.fixture
def market(aws: None, admin: Account) -> Market:
    return build_market(admin)


def _live_resource(market: Market) -> Any:
    """A resource of the market's offering in Apollo, its Create order done (by the provider)."""
    from chalicelib.services import orders

    order = orders.create_order(ctx_of(market.staff), order_request(market))
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    orders.set_state_done(ctx_of(market.seller), order.id)
    return order


def client(server: Any, account: Account) -> Any:
    from waldur_api_client import AuthenticatedClient

    return AuthenticatedClient(base_url=server.url, token=account.token, timeout=10.0)


@pytest.fixture
def seller_api(server: Any, market: Market) -> Iterator[Any]:
    with client(server, market.seller) as api:
        yield api


def _provider_uuid(market: Market) -> UUID:
    from chalicelib.services.ports import service_providers

    provider = service_providers.for_customer(market.provider.id)
    assert provider is not None
    return UUID(provider.id)


def test_the_site_agent_sees_the_pi_and_sets_their_username(server, market, seller_api):
    from waldur_api_client.api.marketplace_offering_users import (
        marketplace_offering_users_begin_creating,
        marketplace_offering_users_list,
        marketplace_offering_users_partial_update,
        marketplace_offering_users_retrieve,
    )
    from waldur_api_client.api.marketplace_provider_offerings import (
        marketplace_provider_offerings_user_attribute_config_retrieve,
    )
    from waldur_api_client.api.marketplace_provider_resources import marketplace_provider_resources_team_list
    from waldur_api_client.models.offering_user_field_enum import OfferingUserFieldEnum
    from waldur_api_client.models.offering_user_state import OfferingUserState
    from waldur_api_client.models.patched_offering_user_request import PatchedOfferingUserRequest

    # GIVEN a member of Apollo, where a resource of the offering was just made
    order = _live_resource(market)
    offering = UUID(market.offering.id)

    # WHEN the agent lists the offering's users as membership_sync does
    config = marketplace_provider_offerings_user_attribute_config_retrieve.sync(
        uuid=offering, client=seller_api
    )
    assert config.is_default and config.exposed_fields == ["username", "full_name", "email"]
    fields = [OfferingUserFieldEnum.UUID, OfferingUserFieldEnum.USERNAME, OfferingUserFieldEnum.STATE,
              OfferingUserFieldEnum.USER_UUID, OfferingUserFieldEnum.URL, OfferingUserFieldEnum.USER_EMAIL,
              OfferingUserFieldEnum.USER_FULL_NAME, OfferingUserFieldEnum.USER_FIRST_NAME]  # fmt: skip
    found = marketplace_offering_users_list.sync_all(
        client=seller_api, offering_uuid=[offering], is_restricted=False, field=fields
    )

    # THEN the member has an account waiting for a username (the default policy: the provider's)
    assert [(u.user_uuid.hex, u.state, u.username) for u in found] == [
        (market.member.id, OfferingUserState.REQUESTED, None)
    ]
    account = found[0]

    # WHEN the agent makes the account and sets its username
    marketplace_offering_users_begin_creating.sync_detailed(uuid=account.uuid, client=seller_api)
    changed = marketplace_offering_users_partial_update.sync(
        uuid=account.uuid, client=seller_api, body=PatchedOfferingUserRequest(username="member_01")
    )

    # THEN it is OK, and the resource's team names it (so the agent keeps the user on the backend)
    assert (changed.state, changed.username) == (OfferingUserState.OK, "member_01")
    full = marketplace_offering_users_retrieve.sync(uuid=account.uuid, client=seller_api)
    assert (full.offering_uuid.hex, full.user_username, full.customer_uuid.hex) == (
        market.offering.id,
        "member",
        market.provider.id,
    )
    team = marketplace_provider_resources_team_list.sync(uuid=UUID(order.resource_id), client=seller_api)
    assert [(m.username, m.offering_user_username, m.offering_user_state) for m in team] == [
        ("member", "member_01", OfferingUserState.OK)
    ]
    ok = marketplace_offering_users_list.sync_all(
        client=seller_api,
        offering_uuid=[offering],
        state=[OfferingUserState.OK],
        user_uuid=UUID(market.member.id),
    )
    assert [u.username for u in ok] == ["member_01"]


def test_state_actions_follow_waldurs_transitions(server, market, seller_api):
    from waldur_api_client.api.marketplace_offering_users import (
        marketplace_offering_users_list,
        marketplace_offering_users_set_ok,
        marketplace_offering_users_set_pending_account_linking,
        marketplace_offering_users_set_validation_complete,
        marketplace_offering_users_update_restricted,
    )
    from waldur_api_client.errors import UnexpectedStatus
    from waldur_api_client.models.offering_user_state import OfferingUserState
    from waldur_api_client.models.offering_user_state_transition_request import (
        OfferingUserStateTransitionRequest,
    )
    from waldur_api_client.models.offering_user_update_restriction_request import (
        OfferingUserUpdateRestrictionRequest,
    )

    _live_resource(market)
    offering = UUID(market.offering.id)
    (account,) = marketplace_offering_users_list.sync_all(client=seller_api, offering_uuid=[offering])

    linking = OfferingUserStateTransitionRequest(
        comment="Link your account", comment_url="https://idp.example/"
    )
    answer = marketplace_offering_users_set_pending_account_linking.sync_detailed(
        uuid=account.uuid, client=seller_api, body=linking
    )
    assert answer.status_code == 200
    (pending,) = marketplace_offering_users_list.sync_all(client=seller_api, offering_uuid=[offering])
    assert (pending.state, pending.service_provider_comment) == (
        OfferingUserState.PENDING_ACCOUNT_LINKING,
        "Link your account",
    )
    marketplace_offering_users_set_validation_complete.sync_detailed(uuid=account.uuid, client=seller_api)
    with pytest.raises(UnexpectedStatus) as refused:  # already OK: the client documents no 409
        marketplace_offering_users_set_ok.sync_detailed(uuid=account.uuid, client=seller_api)
    assert refused.value.status_code == 409
    assert b"Valid states for operation" in refused.value.content

    marketplace_offering_users_update_restricted.sync_detailed(
        uuid=account.uuid, client=seller_api, body=OfferingUserUpdateRestrictionRequest(is_restricted=True)
    )
    assert (
        marketplace_offering_users_list.sync_all(
            client=seller_api, offering_uuid=[offering], is_restricted=False
        )
        == []
    )


def test_only_the_user_and_the_provider_see_an_account_and_only_the_provider_changes_it(server, market):
    import httpx

    _live_resource(market)
    outsider = make_account("outsider", full_name="Someone Else")
    with client(server, market.seller) as seller:
        (account,) = seller.get_httpx_client().get("/api/marketplace-offering-users/").json()
    path = f"/api/marketplace-offering-users/{account['uuid']}/"

    def call(who: Account, method: str, url: str, body: Any = None) -> httpx.Response:
        with client(server, who) as api:
            return api.get_httpx_client().request(method, url, json=body)

    # the user sees their own account but may not name it
    assert call(market.member, "GET", path).status_code == 200
    assert call(market.member, "PATCH", path, {"username": "mine"}).status_code == 403
    assert call(market.member, "POST", f"{path}set_ok/").status_code == 403
    # the consumer's owner and an outsider do not see it at all
    for other in (market.owner, outsider):
        assert call(other, "GET", path).status_code == 404
        assert call(other, "PATCH", path, {"username": "x"}).status_code == 404
        assert call(other, "DELETE", path).status_code == 404
        assert call(other, "GET", "/api/marketplace-offering-users/").json() == []
    # a bad username is a 400 and changes nothing
    bad = call(market.seller, "PATCH", path, {"username": "no spaces allowed"})
    assert bad.status_code == 400 and "username" in bad.json()
    assert call(market.seller, "PATCH", path, {"username": "x" * 101}).status_code == 400
    assert call(market.seller, "GET", path).json().get("username") is None
    # the provider removes it
    assert call(market.seller, "DELETE", path).status_code == 204
    assert call(market.member, "GET", path).status_code == 404


def test_python_waldur_client_offering_user_and_provider_methods(server, market):
    from waldur_client import WaldurClient, WaldurClientException

    _live_resource(market)
    seller = WaldurClient(f"{server.url}/api/", market.seller.token)
    provider_uuid = _provider_uuid(market).hex

    # an account for the consumer's owner, opened by hand; then named across the provider's offerings
    created = seller.create_remote_offering_user(market.offering.id, market.owner.id, "owner_1")
    assert (created["state"], created["username"]) == ("OK", "owner_1")
    listed = seller.list_remote_offering_users({"offering_uuid": market.offering.id})
    assert sorted(u["user_username"] for u in listed) == ["member", "owner"]
    # The offering's default attribute config: username, full name and email, no phone or employer.
    assert {"user_email", "user_full_name"} <= set(listed[0])
    assert not {"user_phone_number", "user_organization", "user_job_title"} & set(listed[0])
    seller.set_offerings_username(provider_uuid, market.member.id, "member_7")
    named = seller.list_remote_offering_users({"user_uuid": market.member.id})
    assert [(u["username"], u["state"]) for u in named] == [("member_7", "OK")]
    seller.delete_offering_user(created["uuid"])

    assert [u["username"] for u in seller.list_service_provider_users(provider_uuid)] == ["member"]
    assert [p["uuid"] for p in seller.list_service_provider_projects(provider_uuid)] == [market.project.id]
    permissions = seller.list_service_provider_project_permissions(provider_uuid)
    assert [(p["user_username"], p["role_name"]) for p in permissions] == [("member", "PROJECT.MEMBER")]
    assert seller.list_service_provider_ssh_keys(provider_uuid) == []

    # the consumer may not read the provider's lists, nor name its accounts
    member = WaldurClient(f"{server.url}/api/", market.member.token)
    with pytest.raises(WaldurClientException):
        member.list_service_provider_users(provider_uuid)
    with pytest.raises(WaldurClientException):
        member.set_offerings_username(provider_uuid, market.member.id, "me")


def test_service_provider_lists_parse_strictly(server, market, seller_api):
    from waldur_api_client.api.marketplace_provider_offerings import (
        marketplace_provider_offerings_list_course_accounts_list,
        marketplace_provider_offerings_list_project_service_accounts_list,
    )
    from waldur_api_client.api.marketplace_service_providers import (
        marketplace_service_providers_course_accounts_list,
        marketplace_service_providers_customers_list,
        marketplace_service_providers_keys_list,
        marketplace_service_providers_offerings_list,
        marketplace_service_providers_project_permissions_list,
        marketplace_service_providers_project_service_accounts_list,
        marketplace_service_providers_projects_list,
        marketplace_service_providers_set_offerings_username,
        marketplace_service_providers_users_list,
    )
    from waldur_api_client.models.set_offerings_username_request import SetOfferingsUsernameRequest

    _live_resource(market)
    provider = _provider_uuid(market)
    kw = {"client": seller_api}

    projects = marketplace_service_providers_projects_list.sync(provider, query=market.project.id, **kw)
    assert [p.uuid.hex for p in projects] == [market.project.id]
    users = marketplace_service_providers_users_list.sync(provider, **kw)
    assert [(u.username, u.projects_count) for u in users] == [("member", 1)]
    customers = marketplace_service_providers_customers_list.sync(provider, **kw)
    assert [(c.name, c.projects_count, c.users_count) for c in customers] == [("Acme", 1, 1)]
    offerings = marketplace_service_providers_offerings_list.sync(provider, **kw)
    assert [o.uuid.hex for o in offerings] == [market.offering.id]
    permissions = marketplace_service_providers_project_permissions_list.sync(provider, **kw)
    assert [p.user_uuid.hex for p in permissions] == [market.member.id]
    assert marketplace_service_providers_keys_list.sync(provider, **kw) == []
    assert marketplace_service_providers_course_accounts_list.sync(provider, **kw) == []
    assert marketplace_service_providers_project_service_accounts_list.sync(provider, **kw) == []
    offering = UUID(market.offering.id)
    assert marketplace_provider_offerings_list_course_accounts_list.sync_all(offering, **kw) == []
    assert marketplace_provider_offerings_list_project_service_accounts_list.sync_all(offering, **kw) == []
    answer = marketplace_service_providers_set_offerings_username.sync_detailed(
        provider,
        body=SetOfferingsUsernameRequest(user_uuid=UUID(market.member.id), username="apollo_member"),
        **kw,
    )
    assert answer.status_code == 201
