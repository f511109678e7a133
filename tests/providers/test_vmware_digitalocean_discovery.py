"""Discovering the VMware and DigitalOcean plugins imports neither SDK: the catalog's first use (a
Lambda's cold start) pays for the entry points' small modules only; the SDKs come with a backend."""

from __future__ import annotations

import subprocess
import sys


def test_discovery_imports_no_sdk() -> None:
    script = (
        "import sys\n"
        "from chalicelib.providers.registry import Registry\n"
        "registry = Registry()\n"
        "assert registry.get('VMware.VirtualMachine') and registry.get('DigitalOcean.Droplet')\n"
        "print(sorted(m for m in ('pydo', 'azure', 'requests', 'urllib3') if m in sys.modules))\n"
    )

    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)

    assert done.stdout.strip().splitlines()[-1] == "[]"
