"""Serving the Chalice app on loopback, in a thread, with Chalice's own local gateway (the same
request/response translation `chalice local` uses).

The local stack is for one developer's machine: its Cognito is moto's, which signs tokens with a key
anybody can read, so whoever reaches the port can mint a staff JWT. It therefore binds to loopback
unless told otherwise (`bind_host`), and its access log never shows a credential from a URL (`redact`).
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer

LOOPBACK = "127.0.0.1"
BIND_HOST_VAR = "CIRRUS_BIND_HOST"
ALLOW_PUBLIC_VAR = "CIRRUS_ALLOW_PUBLIC_BIND"


class PublicBindRefused(Exception):
    """The local stack was asked to listen beyond this machine without being allowed to."""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def bind_host(env: Mapping[str, str]) -> tuple[str, str | None]:
    """The address to listen on (`CIRRUS_BIND_HOST`, loopback by default) and a warning to print when
    it is not loopback; refused (PublicBindRefused) unless `CIRRUS_ALLOW_PUBLIC_BIND=1` says so."""
    host = env.get(BIND_HOST_VAR, "").strip() or LOOPBACK
    if _is_loopback(host):
        return host, None
    if env.get(ALLOW_PUBLIC_VAR, "").strip() != "1":
        raise PublicBindRefused(
            f"Refusing to listen on {host}: the local stack's Cognito (moto) signs tokens with a published "
            f"key, so anyone who reaches the port can mint a staff token. Keep {BIND_HOST_VAR} on loopback, "
            f"or set {ALLOW_PUBLIC_VAR}=1 on a network you trust."
        )
    return host, (
        f"WARNING: listening on {host} ({ALLOW_PUBLIC_VAR}=1): anyone who reaches this port can mint a "
        "staff token with moto's published Cognito key. Use it on a trusted network only."
    )


# Query parameters whose values are credentials: the token DRF reads from the URL, and the OAuth
# code and token the hosted UI's redirects carry.
SECRET_PARAMS = frozenset({"x-auth-token", "code", "token", "access_token", "id_token"})
REDACTED = "REDACTED"
_QUERY = re.compile(r"\?([^\s\"]*)")


def _redact_pair(pair: str) -> str:
    name, sep, _ = pair.partition("=")
    if sep and unquote_plus(name).strip().lower() in SECRET_PARAMS:
        return f"{name}={REDACTED}"
    return pair


def redact(line: str) -> str:
    """`line` with the value of every credential-bearing query parameter replaced (however its name
    is spelt: any case, percent-encoded), the rest of the line unchanged."""
    return _QUERY.sub(lambda m: "?" + "&".join(_redact_pair(p) for p in m.group(1).split("&")), line)


class RedactingRequestHandler(ChaliceRequestHandler):
    """Chalice's handler, whose access log line (the request line, with its query) is redacted."""

    def log_message(self, format: str, *args: Any) -> None:
        super().log_message("%s", redact(format % args))


class AppServer:
    def __init__(self, app: Any, host: str = LOOPBACK, port: int = 8000) -> None:
        config = Config.create(chalice_stage="local", chalice_app=app, app_name=app.app_name)
        self._server = LocalDevServer(app, config, host, port, handler_cls=RedactingRequestHandler)
        self.host = host
        self.port = int(self._server.server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.server.serve_forever, daemon=True, name="cirrus-http"
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> AppServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.server.shutdown()
        self._server.server.server_close()
