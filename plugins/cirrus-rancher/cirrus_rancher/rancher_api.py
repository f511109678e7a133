"""The few calls of Rancher's v3 REST API (Norman) the backend makes, on `requests`.

Reference: https://ranchermanager.docs.rancher.com/reference-guides/about-the-api (bearer token
`token-xxxxx:secret`; collections `{"type": "collection", "data": [...], "pagination": {...}}`;
errors `{"type": "error", "status": 404, "code": "NotFound", "message": "..."}`) and the API spec it
follows, https://github.com/rancher/api-spec/blob/master/specification.md.

Every failure becomes the contract's error: network trouble, timeouts, 5xx, 408 and 429 are
`TransientError`; any other refusal is `ProviderError` carrying Rancher's own `message` (bounded).
The token never appears in a message: it is only ever in the Authorization header, and scrubbed from
anything Rancher echoes back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from chalicelib.providers.cloud import ProviderError, TransientError

MESSAGE_MAX = 300
MAX_ANSWER_BYTES = 8 * 2**20  # a page of 100 projects is well under 1 MiB
PAGE_LIMIT = 100
MAX_PAGES = 50  # 5,000 projects in one cluster: beyond that a listing is cut short
RETRY_STATUSES = frozenset({408, 429})
PROJECT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}:p-[a-z0-9]{1,63}")


class NotFound(ProviderError):
    """Rancher answered 404: the resource is gone."""


def bounded(text: str, secret: str = "", limit: int = MESSAGE_MAX) -> str:
    if secret:
        text = text.replace(secret, "***")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class RancherApi:
    base_url: str  # https://rancher.example.com (no /v3)
    token: str = field(repr=False)
    timeout: tuple[float, float] = (5.0, 30.0)
    session: Any = None
    ca_certificate: str = ""  # PEM: trusted instead of the system's authorities

    def __post_init__(self) -> None:
        import requests

        self.session = self.session or requests.Session()
        if self.ca_certificate:
            self.session.mount("https://", _TrustingAdapter(self.ca_certificate))
        self.session.headers.update(
            {
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "User-Agent": "cirrus-rancher/0.1",
            }
        )

    # --- projects ------------------------------------------------------------------------------
    def projects(self, cluster_id: str) -> Iterator[dict[str, Any]]:
        """Every project of the cluster (following `pagination.next`)."""
        answer = self.request("GET", "/v3/projects", params={"clusterId": cluster_id, "limit": PAGE_LIMIT})
        for _ in range(MAX_PAGES):
            yield from _collection_data(answer)
            following = (answer.get("pagination") or {}).get("next")
            if not following:
                return
            answer = self.request("GET", self._same_origin(following))

    def project(self, project_id: str) -> dict[str, Any]:
        if not PROJECT_ID.fullmatch(project_id or ""):  # nothing such can exist: never sent
            raise NotFound(f"{project_id[:80]!r} is not a Rancher project id (<cluster>:p-xxxxx).")
        return _resource(self.request("GET", f"/v3/projects/{_segment(project_id)}"))

    def create_project(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return _resource(self.request("POST", "/v3/projects", json=dict(body)))

    def update_project(self, project_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return _resource(self.request("PUT", f"/v3/projects/{_segment(project_id)}", json=dict(body)))

    def delete_project(self, project_id: str) -> None:
        self.request("DELETE", f"/v3/projects/{_segment(project_id)}")

    # --- transport -----------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import requests
        import urllib3

        what = f"{method} {path.split('?')[0]}"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
            with response:
                content = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
        except requests.Timeout:
            raise TransientError(f"Rancher did not answer {what} in time.") from None
        except requests.exceptions.SSLError:
            raise ProviderError(
                f"Rancher's certificate could not be verified for {what} (set ca_certificate for a "
                "private CA)."
            ) from None
        except (requests.RequestException, OSError) as exc:
            raise TransientError(f"Rancher could not be reached for {what} ({type(exc).__name__}).") from None
        except urllib3.exceptions.HTTPError as exc:  # while reading: a timeout or a cut answer
            raise TransientError(
                f"Rancher's answer to {what} was cut short ({type(exc).__name__})."
            ) from None
        if len(content) > MAX_ANSWER_BYTES:
            raise ProviderError(f"Rancher's answer to {what} is larger than {MAX_ANSWER_BYTES // 2**20} MiB.")
        status = response.status_code
        payload = _json(content)
        if 200 <= status < 300:
            return payload if isinstance(payload, dict) else {}
        message = bounded(_message(payload, content.decode("utf-8", "replace")), self.token)
        text = f"Rancher refused {what} (HTTP {status}" + (f": {message})." if message else ").")
        if status >= 500 or status in RETRY_STATUSES:
            raise TransientError(text)
        if status == 404:
            raise NotFound(text)
        raise ProviderError(text)

    def _same_origin(self, url: str) -> str:
        """A pagination link as a path under our base URL: never follow one to another host."""
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise ProviderError("Rancher's pagination link points to another host; not followed.")
        path = theirs.path[len(ours.path) :] if theirs.path.startswith(ours.path) else theirs.path
        return path + (f"?{theirs.query}" if theirs.query else "")


def _TrustingAdapter(pem: str) -> Any:
    """A requests adapter verifying certificates against `pem` only (no file on disk)."""
    import ssl

    from requests.adapters import HTTPAdapter

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["ssl_context"] = ssl.create_default_context(cadata=pem)
            super().init_poolmanager(*args, **kwargs)

    return Adapter()


def _segment(value: str) -> str:
    return quote(value, safe=":")


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _message(payload: Any, text: str) -> str:
    if isinstance(payload, dict):
        for key in ("message", "code"):
            if isinstance(payload.get(key), str) and payload[key]:
                return str(payload[key])
    return text.strip()[:MESSAGE_MAX] if text and not text.lstrip().startswith("<") else ""


def _collection_data(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = answer.get("data")
    if answer.get("type") != "collection" or not isinstance(data, list):
        raise ProviderError("Rancher answered a listing that is not a collection.")
    return [item for item in data if isinstance(item, dict)]


def _resource(answer: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(answer.get("id"), str):
        raise ProviderError("Rancher answered without the resource's id.")
    return dict(answer)
