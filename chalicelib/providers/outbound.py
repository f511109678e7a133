"""Where a provider plugin's backend may send requests (shared by the plugins): an https URL whose
host is, and resolves to, public addresses only, by the rules Cirrus's web hooks follow
(`chalicelib.domain.hooks`: loopback, private, link-local, multicast, reserved and unspecified
addresses refused, in every spelling a client takes for an address). The host is resolved once,
every address it resolves to is vetted, and the connections go to the first of them
(`pinned_session`), never to the name again, so a second DNS answer (rebinding) cannot move them;
TLS still verifies the certificate against the host name and the request still names it (`Host`).
Loopback is allowed only when `CIRRUS_PROVIDER_ALLOW_LOOPBACK=1` (the contract tests' fakes on
127.0.0.1); nothing else opens an internal network. `requests` is imported only by
`pinned_session` (a plugin that uses it depends on it; Cirrus's own runtime does not).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from chalicelib.domain import hooks as rules

ALLOW_LOOPBACK_VAR = "CIRRUS_PROVIDER_ALLOW_LOOPBACK"
URL_MAX = 200
CA_MAX = 16_384
_LOOPBACK: tuple[rules.IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)

Resolver = Callable[[str, int], Sequence[str]]


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (OSError if it does not)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


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


def vetted_addresses(url: str, name: str, resolver: Resolver | None = None) -> list[str]:
    """Every address the URL's host is or resolves to, if all are allowed (ValueError if one is
    not: a name that points inside is refused as a literal address would be; OSError if the name
    does not resolve)."""
    where = rules.destination(url)
    addresses = where.literal or tuple(
        ipaddress.ip_address(a) for a in (resolver or resolve)(where.host, where.port)
    )
    if not addresses or not all(rules.address_allowed(a, allowed_networks()) for a in addresses):
        raise ValueError(not_allowed(name))
    return [str(a) for a in addresses]


def pinned_session(url: str, name: str, resolver: Resolver | None = None) -> Any:
    """A requests Session whose connections to `url`'s host go to its first vetted address (TLS
    server name and certificate check, and the Host header, still the host's name); requests to
    any other host are refused. ValueError / OSError as `vetted_addresses`."""
    import requests
    from requests.adapters import HTTPAdapter

    where = rules.destination(url)
    address = vetted_addresses(url, name, resolver)[0]
    netloc = f"[{address}]:{where.port}" if ":" in address else f"{address}:{where.port}"

    class Pinned(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["server_hostname"] = where.host  # SNI and the certificate's name: the host's
            super().init_poolmanager(*args, **kwargs)

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            parts = urlsplit(request.url)
            if parts.scheme != where.scheme or rules.destination(request.url).host != where.host:
                raise requests.exceptions.InvalidURL(f"Only {where.host} may be reached.")
            request.headers["Host"] = parts.netloc
            request.url = urlunsplit(parts._replace(netloc=netloc))
            return super().send(request, *args, **kwargs)

    session = requests.Session()
    session.mount("https://", Pinned())
    session.mount("http://", Pinned())
    return session


def check_ca(pem: Any) -> None:
    """An offering's `ca_certificate` option: a PEM CA certificate (or bundle) Python's ssl module
    loads, or nothing."""
    if pem in ("", None):
        return
    if not isinstance(pem, str) or len(pem) > CA_MAX or "-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError(f"ca_certificate must be PEM certificates of at most {CA_MAX} characters.")
    import ssl

    try:
        ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError):
        raise ValueError("ca_certificate is not a certificate Python can load.") from None
