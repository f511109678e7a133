"""Driving Waldur's web UI (HomePort) in headless Chromium against the local stack, as a user would.

`LocalStack` starts `python -m chalicelib.local` with a HomePort build (CIRRUS_HOMEPORT_DIR) on a free
port and reads its banner. `Portal` is one signed-in browser tab: every API answer the page gets is
recorded, so a journey fails on any failed API call (4xx, 5xx, or a request that never completed),
on any uncaught script error and on HomePort's error messages, not only on what it asserts.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
HOMEPORT_BUILD = ROOT.parent / "shared" / "homeport" / "build"
# Where this workplace keeps its HomePort build, for a clone that is not beside it (CI's).
WORKPLACE_BUILD = Path("/work/shared/homeport/build")
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
OUTPUT = Path(os.environ.get("CIRRUS_TEST_OUTPUT", ROOT / "test-output")) / "browser"
# Chromium on this kind of machine: no sandbox as root, no GPU, and nothing that calls out to Google
# (the network is closed; without these flags Chromium retries those connections at every start).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What HomePort shows when something failed, besides failed calls (its translations of these).
ERROR_TEXTS = (
    "Unable to bootstrap application",
    "Unable to fetch data",
    "Unable to load",
    "You don't have enough permissions",
    "don't have enough permissions to view this page",
    "Something went wrong",
)
TIMEOUT_MS = 45_000


def homeport_dir() -> Path | None:
    raw = os.environ.get("CIRRUS_HOMEPORT_DIR", "").strip()
    candidates = [Path(raw)] if raw else [HOMEPORT_BUILD, WORKPLACE_BUILD]
    return next((path for path in candidates if (path / "index.html").is_file()), None)


def chromium_path() -> str | None:
    return next((p for p in CHROMIUM_PATHS if os.access(p, os.X_OK)), None)


def missing_requirement() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if chromium_path() is None:
        return (
            "no Chromium at /usr/bin/chromium (Debian's `chromium` package; `make test` installs it as root)"
        )
    if homeport_dir() is None:
        return f"no HomePort build (set CIRRUS_HOMEPORT_DIR, or put one at {HOMEPORT_BUILD})"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (.venv: pip install -e '.[dev]')"
    return None


@dataclass
class Banner:
    url: str
    token: str
    staff: tuple[str, str]
    owner: tuple[str, str]
    customer_id: str
    project_id: str
    offering_id: str


PATTERNS = {
    "url": r"Cirrus is running on (http://\S+)/api/",
    "token": r"^\s*token:\s+(\S+)",
    "staff": r"staff user:\s+(\S+)\s+password:\s+(\S+)",
    "owner": r"demo owner:\s+(\S+)\s+password:\s+(\S+)",
    "demo": r"demo:\s+customer (\w+), project (\w+)",
    "offering": r"catalog:\s+offering \S+/marketplace-public-offerings/(\w+)/",
    # The banner's last line: everything above it (the Cognito lines too) is in the log by then.
    "ready": r"(Press Ctrl-C to stop)\.",
}


class LocalStack:
    """`python -m chalicelib.local` with HomePort, keeping no data; its output goes to `log`."""

    def __init__(self, log: Path, homeport: Path, env: dict[str, str] | None = None) -> None:
        from chalicelib.local.aws import free_port

        clean = {k: v for k, v in os.environ.items() if not k.startswith("CIRRUS_")}
        clean.update(
            CIRRUS_PORT=str(free_port()),
            CIRRUS_DATA_DIR="none",
            CIRRUS_HOMEPORT_DIR=str(homeport),
            PYTHONUNBUFFERED="1",
        )
        clean.update(env or {})  # may set CIRRUS_PORT too
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local"],
            cwd=ROOT,
            env=clean,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._copy, args=(self.process.stdout,), daemon=True).start()

    def _copy(self, stream: IO[str]) -> None:
        for line in stream:
            self.log.write(line)
            self.log.flush()
            self.lines.put(line.rstrip("\n"))

    def banner(self, timeout: float = 240.0) -> Banner:
        found: dict[str, tuple[str, ...]] = {}
        deadline = time.monotonic() + timeout
        while len(found) < len(PATTERNS) and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the local stack stopped (exit {self.process.returncode}); see {self.log.name}"
                )
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            for key, pattern in PATTERNS.items():
                if match := re.search(pattern, line):
                    found[key] = match.groups()
        if len(found) < len(PATTERNS):
            raise RuntimeError(f"the local stack did not start within {timeout:.0f} s; see {self.log.name}")
        return Banner(
            url=found["url"][0],
            token=found["token"][0],
            staff=(found["staff"][0], found["staff"][1]),
            owner=(found["owner"][0], found["owner"][1]),
            customer_id=found["demo"][0],
            project_id=found["demo"][1],
            offering_id=found["offering"][0],
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@dataclass
class Problems:
    """What went wrong on a page since the last check."""

    failed_calls: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.failed_calls.clear()
        self.page_errors.clear()


class Portal:
    """One browser tab on HomePort, signed in through its own login form."""

    def __init__(self, context: Any, base_url: str, name: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.context = context
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.problems = Problems()
        self.calls: list[tuple[str, str, int]] = []  # method, path, status of every API answer
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("pageerror", lambda error: self.problems.page_errors.append(str(error)[:500]))

    # --- what the page does ------------------------------------------------------------------
    def _api_path(self, url: str) -> str | None:
        if not url.startswith(self.base_url):
            return None
        path = url[len(self.base_url) :]
        return path if path.startswith(("/api/", "/api-auth/")) else None

    def _on_response(self, response: Any) -> None:
        path = self._api_path(response.url)
        if path is None:
            return
        method = response.request.method
        self.calls.append((method, path, response.status))
        if response.status >= 400:
            self.problems.failed_calls.append(f"{response.status} {method} {path}")

    def _on_request_failed(self, request: Any) -> None:
        path = self._api_path(request.url)
        failure = request.failure or ""
        # A request the page itself dropped when it moved on (net::ERR_ABORTED) is not a failure.
        if path is not None and "ERR_ABORTED" not in failure:
            self.problems.failed_calls.append(f"no answer {request.method} {path}: {failure}")

    # --- journeys ------------------------------------------------------------------------------
    def sign_in(self, username: str, password: str) -> None:
        """HomePort's own login page: the local account form, then its landing page."""
        page = self.page
        page.goto(f"{self.base_url}/login/")
        agree = page.get_by_role("button", name="I agree")
        page.get_by_text("Sign in with local account").click()
        if agree.count():
            agree.click()
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(re.compile(r".*/profile/.*|.*/organizations/.*|.*/dashboard/.*"))
        self.settle()
        self.check("sign in")

    def visit(self, path: str, expect: Iterable[str] = (), shot: str | None = None) -> None:
        """Open `path`, wait until HomePort is done loading, and check the page: the texts in
        `expect` are on screen, no API call failed, nothing errored."""
        self.page.goto(f"{self.base_url}{path}")
        self.settle()
        self.expect(*expect)
        if shot:
            self.screenshot(shot)
        self.check(path)

    def expect(self, *texts: str) -> None:
        for text in texts:
            self.page.get_by_text(text, exact=False).first.wait_for(state="visible")

    def settle(self) -> None:
        """Wait until no API call is in flight and no spinner turns (HomePort's `fa-spinner`)."""
        page = self.page
        page.wait_for_load_state("networkidle")
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while self._spinning():
            if time.monotonic() > deadline:
                raise AssertionError(f"{page.url}: still loading after {TIMEOUT_MS / 1000:.0f} s")
            page.wait_for_timeout(250)
        page.wait_for_load_state("networkidle")

    def _spinning(self) -> int:
        """Spinners of loading parts; a state badge's (a resource Creating, an order Executing) turns
        as long as the state lasts and is not a page still loading."""
        page = self.page
        turning = page.locator(".fa-spinner:visible, .spinner-border:visible").count()
        return int(turning - page.locator(".badge .fa-spinner:visible").count())

    def check(self, where: str) -> None:
        shown = [text for text in ERROR_TEXTS if self.page.get_by_text(text, exact=False).count()]
        problems = (
            [f"failed API call: {c}" for c in self.problems.failed_calls]
            + [f"page error: {e}" for e in self.problems.page_errors]
            + [f"error on screen: {t}" for t in shown]
        )
        self.problems.clear()
        assert not problems, f"{self.name} at {where} ({self.page.url}):\n  " + "\n  ".join(problems)

    def screenshot(self, name: str) -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path = OUTPUT / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path
