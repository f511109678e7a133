"""Small helpers for driving the API through Chalice's test client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


def call(
    client: Any,
    method: str,
    path: str,
    account: Any = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw_body: bytes | str | None = None,
) -> Reply:
    sent = dict(account.headers) if account is not None else {"Content-Type": "application/json"}
    sent.update(headers or {})
    payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else b"")
    response = getattr(client, method.lower())(path, headers=sent, body=payload)
    return Reply(response.status_code, dict(response.headers), response.body)


def create_customer(client: Any, staff: Any, name: str = "Acme", **fields: Any) -> dict[str, Any]:
    reply = call(client, "POST", "/api/customers/", staff, {"name": name, **fields})
    assert reply.status == 201, reply.json
    return reply.json  # type: ignore[no-any-return]


def create_project(
    client: Any, staff: Any, customer: dict[str, Any], name: str = "Apollo", **fields: Any
) -> Any:
    reply = call(
        client, "POST", "/api/projects/", staff, {"name": name, "customer": customer["url"], **fields}
    )
    assert reply.status == 201, reply.json
    return reply.json


def _whole_log(feed: tuple[str, str] | None) -> list[Any]:
    """Every event of a feed (None: the staff's log), oldest first, through the bound events port
    (the store under moto, the fakes' World on the fakes), read whole whatever its total says."""
    from chalicelib.services import ports
    from chalicelib.services.paging import PageRequest

    query = ports.EventQuery(feed=feed, newest_first=False)
    return list(ports.current().events.page(query, PageRequest(1, 100_000)).items)


def feed(scope_type: str, scope_id: str) -> list[Any]:
    """The events in one scope's feed, oldest first (domain `Event`s)."""
    return _whole_log((scope_type, scope_id))


def all_events() -> list[Any]:
    """Every event record, oldest first (the staff view's index)."""
    return _whole_log(None)
