"""What HomePort's resource pages read, through waldur-api-client's strict parsers: a resource with its
category and `scope`, the `category_uuid` filter, a retrieve carrying `creation_order` and
`order_in_progress` (OrderDetails), and `marketplace-(provider-)resources/<uuid>/offering/`
(PublicOfferingDetails)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.marketplace_helpers import build_market, ctx_of, make_offering


@pytest.fixture
def aws(stack):  # type: ignore[no-untyped-def]
    """Orders start their workflow (recorded by moto, not run)."""
    yield


@pytest.fixture
def market(aws: Any, admin: Any) -> Any:
    return build_market(admin)


def _ordered(market: Any, offering: Any) -> str:
    """An OK resource of `offering`, ordered by the owner and finished by the provider."""
    from chalicelib.services import orders
    from tests.marketplace_helpers import order_request

    placed = orders.create_order(ctx_of(market.owner), order_request(market, offering))
    orders.approve_by_provider(ctx_of(market.seller), placed.id)
    orders.set_state_done(ctx_of(market.seller), placed.id)
    return str(placed.resource_id)


def test_waldur_api_client_parses_what_homeports_resource_pages_read(market: Any, api: Any) -> None:
    from waldur_api_client.api.marketplace_provider_resources import (
        marketplace_provider_resources_offering_retrieve,
    )
    from waldur_api_client.api.marketplace_resources import (
        marketplace_resources_list,
        marketplace_resources_offering_retrieve,
        marketplace_resources_retrieve,
        marketplace_resources_update_limits,
    )
    from waldur_api_client.models import ResourceUpdateLimitsRequest
    from waldur_api_client.models.resource_update_limits_request_limits import (
        ResourceUpdateLimitsRequestLimits,
    )

    from chalicelib.services import categories

    category = categories.create_category(ctx_of(market.staff), {"title": "Virtual machines"})
    offering = make_offering(market.staff, market.provider.id, name="Cloud VMs", category_id=category.id)
    resource_id = _ordered(market, offering)
    _ordered(market, market.offering)  # another, without a category

    listed = marketplace_resources_list.sync(client=api, category_uuid=UUID(category.id))
    assert [r.uuid.hex for r in listed] == [resource_id]
    row = listed[0]
    assert row.scope is None and row.category_title == "Virtual machines"
    assert row.offering_slug and row.offering_description == "" and row.limit_usage.to_dict() == {"cpu": None}

    resource = marketplace_resources_retrieve.sync(uuid=UUID(resource_id), client=api)
    assert resource.creation_order.type_.value == "Create" and resource.order_in_progress is None
    body = ResourceUpdateLimitsRequest(limits=ResourceUpdateLimitsRequestLimits.from_dict({"cpu": 3}))
    update = marketplace_resources_update_limits.sync(uuid=UUID(resource_id), client=api, body=body)
    changing = marketplace_resources_retrieve.sync(uuid=UUID(resource_id), client=api)
    assert changing.order_in_progress.uuid == update.order_uuid

    details = marketplace_resources_offering_retrieve.sync(uuid=UUID(resource_id), client=api)
    assert (details.uuid.hex, details.name, details.category_title) == (
        offering.id,
        "Cloud VMs",
        "Virtual machines",
    )
    assert [c.type_ for c in details.components] == ["cpu"] and [p.name for p in details.plans] == [
        "Standard"
    ]
    assert "secret_options" not in details.to_dict()  # the provider's credentials stay with it
    theirs = marketplace_provider_resources_offering_retrieve.sync(uuid=UUID(resource_id), client=api)
    assert theirs.uuid == details.uuid
