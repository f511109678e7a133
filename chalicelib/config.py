"""Typed settings, read lazily from the environment in this one place.

Defaults suit the local stack; a deployment sets the environment (CDK passes the table name, region
and public URL to every function).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

VERSION = "0.1.0"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    table_name: str = "cirrus"
    region: str = "us-east-1"
    # Where boto3/pynamodb send requests; None means the real AWS endpoints.
    aws_endpoint_url: str | None = None
    # Base of every absolute URL Cirrus emits; None: taken from the request's Host header.
    public_url: str | None = None
    password_iterations: int = 600_000
    lockout_limit: int = 5
    lockout_cooloff_seconds: int = 600
    default_page_size: int = 10
    max_page_size: int = 300
    stage: str = "local"
    version: str = VERSION
    # Queues and state machines are named `<resource_prefix>-<name>`; their URLs/ARNs may also be
    # given one by one (CDK does): CIRRUS_QUEUE_URL_<QUEUE>, CIRRUS_STATE_MACHINE_ARN_<NAME>.
    resource_prefix: str = "cirrus"
    queue_max_receives: int = 5
    # Email: "ses" (Amazon SES v2) or "local" (kept in memory and printed); unset: local when
    # CIRRUS_AWS_ENDPOINT_URL points at a local endpoint, else SES. The sender must be verified in SES.
    email_backend: str = ""
    email_from: str = "noreply@cirrus.localhost"
    # Events (and their feed copies) expire by DynamoDB TTL this many days after they happen.
    event_retention_days: int = 365
    # Web hook deliveries: tries in all, and the delay before the first retry (doubling each time,
    # at most SQS's 900 s); the last failure goes to the background queue's dead-letter queue.
    hook_max_attempts: int = 5
    hook_retry_base_seconds: int = 30
    hook_timeout_seconds: int = 10
    # The EventBridge bus events are published to (CDK sets it; else `<resource_prefix>-events`).
    event_bus_name: str = ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("CIRRUS_TABLE_NAME", "cirrus"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        aws_endpoint_url=env.get("CIRRUS_AWS_ENDPOINT_URL") or None,
        public_url=(env.get("CIRRUS_PUBLIC_URL") or "").rstrip("/") or None,
        password_iterations=_int("CIRRUS_PASSWORD_ITERATIONS", 600_000),
        lockout_limit=_int("CIRRUS_LOCKOUT_LIMIT", 5),
        lockout_cooloff_seconds=_int("CIRRUS_LOCKOUT_COOLOFF_SECONDS", 600),
        stage=env.get("CIRRUS_STAGE", "local"),
        resource_prefix=env.get("CIRRUS_RESOURCE_PREFIX", "cirrus"),
        queue_max_receives=_int("CIRRUS_QUEUE_MAX_RECEIVES", 5),
        email_backend=env.get("CIRRUS_EMAIL_BACKEND", "").strip().lower(),
        email_from=env.get("CIRRUS_EMAIL_FROM") or "noreply@cirrus.localhost",
        event_retention_days=_int("CIRRUS_EVENT_RETENTION_DAYS", 365),
        hook_max_attempts=_int("CIRRUS_HOOK_MAX_ATTEMPTS", 5),
        hook_retry_base_seconds=_int("CIRRUS_HOOK_RETRY_BASE_SECONDS", 30),
        hook_timeout_seconds=_int("CIRRUS_HOOK_TIMEOUT_SECONDS", 10),
        event_bus_name=env.get("CIRRUS_EVENT_BUS_NAME")
        or f"{env.get('CIRRUS_RESOURCE_PREFIX', 'cirrus')}-events",
    )


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
