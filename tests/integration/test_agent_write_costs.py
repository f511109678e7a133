"""What the site agent's per-cycle bookkeeping costs in DynamoDB writes, in steady state
(tests/agent_bookkeeping.py), counted by botocore-level hooks on moto (tests/ddb_costs.py):

- what repeats what is stored writes nothing: the same backend metadata, the same per-user usage,
  a PUT of an identity with the same fields;
- what must change every call (a service's `modified` and a processor's `last_run`, the agent's
  heartbeat; an identity's `last_restarted`; a resource's `last_sync`) is one conditional PutItem or
  UpdateItem, not a TransactWriteItems (which DynamoDB bills twice);
- a real change is still written, and seen; answers are what they were; a stale version is still a
  409, while this write's own resend (botocore retrying a call that had landed) is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.agent_bookkeeping import COMPONENTS, IDENTITIES, METADATA, PROVIDER, Agent, measure, steady_costs
from tests.ddb_costs import Meter
from tests.helpers import call
from tests.marketplace_helpers import build_market, make_offering

RESOURCES = "/api/marketplace-resources/"
USER_USAGES = "/api/marketplace-component-user-usages/"


@pytest.fixture
def aws(stack: None) -> Iterator[None]:
    yield  # orders start workflows: queues and state machines on moto


@pytest.fixture
def market(aws: None, staff: Any) -> Any:
    market = build_market(staff)
    market.offering = make_offering(staff, market.provider.id, name="HPC", components=COMPONENTS)
    return market


@pytest.fixture
def agent(client: Any, market: Any) -> Agent:
    return Agent.registered(client, market)


@pytest.fixture
def meter() -> Iterator[Meter]:
    with Meter.installed() as installed:
        yield installed


def test_a_steady_cycle_writes_only_heartbeats_and_none_in_a_transaction(agent: Agent, meter: Meter) -> None:
    rows = {row.label: row for row in steady_costs(meter, agent)}
    writes = {
        label: [op for op in row.cost.ops if op.endswith("Item") and op != "GetItem"]
        for label, row in rows.items()
    }
    assert {label: [w for w in ops if w != "BatchGetItem"] for label, ops in writes.items()} == {
        "POST identities/{id}/register_service/": ["PutItem"],
        "POST services/{id}/register_processor/": ["PutItem"],
        "PUT identities/{id}/": ["PutItem"],  # the agent sends a new last_restarted every cycle
        "POST provider-resources/{id}/refresh_last_sync/": ["UpdateItem"],
        "POST provider-resources/{id}/set_backend_metadata/": [],
        "POST component-usages/{id}/set_user_usages/": [],
    }
    assert all("TransactWriteItems" not in row.cost.ops for row in rows.values())
    # Each heartbeat: the item's KB once, plus its gsi1 copy (the agent's items are under 1 KB).
    for label in ("POST identities/{id}/register_service/", "POST services/{id}/register_processor/"):
        assert rows[label].cost.wru == 2, (label, rows[label].cost.summary())
    assert rows["POST provider-resources/{id}/set_backend_metadata/"].cost.wru == 0
    assert rows["POST component-usages/{id}/set_user_usages/"].cost.wru == 0
    # What the agent parses is unchanged: a re-registration is a 200 with the same service.
    service = rows["POST identities/{id}/register_service/"].reply
    assert (service.status, service.json["uuid"], service.json["state"]) == (200, agent.service, "Active")
    assert rows["POST services/{id}/register_processor/"].reply.status == 200
    assert rows["POST provider-resources/{id}/set_backend_metadata/"].reply.json == {
        "status": "Resource backend metadata has been changed."
    }
    assert (
        rows["POST component-usages/{id}/set_user_usages/"].reply.status,
        rows["POST component-usages/{id}/set_user_usages/"].reply.raw,
    ) == (201, b"")


def test_the_heartbeats_still_move(agent: Agent, meter: Meter) -> None:
    """A service's `modified` and a processor's `last_run` say when the agent last ran (Waldur's
    stale-agent cleanup reads the first); a resource's `last_sync` when it was last reconciled."""
    client, seller = agent.client, agent.market.seller
    first = (agent.register_service().json, agent.register_processor().json, agent.refresh_last_sync())
    last_sync = call(client, "GET", f"{PROVIDER}{agent.resource}/", seller).json["last_sync"]
    service, processor = agent.register_service().json, agent.register_processor().json
    assert agent.refresh_last_sync().status == 200
    assert service["modified"] > first[0]["modified"]
    assert processor["last_run"] > first[1]["last_run"] and processor["modified"] > first[1]["modified"]
    assert call(client, "GET", f"{PROVIDER}{agent.resource}/", seller).json["last_sync"] > last_sync
    listed = call(
        client, "GET", f"/api/marketplace-site-agent-services/?modified_after={first[0]['modified']}", seller
    )
    assert [s["uuid"] for s in listed.json] == [agent.service]


def test_the_same_identity_again_writes_nothing_and_answers_the_same(agent: Agent, meter: Meter) -> None:
    same = {"last_restarted": "2026-01-02T03:04:05+00:00"}
    before = agent.put_identity(**same)
    again = measure(meter, "PUT same", lambda: agent.put_identity(**same))
    assert again.cost.writes == 0
    assert (again.reply.status, again.reply.json) == (200, before.json)
    changed = measure(meter, "PUT changed", lambda: agent.put_identity(version="1.0.8", **same))
    assert changed.cost.ops.count("PutItem") == 1 and changed.cost.wru == 2
    assert (
        changed.reply.json["version"] == "1.0.8" and changed.reply.json["modified"] > before.json["modified"]
    )
    stored = call(agent.client, "GET", f"{IDENTITIES}{agent.identity}/", agent.market.seller).json
    assert (stored["version"], stored["last_restarted"]) == ("1.0.8", "2026-01-02T03:04:05Z")


def test_changed_metadata_usage_and_mode_are_written_and_seen(agent: Agent, meter: Meter) -> None:
    client, owner = agent.client, agent.market.owner
    metadata = METADATA | {"state": "suspended"}
    written = measure(meter, "metadata", lambda: agent.set_backend_metadata(metadata))
    assert written.cost.ops.count("UpdateItem") == 1 and "TransactWriteItems" not in written.cost.ops
    assert call(client, "GET", f"{RESOURCES}{agent.resource}/", owner).json["backend_metadata"] == metadata

    usage = measure(meter, "user usage", lambda: agent.set_user_usages("7"))
    assert usage.cost.ops.count("PutItem") == 1 and "TransactWriteItems" not in usage.cost.ops
    [share] = call(client, "GET", f"{USER_USAGES}?resource_uuid={agent.resource}", owner).json
    assert share["usage"] == "7.00"

    mode = agent.register_service(mode="report")
    assert (mode.status, mode.json["mode"]) == (200, "report")


def test_a_stale_write_is_a_conflict_but_its_own_resend_is_not(agent: Agent) -> None:
    """Outside a transaction, optimistic concurrency holds: a write over a version that moved on is
    a 409; the same write sent twice (botocore resending a call that had landed) succeeds."""
    from dataclasses import replace

    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.errors import Conflict
    from chalicelib.services.ports import unit_of_work
    from chalicelib.store import agents as store
    from chalicelib.store import resources as resource_store
    from chalicelib.store.agents import _service_item
    from chalicelib.store.items import BaseItem
    from chalicelib.store.unit_of_work import put_alone

    service = store.get_service(agent.service)
    assert service is not None
    uow = unit_of_work()
    store.save_service(uow, service, replace(service, modified=utcnow()))
    uow.commit()
    stale = unit_of_work()
    store.save_service(stale, service, replace(service, mode="report", modified=utcnow()))
    with pytest.raises(Conflict):
        stale.commit()

    current = store.get_service(agent.service)
    assert current is not None and current.mode == "membership_sync"
    item = _service_item(replace(current, version=current.version + 1, modified=utcnow()))
    write = put_alone(item, BaseItem.version == current.version)
    write()
    write()  # its condition fails now, but what is stored is this write: it landed
    assert store.get_service(agent.service) == replace(
        current, version=current.version + 1, modified=item_modified(item)
    )

    resource = resource_store.get(agent.resource)
    assert resource is not None
    loaded = resource_store.load(resource.customer_id, resource.project_id, resource.id)
    assert loaded is not None
    uow = unit_of_work()
    resource_store.save_changes(uow, loaded, replace(loaded, last_sync=utcnow()))
    uow.commit()
    stale = unit_of_work()
    resource_store.save_changes(stale, loaded, replace(loaded, backend_id="elsewhere"))
    with pytest.raises(Conflict):
        stale.commit()


def item_modified(item: Any) -> Any:
    from chalicelib.store.agents import _service

    return _service(item).modified
