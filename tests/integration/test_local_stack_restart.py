"""`make run` stopped and started again on the same data directory (issue 15): the staff token
printed before still works (and is printed again), the customer lists its projects, and an order
placed just before the stop reaches `done` after the restart."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.test_local_stack import Stack

UUID = r"[0-9a-f]{32}"


# Safety nets, not timings: on a loaded 2-core machine (the suite runs local stacks of other tests, and
# the stock-agent tests' stacks, beside this one) a start, a stop or a workflow takes several times
# what it takes alone.
PATIENCE = 90.0


def api(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Token {token}"} if token else {}),
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=PATIENCE) as response:
        return json.loads(response.read() or b"null")


def stop(stack: Stack) -> None:
    stack.process.send_signal(signal.SIGTERM)
    try:
        assert stack.process.wait(timeout=PATIENCE) == 0
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


def started(data_dir: str) -> tuple[Stack, str, str]:
    stack = Stack(CIRRUS_DATA_DIR=data_dir, CIRRUS_LOCAL_QUIET="1")
    try:
        token = stack.wait_for(r"token: +([0-9a-f]{40})", timeout=PATIENCE).group(1)
        base = stack.wait_for(r"Cirrus is running on (http://127\.0\.0\.1:\d+)/api/", PATIENCE).group(1)
        stack.wait_for(r"billing: +demo resource", timeout=PATIENCE)
    except BaseException:
        stack.process.kill()
        raise
    return stack, token, base


def tail(stack: Stack, lines: int = 60) -> str:
    """The stack's last output lines, read or not yet (printed when a test fails: pytest shows it)."""
    while not stack.lines.empty():
        stack.seen.append(stack.lines.get_nowait())
    return "\n".join(stack.seen[-lines:])


@pytest.fixture
def shown() -> Iterator[list[Stack]]:
    """Stacks whose output a failing test shows."""
    stacks: list[Stack] = []
    yield stacks
    for number, stack in enumerate(stacks, 1):
        print(f"--- stack {number}, last lines:\n{tail(stack)}")


def test_make_run_keeps_its_data_across_a_restart(tmp_path, shown):
    data_dir = str(tmp_path / "data")
    first, token, base = started(data_dir)
    shown.append(first)
    try:
        first.wait_for(rf"data: new data directory {data_dir}$")
        customer = api(base, token, "POST", "/api/customers/", {"name": "Kept Ltd"})
        names = [f"kept-{n}" for n in range(3)]
        projects = [
            api(base, token, "POST", "/api/projects/", {"name": name, "customer": customer["uuid"]})
            for name in names
        ]
        # A project member's order waits for the consumer's approval: its workflow waits on it.
        member = api(base, token, "POST", "/api/users/", {"username": "member", "password": "member-pw-1"})
        api(
            base,
            token,
            "POST",
            f"/api/projects/{projects[0]['uuid']}/add_user/",
            {"user": member["uuid"], "role": "PROJECT.MEMBER"},
        )
        member_token = api(
            base, "", "POST", "/api-auth/password/", {"username": "member", "password": "member-pw-1"}
        )["token"]
        [offering] = api(base, token, "GET", "/api/marketplace-public-offerings/")
        order = api(
            base,
            member_token,
            "POST",
            "/api/marketplace-orders/",
            {
                "project": projects[0]["uuid"],
                "offering": offering["uuid"],
                "plan": offering["plans"][0]["uuid"],
                "attributes": {"name": "placed-before-stop"},
                "limits": {"cpu": 1},
            },
        )
        assert order["state"] == "pending-consumer"
    finally:
        stop(first)
    saved = first.wait_for(
        r"data: saved (\d+) items and (\d+) queued messages to (\S+) in \d+\.\d\d s", timeout=PATIENCE
    )
    assert saved.group(3) == data_dir and int(saved.group(1)) > 0

    second, again, base = started(data_dir)
    shown.append(second)
    try:
        resumed = second.wait_for(
            r"data: resumed (\d+) items and (\d+) queued messages from (\S+) in \d+\.\d\d s", PATIENCE
        )
        assert resumed.group(1) == saved.group(1) and resumed.group(3) == data_dir
        assert again == token  # the same token is printed, and it works
        listed = api(base, token, "GET", f"/api/projects/?customer={customer['uuid']}&o=name")
        assert [p["name"] for p in listed] == names
        # Approved after the restart (as consumer, then as the demo offering's provider, whose
        # approval is all it does): only a workflow given back to the order takes it to done.
        api(base, token, "POST", f"/api/marketplace-orders/{order['uuid']}/approve_by_consumer/", {})
        deadline = time.monotonic() + PATIENCE
        provider_approved = False
        while (
            state := api(base, member_token, "GET", f"/api/marketplace-orders/{order['uuid']}/")["state"]
        ) != "done":
            assert state != "erred" and time.monotonic() < deadline, f"the order is still {state}"
            if state == "pending-provider" and not provider_approved:
                api(base, token, "POST", f"/api/marketplace-orders/{order['uuid']}/approve_by_provider/", {})
                provider_approved = True
            time.sleep(0.3)
    finally:
        stop(second)


def test_a_start_that_fails_ends_the_process(tmp_path):
    """A start that raises (here: its API port is taken) prints why and exits; its moto server and
    worker threads used to keep the process alive, serving nothing, until killed."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        stack = Stack(CIRRUS_PORT=port, CIRRUS_DATA_DIR=str(tmp_path / "data"), CIRRUS_LOCAL_QUIET="1")
        try:
            assert stack.process.wait(timeout=60) == 1
        finally:
            if stack.process.poll() is None:
                stack.process.kill()
        stack.wait_for("Address already in use|OSError", timeout=5)
