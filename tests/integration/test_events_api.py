"""`/api/events/`: the audit log through the API — what each caller may read, Waldur's filters,
`count/`, `event_groups/`, one event, and that nothing can change it."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from tests.conftest import make_account
from tests.helpers import call, create_customer, create_project

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes


@pytest.fixture
def world(client, staff):
    acme = create_customer(client, staff, "Acme")
    apollo = create_project(client, staff, acme, "Apollo")
    gemini = create_project(client, staff, acme, "Gemini")
    other = create_customer(client, staff, "Other")
    zeus = create_project(client, staff, other, "Zeus")
    return {"acme": acme, "apollo": apollo, "gemini": gemini, "other": other, "zeus": zeus}


def grant(client, staff, scope, user, role):
    kind = "customers" if "/customers/" in scope["url"] else "projects"
    reply = call(
        client, "POST", f"/api/{kind}/{scope['uuid']}/add_user/", staff, {"user": user.id, "role": role}
    )
    assert reply.status == 201, reply.json


def events(client, account, query=""):
    reply = call(client, "GET", f"/api/events/{query}", account)
    assert reply.status == 200, reply.json
    return reply.json


def types(items):
    return [e["event_type"] for e in items]


def scope(obj):
    return f"?scope={quote(obj['url'], safe='')}"


# --- what is written -----------------------------------------------------------------------------
def test_creating_a_project_shows_its_event_with_waldurs_context(client, staff, world):
    (event,) = events(client, staff, scope(world["apollo"]))
    assert event["event_type"] == "project_creation_succeeded"
    assert event["message"] == "Project Apollo has been created."
    assert set(event) == {"uuid", "created", "event_type", "message", "context"}
    context = event["context"]
    assert context["project_uuid"] == world["apollo"]["uuid"]
    assert context["project_name"] == "Apollo"
    assert context["customer_uuid"] == world["acme"]["uuid"]
    assert context["customer_name"] == "Acme"
    assert context["user_uuid"] == staff.id
    assert context["user_username"] == "staff"
    assert datetime.fromisoformat(event["created"].replace("Z", "+00:00")).tzinfo is not None


def test_a_customer_feed_holds_its_projects_events_newest_first(client, staff, world):
    assert types(events(client, staff, scope(world["acme"]))) == [
        "project_creation_succeeded",
        "project_creation_succeeded",
        "customer_creation_succeeded",
    ]
    ascending = events(client, staff, scope(world["acme"]) + "&o=created")
    assert types(ascending)[0] == "customer_creation_succeeded"


def test_staff_and_support_read_the_whole_log(client, staff, support, world):
    everything = types(events(client, staff))
    assert everything.count("customer_creation_succeeded") == 2
    assert everything.count("project_creation_succeeded") == 3
    assert types(events(client, support, "?page_size=300")) == types(events(client, staff, "?page_size=300"))


# --- who may read what ---------------------------------------------------------------------------
def test_without_a_scope_a_user_gets_an_empty_list(client, staff, alice, world):
    grant(client, staff, world["acme"], alice, "CUSTOMER.OWNER")
    reply = call(client, "GET", "/api/events/", alice)
    assert reply.status == 200 and reply.json == []
    assert reply.headers["X-Result-Count"] == "0"
    assert call(client, "GET", "/api/events/count/", alice).json == {"count": 0}


def test_an_owner_reads_their_customer_and_its_projects_but_not_another(client, staff, alice, world):
    grant(client, staff, world["acme"], alice, "CUSTOMER.OWNER")
    assert "customer_creation_succeeded" in types(events(client, alice, scope(world["acme"])))
    assert types(events(client, alice, scope(world["gemini"]))) == ["project_creation_succeeded"]
    assert events(client, alice, scope(world["other"])) == []
    assert events(client, alice, scope(world["zeus"])) == []


def test_a_project_member_reads_their_project_only(client, staff, alice, world):
    grant(client, staff, world["apollo"], alice, "PROJECT.MEMBER")
    assert "role_granted" in types(events(client, alice, scope(world["apollo"])))
    assert events(client, alice, scope(world["gemini"])) == []
    # seeing the customer object does not open the customer's whole log
    assert events(client, alice, scope(world["acme"])) == []


def test_a_user_reads_their_own_log_and_nobody_elses(client, staff, alice):
    bob = make_account("bob")
    me = call(client, "GET", f"/api/users/{alice.id}/", alice).json
    mine = types(events(client, alice, scope(me)))
    assert "auth_logged_in_with_username" in mine
    assert "user_creation_succeeded" in mine
    bobs = {"url": f"http://localhost/api/users/{bob.id}/"}
    assert events(client, alice, scope(bobs)) == []


def test_a_role_granted_shows_in_the_affected_users_log(client, staff, alice, world):
    grant(client, staff, world["apollo"], alice, "PROJECT.ADMIN")
    me = {"url": f"http://localhost/api/users/{alice.id}/"}
    (granted,) = [e for e in events(client, alice, scope(me)) if e["event_type"] == "role_granted"]
    assert granted["context"]["affected_user_uuid"] == alice.id
    assert granted["context"]["project_uuid"] == world["apollo"]["uuid"]


def test_one_event_is_visible_through_any_feed_it_is_in(client, staff, alice, world):
    (created,) = events(client, staff, scope(world["gemini"]))
    path = f"/api/events/{created['uuid']}/"
    assert call(client, "GET", path, staff).json == created
    assert call(client, "GET", path, alice).status == 404
    grant(client, staff, world["gemini"], alice, "PROJECT.MEMBER")
    assert call(client, "GET", path, alice).json == created
    assert call(client, "GET", "/api/events/not-a-uuid/", staff).status == 404
    assert call(client, "GET", f"/api/events/{'0' * 32}/", staff).status == 404


# --- filters -------------------------------------------------------------------------------------
def test_event_type_repeats_and_feature_names_a_group(client, staff, world):
    grant(client, staff, world["apollo"], make_account("carol"), "PROJECT.MEMBER")
    q = scope(world["acme"])
    both = "&event_type=role_granted&event_type=customer_creation_succeeded"
    assert set(types(events(client, staff, q + both))) == {"role_granted", "customer_creation_succeeded"}
    assert types(events(client, staff, q + "&feature=projects")) == ["project_creation_succeeded"] * 2
    assert types(events(client, staff, q + "&feature=projects&feature=permissions")) == [
        "role_granted",
        "project_creation_succeeded",
        "project_creation_succeeded",
    ]
    assert events(client, staff, q + "&feature=projects&event_type=role_granted") == []
    assert call(client, "GET", "/api/events/count/" + q + "&feature=projects", staff).json == {"count": 2}


def test_waldurs_uuid_filters_select_a_feed_or_narrow_it(client, staff, alice, world):
    grant(client, staff, world["gemini"], alice, "PROJECT.ADMIN")
    acme, gemini = world["acme"]["uuid"], world["gemini"]["uuid"]
    assert len(events(client, staff, f"?customer_uuid={acme}")) == 4
    assert types(events(client, staff, f"?project_uuid={gemini}")) == [
        "role_granted",
        "project_creation_succeeded",
    ]
    # a dashed uuid is the same uuid; the actor filter narrows
    dashed = f"{acme[:8]}-{acme[8:12]}-{acme[12:16]}-{acme[16:20]}-{acme[20:]}"
    assert len(events(client, staff, f"?customer_uuid={dashed}&user_uuid={staff.id}")) == 4
    assert events(client, staff, f"?customer_uuid={acme}&user_uuid={alice.id}") == []
    # the same visibility rules as `scope`
    assert types(events(client, alice, f"?project_uuid={gemini}")) == [
        "role_granted",
        "project_creation_succeeded",
    ]
    assert events(client, alice, f"?customer_uuid={acme}") == []
    reply = call(client, "GET", "/api/events/?customer_uuid=nope", staff)
    assert reply.status == 400 and "customer_uuid" in reply.json


def test_scope_types(client, alice):
    assert call(client, "GET", "/api/events/scope_types/", alice).json == [
        "customer",
        "offering",
        "project",
        "resource",
        "user",
    ]


def test_created_range_and_message(client, staff, world):
    before = math.ceil(time.time() * 1000) / 1000  # a whole millisecond after the world's events
    time.sleep(0.002)
    later = create_project(client, staff, world["acme"], "Later")
    q = scope(world["acme"])
    recent = events(client, staff, q + f"&created_from={before:.3f}")
    assert [e["context"]["project_uuid"] for e in recent] == [later["uuid"]]
    older = events(client, staff, q + f"&created_to={int(before) - 1}")
    assert later["uuid"] not in [e["context"].get("project_uuid") for e in older]
    assert types(events(client, staff, q + "&message=gemini")) == ["project_creation_succeeded"]
    assert call(client, "GET", f"/api/events/count/{q}&message=GEMINI", staff).json == {"count": 1}


def test_pages_carry_waldurs_headers(client, staff, world):
    reply = call(client, "GET", "/api/events/" + scope(world["acme"]) + "&page_size=2", staff)
    assert reply.headers["X-Result-Count"] == "3"
    assert len(reply.json) == 2
    assert 'rel="next"' in reply.headers["Link"]
    second = call(client, "GET", "/api/events/" + scope(world["acme"]) + "&page_size=2&page=2", staff)
    assert len(second.json) == 1
    assert {e["uuid"] for e in reply.json}.isdisjoint(e["uuid"] for e in second.json)


def test_event_groups_list_every_group_with_its_types(client, staff, alice):
    groups = call(client, "GET", "/api/events/event_groups/", alice).json
    assert {"auth", "customers", "permissions", "projects", "users"} <= set(groups)
    assert "role_granted" in groups["permissions"]
    assert "auth_logged_in_with_username" in groups["auth"]
    assert "project_creation_succeeded" in groups["projects"]
    assert groups["users"] == sorted(groups["users"])


# --- bad input and immutability ------------------------------------------------------------------
@pytest.mark.parametrize(
    "query, field",
    [
        ("?scope=https://example.org/api/nothing/", "scope"),
        ("?scope=not-a-url", "scope"),
        ("?created_from=yesterday", "created_from"),
        ("?o=message", "o"),
    ],
)
def test_bad_filters_are_a_400_on_their_field(client, staff, world, query, field):
    reply = call(client, "GET", f"/api/events/{query}", staff)
    assert reply.status == 400, reply.json
    assert field in reply.json


def test_a_filter_waldur_does_not_know_is_ignored(client, staff, world):
    reply = call(client, "GET", "/api/events/?since=1", staff)
    assert reply.status == 200 and reply.json == call(client, "GET", "/api/events/", staff).json


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_events_cannot_be_changed_through_the_api(client, staff, world, method):
    (event,) = events(client, staff, scope(world["zeus"]))
    path = "/api/events/" if method == "POST" else f"/api/events/{event['uuid']}/"
    reply = call(client, method, path, staff, {"message": "rewritten"})
    assert reply.status == 405
    assert call(client, "GET", f"/api/events/{event['uuid']}/", staff).json == event


def test_anonymous_callers_are_refused(client, world):
    assert call(client, "GET", "/api/events/").status == 401


def test_created_is_the_moment_of_the_change(client, staff, world):
    (event,) = events(client, staff, scope(world["zeus"]))
    created = datetime.fromisoformat(event["created"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
