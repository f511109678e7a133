"""The order workflow end to end under moto's Step Functions interpreter, its queues served by the
same consumer the Lambdas run: the demo provider's automatic processing (success, transient
failures retried, permanent failure caught into erred, a processor that never finishes), the
agent-driven flow with its approvals, timeouts, rejection and cancellation, and SQS refusing the
workflow's sends (retried; past the retries, the alarmed Stranded state and the hourly sweep). Short
timings (tests/workflow_helpers.py): moto really sleeps."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from chalicelib.domain.vocabulary import OrderState, ResourceState
from chalicelib.services import orders
from chalicelib.store import orders as order_store
from chalicelib.store import resources as resource_store
from chalicelib.workflows import stepfunctions
from chalicelib.workflows.aws import client
from chalicelib.workflows.registry import HEAVY_QUEUE, TASKS_QUEUE
from tests.marketplace_helpers import DEMO, ctx_of, make_offering, order_request
from tests.workflow_helpers import deliver_once, history


@pytest.fixture
def aws(runtime):
    """Everything runs on the runtime's moto: state machines are executed."""
    yield


def demo(market, **options):
    return make_offering(market.staff, market.provider.id, DEMO, name="Demo", plugin_options=options)


def arn_of(order) -> str:
    return stepfunctions.execution_arn(stepfunctions.state_machine_arn("order"), order.execution_name)


def serve(order, timeout: float = 25.0) -> dict:
    """Serve both queues until the order's execution ends; returns describe_execution."""
    sfn = client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliver_once(TASKS_QUEUE)
        deliver_once(HEAVY_QUEUE)
        described = sfn.describe_execution(executionArn=arn_of(order))
        if described["status"] != "RUNNING":
            deliver_once(TASKS_QUEUE)  # the error branch's fire-and-forget message, if any
            return described
        time.sleep(0.1)
    raise AssertionError(f"order {order.id} still running after {timeout}s")


def until_waiting(order, stage: str, timeout: float = 10.0) -> None:
    """Serve the tasks queue until the execution's token for `stage` is stored."""
    from chalicelib.store import keys
    from chalicelib.store.items import CallbackItem

    key = f"order:{order.id}:{stage}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliver_once(TASKS_QUEUE)
        try:
            CallbackItem.get(keys.callback_pk(key), keys.META, consistent_read=True)
            return
        except CallbackItem.DoesNotExist:
            time.sleep(0.1)
    raise AssertionError(f"no execution waits on {key}")


def current(order):
    found = order_store.load(order.customer_id, order.id)
    resource = resource_store.load(order.customer_id, order.project_id, order.resource_id)
    return found, resource


def errors(order) -> list[str]:
    return [e["taskFailedEventDetails"]["error"] for e in history(arn_of(order)) if e["type"] == "TaskFailed"]


# --- the demo provider: automatic ----------------------------------------------------------------------
def test_the_demo_provider_provisions_and_the_order_is_done(market):
    order = orders.create_order(ctx_of(market.owner), order_request(market, demo(market, delay_seconds=0)))
    assert order.state is OrderState.EXECUTING

    done = serve(order)

    assert done["status"] == "SUCCEEDED"
    found, resource = current(order)
    assert found.state is OrderState.DONE
    assert resource.state is ResourceState.OK and resource.backend_id.startswith("demo-")


def test_a_transient_failure_is_retried_with_backoff_then_succeeds(market):
    offering = demo(market, delay_seconds=0, transient_failures=2)
    order = orders.create_order(ctx_of(market.owner), order_request(market, offering))

    done = serve(order)

    assert done["status"] == "SUCCEEDED"
    assert errors(order) == ["Cirrus.Transient", "Cirrus.Transient"]
    assert current(order)[0].state is OrderState.DONE


def test_a_permanent_failure_errs_the_order_and_its_resource(market):
    offering = demo(market, delay_seconds=0, failure_rate=1)
    order = orders.create_order(ctx_of(market.owner), order_request(market, offering))

    done = serve(order)

    assert done["status"] == "FAILED" and done.get("error") == "Cirrus.OrderErred"
    assert errors(order) == ["Cirrus.Permanent"]  # not retried
    found, resource = current(order)
    assert (found.state, found.error_message) == (
        OrderState.ERRED,
        "Demo provider failed to provision the resource.",
    )
    assert resource.state is ResourceState.ERRED and resource.error_message == found.error_message


def test_a_processor_that_never_finishes_times_out_into_erred(market):
    offering = demo(market, delay_seconds=8)  # it heartbeats, but outlives StepTimeoutSeconds (6)
    order = orders.create_order(ctx_of(market.owner), order_request(market, offering))

    done = serve(order, timeout=40)

    assert done["status"] == "FAILED"
    assert any(e["type"] == "TaskTimedOut" for e in history(arn_of(order)))
    found, resource = current(order)
    assert found.state is OrderState.ERRED
    assert found.error_message == "The provider did not finish the order in time."
    assert resource.state is ResourceState.ERRED


# --- an agent-driven provider ------------------------------------------------------------------------
def test_approvals_and_the_agents_completion_answer_the_waiting_execution(market):
    order = orders.create_order(ctx_of(market.member), order_request(market))
    until_waiting(order, "consumer")
    orders.approve_by_consumer(ctx_of(market.owner), order.id)
    until_waiting(order, "provider")
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    until_waiting(order, "agent")
    orders.set_state_done(ctx_of(market.seller), order.id)

    assert serve(order)["status"] == "SUCCEEDED"
    assert current(order)[1].state is ResourceState.OK


def test_an_approval_before_the_execution_waits_is_not_lost(market):
    order = orders.create_order(ctx_of(market.member), order_request(market))
    orders.approve_by_consumer(ctx_of(market.owner), order.id)  # nobody waits yet
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    orders.set_state_done(ctx_of(market.seller), order.id)

    assert serve(order)["status"] == "SUCCEEDED"


def test_an_agent_that_never_finishes_times_out_into_erred(market):
    order = orders.create_order(ctx_of(market.owner), order_request(market))
    until_waiting(order, "provider")
    orders.approve_by_provider(ctx_of(market.seller), order.id)

    done = serve(order, timeout=30)

    assert done["status"] == "FAILED"
    found, resource = current(order)
    assert (found.state, found.error_message) == (
        OrderState.ERRED,
        "The service provider did not finish the order in time.",
    )
    assert resource.state is ResourceState.ERRED


def test_an_order_nobody_approves_is_canceled_when_its_wait_ends(market):
    order = orders.create_order(ctx_of(market.member), order_request(market))

    assert serve(order, timeout=30)["status"] == "SUCCEEDED"
    found, resource = current(order)
    assert (found.state, found.error_message) == (OrderState.CANCELED, "The order was not approved in time.")
    assert resource.state is ResourceState.TERMINATED


@pytest.mark.parametrize(
    ("command", "who", "state"),
    [("reject_by_consumer", "owner", OrderState.REJECTED), ("cancel_order", "member", OrderState.CANCELED)],
)
def test_a_refused_order_ends_its_execution(market, command, who, state):
    order = orders.create_order(ctx_of(market.member), order_request(market))
    until_waiting(order, "consumer")
    getattr(orders, command)(ctx_of(getattr(market, who)), order.id)

    assert serve(order)["status"] == "SUCCEEDED"
    found, resource = current(order)
    assert found.state is state and resource.state is ResourceState.TERMINATED


def test_the_demo_provider_terminates_what_it_made(market):
    from chalicelib.services import resources

    offering = demo(market, delay_seconds=0)
    created = orders.create_order(ctx_of(market.owner), order_request(market, offering))
    serve(created)
    termination = resources.terminate(ctx_of(market.owner), created.resource_id)
    assert termination.state is OrderState.EXECUTING  # no review: the demo provider terminates at once

    assert serve(termination)["status"] == "SUCCEEDED"
    assert current(termination)[1].state is ResourceState.TERMINATED


# --- SQS refusing the workflow's sends (issue 14, item 9) ------------------------------------------------
@contextmanager
def sqs_refuses(task: str, times: int) -> Iterator[list[str]]:
    """SQS refuses the workflow's next `times` sends of `task` (a throttle, as Step Functions' SQS
    integration would see it). Moto's interpreter builds a boto3 client per Task from the default
    session, so a botocore hook registered there reaches it; the app's own clients send envelopes of
    other tasks. Yields the tasks refused."""
    import boto3
    from botocore.exceptions import ClientError

    refused: list[str] = []

    def refuse(params: dict, **_: object) -> None:
        try:
            sent = json.loads(params.get("MessageBody") or "{}").get("task")
        except ValueError:
            return
        if sent == task and len(refused) < times:
            refused.append(sent)
            error = {"Code": "RequestThrottled", "Message": "Rate exceeded (injected by the test)"}
            raise ClientError({"Error": error}, "SendMessage")

    events = boto3._get_default_session().events
    events.register("before-parameter-build.sqs.SendMessage", refuse)
    try:
        yield refused
    finally:
        events.unregister("before-parameter-build.sqs.SendMessage", refuse)


def test_a_send_sqs_refuses_once_is_retried_and_the_order_goes_on(market):
    with sqs_refuses("marketplace.await_order", times=1) as refused:
        order = orders.create_order(ctx_of(market.member), order_request(market))
        until_waiting(order, "consumer")  # the retried send reached the worker
    assert refused == ["marketplace.await_order"]
    assert errors(order) == ["SQS.SdkClientException"]
    orders.approve_by_consumer(ctx_of(market.owner), order.id)

    until_waiting(order, "provider")

    assert client("stepfunctions").describe_execution(executionArn=arn_of(order))["status"] == "RUNNING"


def sweep_later() -> dict[str, int]:
    """The hourly sweep's task, run after the orders' grace period."""
    from chalicelib.domain import clock
    from chalicelib.domain.context import EventContext
    from chalicelib.workflows import order_sweep

    now = clock.utcnow()
    clock.set_source(lambda: now + order_sweep.GRACE + timedelta(minutes=1))
    try:
        return order_sweep.restart_stranded_orders({}, EventContext())
    finally:
        clock.set_source(None)


def test_sqs_refusing_past_the_retries_strands_the_order_alarmed_and_the_sweep_restarts_it(market):
    offering = demo(market, delay_seconds=0)
    with sqs_refuses("marketplace.process_order", times=99) as refused:
        order = orders.create_order(ctx_of(market.owner), order_request(market, offering))
        stranded = serve(order)
    # Sent once and retried SqsRetryMaxAttempts (2) times, then the alarmed final state; the order is
    # not erred for SQS's fault, it still executes.
    assert len(refused) == 3 and errors(order) == ["SQS.SdkClientException"] * 3
    assert (stranded["status"], stranded.get("error")) == ("FAILED", "Cirrus.OrderStranded")
    assert current(order)[0].state is OrderState.EXECUTING

    swept = sweep_later()

    assert swept["restarted"] == 1
    restarted = current(order)[0]
    assert restarted.execution_name == f"{order.id}-2"
    assert serve(restarted)["status"] == "SUCCEEDED"
    assert current(order)[0].state is OrderState.DONE


def test_an_order_whose_erring_was_lost_is_erred_by_the_sweep_not_processed_again(market):
    offering = demo(market, delay_seconds=0, failure_rate=1)
    order = orders.create_order(ctx_of(market.owner), order_request(market, offering))
    sfn = client("stepfunctions")
    deadline = time.monotonic() + 20
    while sfn.describe_execution(executionArn=arn_of(order))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        deliver_once(HEAVY_QUEUE)
        time.sleep(0.1)
    # The workflow gave up (Cirrus.OrderErred) but its marketplace.fail_order never ran (as if
    # dead-lettered): the order still executes.
    from chalicelib.workflows import queues

    client("sqs").purge_queue(QueueUrl=queues.queue_url(TASKS_QUEUE))
    assert current(order)[0].state is OrderState.EXECUTING

    swept = sweep_later()

    assert (swept["erred"], swept["restarted"]) == (1, 0)
    found, resource = current(order)
    assert (found.state, found.executions) == (OrderState.ERRED, 1)
    assert resource.state is ResourceState.ERRED
    assert sweep_later()["checked"] == 0  # erred: no longer open
