"""An offering's end of life: deleting one nobody ordered (a Draft one; staff: any) revokes its
team and removes its plans' URLs, while an offering with resources, and a component its resources
may use, stay (Waldur's 403 and 400)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_account
from tests.helpers import call
from tests.marketplace_helpers import ctx_of, order_request

OFFERINGS, PLANS = "/api/marketplace-provider-offerings/", "/api/marketplace-plans/"


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


def draft(market: Any) -> Any:
    from chalicelib.services import offerings

    data = {"name": "Spare", "type": "Marketplace.Basic", "plans": [{"name": "Monthly"}]}
    return offerings.create_offering(ctx_of(market.staff), market.provider.id, data)


def test_a_draft_offering_nobody_ordered_is_deleted_with_its_team_and_plan_urls(client, market):
    offering = draft(market)
    manager = make_account("manager")
    path = f"{OFFERINGS}{offering.id}/"
    granted = call(
        client, "POST", f"{path}add_user/", market.seller, {"user": manager.id, "role": "OFFERING.MANAGER"}
    )
    assert granted.status == 201, granted.json

    assert call(client, "DELETE", path, manager).status == 403  # OFFERING.DELETE is the provider's
    assert call(client, "DELETE", path, market.seller).status == 204
    assert call(client, "GET", path, market.staff).status == 404
    assert call(client, "GET", f"{PLANS}{offering.plans[0].id}/", market.staff).status == 404
    assert call(client, "GET", "/api/user-permissions/", manager).json == []


def test_only_staff_delete_an_offering_that_is_not_a_draft(client, market):
    from chalicelib.services import offerings

    offering = offerings.set_state(ctx_of(market.staff), draft(market).id, "activate")
    path = f"{OFFERINGS}{offering.id}/"
    refused = call(client, "DELETE", path, market.seller)
    assert (refused.status, refused.json) == (
        403,
        {"detail": "Offering was not deleted since offering is not in draft state."},
    )
    assert call(client, "DELETE", path, market.staff).status == 204


def test_an_offering_with_resources_keeps_itself_and_its_components(client, market):
    from chalicelib.services import orders

    orders.create_order(ctx_of(market.owner), order_request(market))
    path = f"{OFFERINGS}{market.offering.id}/"
    refused = call(client, "DELETE", path, market.staff)
    assert (refused.status, refused.json) == (
        403,
        {"detail": "Offering was not deleted since it has resources."},
    )
    cpu = market.offering.component("cpu")
    used = call(client, "POST", f"{path}remove_offering_component/", market.seller, {"uuid": cpu.id})
    assert (used.status, used.json) == (
        400,
        ["The component CPU cannot be removed because it is already used"],
    )
    assert call(client, "GET", path, market.staff).status == 200
