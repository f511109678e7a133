"""What HomePort's marketplace pages read, through waldur-api-client's strict parsers: the offering
types (PluginOfferingType), plan prices (PlanComponent), category groups (CategoryGroup) and the
per-category resource counts (MarketplaceGlobalCategoriesRetrieveResponse200)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest
from waldur_api_client.api.marketplace_category_groups import marketplace_category_groups_list
from waldur_api_client.api.marketplace_global_categories import marketplace_global_categories_retrieve
from waldur_api_client.api.marketplace_plan_components import marketplace_plan_components_list
from waldur_api_client.api.marketplace_plugins import marketplace_plugins_list

from tests.marketplace_helpers import build_market, ctx_of, make_offering

pytestmark = pytest.mark.compat


@pytest.fixture
def aws(stack):
    """Orders start workflows: the queues and state machines exist (nothing runs them)."""
    yield


def test_waldur_api_client_parses_what_the_marketplace_pages_read(api, admin):
    from chalicelib.services import categories, orders
    from tests.marketplace_helpers import order_request

    market = build_market(admin)
    category = categories.create_category(ctx_of(admin), {"title": "Compute"})
    offering = make_offering(admin, market.provider.id, name="VMs", category_id=category.id)
    orders.create_order(ctx_of(market.owner), order_request(market, offering))

    plugins = {p.offering_type: p for p in marketplace_plugins_list.sync(client=api)}
    assert plugins["Marketplace.Basic"].available_limits == []
    assert [c.type_ for c in plugins["Marketplace.Slurm"].components] == ["cpu", "gpu", "ram"]

    [cpu] = marketplace_plan_components_list.sync(client=api, offering_uuid=UUID(offering.id))
    assert (cpu.offering_name, cpu.plan_name, cpu.component_name) == ("VMs", "Standard", "CPU")
    assert Decimal(str(cpu.price)) == 2 and cpu.plan_uuid == UUID(offering.plans[0].id)

    assert marketplace_category_groups_list.sync(client=api) == []

    counts = marketplace_global_categories_retrieve.sync(client=api)
    assert counts is not None and counts.additional_properties == {category.id: 1}
    narrowed = marketplace_global_categories_retrieve.sync(client=api, project_uuid=UUID(market.project.id))
    assert narrowed is not None and narrowed.additional_properties == {category.id: 1}
