"""Costs and limits through waldur-api-client 8.1.3 over HTTP, parsed strictly (its models, nothing
they do not know): `marketplace_stats_total_cost_of_active_resources_per_offering_list/_count`,
`marketplace_stats_offering_costs_summary_retrieve`, `marketplace_stats_resources_limits_list/_count`
and `billing_total_cost_retrieve`, against hand-computed values.

The world (real time, so this month is the invoices' month): offering "Alpha" bills a `cpu` limit
at 2 a core a month, "Beta" at 3; two resources made in the current month bill their monthly limit
whole (Waldur's rule for `limit` components): Acme's 4 cores on Alpha = 8.00, Globex's 5 cores on
Beta = 15.00 (Globex pays 10 % tax: total 16.50).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from tests.conftest import make_account
from tests.marketplace_helpers import ctx_of, make_offering, order_request

CPU = {"type": "cpu", "name": "CPU", "measured_unit": "cores", "billing_type": "limit"}


@pytest.fixture
def aws(stack):
    yield


class _Market:
    def __init__(self, project: Any, offering: Any) -> None:
        self.project, self.offering = project, offering


def _made(staff: Any, offering: Any, project: Any, cores: int) -> None:
    from chalicelib.services import orders

    ctx = ctx_of(staff)
    request = order_request(
        _Market(project, offering),
        offering,
        project=f"http://testserver/api/projects/{project.id}/",
        limits={"cpu": cores},
    )
    order = orders.create_order(ctx, request)
    orders.approve_by_provider(ctx, order.id)
    orders.set_state_done(ctx, order.id)


@pytest.fixture
def world(aws, admin, settle):
    from chalicelib.services import customers, projects

    ctx = ctx_of(admin)
    provider = customers.create_customer(ctx, {"name": "Cloud Provider", "country": "NO"})
    acme = customers.create_customer(ctx, {"name": "Acme"})
    globex = customers.create_customer(ctx, {"name": "Globex", "default_tax_percent": "10"})
    apollo = projects.create_project(ctx, acme.id, {"name": "Apollo"})
    gemini = projects.create_project(ctx, globex.id, {"name": "Gemini"})
    plan = {"name": "Standard", "unit": "month"}
    alpha = make_offering(admin, provider.id, name="Alpha", plans=({**plan, "prices": {"cpu": "2"}},))
    beta = make_offering(admin, provider.id, name="Beta", plans=({**plan, "prices": {"cpu": "3"}},))
    _made(admin, alpha, apollo, 4)
    _made(admin, beta, gemini, 5)
    settle()
    return {"alpha": alpha, "beta": beta, "acme": acme, "globex": globex}


def _strict(server: Any, account: Any) -> Any:
    from waldur_api_client import AuthenticatedClient

    return AuthenticatedClient(base_url=server.url, token=account.token, timeout=10.0)


def test_cost_statistics_parse_strictly_with_the_hand_computed_values(server, admin, world):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_offering_costs_summary_retrieve as summary,
    )
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_total_cost_of_active_resources_per_offering_count as costs_count,
    )
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_total_cost_of_active_resources_per_offering_list as costs,
    )
    from waldur_api_client.models import OfferingCost, OfferingCostsSummary

    client = _strict(server, admin)
    rows = costs.sync(client=client, page=1, page_size=10)
    assert all(isinstance(r, OfferingCost) and not r.additional_properties for r in rows)
    assert [(r.offering_uuid, r.offering_name, r.cost) for r in rows] == [
        (UUID(world["alpha"].id), "Alpha", 8.0),
        (UUID(world["beta"].id), "Beta", 15.0),
    ]
    assert costs_count.sync(client=client) == 2
    found = summary.sync(client=client)
    assert isinstance(found, OfferingCostsSummary) and not found.additional_properties
    assert (found.total_cost, found.offering_count, found.average_cost) == ("23.00", 2, "11.50")


def test_resources_limits_parse_strictly(server, admin, world):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_resources_limits_count as limits_count,
    )
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_resources_limits_list as limits,
    )
    from waldur_api_client.models import ResourcesLimits

    client = _strict(server, admin)
    rows = limits.sync(client=client)
    assert all(isinstance(r, ResourcesLimits) and not r.additional_properties for r in rows)
    assert sorted((str(r.offering_uuid.hex), r.name, r.value, r.offering_country) for r in rows) == sorted(
        [(world["alpha"].id, "cpu", 4, "NO"), (world["beta"].id, "cpu", 5, "NO")]
    )
    assert {(r.organization_group_name, r.organization_group_uuid) for r in rows} == {("", "")}
    assert limits_count.sync(client=client) == 2


def test_billing_total_cost_parses_strictly_and_filters(server, admin, world):
    from waldur_api_client.api.billing_total_cost import billing_total_cost_retrieve as total_cost
    from waldur_api_client.models import TotalCustomerCost

    client = _strict(server, admin)
    now = datetime.now(UTC)
    found = total_cost.sync(client=client, year=now.year, month=now.month, accounting_is_running=True)
    assert isinstance(found, TotalCustomerCost) and not found.additional_properties
    assert (found.total, found.price) == (24.5, 23.0)  # 8 + 15 x 1.1
    assert total_cost.sync(client=client, name="glob").to_dict() == {"total": 16.5, "price": 15.0}
    only = total_cost.sync(client=client, customer_uuid=UUID(world["acme"].id))
    assert (only.total, only.price) == (8.0, 8.0)


def test_a_customer_owner_is_refused(server, world):
    from waldur_api_client import errors
    from waldur_api_client.api.billing_total_cost import billing_total_cost_retrieve as total_cost
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_offering_costs_summary_retrieve as summary,
    )

    user = make_account("plain", full_name="Plain User", email="plain@example.org")
    client = _strict(server, user)
    for function in (total_cost, summary):
        with pytest.raises(errors.UnexpectedStatus) as refused:
            function.sync(client=client)
        assert refused.value.status_code == 403
