"""The composition root wires the services; importing a module registers nothing (issue 14, item
6: what is wired must not depend on what happened to be imported first)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import chalicelib.services.offerings
from chalicelib.domain.roles import ScopeType
from chalicelib.services import memberships
print(ScopeType.OFFERING in memberships.RESOLVERS)
from chalicelib import bootstrap
bootstrap.wire_services()
print(ScopeType.OFFERING in memberships.RESOLVERS)
"""


def test_offerings_become_a_scope_of_roles_when_bootstrap_wires_them_not_when_imported() -> None:
    # A fresh interpreter: this test process has imported (and maybe wired) everything already.
    found = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False)
    assert found.stdout.split() == ["False", "True"], found.stderr
