"""SnapStart runtime hooks (chalicelib/snapstart.py): registered with Lambda's runtime during init,
the before-snapshot hook builds the route table into the snapshot, and after a restore every AWS
client is made anew and `random` draws differently in each restored copy."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import app  # imported here, outside the fake runtime: the tests register for themselves
from chalicelib import snapstart

ROOT = Path(__file__).resolve().parents[2]


class FakeHooks(types.ModuleType):
    """Lambda's `snapshot_restore_py`: records what is registered, runs it as the runtime does."""

    def __init__(self) -> None:
        super().__init__(snapstart.HOOKS_MODULE)
        self.before: list[tuple[Any, tuple[Any, ...]]] = []
        self.after: list[tuple[Any, tuple[Any, ...]]] = []

    def register_before_snapshot(self, func: Any, *args: Any) -> Any:
        self.before.append((func, args))
        return func

    def register_after_restore(self, func: Any, *args: Any) -> Any:
        self.after.append((func, args))
        return func

    def snapshot(self) -> None:
        for func, args in reversed(self.before):  # the runtime runs these in reverse order
            func(*args)

    def restore(self) -> None:
        for func, args in self.after:
            func(*args)


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHooks]:
    fake = FakeHooks()
    monkeypatch.setitem(sys.modules, snapstart.HOOKS_MODULE, fake)
    yield fake


def test_outside_lambda_there_is_nothing_to_register_with():
    assert sys.modules.get(snapstart.HOOKS_MODULE) is None
    assert snapstart.register(object()) is False


def test_the_hooks_are_registered_with_the_runtime(hooks):
    assert snapstart.register(app) is True
    assert hooks.before == [(snapstart.before_snapshot, (app,))]
    assert hooks.after == [(snapstart.after_restore, ())]


def test_before_the_snapshot_the_route_table_is_built(hooks):
    from chalicelib.api import gateway

    gateway.route_table.cache_clear()
    snapstart.register(app)
    hooks.snapshot()
    assert gateway.route_table.cache_info().currsize == 1
    assert gateway.route_table(app).match("/api/customers/") == gateway.Match("/api/customers", {})


def test_after_a_restore_the_aws_clients_are_new(hooks, aws):
    from chalicelib.store.items import BaseItem, CustomerItem
    from chalicelib.workflows import aws as clients

    # GIVEN clients and connections made before the snapshot
    sqs, table = clients.client("sqs"), BaseItem._get_connection()
    assert clients.client("sqs") is sqs and CustomerItem._get_connection() is table  # kept while warm

    # WHEN the environment is restored
    snapstart.register(object())
    hooks.restore()

    # THEN each is made again on next use, and still works
    assert clients.client("sqs") is not sqs
    fresh = CustomerItem._get_connection()
    assert fresh is not table and fresh.connection.client is not table.connection.client
    assert fresh.describe_table()["TableStatus"] == "ACTIVE"


def test_each_restored_copy_draws_its_own_random_numbers(hooks):
    # GIVEN the state of `random` as one snapshot holds it
    snapshot = random.getstate()
    snapstart.register(object())

    # WHEN two environments are restored from it
    draws = []
    for _ in range(2):
        random.setstate(snapshot)
        hooks.restore()
        draws.append([random.random() for _ in range(4)])

    # THEN they draw different numbers (the same jitter everywhere would retry in lockstep)
    assert draws[0] != draws[1]


def test_lambdas_init_registers_the_hooks_and_touches_no_aws():
    # Lambda's init is `import app` (handler `app.api_handler`), in a fresh interpreter
    script = textwrap.dedent(
        f"""
        import json, sys, types
        calls = []
        fake = types.ModuleType({snapstart.HOOKS_MODULE!r})
        fake.register_before_snapshot = lambda func, *args: calls.append(("before", func.__name__))
        fake.register_after_restore = lambda func, *args: calls.append(("after", func.__name__))
        sys.modules[{snapstart.HOOKS_MODULE!r}] = fake
        import app
        from chalicelib.api import gateway
        print(json.dumps({{
            "calls": calls,
            "boto3": "boto3" in sys.modules,
            "tables": gateway.route_table.cache_info().currsize,
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["calls"] == [["before", "before_snapshot"], ["after", "after_restore"]]
    assert seen["boto3"] is False  # no client is built at init, so none is in the snapshot to go stale
    assert seen["tables"] == 0  # the route table waits for the before-snapshot hook or the first request


def test_before_the_snapshot_what_requests_import_lazily_is_imported_and_no_client_built():
    # GIVEN Lambda's init of the API function (`import app`) in a fresh interpreter, with the hooks
    script = textwrap.dedent(
        f"""
        import json, sys, types
        hooks = []
        fake = types.ModuleType({snapstart.HOOKS_MODULE!r})
        fake.register_before_snapshot = lambda func, *args: hooks.append((func, args))
        fake.register_after_restore = lambda func, *args: None
        sys.modules[{snapstart.HOOKS_MODULE!r}] = fake
        import app
        lazy = ["chalicelib.store.tokens", "chalicelib.auth.jwks", "chalicelib.mail", "boto3"]
        before = {{name: name in sys.modules for name in lazy}}
        # WHEN the runtime runs the before-snapshot hook
        for func, args in hooks:
            func(*args)
        from chalicelib.workflows import aws
        print(json.dumps({{
            "before": before,
            "after": {{name: name in sys.modules for name in lazy}},
            "local": any(name.startswith(("chalicelib.local", "chalicelib.ops")) for name in sys.modules),
            "moto": "moto" in sys.modules,
            "clients": aws._client.cache_info().currsize,
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # THEN the modules a first request would import are in the snapshot, not imported after a restore
    assert not any(seen["before"].values()), seen["before"]
    assert all(seen["after"].values()), seen["after"]
    # and nothing of the local stack, and no AWS client (none can carry stale credentials)
    assert (seen["local"], seen["moto"], seen["clients"]) == (False, False, 0)
