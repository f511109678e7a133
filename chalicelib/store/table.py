"""Binding the pynamodb models to the configured table and endpoint, lazily, once per settings."""

from __future__ import annotations

from pynamodb.connection import Connection

from chalicelib.config import Settings
from chalicelib.store.items import ALL_MODELS, BaseItem

_bound: list[tuple[str, str | None, str] | None] = [None]


def bind(settings: Settings) -> None:
    """Point every model at `settings.table_name` on `settings.aws_endpoint_url` (None: AWS)."""
    target = (settings.table_name, settings.aws_endpoint_url, settings.region)
    if _bound[0] == target:
        return
    BaseItem.Meta.table_name = settings.table_name
    BaseItem.Meta.host = settings.aws_endpoint_url  # type: ignore[attr-defined]
    BaseItem.Meta.region = settings.region
    for model in ALL_MODELS:
        model._connection = None
    _bound[0] = target


def connection() -> Connection:
    """The models' shared low-level connection (transactions use it, so no second client is built)."""
    return BaseItem._get_connection().connection
