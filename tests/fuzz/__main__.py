"""`make fuzz`: the long schemathesis run against the whole local stack as `make run` starts it (moto
server, workers running the workflows, the stream reader), as staff and as the demo customer owner.

    CIRRUS_FUZZ_SEED      the run's seed (default: a new one, printed, so a finding can be replayed)
    CIRRUS_FUZZ_EXAMPLES  examples per operation in the fuzzing phase (default 100)
    CIRRUS_FUZZ_STEPS     the stateful phase's steps per scenario (default 20)
    CIRRUS_FUZZ_ONLY      a path regex: fuzz only those operations (e.g. '^/api/customers/')
    CIRRUS_FUZZ_REPORT    where the findings go (default fuzz-report/): one JSON per caller, and
                          stack.log, the stack's output (a server error's traceback is there)

Exit status 0 when neither run found anything."""

from __future__ import annotations

import dataclasses
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from tests.fuzz import fuzzing

ROOT = Path(__file__).resolve().parents[2]


class LocalStack:
    """`python -m chalicelib.local` in a subprocess, keeping no data, its output copied to a log."""

    def __init__(self, log: Path) -> None:
        from chalicelib.local.aws import free_port

        env = {k: v for k, v in os.environ.items() if not k.startswith("CIRRUS_")}
        env.update(CIRRUS_PORT=str(free_port()), CIRRUS_DATA_DIR="none", PYTHONUNBUFFERED="1")
        self.log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._copy, args=(self.process.stdout,), daemon=True).start()

    def _copy(self, stream: IO[str]) -> None:
        for line in stream:
            self.log.write(line)
            self.lines.put(line.rstrip("\n"))

    def banner(self, timeout: float = 300.0) -> dict[str, str]:
        """The URL, the staff token and the demo owner's credentials the stack prints at start."""
        found: dict[str, str] = {}
        patterns = {
            "url": r"Cirrus is running on (http://\S+)/api/",
            "token": r"^\s*token:\s+(\S+)",
            "owner": r"demo owner:\s+(\S+)\s+password:\s+(\S+)",
            "staff": r"staff user:\s+(\S+)\s+password:\s+(\S+)",
        }
        deadline = time.monotonic() + timeout
        while len(found) < 6 and time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise SystemExit(f"the local stack stopped (exit {code}); see {self.log.name}")
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            for key, pattern in patterns.items():
                if match := re.search(pattern, line):
                    if key in ("owner", "staff"):
                        found[f"{key}_username"], found[f"{key}_password"] = match.groups()
                    else:
                        found[key] = match.group(1)
        if len(found) < 6:
            raise SystemExit(f"the local stack did not start within {timeout:.0f} s; see {self.log.name}")
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def main() -> int:
    seed = int(os.environ.get("CIRRUS_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
    profile = dataclasses.replace(
        fuzzing.long_profile(seed),
        max_examples=int(os.environ.get("CIRRUS_FUZZ_EXAMPLES", "100")),
        stateful_steps=int(os.environ.get("CIRRUS_FUZZ_STEPS", "20")),
        only=os.environ.get("CIRRUS_FUZZ_ONLY") or None,
    )
    report = Path(os.environ.get("CIRRUS_FUZZ_REPORT", "fuzz-report"))
    report.mkdir(parents=True, exist_ok=True)
    print(
        f"make fuzz: seed {seed} (CIRRUS_FUZZ_SEED={seed} replays it), {profile.max_examples} examples"
        f" per operation, findings in {report}/",
        flush=True,
    )
    stack = LocalStack(report / "stack.log")
    try:
        started = stack.banner()
        url = started["url"]
        staff = (started["staff_username"], started["staff_password"])
        # The owner first: staff's run may deactivate the owner or change its password on this one
        # long-lived stack (the bounded test gives each caller a fresh one), which would leave the
        # owner's run nothing but 401s.
        callers = [
            fuzzing.caller(url, "owner", started["owner_username"], started["owner_password"]),
            fuzzing.caller(url, "staff", *staff, started["token"]),
        ]
        outcomes = []
        for caller in callers:
            outcome = fuzzing.run(url, caller, profile, progress=lambda line: print(line, flush=True))
            outcomes.append(outcome)
            fuzzing.dump([outcome], str(report / f"{caller.label}.json"))
            print(outcome.report(), flush=True)
    finally:
        stack.stop()
    vacuous = [o for o in outcomes if not _reached_the_api(o)]
    for outcome in outcomes:
        print(outcome.summary())
    for outcome in vacuous:
        print(f"vacuous: {outcome.summary()[:80]}... (almost no 2xx: the caller was signed out?)")
    return 1 if vacuous or any(outcome.failures or outcome.errors for outcome in outcomes) else 0


def _reached_the_api(outcome: fuzzing.Outcome) -> bool:
    """As the bounded test asks: more than one answer in 20 is a success (a revoked token would make
    every answer a 401 and the run say nothing)."""
    return sum(n for code, n in outcome.statuses.items() if 200 <= code < 300) > outcome.requests // 20


if __name__ == "__main__":
    sys.exit(main())
