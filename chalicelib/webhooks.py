"""Outgoing web hook requests: one function, `post(url, body, headers, timeout, allowed)`, on the
standard library's http.client (no extra dependency in the Lambda bundle).

The destination is vetted before anything is sent: its host is resolved here (or is an address
itself), and unless every address it resolves to is allowed (`domain.hooks.address_allowed`: public,
or in a network the operator allows) nothing is connected to. The connection then goes to a vetted
address, never to the name again, so a second answer from DNS (rebinding) cannot move it; the
request still names the host (`Host`), and https verifies the certificate against the host name.

A delivery succeeds on a 2xx answer and on nothing else: redirects are not followed (a receiver that
moved says so with a 3xx, which is recorded as the failure). What went wrong is told coarsely
(`Outcome.error`, what the hook's owner sees) and in full (`Outcome.detail`, for the operator's log).
Callers send from background tasks only.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from chalicelib.domain import hooks as rules
from chalicelib.domain.hooks import Destination, IPAddress, IPNetwork

# A host name and port to the addresses to try, in order (socket.getaddrinfo's answer by default).
Resolver = Callable[[str, int], Sequence[str]]


@dataclass(frozen=True)
class Outcome:
    """A try's result: `error` None when the receiver answered 2xx, else the coarse reason."""

    error: str | None = None
    detail: str = ""


def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (IPv4 and IPv6), in its order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    allowed: Sequence[IPNetwork] = (),
    resolver: Resolver = resolve,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """POST `body` to `url` if it reaches only allowed addresses; `tls` verifies https (default: the
    system's certificate authorities)."""
    try:
        where = rules.destination(url)
        addresses = where.literal or tuple(ipaddress.ip_address(a) for a in resolver(where.host, where.port))
    except (OSError, ValueError) as exc:  # ValueError: a stored URL the rules refuse now, or a bad answer
        return Outcome(rules.CONNECTION_FAILED, _described(exc))
    refused = [str(a) for a in addresses if not rules.address_allowed(a, allowed)]
    if refused or not addresses:
        return Outcome(rules.ADDRESS_NOT_ALLOWED, f"{where.host} is at {', '.join(refused) or 'no address'}")
    try:
        status = _send(where, addresses, body, headers, timeout, tls)
    except (OSError, ValueError, http.client.HTTPException) as exc:  # ssl.SSLError is an OSError
        return Outcome(rules.CONNECTION_FAILED, _described(exc))
    if 200 <= status < 300:
        return Outcome()
    return Outcome(rules.http_error(status), f"HTTP {status}")


def _send(
    where: Destination,
    addresses: Sequence[IPAddress],
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    tls: ssl.SSLContext | None,
) -> int:
    """The answer's status; connects to the first address that takes the connection."""
    connection = _connected(where, addresses, timeout, tls)
    try:
        connection.request("POST", where.target, body=body, headers=dict(headers))
        return int(connection.getresponse().status)  # the body is not read: nothing in it is used
    finally:
        connection.close()


def _connected(
    where: Destination, addresses: Sequence[IPAddress], timeout: float, tls: ssl.SSLContext | None
) -> http.client.HTTPConnection:
    failure: OSError | None = None
    for address in addresses:
        connection: http.client.HTTPConnection
        if where.scheme == "https":
            context = tls or ssl.create_default_context()
            connection = _PinnedHTTPSConnection(where.host, where.port, str(address), timeout, context)
        else:
            connection = _PinnedHTTPConnection(where.host, where.port, str(address), timeout)
        try:
            connection.connect()
            return connection
        except OSError as exc:
            connection.close()
            failure = exc
    raise failure or OSError("no address")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to `host` (its Host header) made to the vetted `address`."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection made to the vetted `address`, whose certificate must name `host`."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address, self.tls = address, context

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _described(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
