"""The user pool's signing keys (its JWKS), fetched once and kept in the process.

A token naming a key id the cache does not hold makes it fetch the key set again (Cognito rotates
keys by publishing a new one), but at most once per `refresh_seconds`: a stream of tokens with
made-up key ids costs one fetch per interval, not one per request. A fetch that fails counts as an
attempt too, so an unreachable endpoint is not hammered either.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from chalicelib import observability

# A key set is a few keys; anything much bigger is not one.
MAX_DOCUMENT_BYTES = 256 * 1024
FETCH_TIMEOUT_SECONDS = 5.0

Fetch = Callable[[], Mapping[str, Any]]


class KeySetUnavailable(Exception):
    """The key set could not be fetched or read."""


def http_fetch(url: str, timeout: float = FETCH_TIMEOUT_SECONDS) -> Fetch:
    """GET the key set at `url` (standard library only: no extra dependency in the Lambda bundle)."""

    def fetch() -> Mapping[str, Any]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read(MAX_DOCUMENT_BYTES + 1)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise KeySetUnavailable(f"{url}: {exc}") from exc
        if len(body) > MAX_DOCUMENT_BYTES:
            raise KeySetUnavailable(f"{url}: the key set is larger than {MAX_DOCUMENT_BYTES} bytes")
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise KeySetUnavailable(f"{url}: not JSON") from exc
        if not isinstance(document, dict):
            raise KeySetUnavailable(f"{url}: not a key set")
        return document

    return fetch


def signing_keys(document: Mapping[str, Any]) -> dict[str, RSAKey]:
    """The RSA signature keys of a JWKS document, by key id (other kinds and broken entries skipped)."""
    keys: dict[str, RSAKey] = {}
    for entry in document.get("keys") or []:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
            continue
        public = {k: v for k, v in entry.items() if k in ("kty", "kid", "n", "e", "alg", "use")}
        try:
            keys[entry["kid"]] = RSAKey.import_key(public)
        except (JoseError, ValueError, TypeError):
            continue
    return keys


class KeyCache:
    """Key id → public key, refetched on an unknown key id at most once per `refresh_seconds`."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        refresh_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._keys: dict[str, RSAKey] = {}
        self._last_attempt: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0  # how many times the key set was requested (tests and benchmarks read it)

    def key(self, kid: str) -> RSAKey | None:
        """The key with this id, fetching the key set if it is unknown and the interval allows."""
        found = self._keys.get(kid)
        if found is not None:
            return found
        with self._lock:  # concurrent requests with a new key id wait for one fetch
            found = self._keys.get(kid)
            if found is not None or not self._may_fetch():
                return found
            self._last_attempt = self._clock()
            self.fetches += 1
            try:
                self._keys = signing_keys(self._fetch())
            except KeySetUnavailable as exc:
                observability.logger().warning("Cognito key set unavailable", extra={"reason": str(exc)})
                return None
            return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        last = self._last_attempt
        return last is None or self._clock() - last >= self._refresh_seconds
