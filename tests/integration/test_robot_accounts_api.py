"""`/api/marketplace-robot-accounts/` over HTTP on moto's DynamoDB: Waldur's fields and errors, the
state actions' 400 (Waldur's StateTransitionError), the filters (Waldur's state numbers too) and the
list's count, who reads and who gets 404, and a bad key or a stranger refusing the whole request
(nothing stored)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_account
from tests.helpers import call
from tests.marketplace_helpers import build_market

pytestmark = pytest.mark.moto

BASE = "/api/marketplace-robot-accounts/"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMI8mOlDJAWsXHu2OOZiOdaEhJ8q0XbC9uZKPuk9DlM6 ci@example"


@pytest.fixture
def aws(stack):
    yield


@pytest.fixture
def market(aws: None) -> Any:
    return build_market(make_account("staff", is_staff=True))


@pytest.fixture
def resource(client: Any, market: Any) -> str:
    """A resource in Apollo, made OK by the provider."""
    body = {
        "project": f"http://localhost/api/projects/{market.project.id}/",
        "offering": f"http://localhost/api/marketplace-public-offerings/{market.offering.id}/",
        "plan": f"http://localhost/api/marketplace-public-offerings/{market.offering.id}/plans/{market.plan.id}/",
        "attributes": {"name": "vm-1"},
        "limits": {"cpu": 1},
    }
    order = call(client, "POST", "/api/marketplace-orders/", market.owner, body).json
    for action in ("approve_by_provider", "set_state_done"):
        reply = call(client, "POST", f"/api/marketplace-orders/{order['uuid']}/{action}/", market.seller)
        assert reply.status == 200, reply.json
    return str(order["marketplace_resource_uuid"])


def _create(client: Any, who: Any, resource: str, **fields: Any) -> Any:
    body = {"resource": f"http://localhost/api/marketplace-resources/{resource}/", "type": "cicd", **fields}
    return call(client, "POST", BASE, who, body)


def test_the_provider_sets_up_an_account_both_sides_read_it(client, market, resource):
    member = f"http://localhost/api/users/{market.member.id}/"
    made = _create(client, market.seller, resource, users=[member], keys=[KEY])
    assert made.status == 201, made.json
    assert made.json["users"] == [member] and made.json["state"] == "Requested"
    path = f"{BASE}{made.json['uuid']}/"
    for reader in (market.owner, market.member, market.seller):
        detail = call(client, "GET", path, reader)
        assert detail.status == 200
        assert detail.json["users"][0]["uuid"] == market.member.id
        assert "email" not in detail.json["users"][0]
        assert detail.json["resource_uuid"] == resource and detail.json["provider_uuid"] == market.provider.id
    listed = call(client, "GET", f"{BASE}?resource_uuid={resource}&state=1&type=cicd", market.member)
    assert [a["uuid"] for a in listed.json] == [made.json["uuid"]]
    assert listed.headers["X-Result-Count"] == "1"
    assert call(client, "GET", f"{BASE}?state=OK", market.member).json == []
    bad = call(client, "GET", f"{BASE}?state=9", market.member)
    assert bad.status == 400 and "state" in bad.json


def test_strangers_get_404_and_the_consumer_403(client, market, resource):
    made = _create(client, market.seller, resource).json
    path = f"{BASE}{made['uuid']}/"
    stranger = make_account("stranger")
    assert call(client, "GET", path, stranger).json == {"detail": "No RobotAccount matches the given query."}
    assert call(client, "GET", path, stranger).status == 404
    assert call(client, "POST", f"{path}set_state_ok/", stranger).status == 404
    assert call(client, "GET", BASE, stranger).json == []
    assert call(client, "PATCH", path, market.owner, {"username": "mine"}).status == 403
    assert call(client, "DELETE", path, market.member).status == 403
    refused = _create(client, stranger, resource, type="ssh")
    assert (refused.status, refused.json) == (
        400,
        {"resource": ["Invalid hyperlink - Object does not exist."]},
    )


def test_bad_input_is_a_400_and_stores_nothing(client, market, resource):
    bad_key = _create(client, market.seller, resource, keys=[KEY, "ssh-rsa nonsense"])
    assert (bad_key.status, list(bad_key.json)) == (400, ["keys"])
    stranger = make_account("stranger")
    outsider = _create(client, market.seller, resource, users=[f"http://localhost/api/users/{stranger.id}/"])
    assert outsider.status == 400
    assert outsider.json == ["User should belong to the same project or organization as resource."]
    long_type = _create(client, market.seller, resource, type="pipeline")
    assert long_type.json == {"type": ["Ensure this field has no more than 5 characters."]}
    assert call(client, "GET", BASE, market.staff).json == []
    assert _create(client, market.seller, resource).status == 201
    twin = _create(client, market.seller, resource)
    assert twin.json == {"non_field_errors": ["The fields resource, type must make a unique set."]}


def test_state_actions_follow_waldurs_lifecycle(client, market, resource):
    made = _create(client, market.seller, resource).json
    path = f"{BASE}{made['uuid']}/"
    early = call(client, "POST", f"{path}set_state_deleted/", market.seller)
    assert (early.status, early.json) == (400, {"detail": "Valid states for operation: Requested deletion."})
    assert call(client, "POST", f"{path}set_state_creating/", market.seller).json["state"] == "Creating"
    erred = call(client, "POST", f"{path}set_state_erred/", market.seller, {"error_message": "quota"})
    assert (erred.json["state"], erred.json["error_message"]) == ("Error", "quota")
    ok = call(client, "POST", f"{path}set_state_ok/", market.seller).json
    assert (ok["state"], ok["error_message"]) == ("OK", "")
    assert call(client, "DELETE", path, market.seller).status == 204
    assert call(client, "GET", path, market.staff).status == 404
