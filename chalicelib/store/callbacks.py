"""Stored task tokens of workflows that wait for an external answer (`CALLBACK#<key>`)."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DeleteError

from chalicelib.domain.clock import utcnow
from chalicelib.store import keys
from chalicelib.store.errors import lost_condition
from chalicelib.store.items import BaseItem, CallbackItem

RETENTION = timedelta(days=366)  # Step Functions standard executions last at most a year


def store(key: str, token: str, workflow: str) -> None:
    CallbackItem(
        pk=keys.callback_pk(key),
        sk=keys.META,
        task_token=token,
        workflow=workflow,
        expires_at=utcnow() + RETENTION,
    ).save()


def take(key: str) -> str | None:
    """Remove and return the token under `key`, in one conditional delete: only one answer is sent."""
    table = BaseItem._get_connection()
    try:
        response = table.delete_item(
            keys.callback_pk(key),
            range_key=keys.META,
            condition=CallbackItem.pk.exists(),
            return_values="ALL_OLD",
        )
    except DeleteError as exc:
        if lost_condition(exc):
            return None
        raise
    return str(response["Attributes"]["task_token"]["S"])
