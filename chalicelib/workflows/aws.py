"""boto3 clients for SQS and Step Functions: built lazily, once, on the configured endpoint."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.config import get_settings


@lru_cache(maxsize=8)
def _client(service: str, endpoint: str | None, region: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=region)


def client(service: str) -> Any:
    settings = get_settings()
    return _client(service, settings.aws_endpoint_url, settings.region)
