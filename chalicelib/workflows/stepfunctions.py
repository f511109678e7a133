"""State machines from `statemachines/*.asl.json`: rendering their `${Placeholders}` (the local stack
and CDK use the same function and names), and starting executions idempotently."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.config import get_settings
from chalicelib.workflows.aws import client

STATEMACHINES_DIR = Path(__file__).resolve().parents[2] / "statemachines"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
# A placeholder standing alone in a JSON string ("${X}") takes the value's JSON type (numbers stay
# numbers), so every ASL file is valid JSON before substitution.
_WHOLE = re.compile(r'"\$\{(\w+)\}"')

# Timing of the shipped workflows on AWS; tests and the local stack pass shorter ones.
DEFAULT_TIMING: dict[str, int] = {
    "StepTimeoutSeconds": 3600,
    "StepHeartbeatSeconds": 300,
    "RetryIntervalSeconds": 10,
    "RetryMaxAttempts": 3,
    # A Task whose message SQS did not take (throttled, a network error) is retried with backoff
    # rate 2, apart from the worker's own failures: 2+4+...+64 s, about 2 minutes, before its Catch.
    "SqsRetryIntervalSeconds": 2,
    "SqsRetryMaxAttempts": 6,
    "CallbackTimeoutSeconds": 7 * 24 * 3600,
    # The order workflow: a pending order not approved within this is canceled; an executing order
    # whose provider's agent has not set it done within this is erred.
    "ApprovalTimeoutSeconds": 30 * 24 * 3600,
    "AgentTimeoutSeconds": 14 * 24 * 3600,
}


# The error of the order workflow's `Stranded` state: it could not go on (SQS kept failing, a
# recheck failed) and left the order as it was. Alarmed (a metric filter on the workflow's execution
# log: erred orders fail their execution too, so ExecutionsFailed can not tell them apart), and
# the hourly sweep (workflows/order_sweep.py) restarts the order's workflow.
ORDER_STRANDED = "Cirrus.OrderStranded"


def names() -> list[str]:
    return sorted(p.name.removesuffix(".asl.json") for p in STATEMACHINES_DIR.glob("*.asl.json"))


def template(name: str) -> str:
    return (STATEMACHINES_DIR / f"{name}.asl.json").read_text()


def placeholders(name: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template(name)))


def render(name: str, values: dict[str, Any]) -> str:
    """The definition with every placeholder replaced; a missing value is an error, not a leftover."""
    text = template(name)
    missing = placeholders(name) - set(values)
    if missing:
        raise KeyError(f"{name}: no value for {sorted(missing)}")
    text = _WHOLE.sub(lambda m: json.dumps(values[m.group(1)]), text)
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def state_machine_name(name: str) -> str:
    return f"{get_settings().resource_prefix}-{name}"


def state_machine_arn(name: str) -> str:
    configured = os.environ.get(f"CIRRUS_STATE_MACHINE_ARN_{name.upper()}")
    if configured:
        return configured
    settings = get_settings()
    return f"arn:aws:states:{settings.region}:{_account()}:stateMachine:{state_machine_name(name)}"


@lru_cache(maxsize=1)
def _account() -> str:
    return os.environ.get("CIRRUS_ACCOUNT_ID") or str(client("sts").get_caller_identity()["Account"])


def start_workflow(name: str, input: dict[str, Any], execution_name: str) -> str:
    """Start `name` as execution `execution_name` (e.g. an order's uuid); a second start of the same
    execution starts nothing and returns the first one's ARN."""
    arn = state_machine_arn(name)
    sfn = client("stepfunctions")
    try:
        response = sfn.start_execution(stateMachineArn=arn, name=execution_name, input=json.dumps(input))
        return str(response["executionArn"])
    except sfn.exceptions.ExecutionAlreadyExists:
        return execution_arn(arn, execution_name)


def execution_arn(state_machine: str, execution_name: str) -> str:
    return state_machine.replace(":stateMachine:", ":execution:") + f":{execution_name}"


def execution_status(name: str, execution_name: str) -> tuple[str | None, str | None]:
    """The status of `name`'s execution `execution_name` (RUNNING, SUCCEEDED, FAILED, TIMED_OUT,
    ABORTED, PENDING_REDRIVE) and the error it failed with, if any; (None, None) if there is no such
    execution (never started, or its history expired)."""
    sfn = client("stepfunctions")
    try:
        described = sfn.describe_execution(
            executionArn=execution_arn(state_machine_arn(name), execution_name)
        )
    except sfn.exceptions.ExecutionDoesNotExist:
        return None, None
    return str(described["status"]), described.get("error")
