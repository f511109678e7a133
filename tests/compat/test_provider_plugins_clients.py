"""What clients read of provider plugins, through waldur-api-client's parsers over HTTP: every
registered offering type (built-ins, installed entry points, a cloud type registered at run time)
in `marketplace-plugins/` as PluginOfferingType, a cloud type's limit components as its
`available_limits`, and a cloud offering's importable resources as ImportableResource."""

from __future__ import annotations

from uuid import UUID

import pytest
from waldur_api_client.api.marketplace_plugins import marketplace_plugins_list
from waldur_api_client.api.marketplace_provider_offerings import (
    marketplace_provider_offerings_importable_resources_list,
)

from chalicelib.providers import registry
from tests.cloud_helpers import cloud_offering
from tests.fakes.cloud import TYPE, FakeCloud, registered
from tests.marketplace_helpers import build_market

pytestmark = pytest.mark.compat


@pytest.fixture
def cloud():
    with registered(FakeCloud()) as fake:
        yield fake


def test_every_registered_type_is_listed_with_its_components_and_a_cloud_types_limits(api, cloud):
    plugins = {p.offering_type: p for p in marketplace_plugins_list.sync(client=api)}

    assert sorted(plugins) == registry.offering_types()  # entry points' types included
    test_cloud = plugins[TYPE]
    assert [(c.type_, c.billing_type.value) for c in test_cloud.components] == [
        ("cores", "limit"),
        ("traffic", "usage"),
    ]
    assert test_cloud.available_limits == ["cores"]
    assert plugins["Marketplace.Basic"].available_limits == []


def test_importable_resources_parse_as_waldurs(api, admin, cloud):
    market = build_market(admin)
    offering = cloud_offering(market)
    cloud.add("i-1", "web-1", type="instance", description="t3.micro")

    found = marketplace_provider_offerings_importable_resources_list.sync(uuid=UUID(offering.id), client=api)

    assert [(r.backend_id, r.name, r.type_, r.description) for r in found] == [
        ("i-1", "web-1", "instance", "t3.micro")
    ]
