"""`python -m chalicelib.local`: the whole local stack (what `make run` starts)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.config import reset_settings
from chalicelib.local import datadir

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "cirrus-local-admin"


def main() -> int:
    from chalicelib.local import aws
    from chalicelib.local.server import PublicBindRefused, bind_host

    try:
        host, warning = bind_host(os.environ)  # loopback unless CIRRUS_ALLOW_PUBLIC_BIND=1
    except PublicBindRefused as refused:
        print(refused, file=sys.stderr, flush=True)
        return 2
    if warning:
        print(warning, file=sys.stderr, flush=True)
    from chalicelib.local import webui

    try:
        homeport_dir = webui.configured(os.environ)  # CIRRUS_HOMEPORT_DIR: a HomePort build, or none
    except webui.HomePortMissing as missing:
        print(missing, file=sys.stderr, flush=True)
        return 2
    port = int(os.environ.get("CIRRUS_PORT", "8000"))
    username = os.environ.get("CIRRUS_ADMIN_USERNAME", DEFAULT_USERNAME)
    password = os.environ.get("CIRRUS_ADMIN_PASSWORD", DEFAULT_PASSWORD)
    aws.use_local_credentials()
    from chalicelib.local import housekeeping, moto_speedups

    try:
        moto_speedups.install()  # refuses a moto release the patches were not written for
    except moto_speedups.MotoVersionMismatch as mismatch:
        print(mismatch, file=sys.stderr, flush=True)
        return 2
    housekeeping.install()  # what moto would keep forever is bounded (README: "What it keeps")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF lines would flood the terminal
    moto = aws.MotoServer(int(os.environ["CIRRUS_MOTO_PORT"]) if os.environ.get("CIRRUS_MOTO_PORT") else None)
    moto.start()
    os.environ["CIRRUS_AWS_ENDPOINT_URL"] = moto.endpoint
    os.environ.setdefault("CIRRUS_TABLE_NAME", "cirrus")
    # The README's demo receiver listens on 127.0.0.1; a deployment allows no internal network.
    os.environ.setdefault("CIRRUS_HOOK_ALLOWED_NETWORKS", aws.LOOPBACK_NETWORKS)
    from chalicelib.local import cognito

    pool = cognito.create_pool(moto.endpoint)  # bearer JWTs from this pool are accepted
    cognito.use(pool)
    reset_settings()

    from app import app
    from chalicelib import bootstrap
    from chalicelib.config import get_settings
    from chalicelib.local.profile import start_profiler
    from chalicelib.local.seed import seed
    from chalicelib.local.server import AppServer
    from chalicelib.local.stream import StreamReader, create_event_bus
    from chalicelib.local.ticker import Ticker
    from chalicelib.local.workers import Workers
    from chalicelib.workflows import registry

    settings = get_settings()
    aws.create_table(settings.table_name, moto.endpoint)
    bootstrap.ensure_ready()
    try:  # before the seed and the stream reader: restored items are not published again
        data = _open_data(settings.table_name)
    except datadir.DataDirError as refused:
        print(f"data: {refused}", file=sys.stderr, flush=True)
        moto.stop()
        return 2
    seeded = seed(username, password, data.dir.recall_token() if data else None)
    if data:
        data.dir.remember_token(seeded.token)
    aws.enable_state_machine_execution(moto.endpoint)
    queue_urls = aws.create_queues(moto.endpoint)
    aws.create_buckets(moto.endpoint)
    if data:
        data.restore_messages()
    state_machines = aws.create_state_machines(moto.endpoint, aws.LOCAL_TIMING)
    bus = create_event_bus()
    registry.load_all()
    announce = _announcer()
    workers = Workers(announce=announce).start()
    stream = StreamReader(
        announce=announce, on_read=data.dir.journal.record if data and data.dir.journal else None
    ).start()
    saver = _resume(data, announce)
    ticker = Ticker(announce=announce)
    housekeeper = housekeeping.Housekeeper(region=settings.region, announce=announce).start()
    profiler = start_profiler(os.environ)  # off unless CIRRUS_LOCAL_PROFILE=<file> (bench/local_scale.py)
    server = AppServer(app, host=host, port=port, homeport_dir=homeport_dir).start()
    # Invitation mails take their links from the public URL only (never from a request's Host).
    os.environ.setdefault("CIRRUS_PUBLIC_URL", server.url)
    reset_settings()
    catalog = f"{server.url}/api/marketplace-public-offerings/{seeded.offering_id}"
    billing = _demo_resource(seeded, username, server.url)
    print(
        f"Cirrus is running on {server.url}/api/\n"
        f"{_web_ui_line(server.url, homeport_dir)}"
        f"  AWS:        moto at {moto.endpoint}, table {settings.table_name}\n"
        f"  staff user: {seeded.username}  password: {seeded.password}"
        f"  (set CIRRUS_ADMIN_USERNAME / CIRRUS_ADMIN_PASSWORD to change)\n"
        f"  token:      {seeded.token}\n"
        f"  try:        curl -H 'Authorization: Token {seeded.token}' {server.url}/api/customers/\n"
        f"  demo:       customer {seeded.customer_id}, project {seeded.project_id}\n"
        f"  demo owner: {seeded.owner_username}  password: {seeded.owner_password}"
        " (CUSTOMER.OWNER of the demo customer, not staff)\n"
        f"  support:    {seeded.support_issues} ticket(s) at {server.url}/api/support-issues/"
        f" (HomePort: Support); support user {seeded.support_username}  password: {seeded.support_password}"
        " (sees every ticket; the demo owner sees theirs)\n"
        f"  catalog:    offering {catalog}/ (Marketplace.Basic, Active: done once its provider approves)\n"
        f"              plan     {catalog}/plans/{seeded.plan_id}/\n"
        f"  work:       queues {', '.join(queue_urls)} (+ DLQs) served by {len(workers.pollers)} workers;"
        f" ticker firing {len(ticker.schedules)} schedules;"
        f" state machines {', '.join(state_machines)} executed by moto\n"
        f"  billing:    {billing}\n"
        f"  events:     the table's stream is published to the EventBridge bus {bus} and the hooks\n"
        f"  hooks:      web hooks may reach {_networks(settings)} besides public addresses"
        " (CIRRUS_HOOK_ALLOWED_NETWORKS; this stack's own ports included: keep it on loopback)\n"
        f"  inspect:    CIRRUS_AWS_ENDPOINT_URL={moto.endpoint} {sys.executable} -m chalicelib.ops queues\n"
        f"{cognito.banner(pool, moto.endpoint, server.url, sys.executable)}"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    ticker.start()  # after the banner, so the first fires show below it
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    print("Stopping Cirrus...", flush=True)
    server.stop()  # no new request from here on
    profiler.stop()
    ticker.stop()
    housekeeper.stop()
    workers.stop()
    stream.stop()
    if saver is not None and data is not None:
        saver.stop()
        stream.drain()  # publish what was written, so the saved copy has nothing left to publish
        print(data.dir.save().saved_line(), flush=True)
        data.dir.close()
    moto.stop()
    return 0


class _Data:
    """The data directory of this run, and what it held at start (restored in two steps: the
    items before anything else writes the table, the messages once the queues exist)."""

    def __init__(self, directory: datadir.DataDir, saved: datadir.Snapshot | None, seconds: float) -> None:
        self.dir = directory
        self.saved = saved
        self.seconds = seconds  # spent restoring so far
        self.messages = 0

    def restore_messages(self) -> None:
        if self.saved is None:
            return
        started = time.perf_counter()
        self.messages, _ = datadir.restore_messages(self.saved.messages)
        self.seconds += time.perf_counter() - started


def _open_data(table_name: str) -> _Data | None:
    """The data directory (None with CIRRUS_DATA_DIR=none), its items restored; CIRRUS_FRESH=1
    moves an existing one aside first. Raises DataDirError for a directory it must not touch."""
    path = datadir.configured(os.environ)
    if path is None:
        print("data: not kept (CIRRUS_DATA_DIR=none)", flush=True)
        return None
    datadir.save_interval(os.environ)  # a bad interval stops the start, not the first save
    started = time.perf_counter()
    directory = datadir.DataDir(path, table_name)
    saved = directory.open(fresh=os.environ.get(datadir.FRESH_VAR, "").strip() == "1")
    if directory.moved_aside is not None:
        print(f"data: moved the previous data to {directory.moved_aside} ({datadir.FRESH_VAR}=1)", flush=True)
    if saved is not None:
        directory.restore(saved)
    return _Data(directory, saved, time.perf_counter() - started)


def _resume(data: _Data | None, announce: Callable[[str], None]) -> datadir.PeriodicSaver | None:
    """Once the queues, state machines and workers run: every waiting order gets its execution
    back (none survived the restart); then the periodic saves start."""
    if data is None:
        return None
    if data.saved is None:
        print(f"data: new data directory {data.dir.path}", flush=True)
    else:
        from chalicelib.domain.clock import utcnow
        from chalicelib.workflows import order_sweep

        restarted = order_sweep.resume(utcnow())["restarted"]
        outcome = datadir.Outcome(len(data.saved.items), data.messages, data.dir.path, data.seconds)
        print(outcome.resumed_line(), flush=True)
        if restarted:
            announce(f"data: {restarted} waiting order(s) got their workflow back")
    return datadir.PeriodicSaver(data.dir, datadir.save_interval(os.environ), announce).start()


def _demo_resource(seeded: Any, username: str, base_url: str, wait: float = 20.0) -> str:
    """Order the demo resource and wait (a few seconds) for its workflow to make it: its items
    are then on the demo customer's pending invoice of this month. The banner's billing line."""
    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.vocabulary import ResourceState
    from chalicelib.local.seed import DEMO_RESOURCE, order_demo_resource
    from chalicelib.store import resources

    resource_id = order_demo_resource(seeded, username)
    deadline = time.monotonic() + wait
    state = "?"
    while time.monotonic() < deadline:
        found = resources.load(seeded.customer_id, seeded.project_id, resource_id)
        state = found.state.value if found else "?"
        if found is not None and found.state is not ResourceState.CREATING:
            break
        time.sleep(0.2)
    now = utcnow()
    invoice = f"{base_url}/api/invoices/?customer_uuid={seeded.customer_id}&year={now.year}&month={now.month}"
    return f"demo resource {DEMO_RESOURCE} ({state}) is billed on the pending invoice {invoice}"


def _web_ui_line(url: str, homeport_dir: Any) -> str:
    if homeport_dir is None:
        return "  web UI:     none (set CIRRUS_HOMEPORT_DIR to a HomePort build to serve it here)\n"
    return (
        f"  web UI:     {url}/ (HomePort from {homeport_dir}; sign in with the staff or demo owner below)\n"
    )


def _networks(settings: Any) -> str:
    return ", ".join(str(n) for n in settings.hook_allowed_networks) or "no internal network"


def _announcer() -> Callable[[str], None]:
    """One line per schedule fired and per batch a worker ran (CIRRUS_LOCAL_QUIET=1 silences them)."""
    if os.environ.get("CIRRUS_LOCAL_QUIET"):
        return lambda line: None
    return lambda line: print(f"[{datetime.now():%H:%M:%S}] {line}", flush=True)


def run() -> None:
    """main(), and a failed start ends the process: its moto server and workers are threads that
    would otherwise keep it alive, serving nothing, until killed."""
    try:
        code = main()
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(1)  # nothing to save: the data directory is written only once the stack runs
    sys.exit(code)


if __name__ == "__main__":
    run()
