"""A page of resources joins its offerings, categories and projects in a fixed number of DynamoDB
requests, however many rows the page has (on moto: the requests are counted)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.helpers import call
from tests.integration.test_marketplace_orders_api import act, place
from tests.marketplace_helpers import ctx_of, make_offering


@pytest.fixture
def aws(stack: Any) -> Iterator[None]:
    """Orders start their workflow (recorded by moto, not run)."""
    yield


@contextmanager
def requests_made() -> Iterator[list[str]]:
    """The DynamoDB operations called while inside."""
    from chalicelib.store.table import connection

    seen: list[str] = []

    def after_call(model: Any, **_: Any) -> None:
        seen.append(model.name)

    events = connection().client.meta.events
    events.register("after-call.dynamodb", after_call)
    try:
        yield seen
    finally:
        events.unregister("after-call.dynamodb", after_call)


def _live(client: Any, market: Any, offering: Any, name: str) -> None:
    order = place(client, market, market.owner, of=offering, attributes={"name": name})
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")


def _page_cost(client: Any, market: Any) -> tuple[int, list[str]]:
    with requests_made() as seen:
        reply = call(
            client, "GET", f"/api/marketplace-resources/?project_uuid={market.project.id}", market.owner
        )
    assert reply.status == 200
    return len(reply.json), seen


def test_a_resource_page_costs_the_same_requests_whatever_its_length(client: Any, market: Any) -> None:
    from chalicelib.services import categories

    category = categories.create_category(ctx_of(market.staff), {"title": "Virtual machines"})
    filed = make_offering(market.staff, market.provider.id, name="Cloud VMs", category_id=category.id)
    _live(client, market, filed, "one")
    rows, one = _page_cost(client, market)
    assert rows == 1 and one.count("BatchGetItem") == 3  # offerings, categories, projects
    for name in ("two", "three", "four"):
        _live(client, market, market.offering if name == "two" else filed, name)
    rows, four = _page_cost(client, market)
    assert rows == 4 and sorted(four) == sorted(one)
