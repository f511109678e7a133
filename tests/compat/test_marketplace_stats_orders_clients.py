"""marketplace-stats/ for orders and organisations through waldur-api-client over HTTP: each
endpoint's retrieve or list function with strict parsing (a model with no unknown keys; an
unexpected status raises) and its `*_count` function, values against a scenario worked out by
hand (tests/integration/test_marketplace_stats_orders.py has the same one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from tests.compat.test_support_clients import strict
from tests.marketplace_helpers import build_market, ctx_of, order_request


@pytest.fixture
def aws(stack):
    yield


@pytest.fixture
def market(aws, admin, settle):
    """Five creation orders of 14.00 placed at T: three done (approved at T+2min, done at T+12min),
    one erred (approved at T+2min, failed at T+32min), one pending; read at T+40min."""
    from chalicelib.domain import clock
    from chalicelib.services import orders

    now = [datetime.now(UTC).replace(second=0, microsecond=0)]
    clock.set_source(lambda: now[0])
    start = now[0]
    market = build_market(admin)
    placed = [orders.create_order(ctx_of(market.owner), order_request(market)) for _ in range(5)]
    now[0] = start + timedelta(minutes=2)
    for order in placed[:4]:
        orders.approve_by_provider(ctx_of(market.seller), order.id)
    now[0] = start + timedelta(minutes=12)
    for order in placed[:3]:
        orders.set_state_done(ctx_of(market.seller), order.id)
    now[0] = start + timedelta(minutes=32)
    orders.set_state_erred(ctx_of(market.seller), placed[3].id, "No capacity")
    now[0] = start + timedelta(minutes=40)
    settle()
    market.start = start
    yield market
    clock.set_source(None)


def test_order_stats_parse_strictly_with_the_expected_numbers(server, admin, market):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_order_stats_count,
        marketplace_stats_order_stats_retrieve,
    )
    from waldur_api_client.models import OrderStatsResponse

    with strict(server, admin) as client:
        stats = marketplace_stats_order_stats_retrieve.sync(client=client)
        assert isinstance(stats, OrderStatsResponse) and not stats.additional_properties
        summary = stats.summary
        assert not summary.additional_properties
        assert (summary.total, summary.total_cost, summary.total_revenue) == (5, "70.00", "70.00")
        assert (summary.pending, summary.executing, summary.done, summary.erred) == (1, 0, 3, 1)
        assert (summary.canceled, summary.rejected) == (0, 0)
        assert stats.by_state.additional_properties == {"done": 3, "erred": 1, "pending-provider": 1}
        assert stats.by_type.additional_properties == {"Create": 5}
        [day] = stats.daily
        assert not day.additional_properties
        assert (day.date, day.total, day.total_cost, day.revenue) == (
            market.start.date(),
            5,
            "70.00",
            "70.00",
        )
        assert day.by_state.additional_properties == {"done": 3, "erred": 1, "pending-provider": 1}

        mine = marketplace_stats_order_stats_retrieve.sync(
            client=client, customer_uuid=str(UUID(market.consumer.id)), start=market.start.date().isoformat()
        )
        assert mine.summary.total == 5
        assert marketplace_stats_order_stats_count.sync(client=client) == 1  # one object
    with strict(server, market.owner) as owner:
        own = marketplace_stats_order_stats_retrieve.sync(client=owner, customer_uuid=market.consumer.id)
        assert own.summary.done == 3


def test_resource_provisioning_stats_parse_strictly(server, admin, market):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_resource_provisioning_stats_count,
        marketplace_stats_resource_provisioning_stats_list,
    )
    from waldur_api_client.models import ResourceProvisioningStats

    with strict(server, admin) as client:
        [row] = marketplace_stats_resource_provisioning_stats_list.sync(client=client)
        assert isinstance(row, ResourceProvisioningStats) and not row.additional_properties
        assert (row.offering_uuid, row.offering_name) == (UUID(market.offering.id), "Compute")
        assert (row.service_provider_uuid, row.service_provider_name) == (
            UUID(market.provider.id),
            "Cloud Provider",
        )
        assert (row.provisioning_count, row.provisioning_success_count, row.provisioning_error_count) == (
            4,
            3,
            1,
        )
        assert (row.provisioning_in_progress_count, row.provisioning_success_rate) == (1, 0.75)
        assert (row.avg_pending_duration, row.avg_provisioning_duration) == (120.0, 900.0)
        [recent] = marketplace_stats_resource_provisioning_stats_list.sync(client=client, last_minutes=10)
        assert (recent.provisioning_count, recent.provisioning_error_count) == (1, 1)
        assert marketplace_stats_resource_provisioning_stats_count.sync(client=client) == 1


def test_trends_and_organisation_counts_parse_strictly(server, admin, market):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_customer_member_count_count,
        marketplace_stats_customer_member_count_list,
        marketplace_stats_organization_project_count_count,
        marketplace_stats_organization_project_count_list,
        marketplace_stats_organization_resource_count_list,
        marketplace_stats_project_creation_trend_count,
        marketplace_stats_project_creation_trend_list,
        marketplace_stats_resource_creation_trend_list,
    )

    month = market.start.strftime("%Y-%m")
    with strict(server, admin) as client:
        [projects] = marketplace_stats_project_creation_trend_list.sync(client=client)
        [resources] = marketplace_stats_resource_creation_trend_list.sync(client=client)
        assert not projects.additional_properties and not resources.additional_properties
        assert (projects.month, projects.count, resources.month, resources.count) == (month, 1, month, 5)
        assert marketplace_stats_project_creation_trend_count.sync(client=client) == 1

        [with_projects] = marketplace_stats_organization_project_count_list.sync(client=client)
        [with_resources] = marketplace_stats_organization_resource_count_list.sync(client=client)
        for row, count in ((with_projects, 1), (with_resources, 3)):
            assert not row.additional_properties
            assert (row.uuid, row.name, row.abbreviation, row.count) == (
                market.consumer.id,
                "Acme",
                "",
                count,
            )
        assert marketplace_stats_organization_project_count_count.sync(client=client) == 1

        members = marketplace_stats_customer_member_count_list.sync(client=client)
        assert all(not m.additional_properties for m in members)
        assert [(m.uuid, m.name, m.count, m.has_resources) for m in members] == [
            (UUID(market.consumer.id), "Acme", 2, True),
            (UUID(market.provider.id), "Cloud Provider", 1, False),
        ]
        assert marketplace_stats_customer_member_count_count.sync(client=client) == 2
