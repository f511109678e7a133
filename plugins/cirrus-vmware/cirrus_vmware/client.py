"""A small client for vSphere's Automation REST API (vCenter 7.0U2 and later: `/api/...`).

One session per client: `POST /api/session` with HTTP basic auth answers a session id, sent as the
`vmware-api-session-id` header on every later call (a session that expired, 401, is renewed once).
Answers are plain JSON (not the older `/rest` API's `{"value": ...}` envelope); failures carry
`{"error_type": "NOT_FOUND", "messages": [{"id", "default_message", "args"}]}`.

Failures become the cloud contract's exceptions: network trouble, timeouts, 5xx and 429 are
`TransientError`; a refusal (400, 401, 403, ...) is `ProviderError` with vCenter's own words,
bounded. No message ever carries the password or the session id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.providers.cloud import ProviderError, TransientError
from cirrus_vmware import outbound

SESSION_HEADER = "vmware-api-session-id"
MESSAGE_MAX = 300
# vCenter answers a create, a deploy from a template or a power action only once it is done, and no
# heartbeat can be sent while the call blocks: such a call may take up to 4 minutes, inside the order
# workflow's 5-minute heartbeat; a read 1 minute. A call that takes longer is retried as transient
# (the retried create then finds the VM by its name).
READ_SECONDS, WORK_SECONDS = 60.0, 240.0
ANSWER_MAX = 16 * 1024 * 1024  # 4,000 VM summaries (a list's most) are well under 1 MiB


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


class Refused(ProviderError):
    """vCenter refused a call for good; `error_type` is its discriminator (NOT_FOUND, ...)."""

    def __init__(self, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.error_type = error_type


class NotFound(Refused):
    """vCenter does not know the object (404 NOT_FOUND)."""


class VSphereClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        verify_ssl: bool | str = True,  # False, or a CA bundle's path
        timeout: tuple[float, float] = (5.0, READ_SECONDS),
        work_timeout: tuple[float, float] = (5.0, WORK_SECONDS),
    ) -> None:
        self.base_url = base_url
        self._credentials = (username, password)
        self._http: Any = None  # a requests Session pinned to the host's vetted address, on first use
        self._verify = verify_ssl
        self._timeout, self._work_timeout = timeout, work_timeout
        self._session_id = ""

    # --- calls ------------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.call("GET", path, params=params).body

    def post(self, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Answer:
        return self.call("POST", path, body=body, params=params)

    def patch(self, path: str, body: Any) -> Answer:
        return self.call("PATCH", path, body=body)

    def delete(self, path: str) -> Answer:
        return self.call("DELETE", path)

    def call(
        self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> Answer:
        if not self._session_id:
            self._login()
        answer = self._send(method, path, body, params, {SESSION_HEADER: self._session_id})
        if answer.status == 401:  # the session expired (or vCenter restarted): log in again, once
            self._login()
            answer = self._send(method, path, body, params, {SESSION_HEADER: self._session_id})
        if answer.status >= 400:
            raise failure(answer, f"{method} {path.split('?')[0]}")
        return answer

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    # --- plumbing ---------------------------------------------------------------------------------
    def _login(self) -> None:
        answer = self._send("POST", "/api/session", None, None, {}, auth=self._credentials)
        if answer.status == 401:
            raise ProviderError(
                "vCenter refused the offering's user name and password (401 UNAUTHENTICATED): "
                "check the secret options username and password."
            )
        if answer.status >= 400:
            raise failure(answer, "POST /api/session")
        if not isinstance(answer.body, str) or not answer.body:
            raise TransientError("vCenter answered POST /api/session without a session id.")
        self._session_id = answer.body

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        auth: tuple[str, str] | None = None,
    ) -> Answer:
        import requests
        import urllib3

        http = self._connected()
        try:
            response = http.request(
                method,
                self.base_url + path,
                json=body,
                params=params,
                headers={"Accept": "application/json", **headers},
                auth=auth,
                timeout=self._timeout if method == "GET" else self._work_timeout,
                # Per request: a session-wide False would lose to REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE.
                verify=self._verify,
                allow_redirects=False,  # a redirect could point anywhere, inside included
                stream=True,  # read below, bounded
            )
            raw = response.raw.read(ANSWER_MAX + 1, decode_content=True)
            response.close()
        except requests.exceptions.SSLError:
            raise ProviderError(
                "vCenter's TLS certificate could not be verified: put the CA that signed it in the "
                "plugin option ca_certificate (or set the secret option verify_ssl to false)."
            ) from None
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise TransientError(f"vCenter did not answer {method} {path.split('?')[0]} in time.") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise TransientError(f"vCenter could not be reached ({type(exc).__name__}).") from None
        if len(raw) > ANSWER_MAX:
            raise ProviderError(
                f"vCenter's answer to {method} {path.split('?')[0]} is over {ANSWER_MAX} bytes."
            )
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Answer(response.status_code, parsed)

    def _connected(self) -> Any:
        """Once per client: the host resolved, every address vetted, connections pinned to one."""
        if self._http is None:
            try:
                self._http = outbound.pinned_session(self.base_url, "host")
            except ValueError as exc:
                raise ProviderError(f"The offering's secret option {exc}") from None
            except OSError:
                raise TransientError("vCenter's host name could not be resolved.") from None
        return self._http


def error_text(body: Any) -> str:
    """vCenter's `error_type` and first message, bounded."""
    if not isinstance(body, dict):
        return ""
    kind = str(body.get("error_type") or "")
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else {}
    text = str(first.get("default_message") or "") if isinstance(first, dict) else ""
    return (f"{kind}: {text}" if kind and text else kind or text)[:MESSAGE_MAX]


def failure(answer: Answer, what: str) -> ProviderError:
    said = error_text(answer.body)
    detail = f" ({said})" if said else ""
    kind = str(answer.body.get("error_type") or "") if isinstance(answer.body, dict) else ""
    if answer.status == 404:
        return NotFound(f"vCenter does not know the object of {what}{detail}.", kind or "NOT_FOUND")
    if answer.status >= 500 or answer.status == 429:
        return TransientError(f"vCenter failed {what} with HTTP {answer.status}{detail}.")
    if answer.status == 403:
        return Refused(f"vCenter's user may not {what} (HTTP 403{detail}): grant it the privilege.", kind)
    return Refused(f"vCenter refused {what} with HTTP {answer.status}{detail}.", kind)
