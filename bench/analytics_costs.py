#!/usr/bin/env python
"""DynamoDB round trips and items read per analytics request, at 100 and at 10,000 resources.

    .venv/bin/python bench/analytics_costs.py                 # the Markdown report
    .venv/bin/python bench/analytics_costs.py --sizes 100 1000
    .venv/bin/python bench/analytics_costs.py --json

The issue's claim: a statistics endpoint reads one or two round trips per series, whatever the
number of resources behind it. In-process moto and the Chalice test client: a market (a provider
with three offerings, two consumers with three projects each), then N resources with their
creation orders (done, erred or pending), two months of component usage each, created over the
last 60 days, written in the store's own item shapes (BatchWriteItem) — the table holds them, so
an endpoint that read them would show it — and their facts folded into the aggregates as the stream
consumer would (the moves of all of them applied at once: the same sums). Each endpoint is asked
once to warm up, then measured as staff. Counted through botocore's hooks (bench/request_costs.py):
round trips, and items DynamoDB evaluated (ScannedCount of a Query, items of a Get/BatchGet).
Wall times are not reported (moto's Query cost grows with the whole table).
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (_ROOT, os.path.join(_ROOT, "bench")):
    if path not in sys.path:
        sys.path.insert(0, path)

from chalicelib.local.aws import use_offline_environment  # noqa: E402

use_offline_environment("cirrus-bench")  # never a real AWS account

import argparse  # noqa: E402
import json  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from request_costs import LOG, Call, install_hooks  # noqa: E402

DAYS = 60
SIZES = (100, 10_000)


@dataclass
class Market:
    staff: Any  # Account
    http: Any
    headers: dict[str, str]
    provider: Any
    consumers: list[Any]
    projects: list[Any]  # (project, its customer)
    offerings: list[Any]
    made: int = 0  # resources written so far
    writes: dict[str, int] = field(default_factory=dict)


def build(staff: Any, http: Any) -> Market:
    from chalicelib.services import customers, projects
    from tests.marketplace_helpers import ctx_of, make_offering

    ctx = ctx_of(staff)
    provider = customers.create_customer(ctx, {"name": "Bench Provider"})
    consumers = [customers.create_customer(ctx, {"name": f"Bench Consumer {i}"}) for i in range(2)]
    made = [
        (projects.create_project(ctx, c.id, {"name": f"Project {c.name[-1]}{j}"}), c)
        for c in consumers
        for j in range(3)
    ]
    offerings = [make_offering(staff, provider.id, name=f"Compute {i}") for i in range(3)]
    headers = {"Authorization": f"Token {staff.token}", "Host": "localhost"}
    return Market(staff, http, headers, provider, consumers, made, offerings)


def _objects(market: Market, start: int, count: int, now: datetime) -> Iterator[tuple[str, Any]]:
    """Resources `start`…`start+count-1`, each with its creation order and two months of usage."""
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.invoices import InvoiceItem
    from chalicelib.domain.orders import Order, OrderState, OrderType
    from chalicelib.domain.resources import Resource, ResourceState
    from chalicelib.domain.usages import ComponentUsage

    this_month = now.date().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    for i in range(start, start + count):
        project, customer = market.projects[i % len(market.projects)]
        offering = market.offerings[i % len(market.offerings)]
        created = now - timedelta(days=i % DAYS, minutes=i % 1440)
        state = (ResourceState.OK, ResourceState.ERRED, ResourceState.TERMINATED, ResourceState.OK)[i % 4]
        order_state = {ResourceState.ERRED: OrderState.ERRED}.get(state, OrderState.DONE)
        if i % 10 == 9:
            state, order_state = ResourceState.CREATING, OrderState.EXECUTING
        resource_id, order_id = new_id(), new_id()
        names = {
            "customer_name": customer.name,
            "project_name": project.name,
            "offering_name": offering.name,
            "provider_name": market.provider.name,
        }
        yield (
            "resource",
            Resource(
                id=resource_id,
                name=f"vm-{i:05d}",
                state=state,
                customer_id=customer.id,
                project_id=project.id,
                offering_id=offering.id,
                provider_id=market.provider.id,
                created=created,
                modified=created,
                plan_id=offering.plans[0].id,
                limits={"cpu": 1 + i % 4},
                offering_type=offering.type,
                creation_order_id=order_id,
                version=1,
                **names,
            ),
        )
        yield (
            "order",
            Order(
                id=order_id,
                type=OrderType.CREATE,
                state=order_state,
                customer_id=customer.id,
                project_id=project.id,
                offering_id=offering.id,
                provider_id=market.provider.id,
                resource_id=resource_id,
                created=created,
                modified=created + timedelta(minutes=5),
                plan_id=offering.plans[0].id,
                limits={"cpu": 1 + i % 4},
                completed_at=created + timedelta(minutes=5)
                if order_state is not OrderState.EXECUTING
                else None,
                offering_type=offering.type,
                resource_name=f"vm-{i:05d}",
                version=1,
                **names,
            ),
        )
        if state is ResourceState.OK:  # billed this month: one line of its plan
            yield (
                "invoice_item",
                InvoiceItem(
                    id=new_id(),
                    customer_id=customer.id,
                    year=this_month.year,
                    month=this_month.month,
                    name=f"vm-{i:05d} (Compute)",
                    unit="month",
                    unit_price=Decimal("10.00"),
                    quantity=Decimal(1),
                    start=datetime.combine(this_month, datetime.min.time(), now.tzinfo),
                    end=now,
                    kind="plan",
                    resource_id=resource_id,
                    project_id=project.id,
                    project_name=project.name,
                    resource_name=f"vm-{i:05d}",
                    offering_id=offering.id,
                    provider_id=market.provider.id,
                    details={"offering_name": offering.name, "offering_uuid": offering.id},
                    version=1,
                ),
            )
        for month in (last_month, this_month):
            yield (
                "usage",
                ComponentUsage(
                    id=new_id(),
                    resource_id=resource_id,
                    customer_id=customer.id,
                    project_id=project.id,
                    offering_id=offering.id,
                    provider_id=market.provider.id,
                    component_type="cpu",
                    billing_period=month,
                    amount=Decimal(1 + i % 7),
                    date=datetime.combine(month, datetime.min.time(), now.tzinfo),
                    created=now,
                    modified=now,
                    name="CPU",
                    resource_name=f"vm-{i:05d}",
                    offering_name=offering.name,
                    project_name=project.name,
                    customer_name=customer.name,
                    version=1,
                ),
            )


def grow(market: Market, size: int) -> None:
    """Write resources until there are `size`, and fold their facts into the aggregates."""
    from chalicelib.domain import analytics as domain
    from chalicelib.domain.clock import utcnow
    from chalicelib.store import analytics, invoices, orders, resources, usages
    from chalicelib.store.analytics_sources import sources
    from chalicelib.store.items import BaseItem

    to_item: dict[str, Callable[[Any], BaseItem]] = {
        "resource": resources._item,
        "order": orders._item,
        "usage": usages._item,
        "invoice_item": invoices._line,
    }
    adds: list[domain.Add] = []
    table = sources()
    with BaseItem.batch_write() as batch:
        for kind, obj in _objects(market, market.made, size - market.made, utcnow()):
            item = to_item[kind](obj)
            batch.save(item)
            market.writes[kind] = market.writes.get(kind, 0) + 1
            source = table.get(str(BaseItem.type.get_discriminator(type(item))))
            if source is not None:
                adds += source.facts(source.read(item))
    analytics.apply(f"bench-{size}", domain.moves([], adds))
    market.made = size


@dataclass
class Row:
    label: str
    path: str
    counts: dict[int, tuple[int, int]]  # size → (round trips, items read)
    status: dict[int, int]


def measure(market: Market, path: str) -> tuple[int, int, int]:
    from chalicelib.services import access

    def get() -> Any:
        access._memo.set(None)
        access._roles_memo.set(None)
        return market.http.get(path, headers=market.headers)

    get()  # warm: caches of the process (roles, settings) as a running Lambda has them
    LOG.start()
    try:
        response = get()
    finally:
        calls: list[Call] = LOG.stop()
    return len(calls), sum(c.items for c in calls), response.status_code


def endpoints(market: Market) -> list[tuple[str, str]]:
    """(label, path) of every analytics read measured, as staff (who may read them all)."""
    consumer = market.consumers[0]
    project = market.projects[0][0]
    offering = market.offerings[0]
    today = date.today()
    start = (today - timedelta(days=30)).isoformat()
    month = f"{today.year}-{today.month:02d}"
    stats = "/api/marketplace-stats"
    quotas = "&quota_names=nc_project_count&quota_names=nc_resource_count&quota_names=nc_user_count"
    return [
        ("daily-quotas/ (a customer, 3 quotas, 30 days)",
         f"/api/daily-quotas/?scope=/api/customers/{consumer.id}/&start={start}&end={today}{quotas}"),
        ("daily-quotas/ (a project, 1 quota, 30 days)",
         f"/api/daily-quotas/?scope=/api/projects/{project.id}/&start={start}&end={today}"
         "&quota_names=nc_resource_count"),
        ("marketplace-stats/order_stats/ (30 days)",
         f"{stats}/order_stats/?start={start}&end={today}"),
        ("marketplace-stats/order_stats/ (a customer)", f"{stats}/order_stats/?customer_uuid={consumer.id}"),
        ("marketplace-stats/resource_provisioning_stats/ (a day)",
         f"{stats}/resource_provisioning_stats/?last_minutes=1440"),
        ("marketplace-stats/project_creation_trend/", f"{stats}/project_creation_trend/"),
        ("marketplace-stats/resource_creation_trend/", f"{stats}/resource_creation_trend/"),
        ("marketplace-stats/organization_project_count/", f"{stats}/organization_project_count/"),
        ("marketplace-stats/organization_resource_count/", f"{stats}/organization_resource_count/"),
        ("marketplace-stats/customer_member_count/", f"{stats}/customer_member_count/"),
        ("marketplace-stats/component_usages/", f"{stats}/component_usages/"),
        ("marketplace-stats/component_usages_per_month/", f"{stats}/component_usages_per_month/"),
        ("marketplace-stats/component_usages_per_project/", f"{stats}/component_usages_per_project/"),
        ("marketplace-stats/total_cost_of_active_resources_per_offering/",
         f"{stats}/total_cost_of_active_resources_per_offering/"),
        ("marketplace-stats/offering_costs_summary/",
         f"{stats}/offering_costs_summary/"),
        ("marketplace-stats/resources_limits/", f"{stats}/resources_limits/"),
        ("billing-total-cost/ (this month)",
         f"/api/billing-total-cost/?year={today.year}&month={today.month}"),
        ("marketplace-customer-usage/…/components-usage/",
         f"/api/marketplace-customer-usage/{consumer.id}/components-usage/"),
        ("marketplace-customer-usage/…/components-usage-timeseries/",
         f"/api/marketplace-customer-usage/{consumer.id}/components-usage-timeseries/?offering_uuid={offering.id}"),
        ("marketplace-customer-usage/…/components-usage-by-project/",
         f"/api/marketplace-customer-usage/{consumer.id}/components-usage-by-project/"
         f"?offering_uuid={offering.id}"),
        ("marketplace-project-usage/…/components-usage/",
         f"/api/marketplace-project-usage/{project.id}/components-usage/"),
        ("marketplace-project-usage/…/components-usage-timeseries/",
         f"/api/marketplace-project-usage/{project.id}/components-usage-timeseries/?offering_uuid={offering.id}"),
        ("marketplace-component-usage-monthly/ (a customer, this month)",
         f"/api/marketplace-component-usage-monthly/?customer_uuid={consumer.id}&date_after={month}-01"),
        ("analytics-charts/daily-quotas/ (SVG)",
         f"/api/analytics-charts/daily-quotas/?scope=/api/customers/{consumer.id}/&start={start}&end={today}{quotas}"),
        ("analytics-charts/users-registration/ (SVG)", "/api/analytics-charts/users-registration/"),
        ("marketplace-stats/user_auth_method_count/", f"{stats}/user_auth_method_count/"),
        ("marketplace-stats/top_service_providers_by_resources/",
         f"{stats}/top_service_providers_by_resources/"),
        ("marketplace-stats/count_active_resources_grouped_by_offering/",
         f"{stats}/count_active_resources_grouped_by_offering/"),
        ("marketplace-stats/provider_customers/",
         f"{stats}/provider_customers/?provider_uuid={market.provider.id}"),
        ("marketplace-stats/provider_resources/",
         f"{stats}/provider_resources/?provider_uuid={market.provider.id}"),
        ("marketplace-stats/provider_offerings/",
         f"{stats}/provider_offerings/?provider_uuid={market.provider.id}"),
        ("marketplace-provider-offerings/…/stats/",
         f"/api/marketplace-provider-offerings/{offering.id}/stats/"),
    ]  # fmt: skip


def run(sizes: tuple[int, ...]) -> tuple[list[Row], Market]:
    from chalice.test import Client

    from app import app
    from tests.conftest import make_account
    from tests.workflow_helpers import embedded_stack

    install_hooks()
    rows: dict[str, Row] = {}
    with embedded_stack():
        staff = make_account("bench-staff", is_staff=True)
        with Client(app) as client:
            market = build(staff, client.http)
            for size in sizes:
                grow(market, size)
                for label, path in endpoints(market):
                    trips, items, status = measure(market, path)
                    row = rows.setdefault(label, Row(label, path, {}, {}))
                    row.counts[size], row.status[size] = (trips, items), status
    return list(rows.values()), market


def table(rows: list[Row], sizes: tuple[int, ...]) -> str:
    head = " | ".join(f"{s:,} resources: round trips / items" for s in sizes)
    lines = [f"| request | {head} | flat |", "|---|" + "---|" * len(sizes) + "---|"]
    for row in rows:
        cells = []
        for s in sizes:
            trips, items = row.counts[s]
            cells.append(f"{trips} / {items}" + ("" if row.status[s] == 200 else f" (HTTP {row.status[s]})"))
        flat = len({row.counts[s][0] for s in sizes}) == 1
        lines.append(f"| {row.label} | {' | '.join(cells)} | {'yes' if flat else 'NO'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = tuple(sorted(args.sizes))
    rows, market = run(sizes)
    if args.json:
        print(
            json.dumps([{"label": r.label, "counts": r.counts, "status": r.status} for r in rows], indent=2)
        )
    else:
        print(table(rows, sizes))
        print(f"\n(the table holds {market.writes} items written by the bench, besides the market)")
    failures = [r.label for r in rows if any(s != 200 for s in r.status.values())]
    if failures:
        print(f"not 200: {failures}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
