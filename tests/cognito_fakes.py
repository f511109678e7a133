"""A fake Cognito for the bearer and hosted UI tests: a test RSA key that mints (and forges) tokens, and
a small HTTP server on 127.0.0.1 serving the pool's key set and the hosted UI's authorize and token
endpoints.

The token endpoint checks what Cognito checks in an authorization-code exchange: the code was issued
for this client and redirect URI, and, when the authorize request had a PKCE challenge, the verifier
hashes to it. The authorize endpoint signs in at once (no form) as `FakeCognito.user`, for a browser
test of HomePort's login button: it redirects straight back to a registered callback with a code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

REGION = "us-east-1"
POOL_ID = "us-east-1_TestPool1"
CLIENT_ID = "cirrusapiclient0000000000"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
KID = "test-key-1"


@lru_cache(maxsize=4)
def rsa_key(kid: str = KID) -> RSAKey:
    """A 2048-bit test key (made once per process: generating one takes a while)."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


def jwks(*keys: RSAKey) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in (keys or (rsa_key(),))]}


def claims(token_use: str = "id", **overrides: Any) -> dict[str, Any]:
    """Claims as Cognito puts them in an ID or access token of a pool user."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "5f0e7c1a-0000-4000-8000-00000000a11c",
        "token_use": token_use,
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "jti": secrets.token_hex(8),
    }
    if token_use == "id":
        base.update(
            {
                "aud": CLIENT_ID,
                "cognito:username": "fed-alice",
                "email": "alice@idp.example",
                "name": "Alice Fed",
            }
        )
    else:
        base.update({"client_id": CLIENT_ID, "username": "fed-alice", "scope": "openid email profile"})
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(payload: dict[str, Any] | None = None, key: RSAKey | None = None, kid: str | None = None) -> str:
    """A signed RS256 token (with `kid` in the header; the key's own by default)."""
    key = key or rsa_key()
    header = {"alg": "RS256", "kid": kid or key.kid}
    return jwt.encode(header, payload if payload is not None else claims(), key)


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: str = "") -> str:
    return f"{b64(json.dumps(header))}.{b64(json.dumps(payload))}.{signature}"


@dataclass
class Grant:
    """An authorization code the fake hosted UI issued, and what its exchange must match."""

    client_id: str
    redirect_uri: str
    challenge: str | None  # None: the authorize request had no PKCE challenge (HomePort's)
    id_token: str


@dataclass
class FakeCognito:
    """The key set at /<pool>/.well-known/jwks.json and the token endpoint at /oauth2/token."""

    key_set: dict[str, Any] = field(default_factory=jwks)
    jwks_fetches: int = 0
    grants: dict[str, Grant] = field(default_factory=dict)
    exchanges: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    # The authorize endpoint: the app client and its callback URLs, and the ID token it signs in with:
    # from `id_token_source` when set (e.g. a real pool's token for a browser test), else minted with
    # the test key and `user`'s claims.
    client_id: str = CLIENT_ID
    callback_urls: list[str] = field(default_factory=list)
    user: dict[str, Any] = field(default_factory=dict)
    id_token_source: Callable[[], str] | None = None

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/{POOL_ID}/.well-known/jwks.json"

    def sign_in(self, authorize_url: str, id_token: str) -> tuple[str, str]:
        """What the hosted UI does once the user has signed in: a code for the authorize request's
        challenge; returns (code, state)."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize_url).query))
        challenge = query.get("code_challenge")
        assert challenge is None or query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(query["client_id"], query["redirect_uri"], challenge, id_token)
        return code, query["state"]

    def authorize(self, query: dict[str, str]) -> str | None:
        """GET /oauth2/authorize: where to send the browser (the callback with a code and the state),
        None when Cognito would refuse (an unknown client, a callback URL the client does not list)."""
        if query.get("client_id") != self.client_id or query.get("redirect_uri") not in self.callback_urls:
            return None
        if query.get("response_type") != "code":
            return None
        url = f"{self.url}/oauth2/authorize?{urllib.parse.urlencode(query)}"
        id_token = self.id_token_source() if self.id_token_source else mint(claims("id", **self.user))
        code, state = self.sign_in(url, id_token)
        back = urllib.parse.urlencode({"code": code, "state": state})
        return f"{query['redirect_uri']}{'&' if '?' in query['redirect_uri'] else '?'}{back}"

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.exchanges.append(form)
        grant = self.grants.pop(form.get("code", ""), None)  # a code is good once
        verifier = form.get("code_verifier")
        challenge = b64(hashlib.sha256(verifier.encode()).digest()) if verifier is not None else None
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or form.get("client_id") != grant.client_id
            or form.get("redirect_uri") != grant.redirect_uri
            or (grant.challenge is not None and challenge != grant.challenge)
        ):
            return 400, {"error": "invalid_grant"}
        return 200, {
            "id_token": grant.id_token,
            "access_token": mint(claims("access")),
            "refresh_token": "opaque-refresh",
            "expires_in": 3600,
            "token_type": "Bearer",
        }


def _handler(fake: FakeCognito) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == f"/{POOL_ID}/.well-known/jwks.json":
                fake.jwks_fetches += 1
                self._send(200, fake.key_set)
            elif path == "/oauth2/authorize":
                location = fake.authorize(dict(urllib.parse.parse_qsl(query)))
                if location is None:
                    self._send(400, {"error": "redirect_mismatch"})
                    return
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if self.path == "/oauth2/token":
                self._send(*fake.exchange(form))
            else:
                self._send(404, {"error": "not found"})

    return Handler


@contextmanager
def serving(fake: FakeCognito) -> Iterator[FakeCognito]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def configure(monkeypatch: pytest.MonkeyPatch, fake: FakeCognito, **extra: str) -> None:
    """Point the app's Cognito settings at the fake (a fresh verifier, so a fresh key cache)."""
    from chalicelib.auth import bearer
    from chalicelib.config import reset_settings

    settings = {
        "CIRRUS_COGNITO_USER_POOL_ID": POOL_ID,
        "CIRRUS_COGNITO_CLIENT_ID": CLIENT_ID,
        "CIRRUS_COGNITO_REGION": REGION,
        "CIRRUS_COGNITO_JWKS_URL": fake.jwks_url,
        "CIRRUS_COGNITO_DOMAIN": fake.url,
        **extra,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    bearer.reset()
