"""What Waldur's clients ask for that Cirrus does not serve, by feature: the README's list.

Runs the sweep of tests/compat/test_client_sweep.py (every function of waldur-api-client's 22 core
tags, every core method of python-waldur-client, as staff with placeholder arguments) against the app
served on loopback over an in-process moto, and prints each request the app has no route for (path or
verb), grouped by the collection it belongs to, as Markdown. It also prints any answer the sweep's
checks refuse (a 5xx, an echoed token, a 404 not in Waldur's shape); there should be none.

Usage: `python bench/unserved_routes.py` (after merging routes, paste its output into the README's
"What the Waldur API serves and what it does not").
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)

from chalicelib.local.aws import use_offline_environment  # noqa: E402

use_offline_environment("cirrus-bench-unserved")


def main() -> int:
    from moto import mock_aws

    from app import app
    from chalicelib import bootstrap
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.local.aws import create_table
    from chalicelib.local.server import AppServer
    from tests.compat import sweep
    from tests.conftest import make_account

    reset_settings()
    with mock_aws():
        create_table(get_settings().table_name)
        bootstrap.ensure_ready()
        staff = make_account("sweep-staff", is_staff=True, email="staff@example.org")
        server = AppServer(app, port=0).start()
        try:
            recorder = sweep.Recorder(app)
            functions = sweep.sweep_api_client(recorder, server.url, staff.token)
            methods = sweep.sweep_waldur_client(recorder, f"{server.url}/api/", staff.token)
        finally:
            server.stop()
    problems = [(e, p) for e in recorder.exchanges for p in sweep.problems(e, staff.token)]
    unserved = [e for e in recorder.exchanges if e.unserved]
    print(
        f"<!-- {functions} waldur-api-client functions and {methods} python-waldur-client methods made "
        f"{len(recorder.exchanges)} requests; {len(unserved)} reached no route -->"
    )
    for client, total in (("waldur-api-client", functions), ("python-waldur-client", methods)):
        callers = {e.caller for e in recorder.exchanges if e.client == client}
        missing = {e.caller for e in recorder.exchanges if e.client == client and e.unserved}
        served, silent = len(callers - missing), total - len(callers)
        print(f"<!-- {client}: {served} of {total} reach only served routes; "
              f"{len(missing)} reach an unserved one; {silent} made no request -->")  # fmt: skip
    print(sweep.markdown(recorder.exchanges))
    for exchange, problem in problems:
        print(f"PROBLEM {exchange.caller}: {exchange.method} {exchange.path} -> {exchange.status}: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
