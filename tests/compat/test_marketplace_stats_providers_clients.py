"""The service providers' statistics through waldur-api-client 8.1.3 over HTTP, parsed strictly (the
models' `from_dict`, no field the model does not know, at any depth), with the values of the
hand-counted marketplace of tests/integration/test_analytics_providers.py; the `*_count` functions
(HEAD, X-Result-Count) too."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.integration import test_analytics_providers as scenario
from tests.integration.test_analytics_providers import months_ago

pytestmark = pytest.mark.compat
world = scenario.world  # the hand-counted marketplace, its values asserted below
scene = scenario.scene


@pytest.fixture
def aws(stack):
    yield


@pytest.fixture
def staff(admin):
    return admin  # the world's maker is the client's caller


def strict(parsed: Any) -> None:
    """No unknown field anywhere in what the client parsed."""
    if isinstance(parsed, list):
        for item in parsed:
            strict(item)
        return
    extra = getattr(parsed, "additional_properties", None)
    assert extra is not None, parsed
    if type(parsed).__name__ != "ProviderResourceStatsByState":  # a map: its keys are the values
        assert extra == {}, (type(parsed).__name__, extra)
    for name in getattr(type(parsed), "__attrs_attrs__", ()):
        if name.name != "additional_properties":
            value = getattr(parsed, name.name)
            if isinstance(value, list) or hasattr(value, "additional_properties"):
                strict(value)


def test_platform_lists_parse_strictly_with_the_hand_counted_values(api, scene):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_count_active_resources_grouped_by_offering_count as by_offering_count,
    )
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_count_active_resources_grouped_by_offering_list as by_offering,
    )
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_top_service_providers_by_resources_count as top_count,
    )
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_top_service_providers_by_resources_list as top,
    )
    from waldur_api_client.models import OfferingStats, TopServiceProviderByResources

    w = scene
    found = top.sync(client=api)
    strict(found)
    assert found == [
        TopServiceProviderByResources(UUID(w.p1.id), "Cloud Provider", 4, 2),
        TopServiceProviderByResources(UUID(w.p2.id), "Beta Cloud", 1, 1),
    ]
    assert [p.customer_name for p in top.sync(client=api, limit=1)] == ["Cloud Provider"]
    assert top_count.sync(client=api) == 2
    assert [p.customer_name for p in top.sync(client=api, page=2, page_size=1)] == ["Beta Cloud"]

    counts = by_offering.sync(client=api)
    strict(counts)
    assert counts == [
        OfferingStats(2, "Compute", w.compute.id, ""),
        OfferingStats(1, "GPU", w.gpu.id, ""),
        OfferingStats(2, "Storage", w.storage.id, "EE"),
    ]
    assert by_offering_count.sync(client=api) == 3


def test_a_providers_figures_parse_strictly_with_the_hand_counted_values(api, scene):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_provider_customers_count,
        marketplace_stats_provider_customers_retrieve,
        marketplace_stats_provider_offerings_retrieve,
        marketplace_stats_provider_resources_retrieve,
    )

    w = scene
    provider = str(w.sp1.id)
    customers = marketplace_stats_provider_customers_retrieve.sync(client=api, provider_uuid=provider)
    strict(customers)
    assert (customers.total, customers.new_this_month) == (2, 1)
    assert [(c.customer_uuid, c.customer_name, c.revenue) for c in customers.top_by_revenue] == [
        (UUID(w.zenith.id), "Zenith", "29.00"),
        (UUID(w.acme.id), "Acme", "15.00"),
    ]
    assert [(c.customer_name, c.resource_count) for c in customers.top_by_resources] == [
        ("Acme", 3),
        ("Zenith", 2),
    ]
    assert customers.monthly[-1].month == months_ago(0).strftime("%Y-%m")
    assert customers.monthly[-1].customer_count == 2 and len(customers.monthly) == 12
    assert marketplace_stats_provider_customers_count.sync(client=api, provider_uuid=provider) == 1

    resources = marketplace_stats_provider_resources_retrieve.sync(client=api, provider_uuid=provider)
    strict(resources)
    assert resources.total == 6
    assert resources.by_state.to_dict() == {
        "Erred": 1,
        "OK": 2,
        "Terminated": 1,
        "Terminating": 1,
        "Updating": 1,
    }
    assert [(o.offering_uuid, o.count) for o in resources.by_offering] == [
        (UUID(w.compute.id), 3),
        (UUID(w.storage.id), 2),
    ]
    assert [m.count for m in resources.monthly][-4:] == [1, 0, 2, 3]

    offerings = marketplace_stats_provider_offerings_retrieve.sync(client=api, provider_uuid=provider)
    strict(offerings)
    compute, storage = offerings.offerings
    assert (compute.offering_name, compute.active_resources, compute.total_resources, compute.revenue) == (
        "Compute",
        2,
        3,
        "10.00",
    )
    assert (storage.category_name, storage.state, storage.revenue) == ("Storage", "Active", "34.00")
    [small] = storage.plans
    assert (small.plan_name, small.usage, small.limit, small.utilization) == ("Small", 2, 4, 50.0)
    [standard] = compute.plans
    assert (standard.usage, standard.limit, standard.utilization) == (2, None, None)


def test_an_offerings_stats_parse_strictly(api, scene):
    from waldur_api_client.api.marketplace_provider_offerings import (
        marketplace_provider_offerings_stats_retrieve as stats,
    )

    w = scene
    found = stats.sync(UUID(w.storage.id), client=api)
    strict(found)
    assert (found.resources_count, found.customers_count) == (2, 1)
