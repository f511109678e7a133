"""Quota analytics through waldur-api-client over HTTP, parsed strictly (the models' `from_dict`,
no field beyond the model's): `daily_quotas_retrieve` (a list of ints per quota), and
`customer_quotas_list` / `project_quotas_list` (CustomerQuotas, ProjectQuotas; every page with
`sync_all`, the total with `*_count`), and `events_stats_list` / `events_stats_count` (EventStats),
served from the analytics aggregates after the stream ran."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from chalicelib.domain import clock
from tests.marketplace_helpers import build_market, ctx_of


@pytest.fixture
def aws(stack):
    yield


@pytest.fixture
def market(aws, admin, settle):
    """Acme's project Apollo with a resource, and a second project Gemini; the stream settled."""
    from chalicelib.services import orders, projects
    from tests.marketplace_helpers import order_request

    market = build_market(admin)
    ctx = ctx_of(admin)
    projects.create_project(ctx, market.consumer.id, {"name": "Gemini"})
    order = orders.create_order(ctx, order_request(market))
    orders.approve_by_provider(ctx, order.id)
    orders.set_state_done(ctx, order.id)
    settle()
    return market


def test_daily_quotas_parse_as_lists_of_ints_per_quota(api, market):
    from waldur_api_client.api.daily_quotas import daily_quotas_retrieve
    from waldur_api_client.models import DailyQuotasRetrieveResponse200

    today = clock.utcnow().date()
    found = daily_quotas_retrieve.sync(
        client=api,
        scope=UUID(market.project.id),
        quota_names=["nc_resource_count", "nc_user_count"],
        start=today - timedelta(days=2),
        end=today,
    )
    assert isinstance(found, DailyQuotasRetrieveResponse200)
    # no point before today (the project was made today); today: one resource, one member
    assert found.additional_properties == {"nc_resource_count": [0, 0, 1], "nc_user_count": [0, 0, 1]}


def test_customer_and_project_quotas_parse_strictly_and_page(api, market):
    from waldur_api_client.api.customer_quotas import customer_quotas_count, customer_quotas_list
    from waldur_api_client.api.project_quotas import project_quotas_count, project_quotas_list
    from waldur_api_client.models import CustomerQuotas, CustomerQuotasQuotaNameEnum, ProjectQuotas

    name = CustomerQuotasQuotaNameEnum.NC_RESOURCE_COUNT
    customers = customer_quotas_list.sync(client=api, quota_name=name)
    assert all(isinstance(c, CustomerQuotas) and not c.additional_properties for c in customers)
    assert [(c.customer_name, c.value) for c in customers] == [("Acme", 1), ("Cloud Provider", 0)]
    assert customer_quotas_count.sync(client=api, quota_name=name) == 2

    projects = project_quotas_list.sync_all(client=api, quota_name=name)
    assert all(isinstance(p, ProjectQuotas) and not p.additional_properties for p in projects)
    assert [(p.project_name, p.customer_name, p.value) for p in projects] == [
        ("Apollo", "Acme", 1),
        ("Gemini", "Acme", 0),
    ]
    second = project_quotas_list.sync(client=api, quota_name=name, page=2, page_size=1)
    assert [p.project_name for p in second] == ["Gemini"]
    theirs = project_quotas_list.sync(client=api, quota_name=name, customer_uuid=UUID(market.provider.id))
    assert theirs == []
    assert project_quotas_count.sync(client=api, quota_name=name, customer_uuid=UUID(market.consumer.id)) == 2


def test_events_stats_parse_strictly(api, market, admin):
    from waldur_api_client.api.events_stats import events_stats_count, events_stats_list
    from waldur_api_client.models import EventStats

    now = clock.utcnow()
    scope = f"http://localhost/api/customers/{market.consumer.id}/"
    [month] = events_stats_list.sync(client=api, scope=scope, event_type=["project_creation_succeeded"])
    assert isinstance(month, EventStats) and not month.additional_properties
    assert (month.year, month.month, month.count) == (now.year, now.month, 2)  # Apollo and Gemini
    assert events_stats_count.sync(client=api, feature=["projects"]) == 1  # one month, platform-wide
    [mine] = events_stats_list.sync_all(client=api, related_user_uuid=UUID(admin.id))
    assert mine.count >= 1


def test_financial_reports_list_parses_strictly(api, market):
    from waldur_api_client.api.financial_reports import financial_reports_count, financial_reports_list
    from waldur_api_client.models import FinancialReport

    reports = financial_reports_list.sync_all(client=api)
    assert all(isinstance(r, FinancialReport) and not r.additional_properties for r in reports)
    assert [r.name for r in reports] == ["Acme", "Cloud Provider"]
    assert all(not r.billing_price_estimate.additional_properties for r in reports)
    [acme] = financial_reports_list.sync(
        client=api, customer_uuid=UUID(market.consumer.id), year=2020, month=1
    )
    assert acme.uuid == UUID(market.consumer.id) and float(acme.billing_price_estimate.total) == 0
    assert financial_reports_count.sync(client=api, name="acme") == 1
