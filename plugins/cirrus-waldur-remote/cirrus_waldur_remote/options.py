"""A remote offering's settings, checked: the plugin options and the secret options (a 400 on the
offering when wrong; a secret option given as a Secrets Manager reference is checked when the
backend is built, and a wrong one errs the order with a clear message).

Secret options (Waldur's marketplace_remote keeps the same three in `secret_options`):
- `api_url`: the remote's API, `https://host[:port][/path]` (a trailing `/api/` is optional); never
  an internal address (loopback, private, link-local, ...: `chalicelib.domain.hooks.address_allowed`,
  the web hooks' rule). `CIRRUS_PROVIDER_ALLOW_LOOPBACK=1` (tests only) lets `http://127.0.0.1:<port>`
  through, and nothing else.
- `token`: an API token of a user at the remote who may order in `customer_uuid` (its owner).
- `customer_uuid`: the remote organisation under which Cirrus makes one project per local project.

Plugin options:
- `remote_offering_uuid` (required): the offering at the remote that this one mirrors.
- `plan_mapping`: {local plan article_code or name: remote plan uuid}; without an entry the remote
  plan of the same name is used, or the remote offering's only plan.
- `poll_interval_seconds` (default 5) and `wait_seconds` (default 120): how often the remote order is
  read while waiting and for how long before the wait is handed back to the workflow as retryable
  (a TransientError: the step is retried and waits on the same remote order). Keep `wait_seconds`
  below the heavy worker's Lambda timeout (the stack's `worker_timeout`, 150 s by default).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_OPT_IN = "CIRRUS_PROVIDER_ALLOW_LOOPBACK"
SECRET_OPTIONS = frozenset({"api_url", "token", "customer_uuid"})
DEFAULTS: Mapping[str, Any] = {"poll_interval_seconds": 5, "wait_seconds": 120, "plan_mapping": {}}
KNOWN_OPTIONS = frozenset({"remote_offering_uuid", *DEFAULTS})
MAX_PLAN_MAPPINGS = 100
_UUID = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def uuid_hex(value: Any, name: str) -> str:
    """`value` as 32 lower-case hex digits, or ValueError naming the option."""
    if not isinstance(value, str) or not _UUID.fullmatch(value.strip()):
        raise ValueError(f"{name} must be a UUID.")
    return value.strip().replace("-", "").lower()


def _number(options: Mapping[str, Any], name: str, low: float, high: float) -> float:
    value = options.get(name, DEFAULTS[name])
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}.")
    return float(value)


def check_plugin_options(options: Mapping[str, Any]) -> None:
    """The type's `validate_plugin_options` (ValueError -> 400 on `plugin_options`)."""
    unknown = sorted(set(options) - KNOWN_OPTIONS)
    if unknown:
        raise ValueError(
            f"Unknown option(s) {', '.join(unknown)[:200]}; known: {', '.join(sorted(KNOWN_OPTIONS))}."
        )
    if "remote_offering_uuid" not in options:
        raise ValueError("remote_offering_uuid is required: the uuid of the offering at the remote Waldur.")
    uuid_hex(options["remote_offering_uuid"], "remote_offering_uuid")
    _number(options, "poll_interval_seconds", 0.01, 300)
    _number(options, "wait_seconds", 1, 840)  # a Lambda lives 15 minutes at most
    mapping = options.get("plan_mapping", {})
    if not isinstance(mapping, dict) or len(mapping) > MAX_PLAN_MAPPINGS:
        raise ValueError(f"plan_mapping must be an object of at most {MAX_PLAN_MAPPINGS} entries.")
    for key, value in mapping.items():
        if not isinstance(key, str) or not 0 < len(key) <= 200:
            raise ValueError(
                "plan_mapping keys must be a local plan's article_code or name (1 to 200 characters)."
            )
        uuid_hex(value, f"plan_mapping[{key!r}]")


def _allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _LOOPBACK if os.environ.get(LOOPBACK_OPT_IN) == "1" else ()


def check_api_url(url: Any) -> tuple[str, str, int]:
    """(site root without `/api`, host, port) of a valid `api_url`, or ValueError. https only (http
    to loopback under the opt-in); an address literal must be allowed; a host name is resolved and
    its addresses checked at every connection (`resolved_addresses`, pinning.py)."""
    from chalicelib.domain import hooks

    if not isinstance(url, str) or not 0 < len(url) <= 2000:
        raise ValueError("api_url must be the remote Waldur's API URL, https://host/api/.")
    try:
        where = hooks.destination(url)
    except ValueError:
        raise ValueError("api_url must be an absolute URL without credentials, https://host/api/.") from None
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("api_url must have no query or fragment.")
    literal = where.literal
    allowed = _allowed_networks()
    loopback = literal is not None and all(
        any(a in n for n in _LOOPBACK if a.version == n.version) for a in literal
    )
    if where.scheme != "https" and not (loopback and allowed):
        raise ValueError("api_url must be https://.")
    if literal is not None and not all(hooks.address_allowed(a, allowed) for a in literal):
        raise ValueError("api_url must not point to an internal address.")
    root = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/').removesuffix('/api')}"
    return root, where.host, where.port


def resolved_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to now, every one allowed; ValueError if one is not (DNS may
    answer otherwise than when the offering was saved), OSError if it does not resolve."""
    from chalicelib import webhooks
    from chalicelib.domain import hooks

    literal = hooks.literal_addresses(host)
    try:
        addresses = literal or tuple(ipaddress.ip_address(a) for a in webhooks.resolve(host, port))
    except (OSError, ValueError):
        raise OSError("the remote Waldur's host name does not resolve") from None
    allowed = _allowed_networks()
    if not addresses or not all(hooks.address_allowed(a, allowed) for a in addresses):
        raise ValueError("api_url resolves to an internal address.")
    return [str(a) for a in addresses]


@dataclass(frozen=True)
class RemoteSettings:
    root: str  # https://host[:port][/prefix], without /api
    host: str
    port: int
    token: str
    customer_uuid: str
    offering_uuid: str
    plan_mapping: Mapping[str, str]
    poll_interval: float
    wait_seconds: float

    def __repr__(self) -> str:  # never the token
        return f"RemoteSettings(root={self.root!r}, customer_uuid={self.customer_uuid!r})"


def _check_token(token: Any) -> str:
    if not isinstance(token, str) or not 0 < len(token) <= 2000 or any(c.isspace() for c in token):
        raise ValueError("token must be the remote user's API token.")
    return token


def check_secret_options(secrets: Mapping[str, Any]) -> None:
    """The type's `validate_secret_options` (ValueError -> 400 on `secret_options`; the message
    names the option, never its value). Secrets Manager references are checked when the backend is
    built (`remote_settings`)."""
    missing = sorted(name for name in SECRET_OPTIONS if not secrets.get(name))
    if missing:
        raise ValueError(f"The secret options lack {', '.join(missing)}.")
    check_api_url(secrets["api_url"])
    _check_token(secrets["token"])
    uuid_hex(secrets["customer_uuid"], "customer_uuid")


def remote_settings(options: Mapping[str, Any], secrets: Mapping[str, Any]) -> RemoteSettings:
    """The backend's settings, or ValueError saying which option is wrong (never its value)."""
    check_plugin_options({k: v for k, v in options.items() if k in KNOWN_OPTIONS})
    check_secret_options(secrets)
    root, host, port = check_api_url(secrets["api_url"])
    mapping = options.get("plan_mapping") or {}
    return RemoteSettings(
        root=root,
        host=host,
        port=port,
        token=_check_token(secrets["token"]),
        customer_uuid=uuid_hex(secrets["customer_uuid"], "customer_uuid"),
        offering_uuid=uuid_hex(options["remote_offering_uuid"], "remote_offering_uuid"),
        plan_mapping={k: uuid_hex(v, "plan_mapping") for k, v in mapping.items()},
        poll_interval=_number(options, "poll_interval_seconds", 0.01, 300),
        wait_seconds=_number(options, "wait_seconds", 1, 840),
    )
