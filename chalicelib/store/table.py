"""Binding the pynamodb models to the configured table and endpoint, lazily, once per settings."""

from __future__ import annotations

from typing import Any

from pynamodb.connection import Connection

from chalicelib.config import Settings
from chalicelib.store.items import ALL_MODELS, BaseItem

_bound: list[tuple[Any, ...] | None] = [None]


def bind(settings: Settings) -> None:
    """Point every model at `settings.table_name` on `settings.aws_endpoint_url` (None: AWS), with
    the configured timeouts and attempts (pynamodb's own defaults, 15 s to connect and 30 s to read,
    would outlive API Gateway's 29 s)."""
    target = (
        settings.table_name,
        settings.aws_endpoint_url,
        settings.region,
        settings.aws_connect_timeout_seconds,
        settings.aws_read_timeout_seconds,
        settings.aws_max_attempts,
    )
    if _bound[0] == target:
        return
    meta: Any = BaseItem.Meta
    meta.table_name = settings.table_name
    meta.host = settings.aws_endpoint_url
    meta.region = settings.region
    meta.connect_timeout_seconds = settings.aws_connect_timeout_seconds
    meta.read_timeout_seconds = settings.aws_read_timeout_seconds
    # pynamodb counts retries (botocore's standard mode, `total_max_attempts` = 1 + this).
    meta.max_retry_attempts = settings.aws_max_attempts - 1
    for model in ALL_MODELS:
        model._connection = None
    _bound[0] = target


def connection() -> Connection:
    """The models' shared low-level connection (transactions use it, so no second client is built)."""
    return BaseItem._get_connection().connection
