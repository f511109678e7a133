"""HTTP middleware: responses Chalice produces itself are rewritten in DRF's shapes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Response  # type: ignore[attr-defined]

log = logging.getLogger(__name__)


def drf_shapes(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice answers an unrouted verb (405) and an unhandled error (500) in its own shape;
    Waldur's clients expect `{"detail": ...}`."""
    response = get_response(event)
    body = response.body
    if isinstance(body, dict) and "Code" in body:
        if response.status_code == 405:
            response.body = json.dumps({"detail": f'Method "{event.method}" not allowed.'})
        elif response.status_code >= 500:
            response.body = json.dumps({"detail": "A server error occurred."})
        response.headers["Content-Type"] = "application/json"
    return response
