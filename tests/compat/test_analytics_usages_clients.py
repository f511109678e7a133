"""Component usage statistics through waldur-api-client over HTTP, parsed strictly (every answer its
model, no unknown keys; an undocumented status raises): `marketplace_stats` component_usages*,
`marketplace_customer_usage`, `marketplace_project_usage` and `marketplace_component_usage_monthly`.

Hand-computed: R1 (Apollo, made last month, cpu=2) reports last month cpu_hours 10 and this month
cpu_hours 20 + storage 7; R2 (Apollo, this month, cpu=3) reports cpu_hours 5.5. This month:
cpu_hours 25.5, storage 7; last month cpu_hours 10; cpu limits 5."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.compat.test_marketplace_usages_clients import client_of
from tests.marketplace_helpers import CPU, build_market, make_offering

HOURS = {"type": "cpu_hours", "name": "CPU hours", "measured_unit": "h", "billing_type": "usage",
         "limit_period": "month", "limit_amount": 100}  # fmt: skip
STORAGE = {"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "usage"}


@pytest.fixture
def aws(stack):
    yield


def this_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


def last_month() -> date:
    return (this_month() - timedelta(days=1)).replace(day=1)


def strict(server: Any, account: Any) -> Any:
    from waldur_api_client import AuthenticatedClient

    return AuthenticatedClient(base_url=server.url, token=account.token, timeout=10.0)


def live_resource(server: Any, market: Any, name: str, cpu: int) -> str:
    owner, seller = client_of(server, market.owner), client_of(server, market.seller)
    created = owner.create_resource_via_marketplace(
        market.project.id, market.offering.id, market.plan.id, {"name": name}, {"cpu": cpu}
    )
    seller.marketplace_order_approve_by_provider(created["create_order_uuid"])
    seller.marketplace_order_set_state_done(created["create_order_uuid"])
    return str(created["marketplace_resource_uuid"])


@pytest.fixture
def market(server, admin, settle):
    from chalicelib.domain import clock

    market = build_market(admin)
    market.offering = make_offering(admin, market.provider.id, name="HPC", components=[CPU, HOURS, STORAGE])
    made = datetime.combine(last_month(), datetime.min.time(), UTC) + timedelta(days=3, hours=12)
    clock.set_source(lambda: made)
    try:
        r1 = live_resource(server, market, "vm-1", 2)
    finally:
        clock.set_source(None)
    r2 = live_resource(server, market, "vm-2", 3)
    seller = client_of(server, market.seller)
    reply = httpx.post(  # a report for last month: python-waldur-client sends no date, set_usage takes one
        f"{server.url}/api/marketplace-component-usages/set_usage/",
        headers={"Authorization": f"Token {market.seller.token}"},
        json={"resource": r1, "date": made.isoformat(), "usages": [{"type": "cpu_hours", "amount": 10}]},
    )
    assert reply.status_code == 201, reply.text
    seller.create_component_usages(
        usages=[{"type": "cpu_hours", "amount": 20}, {"type": "storage", "amount": 7}], resource_uuid=r1
    )
    seller.create_component_usages(usages=[{"type": "cpu_hours", "amount": "5.5"}], resource_uuid=r2)
    settle()
    return market


def _strict(items: list[Any], model: type) -> None:
    assert all(isinstance(i, model) and not i.additional_properties for i in items)


def test_marketplace_stats_component_usage_functions(server, admin, market):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_component_usages_count,
        marketplace_stats_component_usages_list,
        marketplace_stats_component_usages_per_month_list,
        marketplace_stats_component_usages_per_project_list,
    )
    from waldur_api_client.errors import UnexpectedStatus
    from waldur_api_client.models import (
        ComponentUsagesPerMonthStats,
        ComponentUsagesPerProject,
        ComponentUsagesStats,
    )

    hpc = UUID(market.offering.id)
    with strict(server, admin) as api:
        rows = marketplace_stats_component_usages_list.sync(client=api)
        _strict(rows, ComponentUsagesStats)
        assert sorted((r.offering_uuid, r.component_type, r.usage) for r in rows) == [
            (hpc, "cpu_hours", "25.50"),
            (hpc, "storage", "7.00"),
        ]
        assert marketplace_stats_component_usages_count.sync(client=api) == 2

        months = marketplace_stats_component_usages_per_month_list.sync(client=api)
        _strict(months, ComponentUsagesPerMonthStats)
        assert sorted((r.year, r.month, r.component_type, r.usage) for r in months) == [
            (last_month().year, last_month().month, "cpu_hours", "10.00"),
            (this_month().year, this_month().month, "cpu_hours", "25.50"),
            (this_month().year, this_month().month, "storage", "7.00"),
        ]

        projects = marketplace_stats_component_usages_per_project_list.sync(client=api)
        _strict(projects, ComponentUsagesPerProject)
        assert sorted((str(p.project_uuid.hex), p.component_type, p.usage) for p in projects) == [
            (market.project.id, "cpu_hours", 25.5),
            (market.project.id, "storage", 7),
        ]

    with strict(server, market.owner) as owner, pytest.raises(UnexpectedStatus) as refused:
        marketplace_stats_component_usages_list.sync(client=owner)
    assert refused.value.status_code == 403


def test_customer_and_project_usage_functions(server, market):
    from waldur_api_client.api.marketplace_customer_usage import (
        marketplace_customer_usage_components_usage_by_project_retrieve as by_project,
    )
    from waldur_api_client.api.marketplace_customer_usage import (
        marketplace_customer_usage_components_usage_retrieve as customer_usage,
    )
    from waldur_api_client.api.marketplace_customer_usage import (
        marketplace_customer_usage_components_usage_timeseries_retrieve as customer_series,
    )
    from waldur_api_client.api.marketplace_project_usage import (
        marketplace_project_usage_components_usage_retrieve as project_usage,
    )
    from waldur_api_client.api.marketplace_project_usage import (
        marketplace_project_usage_components_usage_timeseries_retrieve as project_series,
    )
    from waldur_api_client.models import (
        ComponentsUsageStatsPerOffering,
        OfferingUsageByProject,
        OfferingUsageTimeseries,
    )

    hpc, acme, apollo = UUID(market.offering.id), UUID(market.consumer.id), UUID(market.project.id)
    with strict(server, market.owner) as owner:
        stats = customer_usage.sync(acme, client=owner, include_terminated=False)
        assert isinstance(stats, ComponentsUsageStatsPerOffering) and not stats.additional_properties
        _strict(stats.components, type(stats.components[0]))
        rows = {c.type_: c for c in stats.components}
        assert {t: (c.usage, c.limit_usage) for t, c in rows.items()} == {
            "cpu": (0.0, 5.0),
            "cpu_hours": (25.5, 0.0),
            "storage": (7.0, 0.0),
        }
        assert rows["cpu_hours"].current_period_start == this_month()
        assert {c.offering_uuid for c in stats.components} == {hpc}

        series = customer_series.sync(
            acme, client=owner, offering_uuid=hpc, component_type="cpu_hours", period_offset=1
        )
        assert isinstance(series, OfferingUsageTimeseries) and not series.additional_properties
        assert [(b.billing_period, b.usage) for b in series.buckets] == [(last_month(), 10.0)]
        assert all(not b.additional_properties for b in series.buckets)

        split = by_project.sync(acme, client=owner, offering_uuid=hpc, component_type="cpu_hours")
        assert isinstance(split, OfferingUsageByProject) and not split.additional_properties
        [entry] = split.projects
        assert not entry.additional_properties and not entry.buckets[0].additional_properties
        assert (entry.project_uuid, entry.project_name, entry.usage, split.total_usage) == (
            apollo,
            "Apollo",
            25.5,
            25.5,
        )

    with strict(server, market.member) as member:
        mine = project_usage.sync(apollo, client=member)
        assert isinstance(mine, ComponentsUsageStatsPerOffering)
        assert {c.type_: c.usage for c in mine.components}["cpu_hours"] == 25.5
        months = project_series.sync(apollo, client=member, offering_uuid=hpc, component_type="storage")
        assert [(b.billing_period, Decimal(str(b.usage))) for b in months.buckets] == [
            (this_month(), Decimal(7))
        ]


def test_component_usage_monthly_functions(server, admin, market):
    from waldur_api_client.api.marketplace_component_usage_monthly import (
        marketplace_component_usage_monthly_count,
        marketplace_component_usage_monthly_list,
    )
    from waldur_api_client.models import ComponentUsageMonthly, ComponentUsageMonthlyFieldEnum

    with strict(server, admin) as api:
        rows = marketplace_component_usage_monthly_list.sync(
            client=api, start=last_month(), o="-total_consumed"
        )
        _strict(rows, ComponentUsageMonthly)
        assert [(r.billing_period, r.component_type, r.total_consumed) for r in rows] == [
            (this_month(), "cpu_hours", "25.50"),
            (last_month(), "cpu_hours", "10.00"),
            (this_month(), "storage", "7.00"),
        ]
        first = rows[0]
        assert (first.offering_name, first.service_provider_name, first.limit_amount) == (
            "HPC",
            "Cloud Provider",
            100,
        )
        assert marketplace_component_usage_monthly_count.sync(client=api, start=last_month()) == 3
        sparse = marketplace_component_usage_monthly_list.sync(
            client=api,
            field=[
                ComponentUsageMonthlyFieldEnum.COMPONENT_TYPE,
                ComponentUsageMonthlyFieldEnum.TOTAL_CONSUMED,
            ],
            billing_type="usage",
            component_type="storage",
        )
        assert [r.to_dict() for r in sparse] == [{"component_type": "storage", "total_consumed": "7.00"}]

    with strict(server, market.seller) as seller:
        assert len(marketplace_component_usage_monthly_list.sync(client=seller)) == 2
    with strict(server, market.member) as member:
        mine = marketplace_component_usage_monthly_list.sync(
            client=member, project_uuid=UUID(market.project.id)
        )
        assert sorted(r.total_consumed for r in mine) == ["25.50", "7.00"]
