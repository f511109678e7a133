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
