"""The stock waldur-site-agent 1.0.7, run as a site runs it (`waldur_site_agent -m <mode> -c <config>`)
from its own virtualenv (.venv-agent, built by `make test`), against `make run` in a subprocess: one
cycle of each mode, with waldur-site-agent's own MockBackend registered as the backend `mock`
(tests/site_agent/cirrus_agent_mock). Every HTTP call the agent made is read from its log; none may
have failed (4xx/5xx).

The world is made through the API as staff: a provider customer with a `Marketplace.Slurm` offering
(usage components cpu and mem: the MockBackend reports those two; accounts named by the user's
Waldur username), a consumer customer with a project whose PI (PROJECT.MANAGER) is a user, and a
Create order of the offering. The agent signs in with the provider owner's token. The site's
accounting (`SITE`: the PI's account already on the allocation, and the usage by user) is what
the backend reports (tests/site_agent/cirrus_agent_mock).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.test_local_stack import ROOT, Stack

pytestmark = pytest.mark.agent

AGENT = ROOT / ".venv-agent" / "bin" / "waldur_site_agent"
RUN_LIMIT = 60.0  # seconds one mode's cycle may take
QUIET = 3.0  # a polling mode's cycle is over when it has made no call for this long (it then sleeps a minute)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str
    status: int

    def __str__(self) -> str:
        return f"{self.method} {self.path}{'?' + self.query if self.query else ''} -> {self.status}"


@dataclass
class World:
    api: str  # http://127.0.0.1:<port>/api/
    agent_api: str  # the recorder in front of it, which the agent is given
    staff_token: str
    seller_token: str
    offering: str
    project: str
    order: str
    resource: str
    pi_username: str


class Recorder:
    """A recording reverse proxy in front of the stack: the agent's api_url points here, and every
    call it makes is kept (method, path, query, status) as it passes. The agent logs no HTTP call
    of its own (httpx's logger is not configured), so this is where its calls are read."""

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.calls: list[Call] = []
        self.last = time.monotonic()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                path, _, query = self.path.partition("?")
                recorder.calls.append(Call(self.command, path, query, answer.status))
                recorder.last = time.monotonic()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                upstream.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def since(self, start: int) -> list[Call]:
        return list(self.calls[start:])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def failed(calls: list[Call]) -> list[str]:
    return [str(c) for c in calls if c.status >= 400]


# --- the stack and the world ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not AGENT.exists():
        pytest.fail("the stock site agent is not installed: run `make .venv-agent/.installed`")
    running = Stack()
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
            try:
                running.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait(timeout=10)


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.session.request(method, self.base + path, timeout=30, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any, expect: int = 201) -> Any:
        return self.call("POST", path, expect, json=body)


def _user(staff: Api, base: str, username: str) -> tuple[dict[str, Any], str]:
    password = f"{username}-Secret-pw-1"
    body = {"username": username, "password": password, "email": f"{username}@example.org"}
    user = staff.post("users/", body | {"full_name": username.title()})
    login = requests.post(base.replace("/api/", "/api-auth/password/"),
                          json={"username": username, "password": password}, timeout=30)  # fmt: skip
    assert login.status_code == 200, login.text
    return user, login.json()["token"]


COMPONENTS = [
    {"type": t, "name": t.upper(), "measured_unit": u, "billing_type": "usage", "limit_period": "month",
     "limit_amount": 100000} for t, u in (("cpu", "cpu-minutes"), ("mem", "MB-minutes"))
]  # fmt: skip


@pytest.fixture(scope="module")
def base_url(stack: Stack) -> str:
    return stack.wait_for(r"Cirrus is running on (http://127\.0\.0\.1:\d+/api/)", timeout=120).group(1)


@pytest.fixture(scope="module")
def recorder(base_url: str) -> Iterator[Recorder]:
    running = Recorder(base_url)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def world(stack: Stack, base_url: str, recorder: Recorder) -> World:
    return make_world(stack, base_url, recorder, COMPONENTS)


def make_world(
    stack: Stack,
    base: str,
    recorder: Recorder,
    components: list[dict[str, Any]],
    limits: dict[str, int] | None = None,
) -> World:
    """The provider, its `Marketplace.Slurm` offering with these `components`, the consumer's
    project with its PI, and a Create order of the offering (with these `limits`), made through
    the API as staff."""
    token = stack.wait_for(r"token: +([0-9a-f]{40})").group(1)
    staff = Api(base, token)
    seller, seller_token = _user(staff, base, "hpc-seller")
    pi, _ = _user(staff, base, "pi-alice")

    provider = staff.post("customers/", {"name": "HPC Centre"})
    staff.post(f"customers/{provider['uuid']}/add_user/", {"user": seller["uuid"], "role": "CUSTOMER.OWNER"})
    category = staff.post("marketplace-categories/", {"title": "HPC"})
    usage_plan = {"name": "Usage", "unit": "month", "unit_price": "0", "prices": {"cpu": "0.01"}}
    offering = staff.post("marketplace-provider-offerings/", {
        "name": "Cluster", "type": "Marketplace.Slurm", "category": category["url"],
        "customer": provider["url"], "components": components, "plans": [usage_plan],
        "plugin_options": {"username_generation_policy": "waldur_username"},
    })  # fmt: skip
    staff.post(f"marketplace-provider-offerings/{offering['uuid']}/activate/", {}, 200)

    consumer = staff.post("customers/", {"name": "University"})
    project = staff.post("projects/", {"name": "Climate", "customer": consumer["url"]})
    staff.post(f"projects/{project['uuid']}/add_user/", {"user": pi["uuid"], "role": "PROJECT.MANAGER"})
    plan = staff.get(f"marketplace-public-offerings/{offering['uuid']}/")["plans"][0]
    order = staff.post("marketplace-orders/", {
        "project": project["url"], "offering": offering["url"], "plan": plan["url"],
        "attributes": {"name": "climate-alloc"}, "limits": limits or {}, "type": "Create",
    })  # fmt: skip
    return World(base, recorder.url, token, seller_token, offering["uuid"], project["uuid"], order["uuid"],
                 order["marketplace_resource_uuid"], pi["username"])  # fmt: skip


def config_of(world: World, tmp: Path, name: str = "agent-config.yaml", extra: str = "") -> Path:
    """The agent's configuration, as a site writes it; `extra`: more keys of the offering."""
    path = tmp / name
    path.write_text(
        f"""sentry_dsn: ""
timezone: "UTC"
offerings:
  - name: "Cluster"
    waldur_api_url: "{world.agent_api}"
    waldur_api_token: "{world.seller_token}"
    waldur_offering_uuid: "{world.offering}"
    backend_type: "mock"
    order_processing_backend: "mock"
    reporting_backend: "mock"
    membership_sync_backend: "mock"
    verify_ssl: false
    backend_settings: {{}}
    backend_components:
      cpu:
        measured_unit: "cpu-minutes"
        unit_factor: 1
        accounting_type: "usage"
        label: "CPU"
      mem:
        measured_unit: "MB-minutes"
        unit_factor: 1
        accounting_type: "usage"
        label: "Memory"
"""
        + extra
    )
    return path


# --- running the agent --------------------------------------------------------------------------------
@dataclass
class Run:
    log: str
    calls: list[Call]

    def failed(self) -> list[str]:
        return [str(c) for c in self.calls if c.status >= 400]

    def mock_backend_ids(self) -> list[str]:
        """The backend ids the MockBackend made (its `create_resource` operation log)."""
        return re.findall(r"'operation': 'create_resource', 'backend_id': '([^']*)'", self.log)


def site_of(world: World) -> dict[str, Any]:
    """The site's accounting the MockBackend reports: the PI's account is on the allocation (a
    sync that saw no offering users would remove it), and this month's usage, by user."""
    pi = world.pi_username
    usage = {"TOTAL_ACCOUNT_USAGE": {"cpu": 12.0, "mem": 3072.0}, pi: {"cpu": 7.5, "mem": 2048.0}}
    return {"users": [pi], "usage": usage}


def mock_operations(log: str, operation: str) -> list[list[str]]:
    """The usernames of each MockBackend `operation` the agent ran (its operation log lines)."""
    found = re.findall(rf"'operation': '{operation}', 'backend_id': '[^']*', 'username[s]?': ([^}}]*)}}", log)
    return [re.findall(r"'([^']*)'", names) for names in found]


def run_agent(
    mode: str,
    config: Path,
    recorder: Recorder,
    finished: Callable[[], bool] = lambda: True,
    site: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    """Run the agent in `mode` for one cycle: until `finished()` holds and it has made no call for
    QUIET seconds (its loops then sleep a minute or more), at most RUN_LIMIT seconds; then stop it.
    Its log and the calls it made, each printed (pytest -s shows them). `env`: more of its environment."""
    log = config.parent / f"{mode}.log"
    first = len(recorder.calls)
    with log.open("w") as out:
        environment = {**os.environ, "CIRRUS_AGENT_MOCK_SITE": json.dumps(site or {}), **(env or {})}
        agent = subprocess.Popen([str(AGENT), "-m", mode, "-c", str(config)], cwd=log.parent,
                                 stdout=out, stderr=subprocess.STDOUT, env=environment)  # fmt: skip
        deadline = time.monotonic() + RUN_LIMIT
        try:
            while agent.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
                made = len(recorder.calls) > first
                if made and time.monotonic() - recorder.last > QUIET and finished():
                    break
        finally:
            if agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
                try:
                    agent.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    agent.kill()
                    agent.wait(timeout=10)
    run = Run(log.read_text(), recorder.since(first))
    print(f"\n--- {mode}: {len(run.calls)} HTTP calls, {len(run.failed())} failed")
    for c in run.calls:
        print(f"  {c}")
    return run


@pytest.fixture(scope="module")
def config(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return config_of(world, tmp_path_factory.mktemp("agent"))


# --- the modes ------------------------------------------------------------------------------------------
# One cycle of each mode, in a site's order (each needs what the one before made), in one test: pytest-xdist
# may not split them across workers, and one mode failing must not hide what the next ones do.
def order_process_makes_the_resource_and_finishes_the_order(
    world: World, config: Path, recorder: Recorder
) -> None:
    staff = Api(world.api, world.staff_token)

    def finished() -> bool:
        return staff.get(f"marketplace-orders/{world.order}/")["state"] in ("done", "erred")

    run = run_agent("order_process", config, recorder, finished)

    order = staff.get(f"marketplace-orders/{world.order}/")
    resource = staff.get(f"marketplace-resources/{world.resource}/")
    assert order["state"] == "done", f"order {order['state']}; failed calls: {run.failed()}"
    assert resource["state"] == "OK"
    [made] = run.mock_backend_ids()
    assert "unset" not in made, f"the MockBackend built its id from an unset value: {made}"
    assert resource["backend_id"] == made
    assert run.failed() == []


def report_sends_the_usages(world: World, config: Path, recorder: Recorder) -> None:
    staff = Api(world.api, world.staff_token)

    def finished() -> bool:
        return bool(staff.get("marketplace-component-usages/", resource_uuid=world.resource))

    run = run_agent("report", config, recorder, finished, site_of(world))

    usages = staff.get("marketplace-component-usages/", resource_uuid=world.resource)
    # The MockBackend reports cpu and mem; the agent sends those the offering has (a Marketplace.Slurm
    # offering has cpu, gpu and ram in Cirrus, so cpu).
    offered = {
        c["type"] for c in staff.get(f"marketplace-provider-offerings/{world.offering}/")["components"]
    }
    assert sorted(u["type"] for u in usages) == sorted({"cpu", "mem"} & offered), (
        f"failed calls: {run.failed()}"
    )
    totals = site_of(world)["usage"]["TOTAL_ACCOUNT_USAGE"]
    assert {u["type"]: u["usage"] for u in usages} == {t: f"{totals[t]:.2f}" for t in offered & set(totals)}
    # ... and the PI's share of each, against the PI's offering user
    shares = staff.get("marketplace-component-user-usages/", resource_uuid=world.resource)
    mine = site_of(world)["usage"][world.pi_username]
    assert {(s["component_type"], s["username"], s["usage"]) for s in shares} == {
        (t, world.pi_username, f"{mine[t]:.2f}") for t in offered & set(mine)
    }
    [account] = staff.get("marketplace-offering-users/", offering_uuid=world.offering)
    assert {s["user"] for s in shares} == {account["url"]}
    assert run.failed() == []


def membership_sync_keeps_the_pi(world: World, config: Path, recorder: Recorder) -> None:
    staff = Api(world.api, world.staff_token)
    run = run_agent("membership_sync", config, recorder, site=site_of(world))

    users = staff.get("marketplace-offering-users/", offering_uuid=world.offering)
    assert [(u["user_username"], u["username"], u["state"]) for u in users] == [
        (world.pi_username, world.pi_username, "OK")
    ], f"failed calls: {run.failed()}"
    # The PI, already on the allocation, stays; nobody is removed.
    assert mock_operations(run.log, "add_users_to_resource"), "the sync never ran"
    removed = mock_operations(run.log, "remove_users_from_resource") + mock_operations(run.log, "remove_user")
    assert [name for names in removed for name in names] == []
    assert staff.get(f"marketplace-resources/{world.resource}/")["state"] == "OK"
    assert run.failed() == []


def event_process_keeps_to_http_without_a_broker(world: World, config: Path, recorder: Recorder) -> None:
    """Cirrus runs no STOMP broker. A site that turns `stomp_enabled` on gets the agent's initial
    HTTP processing (identity, orders, memberships), then `register_queue/` answers 404 and the
    agent logs that it could not set up the queue and carries on with its periodic HTTP
    reconciliation; nothing is marked Erred."""
    staff = Api(world.api, world.staff_token)
    stomp = ["stomp_enabled: true", 'stomp_ws_host: "127.0.0.1"', "stomp_ws_port: 9", 'stomp_ws_path: "/ws"']
    event_config = config_of(world, config.parent, "event-config.yaml", "".join(f"    {k}\n" for k in stomp))
    run = run_agent("event_process", event_config, recorder)

    assert staff.get(f"marketplace-resources/{world.resource}/")["state"] == "OK"
    assert staff.get(f"marketplace-orders/{world.order}/")["state"] == "done"
    assert any(c.path.endswith("/register_service/") for c in run.calls)
    assert "Unable to register unified event queue" in run.log
    assert [c for c in run.failed() if "/register_queue/" not in c] == []
    assert [c.status for c in run.calls if c.path.endswith("/register_queue/")] == [404]


MODES: tuple[tuple[str, Callable[[World, Path, Recorder], None]], ...] = (
    ("order_process", order_process_makes_the_resource_and_finishes_the_order),
    ("report", report_sends_the_usages),
    ("membership_sync", membership_sync_keeps_the_pi),
    ("event_process", event_process_keeps_to_http_without_a_broker),
)


def test_every_mode_of_the_stock_agent_completes_its_cycle(
    world: World, config: Path, recorder: Recorder
) -> None:
    problems = {}
    for mode, check in MODES:
        try:
            check(world, config, recorder)
        except AssertionError as failure:
            problems[mode] = str(failure)[:2000]
    assert not problems, "\n\n".join(f"{mode}: {problem}" for mode, problem in problems.items())
