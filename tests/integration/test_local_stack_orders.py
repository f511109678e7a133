"""`make run` end to end for an order: python-waldur-client orders from the seeded demo offering (a
Marketplace.Basic one, done on its provider's approval), the provider approves it (staff may), and
with nobody doing anything else the order reaches `done` and its resource `OK`; the operator view
(`python -m chalicelib.ops executions --workflow order`) lists its execution."""

from __future__ import annotations

import calendar
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_UP, Decimal

import pytest

from tests.integration.test_local_stack import ROOT, Stack

UUID = r"[0-9a-f]{32}"


@pytest.fixture
def make_run() -> Iterator[Stack]:
    """The stack, stopped with SIGTERM afterwards (killed if a loaded machine makes it slow: how it
    stops is test_local_stack.py's subject, not this test's)."""
    import signal

    running = Stack()
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
            try:
                running.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait(timeout=10)


def test_a_demo_order_placed_with_python_waldur_client_is_done_once_its_provider_approves(make_run):
    from waldur_client import WaldurClient

    endpoint = make_run.wait_for(r"moto at (http://127\.0\.0\.1:\d+)").group(1)
    token = make_run.wait_for(r"token: +([0-9a-f]{40})").group(1)
    api = make_run.wait_for(r"Cirrus is running on (http://127\.0\.0\.1:\d+/api/)").group(1)
    customer, project = make_run.wait_for(rf"demo: +customer ({UUID}), project ({UUID})").groups()
    billed = make_run.wait_for(r"billing: +demo resource demo-vm \((\w+)\)").group(1)
    offering = make_run.wait_for(rf"catalog: +offering \S+/marketplace-public-offerings/({UUID})/").group(1)
    plan = make_run.wait_for(rf"plan +\S+/plans/({UUID})/").group(1)

    client = WaldurClient(api, token)
    created = client.create_resource_via_marketplace(project, offering, plan, {"name": "local-vm"}, {})
    order_uuid, resource_uuid = created["create_order_uuid"], created["marketplace_resource_uuid"]
    assert client.get_order(order_uuid)["state"] == "pending-provider"
    client.marketplace_order_approve_by_provider(order_uuid)

    deadline = time.monotonic() + 30
    while (order := client.get_order(order_uuid))["state"] not in ("done", "erred"):
        assert time.monotonic() < deadline, f"the order is still {order['state']}"
        time.sleep(0.5)
    assert order["state"] == "done", order["error_message"]
    resource = client.get_marketplace_resource(resource_uuid)
    assert resource["state"] == "OK"

    env = {**os.environ, "CIRRUS_AWS_ENDPOINT_URL": endpoint}
    shown = subprocess.run(
        [sys.executable, "-m", "chalicelib.ops", "executions", "--workflow", "order"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert any(order_uuid in line and "SUCCEEDED" in line for line in shown.splitlines()), shown

    # The demo resource the stack ordered itself is on the customer's pending invoice of this
    # month, its fixed Public IP (5 a month) prorated from the moment it was made.
    assert billed == "OK"
    now = datetime.now(UTC)
    invoice = client.get_invoice_for_customer(customer, now.year, now.month)
    assert invoice["state"] == "pending"
    [ip] = [i for i in invoice["items"] if i["name"] == "demo-vm (Demo compute / Monthly) / Public IP"]
    start = datetime.fromisoformat(ip["start"].replace("Z", "+00:00"))
    days_in_month = calendar.monthrange(start.year, start.month)[1]
    used = days_in_month - start.day + 1  # both ends counted
    quantity = (
        Decimal(1) if start.day == 1 else (Decimal(used) / days_in_month).quantize(Decimal("0.01"), ROUND_UP)
    )
    assert Decimal(ip["quantity"]) == quantity
    assert Decimal(str(ip["price"])) == (5 * quantity).quantize(Decimal("0.01"), ROUND_UP)
    assert Decimal(invoice["price"]) >= Decimal(str(ip["price"]))
