"""What the DynamoDB calls of a piece of code cost, in calls and in on-demand request units.

`Meter.installed()` wraps botocore's `BaseClient._make_api_call` (every pynamodb connection and
boto3 client goes through it, as bench/request_costs.py counts them) and, while `measuring()`, notes
each DynamoDB call with what it costs at DynamoDB's on-demand rules:

- a write: 1 WRU per started KB of the item (for an UpdateItem or a Put over an item, the larger
  of its sizes before and after), twice that inside TransactWriteItems (a condition check counts as
  a write there), plus 1 WRU per KB for each global secondary index copy the item has (both of
  Cirrus's indexes project ALL, so a copy is as big as the item);
- a read: 1 RRU per started 4 KB read consistently, half that eventually consistent, twice that in
  TransactGetItems; a Query pays for the total size of the items it returned.

Item sizes follow DynamoDB's rules (attribute names plus values; maps and lists 3 bytes plus 1 per
element). The sizes before and after a write are read with a GetItem the meter makes itself, not
counted. Used by tests that assert what an endpoint costs, and by bench/agent_write_costs.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client

from chalicelib.store.capacity import item_size

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
GSI_KEYS = (("gsi1pk", "gsi1sk"), ("gsi2pk", "gsi2sk"))


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _gsi_copies(*items: dict[str, Any] | None) -> int:
    return sum(1 for pk, sk in GSI_KEYS if any(i and pk in i and sk in i for i in items))


@dataclass
class Write:
    key: dict[str, Any]
    before: int  # bytes; 0 when no item was there
    after: int  # bytes; 0 when the write removed it (or a condition check)
    gsi_copies: int
    transactional: bool
    check_only: bool = False

    @property
    def wru(self) -> float:
        units = _kb(max(self.before, self.after))
        table = units * (2 if self.transactional else 1)
        return table + (0 if self.check_only else units * self.gsi_copies)


@dataclass
class CallCost:
    op: str
    writes: list[Write] = field(default_factory=list)
    rru: float = 0.0

    @property
    def wru(self) -> float:
        return sum(w.wru for w in self.writes)

    @property
    def largest_write(self) -> int:
        return max((max(w.before, w.after) for w in self.writes), default=0)


@dataclass
class Cost:
    calls: list[CallCost]

    @property
    def ops(self) -> list[str]:
        return [c.op for c in self.calls]

    @property
    def writes(self) -> int:
        return sum(1 for c in self.calls if c.op in WRITES)

    @property
    def reads(self) -> int:
        return sum(1 for c in self.calls if c.op not in WRITES)

    @property
    def wru(self) -> float:
        return sum(c.wru for c in self.calls)

    @property
    def rru(self) -> float:
        return sum(c.rru for c in self.calls)

    @property
    def largest_write(self) -> int:
        return max((c.largest_write for c in self.calls), default=0)

    def summary(self) -> str:
        return f"{len(self.calls)} calls ({', '.join(self.ops)}), {self.wru:g} WRU, {self.rru:g} RRU"


class Meter:
    def __init__(self) -> None:
        self.active = False
        self.calls: list[CallCost] = []
        self._inside = False

    @classmethod
    @contextmanager
    def installed(cls) -> Iterator[Meter]:
        meter = cls()
        original = botocore.client.BaseClient._make_api_call

        def metered(client: Any, operation: str, params: Any) -> Any:
            if not meter.active or meter._inside or client.meta.service_model.service_name != "dynamodb":
                return original(client, operation, params)
            return meter._measure(client, original, operation, params)

        botocore.client.BaseClient._make_api_call = metered
        try:
            yield meter
        finally:
            botocore.client.BaseClient._make_api_call = original

    @contextmanager
    def measuring(self) -> Iterator[Cost]:
        cost = Cost([])
        self.calls, self.active = cost.calls, True
        try:
            yield cost
        finally:
            self.active = False

    # --- one call ---------------------------------------------------------------------------------
    def _get(self, client: Any, original: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        self._inside = True
        try:
            found = original(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
        finally:
            self._inside = False
        item: dict[str, Any] | None = found.get("Item")
        return item

    def _key(self, client: Any, original: Any, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in ("pk", "sk") if name in item}

    def _measure(self, client: Any, original: Any, operation: str, params: dict[str, Any]) -> Any:
        cost = CallCost(operation)
        self.calls.append(cost)
        # (table, key, transactional, check_only, before item) of each item this call may write
        staged: list[tuple[str, dict[str, Any], bool, bool, dict[str, Any] | None]] = []

        def stage(table: str, key: dict[str, Any], tx: bool, check: bool = False) -> None:
            staged.append((table, key, tx, check, self._get(client, original, table, key)))

        if operation in ("PutItem",):
            stage(
                params["TableName"], self._key(client, original, params["TableName"], params["Item"]), False
            )
        elif operation in ("UpdateItem", "DeleteItem"):
            stage(params["TableName"], params["Key"], False)
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        stage(table, self._key(client, original, table, request["PutRequest"]["Item"]), False)
                    else:
                        stage(table, request["DeleteRequest"]["Key"], False)
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (kind, body), *_ = entry.items()
                table = body["TableName"]
                key = body.get("Key") or self._key(client, original, table, body["Item"])
                stage(table, key, True, kind == "ConditionCheck")

        response = original(client, operation, params)

        for table, key, tx, check, before in staged:
            after = None if check else self._get(client, original, table, key)
            cost.writes.append(
                Write(key, item_size(before), item_size(after), _gsi_copies(before, after), tx, check)
            )
        cost.rru = _read_units(operation, params, response)
        return response


def _read_units(operation: str, params: dict[str, Any], response: dict[str, Any]) -> float:
    factor = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        return math.ceil(max(1, item_size(response.get("Item"))) / 4096) * factor
    if operation in ("Query", "Scan"):
        size = sum(item_size(i) for i in response.get("Items", []))
        return max(1, math.ceil(size / 4096)) * factor
    if operation == "BatchGetItem":
        return sum(
            math.ceil(max(1, item_size(i)) / 4096)
            * (1.0 if params["RequestItems"][t].get("ConsistentRead") else 0.5)
            for t, items in (response.get("Responses") or {}).items()
            for i in items
        )
    if operation == "TransactGetItems":
        return sum(
            2 * math.ceil(max(1, item_size(r.get("Item"))) / 4096) for r in response.get("Responses") or []
        )
    return 0.0
