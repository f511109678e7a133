"""The HTTP transport the backend's waldur-api-client uses: every connection resolves the remote's
host itself, refuses it unless every address is allowed (`options.resolved_addresses`: public, or
loopback under the tests' opt-in), and connects to a vetted address, never to the name again, so a
second DNS answer (rebinding) cannot move it inside. TLS still verifies the certificate against the
host name (httpcore starts TLS with the URL's host as server_hostname). No proxy from the
environment, no redirects (the client's default)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cirrus_waldur_remote.options import resolved_addresses


class AddressRefused(Exception):
    """The remote's host resolves to an address Cirrus may not connect to."""


def pinned_transport() -> Any:
    import httpcore
    import httpx

    class Vetted(httpcore.SyncBackend):
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            try:
                addresses = resolved_addresses(host, port)
            except ValueError as exc:
                raise AddressRefused(str(exc)) from None
            except OSError as exc:
                raise httpcore.ConnectError(str(exc)) from None
            failure: Exception = httpcore.ConnectError("the remote Waldur's host has no address")
            for address in addresses:
                try:
                    return super().connect_tcp(address, port, timeout, local_address, socket_options)
                except httpcore.ConnectError as exc:
                    failure = exc
            raise failure

    transport = httpx.HTTPTransport(trust_env=False)
    # httpx's transport is httpcore's pool; the same pool, with the vetting network backend.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=Vetted()
    )
    return transport
