"""Where the backend may send requests: an https URL whose host is, and resolves to, public
addresses only, by the rules Cirrus's web hooks follow (`chalicelib.domain.hooks`: loopback,
private, link-local, multicast, reserved and unspecified addresses refused, in every spelling a
client takes for an address). The host is resolved once, every address it resolves to is vetted,
and the connections go to the first of them (`pinned_session`), never to the name again, so a second
DNS answer (rebinding) cannot move them; TLS still verifies the certificate against the host name
and the request still names it (`Host`). Loopback is allowed only when `CIRRUS_PROVIDER_ALLOW_LOOPBACK=1` (the
contract tests' fake DigitalOcean API on 127.0.0.1); nothing else opens an internal network.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


def vetted_addresses(url: str, name: str, resolver: Resolver | None = None) -> list[str]:
    """Every address the URL's host is or resolves to, if all are allowed (ValueError if one is
    not: a name that points inside is refused as a literal address would be; OSError if the name
    does not resolve)."""
    from chalicelib import webhooks

    where = rules.destination(url)
    addresses = where.literal or tuple(
        ipaddress.ip_address(a) for a in (resolver or webhooks.resolve)(where.host, where.port)
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
