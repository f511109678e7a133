#!/usr/bin/env python
"""Lambda memory size for the API function, by measurement and a model (issue 19).

    .venv/bin/python bench/memory.py            # 3 handler processes x 20 rounds of the request mix
    .venv/bin/python bench/memory.py --processes 5 --rounds 40

A local emulation of the API function: moto runs as a SEPARATE process (the local stack's), so the CPU
time of the handler process is the handler's own. The parent creates the table, queues and state
machines on it and seeds the local stack's demo data (staff, a customer with a project, its owner, an
offering); then each handler process (a fresh interpreter, as a cold Lambda sandbox) does what INIT
and invocations do:

- INIT: `import app` and the first request (which builds the boto3/pynamodb clients and the pydantic
  models that are deferred to first use), CPU time (`time.process_time`) and wall time;
- then rounds of a representative request mix, each request an API Gateway event (the HTTP API's
  payload 1.0 by default, `--payload rest` for the REST API's) given to the function's handler
  (`app.api_handler`): CPU time and wall time per request, wall minus CPU being the time spent
  waiting on moto (I/O).

The model (it is a model, not a Lambda measurement): a Lambda function gets CPU in proportion to its
memory, a full vCPU at 1,769 MB (AWS: "at 1,769 MB, a function has the equivalent of one vCPU").
Below that, CPU time stretches by 1769/memory; above it, more vCPUs do not speed up single-threaded
Python. Assumed: Lambda's arm64 core is as fast per core as this machine's (it may be slower or faster:
scale the CPU column), the I/O wait measured here against moto stands for DynamoDB/SQS round trips
and is NOT scaled with memory (network latency does not depend on the CPU share; on AWS a DynamoDB
call is ~2-5 ms, which the `--io-ms` option substitutes for moto's), and no other overhead (Lambda's
own per-invoke overhead, ~1 ms, is ignored). INIT is shown both at the memory's CPU share and at a
full vCPU (Lambda has been observed to give INIT more CPU; with SnapStart, INIT runs once per
published version, not per cold start, and a restore replaces it).

Cost per 1M requests: Lambda arm64 list price, us-east-1 (aws.amazon.com/lambda/pricing, read
2026-12): $0.0000133334 per GB-second, $0.20 per 1M requests; billed duration rounded up to 1 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MEMORY_SIZES = (256, 512, 1024, 1769)
# In-region AWS round trips the model charges per call instead of moto's (typical p50s, ms: DynamoDB
# single-item and small Query calls, SQS SendMessage, Step Functions StartExecution/SendTaskSuccess).
AWS_CALL_MS = {"dynamodb": 4.0, "sqs": 8.0, "stepfunctions": 15.0}
# The latency budget the recommendation keeps: the mix's mean modelled request duration (ms).
BUDGET_MS = 75.0
OTHER_CALL_MS = 10.0
FULL_VCPU_MB = 1769
GB_SECOND_ARM64 = 0.0000133334
PER_MILLION_REQUESTS = 0.20
TABLE = "cirrus-bench-memory"

# The request mix: (label, method, path template, body template, weight). Weights: what a Waldur
# client's traffic looks like (HomePort and the site agent mostly list and read; orders are rare).
MIX: tuple[tuple[str, str, str, dict[str, Any] | None, int], ...] = (
    ("list customers", "GET", "/api/customers/", None, 15),
    ("list projects", "GET", "/api/projects/", None, 20),
    ("list offerings", "GET", "/api/marketplace-public-offerings/", None, 15),
    ("list orders", "GET", "/api/marketplace-orders/", None, 15),
    ("retrieve customer", "GET", "/api/customers/{customer}/", None, 10),
    ("retrieve project", "GET", "/api/projects/{project}/", None, 10),
    ("current user", "GET", "/api/users/me/", None, 10),
    (
        "create order",
        "POST",
        "/api/marketplace-orders/",
        {
            "project": "{base}/api/projects/{project}/",
            "offering": "{base}/api/marketplace-public-offerings/{offering}/",
            "plan": "{base}/api/marketplace-public-plans/{plan}/",
            "attributes": {"name": "bench-{n}"},
            "limits": {},
            "type": "Create",
        },
        5,
    ),
)
BASE = "http://localhost"

# The handler process: INIT, then the rounds; prints its measurements as one JSON line.
HANDLER = r"""
import json, sys, time
from collections import Counter
t_wall, t_cpu = time.perf_counter(), time.process_time()
import app
import_wall, import_cpu = time.perf_counter() - t_wall, time.process_time() - t_cpu
# Count the AWS calls each request makes (the model replaces moto's latency with AWS's per call).
import botocore.client
calls = Counter()
_original = botocore.client.BaseClient._make_api_call
def _counted(self, operation, params):
    calls[self.meta.service_model.service_name] += 1
    return _original(self, operation, params)
botocore.client.BaseClient._make_api_call = _counted
handler = app.api_handler
events = json.load(open(sys.argv[1]))
rounds = int(sys.argv[2])

class Context:
    function_name = "cirrus-bench-APIHandler"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cirrus-bench-APIHandler"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 29000

def call(event):
    calls.clear()
    w, c = time.perf_counter(), time.process_time()
    response = handler(event, Context())
    return response["statusCode"], time.perf_counter() - w, time.process_time() - c, dict(calls)

first = events[0]
status, first_wall, first_cpu, first_calls = call(first["event"])
init = {"import_wall": import_wall, "import_cpu": import_cpu, "first_wall": first_wall,
        "first_cpu": first_cpu, "first_label": first["label"], "first_status": status,
        "first_calls": first_calls, "modules": len(sys.modules),
        "python": sys.version.split()[0], "app": app.__file__}
samples = {e["label"]: [] for e in events}
statuses, request_calls = {}, {}
for r in range(rounds):
    for e in events:
        event = json.loads(json.dumps(e["event"]).replace("{n}", f"{r}"))
        status, wall, cpu, made = call(event)
        statuses.setdefault(e["label"], set()).add(status)
        samples[e["label"]].append([wall, cpu])
        request_calls[e["label"]] = made
print("BENCH" + json.dumps({"init": init, "samples": samples, "calls": request_calls,
                            "statuses": {k: sorted(v) for k, v in statuses.items()}}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The moto process: the local stack's moto (`make run`'s), with its speed-ups (transactions back up
# only the items they touch) and bounds (what moto would keep forever), which a bare `moto_server`
# lacks: its memory grew by gigabytes over a few hundred orders.
MOTO = """
import signal, sys
from chalicelib.local import aws, housekeeping, moto_speedups
moto_speedups.install()
housekeeping.install()
aws.MotoServer(int(sys.argv[1])).start()
signal.sigwait({signal.SIGTERM, signal.SIGINT})
"""


class MotoProcess:
    """The local stack's moto server in its own process on the loopback."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-c", MOTO, str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for _ in range(300):
            try:
                opener.open(f"{self.endpoint}/moto-api/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("the moto server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def set_up(endpoint: str) -> tuple[dict[str, str], dict[str, str]]:
    """Resources and demo data on moto; returns the handler's environment and the ids it uses."""
    from chalicelib.local import aws
    from chalicelib.local.aws import use_offline_environment

    use_offline_environment(TABLE)
    before = dict(os.environ)
    os.environ["CIRRUS_AWS_ENDPOINT_URL"] = endpoint
    os.environ["CIRRUS_PUBLIC_URL"] = BASE
    from chalicelib import bootstrap
    from chalicelib.config import reset_settings

    reset_settings()
    aws.create_table(TABLE, endpoint)
    bootstrap.ensure_ready()
    aws.create_queues(endpoint)
    aws.create_state_machines(endpoint, aws.LOCAL_TIMING)

    from chalicelib.domain.context import EventContext
    from chalicelib.local.seed import seed
    from chalicelib.services import auth

    seeded = seed("bench-staff", "Bench-staff-password-1")
    owner_token = auth.login(
        seeded.owner_username, seeded.owner_password, EventContext(ip_address="127.0.0.1")
    )
    env = {k: v for k, v in os.environ.items() if before.get(k) != v}
    env.update({k: v for k, v in os.environ.items() if k.startswith(("CIRRUS_", "AWS_", "POWERTOOLS_"))})
    ids = {
        "customer": seeded.customer_id,
        "project": seeded.project_id,
        "offering": seeded.offering_id,
        "plan": seeded.plan_id,
        "token": owner_token,
        "base": BASE,
    }
    return env, ids


def _fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, str):
        for key, value in ids.items():
            template = template.replace("{" + key + "}", value)
        return template
    if isinstance(template, dict):
        return {k: _fill(v, ids) for k, v in template.items()}
    return template


def build_events(ids: dict[str, str], payload: str = "http") -> list[dict[str, Any]]:
    """API Gateway events for the mix. `rest`: as the REST API sends them, routed by Chalice's own
    route table; `http`: as the HTTP API's `$default` route sends them (payload format 1.0, no
    resource path: `app.api_handler` finds the route, chalicelib/api/gateway.py)."""
    from chalice.config import Config

    import app
    from chalicelib.local.server import CirrusGateway

    gateway = CirrusGateway(app.app, Config())
    events = []
    for label, method, path, body, _ in MIX:
        headers = {
            "Host": "localhost",
            "Authorization": f"Token {ids['token']}",
            "Accept": "application/json",
        }
        raw = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            raw = json.dumps(_fill(body, ids)).encode()
        event = gateway._generate_lambda_event(method, _fill(path, ids), headers, raw)
        event["httpMethod"] = method
        event["resource"] = event["requestContext"]["resourcePath"]
        event["requestContext"].update({"stage": "api", "requestId": "bench", "domainName": "localhost"})
        if isinstance(event.get("body"), bytes):
            event["body"] = event["body"].decode()
        if payload == "http":
            event.update(version="1.0", resource="$default", pathParameters=None)
            event["requestContext"].update(resourcePath="$default", stage="$default")
        events.append({"label": label, "event": event})
    return events


def run_handler(
    env: dict[str, str], events_file: Path, rounds: int, bundle: Path | None, python: str | None
) -> dict[str, Any]:
    """One handler process: the venv's interpreter on the repository, or (`--bundle`) Python 3.12 on
    a built x86_64 bundle with nothing else on its path, as Lambda runs it."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("CIRRUS_", "AWS_", "PYTHON"))}
    child_env.update(env)
    command = [python or sys.executable, "-c", HANDLER, str(events_file), str(rounds)]
    if bundle:
        child_env.update(PYTHONPATH=str(bundle), PYTHONDONTWRITEBYTECODE="1")
        command.insert(1, "-S")
    done = subprocess.run(
        command,
        cwd=bundle or ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH"):
            return dict(json.loads(line[5:]))
    raise SystemExit(f"handler process failed:\n{done.stderr[-3000:]}")


@dataclass
class Figures:
    init_import_cpu: float
    init_first_cpu: float
    init_wall: float
    init_io: float
    per_request: dict[str, tuple[float, float]]  # label -> (cpu ms, io ms), medians
    weighted_cpu: float
    weighted_io: float
    modules: int
    calls: dict[str, dict[str, int]]  # label -> AWS service -> calls per request
    init_calls: dict[str, int]
    python: str

    def aws_io(self, calls: dict[str, int]) -> float:
        return sum(AWS_CALL_MS.get(service, OTHER_CALL_MS) * n for service, n in calls.items())

    @property
    def weighted_aws_io(self) -> float:
        total = sum(w for *_, w in MIX)
        return sum(self.aws_io(self.calls[label]) * w for label, *_, w in MIX) / total


def summarise(runs: list[dict[str, Any]]) -> Figures:
    ms = 1000.0
    inits = [r["init"] for r in runs]
    per_request = {}
    for label, *_ in MIX:
        samples = [s for r in runs for s in r["samples"][label]]
        cpu = statistics.median(c for _, c in samples) * ms
        io = statistics.median(max(0.0, w - c) for w, c in samples) * ms
        per_request[label] = (cpu, io)
    total = sum(w for *_, w in MIX)
    return Figures(
        init_import_cpu=statistics.median(i["import_cpu"] for i in inits) * ms,
        init_first_cpu=statistics.median(i["first_cpu"] for i in inits) * ms,
        init_wall=statistics.median(i["import_wall"] + i["first_wall"] for i in inits) * ms,
        init_io=statistics.median(
            max(0.0, i["first_wall"] - i["first_cpu"]) + max(0.0, i["import_wall"] - i["import_cpu"])
            for i in inits
        )
        * ms,
        per_request=per_request,
        weighted_cpu=sum(per_request[label][0] * w for label, *_, w in MIX) / total,
        weighted_io=sum(per_request[label][1] * w for label, *_, w in MIX) / total,
        modules=int(statistics.median(i["modules"] for i in inits)),
        calls=runs[0]["calls"],
        init_calls=inits[0]["first_calls"],
        python=f"{inits[0]['python']} ({inits[0]['app']})",
    )


def share(memory: int) -> float:
    return min(1.0, memory / FULL_VCPU_MB)


def cost_per_million(memory: int, duration_ms: float) -> float:
    billed_s = max(1, int(-(-duration_ms // 1))) / 1000
    return 1e6 * (memory / 1024) * billed_s * GB_SECOND_ARM64 + PER_MILLION_REQUESTS


def _calls(calls: dict[str, int]) -> str:
    return ", ".join(f"{service} {n}" for service, n in sorted(calls.items())) or "none"


def report(f: Figures, n_runs: int, rounds: int, io_ms: float | None, budget: float = BUDGET_MS) -> str:
    """Prints the report; returns the recommended memory size's row label."""
    print(f"## Lambda memory size: local emulation ({n_runs} handler processes x {rounds} rounds)\n")
    print(f"Python {f.python}; moto (the local stack's) in a separate process; medians.\n")
    init_cpu = f.init_import_cpu + f.init_first_cpu
    init_aws = f.aws_io(f.init_calls)
    print("| INIT (measured here, one full CPU) | CPU ms |")
    print("|---|---|")
    print(f"| `import app` ({f.modules} modules by the end of the first request) | {f.init_import_cpu:.0f} |")
    print(
        f"| first request ({MIX[0][0]}: builds the clients and deferred models; AWS calls: "
        f"{_calls(f.init_calls)}) | {f.init_first_cpu:.0f} |"
    )
    wait = f"wall {f.init_wall:.0f} ms here, {f.init_io:.0f} ms of it waiting on moto"
    print(f"| total ({wait}) | {init_cpu:.0f} |")
    print()
    print(
        "| request (warm) | weight | CPU ms | AWS calls | I/O ms, moto (measured) | I/O ms, AWS (modelled) |"
    )
    print("|---|---|---|---|---|---|")
    for label, *_, weight in MIX:
        cpu, io = f.per_request[label]
        print(
            f"| {label} | {weight} | {cpu:.1f} | {_calls(f.calls[label])} | {io:.1f} "
            f"| {f.aws_io(f.calls[label]):.0f} |"
        )
    means = f"**{f.weighted_cpu:.1f}** | | {f.weighted_io:.1f} | **{f.weighted_aws_io:.1f}**"
    print(f"| **weighted mean** | | {means} |")
    print()
    io = f.weighted_aws_io if io_ms is None else io_ms
    per_call = ", ".join(f"{k} {v:g} ms" for k, v in AWS_CALL_MS.items())
    source = f"per AWS call: {per_call}" if io_ms is None else f"{io_ms:g} ms per request (--io-ms)"
    print(f"Model: duration = CPU ms / min(1, memory/{FULL_VCPU_MB}) + I/O wait ({source}; not scaled).\n")
    print(
        "| memory (MB) | CPU share | INIT ms (at the share) | INIT ms (full vCPU) | request ms (mix) "
        "| GB-s per 1M requests | Lambda $ per 1M requests (arm64) |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = []
    for memory in MEMORY_SIZES:
        share_ = share(memory)
        duration = f.weighted_cpu / share_ + io
        gbs = 1e6 * memory / 1024 * duration / 1000
        cost = cost_per_million(memory, duration)
        rows.append((memory, duration, cost))
        print(
            f"| {memory} | {share_:.2f} | {init_cpu / share_ + init_aws:.0f} | {init_cpu + init_aws:.0f} "
            f"| {duration:.1f} | {gbs:,.0f} | {cost:.2f} |"
        )
    print()
    print(
        "CPU-bound work costs the same GB-s at any size up to one vCPU (half the memory, twice the "
        "time); the I/O wait is billed at the memory's rate, so a smaller size is cheaper, and slower "
        "by the CPU part only. Billed duration is per request, rounded up to 1 ms (the table uses the "
        "mix's mean)."
    )
    return recommend(rows, init_cpu, init_aws, budget)


def recommend(rows: list[tuple[int, float, float]], init_cpu: float, init_aws: float, budget: float) -> str:
    """The cheapest size whose mix's mean modelled request stays within the latency budget and whose
    INIT at its CPU share stays under 3 s (Lambda's INIT limit is 10 s; with SnapStart INIT runs once
    per published version, without it on every cold start)."""
    fits = [
        (cost, memory)
        for memory, duration, cost in rows
        if duration <= budget and init_cpu / share(memory) + init_aws <= 3000
    ]
    cost, memory = min(fits) if fits else (rows[-1][2], rows[-1][0])
    print(
        f"\n**Recommended: {memory} MB** (${cost:.2f} per 1M requests in Lambda charges): the cheapest "
        f"size whose mean request (modelled) is within {budget:g} ms (--budget-ms) and whose INIT at "
        "its CPU share stays under 3 s."
    )
    return str(memory)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--processes", type=int, default=3, help="handler processes (cold starts)")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of the mix per process")
    parser.add_argument("--io-ms", type=float, default=None, help="model this I/O wait per request (ms)")
    parser.add_argument("--budget-ms", type=float, default=BUDGET_MS, help="mean request latency budget")
    parser.add_argument(
        "--payload",
        choices=("http", "rest"),
        default="http",
        help="the front door's events (default: HTTP API)",
    )
    parser.add_argument(
        "--bundle",
        type=Path,
        default=None,
        help="run the handler from a built x86_64 bundle (python -m cirrus_infra.bundle --architecture "
        "x86_64) under its Python 3.12, as Lambda does",
    )
    args = parser.parse_args()
    python = None
    if args.bundle:
        os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        sys.path.append(str(ROOT / "infra" / "cdk"))  # after the root: `app` is the Chalice app
        from cirrus_infra.bundle import find_python

        python = find_python()
        if python is None:
            raise SystemExit("--bundle needs a Python 3.12 (CIRRUS_BUNDLE_PYTHON)")
    moto = MotoProcess()
    workdir = Path(tempfile.mkdtemp(prefix="cirrus-bench-memory-"))
    try:
        env, ids = set_up(moto.endpoint)
        events_file = workdir / "events.json"
        events_file.write_text(json.dumps(build_events(ids, args.payload)))
        runs = [
            run_handler(env, events_file, args.rounds, args.bundle, python) for _ in range(args.processes)
        ]
        bad = {
            label: statuses
            for r in runs
            for label, statuses in r["statuses"].items()
            if any(s >= 400 for s in statuses)
        }
        if bad or any(r["init"]["first_status"] >= 400 for r in runs):
            raise SystemExit(f"requests failed (status codes): {bad}")
        report(summarise(runs), args.processes, args.rounds, args.io_ms, args.budget_ms)
        return 0
    finally:
        moto.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
