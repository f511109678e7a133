"""Per-user usages and limits, and the site agent's order calls, through the real clients over HTTP:
waldur-api-client's functions as waldur-site-agent 1.0.7 calls them (report mode's
`marketplace_component_user_usages_list.sync_all` and `set_user_usages`, membership_sync's
`component_user_usage_limits_list.sync_all`, the reconciliation's `modified_before`, an async
backend's `marketplace_orders_set_backend_id`), with strict parsing; and python-waldur-client's
three per-user methods and its provider order detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from waldur_api_client.types import Unset

from tests.marketplace_helpers import CPU, build_market, make_offering

HOURS = {"type": "cpu_hours", "name": "CPU hours", "measured_unit": "h", "billing_type": "usage"}


@pytest.fixture
def aws(stack):
    yield


@pytest.fixture
def market(aws, admin):
    market = build_market(admin)
    market.offering = make_offering(admin, market.provider.id, name="HPC", components=[CPU, HOURS])
    return market


def client_of(server: Any, account: Any) -> Any:
    from waldur_client import WaldurClient

    return WaldurClient(f"{server.url}/api/", account.token)


def live_resource(server: Any, market: Any) -> tuple[str, str]:
    owner, seller = client_of(server, market.owner), client_of(server, market.seller)
    created = owner.create_resource_via_marketplace(
        market.project.id, market.offering.id, market.plan.id, {"name": "vm-1"}, {"cpu": 2}
    )
    seller.marketplace_order_approve_by_provider(created["create_order_uuid"])
    seller.marketplace_order_set_state_done(created["create_order_uuid"])
    return str(created["marketplace_resource_uuid"]), str(created["create_order_uuid"])


def account_of(market: Any) -> str:
    """The project member's offering user in the offering (made with the live resource)."""
    from chalicelib.services.ports import offering_users

    found = offering_users.load(market.provider.id, market.offering.id, market.member.id)
    assert found is not None
    return found.id


def api_of(server: Any, account: Any) -> Any:
    from waldur_api_client import AuthenticatedClient

    return AuthenticatedClient(base_url=server.url, token=account.token, timeout=10.0)


def test_the_site_agents_report_mode_calls(server, market):
    from waldur_api_client.api.marketplace_component_usages import (
        marketplace_component_usages_list,
        marketplace_component_usages_set_usage,
        marketplace_component_usages_set_user_usage,
        marketplace_component_usages_set_user_usages,
    )
    from waldur_api_client.api.marketplace_component_user_usages import (
        marketplace_component_user_usages_list,
        marketplace_component_user_usages_retrieve,
    )
    from waldur_api_client.models import (
        ComponentUsageCreateRequest,
        ComponentUsageItemRequest,
        ComponentUserUsage,
        ComponentUserUsageBulkCreateRequest,
        ComponentUserUsageCreateRequest,
    )
    from waldur_api_client.models.component_usage_field_enum import ComponentUsageFieldEnum
    from waldur_api_client.models.component_user_usage_field_enum import ComponentUserUsageFieldEnum

    resource, _ = live_resource(server, market)
    now = datetime.now(UTC)
    period = now.date().replace(day=1)
    report_date = datetime(now.year, now.month, 1, tzinfo=UTC)
    offering_user = f"{server.url}/api/marketplace-offering-users/{account_of(market)}/"
    with api_of(server, market.seller) as seller:
        # _submit_total_usage_for_resource: the shares' parents first (none yet), then set_usage.
        before = marketplace_component_user_usages_list.sync_all(
            client=seller,
            resource_uuid=UUID(resource),
            component_usage_billing_period=period,
            field=[ComponentUserUsageFieldEnum.COMPONENT_USAGE],
        )
        assert before == []
        usage_body = ComponentUsageCreateRequest(
            usages=[ComponentUsageItemRequest(type_="cpu_hours", amount="10.00")],
            resource=UUID(resource),
            date=report_date,
        )
        assert (
            marketplace_component_usages_set_usage.sync_detailed(client=seller, body=usage_body).status_code
            == 201
        )
        [total] = marketplace_component_usages_list.sync_all(
            client=seller,
            resource_uuid=resource,
            billing_period=period,
            field=[ComponentUsageFieldEnum.UUID, ComponentUsageFieldEnum.TYPE, ComponentUsageFieldEnum.USAGE],
        )
        # _submit_bulk_user_usages_for_resource
        items = [
            ComponentUserUsageCreateRequest(
                username="alice", usage="6.00", date=report_date, user=offering_user
            ),
            ComponentUserUsageCreateRequest(username="bob", usage="4.00", date=report_date),
        ]
        reply = marketplace_component_usages_set_user_usages.sync_detailed(
            uuid=total.uuid, client=seller, body=ComponentUserUsageBulkCreateRequest(usages=items)
        )
        assert reply.status_code == 201
        one = ComponentUserUsageCreateRequest(username="carol", usage="0.50")
        assert (
            marketplace_component_usages_set_user_usage.sync_detailed(
                uuid=total.uuid, client=seller, body=one
            ).status_code
            == 201
        )

        parents = marketplace_component_user_usages_list.sync_all(
            client=seller,
            resource_uuid=UUID(resource),
            component_usage_billing_period=period,
            field=[ComponentUserUsageFieldEnum.COMPONENT_USAGE],
        )
        assert {p.component_usage.rstrip("/").split("/")[-1] for p in parents} == {
            str(total.uuid).replace("-", "")
        }
        found = marketplace_component_user_usages_list.sync_all(client=seller, resource_uuid=UUID(resource))
    assert all(isinstance(u, ComponentUserUsage) and not u.additional_properties for u in found)
    by_name = {u.username: u for u in found}
    assert set(by_name) == {"alice", "bob", "carol"}
    alice = by_name["alice"]
    assert (alice.usage, alice.user, alice.component_type) == ("6.00", offering_user, "cpu_hours")
    assert alice.resource_uuid == UUID(resource) and alice.billing_period == period
    # No offering user: left out, as Waldur's schema types `user` as never null.
    assert isinstance(by_name["bob"].user, Unset)

    with api_of(server, market.member) as member:
        again = marketplace_component_user_usages_retrieve.sync(alice.uuid, client=member)
    assert again.to_dict() == alice.to_dict()


def test_limits_through_waldur_api_client(server, market):
    from waldur_api_client.api.component_user_usage_limits import (
        component_user_usage_limits_create,
        component_user_usage_limits_destroy,
        component_user_usage_limits_list,
        component_user_usage_limits_partial_update,
        component_user_usage_limits_retrieve,
        component_user_usage_limits_update,
    )
    from waldur_api_client.errors import UnexpectedStatus
    from waldur_api_client.models import (
        ComponentUserUsageLimit,
        ComponentUserUsageLimitRequest,
        PatchedComponentUserUsageLimitRequest,
    )

    resource, _ = live_resource(server, market)
    hours = next(c for c in market.offering.components if c.type == "cpu_hours")
    with api_of(server, market.seller) as seller:
        # membership_sync: an empty list where no limit is set
        assert component_user_usage_limits_list.sync_all(client=seller, resource_uuid=UUID(resource)) == []
    request = ComponentUserUsageLimitRequest(
        resource=f"{server.url}/api/marketplace-resources/{resource}/",
        component=UUID(hours.id),
        user=f"{server.url}/api/marketplace-offering-users/{account_of(market)}/",
        limit="20",
    )
    with api_of(server, market.seller) as seller, pytest.raises(UnexpectedStatus) as refused:
        component_user_usage_limits_create.sync(client=seller, body=request)
    assert refused.value.status_code == 403
    with api_of(server, market.owner) as owner:
        made = component_user_usage_limits_create.sync(client=owner, body=request)
        assert isinstance(made, ComponentUserUsageLimit) and not made.additional_properties
        assert (made.component, made.component_type, made.limit) == (UUID(hours.id), "cpu_hours", "20.00")
        patched = component_user_usage_limits_partial_update.sync(
            made.uuid, client=owner, body=PatchedComponentUserUsageLimitRequest(limit="30")
        )
        assert patched.limit == "30.00"
        request.limit = "40"
        assert component_user_usage_limits_update.sync(made.uuid, client=owner, body=request).limit == "40.00"
    with api_of(server, market.seller) as seller:
        [listed] = component_user_usage_limits_list.sync_all(client=seller, resource_uuid=UUID(resource))
        assert (
            listed.to_dict() == component_user_usage_limits_retrieve.sync(made.uuid, client=seller).to_dict()
        )
    with api_of(server, market.owner) as owner:
        assert component_user_usage_limits_destroy.sync_detailed(made.uuid, client=owner).status_code == 204


def test_the_site_agents_order_calls(server, market):
    from waldur_api_client.api.marketplace_orders import (
        marketplace_orders_list,
        marketplace_orders_set_backend_id,
    )
    from waldur_api_client.api.marketplace_provider_offerings import (
        marketplace_provider_offerings_orders_retrieve,
    )
    from waldur_api_client.models import OrderBackendIDRequest, OrderDetails, Status
    from waldur_api_client.models.order_state import OrderState

    owner = client_of(server, market.owner)
    created = owner.create_resource_via_marketplace(
        market.project.id, market.offering.id, market.plan.id, {"name": "vm-2"}, {"cpu": 2}
    )
    order_uuid = str(created["create_order_uuid"])
    with api_of(server, market.seller) as seller:
        cutoff = datetime.now(UTC) + timedelta(minutes=1)
        stuck = marketplace_orders_list.sync_all(
            client=seller,
            offering_uuid=UUID(market.offering.id),
            state=[OrderState.PENDING_PROVIDER, OrderState.EXECUTING],
            modified_before=cutoff,
        )
        assert [str(o.uuid).replace("-", "") for o in stuck] == [order_uuid]
        assert (
            marketplace_orders_list.sync_all(
                client=seller,
                offering_uuid=UUID(market.offering.id),
                modified_before=cutoff - timedelta(hours=1),
            )
            == []
        )
        status = marketplace_orders_set_backend_id.sync(
            client=seller, uuid=UUID(order_uuid), body=OrderBackendIDRequest(backend_id="pending-7")
        )
        assert isinstance(status, Status) and status.status == "Order backend_id has been changed."
        detail = marketplace_provider_offerings_orders_retrieve.sync(
            market.offering.id, order_uuid, client=seller
        )
    assert isinstance(detail, OrderDetails) and detail.backend_id == "pending-7"


def test_python_waldur_clients_per_user_methods(server, market):
    from waldur_client import WaldurClientException

    resource, order_uuid = live_resource(server, market)
    seller, owner = client_of(server, market.seller), client_of(server, market.owner)
    seller.create_component_usages(usages=[{"type": "cpu_hours", "amount": 3}], resource_uuid=resource)
    [usage] = owner.list_component_usages(resource)
    seller.create_component_user_usage(usage["uuid"], 2, "alice", offering_user_uuid=account_of(market))
    with pytest.raises(WaldurClientException, match="You do not have permission"):
        owner.create_component_user_usage(usage["uuid"], 2, "mallory")

    hours = next(c for c in market.offering.components if c.type == "cpu_hours")
    made = owner.create_component_user_usage_limit(resource, hours.id, account_of(market), 12.5)
    assert (made["limit"], made["component_type"]) == ("12.50", "cpu_hours")
    assert seller.list_component_user_usage_limits({"resource_uuid": resource}) == [made]
    assert owner.list_component_user_usage_limits({"offering_uuid": market.offering.id}) == [made]

    order = seller.marketplace_provider_offering_get_order(market.offering.id, order_uuid)
    assert (order["uuid"], order["state"]) == (order_uuid, "done")
