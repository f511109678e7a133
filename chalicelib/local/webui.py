"""Serving a built HomePort (Waldur's web UI) next to the API on the local stack.

HomePort is a single-page app: it reads its settings at run time from `scripts/configs/config.json`
(relative to the page) and routes in the browser, so every path that is neither the API nor a file of
the build is answered with `index.html`. The settings file is answered with this server's own URL as
`apiEndpoint` (the build's other settings kept), so the UI calls the API on its own origin and needs no
CORS. `CIRRUS_HOMEPORT_DIR` names the build; unset, the local stack serves only the API.
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

HOMEPORT_DIR_VAR = "CIRRUS_HOMEPORT_DIR"
CONFIG_PATH = "scripts/configs/config.json"
# Paths the API owns: the UI never answers them, even when the build has a file of that name.
API_PREFIXES = ("/api/", "/api-auth/", "/health-check/")
API_PATHS = frozenset({"/api", "/api-auth", "/health-check"})

# Types Python's table may lack or spell differently on some systems.
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".ico": "image/x-icon",
    ".map": "application/json",
}


class HomePortMissing(Exception):
    """`CIRRUS_HOMEPORT_DIR` names something that is not a HomePort build."""


@dataclass(frozen=True)
class Asset:
    status: int
    content_type: str
    body: bytes
    cache: str


def configured(env: Mapping[str, str]) -> Path | None:
    """The HomePort build `CIRRUS_HOMEPORT_DIR` names, None when it is unset or empty; HomePortMissing
    when it names a folder without HomePort's `index.html`."""
    raw = env.get(HOMEPORT_DIR_VAR, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().resolve()
    if not (path / "index.html").is_file():
        raise HomePortMissing(
            f"{HOMEPORT_DIR_VAR}={raw}: no index.html there. Point it at a HomePort build "
            "(`yarn build` in waldur-homeport writes build/), or unset it to serve only the API."
        )
    return path


def is_api_path(path: str) -> bool:
    return path in API_PATHS or path.startswith(API_PREFIXES)


class HomePort:
    """The files of one HomePort build, answered for GET and HEAD of every path that is not the API."""

    def __init__(self, root: Path, api_url: str) -> None:
        self.root = root
        self.api_url = api_url.rstrip("/") + "/"
        self._index = (root / "index.html").read_bytes()
        self._config = self._settings()

    def _settings(self) -> bytes:
        """The build's own settings with `apiEndpoint` set to this server (HomePort appends `api/`)."""
        settings: dict[str, object] = {}
        source = self.root / CONFIG_PATH
        if source.is_file():
            try:
                loaded = json.loads(source.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                loaded = None
            if isinstance(loaded, dict):
                settings = loaded
        settings["apiEndpoint"] = self.api_url
        return json.dumps(settings, indent=2).encode()

    def answer(self, raw_path: str) -> Asset:
        path = unquote(urlsplit(raw_path).path)
        relative = path.lstrip("/")
        if relative == CONFIG_PATH:
            return Asset(200, "application/json", self._config, "no-store")
        if relative and "\x00" not in relative:
            candidate = (self.root / relative).resolve()
            inside = candidate == self.root or self.root in candidate.parents
            if inside and candidate.is_file():
                return Asset(200, _content_type(candidate), candidate.read_bytes(), "no-cache")
            if inside and Path(relative).suffix and not relative.endswith(".html"):
                # A missing file (a script, a picture): 404, not the page, which would fail to parse.
                return Asset(404, "text/plain; charset=utf-8", b"Not found.\n", "no-store")
        # A route of the single-page app: the page, which routes in the browser.
        return Asset(200, "text/html; charset=utf-8", self._index, "no-cache")


def _content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def from_env(api_url: str, env: Mapping[str, str] | None = None) -> HomePort | None:
    root = configured(os.environ if env is None else env)
    return HomePort(root, api_url) if root is not None else None
