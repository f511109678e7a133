"""Shared fixtures: an in-process moto AWS with the real table, the Chalice test client, users."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.local import moto_speedups
from chalicelib.local.aws import LOOPBACK_NETWORKS, use_offline_environment
from chalicelib.services import ports

use_offline_environment("cirrus-test")  # never a real AWS account, cheap password hashing
moto_speedups.install()  # moto copies a table once per transaction, not once per write
# Web hook receivers in the tests listen on 127.0.0.1: allow loopback (and only it) as `make run` does.
os.environ["CIRRUS_HOOK_ALLOWED_NETWORKS"] = LOOPBACK_NETWORKS


def on_fakes(request: pytest.FixtureRequest) -> bool:
    """A test (or its module: `pytestmark = pytest.mark.fakes`) that specifies services through the
    API runs them on the in-memory fakes of every port (tests/fakes), with no AWS at all; one that
    reads or breaks the store itself is marked `moto` and keeps the DynamoDB store under moto."""
    return request.node.get_closest_marker("fakes") is not None and not request.node.get_closest_marker(
        "moto"
    )


@pytest.fixture
def aws(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fresh in-process moto backend holding Cirrus's table, with the store bound to it; for a
    test marked `fakes`, a fresh World of in-memory fakes instead (the same ports, no AWS)."""
    if on_fakes(request):
        request.getfixturevalue("fakes")
        from chalicelib import bootstrap

        bootstrap.ensure_ready()  # wires the services; the fakes stay bound
        yield
        return
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.local.aws import create_buckets, create_table

    reset_settings()
    ports.use(None)
    with mock_aws():
        create_table(get_settings().table_name)
        create_buckets()
        bootstrap.ensure_ready()
        yield
    ports.use(None)
    reset_settings()


@pytest.fixture
def runtime() -> Iterator[None]:
    """Like `aws`, plus the task queues and the state machines, which moto executes (short timings)."""
    from tests.workflow_helpers import embedded_stack

    with embedded_stack(execute=True):
        yield


@pytest.fixture
def stack() -> Iterator[None]:
    """Like `aws`, plus the task queues and the state machines, whose executions moto records but
    does not run: requests that start workflows (orders) succeed, and nothing runs behind the
    test's back. A module uses it for everything with `def aws(stack)`."""
    from tests.workflow_helpers import embedded_stack

    with embedded_stack():
        yield


def _count_only(batch: dict[str, Any]) -> dict[str, Any]:
    """The stream consumer's counting half: the totals and the analytics aggregates (the publisher
    also publishes events, which needs the bus and queues that most tests do not create)."""
    from chalicelib.store import analytics, counters

    for record in batch["Records"]:
        if analytics.folds(record):
            analytics.fold(record)
        counters.tally(record)
    return {"batchItemFailures": []}


@pytest.fixture
def settle(request: pytest.FixtureRequest, aws: None) -> Callable[[], int]:
    """Platform-wide totals are kept from the table's stream (store/counters.py): `settle()` runs the
    stream consumer's counting over every record not yet read, as the stream trigger would, and
    returns how many records it read. On the fakes totals never lag: it does nothing."""
    if on_fakes(request):
        return lambda: 0
    from chalicelib.local.stream import StreamReader

    reader: list[StreamReader] = []

    def run() -> int:
        if not reader:
            reader.append(StreamReader(handler=_count_only))
        read = 0
        # at most 100 records a shard per poll; a poll may read only records the trigger's filter
        # drops (the aggregates' own writes) and hand on none: go on while it still reads
        while (handled := reader[0].poll_once()) or reader[0].read_last_poll:
            read += handled
        return read

    return run


@pytest.fixture
def fakes() -> Iterator[Any]:
    """The services on in-memory fakes of every port (tests/fakes): no AWS at all. Yields the
    fakes' `World`, which a specification may read (events recorded, items stored)."""
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.domain import clock
    from tests.fakes import World, build

    world = World()
    ports.use(build(world))
    bootstrap.wire_services()
    # Anything that still reaches AWS (an adapter a test or a service calls directly) meets an empty
    # moto, never the network: it fails loudly (no table, no queue) instead of reaching the internet.
    with mock_aws():
        yield world
    ports.use(None)
    clock.set_source(None)


@dataclass
class Account:
    id: str
    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}


def make_account(
    username: str, *, is_staff: bool = False, is_support: bool = False, **fields: Any
) -> Account:
    from chalicelib.domain.context import EventContext
    from chalicelib.services import auth, users

    password = f"{username}-secret-pw"
    user = users.register_user(
        EventContext(),
        {"username": username, "is_staff": is_staff, "is_support": is_support, **fields},
        password,
    )
    token = auth.login(username, password, EventContext(ip_address="127.0.0.1"))
    return Account(user.id, username, password, token)


@pytest.fixture
def staff(aws: None) -> Account:
    return make_account("staff", is_staff=True, full_name="Staff Person")


@pytest.fixture
def support(aws: None) -> Account:
    return make_account("support", is_support=True)


@pytest.fixture
def alice(aws: None) -> Account:
    """A user with no roles."""
    return make_account("alice", full_name="Alice Example", email="alice@example.org")


@pytest.fixture
def market(aws: None, staff: Account) -> Any:
    """A provider with an active offering and a consumer customer with a project and its roles
    (tests/marketplace_helpers.build_market); a module needing another market overrides it."""
    from tests.marketplace_helpers import build_market

    return build_market(staff)


@pytest.fixture
def client(aws: None) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client.http


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`CIRRUS_TEST_ON_FAKES=1 pytest <files>`: run the given tests on the fakes as if marked
    `fakes` (to find which API specifications hold on the fakes before marking their module)."""
    if os.environ.get("CIRRUS_TEST_ON_FAKES") == "1":
        for item in items:
            item.add_marker(pytest.mark.fakes)
