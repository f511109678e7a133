"""A small JSON-over-HTTP client on the standard library (no new dependency in the Lambda bundle).

One request, no retries (the caller's schedule retries), separate connect and read timeouts plus an
overall deadline (a server that drips bytes cannot hold a Lambda), a bounded answer, JSON only, no
redirects followed. Failures become the port's exceptions: network trouble, timeouts, 5xx, 408 and
429 (come back later) and answers that are not JSON are `BackendUnavailable`; any other 4xx is
`BackendRefused` with the remote's own message, bounded.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.support_backends.base import BackendRefused, BackendUnavailable, bounded

MAX_ANSWER_BYTES = 4 * 1024 * 1024
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0
    read: float = 10.0
    total: float = 20.0  # the whole request, however slowly the answer arrives


def check_base_url(url: str) -> str:
    """`url` without a trailing slash, if it is https (or http to a loopback host, for tests and
    a local desk); anything else is a configuration error."""
    parts = urllib.parse.urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError(f"base URL must be https:// (http:// only to loopback): {url!r}")
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ValueError(f"base URL must be scheme://host[:port][/path] only: {url!r}")
    return url.rstrip("/")


# What a 4xx answer's body says, per desk (each adapter passes its own).
MessageOf = Callable[[Any], str]


def default_message(payload: Any) -> str:
    if isinstance(payload, dict):
        for key in ("errorMessage", "error_human", "error", "message", "detail"):
            if isinstance(payload.get(key), str):
                return str(payload[key])
    return json.dumps(payload)[:MAX_ANSWER_BYTES] if payload is not None else ""


@dataclass
class JsonHttp:
    base_url: str
    auth_header: str = field(repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)
    message_of: MessageOf = default_message
    max_answer_bytes: int = MAX_ANSWER_BYTES
    extra_headers: Mapping[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        """Send one request; the decoded JSON answer (None for an empty 2xx answer)."""
        url = urllib.parse.urlsplit(self.base_url + path)
        target = url.path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        headers = {
            "Authorization": self.auth_header,
            "Accept": "application/json",
            "User-Agent": "Cirrus-support-sync/1",
            **self.extra_headers,
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        deadline = time.monotonic() + self.timeouts.total
        connection = self._connect(url)
        try:
            connection.request(method, target, body=data, headers=headers)
            response = connection.getresponse()
            raw = self._read(response, deadline)
        except TimeoutError as error:
            raise BackendUnavailable(f"{method} {url.path}: timed out") from error
        except (OSError, http.client.HTTPException) as error:
            raise BackendUnavailable(f"{method} {url.path}: {type(error).__name__}: {error}") from error
        finally:
            connection.close()
        return self._answer(method, url.path, response, raw)

    def _connect(self, url: urllib.parse.SplitResult) -> http.client.HTTPConnection:
        host, port = url.hostname or "", url.port
        connection: http.client.HTTPConnection
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self.timeouts.connect, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.timeouts.connect)
        try:
            connection.connect()
        except TimeoutError as error:
            raise BackendUnavailable(f"connect to {host}: timed out") from error
        except OSError as error:
            raise BackendUnavailable(f"connect to {host}: {error}") from error
        if connection.sock is not None:
            connection.sock.settimeout(self.timeouts.read)
        return connection

    def _read(self, response: http.client.HTTPResponse, deadline: float) -> bytes:
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_answer_bytes:
            raise BackendUnavailable(f"answer too large ({declared} bytes)")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(CHUNK):
            size += len(chunk)
            if size > self.max_answer_bytes:
                raise BackendUnavailable(f"answer larger than {self.max_answer_bytes} bytes")
            if time.monotonic() > deadline:
                raise BackendUnavailable("answer took longer than the request deadline")
            chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, method: str, path: str, response: http.client.HTTPResponse, raw: bytes) -> Any:
        status = response.status
        payload = _json_or_none(raw)
        if 200 <= status < 300:
            if not raw.strip():
                return None
            if payload is _NOT_JSON:
                raise BackendUnavailable(f"{method} {path}: answer {status} is not JSON")
            return payload
        if status in (408, 429):  # the desk asks to come back later: the schedule will
            wait = bounded(response.getheader("Retry-After") or "", 20)
            raise BackendUnavailable(f"{method} {path}: remote answered {status}, retry after {wait or '?'}")
        if 400 <= status < 500:
            raise BackendRefused(status, self._message(payload, raw) or response.reason)
        reason = bounded(response.reason or "")
        raise BackendUnavailable(f"{method} {path}: remote answered {status} {reason}".rstrip())

    def _message(self, payload: Any, raw: bytes) -> str:
        return raw[:2000].decode(errors="replace") if payload is _NOT_JSON else self.message_of(payload)


_NOT_JSON = object()


def _json_or_none(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _NOT_JSON
