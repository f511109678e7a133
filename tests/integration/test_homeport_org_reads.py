"""What HomePort's user, organisation, project and administration pages read, beyond the core lists:
Waldur's collections of features Cirrus does not have (answered empty, filters checked), a project's
cost per month (from its invoice items), the dashboards' aggregate usage and team size, a customer's
financial report, users' identity source and roles on the administration list, the terms agreement
HomePort requires of a non-staff user, and the two query parameters HomePort sends that Waldur
ignores or knows (`?exclude_extra=`, `?o=concatenated_name`).

The clock stands at 2026-11-15 10:00 UTC; the market (tests/marketplace_helpers) has a resource of
the billed offering in Apollo since then (a fixed Public IP, a cpu limit of 4, a setup fee).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import clock
from tests.helpers import call
from tests.integration.test_billing import COMPONENTS, PLANS, at, made
from tests.marketplace_helpers import build_market, ctx_of, make_offering

pytestmark = [pytest.mark.stack, pytest.mark.fakes]

NOW = at("2026-11-15T10:00:00")
GHOST = "0" * 32


@pytest.fixture(autouse=True)
def now() -> Iterator[None]:
    clock.set_source(lambda: NOW)
    yield
    clock.set_source(None)


@pytest.fixture
def market(aws: None, staff: Any) -> Any:
    from chalicelib.services import customers

    market = build_market(staff)
    customers.update_customer(ctx_of(staff), market.consumer.id, {"default_tax_percent": Decimal("20")})
    market.offering = make_offering(
        staff, market.provider.id, name="Billed", components=COMPONENTS, plans=PLANS
    )
    market.order = made(market, NOW, limits={"cpu": 4})
    clock.set_source(lambda: NOW)
    return market


def get(client: Any, account: Any, path: str) -> Any:
    reply = call(client, "GET", path, account)
    assert reply.status == 200, (path, reply.status, reply.json)
    return reply.json


# --- features Cirrus does not have: empty, in Waldur's shape ----------------------------------------
EMPTY = (
    "/api/customer-credits/?customer_uuid={c}",
    "/api/marketplace-checklists/",
    "/api/marketplace-project-update-requests/?state=pending",
    "/api/marketplace-project-estimated-cost-policies/?scope_uuid={p}",
    "/api/customer-permissions-reviews/?customer_uuid={c}&is_pending=true",
)


@pytest.mark.parametrize("path", EMPTY)
def test_features_cirrus_does_not_have_are_empty_lists(client: Any, market: Any, path: str) -> None:
    url = path.format(c=market.consumer.id, p=market.project.id)
    for account in (market.staff, market.owner, market.member):
        reply = call(client, "GET", url, account)
        assert reply.status == 200 and reply.json == [] and reply.headers["X-Result-Count"] == "0"
        head = call(client, "HEAD", url, account)  # HomePort's sidebar counts them with HEAD
        assert head.status == 200 and head.headers["X-Result-Count"] == "0" and head.raw == b""
    assert call(client, "GET", url).status == 401


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/customer-credits/?customer_uuid=nope", "customer_uuid"),
        ("/api/marketplace-project-update-requests/?state=sleeping", "state"),
        ("/api/marketplace-project-update-requests/?project_uuid=nope", "project_uuid"),
        ("/api/marketplace-project-estimated-cost-policies/?scope_uuid=nope", "scope_uuid"),
        ("/api/customer-permissions-reviews/?o=name", "o"),
    ],
)
def test_their_filters_are_checked_as_waldur_checks_them(
    client: Any, staff: Any, path: str, field: str
) -> None:
    reply = call(client, "GET", path, staff)
    assert reply.status == 400 and field in reply.json


# --- a project's cost per month -------------------------------------------------------------------------
def test_a_projects_cost_per_month_is_the_sum_of_its_invoice_items(client: Any, market: Any) -> None:
    [invoice] = get(client, market.owner, f"/api/invoices/?customer_uuid={market.consumer.id}")
    assert invoice["year"] == 2026 and invoice["month"] == 11
    items = Decimal(invoice["price"])  # before tax, as Waldur's costs sum unit price x quantity
    assert items > 0
    for account in (market.owner, market.member, market.staff):  # whoever sees the project
        reply = call(client, "GET", f"/api/invoice-items/costs/?project_uuid={market.project.id}", account)
        assert reply.status == 200 and reply.headers["X-Result-Count"] == "1"
        [month] = reply.json
        assert month == {"price": float(round(items, 2)), "year": 2026, "month": 11,
                         "compensation": 0.0, "incurred": month["incurred"]}  # fmt: skip
        assert round(month["incurred"], 2) == month["price"]


def test_costs_of_a_project_nobody_may_see_are_none(client: Any, market: Any, alice: Any) -> None:
    path = f"/api/invoice-items/costs/?project_uuid={market.project.id}"
    assert get(client, market.seller, path) == []  # another customer's owner
    assert get(client, alice, path) == []
    assert get(client, market.staff, f"/api/invoice-items/costs/?project_uuid={GHOST}") == []
    assert get(client, market.staff, "/api/invoice-items/costs/") == []
    bad = call(client, "GET", "/api/invoice-items/costs/?project_uuid=nope", market.staff)
    assert bad.status == 400 and "project_uuid" in bad.json


# --- aggregate usage and limits -------------------------------------------------------------------------
def _by_type(stats: Any) -> dict[str, Any]:
    return {row["type"]: row for row in stats["components"]}


def test_project_and_customer_stats_sum_their_resources_limits(client: Any, market: Any) -> None:
    for path in (f"/api/projects/{market.project.id}/stats/", f"/api/customers/{market.consumer.id}/stats/"):
        rows = _by_type(get(client, market.owner, path))
        assert set(rows) == {"ip", "cpu", "setup", "migration", "storage"}
        cpu = rows["cpu"]
        assert cpu["limit"] == 4 and cpu["usage"] == 0 and cpu["name"] == "CPU"
        assert cpu["offering_name"] == "Billed" and cpu["offering_uuid"] == market.offering.id
        assert cpu["measured_unit"] == "cores" and cpu["billing_type"] == "limit"


def test_stats_follow_sight(client: Any, market: Any, alice: Any) -> None:
    assert call(client, "GET", f"/api/projects/{market.project.id}/stats/", alice).status == 404
    assert call(client, "GET", f"/api/customers/{market.consumer.id}/stats/", alice).status == 404
    assert call(client, "GET", f"/api/projects/{GHOST}/stats/", market.staff).status == 404
    # The project's member sees their project's resources in the customer's stats.
    assert (
        _by_type(get(client, market.member, f"/api/customers/{market.consumer.id}/stats/"))["cpu"]["limit"]
        == 4
    )
    # The provider's owner sees nothing of the consumer.
    assert call(client, "GET", f"/api/customers/{market.consumer.id}/stats/", market.seller).status == 404


def test_a_customer_with_no_resources_has_no_components(client: Any, market: Any) -> None:
    assert get(client, market.staff, f"/api/customers/{market.provider.id}/stats/") == {"components": []}


# --- team size per day --------------------------------------------------------------------------------
def _scope(kind: str, object_id: str) -> str:
    return f"http%3A%2F%2Ftestserver%2Fapi%2F{kind}%2F{object_id}%2F"


def test_team_size_per_day_counts_the_roles_in_force(client: Any, market: Any) -> None:
    start = (NOW - timedelta(days=30)).date().isoformat()
    scope = _scope("projects", market.project.id)
    path = f"/api/daily-quotas/?scope={scope}&quota_names=nc_user_count&start={start}"
    series = get(client, market.owner, path)["nc_user_count"]
    assert len(series) == 31 and series[-1] == 1  # the member, granted today
    assert series[:-1] == [0] * 30  # before: nobody had a role in force
    customer = _scope("customers", market.consumer.id)
    whole = get(client, market.owner, f"/api/daily-quotas/?scope={customer}&quota_names=nc_user_count")
    assert whole["nc_user_count"][-1] == 2  # the owner and the member


def test_quotas_without_history_are_zeros_and_the_scope_default_names_them(client: Any, market: Any) -> None:
    path = f"/api/daily-quotas/?scope={market.project.id}&start=2026-11-10&end=2026-11-15"
    body = get(client, market.staff, path)
    assert body == {"nc_resource_count": [0] * 6, "nc_user_count": [0, 0, 0, 0, 0, 1]}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "scope"),
        ("?scope=nope", "scope"),
        (f"?scope=http%3A%2F%2Ftestserver%2Fapi%2Fusers%2F{GHOST}%2F", "scope"),
        ("?scope={p}&start=2026-11-15&end=2026-11-15", "non_field_errors"),
        ("?scope={p}&start=1000-01-01&end=2026-11-15", "non_field_errors"),
        ("?scope={p}&start=someday", "start"),
    ],
)
def test_daily_quotas_refuse_what_waldur_refuses(client: Any, market: Any, query: str, field: str) -> None:
    reply = call(client, "GET", "/api/daily-quotas/" + query.format(p=market.project.id), market.staff)
    assert reply.status == 400 and field in reply.json


def test_a_scope_the_caller_does_not_see_has_no_records(client: Any, market: Any, alice: Any) -> None:
    """As any query of Cirrus's matches nothing there (Waldur: a 400 telling which ids exist)."""
    project = _scope("projects", market.project.id)
    days = "start=2026-11-13&end=2026-11-15"
    seen = get(client, alice, f"/api/daily-quotas/?scope={project}&quota_names=nc_user_count&{days}")
    assert seen == {"nc_user_count": [0, 0, 0]}
    assert get(client, alice, f"/api/daily-quotas/?scope={project}&{days}") == {}
    assert get(client, market.staff, f"/api/daily-quotas/?scope={GHOST}&{days}") == {}


# --- financial report ---------------------------------------------------------------------------------
def test_a_customers_financial_report_has_this_months_estimate(client: Any, market: Any) -> None:
    report = get(client, market.owner, f"/api/financial-reports/{market.consumer.id}/")
    customer = get(client, market.owner, f"/api/customers/{market.consumer.id}/")
    assert report["name"] == "Acme" and report["uuid"] == market.consumer.id
    assert report["payment_profiles"] == []
    assert report["billing_price_estimate"] == customer["billing_price_estimate"]
    assert Decimal(report["billing_price_estimate"]["total"]) > 0


def test_a_financial_report_is_for_those_who_see_the_spend(client: Any, market: Any, alice: Any) -> None:
    for account in (market.member, market.seller, alice):
        assert call(client, "GET", f"/api/financial-reports/{market.consumer.id}/", account).status == 404
    assert call(client, "GET", f"/api/financial-reports/{market.consumer.id}/", market.staff).status == 200


# --- users --------------------------------------------------------------------------------------------
def test_a_user_says_where_their_identity_comes_from(client: Any, alice: Any) -> None:
    me = get(client, alice, "/api/users/me/")
    assert me["identity_provider_name"] == me["identity_provider_label"] == "Local DB"
    assert me["identity_provider_fields"] == [] and me["identity_provider_management_url"] == ""


def test_a_federated_users_claimed_fields_are_the_identity_providers() -> None:
    from chalicelib.domain.users import identity_source

    source = identity_source("cognito")
    assert source.label == "Cognito" and source.fields == ("full_name", "email")


def test_the_users_list_shows_roles_when_asked(client: Any, market: Any) -> None:
    listed = get(client, market.staff, "/api/users/?field=uuid&field=permissions&field=username")
    owner = next(u for u in listed if u["uuid"] == market.owner.id)
    [role] = owner["permissions"]
    assert role["role_name"] == "CUSTOMER.OWNER" and role["scope_name"] == "Acme"
    plain = get(client, market.staff, "/api/users/")
    assert all("permissions" not in u for u in plain)  # not unless asked: a Query per user


# --- query parameters HomePort sends ------------------------------------------------------------------
def test_the_user_event_log_accepts_exclude_extra(client: Any, alice: Any) -> None:
    scope = f"http%3A%2F%2Ftestserver%2Fapi%2Fusers%2F{alice.id}%2F"
    reply = call(client, "GET", f"/api/events/?scope={scope}&feature=users&exclude_extra=true", alice)
    assert reply.status == 200 and reply.json[0]["event_type"] == "user_creation_succeeded"
    bad = call(client, "GET", "/api/events/?exclude_extra=perhaps", alice)
    assert bad.status == 400 and "exclude_extra" in bad.json


def test_a_customers_people_order_by_concatenated_name(client: Any, market: Any) -> None:
    path = f"/api/customers/{market.consumer.id}/users/?o=concatenated_name"
    names = [u["username"] for u in get(client, market.owner, path)]
    assert names == ["member", "owner"]  # "MemberofApollomember" < "OwnerofAcmeowner"
    backwards = [u["username"] for u in get(client, market.owner, path.replace("=concat", "=-concat"))]
    assert backwards == ["owner", "member"]


@pytest.mark.moto  # the seed reads the store
def test_the_demo_owner_signs_straight_into_homeport(aws: None) -> None:
    """HomePort keeps a non-staff user who lacks a mandatory field or the terms agreement on the
    profile form: the local stack's demo owner has both."""
    from chalicelib.api.public_settings import core
    from chalicelib.local.seed import DEMO_OWNER, seed
    from chalicelib.services.ports import users

    seed("admin", "admin-secret-pw")
    owner = users.get_by_username(DEMO_OWNER)
    assert owner is not None and owner.agreement_date is not None
    for field in core("http://x", False)["USER_MANDATORY_FIELDS"]:
        assert getattr(owner, field)


def test_daily_quotas_need_a_scope_as_the_schema_says(client, staff):
    from tests.helpers import call

    reply = call(client, "GET", "/api/daily-quotas/?quota_names=nc_user_count", staff)
    assert reply.status == 400 and reply.json == {"scope": ["This field is required."]}
