#!/usr/bin/env python
"""What share of the API requests Waldur's own clients send are writes, measured against the local stack.

    .venv/bin/python bench/client_mix.py                  # both clients, then bench/client_mix.json
    .venv/bin/python bench/client_mix.py --only homeport  # one client (the other is kept from the file)
    .venv/bin/python bench/client_mix.py --ui-sessions-per-day 500 --agent-offerings 20 --recompute

bench/cost.py prices a write at about ten reads (the item's, its audit event's and its feed copies'
DynamoDB write units), so the write share of the traffic is its largest unknown; its default comes
from here (`client_mix.json`). Two of Waldur's clients are driven, unmodified, against
`python -m chalicelib.local` (CIRRUS_DATA_DIR=none, a free loopback port unless --port), one at a time:

- HomePort, Waldur's web UI (the build tests/browser uses), in headless Chromium through Playwright
  (tests/browser/harness.py starts the stack and signs in): a session of staff and one of the demo
  owner (sign in, organisations, the organisation's dashboard and projects, a project and its
  resources, a resource, the marketplace and an offering, an order placed and approved on its page,
  the order and resource lists, billing and an invoice, events, the teams, the profile's events),
  moving inside the page as a user's clicks do. Every request the browser sends to /api/ or
  /api-auth/ is counted (Playwright's request events).
- waldur-site-agent, stock, from .venv-agent with the repo's mock backend plugin, as a site runs it
  (`waldur_site_agent -m <mode> -c <config>`): `order_process`, `report` and `membership_sync`, each
  for `--agent-cycles` cycles (its loop wakes every 60 s; the period is set to 0 so each wake-up is a
  cycle) against an offering with `--resources` Create orders and three project members. Its calls
  are counted by the recording proxy of tests/site_agent (the agent's api_url points at it).
  A daily figure per offering weighs each mode's steady cycle (its last) by the cycles a day at the
  agent's default periods (read from its code), plus what processing one order adds.

python-waldur-client is a library driven by a site's own scripts: no traffic of its own to measure.

The combined write share weighs `--ui-sessions-per-day` sessions (half staff, half owner; each
places one order) against `--agent-offerings` offerings polled by all three modes, whose orders
(`--agent-orders-per-day` each) the agent processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUTPUT = HERE / "client_mix.json"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
MODES = ("order_process", "report", "membership_sync")
# waldur-site-agent's defaults (waldur_site_agent/common/__init__.py, WALDUR_SITE_AGENT_*_PERIOD_MINUTES)
DEFAULT_PERIOD_MINUTES = {"order_process": 5.0, "report": 30.0, "membership_sync": 5.0}
PERIOD_VARIABLE = {m: f"WALDUR_SITE_AGENT_{m.upper()}_PERIOD_MINUTES" for m in MODES}
CYCLE_GAP = 20.0  # s: calls further apart than this are different cycles (the loop wakes every 60 s)
ID = re.compile(
    r"^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)$", re.IGNORECASE
)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- counting ---------------------------------------------------------------------------------------
def template(path: str) -> str:
    """The path without its query, each id (a uuid, hex or dashed, or a number) as `{id}`."""
    path = path.split("?", 1)[0]
    return "/".join("{id}" if ID.match(part) else part for part in path.split("/"))


def write_share(by_method: Mapping[str, float]) -> float:
    total = sum(by_method.values())
    return sum(n for m, n in by_method.items() if m in WRITES) / total if total else 0.0


def tally(calls: list[tuple[str, str]]) -> dict[str, Any]:
    """Counts of (method, path) pairs: by method, by `METHOD template`, and the write share."""
    by_method = Counter(method for method, _ in calls)
    by_path = Counter(f"{method} {template(path)}" for method, path in calls)
    return {
        "requests": len(calls),
        "by_method": dict(sorted(by_method.items())),
        "write_share": round(write_share(by_method), 4),
        "by_path": dict(sorted(by_path.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def add(*counts: Mapping[str, float], weights: tuple[float, ...] | None = None) -> dict[str, float]:
    total: dict[str, float] = {}
    for count, weight in zip(counts, weights or (1.0,) * len(counts), strict=True):
        for method, n in count.items():
            total[method] = total.get(method, 0.0) + n * weight
    return dict(sorted(total.items()))


# --- HomePort ------------------------------------------------------------------------------------------
def drive_homeport(port: int | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.browser.harness import CHROMIUM_ARGS, OUTPUT, LocalStack, chromium_path, homeport_dir
    from tests.browser.harness import missing_requirement as missing

    if reason := missing():
        raise SystemExit(f"HomePort cannot be driven here: {reason}")
    build = homeport_dir()
    assert build is not None
    env = {"CIRRUS_PORT": str(port)} if port else {}
    stack = LocalStack(OUTPUT / "client-mix-stack.log", build, env)
    try:
        banner = stack.banner()
        print(f"HomePort: local stack at {banner.url}", file=sys.stderr)
        sessions: dict[str, Any] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
            )
            try:
                for who in ("staff", "owner"):
                    sessions[who] = _homeport_session(browser, banner, who)
            finally:
                browser.close()
    finally:
        stack.stop()
    total = add(*(s["by_method"] for s in sessions.values()))
    per_session = {m: n / len(sessions) for m, n in total.items()}
    return {
        "driven": (
            "HomePort (the tests/browser build) in headless Chromium via Playwright against the local "
            "stack; one session as staff, one as the demo owner; every browser request to /api/ and "
            "/api-auth/ counted"
        ),
        "sessions": sessions,
        "per_session": {"by_method": per_session, "write_share": round(write_share(per_session), 4)},
    }


def _homeport_session(browser: Any, banner: Any, who: str) -> dict[str, Any]:
    """One user's session in HomePort; its API requests, counted as the browser sends them."""
    from tests.browser.harness import Portal
    from tests.browser.test_marketplace_journeys import _approve_on_the_orders_page, _place_order
    from tests.browser.test_org_journeys import follow, this_months_invoice
    from tests.browser.test_resource_journeys import demo_resource

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    base = banner.url.rstrip("/")
    calls: list[tuple[str, str]] = []

    def on_request(request: Any) -> None:
        url = request.url
        if url.startswith(base):
            path = url[len(base) :]
            if path.startswith(("/api/", "/api-auth/")):
                calls.append((request.method, path))

    context.on("request", on_request)
    portal = Portal(context, banner.url, who)
    org, project = f"/organizations/{banner.customer_id}", f"/projects/{banner.project_id}"
    resource = demo_resource(banner)["uuid"]
    invoice, _ = this_months_invoice(banner)
    order_name = f"{who}-mix-vm"
    order: dict[str, Any] = {}

    def place() -> None:
        order.update(_place_order(portal, banner, order_name, cores=2))

    steps: list[tuple[str, Any]] = [
        ("sign in", lambda: portal.sign_in(*(banner.staff if who == "staff" else banner.owner))),
        ("organizations", lambda: follow(portal, "/organizations/")),
        ("organization dashboard", lambda: follow(portal, f"{org}/dashboard/")),
        ("organization projects", lambda: follow(portal, f"{org}/projects/")),
        ("project dashboard", lambda: follow(portal, f"{project}/")),
        ("project resources", lambda: follow(portal, f"{project}/resources/")),
        ("a resource", lambda: follow(portal, f"/resource-details/{resource}")),
        ("marketplace", lambda: follow(portal, "/marketplace/")),
        ("an offering", lambda: follow(portal, f"/marketplace-public-offering/{banner.offering_id}/")),
        ("place an order", place),
        ("the order's page, approved", lambda: _approve_on_the_orders_page(portal, order, order_name)),
        ("orders list", lambda: follow(portal, "/marketplace-orders/")),
        ("all resources", lambda: follow(portal, "/all-resources/")),
        ("billing", lambda: follow(portal, f"{org}/billing/")),
        ("an invoice", lambda: follow(portal, f"{org}/billing/{invoice}/")),
        ("organization events", lambda: follow(portal, f"{org}/events/")),
        ("organization team", lambda: follow(portal, f"{org}/users/")),
        ("project team", lambda: follow(portal, f"{project}/users/")),
        ("profile events", lambda: follow(portal, "/profile/events/")),
    ]
    done: list[dict[str, Any]] = []
    try:
        for label, step in steps:
            first = len(calls)
            problem = None
            try:
                step()
            except Exception as error:  # measure on; the step's trouble is reported with its counts
                problem = str(error).splitlines()[0][:300]
            made = Counter(method for method, _ in calls[first:])
            done.append({"step": label, "by_method": dict(made), **({"problem": problem} if problem else {})})
            print(
                f"  {who}: {label}: {dict(made)}{' PROBLEM ' + problem if problem else ''}", file=sys.stderr
            )
    finally:
        context.close()
    return {**tally(calls), "steps": done}


# --- waldur-site-agent ------------------------------------------------------------------------------
class TimedCalls(list):  # type: ignore[type-arg]
    """The recorder's call list, with when each call came."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, call: Any) -> None:
        self.times.append(time.monotonic())
        super().append(call)


def cycles_of(times: list[float], gap: float = CYCLE_GAP) -> list[tuple[int, int]]:
    """(first, end) index ranges of the calls, split where they are more than `gap` seconds apart."""
    ranges: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(times)):
        if times[i] - times[i - 1] > gap:
            ranges.append((start, i))
            start = i
    if times:
        ranges.append((start, len(times)))
    return ranges


def drive_agent(port: int | None, cycles: int, resources: int) -> dict[str, Any]:
    from tests.integration.test_local_stack import Stack
    from tests.site_agent.test_stock_agent import (
        AGENT,
        COMPONENTS,
        Api,
        Recorder,
        _user,
        config_of,
        make_world,
        site_of,
    )

    if not AGENT.exists():
        raise SystemExit(f"no stock site agent at {AGENT}: run `make .venv-agent/.installed`")
    stack = Stack(**({"CIRRUS_PORT": str(port)} if port else {}))
    recorder = None
    try:
        base = stack.wait_for(r"Cirrus is running on (http://127\.0\.0\.1:\d+/api/)", timeout=240).group(1)
        print(f"site agent: local stack at {base}", file=sys.stderr)
        recorder = Recorder(base)
        recorder.calls = TimedCalls()
        world = make_world(stack, base, recorder, COMPONENTS)
        staff = Api(base, world.staff_token)
        offering = staff.get(f"marketplace-public-offerings/{world.offering}/")
        project = staff.get(f"projects/{world.project}/")
        for n in range(2, resources + 1):  # the world's order is the first
            staff.post("marketplace-orders/", {
                "project": project["url"], "offering": offering["url"], "plan": offering["plans"][0]["url"],
                "attributes": {"name": f"alloc-{n}"}, "limits": {}, "type": "Create",
            })  # fmt: skip
        members = [world.pi_username]
        for name in ("member-bob", "member-carol"):
            user, _ = _user(staff, base, name)
            staff.post(
                f"projects/{world.project}/add_user/", {"user": user["uuid"], "role": "PROJECT.MEMBER"}
            )
            members.append(name)
        site = site_of(world) | {"users": members}
        workdir = ROOT / "test-output" / "client-mix-agent"
        workdir.mkdir(parents=True, exist_ok=True)
        config = config_of(world, workdir)
        modes = {mode: _run_mode(mode, config, recorder, cycles, site) for mode in MODES}
        orders = staff.get("marketplace-orders/", offering_uuid=world.offering)
    finally:
        if recorder is not None:
            recorder.stop()
        _stop(stack.process)
    order_states = Counter(o["state"] for o in orders)
    # What one order adds to order_process: its first cycle (all the orders pending) over its steady one.
    first, steady = modes["order_process"]["cycles"][0], modes["order_process"]["steady_cycle"]
    per_order = {
        m: max(0.0, (first["by_method"].get(m, 0) - steady["by_method"].get(m, 0)) / resources)
        for m in set(first["by_method"]) | set(steady["by_method"])
    }
    per_day = add(
        *(modes[m]["steady_cycle"]["by_method"] for m in MODES),
        weights=tuple(24 * 60 / DEFAULT_PERIOD_MINUTES[m] for m in MODES),
    )
    return {
        "driven": (
            f"stock waldur-site-agent ({_agent_version()}) from .venv-agent with the repo's mock backend "
            f"(tests/site_agent/cirrus_agent_mock), `waldur_site_agent -m <mode> -c <config>`, each mode for "
            f"{cycles} cycles (period 0: a cycle at each 60 s wake-up), one offering with {resources} Create "
            f"orders and {len(members)} project members; calls counted by the recording proxy of "
            "tests/site_agent between the agent and the stack"
        ),
        "resources": resources,
        "orders_after": dict(order_states),
        "default_period_minutes": DEFAULT_PERIOD_MINUTES,
        "modes": modes,
        "per_order": {
            "by_method": dict(sorted(per_order.items())),
            "write_share": round(write_share(per_order), 4),
        },
        "per_offering_day": {"by_method": per_day, "write_share": round(write_share(per_day), 4)},
    }


def _agent_version() -> str:
    from tests.site_agent.test_stock_agent import AGENT

    python = AGENT.parent / "python"
    found = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('waldur-site-agent'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"waldur-site-agent {found.stdout.strip() or '?'}"


def _run_mode(mode: str, config: Path, recorder: Any, cycles: int, site: dict[str, Any]) -> dict[str, Any]:
    from tests.site_agent.test_stock_agent import AGENT

    calls: TimedCalls = recorder.calls
    first = len(calls)
    env = {**os.environ, "CIRRUS_AGENT_MOCK_SITE": json.dumps(site), PERIOD_VARIABLE[mode]: "0"}
    log = config.parent / f"{mode}.log"
    started = time.monotonic()
    with log.open("w") as out:
        agent = subprocess.Popen(
            [str(AGENT), "-m", mode, "-c", str(config)],
            cwd=config.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = started + 60 * cycles + 60
        try:
            while agent.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
                seen = cycles_of(calls.times[first:])
                if len(seen) >= cycles and time.monotonic() - calls.times[-1] > 5:
                    break
        finally:
            _stop(agent)
    mine = list(calls[first:])
    ranges = cycles_of(calls.times[first:])
    runs = [tally([(c.method, c.path) for c in mine[a:b]]) for a, b in ranges]
    failed = [str(c) for c in mine if c.status >= 400]
    for i, run in enumerate(runs, 1):
        print(f"  {mode} cycle {i}: {run['by_method']}", file=sys.stderr)
    if not runs:
        raise SystemExit(f"the agent made no call in {mode}; see {log}")
    return {
        "seconds": round(time.monotonic() - started, 1),
        "cycles": runs,
        "steady_cycle": runs[-1],
        "failed_calls": failed[:20],
    }


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- the combination and the report ---------------------------------------------------------------------
def combine(result: dict[str, Any], sessions: float, offerings: float, orders: float) -> dict[str, Any]:
    """Requests a day of `sessions` HomePort sessions and `offerings` agent-polled offerings, each
    processing `orders` orders a day; their write share and each client's part of it."""
    clients = result.get("clients", {})
    parts: dict[str, dict[str, float]] = {}
    if "homeport" in clients:
        parts["homeport"] = add(clients["homeport"]["per_session"]["by_method"], weights=(sessions,))
    if "site_agent" in clients:
        agent = clients["site_agent"]
        parts["site_agent"] = add(
            agent["per_offering_day"]["by_method"],
            agent["per_order"]["by_method"],
            weights=(offerings, offerings * orders),
        )
    total = add(*parts.values()) if parts else {}
    requests = sum(total.values())
    shares = {k: write_share(v) for k, v in parts.items()}
    # The same two clients at other proportions: the write share if the agents' part of the requests were f.
    sensitivity = (
        {
            f"{f:.0%}": round(shares["homeport"] + f * (shares["site_agent"] - shares["homeport"]), 4)
            for f in (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
        }
        if len(shares) == 2
        else {}
    )
    return {
        "weights": {
            "ui_sessions_per_day": sessions,
            "agent_offerings": offerings,
            "agent_orders_per_offering_per_day": orders,
            "agent_periods_minutes": DEFAULT_PERIOD_MINUTES,
        },
        "requests_per_day": {k: round(sum(v.values())) for k, v in parts.items()},
        "share_of_requests": {k: round(sum(v.values()) / requests, 4) for k, v in parts.items()}
        if requests
        else {},
        "write_share_by_client": {k: round(write_share(v), 4) for k, v in parts.items()},
        "by_method": {m: round(n) for m, n in total.items()},
        "write_share": round(write_share(total), 4),
        "write_share_if_agent_part_of_requests_were": sensitivity,
    }


def _table(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    methods = [m for m in ("GET", "HEAD", "OPTIONS", *WRITES) if any(m in c for _, c in rows)]
    out = ["| | " + " | ".join(methods) + " | total | writes |", "|---" * (len(methods) + 3) + "|"]
    for label, counts in rows:
        cells = [f"{counts.get(m, 0):,.0f}" for m in methods]
        out.append(
            f"| {label} | "
            + " | ".join(cells)
            + f" | {sum(counts.values()):,.0f} | {write_share(counts):.1%} |"
        )
    return out


def report(result: dict[str, Any]) -> str:
    out = [f"Client request mix, measured {result.get('date', '?')} against the local stack.", ""]
    clients = result.get("clients", {})
    if hp := clients.get("homeport"):
        out += _homeport_report(hp)
    if ag := clients.get("site_agent"):
        out += _agent_report(ag)
    if combined := result.get("combined"):
        out += _combined_report(combined)
    return "\n".join(out)


def _homeport_report(hp: dict[str, Any]) -> list[str]:
    out = ["**HomePort** (" + hp["driven"] + ")", ""]
    rows = [(f"{who} session", s["by_method"]) for who, s in hp["sessions"].items()]
    out += _table([*rows, ("per session (mean)", hp["per_session"]["by_method"])])
    writes = Counter[str]()
    for s in hp["sessions"].values():
        writes.update({p: n for p, n in s["by_path"].items() if p.split()[0] in WRITES})
    out += ["", "Writes: " + ", ".join(f"{p}: {n}" for p, n in writes.most_common()), ""]
    problems = [f"{who}: {st['step']}: {st['problem']}" for who, s in hp["sessions"].items()
                for st in s["steps"] if "problem" in st]  # fmt: skip
    if problems:
        out += ["Steps with problems (counted as far as they went): " + "; ".join(problems), ""]
    return out


def _agent_report(ag: dict[str, Any]) -> list[str]:
    out = ["**waldur-site-agent** (" + ag["driven"] + ")", ""]
    rows = [
        (f"{mode} cycle {i}", cycle["by_method"])
        for mode, run in ag["modes"].items()
        for i, cycle in enumerate(run["cycles"], 1)
    ]
    rows.append(("one order processed (added)", ag["per_order"]["by_method"]))
    periods = ", ".join(f"{m} every {p:g} min" for m, p in ag["default_period_minutes"].items())
    rows.append((f"per offering per day ({periods}; steady cycles)", ag["per_offering_day"]["by_method"]))
    out += _table(rows)
    writes = Counter[str]()
    for mode, run in ag["modes"].items():
        writes.update({f"{p} ({mode})": n for p, n in run["steady_cycle"]["by_path"].items()
                       if p.split()[0] in WRITES})  # fmt: skip
    out += ["", "Writes in a steady cycle: " + (", ".join(f"{p}: {n}" for p, n in writes.items()) or "none")]
    failed = [c for run in ag["modes"].values() for c in run["failed_calls"]]
    if failed:
        out += ["", "Failed calls: " + "; ".join(failed[:10])]
    return [*out, ""]


def _combined_report(combined: dict[str, Any]) -> list[str]:
    w = combined["weights"]
    out = [
        f"**Combined**: {w['ui_sessions_per_day']:g} HomePort sessions/day (half staff, half owner, one "
        f"order each) + {w['agent_offerings']:g} agent-polled offerings (all three modes at the agent's "
        f"default periods, {w['agent_orders_per_offering_per_day']:g} orders/day each): "
        + ", ".join(
            f"{k} {combined['requests_per_day'][k]:,} requests/day "
            f"({combined['share_of_requests'][k]:.0%} of them, "
            f"{combined['write_share_by_client'][k]:.1%} writes)"
            for k in combined["requests_per_day"]
        )
        + f" → **{combined['write_share']:.1%} writes**.",
    ]
    if sensitivity := combined.get("write_share_if_agent_part_of_requests_were"):
        out += [
            "",
            "Other proportions (the agents' part of all requests → write share): "
            + ", ".join(f"{k} → {v:.1%}" for k, v in sensitivity.items())
            + ".",
        ]
    return out


def load(path: Path = OUTPUT) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=("homeport", "site_agent"), help="drive one client (keep the other's)"
    )
    parser.add_argument(
        "--recompute", action="store_true", help="drive nothing: recombine the file with new weights"
    )
    parser.add_argument("--port", type=int, help="the local stack's port (default: a free one)")
    parser.add_argument("--agent-cycles", type=int, default=2, help="cycles of each agent mode (~60 s each)")
    parser.add_argument("--resources", type=int, default=5, help="Create orders on the agent's offering")
    parser.add_argument("--ui-sessions-per-day", type=float, default=200.0)
    parser.add_argument("--agent-offerings", type=float, default=5.0)
    parser.add_argument("--agent-orders-per-day", type=float, default=2.0, help="per agent-polled offering")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    result = load(args.output)
    result.setdefault("clients", {})
    if not args.recompute:
        if args.only in (None, "homeport"):
            result["clients"]["homeport"] = drive_homeport(args.port)
        if args.only in (None, "site_agent"):
            result["clients"]["site_agent"] = drive_agent(args.port, args.agent_cycles, args.resources)
        result["date"] = dt.date.today().isoformat()
        result["python_waldur_client"] = "not measured: a library driven by a site's own scripts"
    result["combined"] = combine(
        result, args.ui_sessions_per_day, args.agent_offerings, args.agent_orders_per_day
    )
    args.output.write_text(json.dumps(result, indent=1) + "\n")
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
