"""boto3 clients for SQS, Step Functions and the rest: built lazily, once, on the configured
endpoint, with the configured timeouts and botocore's standard retries."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.config import Settings, get_settings


def client_config(settings: Settings | None = None) -> Any:
    """botocore's Config for every client Cirrus builds: short connect/read timeouts and a few
    attempts in standard mode, so one call ends well inside API Gateway's 29 s (botocore's
    defaults, 60 s each and legacy retries, would not)."""
    from botocore.config import Config

    settings = settings or get_settings()
    return Config(
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts},
    )


@lru_cache(maxsize=8)
def _client(service: str, endpoint: str | None, region: str, timeouts: tuple[float, float, int]) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=region, config=client_config())


def client(service: str) -> Any:
    settings = get_settings()
    timeouts = (
        settings.aws_connect_timeout_seconds,
        settings.aws_read_timeout_seconds,
        settings.aws_max_attempts,
    )
    return _client(service, settings.aws_endpoint_url, settings.region, timeouts)
