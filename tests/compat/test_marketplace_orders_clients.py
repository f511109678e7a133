"""Orders and resources through the real clients over HTTP: python-waldur-client's whole flow (a
member orders, the owner approves, the provider approves and finishes as its agent would, the
resource is OK in both views, then new limits and termination), and waldur-api-client's strict
parsers (OrderDetails, Resource, OrderUUID, OrderInfoResponse, Status)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from waldur_api_client.types import Unset

from tests.conftest import make_account
from tests.marketplace_helpers import build_market


@pytest.fixture
def aws(stack):
    """Orders start their workflow (recorded by moto, not run)."""
    yield


@pytest.fixture
def market(aws, admin):
    return build_market(admin)


def client_of(server: Any, account: Any) -> Any:
    from waldur_client import WaldurClient

    return WaldurClient(f"{server.url}/api/", account.token)


def test_python_waldur_clients_marketplace_flow(server, market):
    member, owner, seller = (client_of(server, a) for a in (market.member, market.owner, market.seller))
    project, offering, plan = market.project.id, market.offering.id, market.plan.id

    order = member.create_marketplace_order(project, offering, plan, {"name": "vm-1"}, {"cpu": 2})
    assert order["state"] == "pending-consumer" and order["marketplace_resource_uuid"]
    created = member.create_resource_via_marketplace(project, offering, plan, {"name": "vm-2"}, {"cpu": 1})
    resource_uuid = created["marketplace_resource_uuid"]
    order_uuid = created["create_order_uuid"]

    owner.marketplace_order_approve_by_consumer(order_uuid)
    seller.marketplace_order_approve_by_provider(order_uuid)
    assert member.get_order(order_uuid)["state"] == "executing"
    # the provider's agent: report the backend id, then finish the order
    seller.marketplace_provider_resource_set_backend_id(resource_uuid, "slurm-vm-2")
    seller.marketplace_order_set_state_done(order_uuid)

    mine = member.get_marketplace_resource(resource_uuid)
    theirs = seller.get_marketplace_provider_resource(resource_uuid)
    assert (mine["state"], theirs["state"], theirs["backend_id"]) == ("OK", "OK", "slurm-vm-2")
    assert theirs["offering_plugin_options"] == {}
    listed = seller.list_marketplace_provider_resources(offering_uuid=offering, state="OK")
    assert [r["uuid"] for r in listed] == [resource_uuid]
    assert len(member.list_orders({"project_uuid": project})) == 2
    assert len(seller.marketplace_provider_offering_list_orders(offering)) == 2

    update_uuid = owner.marketplace_resource_update_limits_order(resource_uuid, {"cpu": 4})
    seller.marketplace_order_approve_by_provider(update_uuid)
    seller.marketplace_order_set_state_done(update_uuid)
    assert member.get_marketplace_resource(resource_uuid)["limits"] == {"cpu": 4}

    terminate_uuid = owner.marketplace_resource_terminate_order(resource_uuid)
    seller.marketplace_order_approve_by_provider(terminate_uuid)
    assert member.get_marketplace_resource(resource_uuid)["state"] == "Terminating"
    seller.marketplace_order_set_state_done(terminate_uuid)
    assert member.get_marketplace_resource(resource_uuid)["state"] == "Terminated"

    owner.marketplace_order_reject_by_consumer(order["uuid"])
    assert member.get_order(order["uuid"])["state"] == "rejected"


def test_python_waldur_client_cancels_and_errs_orders(server, market):
    member, seller = client_of(server, market.member), client_of(server, market.seller)
    project, offering, plan = market.project.id, market.offering.id, market.plan.id

    canceled = member.create_marketplace_order(project, offering, plan, {"name": "a"}, {"cpu": 1})
    member.marketplace_order_cancel(canceled["uuid"])  # 202
    assert member.get_order(canceled["uuid"])["state"] == "canceled"

    admin = client_of(server, market.staff)
    failing = admin.create_marketplace_order(project, offering, plan, {"name": "b"}, {"cpu": 1})
    seller.marketplace_order_set_state_executing(failing["uuid"])
    seller.marketplace_order_set_state_erred(failing["uuid"], "No capacity", "Traceback ...")
    assert admin.get_order(failing["uuid"])["error_message"] == "No capacity"
    with pytest.raises(Exception) as exc:  # python-waldur-client stops polling an erred order
        admin._get_resource_from_creation_order(failing["uuid"], "nonexistent_field", interval=0)
    assert "No capacity" in str(exc.value)


def test_waldur_api_client_parses_orders_and_resources_strictly(server, market, api):
    from waldur_api_client.api.marketplace_orders import (
        marketplace_orders_approve_by_provider,
        marketplace_orders_create,
        marketplace_orders_list,
        marketplace_orders_retrieve,
        marketplace_orders_set_state_done,
    )
    from waldur_api_client.api.marketplace_provider_resources import (
        marketplace_provider_resources_list,
        marketplace_provider_resources_refresh_last_sync,
        marketplace_provider_resources_retrieve,
        marketplace_provider_resources_set_backend_id,
    )
    from waldur_api_client.api.marketplace_resources import (
        marketplace_resources_list,
        marketplace_resources_retrieve,
        marketplace_resources_switch_plan,
        marketplace_resources_terminate,
        marketplace_resources_update_limits,
    )
    from waldur_api_client.errors import UnexpectedStatus
    from waldur_api_client.models import (
        GenericOrderAttributes,
        OrderApproveByProviderRequest,
        OrderCreateRequest,
        OrderState,
        ResourceBackendIDRequest,
        ResourceState,
        ResourceSwitchPlanRequest,
        ResourceTerminateRequest,
        ResourceUpdateLimitsRequest,
    )
    from waldur_api_client.models.order_create_request_limits import OrderCreateRequestLimits
    from waldur_api_client.models.resource_update_limits_request_limits import (
        ResourceUpdateLimitsRequestLimits,
    )

    approval = OrderApproveByProviderRequest()
    base = f"{server.url}/api"
    offering_url = f"{base}/marketplace-public-offerings/{market.offering.id}/"
    limits = OrderCreateRequestLimits.from_dict({"cpu": 2})
    body = OrderCreateRequest(
        project=f"{base}/projects/{market.project.id}/",
        offering=offering_url,
        plan=f"{offering_url}plans/{market.plan.id}/",
        attributes=GenericOrderAttributes.from_dict({"name": "strict-vm"}),
        limits=limits,
        accepting_terms_of_service=True,
    )
    order = marketplace_orders_create.sync(client=api, body=body)  # OrderDetails, parsed strictly
    assert order.state is OrderState.PENDING_PROVIDER and order.marketplace_resource_uuid
    assert marketplace_orders_approve_by_provider.sync(uuid=order.uuid, client=api, body=approval).detail
    backend = ResourceBackendIDRequest(backend_id="strict-1")
    status = marketplace_provider_resources_set_backend_id.sync(
        uuid=order.marketplace_resource_uuid, client=api, body=backend
    )
    assert status.status == "Resource backend_id has been changed."
    marketplace_orders_set_state_done.sync_detailed(uuid=order.uuid, client=api)
    done = marketplace_orders_retrieve.sync(uuid=order.uuid, client=api)
    assert done.state is OrderState.DONE and done.completed_at
    assert [o.uuid for o in marketplace_orders_list.sync(client=api, state=[OrderState.DONE])] == [order.uuid]

    resource_id = order.marketplace_resource_uuid
    resource = marketplace_resources_retrieve.sync(uuid=resource_id, client=api)
    assert resource.state is ResourceState.OK and resource.backend_id == "strict-1"
    assert resource.offering_plugin_options.to_dict() == {}
    provider_view = marketplace_provider_resources_retrieve.sync(uuid=resource_id, client=api)
    assert provider_view.uuid == resource_id
    assert isinstance(provider_view.last_sync, Unset)  # no agent has synced it yet
    # The site agent's membership sync ends with refresh_last_sync/ (200, read back as last_sync).
    synced = marketplace_provider_resources_refresh_last_sync.sync_detailed(uuid=resource_id, client=api)
    assert synced.status_code == 200
    provider_view = marketplace_provider_resources_retrieve.sync(uuid=resource_id, client=api)
    assert isinstance(provider_view.last_sync, datetime) and provider_view.modified == resource.modified
    assert [r.uuid for r in marketplace_resources_list.sync(client=api)] == [resource_id]
    assert [r.uuid for r in marketplace_provider_resources_list.sync(client=api)] == [resource_id]

    new_limits = ResourceUpdateLimitsRequest(limits=ResourceUpdateLimitsRequestLimits.from_dict({"cpu": 3}))
    update = marketplace_resources_update_limits.sync(uuid=resource_id, client=api, body=new_limits)
    assert isinstance(update.order_uuid, UUID)  # OrderUUID
    updating = marketplace_orders_retrieve.sync(uuid=update.order_uuid, client=api)
    assert updating.type_.value == "Update" and updating.limits.to_dict() == {"cpu": 3}
    marketplace_orders_approve_by_provider.sync(uuid=update.order_uuid, client=api, body=approval)
    marketplace_orders_set_state_done.sync_detailed(uuid=update.order_uuid, client=api)

    switch = ResourceSwitchPlanRequest(plan=f"{offering_url}plans/{market.plan.id}/")
    with pytest.raises(UnexpectedStatus) as refused:
        marketplace_resources_switch_plan.sync_detailed(uuid=resource_id, client=api, body=switch)
    assert refused.value.status_code == 400  # the plan it already has
    termination = marketplace_resources_terminate.sync(
        uuid=resource_id, client=api, body=ResourceTerminateRequest()
    )
    assert isinstance(termination.order_uuid, UUID)


def test_a_member_without_approval_rights_cannot_approve(server, market):
    from waldur_client import WaldurClientException

    member = client_of(server, market.member)
    order = member.create_marketplace_order(
        market.project.id, market.offering.id, market.plan.id, {"name": "x"}
    )
    with pytest.raises(WaldurClientException):
        member.marketplace_order_approve_by_consumer(order["uuid"])
    stranger = client_of(server, make_account("stranger"))
    with pytest.raises(WaldurClientException):
        stranger.get_order(order["uuid"])
