"""Orders of a cloud type end to end: the order workflow (moto's Step Functions, the consumer the
Lambdas run) drives the generic cloud processors (workflows/cloud_driver.py) against the in-memory fake
cloud: create, update and terminate; a transient failure retried; a refusal erring the order with
the provider's message."""

from __future__ import annotations

import pytest

from chalicelib.domain.vocabulary import OrderState, ResourceState
from chalicelib.providers.cloud import ProviderError, TransientError
from chalicelib.services import orders
from chalicelib.services import resources as resource_service
from chalicelib.store import orders as order_store
from chalicelib.workflows.aws import client
from tests.cloud_helpers import cloud_offering
from tests.fakes.cloud import FakeCloud, registered
from tests.integration.test_order_lifecycle import current, errors, serve
from tests.marketplace_helpers import ctx_of, order_request


@pytest.fixture
def aws(runtime):
    """Everything runs on the runtime's moto: state machines are executed."""
    yield


@pytest.fixture
def cloud():
    with registered(FakeCloud()) as fake:
        yield fake


@pytest.fixture
def offering(market, cloud):
    return cloud_offering(market)


def ordered(market, offering):
    order = orders.create_order(ctx_of(market.owner), order_request(market, offering))
    assert order.state is OrderState.EXECUTING  # a cloud type needs no provider review
    return order


def latest_order(resource):
    return order_store.load(resource.customer_id, resource.order_in_progress_id)


def test_a_cloud_order_provisions_updates_and_terminates_at_the_provider(market, cloud, offering):
    order = ordered(market, offering)

    assert serve(order)["status"] == "SUCCEEDED"
    found, resource = current(order)
    assert found.state is OrderState.DONE and resource.state is ResourceState.OK
    assert resource.backend_id == f"vm-{resource.id[:12]}" and resource.backend_id in cloud.resources
    assert resource.backend_metadata == {"type": "instance", "size": "small", "ip": "192.0.2.10"}
    assert cloud.settings[-1].offering_uuid == offering.id

    update = resource_service.update_limits(ctx_of(market.owner), resource.id, {"cpu": 4})
    assert serve(update)["status"] == "SUCCEEDED"
    assert cloud.resources[resource.backend_id].limits == {"cpu": 4}
    assert current(update)[1].limits == {"cpu": 4} and current(update)[1].state is ResourceState.OK

    ending = resource_service.terminate(ctx_of(market.owner), resource.id)
    assert serve(ending)["status"] == "SUCCEEDED"
    assert current(ending)[1].state is ResourceState.TERMINATED
    assert resource.backend_id not in cloud.resources
    assert cloud.calls == ["create", "update", "terminate"]


def test_a_transient_failure_is_retried_and_the_machine_made_once(market, cloud, offering):
    cloud.fail_next(TransientError("Request limit exceeded."))
    order = ordered(market, offering)

    assert serve(order)["status"] == "SUCCEEDED"
    # Retried, never caught. (moto's interpreter records a second Cirrus.Transient when the retried
    # attempt heartbeats: the same order with Cirrus.Demo, which never heartbeats, shows one.)
    assert errors(order)[:1] == ["Cirrus.Transient"] and set(errors(order)) == {"Cirrus.Transient"}
    assert current(order)[1].state is ResourceState.OK and len(cloud.resources) == 1


def test_a_refusal_errs_the_order_and_its_resource_with_the_providers_message(
    request, market, cloud, offering
):
    sent: list[dict] = []

    def note(params: dict, **_: object) -> None:
        sent.append(params)

    events = client("stepfunctions").meta.events
    events.register("provide-client-params.states.SendTaskFailure", note)
    request.addfinalizer(lambda: events.unregister("provide-client-params.states.SendTaskFailure", note))
    cloud.fail_next(ProviderError("No capacity for size t3.huge in eu-west-1."))
    order = ordered(market, offering)

    done = serve(order)

    assert done["status"] == "FAILED"
    assert errors(order) == ["Cirrus.Permanent"]  # not retried
    found, resource = current(order)
    assert found.state is OrderState.ERRED
    assert found.error_message == "No capacity for size t3.huge in eu-west-1."  # the provider's words
    assert resource.state is ResourceState.ERRED and not cloud.resources
    # The workflow is told them as SendTaskFailure's cause (moto keeps it: local/moto_speedups.py);
    # the Catch's Cause becomes the order's error_message (order_workflow.error_message).
    assert [(p["error"], p["cause"]) for p in sent] == [
        ("Cirrus.Permanent", "No capacity for size t3.huge in eu-west-1.")
    ]
