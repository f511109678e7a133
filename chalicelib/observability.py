"""Structured logs (powertools Logger, JSON), every line tagged with the invocation it belongs to.

Every entry point opens a scope (`invocation`) for each unit of work it runs: an API request, one
SQS task, one stream record. Inside it, every log line carries:

- `correlation_id`: the id that follows one user action across functions. An API request takes its
  `X-Correlation-ID` header, else API Gateway's request id; the tasks a request queues, and the
  workflow executions it starts, carry it in their envelope (`TaskContext.correlation_id`), and a
  stream record takes the one its event was written with. A scheduled task has its Scheduler
  execution id (infra schedules.py) or, locally, its idempotency key.
- `entry_point` (`api`, `task`, `stream`) and what identifies the unit: `method`/`path`, `task`/
  `message_id`/`attempt`, `event_uuid`/`event_type`, `user_uuid` once the caller is known.
- on Lambda, `function_name`, `function_request_id` and `cold_start` (true on the first invocation
  an execution environment runs, also after a SnapStart restore).

The keys are powertools' thread-safe keys (a ContextVar), not its global `append_keys`: the local
stack runs the HTTP server, the queue pollers and the stream reader as threads of one process, and
global keys would tag one thread's lines with another's ids. A scope restores the keys it found
when it ends, so nothing of one request or record reaches the next one a warm container runs.

The logger is built on first use, not at import. Level from POWERTOOLS_LOG_LEVEL (the local stack
and the tests default it to WARNING so a terminal is not flooded; Lambda logs INFO).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

# Whether the next invocation that brings a Lambda context is this environment's first. A module
# global is part of a SnapStart snapshot taken before any invocation, so a restored environment's
# first invocation reports a cold start too.
_cold_start = True


@lru_cache(maxsize=1)
def logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "cirrus"))


def current_keys() -> dict[str, Any]:
    """The keys every log line of the current scope carries."""
    return dict(logger().thread_safe_get_current_keys())


def correlation_id() -> str | None:
    """The current scope's correlation id (None outside any scope)."""
    value = current_keys().get("correlation_id")
    return str(value) if value else None


def append_keys(**keys: Any) -> None:
    """Add `keys` to every later log line of the current scope (None values are left out)."""
    logger().thread_safe_append_keys(**{k: v for k, v in keys.items() if v is not None})


def lambda_keys(context: Any) -> dict[str, Any]:
    """What a log line says of the Lambda invocation `context` (nothing without one); the first call
    in an execution environment is its cold start."""
    global _cold_start
    if context is None or not getattr(context, "aws_request_id", None):
        return {}
    cold, _cold_start = _cold_start, False
    return {
        "function_name": getattr(context, "function_name", None),
        "function_request_id": context.aws_request_id,
        "cold_start": cold,
    }


@contextmanager
def invocation(
    entry_point: str | None = None, *, correlation_id: str | None = None, **keys: Any
) -> Iterator[None]:
    """Tag every log line inside with `correlation_id`, `entry_point` and `keys` (None values are
    left out). The keys the scope found are back when it ends, whatever happened inside, so an
    entry point nests a per-record scope in its per-batch one."""
    log = logger()
    outer = dict(log.thread_safe_get_current_keys())
    append_keys(entry_point=entry_point, correlation_id=correlation_id, **keys)
    try:
        yield
    finally:
        log.thread_safe_clear_keys()
        if outer:
            log.thread_safe_append_keys(**outer)


def log_request(method: str, path: str, status: int, user_id: str | None) -> None:
    """The request's one line (its scope adds the correlation id)."""
    log = logger()
    fields = {"method": method, "path": path, "status": status, "user_uuid": user_id}
    if status >= 500:
        log.error("request failed", extra=fields)
    else:
        log.info("request", extra=fields)


def log_unhandled(method: str, path: str) -> None:
    logger().exception("unhandled error", extra={"method": method, "path": path})
