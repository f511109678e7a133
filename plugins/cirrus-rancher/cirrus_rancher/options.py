"""Marketplace.Rancher's plugin options (not secret) and their check: a bad value is a 400 on the
offering's `plugin_options` (`validate_plugin_options` raises ValueError), not a failed order later."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chalicelib.providers import outbound

COMPONENTS = ("cpu", "ram", "storage")
LIMIT_MAX = 1_000_000

DEFAULTS: Mapping[str, Any] = {
    "cluster_id": "",  # the Rancher cluster the allocations are made on (e.g. c-m-abcd1234, local)
    "default_limits": {},  # {"cpu": cores, "ram": GiB, "storage": GiB} when an order gives none
    "namespace_prefix": "cirrus-",
    "poll_interval_seconds": 2,
    "ready_timeout_seconds": 120,
    "request_timeout_seconds": 30,
    "ca_certificate": "",  # PEM of the CA that signed Rancher's (and the kube API's) certificate, if private
}

_CLUSTER_ID = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_PREFIX = re.compile(r"[a-z][a-z0-9-]{0,19}")
_NUMBERS = {
    "poll_interval_seconds": (0, 60),
    "ready_timeout_seconds": (0, 900),
    "request_timeout_seconds": (1, 120),
}


def check(options: Mapping[str, Any]) -> None:
    """ValueError with a clear message for the first bad option."""
    cluster_id = options.get("cluster_id", "")
    if not isinstance(cluster_id, str) or (cluster_id and not _CLUSTER_ID.fullmatch(cluster_id)):
        raise ValueError("cluster_id must be a Rancher cluster id such as c-m-abcd1234 or local.")
    prefix = options.get("namespace_prefix", DEFAULTS["namespace_prefix"])
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError(
            "namespace_prefix must be 1 to 20 lower-case letters, digits or '-', starting with a letter."
        )
    limits = options.get("default_limits", {})
    if not isinstance(limits, Mapping):
        raise ValueError("default_limits must be an object of cpu (cores), ram (GiB) and storage (GiB).")
    for name, value in limits.items():
        if name not in COMPONENTS:
            raise ValueError(f"default_limits: {str(name)[:40]} is not one of {', '.join(COMPONENTS)}.")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= LIMIT_MAX:
            raise ValueError(f"default_limits.{name} must be a whole number from 0 to {LIMIT_MAX}.")
    outbound.check_ca(options.get("ca_certificate", ""))
    for name, (low, high) in _NUMBERS.items():
        value = options.get(name, DEFAULTS[name])
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ValueError(f"{name} must be a number from {low} to {high}.")


TOKEN_MAX = 1024


def check_token(value: Any, name: str) -> str:
    """A bearer token: printable, no whitespace, at most TOKEN_MAX characters (never echoed)."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > TOKEN_MAX
        or not value.isprintable()
        or any(c.isspace() for c in value)
    ):
        raise ValueError(f"{name} must be a Rancher API token (token-xxxxx:secret).")
    return value


def check_secrets(secrets: Mapping[str, Any]) -> None:
    """The offering's secret options when a provider sets them: a 400 on secret_options, naming the
    option and never repeating a value but a URL's host. Host names are resolved (and judged) when
    a backend is built."""
    from cirrus_rancher.urls import check_url

    check_url("rancher_url", secrets.get("rancher_url"), resolve=False)
    check_token(secrets.get("token"), "token")
    if secrets.get("kube_api_url"):
        check_url("kube_api_url", secrets["kube_api_url"], resolve=False)
    if secrets.get("kube_token"):
        check_token(secrets["kube_token"], "kube_token")
