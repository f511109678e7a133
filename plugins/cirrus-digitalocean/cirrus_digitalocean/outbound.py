"""Where the backend may send requests: an https URL whose host is, and resolves to, public
addresses only, by the rules Cirrus's web hooks follow (`chalicelib.domain.hooks`: loopback,
private, link-local, multicast, reserved and unspecified addresses refused, in every spelling a
client takes for an address). Loopback is allowed only when `CIRRUS_PROVIDER_ALLOW_LOOPBACK=1` (the
contract tests' fake DigitalOcean API on 127.0.0.1); nothing else opens an internal network.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from chalicelib.domain import hooks as rules

ALLOW_LOOPBACK_VAR = "CIRRUS_PROVIDER_ALLOW_LOOPBACK"
URL_MAX = 200
_LOOPBACK: tuple[rules.IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)

Resolver = Callable[[str, int], Sequence[str]]


def allowed_networks() -> tuple[rules.IPNetwork, ...]:
    return _LOOPBACK if os.environ.get(ALLOW_LOOPBACK_VAR) == "1" else ()


def not_allowed(name: str) -> str:
    return f"{name} may not name a loopback, private, link-local, multicast, reserved or unspecified address."


def check_url(value: Any, name: str) -> str:
    """`value` without a trailing slash if it is an https URL (no credentials, query or fragment)
    whose host is not itself an address the backend may not reach; ValueError otherwise."""
    shape = f"{name} must be an https:// URL (scheme://host[:port][/path]) of at most {URL_MAX} characters."
    if not isinstance(value, str) or not value or len(value) > URL_MAX:
        raise ValueError(shape)
    try:
        where = rules.destination(value)
    except ValueError:
        raise ValueError(shape) from None
    parts = urlsplit(value)
    if where.scheme != "https" or parts.query or parts.fragment:
        raise ValueError(shape)
    literal = where.literal
    if literal is not None and not all(rules.address_allowed(a, allowed_networks()) for a in literal):
        raise ValueError(not_allowed(name))
    return value.rstrip("/")


def check_resolved(url: str, name: str, resolver: Resolver | None = None) -> None:
    """Before connecting: every address the URL's host resolves to must be allowed (a name that
    points inside is refused as a literal address would be). OSError if it does not resolve."""
    from chalicelib import webhooks

    where = rules.destination(url)
    addresses = where.literal or tuple(
        ipaddress.ip_address(a) for a in (resolver or webhooks.resolve)(where.host, where.port)
    )
    if not addresses or not all(rules.address_allowed(a, allowed_networks()) for a in addresses):
        raise ValueError(not_allowed(name))
