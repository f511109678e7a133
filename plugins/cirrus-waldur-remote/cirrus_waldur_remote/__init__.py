"""Cirrus provider plugin `Waldur.RemoteOffering`: an offering that mirrors an offering of another
Waldur-compatible API (another Cirrus, or a Waldur), its orders forwarded there through
waldur-api-client (`backend.py`), its settings checked in `options.py`, its invoices reconciled in
`reconcile.py`. Registered through the `cirrus.providers` entry point `register`.

Nothing heavy is imported here: waldur-api-client (and httpx) only when a backend is built.
"""

from __future__ import annotations

from typing import Any

from chalicelib.providers.cloud import Settings, cloud_type
from cirrus_waldur_remote.options import DEFAULTS, SECRET_OPTIONS, check_plugin_options, check_secret_options

TYPE = "Waldur.RemoteOffering"  # Waldur's marketplace_remote PLUGIN_NAME


def _factory(settings: Settings) -> Any:
    from cirrus_waldur_remote.backend import build

    return build(settings)


# The offering's components are the remote offering's own (the provider defines them as they are
# there), so the type has none built in; usage is pulled from the remote's component usages.
register = cloud_type(
    TYPE,
    "Remote Waldur offering (federation)",
    _factory,
    secret_options=SECRET_OPTIONS,
    plugin_option_defaults=DEFAULTS,
    validate_plugin_options=check_plugin_options,
    validate_secret_options=check_secret_options,
    collects_usage=True,
)
