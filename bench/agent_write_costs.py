#!/usr/bin/env python
"""What each of the site agent's per-cycle bookkeeping calls costs in DynamoDB, in steady state.

    .venv/bin/python bench/agent_write_costs.py          # a Markdown table
    .venv/bin/python bench/agent_write_costs.py --json

The stock waldur-site-agent makes these calls every cycle of every mode (bench/client_mix.json on
the i19-mix branch): register_service/, register_processor/ and a PUT of its identity, then per
resource refresh_last_sync/ and set_backend_metadata/ (membership_sync) or set_user_usages/
(report). In-process moto with the Chalice test client, the scenario of tests/agent_bookkeeping.py
(each call made once, then measured on its repeat), priced by tests/ddb_costs.py: calls, read and
write request units at on-demand rules (1 WRU per KB, 2 inside a transaction, +1 per KB for each
global secondary index copy; 1 RRU per 4 KB read consistently, half eventually).
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from chalicelib.local.aws import use_offline_environment  # noqa: E402

use_offline_environment("cirrus-bench")  # never a real AWS account

import argparse  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    args = parser.parse_args()

    from chalice.test import Client

    from app import app
    from tests.agent_bookkeeping import COMPONENTS, Agent, dumps, steady_costs, table
    from tests.conftest import make_account
    from tests.ddb_costs import Meter
    from tests.marketplace_helpers import build_market, make_offering
    from tests.workflow_helpers import embedded_stack

    with embedded_stack():
        staff = make_account("bench-staff", is_staff=True)
        market = build_market(staff)
        market.offering = make_offering(staff, market.provider.id, name="HPC", components=COMPONENTS)
        with Client(app) as client, Meter.installed() as meter:
            agent = Agent.registered(client.http, market)
            rows = steady_costs(meter, agent)
    print(dumps(rows) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
