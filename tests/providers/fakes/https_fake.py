"""What the https fakes of tests/providers share: a threaded stdlib server on 127.0.0.1 (port 0)
wrapped in TLS with a test-time certificate, a JSON request/answer helper, every request recorded,
and failures a test queues for the next calls (`fail_next`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.providers.fakes.tls import Certificate


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: Any


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


class FakeApi:
    """Subclasses answer `handle(request) -> Reply`; the server calls it under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.queued: list[Reply] = []
        self.url = ""

    def fail_next(self, reply: Reply, times: int = 1) -> None:
        """The next `times` authenticated calls answer `reply` instead of doing anything."""
        with self.lock:
            self.queued.extend([reply] * times)

    def handle(self, request: Request) -> Reply:  # pragma: no cover - subclasses answer
        raise NotImplementedError

    def dispatch(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            return self.handle(request)

    def take_queued(self) -> Reply | None:
        with self.lock:
            return self.queued.pop(0) if self.queued else None


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request(self.command, parts.path, parse_qs(parts.query), headers, body)
            reply = api.dispatch(request)
            data = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    return Handler


@contextmanager
def serving(api: FakeApi, certificate: Certificate) -> Iterator[FakeApi]:
    """Serve `api` over https on 127.0.0.1 until the block ends; `api.url` is its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    server.socket = certificate.server_context().wrap_socket(server.socket, server_side=True)
    api.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-api", daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
