"""The HTTP plumbing the fake desks share: a threaded `http.server` on an ephemeral loopback port,
routes by method and path pattern, an auth check, a request log, injected failures (an error
status, a stall longer than a client's timeout, an oversized answer) and a signed webhook sender."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from chalicelib.support_backends.base import sign_hub

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any  # decoded JSON, or None


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON-encoded unless bytes or str
    content_type: str = "application/json; charset=utf-8"
    drip: float = 0.0


Handler = Callable[..., Answer]


class RemoteError(Exception):
    """Raised by a fake's handler to answer an error in the desk's own shape."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


@dataclass
class Failure:
    status: int = 500
    body: Any = None
    stall: float = 0.0  # seconds to wait before answering (longer than a client's read timeout)
    drip: float = 0.0  # seconds between single bytes of the body (each within a read timeout)


@dataclass
class FakeDesk:
    """Routes, auth and the bookkeeping every fake desk shares. Subclasses add `routes()` and
    `authorized()` and hold their in-memory state."""

    url: str = ""
    log: list[Request] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    clock: datetime = START
    lock: threading.RLock = field(default_factory=threading.RLock)

    def routes(self) -> list[tuple[str, str, Handler]]:
        raise NotImplementedError

    def authorized(self, headers: dict[str, str]) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> Answer:
        raise NotImplementedError

    def not_found(self) -> Answer:
        return Answer(404, {"error": "not found"})

    def tick(self) -> datetime:
        """The fake's clock: every change happens one minute after the previous one, so tests
        know the exact `updated` of everything."""
        with self.lock:
            self.clock += timedelta(minutes=1)
            return self.clock

    def fail_next(
        self, status: int = 500, body: Any = None, *, stall: float = 0.0, drip: float = 0.0
    ) -> None:
        self.failures.append(Failure(status, body, stall, drip))

    def requests(self, method: str, pattern: str) -> list[Request]:
        return [r for r in self.log if r.method == method and re.fullmatch(pattern, r.path)]

    def dispatch(self, request: Request) -> Answer:
        with self.lock:
            self.log.append(request)
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            if failure.stall:
                time.sleep(failure.stall)
            return Answer(failure.status, failure.body, drip=failure.drip)
        if not self.authorized(request.headers):
            return self.unauthorized()
        for method, pattern, handler in self.routes():
            match = re.fullmatch(pattern, request.path)
            if method == request.method and match:
                try:
                    with self.lock:
                        return handler(request, *match.groups())
                except RemoteError as error:
                    return error.answer
        return self.not_found()


def _handler(desk: FakeDesk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._send(Answer(400, {"error": "body is not JSON"}))
                return
            request = Request(
                method=self.command,
                path=urllib.parse.unquote(path),
                query=dict(urllib.parse.parse_qsl(query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            self._send(desk.dispatch(request))

        def _send(self, answer: Answer) -> None:
            if answer.body is None:
                data = b""
            elif isinstance(answer.body, bytes):
                data = answer.body
            elif isinstance(answer.body, str):
                data = answer.body.encode()
            else:
                data = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                if data:
                    self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not answer.drip:
                    self.wfile.write(data)
                for byte in data if answer.drip else b"":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(answer.drip)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


Desk = TypeVar("Desk", bound=FakeDesk)


@contextmanager
def serving(desk: Desk) -> Iterator[Desk]:
    server = _Server(("127.0.0.1", 0), _handler(desk))
    desk.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield desk
    finally:
        server.shutdown()
        server.server_close()


def post_webhook(
    url: str, payload: Any, *, secret: str | None, algorithm: str, headers: dict[str, str] | None = None
) -> int:
    """POST `payload` to `url` as the desk does: JSON, signed `X-Hub-Signature: <alg>=<hex>` when
    the webhook has a secret. The receiver's status."""
    body = json.dumps(payload).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if secret is not None:
        sent["X-Hub-Signature"] = sign_hub(body, secret, algorithm)
    request = urllib.request.Request(url, data=body, headers=sent, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@contextmanager
def webhook_receiver(respond: Callable[[Received], int]) -> Iterator[tuple[str, list[Received]]]:
    """A loopback endpoint that records what a desk's webhook delivers and answers `respond(...)`
    (in the tests: the adapter's `parse_webhook`, 204 if it accepts, 401 if it refuses)."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            item = Received(dict(self.headers.items()), self.rfile.read(length))
            received.append(item)
            self.send_response(respond(item))
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhook", received
    finally:
        server.shutdown()
        server.server_close()
