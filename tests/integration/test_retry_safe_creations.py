"""POSTs that create are safe to send again with an `Idempotency-Key` header (services/request_keys.py):
for every creation a client might retry, the retry (same user, key and body) answers the first
result, rendered now, and makes no second object and no second event; the same key with another body
is 422 and makes nothing; keys are per user and 1 to 255 characters. And a request past its deadline
(domain/deadline.py) writes nothing and answers 503 with Retry-After. On moto's DynamoDB (the key
and the object in one transaction)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.roles import SYSTEM_ROLES
from tests.conftest import make_account
from tests.helpers import all_events, call
from tests.marketplace_helpers import PLAN, build_market, ctx_of

HOST = "http://localhost"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMI8mOlDJAWsXHu2OOZiOdaEhJ8q0XbC9uZKPuk9DlM6 ci@example"
PROJECT_CREATED = "project_creation_succeeded"
PROVIDER_OFFERINGS = "marketplace-provider-offerings"
REUSED = {"detail": "This Idempotency-Key was already used with a different request; use a new key."}


@pytest.fixture
def aws(stack: None) -> Iterator[None]:  # orders start workflows: queues and state machines exist
    yield


@pytest.fixture
def market(aws: None) -> Any:
    """The market of tests/marketplace_helpers.py, and a category for new offerings."""
    from chalicelib.services import categories

    staff = make_account("staff", is_staff=True)
    made = build_market(staff)
    made.category = categories.create_category(ctx_of(staff), {"title": "Compute"})  # type: ignore[attr-defined]
    return made


@dataclass(frozen=True)
class Creation:
    """One creation: where it is sent, by whom (a Market attribute), its body, another body."""

    path: str
    who: str
    body: Callable[[Any], dict[str, Any]]
    other: dict[str, Any]


def _url(kind: str, object_id: str) -> str:
    return f"{HOST}/api/{kind}/{object_id}/"


def _order(m: Any) -> dict[str, Any]:
    public = _url("marketplace-public-offerings", m.offering.id)
    plan = f"{public}plans/{m.plan.id}/"
    return {"project": _url("projects", m.project.id), "offering": public, "plan": plan,
            "attributes": {"name": "vm-1"}, "limits": {"cpu": 1}}  # fmt: skip


CREATIONS = {
    "customer": Creation("/api/customers/", "staff", lambda m: {"name": "Retry Co"}, {"name": "Other Co"}),
    "project": Creation(
        "/api/projects/", "owner", lambda m: {"name": "Gemini", "customer": _url("customers", m.consumer.id)},
        {"name": "Mercury"},
    ),
    "web hook": Creation(
        "/api/hooks-web/", "member",
        lambda m: {"destination_url": "https://receiver.example/a", "event_types": [PROJECT_CREATED]},
        {"destination_url": "https://receiver.example/b"},
    ),
    "email hook": Creation(
        "/api/hooks-email/", "member",
        lambda m: {"email": "ops@example.org", "event_types": [PROJECT_CREATED]},
        {"email": "dev@example.org"},
    ),
    "invitation": Creation(
        "/api/user-invitations/", "owner",
        lambda m: {"scope": _url("projects", m.project.id), "role": SYSTEM_ROLES["PROJECT.ADMIN"].id,
                   "email": "new@example.org"},
        {"email": "other@example.org"},
    ),
    "ssh key": Creation("/api/keys/", "member", lambda m: {"name": "laptop", "public_key": KEY},
                        {"name": "desk"}),
    "offering": Creation(
        "/api/marketplace-provider-offerings/", "seller",
        lambda m: {"name": "Spare", "type": "Marketplace.Basic", "customer": _url("customers", m.provider.id),
                   "category": _url("marketplace-categories", m.category.id)},
        {"name": "Spares"},
    ),
    "plan": Creation(
        "/api/marketplace-plans/", "seller",
        lambda m: {**PLAN, "name": "Large", "offering": _url(PROVIDER_OFFERINGS, m.offering.id)},
        {"name": "Larger"},
    ),
    "order": Creation("/api/marketplace-orders/", "owner", _order, {"limits": {"cpu": 2}}),
}  # fmt: skip


def _post(client: Any, m: Any, creation: Creation, key: str | None, **changed: Any) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    body = {**creation.body(m), **changed}
    return call(client, "POST", creation.path, getattr(m, creation.who), body, headers=headers)


def _count(client: Any, m: Any, path: str) -> int:
    """The objects staff list (the list itself: its X-Result-Count may be a stream-kept total)."""
    reply = call(client, "GET", f"{path}?page_size=300", m.staff)
    assert reply.status == 200, reply.json
    return len(reply.json)


@pytest.mark.parametrize("name", list(CREATIONS))
def test_a_retry_with_the_same_key_answers_the_first_object_and_makes_nothing(client, market, name):
    creation = CREATIONS[name]
    first = _post(client, market, creation, "retry-1")
    assert first.status == 201, first.json
    objects, events = _count(client, market, creation.path), len(all_events())
    again = _post(client, market, creation, "retry-1")
    assert again.status == 201, again.json
    assert again.json == first.json  # the same object (nothing changed it in between)
    assert (_count(client, market, creation.path), len(all_events())) == (objects, events)


@pytest.mark.parametrize("name", list(CREATIONS))
def test_the_same_key_with_another_body_is_refused_and_makes_nothing(client, market, name):
    creation = CREATIONS[name]
    assert _post(client, market, creation, "retry-2").status == 201
    objects, events = _count(client, market, creation.path), len(all_events())
    reused = _post(client, market, creation, "retry-2", **creation.other)
    assert (reused.status, reused.json) == (422, REUSED)
    assert (_count(client, market, creation.path), len(all_events())) == (objects, events)


def test_a_robot_account_is_made_once_per_key(client, market):
    order = _post(client, market, CREATIONS["order"], None).json
    for action in ("approve_by_provider", "set_state_done"):
        assert (
            call(client, "POST", f"/api/marketplace-orders/{order['uuid']}/{action}/", market.seller).status
            == 200
        )
    resource = _url("marketplace-resources", order["marketplace_resource_uuid"])
    robots = Creation(
        "/api/marketplace-robot-accounts/",
        "seller",
        lambda m: {"resource": resource, "type": "cicd"},
        {"type": "ci"},
    )
    first = _post(client, market, robots, "robot-1")
    again = _post(client, market, robots, "robot-1")
    assert (first.status, again.status, again.json["uuid"]) == (201, 201, first.json["uuid"])
    assert _count(client, market, robots.path) == 1
    assert _post(client, market, robots, "robot-1", **robots.other).status == 422


def test_the_answer_to_a_retry_is_the_object_as_it_is_now(client, market):
    customers = CREATIONS["customer"]
    first = _post(client, market, customers, "rename-1").json
    renamed = call(client, "PATCH", f"/api/customers/{first['uuid']}/", market.staff, {"name": "Renamed Co"})
    assert renamed.status == 200, renamed.json
    again = _post(client, market, customers, "rename-1")
    assert (again.status, again.json["uuid"], again.json["name"]) == (201, first["uuid"], "Renamed Co")


def test_a_web_hooks_retry_shows_its_owner_the_secret_the_first_answer_had(client, market):
    first = _post(client, market, CREATIONS["web hook"], "hook-1").json
    assert (
        first["secret"]
        and _post(client, market, CREATIONS["web hook"], "hook-1").json["secret"] == first["secret"]
    )
    listed = call(client, "GET", f"/api/hooks-web/{first['uuid']}/", market.member).json
    assert "secret" not in listed  # a read still never shows it


def test_keys_are_per_user_a_body_may_be_spaced_otherwise_and_without_a_key_a_retry_is_a_second_object(
    client, market
):
    projects = CREATIONS["project"]
    mine = _post(client, market, projects, "shared-key")
    assert _post(client, market, projects, "shared-key").json["uuid"] == mine.json["uuid"]
    staffs = call(client, "POST", projects.path, market.staff, projects.body(market),
                  headers={"Idempotency-Key": "shared-key"})  # fmt: skip
    assert staffs.status == 201 and staffs.json["uuid"] != mine.json["uuid"]  # another user's key
    customer = _url("customers", market.consumer.id)
    respaced = f'{{\n  "customer": "{customer}",   "name": "Gemini"}}'
    again = call(
        client,
        "POST",
        projects.path,
        market.owner,
        raw_body=respaced,
        headers={"Idempotency-Key": "shared-key"},
    )
    assert again.json["uuid"] == mine.json["uuid"]
    before = _count(client, market, projects.path)
    _post(client, market, projects, None)
    _post(client, market, projects, None)
    assert _count(client, market, projects.path) == before + 2


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_key_is_1_to_255_characters(client, market, key):
    before = _count(client, market, "/api/customers/")
    refused = _post(client, market, CREATIONS["customer"], key)
    assert (refused.status, refused.json) == (400, {"detail": "Idempotency-Key must be 1 to 255 characters."})
    assert _count(client, market, "/api/customers/") == before
    assert _post(client, market, CREATIONS["customer"], "k" * 255).status == 201


# --- the request's deadline ------------------------------------------------------------------------
@pytest.fixture
def slow_clock() -> Iterator[None]:
    """A clock that moves a minute each time it is read: every request outlives its deadline."""
    from chalicelib.domain import clock

    start = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    reads = iter(range(1_000_000))
    clock.set_source(lambda: start + timedelta(minutes=next(reads)))
    yield
    clock.set_source(None)


def test_a_creation_past_the_requests_deadline_writes_nothing_and_answers_503(client, market, slow_clock):
    from chalicelib.domain import clock

    events = len(all_events())
    late = _post(client, market, CREATIONS["customer"], "late-1")
    assert late.status == 503 and late.headers["Retry-After"] == "1"
    assert late.json == {"detail": "The request took too long and was not carried out; send it again."}
    clock.set_source(None)
    assert len(all_events()) == events
    names = [c["name"] for c in call(client, "GET", "/api/customers/", market.staff).json]
    assert "Retry Co" not in names
    # The key was not kept either: the client's retry, in time, is the one that creates.
    retried = _post(client, market, CREATIONS["customer"], "late-1")
    assert retried.status == 201 and retried.json["name"] == "Retry Co"
