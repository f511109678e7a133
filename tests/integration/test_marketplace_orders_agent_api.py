"""What the site agent asks of orders beyond placing and approving them: the `modified` window of
its reconciliation (`modified_before`, `modified`/`modified_after`), the order's `set_backend_id/`,
and the provider's order detail (`marketplace-provider-offerings/<uuid>/orders/<uuid>/`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import clock
from tests.helpers import call
from tests.integration.test_marketplace_orders_api import ORDERS, act, get, place

pytestmark = [pytest.mark.stack, pytest.mark.fakes]

REFUSED = {"detail": "You do not have permission to perform this action."}


def placed_at(client, market, when: datetime):
    clock.set_source(lambda: when)
    try:
        return place(client, market, market.owner)
    finally:
        clock.set_source(None)


def test_the_modified_window_filters_an_offerings_orders(client, market):
    now = datetime.now(UTC).replace(microsecond=0)
    old = placed_at(client, market, now - timedelta(hours=2))
    new = placed_at(client, market, now - timedelta(minutes=5))
    cutoff = (now - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")

    def uuids(query: str) -> list[str]:
        return [
            o["uuid"]
            for o in get(client, market.seller, f"{ORDERS}?offering_uuid={market.offering.id}&{query}")
        ]

    assert uuids(f"modified_before={cutoff}&state=pending-provider&state=executing") == [old["uuid"]]
    assert uuids(f"modified={cutoff}") == [new["uuid"]]
    assert uuids(f"modified_after={cutoff}") == [new["uuid"]]
    assert uuids("modified_before=2001-01-01T00:00:00") == []  # a naive time is UTC
    assert uuids(f"modified_before={old['modified']}") == []  # strictly before
    assert uuids(f"modified={old['modified']}&modified_before={new['modified']}") == [old["uuid"]]


def test_a_bad_modified_value_is_a_400_in_the_fields_shape(client, market):
    for name in ("modified_before", "modified", "modified_after"):
        reply = call(client, "GET", f"{ORDERS}?{name}=yesterday", market.seller)
        assert reply.status == 400 and list(reply.json) == [name], reply.json


def test_the_provider_sets_the_orders_backend_id(client, market, alice):
    order = place(client, market, market.owner)
    path = f"{ORDERS}{order['uuid']}/set_backend_id/"
    assert order["backend_id"] == ""
    reply = call(client, "POST", path, market.seller, {"backend_id": "job-42"})
    assert (reply.status, reply.json) == (200, {"status": "Order backend_id has been changed."})
    again = call(client, "POST", path, market.seller, {"backend_id": "job-42"})
    assert (again.status, again.json) == (200, {"status": "Order backend_id is not changed."})
    assert get(client, market.owner, f"{ORDERS}{order['uuid']}/")["backend_id"] == "job-42"
    assert act(client, market.seller, order, "approve_by_provider").status == 200  # the state is its own

    for consumer in (market.owner, market.member):
        reply = call(client, "POST", path, consumer, {"backend_id": "mine"})
        assert (reply.status, reply.json) == (403, REFUSED)
    assert call(client, "POST", path, alice, {"backend_id": "x"}).status == 404
    for bad, error in (({}, "This field is required."), ({"backend_id": "x" * 256}, None)):
        reply = call(client, "POST", path, market.seller, bad)
        assert reply.status == 400 and list(reply.json) == ["backend_id"], reply.json
        assert error is None or reply.json["backend_id"] == [error]
    assert get(client, market.staff, f"{ORDERS}{order['uuid']}/")["backend_id"] == "job-42"


def test_the_provider_reads_one_order_of_its_offering(client, market, staff):
    order = place(client, market, market.owner)
    path = f"/api/marketplace-provider-offerings/{market.offering.id}/orders/{order['uuid']}/"
    seen = get(client, market.seller, path)
    assert seen == get(client, market.seller, f"{ORDERS}{order['uuid']}/")
    assert get(client, staff, f"{path}?field=uuid&field=state") == {
        "uuid": order["uuid"],
        "state": order["state"],
    }

    from tests.marketplace_helpers import make_offering

    other = make_offering(staff, market.provider.id, name="Other")
    assert call(client, "GET", f"/api/marketplace-provider-offerings/{other.id}/orders/{order['uuid']}/",
                market.seller).status == 404  # fmt: skip
    assert call(client, "GET", path, market.owner).status == 404  # the consumer's view is the order's own
