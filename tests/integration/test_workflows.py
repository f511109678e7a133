"""Workflows end to end under moto's Step Functions interpreter: a provider step handed to a worker
over SQS (success, transient failure retried, permanent failure caught, heartbeat timeout), and an
external callback."""

from __future__ import annotations

import pytest

from chalicelib.workflows import stepfunctions, steps
from chalicelib.workflows.envelope import TaskContext
from chalicelib.workflows.registry import HEAVY_QUEUE, TASKS_QUEUE
from tests.workflow_helpers import history, run_until_done

CONTEXT = TaskContext(user_uuid="u1", username="alice", correlation_id="corr-1").model_dump()


@pytest.fixture
def attempts():
    calls: list[dict] = []
    yield calls


@pytest.fixture(autouse=True)
def test_steps(attempts):
    @steps.step("test.flaky")
    def flaky(data, heartbeat):
        attempts.append(data)
        if len(attempts) < data["succeed_on"]:
            raise steps.TransientStepError("provider busy")
        return {"attempts": len(attempts)}

    @steps.step("test.broken")
    def broken(data, heartbeat):
        attempts.append(data)
        raise ValueError("quota on the provider side is exhausted")

    @steps.step("test.silent")
    def silent(data, heartbeat):
        import time

        attempts.append(data)
        time.sleep(3)  # longer than HeartbeatSeconds (2), without a heartbeat
        return {}

    yield
    for name in ("test.flaky", "test.broken", "test.silent"):
        steps.STEPS.pop(name, None)


def start(step: str, data: dict, name: str) -> str:
    return stepfunctions.start_workflow(
        "provider_step", {"step": step, "input": data, "context": CONTEXT}, execution_name=name
    )


def test_a_step_that_succeeds_returns_its_output(runtime):
    arn = start("cirrus.echo", {"hello": "world"}, "order-1")
    done = run_until_done(arn, HEAVY_QUEUE)
    assert done["status"] == "SUCCEEDED"
    assert done["output"] == '{"hello": "world"}'


def test_a_transient_failure_is_retried_with_backoff(runtime, attempts):
    arn = start("test.flaky", {"succeed_on": 3}, "order-2")
    done = run_until_done(arn, HEAVY_QUEUE, timeout=30)
    assert done["status"] == "SUCCEEDED"
    assert len(attempts) == 3
    failures = [e for e in history(arn) if e["type"] == "TaskFailed"]
    assert [f["taskFailedEventDetails"]["error"] for f in failures] == ["Cirrus.Transient"] * 2


def test_a_permanent_failure_is_caught_into_the_error_branch(runtime, attempts):
    arn = start("test.broken", {}, "order-3")
    done = run_until_done(arn, HEAVY_QUEUE)
    assert done["status"] == "FAILED"
    assert len(attempts) == 1  # not retried
    events = history(arn)
    failed = next(e for e in events if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert failed["error"] == "Cirrus.Permanent"  # (moto drops SendTaskFailure's cause; AWS keeps it)
    assert events[-1]["type"] == "ExecutionFailed"
    assert events[-1]["executionFailedEventDetails"]["error"] == "Cirrus.StepFailed"


def test_a_step_that_stops_heartbeating_times_out_into_the_error_branch(runtime):
    arn = start("test.silent", {}, "order-4")
    done = run_until_done(arn, HEAVY_QUEUE)
    assert done["status"] == "FAILED"
    assert any(e["type"] == "TaskTimedOut" for e in history(arn))


def test_starting_the_same_execution_twice_starts_it_once(runtime):
    first = start("cirrus.echo", {"n": 1}, "order-5")
    second = start("cirrus.echo", {"n": 1}, "order-5")
    assert first == second
    from chalicelib.workflows.aws import client

    executions = client("stepfunctions").list_executions(
        stateMachineArn=stepfunctions.state_machine_arn("provider_step")
    )["executions"]
    assert [e["name"] for e in executions] == ["order-5"]


def test_an_external_party_answers_a_waiting_workflow(runtime):
    arn = stepfunctions.start_workflow(
        "await_callback", {"key": "order-6/provider-approval", "context": CONTEXT}, execution_name="order-6"
    )
    from tests.workflow_helpers import deliver_once

    deliver_once(TASKS_QUEUE, wait=1)  # the workflow's message: its token is stored under the key
    assert steps.complete_callback("order-6/provider-approval", {"approved_by": "provider"})
    assert not steps.complete_callback("order-6/provider-approval", {"approved_by": "twice"})
    done = run_until_done(arn, TASKS_QUEUE)
    assert done["status"] == "SUCCEEDED"
    assert done["output"] == '{"approved_by": "provider"}'


def test_an_unanswered_callback_times_out_into_the_error_branch(runtime):
    arn = stepfunctions.start_workflow(
        "await_callback", {"key": "k7", "context": CONTEXT}, execution_name="o7"
    )
    done = run_until_done(arn, TASKS_QUEUE)
    assert done["status"] == "FAILED"
    assert any(e["type"] == "TaskTimedOut" for e in history(arn))
