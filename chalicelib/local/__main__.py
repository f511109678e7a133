"""`python -m chalicelib.local`: the whole local stack (what `make run` starts)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from chalicelib.config import reset_settings

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "cirrus-local-admin"


def main() -> int:
    from chalicelib.local import aws

    port = int(os.environ.get("CIRRUS_PORT", "8000"))
    username = os.environ.get("CIRRUS_ADMIN_USERNAME", DEFAULT_USERNAME)
    password = os.environ.get("CIRRUS_ADMIN_PASSWORD", DEFAULT_PASSWORD)
    aws.use_local_credentials()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    moto = aws.MotoServer(int(os.environ["CIRRUS_MOTO_PORT"]) if os.environ.get("CIRRUS_MOTO_PORT") else None)
    moto.start()
    os.environ["CIRRUS_AWS_ENDPOINT_URL"] = moto.endpoint
    os.environ.setdefault("CIRRUS_TABLE_NAME", "cirrus")
    reset_settings()

    from app import app
    from chalicelib import bootstrap
    from chalicelib.config import get_settings
    from chalicelib.local.seed import seed
    from chalicelib.local.server import AppServer

    settings = get_settings()
    aws.create_table(settings.table_name, moto.endpoint)
    bootstrap.ensure_ready()
    seeded = seed(username, password)
    server = AppServer(app, port=port).start()
    print(
        f"Cirrus is running on {server.url}/api/\n"
        f"  AWS:        moto at {moto.endpoint}, table {settings.table_name}\n"
        f"  staff user: {seeded.username}  password: {seeded.password}"
        f"  (set CIRRUS_ADMIN_USERNAME / CIRRUS_ADMIN_PASSWORD to change)\n"
        f"  token:      {seeded.token}\n"
        f"  try:        curl -H 'Authorization: Token {seeded.token}' {server.url}/api/customers/\n"
        f"  demo:       customer {seeded.customer_id}, project {seeded.project_id}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    print("Stopping Cirrus...", flush=True)
    server.stop()
    moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
