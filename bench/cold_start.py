#!/usr/bin/env python
"""Cold start: import time and peak memory of `import app` in a fresh interpreter, against a bare
import of the dependencies.

    .venv/bin/python bench/cold_start.py            # N=7 runs of each
    .venv/bin/python bench/cold_start.py -n 15

Each case runs in its own fresh interpreter (`sys.executable`, cwd = the repository root, runs
interleaved so drift hits every case alike):

- baseline: `pass`
- (a) bare: `import chalice, boto3, pynamodb, pydantic, aws_lambda_powertools`
- (a') the dependency submodules `import app` loads (`chalice.app`, `pynamodb.models`,
  `pydantic.BaseModel`, ...; not boto3 nor powertools, which `app` does not import): what importing
  them costs anyway, so the rest of (b) is Cirrus's own code
- (b) app: `import app`

Reported, median of N: the import statement timed inside the child (`time.perf_counter`, interpreter
start-up excluded), the whole process timed by the parent (start-up included), and the child's peak
RSS (`ru_maxrss`). Target: (b)/(a) ≤ 1.3; also given with the `pass` baseline subtracted from the
process time and the peak RSS. Then which top-level modules `import app` loads beyond (a) (a
`sys.modules` diff), with their own import time from `-X importtime`, and a probe for I/O at import
(audit hooks: sockets, subprocesses, files other than Python sources opened): the app must do none.

Bytecode (issue 19): `import app` with and without `.pyc`, fresh interpreters, median of N. Without:
`PYTHONPYCACHEPREFIX` an empty directory and `PYTHONDONTWRITEBYTECODE=1`, so every module the
statement imports is compiled from source (stdlib ones too: the split is reported); with: the same
prefix warmed once. With `--bundle DIR` (a bundle built by `python -m cirrus_infra.bundle
--architecture x86_64` in infra/cdk) also as Lambda runs it: Python 3.12 with only the bundle on its
path (`-S`), the bundle as built (unchecked-hash pycs) against a copy without its pycs, nothing
writable, the runtime's own stdlib compiled as on Lambda.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BARE = "import chalice, boto3, pynamodb, pydantic, aws_lambda_powertools"
# What `import app` imports from the dependencies (grep '^from\|^import' app.py chalicelib; boto3 and
# powertools are not among them: chalicelib.local imports boto3, and `app` does not import chalicelib.local).
BARE_USED = (
    "from chalice.app import Chalice; from chalice import Blueprint, Response; "
    "from pynamodb.models import Model; from pynamodb.attributes import UnicodeAttribute; "
    "from pynamodb.indexes import GlobalSecondaryIndex; from pynamodb.transactions import TransactWrite; "
    "from pynamodb.connection import Connection; from pynamodb.exceptions import TransactWriteError; "
    "from pydantic import BaseModel, Field, ConfigDict, field_validator, StringConstraints; "
    "from pydantic.json_schema import models_json_schema"
)
APP = "import app"
CASES = {"baseline": "pass", "bare": BARE, "bare_used": BARE_USED, "app": APP}
LABELS = {
    "baseline": "`pass` (baseline)",
    "bare": f"(a) `{BARE}`",
    "bare_used": "(a') the dependency submodules the app imports",
    "app": "(b) `import app`",
}
TARGET = 1.3

# The child: time only the statement, then report (json and resource are imported afterwards, so
# they are not charged to the statement unless it imported them itself).
CHILD = """
import sys, time
_before = set(sys.modules)
_t0 = time.perf_counter()
exec(compile(STATEMENT, "<bench>", "exec"))
_t1 = time.perf_counter()
_loaded = sorted(set(sys.modules) - _before)
import json, resource
print("BENCH" + json.dumps({"seconds": _t1 - _t0,
                            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                            "loaded": _loaded}))
"""

# Import-time I/O probe: audit sockets, subprocesses and non-source file opens during STATEMENT, each
# attributed to the innermost Cirrus frame (what triggered it) and the innermost third-party frame
# (what did it).
PROBE = """
import sys, traceback
_events = []
_SOURCE = (".py", ".pyc", ".so", ".pth", ".typed")
_NET = ("socket.connect", "socket.getaddrinfo", "socket.bind", "socket.sendto", "subprocess.Popen",
        "os.system", "os.exec", "urllib.Request", "http.client.connect")
def _fmt(f):
    return f"{f.filename.split('site-packages/')[-1].replace(ROOT + '/', '')}:{f.lineno}" if f else "-"
def _where():
    frames = [f for f in traceback.extract_stack()[:-2]
              if "importlib" not in f.filename and not f.filename.startswith("<")]
    ours = next((f for f in reversed(frames)
                 if "/chalicelib/" in f.filename or f.filename.endswith("/app.py")), None)
    cause = next((f for f in reversed(frames) if "site-packages" in f.filename),
                 frames[-1] if frames else None)
    return _fmt(ours), _fmt(cause)
def _hook(event, args):
    if event in _NET:
        kind = f"{event} {args[1:]!r:.60}"
    elif (event == "open" and isinstance(args[0], str) and not args[0].endswith(_SOURCE)
          and "/__pycache__/" not in args[0] and not args[0].startswith("/proc/")):
        name = args[0]
        kind = "open */entry_points.txt" if name.endswith("entry_points.txt") else f"open {name}"
    else:
        return
    _events.append((kind, *_where()))
sys.addaudithook(_hook)
exec(compile(STATEMENT, "<bench>", "exec"))
import json
print("BENCH" + json.dumps(_events))
"""
NETWORK = ("socket.connect", "socket.getaddrinfo", "socket.sendto", "subprocess", "os.", "urllib", "http")

# Where Cirrus's own import time goes: building pydantic model classes and dataclasses (both run
# code at class definition), timed around the outermost call for classes defined in app/chalicelib.
ATTRIBUTE = """
import time, json, dataclasses
from pydantic._internal import _model_construction as _mc
_spent = {"pydantic models": [0, 0.0], "dataclasses": [0, 0.0]}
_depth = [0]
def _ours(module):
    return module == "app" or module.startswith("chalicelib")
def _timed(kind, fn, module_of):
    def wrapper(*args, **kwargs):
        _depth[0] += 1
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _depth[0] -= 1
            if _depth[0] == 0 and _ours(module_of(*args)):
                _spent[kind][0] += 1
                _spent[kind][1] += time.perf_counter() - t
    return wrapper
_mc.ModelMetaclass.__new__ = _timed("pydantic models", _mc.ModelMetaclass.__new__,
                                    lambda mcs, name, bases, ns, *a: ns.get("__module__", ""))
dataclasses._process_class = _timed("dataclasses", dataclasses._process_class,
                                    lambda cls, *a: cls.__module__)
_t1 = time.perf_counter()
import app
_t2 = time.perf_counter()
print("BENCH" + json.dumps({"total": _t2 - _t1, "spent": _spent}))
"""


# `import app` timed, and where the source of every module it loaded lives (what compiles without .pyc).
BYTECODE_CHILD = """
import sys, time
_before = set(sys.modules)
_t0, _c0 = time.perf_counter(), time.process_time()
import app
_t1, _c1 = time.perf_counter(), time.process_time()
import json, os
root = os.path.dirname(app.__file__)
kinds = {"Cirrus (app, chalicelib)": 0, "third-party": 0, "stdlib": 0}
for name in set(sys.modules) - _before:
    path = getattr(sys.modules[name], "__file__", None) or ""
    if not path.endswith(".py"):
        continue
    if path == app.__file__ or path.startswith(os.path.join(root, "chalicelib")):
        kinds["Cirrus (app, chalicelib)"] += 1
    elif "site-packages" in path or path.startswith(root + os.sep):
        kinds["third-party"] += 1
    else:
        kinds["stdlib"] += 1
print("BENCH" + json.dumps({"seconds": _t1 - _t0, "cpu": _c1 - _c0, "sources": kinds}))
"""


def child_env() -> dict[str, str]:
    """A Lambda-like environment: region and (fake) credentials set, tracing off, no local endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIRRUS_", "AWS_", "PYTHON"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return env


def _child(code: str, extra_args: tuple[str, ...] = ()) -> tuple[Any, str, float]:
    """Run `code` in a fresh interpreter: its BENCH payload, its stderr, the process's wall time."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *extra_args, "-c", f"ROOT = {ROOT!r}\n{code}"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{code[:300]}\n{done.stderr[-2000:]}")
    for line in done.stdout.splitlines():
        if line.startswith("BENCH"):
            return json.loads(line[5:]), done.stderr, wall
    raise SystemExit(f"no report from child: {done.stdout[-500:]}")


def run_case(statement: str, extra_args: tuple[str, ...] = ()) -> dict[str, Any]:
    result, stderr, wall = _child(f"STATEMENT = {statement!r}\n{CHILD}", extra_args)
    result.update(wall=wall, stderr=stderr)
    return dict(result)


def parse_importtime(stderr: str) -> dict[str, float]:
    """Self import time (ms) per top-level package, from `-X importtime` output."""
    totals: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue
        totals[fields[2].strip().split(".")[0]] += int(fields[0]) / 1000
    return totals


def _top(mods: set[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for m in mods:
        counts[m.split(".")[0]] += 1
    return counts


def _ticks(names: list[str] | set[str]) -> str:
    return ", ".join(f"`{n}`" for n in sorted(names)) or "none"


# --- sections ----------------------------------------------------------------------------------
def measure(n: int) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, float]]]:
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}
    for statement in CASES.values():  # unmeasured: warm the file cache, write any stale .pyc
        run_case(statement)
    for _ in range(n):  # interleaved, so drift hits every case alike
        for case, statement in CASES.items():
            runs[case].append(run_case(statement))
    med = {
        case: {
            "import_ms": statistics.median(r["seconds"] for r in rs) * 1000,
            "wall_ms": statistics.median(r["wall"] for r in rs) * 1000,
            "rss_mb": statistics.median(r["maxrss_kb"] for r in rs) / 1024,
            "modules": len(rs[0]["loaded"]),
        }
        for case, rs in runs.items()
    }
    return runs, med


def print_timings(n: int, med: dict[str, dict[str, float]]) -> float:
    print(f"## Cold start: `import app` vs the bare dependencies (median of {n} fresh interpreters)\n")
    print(f"Python {sys.version.split()[0]} at `{sys.executable}`, cwd `{ROOT}`.\n")
    print("| case | import statement (ms) | whole process (ms) | peak RSS (MiB) | modules loaded |")
    print("|---|---|---|---|---|")
    for case in CASES:
        m = med[case]
        print(
            f"| {LABELS[case]} | {m['import_ms']:.1f} | {m['wall_ms']:.1f} | {m['rss_mb']:.1f} "
            f"| {m['modules']:.0f} |"
        )
    print()
    base, bare, used, app = med["baseline"], med["bare"], med["bare_used"], med["app"]

    def ratio(b: float, a: float) -> str:
        value = b / a if a > 0 else float("inf")
        return f"{value:.2f} ({'PASS' if value <= TARGET else 'FAIL'})"

    def sub(m: dict[str, float], key: str) -> float:
        return m[key] - base[key]

    print(f"| ratio (b)/(a), target ≤ {TARGET} | import time | process time | peak RSS |")
    print("|---|---|---|---|")
    print(
        f"| raw | {ratio(app['import_ms'], bare['import_ms'])} | {ratio(app['wall_ms'], bare['wall_ms'])} "
        f"| {ratio(app['rss_mb'], bare['rss_mb'])} |"
    )
    print(
        f"| `pass` baseline subtracted | {ratio(sub(app, 'import_ms'), sub(bare, 'import_ms'))} "
        f"| {ratio(sub(app, 'wall_ms'), sub(bare, 'wall_ms'))} "
        f"| {ratio(sub(app, 'rss_mb'), sub(bare, 'rss_mb'))} |"
    )
    print(
        f"| (b)/(a'), information: app over the submodules it needs | "
        f"{app['import_ms'] / used['import_ms']:.2f} | {app['wall_ms'] / used['wall_ms']:.2f} "
        f"| {app['rss_mb'] / used['rss_mb']:.2f} |"
    )
    print()
    print(
        "The import statement is timed inside the child, so it already excludes interpreter start-up "
        "(its `pass` baseline is ~0); the process time and RSS include start-up, which the second row "
        "subtracts.\n"
    )
    return app["import_ms"] / bare["import_ms"]


def print_modules(runs: dict[str, list[dict[str, Any]]]) -> None:
    """What `import app` loads beyond the bare set, with its own (self) import time."""
    loaded_bare = set(runs["bare"][0]["loaded"])
    loaded_used = set(runs["bare_used"][0]["loaded"])
    loaded_app = set(runs["app"][0]["loaded"])
    per_run = [parse_importtime(run_case(APP, ("-X", "importtime"))["stderr"]) for _ in range(3)]
    self_ms = {name: statistics.median(r.get(name, 0.0) for r in per_run) for name in set().union(*per_run)}
    extra = loaded_app - loaded_bare
    beyond_used = _top(loaded_app - loaded_used)
    print("### Modules `import app` loads beyond (a)\n")
    print(
        f"{len(extra)} modules beyond (a)'s {len(loaded_bare)}; {len(loaded_app - loaded_used)} beyond "
        f"(a')'s {len(loaded_used)}. New top-level modules: "
        f"{_ticks(set(_top(loaded_app)) - set(_top(loaded_bare)))}.\n"
    )
    print(
        "| top-level | modules beyond (a) | of which beyond (a') "
        "| self import time in `import app` (ms, -X importtime, median of 3) |"
    )
    print("|---|---|---|---|")
    for name, count in sorted(_top(extra).items(), key=lambda kv: -self_ms.get(kv[0], 0.0)):
        print(f"| `{name}` | {count} | {beyond_used.get(name, 0)} | {self_ms.get(name, 0.0):.1f} |")
    print()
    print(
        f"Loaded by (a) but not by `import app`: {_ticks(set(_top(loaded_bare)) - set(_top(loaded_app)))}.\n"
    )
    others = {m for m in loaded_app - loaded_used if not m.startswith(("chalicelib", "app"))}
    print(f"Third-party/stdlib modules `import app` loads beyond (a'): {_ticks(others)}.\n")


def print_class_construction() -> None:
    """Cirrus's own share: pydantic models and dataclasses built at import."""
    attributions = [_child(ATTRIBUTE)[0] for _ in range(5)]
    print("### Class construction in Cirrus's modules during `import app` (median of 5)\n")
    print("| what | classes | ms |")
    print("|---|---|---|")
    for kind in ("pydantic models", "dataclasses"):
        count = attributions[0]["spent"][kind][0]
        ms = statistics.median(a["spent"][kind][1] for a in attributions) * 1000
        print(f"| {kind} defined in `app`/`chalicelib` | {count} | {ms:.1f} |")
    total = statistics.median(a["total"] for a in attributions) * 1000
    print(f"| whole `import app` in these runs (pydantic imported first) | | {total:.1f} |")
    print()


def probe(statement: str) -> dict[tuple[str, str, str], int]:
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for kind, ours, cause in _child(f"STATEMENT = {statement!r}\n{PROBE}")[0]:
        counts[(kind, ours, cause)] += 1
    return counts


def print_io() -> list[str]:
    """I/O during the import of (a) and (b); returns the network events of (b)."""
    bare_io, app_io = probe(BARE), probe(APP)
    print("### I/O during the import (audit hooks: sockets, subprocesses, non-source files opened)\n")
    print("| during | event | times | triggered from (Cirrus frame) | done by |")
    print("|---|---|---|---|---|")
    for label, io in (("(a) bare", bare_io), ("(b) `import app`", app_io)):
        for (kind, ours, cause), n in sorted(io.items()):
            print(f"| {label} | `{kind}` | {n} | {ours} | {cause} |")
    print()
    app_only = {kind for kind, _, _ in app_io} - {kind for kind, _, _ in bare_io}
    network = sorted({kind for kind, _, _ in app_io if kind.startswith(NETWORK)})
    print(
        f"Events of (b) not in (a): {_ticks(app_only)}. "
        f"Network (connect/resolve/send, subprocess) during `import app`: {_ticks(network)}.\n"
    )
    return network


def _bytecode_run(
    python: str, env_extra: dict[str, str], cwd: str, extra_args: tuple[str, ...] = ()
) -> dict[str, Any]:
    env = {**child_env(), **env_extra}
    done = subprocess.run(
        [python, *extra_args, "-c", BYTECODE_CHILD],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr[-2000:]}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH"))
    return dict(json.loads(line[5:]))


def _bytecode_rows(
    n: int, cases: dict[str, tuple[str, dict[str, str], str, tuple[str, ...]]]
) -> dict[str, Any]:
    """Interleaved runs of each case; median import ms and the module split of the last run."""
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    for _ in range(n):
        for case, (python, env, cwd, extra) in cases.items():
            runs[case].append(_bytecode_run(python, env, cwd, extra))
    return {
        case: {
            "ms": statistics.median(r["seconds"] for r in rs) * 1000,
            "cpu_ms": statistics.median(r["cpu"] for r in rs) * 1000,
            "sources": rs[-1]["sources"],
        }
        for case, rs in runs.items()
    }


def print_bytecode(n: int, bundle: str | None) -> None:
    """`import app` with and without bytecode (issue 19: the bundle ships .pyc)."""
    with tempfile.TemporaryDirectory(prefix="cirrus-pycache-") as tmp:
        warm = os.path.join(tmp, "warm")
        _bytecode_run(sys.executable, {"PYTHONPYCACHEPREFIX": warm}, ROOT)  # writes the cache
        cases: dict[str, tuple[str, dict[str, str], str, tuple[str, ...]]] = {
            "with": (sys.executable, {"PYTHONPYCACHEPREFIX": warm, "PYTHONDONTWRITEBYTECODE": "1"}, ROOT, ()),
        }
        # Each "without" run gets a prefix nothing was ever written to.
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        cases["without"] = (
            sys.executable,
            {"PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"},
            ROOT,
            (),
        )
        if bundle:
            os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
            sys.path.append(os.path.join(ROOT, "infra", "cdk"))
            from cirrus_infra.bundle import find_python

            python = find_python()
            if python is None:
                raise SystemExit("--bundle needs a Python 3.12 (CIRRUS_BUNDLE_PYTHON)")
            bare = os.path.join(tmp, "bundle-without-pyc")
            shutil.copytree(bundle, bare, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            lam = {"PYTHONDONTWRITEBYTECODE": "1"}
            cases["bundle, with"] = (python, {**lam, "PYTHONPATH": bundle}, bundle, ("-S",))
            cases["bundle, without"] = (python, {**lam, "PYTHONPATH": bare}, bare, ("-S",))
        med = _bytecode_rows(n, cases)
    print(f"### `import app` with and without bytecode (median of {n} fresh interpreters)\n")
    print(
        "| case | interpreter | import, CPU (ms) | import, wall (ms) "
        "| modules with a source: Cirrus / third-party / stdlib |"
    )
    print("|---|---|---|---|---|")
    for case in cases:
        version = "3.12, bundle only (-S)" if case.startswith("bundle") else sys.version.split()[0]
        split = " / ".join(str(v) for v in med[case]["sources"].values())
        print(f"| {case} `.pyc` | {version} | {med[case]['cpu_ms']:.0f} | {med[case]['ms']:.0f} | {split} |")
    print()
    print("CPU time (`time.process_time`) is what a busy machine distorts least; the ratios use it.\n")
    ratio = med["without"]["cpu_ms"] / med["with"]["cpu_ms"]
    modules = sum(med["without"]["sources"].values())
    print(
        f"Without bytecode `import app` takes **{ratio:.2f} x** as long ({modules} modules compiled, stdlib "
        "included, since the prefix hides its pycs too)."
    )
    if bundle:
        b_ratio = med["bundle, without"]["cpu_ms"] / med["bundle, with"]["cpu_ms"]
        compiled = sum(v for k, v in med["bundle, without"]["sources"].items() if k != "stdlib")
        print(
            f" As Lambda runs the bundle (stdlib precompiled by the runtime): **{b_ratio:.2f} x** "
            f"({med['bundle, without']['cpu_ms']:.0f} vs {med['bundle, with']['cpu_ms']:.0f} ms CPU; "
            f"{compiled} "
            "modules of the bundle compiled at every cold start without its pycs)."
        )
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=7, help="runs per case (default 7)")
    parser.add_argument("--bundle", default=None, help="also measure a built x86_64 bundle directory")
    parser.add_argument("--bytecode-only", action="store_true", help="only the bytecode section")
    args = parser.parse_args()
    if args.bytecode_only:
        print_bytecode(args.n, args.bundle)
        return 0
    runs, med = measure(args.n)
    ratio = print_timings(args.n, med)
    print_modules(runs)
    print_class_construction()
    network = print_io()
    print_bytecode(args.n, args.bundle)
    ok = ratio <= TARGET and not network
    print(f"**{'PASS' if ok else 'FAIL'}**: import-time ratio (b)/(a) ≤ {TARGET} and no network at import.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
