"""Component usages through the real clients over HTTP: python-waldur-client's
`create_component_usages` (by resource and by plan period) and `list_component_usages`, and
waldur-api-client's set_usage (201) and strict ComponentUsage parsing of lists and retrieves."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from tests.marketplace_helpers import CPU, build_market, make_offering

HOURS = {"type": "cpu_hours", "name": "CPU hours", "measured_unit": "h", "billing_type": "usage",
         "limit_period": "month", "limit_amount": 100}  # fmt: skip


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


def live_resource(server: Any, market: Any) -> str:
    owner, seller = client_of(server, market.owner), client_of(server, market.seller)
    created = owner.create_resource_via_marketplace(
        market.project.id, market.offering.id, market.plan.id, {"name": "vm-1"}, {"cpu": 2}
    )
    seller.marketplace_order_approve_by_provider(created["create_order_uuid"])
    seller.marketplace_order_set_state_done(created["create_order_uuid"])
    return str(created["marketplace_resource_uuid"])


def test_python_waldur_client_reports_and_lists_usages(server, market):
    from waldur_client import WaldurClientException

    resource = live_resource(server, market)
    seller, owner = client_of(server, market.seller), client_of(server, market.owner)
    period = datetime.now(UTC).date().replace(day=1).isoformat()

    seller.create_component_usages(
        usages=[{"type": "cpu_hours", "amount": 12, "description": "May"}], resource_uuid=resource
    )
    [usage] = owner.list_component_usages(resource, billing_period=period)
    assert (usage["type"], usage["usage"], usage["description"]) == ("cpu_hours", "12.00", "May")

    # the agent's other path: the resource's plan period
    [plan_period] = seller._get_all(
        f"{server.url}/api/marketplace-provider-resources/{resource}/plan_periods/"
    )
    seller.create_component_usages(
        plan_period_uuid=plan_period["uuid"], usages=[{"type": "cpu_hours", "amount": 15, "description": ""}]
    )
    [replaced] = owner.list_component_usages(resource)
    assert (replaced["uuid"], replaced["usage"]) == (usage["uuid"], "15.00")
    assert owner.get_marketplace_resource(resource)["current_usages"] == {"cpu_hours": "15.00"}

    with pytest.raises(WaldurClientException, match="You do not have permission"):
        owner.create_component_usages(usages=[{"type": "cpu_hours", "amount": 1}], resource_uuid=resource)
    with pytest.raises(WaldurClientException, match="These components are invalid: ram"):
        seller.create_component_usages(usages=[{"type": "ram", "amount": 1}], resource_uuid=resource)
    with pytest.raises(WaldurClientException, match="Total amount exceeds limit"):
        seller.create_component_usages(usages=[{"type": "cpu_hours", "amount": 101}], resource_uuid=resource)
    assert [u["usage"] for u in owner.list_component_usages(resource)] == ["15.00"]


def test_waldur_api_client_sets_usage_and_parses_usages_strictly(server, market, admin):
    from waldur_api_client import AuthenticatedClient
    from waldur_api_client.api.marketplace_component_usages import (
        marketplace_component_usages_list,
        marketplace_component_usages_retrieve,
        marketplace_component_usages_set_usage,
    )
    from waldur_api_client.models import (
        ComponentUsage,
        ComponentUsageCreateRequest,
        ComponentUsageItemRequest,
    )
    from waldur_api_client.models.component_usage_o_enum import ComponentUsageOEnum
    from waldur_api_client.models.missing_usage_policy_enum import MissingUsagePolicyEnum

    resource = live_resource(server, market)
    with AuthenticatedClient(base_url=server.url, token=market.seller.token, timeout=10.0) as seller:
        body = ComponentUsageCreateRequest(
            resource=UUID(resource),
            usages=[
                ComponentUsageItemRequest(type_="cpu_hours", amount="7.25", description="so far"),
                ComponentUsageItemRequest(
                    type_="cpu", amount="2", missing_usage_policy=MissingUsagePolicyEnum.REUSE
                ),
            ],
        )
        reply = marketplace_component_usages_set_usage.sync_detailed(client=seller, body=body)
        assert reply.status_code == 201

        now = datetime.now(UTC)
        found = marketplace_component_usages_list.sync(
            client=seller,
            resource_uuid=UUID(resource),
            billing_period_month=float(now.month),
            billing_period_year=float(now.year),
            o=[ComponentUsageOEnum.VALUE_2],  # -usage
        )
    assert [u.type_ for u in found] == ["cpu_hours", "cpu"]
    extras = {"url", "modified_by_username"}  # Cirrus's additions
    assert all(isinstance(u, ComponentUsage) and not u.additional_properties.keys() - extras for u in found)
    hours, cpu = found
    assert Decimal(str(hours.usage)) == Decimal("7.25") and hours.billing_period == now.date().replace(day=1)
    assert (cpu.missing_usage_policy, cpu.recurring) == (MissingUsagePolicyEnum.REUSE, True)
    assert hours.resource_uuid == UUID(resource) and hours.offering_uuid == UUID(market.offering.id)
    assert hours.customer_uuid == market.consumer.id and hours.project_name == "Apollo"

    with AuthenticatedClient(base_url=server.url, token=market.member.token, timeout=10.0) as member:
        one = marketplace_component_usages_retrieve.sync(hours.uuid, client=member)
    assert one.to_dict() == hours.to_dict()
