"""Schemathesis, bounded, against the app served on loopback (`make fuzz` runs the long one): every
operation of GET /api/schema/ through the examples, coverage, fuzzing and stateful phases, with a
fixed seed and derandomised generation (the same requests every run), as staff and as a non-staff
customer owner, with every check (tests/fuzz/fuzzing.py says which is left out and why). The demo
data of `make run` (a customer, its project, an owner, an Active offering with a plan, an order for
a resource) gives the fuzzer real objects to reach. Zero failures is the bar."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fuzz import fuzzing


@pytest.fixture
def aws(stack: None) -> None:
    """Orders start workflows: the queues and state machines exist (moto records, never runs them)."""


@pytest.fixture
def served(aws: None) -> Iterator[str]:
    from app import app
    from chalicelib.local.server import AppServer

    running = AppServer(app, port=0).start()
    try:
        yield running.url
    finally:
        running.stop()


@pytest.fixture
def seeded(aws: None) -> Any:
    """The local stack's demo data (chalicelib/local/seed.py): its staff user, a customer with a
    project and an owner (not staff), an Active offering with a plan, an order for a resource."""
    from chalicelib.local.seed import order_demo_resource, seed

    demo = seed("fuzz-staff", "fuzz-staff-secret-pw")
    order_demo_resource(demo, demo.username)
    return demo


@pytest.mark.parametrize("who", ["staff", "owner"])
def test_schemathesis_finds_nothing(served: str, seeded: Any, who: str) -> None:
    if who == "staff":
        caller = fuzzing.caller(served, who, seeded.username, seeded.password, seeded.token)
    else:
        caller = fuzzing.caller(served, who, seeded.owner_username, seeded.owner_password)
    profile = fuzzing.BOUNDED if who == "staff" else fuzzing.BOUNDED_OWNER
    if os.environ.get("CIRRUS_FUZZ_ONLY"):  # a path regex, to look at some operations while fixing them
        profile = dataclasses.replace(profile, only=os.environ["CIRRUS_FUZZ_ONLY"])
    outcome = fuzzing.run(served, caller, profile, progress=print)
    print(outcome.summary())
    if outcome.stopped_at_deadline:  # a machine far slower than planned: say so, judge what ran
        warnings.warn(outcome.summary(), stacklevel=1)
    if os.environ.get("CIRRUS_FUZZ_REPORT"):  # a directory: the run's findings as JSON, to read at leisure
        fuzzing.dump([outcome], os.path.join(os.environ["CIRRUS_FUZZ_REPORT"], f"{who}.json"))

    # The run did reach the API as the caller (a revoked token would make it vacuous, every answer
    # a 401) and the caller is still signed in at the end.
    assert outcome.operations_tested, outcome.report()
    assert sum(n for code, n in outcome.statuses.items() if 200 <= code < 300) > outcome.requests // 20
    signed_in = {"Authorization": f"Token {caller.token}"}
    me = requests.get(f"{served}/api/users/me/", headers=signed_in, timeout=120)
    assert me.status_code == 200, me.text
    assert not outcome.errors, outcome.report()
    assert outcome.failures == 0, outcome.report()
