"""The stock waldur-site-agent 1.0.7 with its SLURM plugin (waldur-site-agent-slurm 1.0.7,
`backend_type: slurm`), run as a site runs it, against `make run` in a subprocess, with
slurm-emulator 0.9.10 standing in for the cluster: one cycle each of `order_process`,
`membership_sync` and `report`, none with a failed HTTP call.

How the emulator stands in for SLURM: it installs console scripts named like SLURM's commands
(`sacctmgr`, `sacct`, `sinfo`, `scancel`, ... in .venv-agent/bin); the plugin runs
`<backend_settings.slurm_bin_path>/<command>` (CLI execution mode), so `slurm_bin_path` points
at .venv-agent/bin. The emulator's cluster is a JSON file (SLURM_EMULATOR_STATE_FILE, its clock
in SLURM_EMULATOR_TIME_FILE; SLURM_EMULATOR_TIME_FOLLOW_WALL=1 keeps that clock on the wall
clock, so the usage it holds falls in the month the plugin's `sacct` asks for). A fresh file is
a cluster `default` with the account `root`. The test reads that state back through the
emulator's own `sacctmgr`, and adds usage with the emulator's own console
(`slurm-emulator`, command `usage_inject <user> <node-hours> <account>`): a job record on one
standard node (64 CPUs, 512 GiB), which the plugin's `sacct --format=Account,ReqTRES,Elapsed,User`
reads back as cpu=64, mem=524288M for the injected hours.

The world is made as test_stock_agent makes it (its fixtures and `make_world`; one local stack
for this module): a `Marketplace.Slurm` offering with `plugin_options.username_generation_policy:
waldur_username` and components cpu (bought as a limit: the order's, which the plugin sets as the
account's GrpTRESMins) and mem (billed by usage, in GB-hours: `unit_factor` 61440 MB-minutes), a
project whose PI is a user, and a Create order. The modes run in a site's order: the order makes
the accounts (customer -> project -> allocation, each `<prefix><slug>`), the membership sync puts
the PI's offering user on the allocation, then the usage the cluster holds is reported. Besides
the HTTP calls, the agent's log may hold no error (a failed sacctmgr call is logged, not raised).

The agent's homedir creation is turned off in the site's configuration: the emulator's users have
no Unix account, so `mkhomedir_helper` fails (an error in the log, nothing Cirrus serves).
`event_process` is not run here: its behaviour without a broker does not depend on the backend
(test_stock_agent runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.test_local_stack import ROOT, Stack
from tests.site_agent import test_stock_agent as stock
from tests.site_agent.test_stock_agent import Api, Recorder, World, make_world, run_agent

pytestmark = pytest.mark.agent

# test_stock_agent's fixtures, instantiated anew for this module (one local stack, one recorder)
stack = stock.stack
base_url = stock.base_url
recorder = stock.recorder

BIN = ROOT / ".venv-agent" / "bin"
PREFIX = {"customer": "c_", "project": "p_", "allocation": "a_"}
NODE_HOURS = 2.0  # the PI's injected usage
NODE = {"cpu": 64, "mem": 512 * 1024}  # the emulator's standard node: CPUs, MB
# The offering's components: their billing type, unit, and how many of SLURM's units (cpu-minutes,
# MB-minutes: what the plugin reads from sacct and writes to GrpTRESMins) make one of the
# offering's (`unit_factor` in the agent's configuration). cpu is bought as a limit (the order's,
# which the plugin sets on the account), mem is billed by usage.
UNITS = {"cpu": ("limit", "cpu-minutes", 1), "mem": ("usage", "GB-hours", 1024 * 60)}
COMPONENTS = [
    {"type": t, "name": t.upper(), "measured_unit": unit, "billing_type": billing, "limit_period": "month",
     "limit_amount": 100000} for t, (billing, unit, _) in UNITS.items()
]  # fmt: skip
LIMITS = {"cpu": 20000}  # the order's


def errors(log: str) -> list[str]:
    """The agent's error-level log events: a backend step that failed says so only there."""
    found = []
    for line in filter(str.strip, log.splitlines()):
        try:
            event = json.loads(line)
        except ValueError:
            found.append(line[:300])  # not the agent's structured log: a crash's traceback
            continue
        if event.get("level") in ("error", "critical"):
            found.append(str(event.get("event"))[:300])
    return found


@dataclass(frozen=True)
class Cluster:
    """The emulator's cluster: its state files, and its commands run as the plugin runs them."""

    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "SLURM_EMULATOR_STATE_FILE": str(self.home / "slurm-state.json"),
            "SLURM_EMULATOR_TIME_FILE": str(self.home / "slurm-time.json"),
            "SLURM_EMULATOR_TIME_FOLLOW_WALL": "1",
        }

    def run(self, command: str, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([str(BIN / command), *args], input=stdin, capture_output=True, text=True,
                              env={**os.environ, **self.env}, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, f"{command} {args}: {done.stdout} {done.stderr}"
        return done.stdout

    def rows(self, *args: str) -> list[list[str]]:
        out = self.run("sacctmgr", "--parsable2", "--noheader", *args)
        return [line.split("|") for line in out.splitlines() if line]

    def parents(self) -> dict[str, str]:
        """Account -> parent account, from the account-level associations."""
        found = self.rows("list", "association", "format=account,user,parentname")
        return {row[0]: row[2] for row in found if not row[1]}

    def limits_of(self, account: str) -> str:
        """The account's GrpTRESMins (its account-level association)."""
        found = self.rows(
            "list", "association", "format=account,user,grptresmins", "where", f"account={account}"
        )
        return ",".join(row[2] for row in found if row[0] == account and not row[1])

    def users_of(self, account: str) -> list[str]:
        found = self.rows("list", "association", "format=account,user", "where", f"account={account}")
        return sorted(row[1] for row in found if row[0] == account and row[1])

    def inject_usage(self, user: str, node_hours: float, account: str) -> None:
        out = self.run("slurm-emulator", stdin=f"usage_inject {user} {node_hours} {account}\nexit\n")
        assert f"Injected {node_hours}Nh usage for {user} in {account}" in out, out


@pytest.fixture(scope="module")
def world(stack: Stack, base_url: str, recorder: Recorder) -> World:
    return make_world(stack, base_url, recorder, COMPONENTS, LIMITS)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    if not (BIN / "sacctmgr").exists():
        pytest.fail("slurm-emulator is not installed in .venv-agent: run `make .venv-agent/.installed`")
    return Cluster(tmp_path_factory.mktemp("slurm"))


def slurm_config_of(world: World, cluster: Cluster) -> Path:
    """The agent's configuration for the SLURM plugin, as a site writes it; the emulator's
    commands are the cluster's binaries."""
    path = cluster.home / "agent-slurm.yaml"
    components = "".join(
        f"""      {name}:
        measured_unit: "{unit}"
        unit_factor: {factor}
        accounting_type: "{billing}"
        label: "{name.upper()}"
"""
        for name, (billing, unit, factor) in UNITS.items()
    )
    path.write_text(
        f"""sentry_dsn: ""
timezone: "UTC"
offerings:
  - name: "Cluster"
    waldur_api_url: "{world.agent_api}"
    waldur_api_token: "{world.seller_token}"
    waldur_offering_uuid: "{world.offering}"
    backend_type: "slurm"
    order_processing_backend: "slurm"
    reporting_backend: "slurm"
    membership_sync_backend: "slurm"
    verify_ssl: false
    backend_settings:
      default_account: "root"
      customer_prefix: "{PREFIX["customer"]}"
      project_prefix: "{PREFIX["project"]}"
      allocation_prefix: "{PREFIX["allocation"]}"
      slurm_bin_path: "{BIN}"
      # no Unix account behind the emulator's users: mkhomedir_helper would fail for each
      enable_user_homedir_account_creation: false
    backend_components:
{components}"""
    )
    return path


# --- the modes --------------------------------------------------------------------------------------
def order_process_creates_the_account(
    world: World, cluster: Cluster, config: Path, recorder: Recorder
) -> None:
    staff = Api(world.api, world.staff_token)

    def finished() -> bool:
        return staff.get(f"marketplace-orders/{world.order}/")["state"] in ("done", "erred")

    run = run_agent("order_process", config, recorder, finished, env=cluster.env)

    order = staff.get(f"marketplace-orders/{world.order}/")
    resource = staff.get(f"marketplace-resources/{world.resource}/")
    assert order["state"] == "done", (
        f"order {order['state']}; failed calls: {run.failed()}\n{run.log[-3000:]}"
    )
    assert resource["state"] == "OK"
    # The allocation account is `<allocation_prefix><resource slug>`, under the project's account,
    # under the customer's, under root; it is the resource's backend id.
    provider = staff.get(f"marketplace-provider-resources/{world.resource}/")
    allocation = f"{PREFIX['allocation']}{resource['slug']}".lower()
    project = f"{PREFIX['project']}{provider['project_slug']}"
    customer = f"{PREFIX['customer']}{provider['customer_slug']}"
    assert resource["backend_id"] == allocation
    parents = cluster.parents()
    assert (parents.get(allocation), parents.get(project), parents.get(customer)) == (
        project,
        customer,
        "root",
    )
    # the order's limits, in SLURM's units, are the account's budget
    assert provider["limits"] == LIMITS
    assert cluster.limits_of(allocation) == ",".join(f"{t}={n * UNITS[t][2]}" for t, n in LIMITS.items())
    assert run.failed() == []
    assert errors(run.log) == []


def membership_sync_puts_the_pi_on_the_account(
    world: World, cluster: Cluster, config: Path, recorder: Recorder
) -> None:
    staff = Api(world.api, world.staff_token)
    allocation = staff.get(f"marketplace-resources/{world.resource}/")["backend_id"]

    def finished() -> bool:
        return world.pi_username in cluster.users_of(allocation)

    run = run_agent("membership_sync", config, recorder, finished, env=cluster.env)

    assert cluster.users_of(allocation) == [world.pi_username], (
        f"failed calls: {run.failed()}\n{run.log[-3000:]}"
    )
    users = staff.get("marketplace-offering-users/", offering_uuid=world.offering)
    assert [(u["user_username"], u["username"], u["state"]) for u in users] == [
        (world.pi_username, world.pi_username, "OK")
    ]
    # nobody removed (the agent logs each removal it makes)
    assert "Removing user" not in run.log and "Removing all users" not in run.log
    assert staff.get(f"marketplace-resources/{world.resource}/")["state"] == "OK"
    assert run.failed() == []
    assert errors(run.log) == []


def report_sends_the_usage_the_cluster_holds(
    world: World, cluster: Cluster, config: Path, recorder: Recorder
) -> None:
    staff = Api(world.api, world.staff_token)
    allocation = staff.get(f"marketplace-resources/{world.resource}/")["backend_id"]
    cluster.inject_usage(world.pi_username, NODE_HOURS, allocation)

    def finished() -> bool:
        return bool(staff.get("marketplace-component-user-usages/", resource_uuid=world.resource))

    run = run_agent("report", config, recorder, finished, env=cluster.env)

    # NODE_HOURS on one standard node, in the offering's units
    minutes = NODE_HOURS * 60
    expected = {t: f"{NODE[t] * minutes / UNITS[t][2]:.2f}" for t in NODE}
    usages = staff.get("marketplace-component-usages/", resource_uuid=world.resource)
    assert {u["type"]: u["usage"] for u in usages} == expected, (
        f"failed calls: {run.failed()}\n{run.log[-3000:]}"
    )
    shares = staff.get("marketplace-component-user-usages/", resource_uuid=world.resource)
    assert {(s["component_type"], s["username"], s["usage"]) for s in shares} == {
        (t, world.pi_username, value) for t, value in expected.items()
    }
    [account] = staff.get("marketplace-offering-users/", offering_uuid=world.offering)
    assert {s["user"] for s in shares} == {account["url"]}
    assert run.failed() == []
    assert errors(run.log) == []


MODES: tuple[tuple[str, Callable[[World, Cluster, Path, Recorder], None]], ...] = (
    ("order_process", order_process_creates_the_account),
    ("membership_sync", membership_sync_puts_the_pi_on_the_account),
    ("report", report_sends_the_usage_the_cluster_holds),
)


def test_the_stock_agent_runs_a_slurm_cluster(world: World, cluster: Cluster, recorder: Recorder) -> None:
    config = slurm_config_of(world, cluster)
    problems = {}
    for mode, check in MODES:
        try:
            check(world, cluster, config, recorder)
        except AssertionError as failure:
            problems[mode] = str(failure)[:4000]
    assert not problems, "\n\n".join(f"{mode}: {problem}" for mode, problem in problems.items())
