#!/usr/bin/env python
"""The local stack (`make run`) under growing data, over HTTP: request latency, memory, save and restore.

    .venv/bin/python bench/local_scale.py                  # 1,000 then 10,000 projects (long)
    .venv/bin/python bench/local_scale.py --quick          # 200 then 1,000 projects
    .venv/bin/python bench/local_scale.py --sizes 500 2000 --gets 100 --customers 3

ARCHITECTURE.md and issue 15: the local stack's cost per request must not grow with the table, its
memory must stay bounded and its data must survive a restart. This script starts the stack itself
(`python -m chalicelib.local`, as `make run` does, on a free port, with a temporary CIRRUS_DATA_DIR and
CIRRUS_LOCAL_PROFILE), reads the staff token and the demo customer from its banner, then:

1. creates projects one after another (`POST /api/projects/`, one HTTP request at a time, each also
   writing its creation event) in the demo customer (or spread over `--customers` customers) up to
   the first size, measures, continues to the second size, measures. Measured at each size:
   `GET /api/projects/<uuid>/` of random projects, the demo customer's project list
   (`?customer=<uuid>`: page 1, page N (the page 80% deep at the first size, the same page number
   at the second) and the page 80% deep at each size), interleaved, `--gets` requests each; the
   stack's RSS (VmRSS, and the peak VmHWM, from /proc/<pid>/status).
2. stops the stack with SIGTERM and reads the save time it prints (`data: saved ... in <S> s`),
   starts it again on the same data directory and reads the restore time (`data: resumed ... in
   <S> s`); checks that the first run's staff token still works and that the customer still lists
   every project (X-Result-Count). A stack that prints neither line keeps nothing: "n/a".
3. the per-request time split from the stack's sampling profiler (chalicelib/local/profile.py):
   Cirrus (chalicelib, app.py, chalice's app and the libraries they call), moto, the AWS client
   (botocore, urllib3, pynamodb), the local HTTP servers (Chalice's local gateway and http.server,
   moto's werkzeug); for the POST phase and the GET phase; work of the stack's background threads
   (stream reader, queue workers, ticker) is counted apart.

Goals (issue 15): last/first POST median ≤ 1.3 (first and last 1,000 POSTs, or 20% of them when fewer
than 5,000), GET medians at the second size ≤ 1.3 times the first (page 1, page N, retrieve; the 80%-deep
page reads keys-only O(depth) by design and is shown for information), RSS ≤ 1 GiB at the second size,
no failed request, restore ≤ 10 s, the data kept across the restart. Latencies include the profiler's
sampling (a few % of CPU; `--no-profile` to leave it off).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PAGE_SIZE = 10  # the API's default page size
GIB = 1024**3
RATIO_GOAL = 1.3
RESTORE_GOAL = 10.0
START_TIMEOUT = 300.0
STOP_TIMEOUT = 180.0
CATEGORIES = ("Cirrus", "moto", "AWS client", "HTTP servers", "other")
LOCK_WAIT = "moto: waiting for moto_speedups.LOCK"  # chalicelib/local/profile.py

_BANNER = re.compile(r"Cirrus is running on (\S+)/api/")
_TOKEN = re.compile(r"^\s+token:\s+(\S+)")
_DEMO = re.compile(r"^\s+demo:\s+customer (\S+), project (\S+)")
_SAVED = re.compile(r"data: saved ([\d,]+) items and ([\d,]+) queued messages to (.+) in ([\d.]+) s")
_RESUMED = re.compile(r"data: resumed ([\d,]+) items and ([\d,]+) queued messages from (.+) in ([\d.]+) s")


# --- the stack, as a subprocess ---------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """`python -m chalicelib.local` running; its output is read as it comes (and kept)."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    token: str = ""
    customer: str = ""
    start_seconds: float = 0.0

    @classmethod
    def start(cls, port: int, data_dir: str, profile: str | None) -> Stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CIRRUS_", "AWS_"))}
        env |= {"CIRRUS_PORT": str(port), "CIRRUS_LOCAL_QUIET": "1", "CIRRUS_DATA_DIR": data_dir}
        if profile:
            env["CIRRUS_LOCAL_PROFILE"] = profile
        began = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local"],
            cwd=_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        stack = cls(process)
        threading.Thread(target=stack._read, daemon=True).start()
        if not stack.ready.wait(START_TIMEOUT) or process.poll() is not None:
            stack.kill()
            raise SystemExit("The local stack did not start:\n" + "".join(stack.lines[-40:]))
        stack.start_seconds = time.monotonic() - began
        stack._parse_banner()
        return stack

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("Press Ctrl-C to stop."):
                self.ready.set()
        self.ready.set()  # the process ended: start() looks at why

    def _parse_banner(self) -> None:
        for line in self.lines:
            if m := _BANNER.search(line):
                self.url = m.group(1)
            elif m := _TOKEN.match(line):
                self.token = m.group(1)
            elif m := _DEMO.match(line):
                self.customer = m.group(1)
        if not (self.url and self.token and self.customer):
            self.kill()
            raise SystemExit("Banner without url, token or demo customer:\n" + "".join(self.lines))

    def find(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return next((m for line in self.lines if (m := pattern.search(line))), None)

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak) of the stack's process, in bytes."""
        found = {}
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    found[name] = int(value.split()[0]) * 1024
        return found

    def snapshot(self, path: str, previous: int) -> dict[str, Any]:
        """The profiler's counts now (it writes them on SIGUSR1)."""
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                with open(path, encoding="utf-8") as f:
                    data: dict[str, Any] = json.load(f)
                if data["snapshot"] > previous:
                    return data
            time.sleep(0.02)
        raise SystemExit("The stack's profiler wrote no snapshot (is CIRRUS_LOCAL_PROFILE supported?)")

    def stop(self) -> float | None:
        """SIGTERM, then wait for the process to end: seconds taken. None: it did not end in time; its
        threads' stacks are then dumped (SIGUSR2, see chalicelib/local/profile.py) to a file, and it is
        killed."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR2)
            time.sleep(2)
            self.kill()
            path = os.path.join(tempfile.gettempdir(), f"cirrus-local-scale-stuck-{self.process.pid}.txt")
            with open(path, "w", encoding="utf-8") as out:
                out.writelines(self.lines)
            _progress(f"the stack did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM: its output in {path}")
            return None
        return time.monotonic() - began

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --- HTTP -------------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """One kept-alive connection to the stack; every answer that is not 2xx is a failure."""

    url: str
    token: str
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    _conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Reply:
        self.requests += 1
        reply = self._send(method, path, body, token or self.token)
        if not 200 <= reply.status < 300:
            self.failures.append(f"{method} {path} -> {reply.status} {reply.body[:200]!r}")
        return reply

    def _send(self, method: str, path: str, body: Any, token: str) -> Reply:
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        began = time.perf_counter()
        try:
            conn = self._connection()
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return Reply(0, {}, repr(error).encode(), time.perf_counter() - began)
        seconds = time.perf_counter() - began
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, payload, seconds)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            host, port = self.url.removeprefix("http://").rsplit(":", 1)
            self._conn = http.client.HTTPConnection(host, int(port), timeout=600)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# --- the phases -------------------------------------------------------------------------------
@dataclass
class Run:
    client: Client
    customers: list[str]  # the demo customer first
    demo_count: int  # projects the demo customer held before the bench
    projects: list[str] = field(default_factory=list)  # created in the demo customer
    created: int = 0
    post_seconds: list[float] = field(default_factory=list)
    stopped_early: str = ""
    # (counted, expected) -> how many list answers gave that X-Result-Count for the demo customer
    miscounts: dict[tuple[str | None, int], int] = field(default_factory=dict)

    @property
    def demo_total(self) -> int:
        return self.demo_count + len(self.projects)


def create_customers(client: Client, demo: str, count: int) -> list[str]:
    customers = [demo]
    for i in range(1, count):
        reply = client.call("POST", "/api/customers/", {"name": f"Bench customer {i}"})
        if reply.status == 201:
            customers.append(reply.json()["uuid"])
    return customers


def list_count(client: Client, customer: str, token: str | None = None) -> tuple[int, int | None]:
    reply = client.call("GET", f"/api/projects/?customer={customer}", token=token)
    count = reply.headers.get("x-result-count")
    return reply.status, int(count) if count is not None else None


def create_projects(run: Run, until: int, limits: Limits) -> None:
    """POST projects one after another until `until` were created (or a limit is reached)."""
    begin = run.created
    step = max(1, (until - begin) // 10)
    for i in range(begin, until):
        run.stopped_early = run.stopped_early or limits.reached(run.created)
        if run.stopped_early:
            return
        customer = run.customers[i % len(run.customers)]
        body = {"name": f"bench-{i:05d}", "customer": f"{run.client.url}/api/customers/{customer}/"}
        reply = run.client.call("POST", "/api/projects/", body)
        run.created += 1
        run.post_seconds.append(reply.seconds)
        if reply.status == 201 and customer == run.customers[0]:
            run.projects.append(reply.json()["uuid"])
        if (i + 1 - begin) % step == 0:
            recent = statistics.median(run.post_seconds[-step:]) * 1000
            _progress(f"posted {i + 1}/{until} (median of the last {step}: {recent:.0f} ms)")


@dataclass
class Limits:
    """When to stop creating projects early: a time limit, and the stack's RSS (the issue's stack grew
    until the kernel killed it; the machine is shared)."""

    stack: Stack
    deadline: float | None
    max_rss: int

    def reached(self, created: int) -> str:
        if self.deadline is not None and time.monotonic() > self.deadline:
            return f"stopped by --time-limit after {created} projects"
        if (rss := self.stack.memory().get("VmRSS", 0)) > self.max_rss:
            return f"stopped by --max-rss after {created} projects (RSS {mib(rss)})"
        return ""


def deep_page(projects: int) -> int:
    return max(2, (math.ceil(projects / PAGE_SIZE) * 4) // 5)


def measure_gets(run: Run, n: int, page_n: int, rng: random.Random) -> dict[str, list[float]]:
    """`n` of each GET, interleaved; a list answering another count than expected is a failure."""
    customer = run.customers[0]
    listing = f"/api/projects/?customer={customer}"
    paths: dict[str, Callable[[], str]] = {
        "retrieve": lambda: f"/api/projects/{rng.choice(run.projects)}/",
        "list": lambda: listing,
        "page N": lambda: f"{listing}&page={page_n}",
        "deep": lambda: f"{listing}&page={deep_page(run.demo_total)}",
    }
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(n):
        for name, path in paths.items():
            reply = run.client.call("GET", path())
            seconds[name].append(reply.seconds)
            count = reply.headers.get("x-result-count")
            if name != "retrieve" and reply.status == 200 and count != str(run.demo_total):
                key = (count, run.demo_total)
                run.miscounts[key] = run.miscounts.get(key, 0) + 1
    return seconds


@dataclass
class Size:
    projects: int
    gets: dict[str, list[float]]
    memory: dict[str, int]
    page_n: int
    deep: int


@dataclass
class Restart:
    expected: int
    save: re.Match[str] | None = None
    stop_seconds: float | None = None
    resumed: re.Match[str] | None = None
    start_seconds: float | None = None
    token_status: int = 0
    count: int | None = None
    memory: dict[str, int] = field(default_factory=dict)
    stopped_again: float | None = None


def restart(stack: Stack, run: Run, port: int, data_dir: str, profile: str | None) -> Restart:
    """Stop the stack, start it again on the same data directory, check what it kept."""
    found = Restart(run.demo_total, stop_seconds=stack.stop())
    found.save = stack.find(_SAVED)
    try:
        again = Stack.start(port, data_dir, profile)
    except SystemExit as failed:
        _progress(f"the restart failed: {failed}")
        return found
    try:
        found.resumed, found.start_seconds = again.find(_RESUMED), again.start_seconds
        checker = Client(again.url, again.token)
        found.token_status, found.count = list_count(checker, run.customers[0], token=run.client.token)
        found.memory = again.memory()
        checker.close()
    finally:
        found.stopped_again = again.stop()
    return found


# --- the profile ------------------------------------------------------------------------------
def delta(before: dict[str, Any], after: dict[str, Any], *path: str) -> dict[str, float]:
    """`after` minus `before` at `path` in the profiler's JSON (a mapping of ms)."""
    for key in path:
        before, after = before.get(key, {}), after.get(key, {})
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in set(after) | set(before)}


def add(*counts: dict[str, float]) -> dict[str, float]:
    total: dict[str, float] = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0.0) + v
    return total


@dataclass
class Profile:
    path: str
    snapshots: list[dict[str, Any]] = field(default_factory=list)

    def take(self, stack: Stack) -> None:
        previous = self.snapshots[-1]["snapshot"] if self.snapshots else 0
        self.snapshots.append(stack.snapshot(self.path, previous))

    def phase(self, pairs: list[tuple[int, int]], *path: str) -> dict[str, float]:
        """The sum over the phase's intervals (pairs of snapshot indexes)."""
        return add(*(delta(self.snapshots[b], self.snapshots[a], *path) for b, a in pairs))

    def profiler_cpu(self, pairs: list[tuple[int, int]]) -> float:
        own = [float(self.snapshots[i]["profiler_cpu_ms"]) for pair in pairs for i in pair]
        return sum(own[1::2]) - sum(own[::2])


# --- report -----------------------------------------------------------------------------------
def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms" if values else "n/a"


def ratio(first: list[float], last: list[float]) -> float | None:
    if not first or not last:
        return None
    return statistics.median(last) / statistics.median(first)


def mib(value: int | None) -> str:
    return f"{value / 1024**2:.0f} MiB" if value is not None else "n/a"


def verdict(value: float | None, goal: float) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} {'✓' if value <= goal else '✗ (goal ≤ ' + str(goal) + ')'}"


def post_windows(run: Run) -> tuple[int, list[float], list[float]]:
    window = min(1000, len(run.post_seconds) // 5) if len(run.post_seconds) < 5000 else 1000
    return window, run.post_seconds[:window], run.post_seconds[-window:]


def print_posts(run: Run, sizes: list[Size]) -> list[str]:
    window, first, last = post_windows(run)
    r = ratio(first, last)
    print("| POST /api/projects/ | requests | median | p90 |")
    print("|---|---|---|---|")
    for label, values in ((f"first {window}", first), (f"last {window}", last)):
        print(f"| {label} | {len(values)} | {ms(values)} | {_p90(values)} |")
    begin = 0
    for s in sizes:
        part = run.post_seconds[begin : s.projects]
        if not part:
            continue
        print(f"| projects {begin + 1}-{s.projects} | {len(part)} | {ms(part)} | {_p90(part)} |")
        begin = s.projects
    print(f"\nlast/first median: {verdict(r, RATIO_GOAL)}\n")
    return [] if r is not None and r <= RATIO_GOAL else [f"POST last/first median {r}"]


def _p90(values: list[float]) -> str:
    if len(values) < 10:
        return "n/a"
    return f"{statistics.quantiles(values, n=10)[-1] * 1000:.0f} ms"


GET_LABELS = {
    "retrieve": "GET /api/projects/<uuid>/",
    "list": "GET /api/projects/?customer=<uuid> (page 1)",
    "page N": "GET …&page=N",
    "deep": "GET …&page=<80% deep> (information: O(depth) keys-only reads by design)",
}


def print_gets(sizes: list[Size]) -> list[str]:
    one, two = sizes[0], sizes[-1]
    print(f"| request | @{one.projects} | @{two.projects} | ratio |")
    print("|---|---|---|---|")
    problems = []
    for name, label in GET_LABELS.items():
        r = ratio(one.gets[name], two.gets[name])
        shown = label.replace("page=N", f"page={one.page_n}")
        if name == "deep":
            shown += f" (pages {one.deep}, {two.deep})"
            cell = f"{r:.2f}" if r is not None else "n/a"
        else:
            cell = verdict(r, RATIO_GOAL)
            if r is None or r > RATIO_GOAL:
                problems.append(f"{label}: ratio {r}")
        print(f"| {shown} | {ms(one.gets[name])} | {ms(two.gets[name])} | {cell} |")
    print(f"| RSS (VmRSS) | {mib(one.memory.get('VmRSS'))} | {mib(two.memory.get('VmRSS'))} | |")
    print(f"| peak RSS (VmHWM) | {mib(one.memory.get('VmHWM'))} | {mib(two.memory.get('VmHWM'))} | |")
    peak = two.memory.get("VmHWM", 0)
    print(
        f"\nPeak RSS at {two.projects} projects: {mib(peak)} {'✓' if peak <= GIB else '✗'} (goal ≤ 1 GiB)\n"
    )
    return problems + ([] if peak <= GIB else [f"peak RSS {mib(peak)}"])


def print_restart(r: Restart) -> list[str]:
    save = (
        f"{float(r.save.group(4)):.2f} s ({r.save.group(1)} items)"
        if r.save
        else "n/a (no `data: saved` line)"
    )
    restore = (
        f"{float(r.resumed.group(4)):.2f} s ({r.resumed.group(1)} items)"
        if r.resumed
        else "n/a (no `data: resumed` line)"
    )
    kept = r.token_status == 200 and r.count == r.expected
    print("| after SIGTERM and a restart on the same CIRRUS_DATA_DIR | |")
    print("|---|---|")
    print(f"| save at stop (stack's figure) | {save} |")
    print(f"| SIGTERM to exit | {_seconds(r.stop_seconds)} |")
    print(f"| restore at start (stack's figure) | {restore} |")
    started = f"{r.start_seconds:.1f} s" if r.start_seconds is not None else "✗ did not start"
    print(f"| start to banner, restarted | {started} |")
    print(f"| SIGTERM to exit, restarted | {_seconds(r.stopped_again)} |")
    print(f"| RSS after the restart | {mib(r.memory.get('VmRSS'))} |")
    print(f"| first run's staff token | HTTP {r.token_status} {'✓' if r.token_status == 200 else '✗'} |")
    print(f"| demo customer's projects listed | {r.count} of {r.expected} {'✓' if kept else '✗'} |\n")
    problems = [] if kept else [f"restart kept token {r.token_status}, {r.count} of {r.expected} projects"]
    if r.stop_seconds is None or r.stopped_again is None:
        problems.append(f"the stack did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM")
    if r.resumed and float(r.resumed.group(4)) > RESTORE_GOAL:
        problems.append(f"restore {r.resumed.group(4)} s")
    return problems


def _seconds(value: float | None) -> str:
    return f"{value:.1f} s" if value is not None else f"✗ not within {STOP_TIMEOUT:.0f} s (killed)"


def _stack_figure(line: re.Match[str] | None, prefix: str) -> str:
    if line is None:
        return f"n/a (no `{prefix}` line)"
    return f"{float(line.group(4)):.2f} s ({line.group(1)} items, {line.group(2)} queued messages)"


def percentages(counts: dict[str, float]) -> Iterator[str]:
    total = sum(counts.values())
    for c in CATEGORIES:
        yield f"{100 * counts.get(c, 0) / total:.0f}%" if total else "n/a"


def print_profile(profile: Profile, phases: dict[str, tuple[list[tuple[int, int]], float]]) -> None:
    """The requests' wall time by category, per phase (`phases`: name -> snapshot pairs, and the
    requests' summed latency in the phase, in s), and the CPU the threads used."""
    split = {name: profile.phase(pairs, "splits", "request") for name, (pairs, _) in phases.items()}
    print(f"| where a request's time went | {' | '.join(f'{n} phase' for n in phases)} |")
    print("|---|" + "---|" * len(phases))
    rows = zip(*(percentages(split[name]) for name in phases), strict=True)
    for category, cells in zip(CATEGORIES, rows, strict=True):
        print(f"| {category} | {' | '.join(cells)} |")
    waits = [profile.phase(p, "functions", "request").get(LOCK_WAIT, 0.0) for p, _ in phases.values()]
    shares = [
        f"{100 * w / max(1.0, sum(split[n].values())):.0f}%" for w, n in zip(waits, phases, strict=True)
    ]
    print(f"| (moto: of which waiting for its lock, held by another thread) | {' | '.join(shares)} |")
    covered = [
        f"{sum(split[n].values()) / 1000:.0f} of {latency:.0f} s" for n, (_, latency) in phases.items()
    ]
    print(f"| sampled / the requests' summed latency | {' | '.join(covered)} |")
    cpu = {name: profile.phase(pairs, "cpu_ms") for name, (pairs, _) in phases.items()}
    for role, label in (("request", "the requests' threads"), ("background", "background threads")):
        print(
            f"| CPU used by {label} | {' | '.join(f'{cpu[n].get(role, 0) / 1000:.1f} s' for n in phases)} |"
        )
    own = [f"{profile.profiler_cpu(pairs) / 1000:.1f} s" for pairs, _ in phases.values()]
    print(f"| CPU used by the profiler | {' | '.join(own)} |")
    print()
    for name, (pairs, _) in phases.items():
        functions = profile.phase(pairs, "functions", "request")
        total = max(1.0, sum(functions.values()))
        top = sorted(functions.items(), key=lambda kv: -kv[1])[:6]
        print(
            f"{name} phase, where the requests' time went most: "
            + "; ".join(f"{k} {100 * v / total:.0f}%" for k, v in top)
        )
        print()
    print(
        "Wall time of the requests in flight, sampled every 5 ms in the stack: in the thread answering the "
        "request, or in moto's thread answering its AWS call; a thread waiting for the GIL counts where it "
        "waits (e.g. after a socket call), and the time before the server's thread gets to read a request "
        "is not sampled (the gap between sampled and summed latency). Background threads: the stream "
        "reader, queue workers, ticker and moto's threads answering them, idle polling included.\n"
    )


def report(run: Run, sizes: list[Size], again: Restart, profile: Profile | None, quick: bool) -> bool:
    print(f"## The local stack at {' and '.join(str(s.projects) for s in sizes)} projects\n")
    spread = f"over {len(run.customers)} customers" if len(run.customers) > 1 else "in one customer"
    print(
        f"`python -m chalicelib.local` over HTTP, one request at a time; projects created {spread} "
        f"(demo customer: {run.demo_total} projects at the end){' (--quick)' if quick else ''}."
        + (f" **{run.stopped_early}.**" if run.stopped_early else "")
        + "\n"
    )
    problems = print_posts(run, sizes) + print_gets(sizes) + print_restart(again)
    if profile is not None:
        get_latency = sum(sum(v) for size in sizes for v in size.gets.values())
        print_profile(
            profile,
            {"POST": ([(0, 1), (2, 3)], sum(run.post_seconds)), "GET": ([(1, 2), (3, 4)], get_latency)},
        )
    failed = run.client.failures
    print(f"Requests: {run.client.requests}, failed: {len(failed)}")
    for f in failed[:10]:
        print(f"- {f}")
    problems += [f"{len(failed)} failed requests"] if failed else []
    for (counted, expected), n in run.miscounts.items():
        print(f"- {n} lists of the demo customer counted {counted} projects where {expected} were created")
        problems.append(f"lists counted {counted} projects, {expected} created (a failed POST created one?)")
    problems += [run.stopped_early] if run.stopped_early else []
    print(f"\n**{'PASS' if not problems else 'FAIL'}**" + (": " + "; ".join(problems) if problems else ""))
    return not problems


# --- main -------------------------------------------------------------------------------------
def _progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def measure_size(run: Run, stack: Stack, target: int, args: argparse.Namespace, page_n: int) -> Size:
    """The GETs and the memory at this size; page N is the first size's 80%-deep page."""
    page_n = page_n or deep_page(run.demo_total)
    _progress(f"measuring GETs at {run.created} projects")
    gets = measure_gets(run, args.gets, page_n, random.Random(target))
    return Size(run.created, gets, stack.memory(), page_n, deep_page(run.demo_total))


def bench(args: argparse.Namespace, data_dir: str, profile_path: str | None) -> bool:
    port = free_port()
    stack = Stack.start(port, data_dir, profile_path)
    _progress(f"stack up on {stack.url} in {stack.start_seconds:.1f} s (pid {stack.process.pid})")
    try:
        client = Client(stack.url, stack.token)
        customers = create_customers(client, stack.customer, args.customers)
        _, count = list_count(client, stack.customer)
        run = Run(client, customers, count or 0)
        profile = Profile(profile_path) if profile_path else None
        deadline = time.monotonic() + args.time_limit if args.time_limit else None
        limits = Limits(stack, deadline, int(args.max_rss * GIB))
        sizes: list[Size] = []
        for target in args.sizes:
            if profile:
                profile.take(stack)
            create_projects(run, target, limits)
            if profile:
                profile.take(stack)
            page_n = sizes[0].page_n if sizes else 0
            sizes.append(measure_size(run, stack, target, args, page_n))
        if profile:
            profile.take(stack)
        _progress("restarting the stack on the same data directory")
        client.close()
        again = restart(stack, run, port, data_dir, profile_path and f"{profile_path}.restart")
    finally:
        stack.kill()
    return report(run, sizes, again, profile, args.quick)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, 10000], help="projects at each size")
    parser.add_argument("--quick", action="store_true", help="200 then 1,000 projects, 50 GETs each")
    parser.add_argument("--gets", type=int, default=200, help="requests of each GET at each size")
    parser.add_argument("--customers", type=int, default=1, help="spread the projects over N customers")
    parser.add_argument("--time-limit", type=float, default=0, help="stop creating after S seconds")
    parser.add_argument("--max-rss", type=float, default=4.0, help="stop creating past this RSS (GiB)")
    parser.add_argument("--no-profile", action="store_true", help="run the stack without its profiler")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.gets = [200, 1000], min(args.gets, 50)
    work = tempfile.mkdtemp(prefix="cirrus-local-scale-")
    profile_path = None if args.no_profile else os.path.join(work, "profile.json")
    try:
        ok = bench(args, os.path.join(work, "data"), profile_path)
    finally:
        if args.keep:
            _progress(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
