"""What billing costs, in DynamoDB and SQS calls (counts, not seconds: wall time on a shared machine
is noise, and moto's Query time grows with the table).

1. The monthly run's fan-out: calls to read the customers and queue their batches, at two sizes.
2. The monthly run per customer: calls for a customer with 1 resource and with 10 (same offering).
3. Registration: the extra calls an order's completion makes for its invoice (the first of the
   month makes the invoice; later ones find it).
4. Reading invoices over HTTP: retrieve, a customer's list, staff's list (page of 10), at 1 and 12
   months of invoices for the customer.

Usage: `python bench/billing_costs.py [--customers 100 1000]`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.client

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)

from chalicelib.local.aws import use_offline_environment  # noqa: E402

use_offline_environment("cirrus-bench-billing")


@dataclass
class Calls:
    by_op: Counter[str] = field(default_factory=Counter)
    active: bool = False

    @property
    def dynamodb(self) -> int:
        return sum(n for op, n in self.by_op.items() if op.startswith("dynamodb:"))

    def of(self, service: str) -> dict[str, int]:
        return {op.split(":", 1)[1]: n for op, n in sorted(self.by_op.items()) if op.startswith(service)}


LOG = Calls()


def install_counter() -> None:
    make_api_call = botocore.client.BaseClient._make_api_call

    def counted(self: Any, operation_name: str, api_params: Any) -> Any:
        if LOG.active:
            LOG.by_op[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
        return make_api_call(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]


@contextmanager
def counting() -> Iterator[Calls]:
    calls = Calls()
    LOG.by_op, LOG.active = calls.by_op, True
    try:
        yield calls
    finally:
        LOG.active = False


def at(moment: datetime) -> None:
    from chalicelib.domain import clock

    clock.set_source(lambda: moment)


@dataclass
class World:
    staff_ctx: Any
    offering: Any
    token: str


def make_world() -> World:
    from chalicelib.domain.context import EventContext
    from chalicelib.services import auth, customers, offerings, users

    password = "bench-billing-staff-pw"
    users.register_user(EventContext(), {"username": "staff", "is_staff": True}, password)
    key = auth.login("staff", password, EventContext(ip_address="127.0.0.1"))
    ctx = EventContext(principal=auth.authenticate(key).principal, ip_address="127.0.0.1")
    provider = customers.create_customer(ctx, {"name": "Provider"})
    offering = offerings.create_offering(
        ctx,
        provider.id,
        {
            "name": "Compute",
            "type": "Marketplace.Basic",
            "components": [
                {"type": "ip", "name": "IP", "billing_type": "fixed"},
                {"type": "cpu", "name": "CPU", "billing_type": "limit"},
            ],
            "plans": [{"name": "Monthly", "unit": "month", "prices": {"ip": "5", "cpu": "2"}}],
        },
    )
    offering = offerings.set_state(ctx, offering.id, "activate")
    return World(ctx, offering, key)


def add_customers(world: World, count: int, resources_each: int) -> list[str]:
    """Customers with a project and `resources_each` OK resources, written through the services
    (customers, projects) and the store (resources, as an order's completion leaves them)."""
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.resources import Resource
    from chalicelib.domain.vocabulary import ResourceState
    from chalicelib.services import customers, projects
    from chalicelib.store import resources as resource_store
    from chalicelib.store.unit_of_work import UnitOfWork

    ids = []
    plan = world.offering.plans[0]
    for n in range(count):
        customer = customers.create_customer(world.staff_ctx, {"name": f"Customer {n:05d}"})
        project = projects.create_project(world.staff_ctx, customer.id, {"name": "P"})
        now = datetime(2026, 11, 2, tzinfo=UTC)
        for r in range(resources_each):  # one transaction each (each moves the same counters)
            uow = UnitOfWork()
            resource_store.add(
                uow,
                Resource(
                    id=new_id(), name=f"vm-{r}", state=ResourceState.OK, customer_id=customer.id,
                    project_id=project.id, offering_id=world.offering.id,
                    provider_id=world.offering.customer_id, created=now, modified=now,
                    plan_id=plan.id, limits={"cpu": 2}, offering_type=world.offering.type,
                    project_name=project.name, customer_name=customer.name,
                    offering_name=world.offering.name, plan_name=plan.name,
                ),
            )  # fmt: skip
            uow.commit()
        ids.append(customer.id)
    return ids


class _Capture:
    """Stands in for a unit of work to collect the items a store writer builds."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def put(self, item: Any, condition: Any = None, on_conflict: Any = None) -> None:
        self.items.append(item)

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass


def bulk_customers(count: int) -> None:
    """Customers written 25 per BatchWriteItem in the store's own item shape (`customers.add`):
    moto copies the whole table on every transaction, so making thousands through the services
    would cost minutes and gigabytes; the fan-out reads only their keys."""
    from chalicelib.domain.customers import Customer
    from chalicelib.domain.ids import new_id
    from chalicelib.store import customers as customer_store
    from chalicelib.store.items import CustomerItem

    capture = _Capture()
    now = datetime(2026, 11, 2, tzinfo=UTC)
    for n in range(count):
        customer_store.add(capture, Customer(id=new_id(), name=f"Customer {n:05d}", created=now))  # type: ignore[arg-type]
    with CustomerItem.batch_write() as batch:
        for item in capture.items:
            batch.save(item)


def fan_out(sizes: list[int]) -> list[str]:
    from chalicelib.workflows import billing as run
    from chalicelib.workflows.envelope import TaskContext

    rows = []
    for size in sizes:
        with fresh_stack():
            make_world()
            bulk_customers(size - 1)  # + the provider
            at(datetime(2026, 12, 1, tzinfo=UTC))
            with counting() as calls:
                batches = run.create_monthly_invoices({}, TaskContext().restore())
            rows.append(
                f"| fan-out, {size:,} customers | {batches} batches of {run.batch_size()} | "
                f"{calls.dynamodb} ({_ops(calls.of('dynamodb'))}) | {_ops(calls.of('sqs'))} |"
            )
    return rows


def per_customer() -> list[str]:
    from chalicelib.services import billing

    rows = []
    for resources in (1, 10):
        with fresh_stack():
            world = make_world()
            (customer,) = add_customers(world, 1, resources)
            at(datetime(2026, 11, 20, tzinfo=UTC))
            billing.run_month(world.staff_ctx, 2026, 11, [customer])  # November's invoice, pending
            at(datetime(2026, 12, 1, tzinfo=UTC))
            with counting() as calls:
                report = billing.run_month(world.staff_ctx, 2026, 12, [customer])
            with counting() as again:
                billing.run_month(world.staff_ctx, 2026, 12, [customer])
            rows.append(
                f"| one customer, {resources} resource{'s' if resources > 1 else ''} "
                f"({report.items_made} items made, {report.issued} issued) | {calls.dynamodb} "
                f"({_ops(calls.of('dynamodb'))}) | rerun: {again.dynamodb} ({_ops(again.of('dynamodb'))}) |"
            )
    return rows


def registration() -> list[str]:
    from chalicelib.services import customers, orders, projects
    from chalicelib.services.orders import OrderRequest

    rows = []
    with fresh_stack():
        world = make_world()
        customer = customers.create_customer(world.staff_ctx, {"name": "Acme"})
        project = projects.create_project(world.staff_ctx, customer.id, {"name": "P"})
        plan = world.offering.plans[0]
        for label in ("first order of the month (makes the invoice)", "a later order"):
            at(datetime(2026, 11, 15, 10, tzinfo=UTC))
            order = orders.create_order(
                world.staff_ctx,
                OrderRequest(project=project.id, offering=world.offering.id, plan=plan.id, limits={"cpu": 2}),
            )
            orders.approve_by_provider(world.staff_ctx, order.id)
            with counting() as calls:
                orders.set_state_done(world.staff_ctx, order.id)
            rows.append(f"| Create order done, {label} | {calls.dynamodb} ({_ops(calls.of('dynamodb'))}) |")
    return rows


def reads() -> list[str]:
    from chalice.test import Client

    from app import app
    from chalicelib.services import billing

    rows = []
    for months in (1, 12):
        with fresh_stack():
            start = datetime(2026, 12, 1, tzinfo=UTC)
            at(start)  # the token is made now and slides from here
            world = make_world()
            (customer,) = add_customers(world, 1, 3)
            moment = start
            for _ in range(months):  # one invoice a month, each issued by the next run
                at(moment)
                billing.run_month(world.staff_ctx, moment.year, moment.month, [customer])
                moment = (moment + timedelta(days=32)).replace(day=1)
            at(start + timedelta(minutes=1))
            http = Client(app).http
            headers = {"Authorization": f"Token {world.token}", "Host": "localhost"}
            listing = http.get(f"/api/invoices/?customer_uuid={customer}", headers=headers)
            if listing.status_code != 200:
                return [f"| invoices API not available ({listing.status_code}) | |"]
            import json

            first = json.loads(listing.body)[0]["uuid"]
            for label, path in (
                ("GET /api/invoices/<uuid>/", f"/api/invoices/{first}/"),
                ("GET /api/invoices/?customer_uuid=", f"/api/invoices/?customer_uuid={customer}"),
                ("GET /api/invoices/ (staff, all)", "/api/invoices/"),
            ):
                with counting() as calls:
                    reply = http.get(path, headers=headers)
                assert reply.status_code == 200, (path, reply.status_code, reply.body)
                plural = "s" if months > 1 else ""
                ops = _ops(calls.of("dynamodb"))
                rows.append(f"| {label}, {months} month{plural} of invoices | {calls.dynamodb} ({ops}) |")
    return rows


def _ops(ops: dict[str, int]) -> str:
    return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in ops.items()) or "-"


@contextmanager
def fresh_stack() -> Iterator[None]:
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.local.aws import create_queues, create_table
    from chalicelib.store import table
    from chalicelib.workflows import queues

    reset_settings()
    queues._lookup_url.cache_clear()
    with mock_aws():
        create_table(get_settings().table_name)
        table._bound[0] = None
        bootstrap.ensure_ready()
        create_queues(visibility_timeout=30)
        yield
    queues._lookup_url.cache_clear()
    reset_settings()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args(argv)
    install_counter()
    sections: list[tuple[str, Callable[[], list[str]]]] = [
        (
            "| monthly run | batches | DynamoDB calls | SQS calls |\n|---|---|---|---|",
            lambda: fan_out(args.customers),
        ),
        ("| monthly run | DynamoDB calls | |\n|---|---|---|", per_customer),
        ("| registration | DynamoDB calls |\n|---|---|", registration),
        ("| read | DynamoDB calls (auth included) |\n|---|---|", reads),
    ]
    for header, rows in sections:
        print(header)
        for row in rows():
            print(row)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
