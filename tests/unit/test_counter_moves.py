"""Which stream records move which platform-wide total (store/counters.py), without AWS."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.ids import new_id
from chalicelib.domain.roles import SYSTEM_ROLES
from chalicelib.store import counters

OWNER = SYSTEM_ROLES["CUSTOMER.OWNER"].id


def image(item_type: str, sk: str = "#META", **attrs: str) -> dict[str, Any]:
    return {
        "pk": {"S": "X#1"},
        "sk": {"S": sk},
        "type": {"S": item_type},
        **{k: {"S": v} for k, v in attrs.items()},
    }


def record(event_name: str, item: dict[str, Any]) -> dict[str, Any]:
    images = {"INSERT": {"NewImage": item}, "REMOVE": {"OldImage": item}}
    return {
        "eventID": "r1",
        "eventName": event_name,
        "dynamodb": images.get(event_name, {"NewImage": item, "OldImage": item}),
    }


@pytest.mark.parametrize(
    ("item", "counter"),
    [
        (image("customer"), counters.CUSTOMERS),
        (image("project", sk="PROJ#p"), counters.PROJECTS),
        (image("user"), counters.USERS),
        (image("order"), counters.ORDERS),
        (image("resource"), counters.RESOURCES),
        (image("offering"), counters.OFFERINGS),
        (image("component_usage"), counters.USAGES),
        (image("invitation"), counters.INVITATIONS),
        (image("hook", kind="webhook"), "webhooks"),
        (image("hook", kind="email"), "emailhooks"),
        (image("grant", role_id=OWNER), counters.role_users(OWNER)),
    ],
)
def test_an_item_that_appears_counts_one_more_and_one_that_goes_one_less(item, counter):
    assert counters.moves(record("INSERT", item)) == {counter: 1}
    assert counters.moves(record("REMOVE", item)) == {counter: -1}
    assert counters.moves(record("MODIFY", item)) == {}  # an edit changes no total


@pytest.mark.parametrize(
    "item",
    [
        image("project", sk="RMPROJ#p"),  # a removed project's copy: no longer in the live total
        image("grant", role_id=new_id()),  # a custom role's holders are counted in its grants' transaction
        image("event"),
        image("feed_entry"),
        image("counter"),  # what the counting itself writes
        image("tally"),
        image("username"),
    ],
)
def test_other_items_move_no_total(item):
    assert counters.moves(record("INSERT", item)) == {}
    assert counters.moves(record("REMOVE", item)) == {}


def test_every_counted_type_is_one_the_stream_filter_lets_through():
    assert set(counters.COUNTED_TYPES) >= {
        "customer", "project", "user", "order", "resource", "offering", "component_usage", "invitation",
        "hook", "grant",
    }  # fmt: skip
