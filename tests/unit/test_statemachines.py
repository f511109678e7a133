"""The ASL files: valid JSON as committed, fully substituted when rendered, and every message they
send names a registered task."""

from __future__ import annotations

import json

import pytest

from chalicelib.workflows import registry, stepfunctions
from chalicelib.workflows.schedules import SCHEDULES

QUEUE_VALUES = {f"{q.capitalize()}QueueUrl": f"https://sqs.example/123/cirrus-{q}" for q in registry.QUEUES}
VALUES = {**stepfunctions.DEFAULT_TIMING, **QUEUE_VALUES}


WAIT_FOR_TOKEN = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
SEND = "arn:aws:states:::sqs:sendMessage"  # fire and forget (the order workflow's error branch)


def test_state_machines_are_shipped():
    assert {"provider_step", "await_callback", "order"} <= set(stepfunctions.names())


@pytest.mark.parametrize("name", stepfunctions.names())
def test_each_file_is_json_before_substitution(name):
    assert json.loads(stepfunctions.template(name))["StartAt"]


@pytest.mark.parametrize("name", stepfunctions.names())
def test_rendering_substitutes_every_placeholder_with_its_type(name):
    rendered = stepfunctions.render(name, VALUES)
    assert "${" not in rendered
    definition = json.loads(rendered)
    for state in definition["States"].values():
        if state["Type"] == "Task":
            assert state["Parameters"]["QueueUrl"].startswith("https://sqs.example/")
            # A Task that waits for an answer must give up some day.
            assert state["Resource"] == SEND or isinstance(state["TimeoutSeconds"], int)


@pytest.mark.parametrize("name", stepfunctions.names())
def test_a_missing_value_is_an_error_not_a_leftover(name):
    with pytest.raises(KeyError):
        stepfunctions.render(name, {})


@pytest.mark.parametrize("name", stepfunctions.names())
def test_every_task_message_names_a_registered_task(name):
    registry.load_all()
    definition = json.loads(stepfunctions.render(name, VALUES))
    for state in definition["States"].values():
        if state["Type"] == "Task":
            assert state["Resource"] in (WAIT_FOR_TOKEN, SEND)
            assert state["Parameters"]["MessageBody"]["task"] in registry.TASKS


def test_every_schedule_names_a_registered_task():
    tasks = registry.load_all()
    assert SCHEDULES
    for schedule in SCHEDULES:
        assert schedule.task in tasks, schedule


# --- no transient SQS error strands an order (issue 14, item 9) ----------------------------------------
# What Step Functions' SQS integration fails with when SQS is throttled or unreachable (moto's
# interpreter reports every SQS ClientError as the first).
SQS_ERRORS = {"SQS.SdkClientException", "SQS.AmazonSQSException"}
STRANDED = "Cirrus.OrderStranded"


def _tasks(name):
    states = json.loads(stepfunctions.render(name, VALUES))["States"]
    return states, {n: s for n, s in states.items() if s["Type"] == "Task"}


@pytest.mark.parametrize("name", stepfunctions.names())
def test_every_task_retries_sqs_errors_with_backoff_before_anything_else(name):
    _, tasks = _tasks(name)
    assert tasks
    for state_name, state in tasks.items():
        retriers = state.get("Retry", [])
        sqs = [r for r in retriers if set(r["ErrorEquals"]) >= SQS_ERRORS]
        assert len(sqs) == 1, f"{name}.{state_name}: no Retry on SQS errors"
        (retry,) = sqs
        # Only SQS's errors: not States.ALL / States.TaskFailed, which would also retry a worker's
        # Cirrus.Permanent (an order erred for good) or an external party's refusal.
        assert all(e.startswith("SQS.") for e in retry["ErrorEquals"]), state_name
        assert retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 2 and retry["IntervalSeconds"] >= 1
        assert all("States.ALL" not in r["ErrorEquals"] for r in retriers), state_name


@pytest.mark.parametrize("name", stepfunctions.names())
def test_every_task_catches_everything_last(name):
    _, tasks = _tasks(name)
    for state_name, state in tasks.items():
        catchers = state.get("Catch", [])
        assert catchers and catchers[-1]["ErrorEquals"] == ["States.ALL"], f"{name}.{state_name}"
        assert all("States.ALL" not in c["ErrorEquals"] for c in catchers[:-1]), state_name


def test_every_error_path_of_the_order_workflow_errs_the_order_or_ends_alarmed():
    """A Catch leads to a recheck of the order (which answers its state, and is itself caught), to
    MarkErred (the order erred, and caught; not for SQS's errors), or to Stranded: a Fail state
    with its own error, which the OrderStranded alarm watches and the hourly sweep repairs. Nothing
    else: a failure that ends the execution any other way would leave the order waiting unnoticed."""
    states, tasks = _tasks("order")
    stranded = states["Stranded"]
    assert (stranded["Type"], stranded["Error"]) == ("Fail", STRANDED) and stranded["Cause"]
    # Only Stranded fails with that error; erred orders end in Failed (Cirrus.OrderErred).
    assert [n for n, s in states.items() if s.get("Error") == STRANDED] == ["Stranded"]
    mark_erred = states["MarkErred"]
    assert mark_erred["Parameters"]["MessageBody"]["task"] == "marketplace.fail_order"
    rechecks = {
        n for n, s in tasks.items() if s["Parameters"]["MessageBody"]["task"] == "marketplace.recheck_order"
    }
    assert rechecks == {"RecheckConsumer", "RecheckProvider", "RecheckAgent"}
    for state_name, state in tasks.items():
        for catcher in state["Catch"]:
            target = catcher["Next"]
            if catcher["ErrorEquals"] == ["States.ALL"]:
                assert target in ("MarkErred", "Stranded"), f"{state_name} catches into {target}"
            elif SQS_ERRORS & set(catcher["ErrorEquals"]):
                # SQS failing past the retries is not the provider's fault: the order is not erred.
                assert target == "Stranded", f"{state_name} catches SQS errors into {target}"
            else:
                assert target in rechecks, f"{state_name} catches into {target}"
    for last_resort in (mark_erred, *(tasks[n] for n in rechecks)):
        assert [c["Next"] for c in last_resort["Catch"]] == ["Stranded"]
