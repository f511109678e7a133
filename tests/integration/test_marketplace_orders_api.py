"""/api/marketplace-orders/: placing an order (its resource made at once and counted), approvals on
both sides, refusals, the provider finishing or failing it, state rules (409), permissions, filters,
and the Idempotency-Key header. Workflows are started and recorded, not run (see
test_order_lifecycle.py for the state machine itself)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import call
from tests.marketplace_helpers import make_offering

ORDERS = "/api/marketplace-orders/"
GHOST = "0" * 32
INVALID = ["Invalid hyperlink - Object does not exist."]


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


def body(market, of=None, **overrides):
    offering = of or market.offering
    public = f"http://testserver/api/marketplace-public-offerings/{offering.id}/"
    return {
        "project": f"http://testserver/api/projects/{market.project.id}/",
        "offering": public,
        "plan": f"{public}plans/{offering.plans[0].id}/",
        "attributes": {"name": "vm-1", "description": "a test machine"},
        "limits": {"cpu": 2},
        "accepting_terms_of_service": True,
        **overrides,
    }


def place(client, market, account, of=None, **overrides):
    reply = call(client, "POST", ORDERS, account, body(market, of, **overrides))
    assert reply.status == 201, reply.json
    return reply.json


def act(client, account, order, action, payload=None):
    return call(client, "POST", f"{ORDERS}{order['uuid']}/{action}/", account, payload)


def get(client, account, path):
    reply = call(client, "GET", path, account)
    assert reply.status == 200, reply.json
    return reply.json


def resource_of(client, account, order, view="marketplace-resources"):
    return get(client, account, f"/api/{view}/{order['marketplace_resource_uuid']}/")


def quota(client, account, path):
    quotas = get(client, account, path)["quotas"]
    return next(q["usage"] for q in quotas if q["name"] == "nc_resource_count")


# --- placing ------------------------------------------------------------------------------------------
def test_an_order_makes_its_resource_at_once_and_counts_it(client, market):
    order = place(client, market, market.member)

    assert order["state"] == "pending-consumer"  # a member may order, not approve
    assert order["type"] == "Create" and order["marketplace_resource_uuid"]
    assert order["offering_plugin_options"] == {} and order["cost"] == "14.00"
    assert order["created_by_username"] == "member" and order["resource_name"] == "vm-1"
    resource = resource_of(client, market.member, order)
    assert (resource["state"], resource["name"], resource["limits"]) == ("Creating", "vm-1", {"cpu": 2})
    assert quota(client, market.owner, f"/api/projects/{market.project.id}/") == 1
    assert quota(client, market.owner, f"/api/customers/{market.consumer.id}/") == 1


def test_an_approver_skips_the_consumers_approval_and_a_basic_offering_waits_for_the_provider(client, market):
    assert place(client, market, market.owner)["state"] == "pending-provider"
    assert place(client, market, market.staff)["state"] == "pending-provider"


def test_an_offering_without_review_executes_at_once(client, market):
    demo = make_offering(market.staff, market.provider.id, "Cirrus.Demo", name="Demo")
    assert place(client, market, market.owner, demo)["state"] == "executing"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"project": f"/api/projects/{GHOST}/"}, {"project": INVALID}),
        ({"offering": f"/api/marketplace-public-offerings/{GHOST}/"}, {"offering": INVALID}),
        ({"plan": f"/api/marketplace-plans/{GHOST}/"}, {"plan": INVALID}),
        ({"limits": {"cpu": -1}}, {"limits": {"cpu": ["Ensure this value is greater than or equal to 0."]}}),
        ({"limits": {"cpu": 2, "ram": "lots"}}, {"limits": {"ram": ["A valid integer is required."]}}),
        ({"limits": {"gpu": 1}}, {"limits": ["gpu is not a limit-based component of this offering."]}),
        ({"type": "Terminate"}, "type"),
        ({"type": "Sideways"}, {"type": ['"Sideways" is not a valid choice.']}),
        ({"attributes": "vm"}, "attributes"),
        ({"project": None}, {"project": ["This field may not be null."]}),
    ],
)
def test_bad_orders_are_refused_and_change_nothing(client, market, overrides, expected):
    reply = call(client, "POST", ORDERS, market.owner, body(market, **overrides))
    assert reply.status == 400, reply.json
    assert reply.json == expected if isinstance(expected, dict) else expected in reply.json
    assert get(client, market.staff, ORDERS) == []
    assert quota(client, market.owner, f"/api/projects/{market.project.id}/") == 0


def test_a_plan_of_another_offering_and_an_inactive_offering_are_refused(client, market):
    other = make_offering(market.staff, market.provider.id, name="Storage")
    reply = call(
        client,
        "POST",
        ORDERS,
        market.owner,
        body(market, plan=f"/api/marketplace-plans/{other.plans[0].id}/"),
    )
    assert reply.json == {"plan": ["This plan is not available for selected offering."]}
    from chalicelib.services import offerings
    from tests.marketplace_helpers import ctx_of

    offerings.set_state(ctx_of(market.staff), other.id, "pause")
    reply = call(client, "POST", ORDERS, market.owner, body(market, other))
    assert (reply.status, reply.json) == (400, {"offering": ["Offering is not available."]})


def test_terms_of_service_must_be_accepted_when_the_offering_has_them(client, market):
    strict = make_offering(market.staff, market.provider.id, name="Strict", terms_of_service="Be nice.")
    reply = call(client, "POST", ORDERS, market.owner, body(market, strict, accepting_terms_of_service=False))
    assert reply.status == 400
    assert reply.json == {
        "non_field_errors": ['Terms of service for offering "Strict" have not been accepted.']
    }


# --- the lifecycle by hand -----------------------------------------------------------------------------
def test_the_consumer_then_the_provider_approve_and_the_provider_finishes(client, market):
    order = place(client, market, market.member)

    assert act(client, market.member, order, "approve_by_consumer").status == 403  # no ORDER.APPROVE
    assert act(client, market.seller, order, "approve_by_consumer").status == 403  # the other side
    reply = act(client, market.owner, order, "approve_by_consumer")
    assert (reply.status, reply.json) == (200, {"detail": "Order has been approved."})
    assert act(client, market.owner, order, "approve_by_provider").status == 403
    assert act(client, market.seller, order, "approve_by_provider").status == 200
    assert get(client, market.owner, f"{ORDERS}{order['uuid']}/")["state"] == "executing"
    resource_id = order["marketplace_resource_uuid"]
    reply = call(
        client,
        "POST",
        f"/api/marketplace-provider-resources/{resource_id}/set_backend_id/",
        market.seller,
        {"backend_id": "vm-42"},
    )
    assert reply.json == {"status": "Resource backend_id has been changed."}
    assert act(client, market.seller, order, "set_state_done").status == 200

    done = get(client, market.member, f"{ORDERS}{order['uuid']}/")
    assert done["state"] == "done" and done["completed_at"]
    assert (
        done["consumer_reviewed_by_username"] == "owner" and done["provider_reviewed_by_username"] == "seller"
    )
    for view, account in (
        ("marketplace-resources", market.member),
        ("marketplace-provider-resources", market.seller),
    ):
        resource = resource_of(client, account, order, view)
        assert (resource["state"], resource["backend_id"]) == ("OK", "vm-42")
    assert act(client, market.seller, order, "set_state_done").json == {
        "detail": "Valid states for operation: executing."
    }


def test_a_second_approval_is_a_409_with_waldurs_message(client, market):
    order = place(client, market, market.owner)
    reply = act(client, market.owner, order, "approve_by_consumer")
    assert (reply.status, reply.json) == (409, {"detail": "Valid states for operation: pending-consumer."})


@pytest.mark.parametrize(
    ("who", "action", "state", "status"),
    [
        ("owner", "reject_by_consumer", "rejected", 200),
        ("member", "cancel", "canceled", 202),  # its creator may cancel it
    ],
)
def test_a_refused_create_order_ends_its_resource_and_frees_its_quota(
    client, market, who, action, state, status
):
    order = place(client, market, market.member)
    reply = act(client, getattr(market, who), order, action)
    assert reply.status == status, reply.json
    assert get(client, market.owner, f"{ORDERS}{order['uuid']}/")["state"] == state
    assert resource_of(client, market.owner, order)["state"] == "Terminated"
    assert quota(client, market.owner, f"/api/projects/{market.project.id}/") == 0


def test_the_provider_rejects_and_fails_orders(client, market):
    rejected = place(client, market, market.owner)
    assert act(client, market.seller, rejected, "reject_by_provider").status == 200
    assert get(client, market.owner, f"{ORDERS}{rejected['uuid']}/")["state"] == "rejected"

    failing = place(client, market, market.owner)
    act(client, market.seller, failing, "approve_by_provider")
    reply = act(
        client,
        market.seller,
        failing,
        "set_state_erred",
        {"error_message": "No capacity", "error_traceback": "..."},
    )
    assert reply.status == 200, reply.json
    failed = get(client, market.owner, f"{ORDERS}{failing['uuid']}/")
    assert (failed["state"], failed["error_message"]) == ("erred", "No capacity")
    resource = resource_of(client, market.owner, failing)
    assert (resource["state"], resource["error_message"]) == ("Erred", "No capacity")
    assert quota(client, market.owner, f"/api/projects/{market.project.id}/") == 1  # it still exists

    assert act(client, market.seller, failing, "set_state_executing").status == 200  # a retry
    assert resource_of(client, market.owner, failing)["state"] == "Creating"


def test_only_a_pending_order_can_be_deleted(client, market):
    pending = place(client, market, market.member)
    assert call(client, "DELETE", f"{ORDERS}{pending['uuid']}/", market.owner).status == 204
    assert call(client, "GET", f"{ORDERS}{pending['uuid']}/", market.owner).status == 404
    assert resource_of(client, market.owner, pending)["state"] == "Terminated"

    executing = place(client, market, market.owner)
    act(client, market.seller, executing, "approve_by_provider")
    reply = call(client, "DELETE", f"{ORDERS}{executing['uuid']}/", market.owner)
    assert reply.status == 409 and reply.json["detail"].startswith(
        "Valid states for operation: pending-consumer"
    )


def test_an_order_is_hidden_from_those_on_neither_side(client, market, alice):
    order = place(client, market, market.owner)
    assert call(client, "GET", f"{ORDERS}{order['uuid']}/", alice).status == 404
    assert act(client, alice, order, "approve_by_provider").status == 404
    assert get(client, alice, ORDERS) == []
    assert get(client, market.seller, f"{ORDERS}{order['uuid']}/")["uuid"] == order["uuid"]


# --- lists -------------------------------------------------------------------------------------------
def test_filters_narrow_the_list(client, market):
    first = place(client, market, market.member)
    second = place(client, market, market.owner)
    act(client, market.seller, second, "approve_by_provider")

    def uuids(query, account=market.staff):
        return [o["uuid"] for o in get(client, account, f"{ORDERS}?{query}")]

    assert uuids("") == [second["uuid"], first["uuid"]]  # newest first
    assert uuids("o=created") == [first["uuid"], second["uuid"]]
    assert uuids("state=pending-consumer&state=executing") == [second["uuid"], first["uuid"]]
    assert uuids("state=executing") == [second["uuid"]]
    assert uuids("type=Terminate") == []
    for name, value in (
        ("project_uuid", market.project.id),
        ("customer_uuid", market.consumer.id),
        ("provider_uuid", market.provider.id),
        ("offering_uuid", market.offering.id),
    ):
        assert len(uuids(f"{name}={value}")) == 2, name
    assert uuids(f"resource_uuid={first['marketplace_resource_uuid']}") == [first["uuid"]]
    assert uuids("can_approve_as_consumer=true", market.owner) == [first["uuid"]]
    assert uuids("can_approve_as_provider=true", market.seller) == []
    assert uuids("", market.seller) == [second["uuid"], first["uuid"]]  # the provider sees its orders
    reply = call(client, "GET", f"{ORDERS}?state=lost", market.staff)
    assert reply.status == 400 and "state" in reply.json
    assert call(client, "GET", f"{ORDERS}?customer_uuid=nope", market.staff).json == {
        "customer_uuid": ["Enter a valid UUID."]
    }


# --- Idempotency-Key ------------------------------------------------------------------------------------
def test_a_retried_creation_with_the_same_key_answers_with_the_first_order(client, market):
    key = {"Idempotency-Key": "order-vm-1"}
    first = call(client, "POST", ORDERS, market.owner, body(market), headers=key)
    again = call(client, "POST", ORDERS, market.owner, body(market), headers=key)
    assert first.status == again.status == 201
    assert again.json["uuid"] == first.json["uuid"]
    other_user = call(client, "POST", ORDERS, market.member, body(market), headers=key)
    assert other_user.json["uuid"] != first.json["uuid"]  # keys are per user
    assert len(get(client, market.staff, ORDERS)) == 2
    assert quota(client, market.owner, f"/api/projects/{market.project.id}/") == 2


def test_a_key_reused_with_a_different_body_is_refused_not_answered_with_the_first_order(client, market):
    key = {"Idempotency-Key": "order-vm-2"}
    first = call(client, "POST", ORDERS, market.owner, body(market), headers=key)
    assert first.status == 201
    other = body(market, limits={"cpu": 4})
    reused = call(client, "POST", ORDERS, market.owner, other, headers=key)
    assert reused.status == 422
    assert reused.json == {
        "detail": "This Idempotency-Key was already used with a different request; use a new key."
    }
    # The same body again (its keys in another order, other spacing) is a retry: the first order.
    same = json.dumps(dict(reversed(list(body(market).items()))), indent=2)
    again = call(client, "POST", ORDERS, market.owner, raw_body=same, headers=key)
    assert (again.status, again.json["uuid"]) == (201, first.json["uuid"])
    assert len(get(client, market.staff, ORDERS)) == 1  # the refused request placed nothing
    assert quota(client, market.owner, f"/api/projects/{market.project.id}/") == 1


def test_a_provider_lists_one_offerings_orders(client, market):
    pending = place(client, market, market.owner)
    place(client, market, market.member)
    path = f"/api/marketplace-provider-offerings/{market.offering.id}/orders/"
    assert len(get(client, market.seller, path)) == 2
    assert [o["uuid"] for o in get(client, market.seller, f"{path}?state=pending-provider")] == [
        pending["uuid"]
    ]
    assert call(client, "GET", path, market.member).status == 404  # a consumer does not manage it
