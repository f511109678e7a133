"""Where the plugin may send a request: the offering's Rancher URL (and kube API URL) vetted as web
hooks' destinations are (`chalicelib.domain.hooks`): https only, no user info, query or fragment, and
a host that is, and resolves to, public addresses only (no loopback, private, link-local, multicast,
reserved or unspecified address, in any spelling a client reads as an address).

Tests and a local stack opt in to loopback with `CIRRUS_PROVIDER_ALLOW_LOOPBACK=1`: then a loopback
host (and http:// to it) is allowed too, and nothing else more.

The host's name is resolved when the backend is built (once per order step or pull); the SDKs then
connect by name, so a DNS answer that changes between the check and the connection is not caught
(see docs/providers/rancher.md, "Not verified").
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from chalicelib.domain import hooks

ALLOW_LOOPBACK = "CIRRUS_PROVIDER_ALLOW_LOOPBACK"
URL_MAX = 500

Resolver = Callable[[str, int], Sequence[str]]


def loopback_allowed() -> bool:
    return os.environ.get(ALLOW_LOOPBACK, "") == "1"


def _resolve(host: str, port: int) -> list[str]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def check_url(name: str, url: object, resolver: Resolver | None = None, resolve: bool = True) -> str:
    """`url` without a trailing slash if the plugin may call it; ValueError (naming the option, never
    echoing more than the URL's host) if not. With `resolve` false (when the offering is saved) a host
    name is taken as it is and judged when a backend is built, after resolving it, as web hooks do."""
    if not isinstance(url, str) or not url or len(url) > URL_MAX:
        raise ValueError(f"{name} must be an https:// URL of at most {URL_MAX} characters.")
    try:
        where = hooks.destination(url)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"{name} must be scheme://host[:port][/path] only.")
    allow_loopback = loopback_allowed()
    if where.scheme != "https" and not (allow_loopback and where.scheme == "http"):
        raise ValueError(f"{name} must be an https:// URL.")
    literal = where.literal
    if literal is not None:
        addresses: Sequence[hooks.IPAddress] = literal
    elif not resolve:
        return url.rstrip("/")
    else:
        try:
            addresses = tuple(ipaddress.ip_address(a) for a in (resolver or _resolve)(where.host, where.port))
        except (OSError, ValueError):
            raise ValueError(f"{name}: the host {where.host} could not be resolved.") from None
    refused = [a for a in addresses if not _allowed(a, allow_loopback)]
    if refused or not addresses:
        raise ValueError(
            f"{name}: {where.host} is a loopback, private, link-local or otherwise internal address; "
            "a provider may only be reached at public addresses."
        )
    if where.scheme == "http" and not all(a.is_loopback for a in addresses):
        raise ValueError(f"{name} must be an https:// URL.")
    return url.rstrip("/")


def _allowed(address: hooks.IPAddress, allow_loopback: bool) -> bool:
    if allow_loopback and address.is_loopback:
        return True
    return hooks.address_allowed(address)
