"""Service providers' statistics (`marketplace-stats/top_service_providers_by_resources/`,
`count_active_resources_grouped_by_offering/`, `provider_customers/`, `provider_resources/`,
`provider_offerings/`, `marketplace-provider-offerings/<uuid>/stats/`), kept from the stream:
values against a hand-counted marketplace, state changes moving them, who sees what, bad input,
a redelivered record moving nothing and a rebuild equal to what the stream built."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.vocabulary import ResourceState as S
from tests.helpers import call
from tests.marketplace_helpers import Market, build_market, ctx_of, make_offering

STATS = "/api/marketplace-stats"
TOP = f"{STATS}/top_service_providers_by_resources/"
BY_OFFERING = f"{STATS}/count_active_resources_grouped_by_offering/"
CUSTOMERS = f"{STATS}/provider_customers/"
RESOURCES = f"{STATS}/provider_resources/"
OFFERINGS = f"{STATS}/provider_offerings/"


def months_ago(n: int) -> date:
    today = datetime.now(UTC).date().replace(day=1)
    year, month = today.year, today.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def at(n: int) -> datetime:
    """A moment in the month `n` months ago (its second day, noon)."""
    first = months_ago(n)
    return datetime(first.year, first.month, 2, 12, tzinfo=UTC)


@dataclass
class World:
    market: Market
    p1: Any  # Cloud Provider (the market's provider customer) and its ServiceProvider
    sp1: Any
    p2: Any
    sp2: Any
    compute: Any  # p1's, plan Standard (no max amount)
    storage: Any  # p1's, category Storage, country EE, plan Small (max amount 4)
    gpu: Any  # p2's
    acme: Any
    apollo: Any
    gemini: Any
    zenith: Any
    zeus: Any
    resources: list[Any]


def put(w: World, provider: Any, offering: Any, customer: Any, project: Any, state: S, months: int) -> Any:
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.resources import Resource
    from chalicelib.store import resources
    from chalicelib.store.unit_of_work import UnitOfWork

    plan = offering.plans[0]
    made = at(months)
    resource = Resource(
        id=new_id(),
        name=f"r{len(w.resources) + 1}",
        state=state,
        customer_id=customer.id,
        project_id=project.id,
        offering_id=offering.id,
        provider_id=provider.id,
        created=made,
        modified=made,
        plan_id=plan.id,
        customer_name=customer.name,
        project_name=project.name,
        offering_name=offering.name,
        provider_name=provider.name,
        plan_name=plan.name,
    )
    uow = UnitOfWork()
    stored = resources.add(uow, resource)
    uow.commit()
    w.resources.append(stored)
    return stored


def move(resource: Any, state: S) -> Any:
    from chalicelib.store import resources
    from chalicelib.store.unit_of_work import UnitOfWork

    uow = UnitOfWork()
    after = resources.save_changes(uow, resource, replace(resource, state=state))
    uow.commit()
    return after


def bill(customer: Any, offering: Any, unit_price: str, quantity: str) -> None:
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.invoices import InvoiceItem
    from chalicelib.store import invoices

    now = datetime.now(UTC)
    item = InvoiceItem(
        id=new_id(),
        customer_id=customer.id,
        year=now.year,
        month=now.month,
        name=offering.name,
        unit="month",
        unit_price=Decimal(unit_price),
        quantity=Decimal(quantity),
        start=now.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
        end=now,
        offering_id=offering.id,
        provider_id=offering.customer_id,
    )
    assert invoices.put_new_item(item)


@pytest.fixture
def world(aws, staff) -> World:
    from chalicelib.services import categories, customers, projects
    from chalicelib.services.ports import service_providers

    market = build_market(staff)
    ctx = ctx_of(staff)
    p2 = customers.create_customer(ctx, {"name": "Beta Cloud"})
    zenith = customers.create_customer(ctx, {"name": "Zenith"})
    gemini = projects.create_project(ctx, market.consumer.id, {"name": "Gemini"})
    zeus = projects.create_project(ctx, zenith.id, {"name": "Zeus"})
    category = categories.create_category(ctx, {"title": "Storage"})
    small = {"name": "Small", "unit": "month", "unit_price": "5", "max_amount": 4}
    storage = make_offering(
        staff, market.provider.id, name="Storage", plans=(small,), category_id=category.id, country="EE"
    )
    gpu = make_offering(staff, p2.id, name="GPU")
    sp1 = service_providers.for_customer(market.provider.id)  # registered with its first offering
    sp2 = service_providers.for_customer(p2.id)
    return World(
        market, market.provider, sp1, p2, sp2, market.offering, storage, gpu,
        market.consumer, market.project, gemini, zenith, zeus, [],
    )  # fmt: skip


@pytest.fixture
def scene(world, settle) -> World:
    """Eight resources (months: 0 this month, 1 the last, 3 three months ago), hand-counted below."""
    w = world
    put(w, w.p1, w.compute, w.acme, w.apollo, S.OK, 0)  # 1
    put(w, w.p1, w.compute, w.acme, w.apollo, S.UPDATING, 1)  # 2
    put(w, w.p1, w.compute, w.acme, w.gemini, S.ERRED, 1)  # 3
    put(w, w.p1, w.storage, w.zenith, w.zeus, S.OK, 0)  # 4
    put(w, w.p1, w.storage, w.acme, w.gemini, S.TERMINATED, 3)  # 5
    put(w, w.p1, w.storage, w.zenith, w.zeus, S.TERMINATING, 0)  # 6
    put(w, w.p2, w.gpu, w.acme, w.apollo, S.OK, 0)  # 7
    put(w, w.p2, w.gpu, w.zenith, w.zeus, S.CREATING, 1)  # 8
    bill(w.acme, w.compute, "10", "1")  # 10.00 to Cloud Provider, for Compute
    bill(w.acme, w.storage, "2.5", "2")  # 5.00, Storage
    bill(w.zenith, w.storage, "7.25", "4")  # 29.00, Storage
    bill(w.acme, w.gpu, "100", "1")  # 100.00 to Beta Cloud
    settle()
    return w


def get(client, account, path, status=200):
    reply = call(client, "GET", path, account)
    assert reply.status == status, reply.json
    return reply.json


# --- values -----------------------------------------------------------------------------------------
def test_top_providers_count_active_resources_and_distinct_projects(client, staff, scene, settle):
    w = scene
    # Active: OK, Updating, Terminating. Cloud Provider: 1, 2 (Apollo), 4, 6 (Zeus); Beta: 7 (Apollo).
    assert get(client, staff, TOP) == [
        {
            "customer_uuid": w.p1.id,
            "customer_name": "Cloud Provider",
            "resources_count": 4,
            "projects_count": 2,
        },
        {"customer_uuid": w.p2.id, "customer_name": "Beta Cloud", "resources_count": 1, "projects_count": 1},
    ]
    assert [p["customer_name"] for p in get(client, staff, f"{TOP}?limit=1")] == ["Cloud Provider"]

    # Apollo keeps one active resource of Cloud Provider after the first goes; none after the second.
    first, second = w.resources[0], w.resources[1]
    move(first, S.TERMINATED)
    settle()
    assert get(client, staff, TOP)[0] | {"customer_uuid": ""} == {
        "customer_uuid": "",
        "customer_name": "Cloud Provider",
        "resources_count": 3,
        "projects_count": 2,
    }
    move(second, S.ERRED)
    settle()
    assert (get(client, staff, TOP)[0]["resources_count"], get(client, staff, TOP)[0]["projects_count"]) == (
        2,
        1,
    )


def test_active_resources_are_grouped_by_offering_with_its_country(client, support, scene):
    w = scene
    assert get(client, support, BY_OFFERING) == [
        {"count": 2, "name": "Compute", "uuid": w.compute.id, "country": ""},
        {"count": 1, "name": "GPU", "uuid": w.gpu.id, "country": ""},
        {"count": 2, "name": "Storage", "uuid": w.storage.id, "country": "EE"},
    ]
    reply = call(client, "HEAD", BY_OFFERING, support)
    assert reply.headers["X-Result-Count"] == "3"


def test_a_providers_resources_by_state_offering_and_month(client, scene):
    w = scene
    found = get(client, w.market.seller, f"{RESOURCES}?provider_uuid={w.sp1.id}")
    monthly = {m["month"]: m["count"] for m in found.pop("monthly")}
    assert found == {
        "total": 6,
        "by_state": {"Erred": 1, "OK": 2, "Terminated": 1, "Terminating": 1, "Updating": 1},
        "by_offering": [  # not Terminated
            {"offering_uuid": w.compute.id, "offering_name": "Compute", "count": 3},
            {"offering_uuid": w.storage.id, "offering_name": "Storage", "count": 2},
        ],
    }
    assert list(monthly) == [months_ago(n).strftime("%Y-%m") for n in range(11, -1, -1)]
    assert {m: n for m, n in monthly.items() if n} == {
        months_ago(0).strftime("%Y-%m"): 3,
        months_ago(1).strftime("%Y-%m"): 2,
        months_ago(3).strftime("%Y-%m"): 1,
    }


def test_a_providers_customers_new_top_and_monthly(client, scene):
    w = scene
    found = get(client, w.market.seller, f"{CUSTOMERS}?provider_uuid={w.sp1.id}")
    monthly = {m["month"]: m["customer_count"] for m in found.pop("monthly")}
    assert found == {
        "total": 2,  # Acme and Zenith have resources not Terminated
        "new_this_month": 1,  # Zenith's first resource is of this month; Acme's of three months ago
        "top_by_revenue": [
            {"customer_uuid": w.zenith.id, "customer_name": "Zenith", "revenue": "29.00"},
            {"customer_uuid": w.acme.id, "customer_name": "Acme", "revenue": "15.00"},
        ],
        "top_by_resources": [
            {"customer_uuid": w.acme.id, "customer_name": "Acme", "resource_count": 3},
            {"customer_uuid": w.zenith.id, "customer_name": "Zenith", "resource_count": 2},
        ],
    }
    assert len(monthly) == 12
    assert {m: n for m, n in monthly.items() if n} == {
        months_ago(0).strftime("%Y-%m"): 2,
        months_ago(1).strftime("%Y-%m"): 1,
        months_ago(3).strftime("%Y-%m"): 1,
    }


def test_a_providers_offerings_with_resources_revenue_and_plan_use(client, scene):
    w = scene
    found = get(client, w.market.seller, f"{OFFERINGS}?provider_uuid={w.sp1.id}")
    standard, small = w.compute.plans[0], w.storage.plans[0]
    assert found == {
        "offerings": [
            {
                "offering_uuid": w.compute.id,
                "offering_name": "Compute",
                "category_name": "",
                "state": "Active",
                "active_resources": 2,
                "total_resources": 3,
                "revenue": "10.00",
                "plans": [
                    {
                        "plan_uuid": standard.id,
                        "plan_name": "Standard",
                        "usage": 2,
                        "limit": None,
                        "utilization": None,
                    }
                ],
            },
            {
                "offering_uuid": w.storage.id,
                "offering_name": "Storage",
                "category_name": "Storage",
                "state": "Active",
                "active_resources": 2,
                "total_resources": 3,
                "revenue": "34.00",
                "plans": [
                    {"plan_uuid": small.id, "plan_name": "Small", "usage": 2, "limit": 4, "utilization": 50.0}
                ],
            },
        ]
    }
    beta = get(client, staff_of(w), f"{OFFERINGS}?provider_uuid={w.sp2.id}")["offerings"]
    assert [(o["offering_name"], o["revenue"], o["total_resources"]) for o in beta] == [("GPU", "100.00", 2)]


def staff_of(w: World) -> Any:
    return w.market.staff


def test_an_offerings_stats_count_live_resources_and_distinct_customers(client, scene):
    w = scene
    path = "/api/marketplace-provider-offerings/{}/stats/"
    assert get(client, w.market.seller, path.format(w.compute.id)) == {
        "resources_count": 3,
        "customers_count": 1,
    }
    assert get(client, w.market.seller, path.format(w.storage.id)) == {
        "resources_count": 2,
        "customers_count": 1,
    }
    assert get(client, w.market.staff, path.format(w.gpu.id)) == {"resources_count": 2, "customers_count": 2}
    # the seller of Cloud Provider does not see Beta Cloud's offering: as if it did not exist
    assert call(client, "GET", path.format(w.gpu.id), w.market.seller).status == 404


def test_an_order_through_the_api_reaches_the_figures(client, world, settle):
    from tests.integration.test_marketplace_orders_api import act, place

    market = world.market
    order = place(client, market, market.owner)
    act(client, market.seller, order, "approve_by_provider")
    assert act(client, market.seller, order, "set_state_done").status == 200
    settle()
    assert get(client, market.staff, TOP) == [
        {
            "customer_uuid": market.provider.id,
            "customer_name": "Cloud Provider",
            "resources_count": 1,
            "projects_count": 1,
        }
    ]
    found = get(client, market.seller, f"{CUSTOMERS}?provider_uuid={world.sp1.id}")
    assert (found["total"], found["new_this_month"]) == (1, 1)


# --- who sees what, bad input -------------------------------------------------------------------------
def test_the_platform_lists_are_for_staff_and_support_only(client, scene, alice):
    w = scene
    for account in (alice, w.market.seller, w.market.owner):
        for path in (TOP, BY_OFFERING):
            assert call(client, "GET", path, account).status == 403


def test_a_providers_figures_are_for_its_team_staff_and_support(client, scene, alice, support):
    """Anybody else, and a uuid naming no provider, get the same empty figures (never a number of
    the provider's)."""
    w = scene
    empty = {
        CUSTOMERS: {"total": 0, "new_this_month": 0, "top_by_revenue": [], "top_by_resources": []},
        RESOURCES: {"total": 0, "by_state": {}, "by_offering": []},
        OFFERINGS: {"offerings": []},
    }
    for path, nothing in empty.items():
        mine, theirs = f"{path}?provider_uuid={w.sp1.id}", f"{path}?provider_uuid={w.sp2.id}"
        assert get(client, w.market.seller, mine) != get(client, w.market.seller, theirs)
        assert get(client, support, mine) == get(client, w.market.seller, mine)
        by_customer = f"{path}?provider_uuid={w.p1.id}"  # the provider's customer's uuid names it too
        assert get(client, w.market.seller, by_customer) == get(client, w.market.seller, mine)
        for account, query in (
            (w.market.seller, theirs),  # another provider's
            (w.market.owner, mine),  # a consumer's owner
            (alice, mine),
            (support, f"{path}?provider_uuid={'0' * 32}"),  # no such provider
        ):
            found = get(client, account, query)
            monthly = found.pop("monthly", [])
            assert found == nothing, (account, query)
            assert all(not m.get("count") and not m.get("customer_count") for m in monthly)


def test_bad_query_input_is_a_400(client, scene, staff):
    assert call(client, "GET", f"{CUSTOMERS}?provider_uuid=nope", staff).status == 400
    assert call(client, "GET", CUSTOMERS, staff).status == 400  # provider_uuid is required
    assert call(client, "GET", f"{TOP}?limit=0", staff).status == 400
    assert call(client, "GET", f"{TOP}?limit=x", staff).status == 400


# --- the stream: redelivery and rebuild ------------------------------------------------------------------
def test_a_record_delivered_again_moves_nothing(client, world):
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import analytics

    w = world
    resource = put(w, w.p1, w.compute, w.acme, w.apollo, S.OK, 0)
    move(resource, S.TERMINATING)
    bill(w.acme, w.compute, "3", "1")
    first: list[bool] = []
    again: list[bool] = []

    def deliver_twice(batch: dict) -> dict:
        records = [r for r in batch["Records"] if analytics.folds(r)]
        first.extend(analytics.fold(record) for record in records)
        built = analytics.stored_sums()
        again.extend(analytics.fold(record) for record in records)
        assert analytics.stored_sums() == built
        return {"batchItemFailures": []}

    reader = StreamReader(handler=deliver_twice)
    while True:  # while a poll reads records (a page may hold only the aggregates' own writes)
        reader.poll_once()
        if not reader.read_last_poll:
            break
    assert any(first) and not any(again)
    assert get(client, w.market.staff, TOP)[0]["resources_count"] == 1


def test_a_rebuild_equals_what_the_stream_built(client, scene, settle):
    from chalicelib.store import analytics

    move(scene.resources[0], S.TERMINATED)  # sums back to zero stay stored: not a difference
    move(scene.resources[6], S.TERMINATED)
    settle()
    report = analytics.rebuild(dry_run=True)
    assert (report.written, report.deleted) == (0, 0)
    assert report.unchanged > 0
