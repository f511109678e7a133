"""Unrelated tenants never write the same item in a transaction (issue 14, item 10).

DynamoDB cancels a transaction that touches an item another transaction holds at that moment
(TransactionConflict), whatever each does with it (Put, Update, Delete or ConditionCheck). So if no
item key appears in the transactions of two different tenants, two tenants' requests can never
cancel each other, and no single item caps the platform's write rate. Every TransactWriteItems
request is captured (botocore's parameter hook on the real client) and labelled with the tenant
whose request sent it; moto serialises transactions, so running the requests one after another
captures the same items as running them at once.

The audit log's counts are included: a tenant feed's count moves in the recording transaction, the
counts shared between tenants (the staff index's shards, an offering's or a user's feed) are moved
by the stream consumer (store/outbox.py `TENANT_SCOPES`).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import make_account
from tests.marketplace_helpers import ctx_of, make_offering, order_request

# The measure is 50 tenants (README, "Contention between tenants": run with
# CIRRUS_CONTENTION_TENANTS=50); 20 show the same (a shared item is in every tenant's transaction)
# at a fraction of moto's cost, which grows with the table for every write of a transaction.
TENANTS = int(os.environ.get("CIRRUS_CONTENTION_TENANTS", "20"))
FEW = 10  # customers, users, orders and grants for the other commands


@pytest.fixture
def aws(stack):
    """Queues and state machines exist (orders start workflows); nothing runs them."""
    yield


_OPS = ("Put", "Update", "Delete", "ConditionCheck")


def _keys(transact_items: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    for entry in transact_items:
        for op in _OPS:
            if op in entry:
                key = entry[op].get("Item") or entry[op]["Key"]
                yield key["pk"]["S"], key["sk"]["S"]


@dataclass
class Transactions:
    """Item key → the tenants whose transactions touched it."""

    tenant: str = ""
    touched: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    count: int = 0

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        self.count += 1
        for key in _keys(params["TransactItems"]):
            self.touched[key].add(self.tenant)

    @contextmanager
    def of(self, tenant: str) -> Iterator[None]:
        self.tenant = tenant
        try:
            yield
        finally:
            self.tenant = ""

    def run(self, tenants: list[str], command: Callable[[str], Any]) -> list[Any]:
        results = []
        for tenant in tenants:
            with self.of(tenant):
                results.append(command(tenant))
        return results

    def shared(self) -> dict[tuple[str, str], set[str]]:
        """Items written by more than one tenant's transactions."""
        return {key: tenants for key, tenants in self.touched.items() if len(tenants) > 1}


@pytest.fixture
def transactions(aws) -> Iterator[Transactions]:
    from chalicelib.store.table import connection

    seen = Transactions()
    events = connection().client.meta.events
    events.register("before-parameter-build.dynamodb.TransactWriteItems", seen)
    yield seen
    events.unregister("before-parameter-build.dynamodb.TransactWriteItems", seen)


def _customers(staff: Any, transactions: Transactions, n: int) -> list[Any]:
    from chalicelib.services import customers

    ctx = ctx_of(staff)
    names = [f"Tenant {i}" for i in range(n)]
    return transactions.run(names, lambda name: customers.create_customer(ctx, {"name": name}))


def test_project_creations_in_different_customers_share_no_item(staff, transactions):
    from chalicelib.services import projects

    tenants = {c.id: c for c in _customers(staff, transactions, TENANTS)}
    transactions.touched.clear()  # the customers' own creations are measured below
    ctx = ctx_of(staff)

    made = transactions.run(list(tenants), lambda c: projects.create_project(ctx, c, {"name": "Apollo"}))

    assert len(made) == TENANTS and transactions.count >= TENANTS
    assert transactions.shared() == {}


def test_customer_creations_by_staff_share_no_item(staff, transactions):
    made = _customers(staff, transactions, FEW)

    assert len({c.id for c in made}) == FEW
    assert transactions.shared() == {}


def test_users_registering_share_no_item(transactions):
    from chalicelib.domain.context import EventContext
    from chalicelib.services import users

    names = [f"user{i}" for i in range(FEW)]
    transactions.run(names, lambda n: users.register_user(EventContext(), {"username": n}, f"{n}-secret-pw"))

    assert transactions.shared() == {}


def test_orders_in_different_customers_share_no_item(staff, transactions):
    from chalicelib.services import customers, orders, projects
    from tests.marketplace_helpers import Market

    ctx = ctx_of(staff)
    provider = customers.create_customer(ctx, {"name": "Cloud Provider"})
    offering = make_offering(staff, provider.id)
    buyers = _customers(staff, transactions, FEW)
    markets = {}
    for c in buyers:
        project = projects.create_project(ctx, c.id, {"name": "Apollo"})
        markets[c.id] = Market(staff, provider, c, project, offering, staff, staff, staff)
    transactions.touched.clear()

    placed = transactions.run(list(markets), lambda c: orders.create_order(ctx, order_request(markets[c])))

    assert len(placed) == FEW
    assert transactions.shared() == {}


def test_system_role_grants_in_different_customers_share_no_item(staff, transactions):
    from chalicelib.services import customers, memberships
    from chalicelib.store import customers as customer_store

    ctx = ctx_of(staff)
    buyers = _customers(staff, transactions, FEW)
    people = {c.id: make_account(f"owner{i}") for i, c in enumerate(buyers)}
    transactions.touched.clear()

    transactions.run(
        [c.id for c in buyers],
        lambda c: memberships.add_user(
            ctx, customers.scope(customer_store.get(c)), people[c].id, "CUSTOMER.OWNER", None
        ),
    )

    assert transactions.shared() == {}
