"""Structured logs (powertools Logger, JSON, one line per request with its correlation id).

Built on first use, not at import. Level from POWERTOOLS_LOG_LEVEL (the local stack and the tests
default it to WARNING so a terminal is not flooded; Lambda logs INFO).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "cirrus"))


def log_request(method: str, path: str, status: int, user_id: str | None, correlation_id: str | None) -> None:
    log = logger()
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "user_uuid": user_id,
        "correlation_id": correlation_id,
    }
    if status >= 500:
        log.error("request failed", extra=fields)
    else:
        log.info("request", extra=fields)


def log_unhandled(method: str, path: str, correlation_id: str | None) -> None:
    logger().exception(
        "unhandled error", extra={"method": method, "path": path, "correlation_id": correlation_id}
    )
