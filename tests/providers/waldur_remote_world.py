"""A second Cirrus, started on loopback (`python -m chalicelib.local` in a subprocess with its own
embedded moto and demo data: tests/integration/test_local_stack.Stack), as the remote Waldur that a
`Waldur.RemoteOffering` mirrors, and the world made in it through its API as staff:

- a provider "Remote Centre" with three active offerings: `Cirrus.Demo` with delay_seconds 0 (its
  orders finish by themselves), `Cirrus.Demo` with failure_rate 1 (its orders err), and a
  `Marketplace.Basic` one whose orders wait for the provider (done on approval);
- a customer "Federation" under which the remote projects are made, owned by the user `federator`
  whose API token the local offering holds (not staff: what a real federation is given).
"""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.integration.test_local_stack import Stack
from tests.site_agent.test_stock_agent import Api, _user

COMPONENTS = [
    {"type": "cpu", "name": "CPU", "measured_unit": "cores", "billing_type": "limit", "max_value": 64},
    {"type": "gpu", "name": "GPU", "measured_unit": "GPU-hours", "billing_type": "usage"},
]
PLANS = [
    {"name": "Standard", "unit": "month", "unit_price": "0", "prices": {"cpu": "2", "gpu": "1"}},
    {"name": "Large", "unit": "month", "unit_price": "0", "prices": {"cpu": "3", "gpu": "1"}},
]


@dataclass
class Remote:
    api: str  # http://127.0.0.1:<port>/api/
    staff: Api
    federation: Api  # the federator's token
    token: str  # the federator's token
    customer: str  # the Federation customer's uuid
    demo: dict[str, Any]  # the automatic offering (public view, with plans)
    failing: dict[str, Any]
    manual: dict[str, Any]

    def secrets(self, **changes: str) -> dict[str, str]:
        return {"api_url": self.api, "token": self.token, "customer_uuid": self.customer, **changes}


Json = dict[str, Any]


def _offering(staff: Api, provider: Json, category: Json, name: str, **fields: Any) -> Any:
    offering = staff.post(
        "marketplace-provider-offerings/",
        {"name": name, "category": category["url"], "customer": provider["url"], "components": COMPONENTS,
         "plans": PLANS, **fields},
    )  # fmt: skip
    staff.post(f"marketplace-provider-offerings/{offering['uuid']}/activate/", {}, 200)
    return staff.get(f"marketplace-public-offerings/{offering['uuid']}/")


def make_remote(stack: Stack) -> Remote:
    api = stack.wait_for(r"Cirrus is running on (http://127\.0\.0\.1:\d+/api/)", timeout=180).group(1)
    staff = Api(api, stack.wait_for(r"token: +([0-9a-f]{40})").group(1))
    provider = staff.post("customers/", {"name": "Remote Centre"})
    category = staff.post("marketplace-categories/", {"title": "Federated"})
    demo = _offering(
        staff, provider, category, "Remote VMs", type="Cirrus.Demo", plugin_options={"delay_seconds": 0}
    )
    failing = _offering(
        staff, provider, category, "Broken VMs", type="Cirrus.Demo",
        plugin_options={"delay_seconds": 0, "failure_rate": 1},
    )  # fmt: skip
    manual = _offering(
        staff, provider, category, "Hand-made VMs", type="Marketplace.Basic",
        plugin_options={"done_on_approval": True},
    )  # fmt: skip
    federation = staff.post("customers/", {"name": "Federation"})
    user, token = _user(staff, api, "federator")
    staff.post(f"customers/{federation['uuid']}/add_user/", {"user": user["uuid"], "role": "CUSTOMER.OWNER"})
    return Remote(api, staff, Api(api, token), token, federation["uuid"], demo, failing, manual)


_STARTED: list[Remote] = []


def _stop(stack: Stack) -> None:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGTERM)
        try:
            stack.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait(timeout=10)


def remote_cirrus(config: pytest.Config) -> Remote:
    """The second Cirrus, started once per test process (both test modules' module-scoped fixtures
    share it: one start, not one per module) and stopped when the session ends. Each test makes
    its own projects there, so they do not see each other's orders unless they look for them."""
    if not _STARTED:
        running = Stack()
        config.add_cleanup(lambda: _stop(running))
        _STARTED.append(make_remote(running))
    return _STARTED[0]


def unreachable_api() -> str:
    """An API URL on loopback where nothing listens."""
    from chalicelib.local.aws import free_port

    return f"http://127.0.0.1:{free_port()}/api/"


def remote_orders(remote: Remote, **params: Any) -> list[dict[str, Any]]:
    return list(remote.staff.get("marketplace-orders/", page_size=100, **params))


def set_usage(remote: Remote, resource_uuid: str, usages: dict[str, str]) -> None:
    """The remote provider reports usage of a resource (as its agent would)."""
    body = {"resource": resource_uuid, "usages": [{"type": t, "amount": a} for t, a in usages.items()]}
    response = requests.post(
        remote.api + "marketplace-component-usages/set_usage/",
        json=body,
        headers=remote.staff.session.headers,
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text
