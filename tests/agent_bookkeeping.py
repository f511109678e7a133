"""The site agent's per-cycle bookkeeping calls, in steady state, with what each costs in DynamoDB
(tests/ddb_costs.py): what tests/integration/test_agent_write_costs.py asserts and
bench/agent_write_costs.py reports.

Steady state: the identity, its service and processor exist; the PUT repeats the identity's fields
(the stock agent changes only `last_restarted`, to now); the resource's backend metadata is what is
stored. Each call is made once to reach that state, then measured on its repeat. Needs a market
(tests/marketplace_helpers.build_market) on moto with queues and state machines (a Create order
makes the resource).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.ddb_costs import Cost, Meter
from tests.helpers import Reply, call

IDENTITIES = "/api/marketplace-site-agent-identities/"
SERVICES = "/api/marketplace-site-agent-services/"
PROVIDER = "/api/marketplace-provider-resources/"
ORDERS = "/api/marketplace-orders/"
USAGES = "/api/marketplace-component-usages/"
OFFERING_USERS = "/api/marketplace-offering-users/"
# The market's offering needs a usage component (`report` mode reports per-user usage of it).
COMPONENTS = [
    {"type": "cpu", "name": "CPU", "measured_unit": "cores", "billing_type": "limit"},
    {"type": "cpu_hours", "name": "CPU hours", "measured_unit": "h", "billing_type": "usage"},
]
# What waldur-site-agent 1.0.7 reports (utils.DEPENDENCIES in .venv-agent).
DEPENDENCIES = [
    {"package": "waldur-site-agent", "version": "1.0.7"},
    {"package": "waldur-api-client", "version": "8.1.2"},
    {"package": "waldur-site-agent-slurm", "version": "1.0.7"},
]
METADATA = {"state": "active", "limits": {"cpu": 2}, "backend_id": "alloc-1"}


@dataclass
class Measured:
    label: str  # "METHOD /path/{id}/..."
    cost: Cost
    reply: Reply


def identity_body(offering_id: str, name: str, last_restarted: datetime | None = None) -> dict[str, Any]:
    return {
        "offering": f"http://testserver/api/marketplace-provider-offerings/{offering_id}/",
        "name": name,
        "version": "1.0.7",
        "dependencies": DEPENDENCIES,
        "config_file_path": "",
        "config_file_content": "",
        "last_restarted": (last_restarted or datetime.now(UTC)).isoformat(),
    }


def live_resource(client: Any, market: Any) -> str:
    """An OK resource of the market's offering: ordered by the owner, approved and done by the seller."""
    public = f"http://testserver/api/marketplace-public-offerings/{market.offering.id}/"
    body = {
        "project": f"http://testserver/api/projects/{market.project.id}/",
        "offering": public,
        "plan": f"{public}plans/{market.plan.id}/",
        "attributes": {"name": "vm-1"},
        "limits": {"cpu": 2},
        "accepting_terms_of_service": True,
    }
    placed = call(client, "POST", ORDERS, market.owner, body)
    assert placed.status == 201, placed.json
    order = placed.json
    for action in ("approve_by_provider", "set_state_done"):
        reply = call(client, "POST", f"{ORDERS}{order['uuid']}/{action}/", market.seller)
        assert reply.status == 200, reply.json
    return str(order["marketplace_resource_uuid"])


@dataclass
class Agent:
    """One offering's agent: its identity, a service and a processor, and a live resource."""

    client: Any
    market: Any
    identity: str
    service: str
    resource: str
    usage: str = ""  # the resource's cpu_hours usage of this month
    offering_user: str = ""  # the project member's account in the offering (a URL)

    @classmethod
    def registered(cls, client: Any, market: Any) -> Agent:
        offering = market.offering.id
        made = call(client, "POST", IDENTITIES, market.seller, identity_body(offering, f"agent-{offering}"))
        assert made.status == 201, made.json
        identity = made.json["uuid"]
        service = call(
            client, "POST", f"{IDENTITIES}{identity}/register_service/", market.seller,
            {"name": "membership_sync", "mode": "membership_sync"},
        )  # fmt: skip
        assert service.status == 201, service.json
        agent = cls(client, market, identity, service.json["uuid"], live_resource(client, market))
        assert agent.register_processor().status == 201
        assert agent.set_backend_metadata().status == 200
        assert agent.refresh_last_sync().status == 200
        reported = {"resource": agent.resource, "usages": [{"type": "cpu_hours", "amount": "10"}]}
        assert agent.post(f"{USAGES}set_usage/", reported).status == 201
        query = f"?resource_uuid={agent.resource}&type=cpu_hours"
        [usage] = call(client, "GET", f"{USAGES}{query}", market.seller).json
        query = f"?offering_uuid={market.offering.id}&user_uuid={market.member.id}"
        [account] = call(client, "GET", f"{OFFERING_USERS}{query}", market.seller).json
        agent.usage, agent.offering_user = usage["uuid"], account["url"]
        assert agent.set_user_usages().status == 201
        return agent

    def post(self, path: str, body: Any = None) -> Reply:
        return call(self.client, "POST", path, self.market.seller, body)

    def register_service(self, mode: str = "membership_sync") -> Reply:
        return self.post(
            f"{IDENTITIES}{self.identity}/register_service/", {"name": "membership_sync", "mode": mode}
        )

    def register_processor(self, backend_version: str = "1.0") -> Reply:
        body = {
            "name": "OfferingMembershipProcessor",
            "backend_type": "mock",
            "backend_version": backend_version,
        }
        return self.post(f"{SERVICES}{self.service}/register_processor/", body)

    def put_identity(self, **changes: Any) -> Reply:
        offering = self.market.offering.id
        body = identity_body(offering, f"agent-{offering}") | changes
        return call(self.client, "PUT", f"{IDENTITIES}{self.identity}/", self.market.seller, body)

    def refresh_last_sync(self) -> Reply:
        return self.post(f"{PROVIDER}{self.resource}/refresh_last_sync/")

    def set_backend_metadata(self, metadata: dict[str, Any] | None = None) -> Reply:
        return self.post(
            f"{PROVIDER}{self.resource}/set_backend_metadata/", {"backend_metadata": metadata or METADATA}
        )

    def set_user_usages(self, amount: str = "4") -> Reply:
        line = {"username": "member", "usage": amount, "user": self.offering_user}
        return self.post(f"{USAGES}{self.usage}/set_user_usages/", {"usages": [line]})

    def steady_cycle(self) -> list[tuple[str, Callable[[], Reply]]]:
        return [
            ("POST identities/{id}/register_service/", self.register_service),
            ("POST services/{id}/register_processor/", self.register_processor),
            ("PUT identities/{id}/", self.put_identity),
            ("POST provider-resources/{id}/refresh_last_sync/", self.refresh_last_sync),
            ("POST provider-resources/{id}/set_backend_metadata/", self.set_backend_metadata),
            ("POST component-usages/{id}/set_user_usages/", self.set_user_usages),
        ]


def measure(meter: Meter, label: str, request: Callable[[], Reply]) -> Measured:
    with meter.measuring() as cost:
        reply = request()
    assert 200 <= reply.status < 300, (label, reply.status, reply.json)
    return Measured(label, cost, reply)


def steady_costs(meter: Meter, agent: Agent) -> list[Measured]:
    """Each bookkeeping call of a cycle, measured on a repeat (the agent's second cycle on)."""
    return [measure(meter, label, request) for label, request in agent.steady_cycle()]


def table(rows: list[Measured]) -> str:
    lines = [
        "| call | DynamoDB calls | reads | writes | RRU | WRU | largest item written |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        c = row.cost
        lines.append(
            f"| `{row.label}` | {len(c.calls)} ({', '.join(c.ops)}) | {c.reads} | {c.writes} | "
            f"{c.rru:g} | {c.wru:g} | {c.largest_write} B |"
        )
    return "\n".join(lines)


def dumps(rows: list[Measured]) -> str:
    return json.dumps(
        {r.label: {"ops": r.cost.ops, "wru": r.cost.wru, "rru": r.cost.rru} for r in rows}, indent=1
    )
