"""A `Waldur.RemoteOffering` end to end: the local Cirrus in process (moto runs the order workflow,
its queues served by the same consumer the Lambdas run), the remote one a second Cirrus on loopback
(tests/providers/waldur_remote_world.py). An order of the local offering makes the remote project,
order and resource; the local resource is OK with the remote resource's uuid as its backend_id;
new limits and termination go the same way; the month's invoices are reconciled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.vocabulary import OrderState, ResourceState
from chalicelib.services import orders
from chalicelib.services import resources as resource_service
from tests.integration.test_order_lifecycle import current, errors, serve
from tests.marketplace_helpers import CPU, PLAN, ctx_of, make_offering, order_request
from tests.providers.waldur_remote_world import Remote, remote_cirrus, remote_orders

TYPE = "Waldur.RemoteOffering"
# A step here calls a real server and waits for its order: more than TEST_TIMING's 6 s, still bounded.
TIMING = {"StepTimeoutSeconds": 60, "StepHeartbeatSeconds": 20}


@pytest.fixture(scope="module")
def remote(request: pytest.FixtureRequest) -> Remote:
    return remote_cirrus(request.config)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local Cirrus: moto executes the state machines (tests/workflow_helpers.embedded_stack)."""
    from tests.workflow_helpers import embedded_stack

    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")
    with embedded_stack(execute=True, timing=TIMING):
        yield


def mirror(
    market: Any,
    remote: Remote,
    plans: tuple[dict[str, Any], ...] = (PLAN,),
    secrets: dict[str, str] | None = None,
    **options: Any,
) -> Any:
    """The local offering mirroring the remote's automatic one (same components and plan name)."""
    plugin_options = {"remote_offering_uuid": remote.demo["uuid"], "poll_interval_seconds": 0.05, **options}
    usage = {"type": "gpu", "name": "GPU", "measured_unit": "GPU-hours", "billing_type": "usage"}
    return make_offering(
        market.staff, market.provider.id, TYPE, name="Federated VMs", plugin_options=plugin_options,
        secret_options=secrets or remote.secrets(), components=[CPU, usage], plans=plans,
    )  # fmt: skip


LARGE = {"name": "Large", "unit": "month", "unit_price": "0", "prices": {"cpu": "3"}}


def remote_project_of(remote: Remote, market: Any) -> dict[str, Any]:
    """The remote project mirroring the market's project (found by its backend_id, as Waldur does)."""
    backend_id = f"{market.consumer.id}_{market.project.id}"
    projects = remote.staff.get("projects/", customer_uuid=remote.customer, page_size=100)
    (project,) = [p for p in projects if p["backend_id"] == backend_id]
    return dict(project)


def test_an_order_is_provisioned_at_the_remote_then_updated_and_terminated(market, remote):
    offering = mirror(market, remote, plans=(PLAN, LARGE))
    order = orders.create_order(ctx_of(market.owner), order_request(market, offering, limits={"cpu": 2}))

    done = serve(order, timeout=90)

    assert done["status"] == "SUCCEEDED", errors(order)
    found, resource = current(order)
    assert found.state is OrderState.DONE and resource.state is ResourceState.OK
    at_remote = remote.federation.get(f"marketplace-resources/{resource.backend_id}/")
    assert (at_remote["state"], at_remote["name"], at_remote["limits"]) == ("OK", "vm-1", {"cpu": 2})
    assert at_remote["offering_uuid"] == remote.demo["uuid"]
    project = remote_project_of(remote, market)
    assert project["uuid"] == at_remote["project_uuid"]
    assert project["name"] == f"{market.consumer.name} / {market.project.name}"
    (remote_order,) = remote_orders(remote, resource_uuid=resource.backend_id, type="Create")
    assert remote_order["state"] == "done"
    assert remote_order["attributes"]["cirrus_resource_uuid"] == resource.id
    assert resource.backend_metadata["remote_order_uuid"] == remote_order["uuid"]

    update = resource_service.update_limits(ctx_of(market.owner), resource.id, {"cpu": 4})
    assert serve(update, timeout=90)["status"] == "SUCCEEDED", errors(update)
    assert remote.federation.get(f"marketplace-resources/{resource.backend_id}/")["limits"] == {"cpu": 4}
    assert current(update)[1].limits == {"cpu": 4}

    large = next(p for p in offering.plans if p.name == "Large")
    switch = resource_service.switch_plan(ctx_of(market.owner), resource.id, large.id)
    assert serve(switch, timeout=90)["status"] == "SUCCEEDED", errors(switch)
    assert remote.federation.get(f"marketplace-resources/{resource.backend_id}/")["plan_name"] == "Large"

    termination = resource_service.terminate(ctx_of(market.owner), resource.id)
    assert serve(termination, timeout=90)["status"] == "SUCCEEDED", errors(termination)
    assert current(termination)[1].state is ResourceState.TERMINATED
    assert remote.federation.get(f"marketplace-resources/{resource.backend_id}/")["state"] == "Terminated"


def test_a_remote_refusal_errs_the_local_order_with_the_remotes_message(market, remote):
    offering = mirror(market, remote, remote_offering_uuid=remote.failing["uuid"])
    order = orders.create_order(ctx_of(market.owner), order_request(market, offering, limits={"cpu": 1}))

    done = serve(order, timeout=90)

    assert done["status"] == "FAILED"
    found, resource = current(order)
    project = remote_project_of(remote, market)["uuid"]
    (remote_order,) = remote_orders(remote, offering_uuid=remote.failing["uuid"], project_uuid=project)
    assert found.state is OrderState.ERRED and resource.state is ResourceState.ERRED
    assert remote_order["error_message"] and remote_order["error_message"] in found.error_message


def test_the_offering_refuses_wrong_plugin_and_secret_options(market, remote):
    with pytest.raises(ValidationError) as refused:
        mirror(market, remote, remote_offering_uuid="not-a-uuid")
    assert refused.value.errors == {"plugin_options": ["remote_offering_uuid must be a UUID."]}  # a 400

    inside = remote.secrets(api_url="https://10.1.2.3/api/", token="s3cret-token")
    with pytest.raises(ValidationError) as refused:
        mirror(market, remote, secrets=inside)
    assert refused.value.errors == {"secret_options": ["api_url must not point to an internal address."]}

    with pytest.raises(ValidationError) as refused:
        mirror(market, remote, secrets=remote.secrets(customer_uuid="", token="s3cret token"))
    assert refused.value.errors == {"secret_options": ["The secret options lack customer_uuid."]}
    with pytest.raises(ValidationError) as refused:
        mirror(market, remote, secrets=remote.secrets(token="s3cret token"))
    assert "s3cret" not in str(refused.value.errors) and "token" in str(refused.value.errors)


def test_the_months_invoices_are_reconciled(market, remote):
    """The local plan prices a core at 3, the remote at 2: the remote bills 2 x 3 cores for the
    month, Cirrus 3 x 3; the difference is reported for that resource (and the command exits 1), as
    is every resource billed at one side only."""
    import io

    from cirrus_waldur_remote.__main__ import main
    from cirrus_waldur_remote.reconcile import reconcile_offering

    dearer = {"name": "Standard", "unit": "month", "unit_price": "0", "prices": {"cpu": "3"}}
    offering = mirror(market, remote, plans=(dearer,))
    order = orders.create_order(ctx_of(market.owner), order_request(market, offering, limits={"cpu": 3}))
    assert serve(order, timeout=90)["status"] == "SUCCEEDED", errors(order)
    resource = current(order)[1]
    today = datetime.now(UTC).date()

    result = reconcile_offering(offering.id, today.year, today.month)

    billed = remote.federation.get("invoice-items/", resource_uuid=resource.backend_id)
    assert sum(Decimal(str(item["price"])) for item in billed) == Decimal(6)
    by_id = {d.backend_id: d for d in result.differences}
    difference = by_id.pop(resource.backend_id)
    assert difference.name == "vm-1"
    assert (difference.local, difference.remote, difference.amount) == (Decimal(9), Decimal(6), Decimal(3))
    # the remote also bills resources of the earlier tests, which this (fresh) local Cirrus never made
    assert all(d.local is None for d in by_id.values())
    out = io.StringIO()
    assert main(["reconcile", offering.id, f"{today:%Y-%m}"], out) == 1
    assert f"{resource.backend_id} vm-1: local 9.00, remote 6.00, difference +3.00" in out.getvalue()
