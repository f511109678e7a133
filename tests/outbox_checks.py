"""What the outbox tests look at: the table's items (a Scan: tests only), the DynamoDB writes a run
sends, and whether each event has exactly one record and one feed copy per scope."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


def _client() -> Any:
    from chalicelib.store.table import connection

    return connection().client


def _table() -> str:
    from chalicelib.config import get_settings

    return get_settings().table_name


def scan() -> list[dict[str, Any]]:
    """Every item of the table, raw (strongly consistent)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": _table(), "ConsistentRead": True}
    while True:
        page = _client().scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def snapshot(skip: Iterable[str] = ()) -> list[str]:
    """The table's items, each serialised with sorted keys: equal snapshots hold the same bytes.
    Items of the kinds in `skip` (a command's declared bookkeeping outside its transaction, such as
    the slug number it draws first) are left out."""
    skipped = set(skip)
    return sorted(json.dumps(item, sort_keys=True) for item in scan() if kind(item) not in skipped)


def _s(value: dict[str, Any] | None) -> str:
    return str((value or {}).get("S", ""))


def kind(key: dict[str, Any]) -> str:
    """What an item is, from its key (UpdateItem and DeleteItem requests carry only the key)."""
    pk, sk = _s(key.get("pk")), _s(key.get("sk"))
    for prefix, name in (("TOKEN#", "token"), ("LOGINFAIL#", "login_failures"), ("EVT#", "event")):
        if pk.startswith(prefix):
            return name
    if pk.startswith("FEED#"):
        return "feed_entry"
    if pk.startswith("COUNTER#"):
        return "counter"
    if sk.startswith("HOOK#") or pk.startswith("HOOKSUB#"):
        return "hook"
    if sk.startswith("INVITE#"):
        return "invitation"
    if sk.startswith(("PROJ#", "RMPROJ#")):
        return "project"
    return f"{pk.split('#')[0]}/{sk.split('#')[0]}"


@dataclass
class Write:
    """One DynamoDB write request: its operation and the kinds of item each part of it writes."""

    operation: str
    kinds: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)  # event records it puts

    @property
    def changes(self) -> list[str]:
        return [k for k in self.kinds if k not in ("event", "feed_entry")]


def _transaction(params: dict[str, Any]) -> Write:
    write = Write("TransactWriteItems", [])
    for part in params["TransactItems"]:
        if "ConditionCheck" in part:
            continue  # reads a condition, writes nothing
        (action, body), *_ = part.items()
        key = body.get("Item") or body.get("Key") or {}
        write.kinds.append(kind(key))
        if action == "Put" and _s(body["Item"].get("type")) == "event":
            write.events.append(body["Item"])
    return write


_WRITES = {"PutItem": "Item", "UpdateItem": "Key", "DeleteItem": "Key"}


class WriteSpy:
    """Records every DynamoDB write the store sends (botocore's before-parameter-build event)."""

    def __init__(self) -> None:
        self.writes: list[Write] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name == "TransactWriteItems":
            self.writes.append(_transaction(copy.deepcopy(params)))
        elif name in _WRITES:
            self.writes.append(Write(name, [kind(params.get(_WRITES[name]) or {})]))
        elif name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
                    self.writes.append(Write(name, [kind(body)]))

    def problems(self, allowed_outside: set[str]) -> list[str]:
        """Writes that break the outbox rule: a change lands only in a transaction that also puts
        its event (and an event only with a change), except derived or bookkeeping data the case
        declares (`allowed_outside`)."""
        found = []
        for write in self.writes:
            stray = [k for k in write.changes if k not in allowed_outside]
            if write.events and not write.changes:
                found.append(f"{write.operation} puts an event with no change beside it: {write.kinds}")
            elif not write.events and stray:
                found.append(f"{write.operation} changes {stray} without an event in the same request")
        return found


@contextmanager
def spy_writes() -> Iterator[WriteSpy]:
    spy = WriteSpy()
    events = _client().meta.events
    events.register("before-parameter-build.dynamodb", spy)
    try:
        yield spy
    finally:
        events.unregister("before-parameter-build.dynamodb", spy)


def event_ids() -> set[str]:
    from tests.helpers import all_events

    return {e.id for e in all_events()}


def new_events(before: set[str]) -> list[Any]:
    from tests.helpers import all_events

    return [e for e in all_events() if e.id not in before]


def outbox_problems(events: list[Any]) -> list[str]:
    """For each event: exactly one record, exactly one feed copy per scope it concerns and none
    elsewhere, and every copy equal to the record (uuid, type, message, context, time)."""
    from chalicelib.store import keys

    wanted = {e.id for e in events}
    by_event: dict[str, list[dict[str, Any]]] = {}
    for item in scan():
        if _s(item.get("sk")) in wanted and _s(item.get("type")) in ("event", "feed_entry"):
            by_event.setdefault(_s(item["sk"]), []).append(item)
    found = []
    for event in events:
        items = by_event.get(event.id, [])
        records = [i for i in items if _s(i["type"]) == "event"]
        copies = sorted(_s(i["pk"]) for i in items if _s(i["type"]) == "feed_entry")
        feeds = sorted(keys.feed_pk(t, i) for t, i in event.scopes)
        if len(records) != 1:
            found.append(f"{event.event_type} {event.id}: {len(records)} records")
            continue
        if copies != feeds:
            found.append(f"{event.event_type} {event.id}: feed copies {copies}, scopes {feeds}")
        same = ("event_id", "event_type", "message", "context", "created", "customer_id", "scopes")
        for item in items:
            if any(item.get(a) != records[0].get(a) for a in same):
                found.append(f"{event.event_type} {event.id}: copy in {_s(item['pk'])} differs")
    return found
