"""`make run` (`python -m chalicelib.local`) as a user starts it, in a subprocess: state machines
run on the moto server, the pollers answer their Task states, the ticker fires the rate schedules at
start, and SIGTERM stops it all."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.local.aws import free_port

ROOT = Path(__file__).resolve().parents[2]
PURGES = ("maintenance.purge_expired_tokens ok", "maintenance.purge_login_lockouts ok")


class Stack:
    """`make run` in a subprocess; it keeps no data (CIRRUS_DATA_DIR=none) unless `env` says."""

    def __init__(self, **env_vars: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIRRUS_")}
        env.update(
            CIRRUS_PORT=str(free_port()),
            CIRRUS_PASSWORD_ITERATIONS="1000",
            CIRRUS_DATA_DIR="none",
            PYTHONUNBUFFERED="1",
        )
        env.update(env_vars)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        for line in self.seen:
            if match := re.search(pattern, line):
                return match
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matching {pattern!r}; output so far:\n" + "\n".join(self.seen))


@pytest.fixture
def stack() -> Iterator[Stack]:
    running = Stack()
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
            try:
                running.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                running.process.kill()
                raise


def test_make_run_executes_workflows_and_fires_schedules(stack):
    endpoint = stack.wait_for(r"moto at (http://127\.0\.0\.1:\d+)").group(1)
    stack.wait_for(r"work: +queues tasks, heavy, background \(\+ DLQs\) served by 3 workers; ticker")
    stack.wait_for(
        r"catalog: +offering http://127\.0\.0\.1:\d+/api/marketplace-public-offerings/[0-9a-f]{32}/"
    )
    for done in PURGES:
        stack.wait_for(f"worker background: .*{re.escape(done)}")

    sfn: Any = boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    [machine] = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "cirrus-provider_step"]
    arn = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"],
        name="local-echo",
        input=json.dumps({"step": "cirrus.echo", "input": {"hello": "make run"}, "context": {}}),
    )["executionArn"]
    deadline = time.monotonic() + 10
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the echo execution is still running"
        time.sleep(0.1)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"hello": "make run"}
    stack.wait_for("worker heavy: workflows.run_step ok")

    stack.process.send_signal(signal.SIGTERM)
    # The stop lets in-flight batches finish: over 15 s under the full suite's load.
    assert stack.process.wait(timeout=45) == 0
    stack.wait_for("Stopping Cirrus")
