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
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlparse

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    LambdaEventConverter,
    LocalDevServer,
    LocalGateway,
    MatchResult,
    RouteMatcher,
)

from chalicelib.api.gateway import RouteTable
from chalicelib.local.webui import HomePort, is_api_path

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


# What API Gateway answers when no resource matches (the stack's MISSING_AUTHENTICATION_TOKEN gateway
# response, infra/cdk/cirrus_infra/stack.py); Chalice's emulation would answer 403 and quote the
# caller's Authorization header.
UNMATCHED = {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {}}
UNMATCHED_BODY = '{"detail": "Not found."}'


class GreedyRouteMatcher(RouteMatcher):
    """Chalice's route matcher, which knows no greedy variable (it would take `/{proxy+}` for one
    segment named `proxy+`), replaced by the deployed API function's (chalicelib/api/gateway.py):
    API Gateway's rules, a greedy route taking a path only when no other route does, with the rest of
    the path (at least one character) as its parameter. Parameters are percent-decoded, as API Gateway
    delivers them."""

    def __init__(self, route_urls: list[str]) -> None:
        super().__init__(route_urls)
        self._table = RouteTable(route_urls)

    def match_route(self, url: str) -> MatchResult:
        parsed = urlparse(url)
        found = self._table.match(parsed.path, decode=True)
        if found is None:
            raise ValueError(f"No matching route found for: {url}")
        return MatchResult(found.route, found.params, parse_qs(parsed.query, keep_blank_values=True))


class CirrusGateway(LocalGateway):
    """Chalice's local stand-in for API Gateway, routing as the deployed stack's API does: a path no
    route serves reaches the greedy catch-all, every method of a known path reaches the app (the
    stack's `x-amazon-apigateway-any-method`), so OPTIONS too, and nothing answers 403 with the
    caller's Authorization header in its body."""

    def __init__(self, app_object: Chalice, config: Config) -> None:
        super().__init__(app_object, config)
        self.event_converter = LambdaEventConverter(
            GreedyRouteMatcher(list(app_object.routes)), app_object.api.binary_types
        )

    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        event = super()._generate_lambda_event(method, path, headers, body)
        event["path"] = event["requestContext"]["path"]  # API Gateway's event has the path here too
        return event

    def _has_user_defined_options_method(self, lambda_event: Any) -> bool:
        return True  # OPTIONS goes to the app, as the deployed `any-method` sends it

    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return super().handle_request(method, path, headers, body)
        except ForbiddenError:  # no route at all matched: the deployed stack's gateway response
            return {**UNMATCHED, "body": "" if method == "HEAD" else UNMATCHED_BODY}


# `do_<VERB>` for an HTTP method token of a sane length (RFC 9110's token, upper case as every
# registered method is).
_VERB = re.compile(r"do_[A-Z][A-Z-]{0,19}")


class RedactingRequestHandler(ChaliceRequestHandler):
    """Chalice's handler on CirrusGateway, whose access log line (the request line, with its query)
    is redacted and whose answer to HEAD never has a body (a body would be read as the start of the
    next response on a keep-alive connection)."""

    # The headers and the body go out in two writes; with Nagle's algorithm the body waits for the
    # client's delayed ACK of the headers (40 ms a response on Linux).
    disable_nagle_algorithm = True

    def __init__(
        self, request: Any, client_address: Any, server: HTTPServer, app_object: Chalice, config: Config
    ) -> None:
        self.local_gateway = CirrusGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)  # handles the request

    # Errors the HTTP server answers by itself (a malformed request line, an overlong URI) in DRF's
    # shape, not http.server's HTML page. The message is html-escaped, so it stays valid JSON.
    error_message_format = '{"detail": "%(message)s"}'
    error_content_type = "application/json"

    def __getattr__(self, name: str) -> Any:
        """A verb Chalice's handler has no `do_<VERB>` for (TRACE, PROPFIND, ...) goes to the app
        like the others, which answers DRF's 405 JSON, rather than http.server's HTML 501. Only a
        plausible verb: anything else stays the server's own 501."""
        if _VERB.fullmatch(name):
            return self._generic_handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        super().log_message("%s", redact(format % args))

    def _send_http_response(self, code: int, headers: Any, body: str | bytes | None) -> None:
        super()._send_http_response(code, headers, b"" if self.command == "HEAD" else body)

    # The web UI served beside the API (webui.HomePort), set on a per-server subclass; None: API only.
    homeport: HomePort | None = None

    def _read_handle(self) -> None:
        """GET and HEAD: the web UI's files for every path that is not the API, when it is served."""
        if self.homeport is not None and not is_api_path(urlparse(self.path).path):
            asset = self.homeport.answer(self.path)
            headers = {"Content-Type": asset.content_type, "Cache-Control": asset.cache}
            self._send_http_response(asset.status, headers, asset.body)
            return
        self._generic_handle()

    do_GET = do_HEAD = _read_handle


class AppServer:
    """The app on `host:port`, and the HomePort build at `homeport_dir` (if any) on every other path."""

    def __init__(
        self, app: Any, host: str = LOOPBACK, port: int = 8000, homeport_dir: Path | None = None
    ) -> None:
        config = Config.create(chalice_stage="local", chalice_app=app, app_name=app.app_name)
        handler: type[RedactingRequestHandler] = type("Handler", (RedactingRequestHandler,), {})
        self._server = LocalDevServer(app, config, host, port, handler_cls=handler)
        self.host = host
        self.port = int(self._server.server.server_address[1])
        self.homeport = HomePort(homeport_dir, self.url) if homeport_dir is not None else None
        handler.homeport = self.homeport
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
