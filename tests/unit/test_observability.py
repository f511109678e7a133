"""Log scopes (chalicelib/observability.py): what every line of an invocation carries, that nothing
of it outlives the invocation (a warm container runs the next one), and that concurrent threads (the
local stack's server, pollers and stream reader) do not tag each other's lines. And the runtime
traces nothing: no X-Ray SDK, no powertools Tracer."""

from __future__ import annotations

import ast
import pathlib
import threading
import tomllib
from types import SimpleNamespace

import pytest

from chalicelib import observability
from tests.log_capture import captured_logs

ROOT = pathlib.Path(__file__).resolve().parents[2]


def lambda_context(request_id: str) -> SimpleNamespace:
    return SimpleNamespace(function_name="cirrus-prod-tasks_worker", aws_request_id=request_id)


def test_a_scopes_keys_are_on_every_line_inside_and_gone_after_it():
    with captured_logs() as lines:
        with observability.invocation("task", correlation_id="corr-1", task="test.one"):
            observability.logger().info("inside")
            observability.append_keys(user_uuid="u1")
            observability.logger().warning("later inside")
        observability.logger().info("after")
    inside, later, after = lines
    assert (inside["correlation_id"], inside["entry_point"], inside["task"]) == ("corr-1", "task", "test.one")
    assert later["user_uuid"] == "u1" and later["correlation_id"] == "corr-1"
    assert not {"correlation_id", "entry_point", "task", "user_uuid"} & set(after)
    assert observability.current_keys() == {}


def test_a_nested_scope_gives_the_outer_keys_back_even_when_it_raises():
    with captured_logs() as lines, observability.invocation("task", function_request_id="req-1"):
        with pytest.raises(RuntimeError), observability.invocation(correlation_id="record-1"):
            observability.logger().info("record")
            raise RuntimeError("the record failed")
        observability.logger().info("batch")
    record, batch = lines
    assert (record["correlation_id"], record["function_request_id"]) == ("record-1", "req-1")
    assert "correlation_id" not in batch and batch["function_request_id"] == "req-1"


def test_concurrent_threads_log_their_own_ids_only():
    """The local stack runs requests, pollers and the stream reader as threads of one process."""
    both_inside = threading.Barrier(2)

    def work(correlation_id: str) -> None:
        with observability.invocation("api", correlation_id=correlation_id):
            both_inside.wait(timeout=5)
            observability.logger().info("working", extra={"who": correlation_id})
            both_inside.wait(timeout=5)

    with captured_logs() as lines:
        threads = [threading.Thread(target=work, args=(c,)) for c in ("first", "second")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted((line["who"], line["correlation_id"]) for line in lines) == [
        ("first", "first"),
        ("second", "second"),
    ]


def test_the_first_invocation_of_an_environment_is_its_cold_start(monkeypatch):
    monkeypatch.setattr(observability, "_cold_start", True)
    first = observability.lambda_keys(lambda_context("req-1"))
    second = observability.lambda_keys(lambda_context("req-2"))
    assert first == {
        "function_name": "cirrus-prod-tasks_worker",
        "function_request_id": "req-1",
        "cold_start": True,
    }
    assert second["cold_start"] is False and second["function_request_id"] == "req-2"
    assert observability.lambda_keys(None) == {}  # the local stack's pollers have no Lambda context


def test_the_logger_is_built_on_first_use_not_at_import():
    import subprocess
    import sys

    probe = "import sys, app, chalicelib.observability; print('aws_lambda_powertools' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- no tracing ---------------------------------------------------------------------------------------
def _runtime_sources() -> list[pathlib.Path]:
    return [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]


def test_nothing_imports_the_xray_sdk_or_the_powertools_tracer():
    found = []
    for path in _runtime_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            found += [
                f"{path.name}: {n}"
                for n in names
                if "xray" in n.lower() or n.endswith((".Tracer", ".tracing"))
            ]
    assert found == []


def test_the_xray_sdk_is_no_runtime_dependency():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert not [d for d in [*declared, *lines] if "xray" in d.lower()]
