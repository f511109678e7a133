"""Whether the table answers: one consistent read of a key nothing is written to (one read unit)."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from chalicelib.store import keys
from chalicelib.store.items import BaseItem


def table_answers() -> bool:
    try:
        BaseItem.count(keys.HEALTH, BaseItem.sk == keys.META, limit=1)
    except PynamoDBException:
        return False
    return True
