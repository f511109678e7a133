"""Outgoing web hook requests: one function, `post(url, body, headers, timeout)`, on the standard
library's urllib (no extra dependency in the Lambda bundle).

A delivery succeeds on a 2xx answer and on nothing else: redirects are not followed (a receiver that
moved says so with a 3xx, which is recorded as the failure), and a refused connection, a timeout or
a broken answer is a failure with its reason. Callers send from background tasks only.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from functools import lru_cache
from typing import Any


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


@lru_cache(maxsize=1)
def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirects())


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> str | None:
    """POST `body` to `url`; None when the receiver answered 2xx, else why it failed."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with _opener().open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {exc.reason}".strip()
    except urllib.error.URLError as exc:
        return f"Connection failed: {exc.reason}"
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None if 200 <= status < 300 else f"HTTP {status}"
