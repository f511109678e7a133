"""Driving queues and workflows under moto: the same consumer the Lambdas run, fed by hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.local.workers import as_lambda_event, deliver_batch
from chalicelib.workflows.aws import client

__all__ = ["TEST_TIMING", "as_lambda_event", "deliver_once", "embedded_stack", "history", "run_until_done"]

# Shortest timings that still let a test worker answer (moto really sleeps in Wait/Retry).
TEST_TIMING = {
    "StepTimeoutSeconds": 6,
    "StepHeartbeatSeconds": 2,
    "RetryIntervalSeconds": 1,
    "RetryMaxAttempts": 3,
    "SqsRetryIntervalSeconds": 1,
    "SqsRetryMaxAttempts": 2,
    "CallbackTimeoutSeconds": 3,
    "ApprovalTimeoutSeconds": 6,
    "AgentTimeoutSeconds": 6,
}


def deliver_once(queue: str, wait: int = 0) -> tuple[int, list[str]]:
    """Receive one batch from `queue`, run it through the consumer, delete what succeeded and make
    what failed visible again at once. Returns (records received, ids of failed records)."""
    delivery = deliver_batch(queue, wait=wait, release_failed=True)
    return delivery.received, delivery.failed


def run_until_done(execution_arn: str, queue: str, timeout: float = 20.0) -> dict[str, Any]:
    """Serve `queue` until the execution leaves RUNNING; returns describe_execution."""
    sfn = client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliver_once(queue)
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise AssertionError(f"{execution_arn} still running after {timeout}s")


def history(execution_arn: str) -> list[dict[str, Any]]:
    return list(client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"])


@contextmanager
def embedded_stack(*, execute: bool = False, timing: dict[str, int] | None = None) -> Iterator[None]:
    """A new moto holding the table, the task queues and the state machines (`execute`: moto runs
    their executions, at TEST_TIMING; else it records them), with the settings, the ports and the
    queue URL cache fresh on the way in and out. The `stack` and `runtime` fixtures, the data-dir
    tests and the benchmarks that need the whole runtime. `timing`: TEST_TIMING's values to change
    (a step that calls a real server needs a longer StepTimeoutSeconds)."""
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.local.aws import create_buckets, create_queues, create_state_machines, create_table
    from chalicelib.services import ports
    from chalicelib.workflows import queues

    reset_settings()
    ports.use(None)
    queues._lookup_url.cache_clear()
    config = {"stepfunctions": {"execute_state_machine": True}} if execute else None
    with mock_aws(config=config):
        create_table(get_settings().table_name)
        create_buckets()
        bootstrap.ensure_ready()
        create_queues(visibility_timeout=30)
        create_state_machines(timing={**TEST_TIMING, **(timing or {})})
        yield
    queues._lookup_url.cache_clear()
    ports.use(None)
    reset_settings()
