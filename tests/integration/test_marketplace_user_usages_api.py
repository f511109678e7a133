"""Per-user usage: a component usage's `set_user_usage/` and `set_user_usages/` (the provider's,
201 and no body, one share per component usage and username, the total left as `set_usage/` made
it), `/api/marketplace-component-user-usages/` (both sides read, nobody else), the filters the site
agent sends, and the per-user limits a share must stay within."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import call
from tests.integration.test_marketplace_orders_api import act, get, place
from tests.marketplace_helpers import CPU, build_market, make_offering

USAGES = "/api/marketplace-component-usages/"
USER_USAGES = "/api/marketplace-component-user-usages/"
LIMITS = "/api/component-user-usage-limits/"
OFFERING_USERS = "/api/marketplace-offering-users/"
COMPONENTS = [
    CPU,
    {"type": "cpu_hours", "name": "CPU hours", "measured_unit": "h", "billing_type": "usage"},
    {"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "usage"},
]

pytestmark = [pytest.mark.stack, pytest.mark.fakes]


@pytest.fixture
def market(aws, staff):
    market = build_market(staff)
    market.offering = make_offering(staff, market.provider.id, name="HPC", components=COMPONENTS)
    return market


@pytest.fixture
def resource(client, market):
    order = place(client, market, market.owner)
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    return order["marketplace_resource_uuid"]


@pytest.fixture
def account(client, market, resource):
    """The project member's offering user in the offering (made when the resource was)."""
    query = f"offering_uuid={market.offering.id}&user_uuid={market.member.id}"
    [row] = get(client, market.seller, f"{OFFERING_USERS}?{query}")
    return row["uuid"]


def this_month() -> str:
    return datetime.now(UTC).date().replace(day=1).isoformat()


@pytest.fixture
def usage(client, market, resource):
    """The resource's cpu_hours usage of this month (10 h), as the provider reported it."""
    payload = {"resource": resource, "usages": [{"type": "cpu_hours", "amount": "10"}]}
    assert call(client, "POST", f"{USAGES}set_usage/", market.seller, payload).status == 201
    [row] = get(client, market.seller, f"{USAGES}?resource_uuid={resource}&type=cpu_hours")
    return row


def share(client, account, usage, username="alice", amount="4", **extra):
    body = {"username": username, "usage": amount, **extra}
    return call(client, "POST", f"{USAGES}{usage['uuid']}/set_user_usage/", account, body)


def shares(client, account, query=""):
    return get(client, account, f"{USER_USAGES}?{query}")


# --- reporting ------------------------------------------------------------------------------------
def test_the_provider_reports_a_users_share_and_the_total_stays(client, market, resource, usage, account):
    offering_user = f"http://testserver/api/marketplace-offering-users/{account}/"
    reply = share(client, market.seller, usage, user=offering_user, date="2026-01-01T00:00:00Z")
    assert (reply.status, reply.raw) == (201, b"")

    [row] = shares(client, market.owner, f"resource_uuid={resource}")
    assert (row["username"], row["usage"], row["component_type"]) == ("alice", "4.00", "cpu_hours")
    assert row["user"] == f"http://localhost/api/marketplace-offering-users/{account}/"
    assert row["component_usage"] == f"http://localhost{USAGES}{usage['uuid']}/"
    assert (row["measured_unit"], row["billing_period"], row["date"]) == ("h", this_month(), usage["date"])
    assert (row["resource_uuid"], row["resource_name"]) == (resource, "vm-1")
    assert (row["offering_uuid"], row["offering_name"]) == (market.offering.id, "HPC")
    assert (row["project_uuid"], row["customer_uuid"]) == (market.project.id, market.consumer.id)
    assert (row["description"], row["backend_id"]) == ("", "")
    assert get(client, market.member, f"{USER_USAGES}{row['uuid']}/") == row

    assert share(client, market.seller, usage, amount="6.5").status == 201  # the same user: replaced
    [again] = shares(client, market.seller)
    assert (again["uuid"], again["usage"], again["user"]) == (row["uuid"], "6.50", row["user"])
    total = get(client, market.owner, f"{USAGES}{usage['uuid']}/")
    assert total["usage"] == "10.00"  # a share never changes the total billing reads


def test_the_bulk_report_sets_every_users_share_at_once(client, market, resource, usage):
    lines = [
        {"username": "alice", "usage": "1"},
        {"username": "bob", "usage": 2.25},
        {"username": "alice", "usage": "3"},
    ]  # fmt: skip  (a user given twice: the last counts)
    reply = call(
        client, "POST", f"{USAGES}{usage['uuid']}/set_user_usages/", market.seller, {"usages": lines}
    )
    assert (reply.status, reply.raw) == (201, b"")
    rows = shares(client, market.seller, f"resource_uuid={resource}&o=username")
    assert [(r["username"], r["usage"], r["user"]) for r in rows] == [
        ("alice", "3.00", None),
        ("bob", "2.25", None),
    ]


def test_the_site_agents_reads_answer(client, market, resource, usage):
    # report mode: the component usages of the period, then the shares naming their parent.
    assert share(client, market.seller, usage).status == 201
    query = f"resource_uuid={resource}&component_usage__billing_period={this_month()}&field=component_usage"
    assert shares(client, market.seller, query) == [
        {"component_usage": f"http://localhost{USAGES}{usage['uuid']}/"}
    ]
    assert shares(client, market.seller, f"{query[: -len('&field=component_usage')]}&username=LIC") != []
    assert shares(client, market.seller, "component_usage__billing_period=2001-01-01") == []
    assert shares(client, market.seller, "type=storage") == []
    # membership_sync: the resource's limits, an empty list where none is set.
    assert get(client, market.seller, f"{LIMITS}?resource_uuid={resource}") == []


# --- who may -----------------------------------------------------------------------------------------
def test_only_the_provider_side_reports_and_nobody_else_sees(client, market, resource, usage, alice, support):
    for consumer in (market.owner, market.member):
        reply = share(client, consumer, usage)
        assert (reply.status, reply.json) == (
            403,
            {"detail": "You do not have permission to perform this action."},
        )
    reply = share(client, alice, usage)
    assert (reply.status, reply.json) == (404, {"detail": "No ComponentUsage matches the given query."})
    assert share(client, market.seller, {"uuid": "0" * 32}).status == 404
    assert shares(client, market.seller) == []

    assert share(client, market.seller, usage).status == 201
    [row] = shares(client, support)
    assert shares(client, alice) == [] and shares(client, alice, f"resource_uuid={resource}") == []
    assert call(client, "GET", f"{USER_USAGES}{row['uuid']}/", alice).status == 404
    reply = share(client, support, usage)
    assert reply.status == 403  # support reads, never writes


MAX_100 = "Ensure this field has no more than 100 characters."
NOT_NEGATIVE = "Ensure this value is greater than or equal to 0."
TWO_PLACES = "Ensure that there are no more than 2 decimal places."
BAD = [
    ("no username", {"usage": "1"}, {"username": ["This field is required."]}),
    ("blank username", {"username": " ", "usage": "1"}, {"username": ["This field may not be blank."]}),
    ("long username", {"username": "u" * 101}, {"username": [MAX_100]}),
    ("negative", {"username": "a", "usage": -1}, {"usage": [NOT_NEGATIVE]}),
    ("3 places", {"username": "a", "usage": "1.005"}, {"usage": [TWO_PLACES]}),
    (
        "not a link",
        {"username": "a", "user": "bob"},
        {"user": ["Invalid hyperlink - Object does not exist."]},
    ),
]


def test_bad_shares_are_refused_and_store_nothing(client, market, usage):
    for label, body, error in BAD:
        reply = call(client, "POST", f"{USAGES}{usage['uuid']}/set_user_usage/", market.seller, body)
        assert (reply.status, reply.json) == (400, error), label
    too_many = {"usages": [{"username": f"u{n}", "usage": 1} for n in range(101)]}
    reply = call(client, "POST", f"{USAGES}{usage['uuid']}/set_user_usages/", market.seller, too_many)
    assert (reply.status, reply.json) == (
        400,
        {"usages": {"non_field_errors": ["Ensure this field has no more than 100 elements."]}},
    )  # a serializer with many=True answers its own errors as an object's
    one_bad = {"usages": [{"username": "fine", "usage": 1}, {"username": "x", "user": "nope"}]}
    assert (
        call(client, "POST", f"{USAGES}{usage['uuid']}/set_user_usages/", market.seller, one_bad).status
        == 400
    )
    assert shares(client, market.staff) == []


# --- per-user limits ---------------------------------------------------------------------------------
def limit_body(market, resource_uuid, account, **extra):
    cpu_hours = next(c for c in market.offering.components if c.type == "cpu_hours")
    return {
        "resource": f"http://testserver/api/marketplace-resources/{resource_uuid}/",
        "component": cpu_hours.id,
        "user": f"http://testserver/api/marketplace-offering-users/{account}/",
        "limit": 5,
        **extra,
    }


def test_the_consumer_limits_a_user_and_both_sides_read_it(client, market, resource, usage, account):
    reply = call(client, "POST", LIMITS, market.owner, limit_body(market, resource, account))
    assert reply.status == 201, reply.json
    made = reply.json
    assert made["resource"] == f"http://localhost/api/marketplace-resources/{resource}/"
    assert (made["component_type"], made["limit"]) == ("cpu_hours", "5.00")
    assert made["user"] == f"http://localhost/api/marketplace-offering-users/{account}/"
    assert made["url"] == f"http://localhost{LIMITS}{made['uuid']}/"
    assert get(client, market.seller, f"{LIMITS}?resource_uuid={resource}") == [made]
    assert get(client, market.member, f"{LIMITS}{made['uuid']}/") == made
    assert get(client, market.seller, f"{LIMITS}?component_type=storage") == []

    twin = call(client, "POST", LIMITS, market.owner, limit_body(market, resource, account, limit=7))
    assert (twin.status, twin.json) == (
        400,
        {"non_field_errors": ["The fields resource, component, user must make a unique set."]},
    )

    # A share naming the limited offering user must stay within the limit.
    user = f"http://testserver/api/marketplace-offering-users/{account}/"
    over = share(client, market.seller, usage, amount="5.01", user=user)
    assert (over.status, over.json) == (
        400,
        {"non_field_errors": ["Usage limit exceeded. Usage: 5.01, limit: 5.00."]},
    )
    assert shares(client, market.seller) == []
    assert share(client, market.seller, usage, amount="5", user=user).status == 201

    changed = call(client, "PATCH", f"{LIMITS}{made['uuid']}/", market.owner, {"limit": "8.5"})
    assert (changed.status, changed.json["limit"], changed.json["uuid"]) == (200, "8.50", made["uuid"])
    put = call(
        client,
        "PUT",
        f"{LIMITS}{made['uuid']}/",
        market.owner,
        limit_body(market, resource, account, limit=9),
    )
    assert (put.status, put.json["limit"]) == (200, "9.00")
    assert call(client, "DELETE", f"{LIMITS}{made['uuid']}/", market.owner).status == 204
    assert get(client, market.seller, f"{LIMITS}?resource_uuid={resource}") == []


def test_only_the_consumers_owners_and_managers_set_limits(client, market, resource, alice, account):
    refused = {"detail": "You do not have permission to perform this action."}
    for who in (market.member, market.seller):
        reply = call(client, "POST", LIMITS, who, limit_body(market, resource, account))
        assert (reply.status, reply.json) == (403, refused)
    hidden = call(client, "POST", LIMITS, alice, limit_body(market, resource, account))
    assert (hidden.status, hidden.json) == (400, {"resource": ["Invalid hyperlink - Object does not exist."]})

    made = call(client, "POST", LIMITS, market.staff, limit_body(market, resource, account)).json
    for who in (market.member, market.seller):
        assert call(client, "PATCH", f"{LIMITS}{made['uuid']}/", who, {"limit": 1}).status == 403
        assert call(client, "DELETE", f"{LIMITS}{made['uuid']}/", who).status == 403
    for method in ("GET", "PATCH", "DELETE"):
        assert call(client, method, f"{LIMITS}{made['uuid']}/", alice, {"limit": 1}).status == 404
    assert get(client, alice, LIMITS) == [] and get(client, alice, f"{LIMITS}?resource_uuid={resource}") == []
    assert get(client, market.seller, f"{LIMITS}{made['uuid']}/")["limit"] == "5.00"


def test_bad_limits_are_refused(client, market, resource, account):
    cases = [
        ({"component": "0" * 32}, {"component": [f"Object with uuid={'0' * 32} does not exist."]}),
        ({"user": "someone"}, {"user": ["Invalid hyperlink - Object does not exist."]}),
        ({"limit": -1}, {"limit": ["Ensure this value is greater than or equal to 0."]}),
        ({"resource": "0" * 32}, {"resource": ["Invalid hyperlink - Object does not exist."]}),
    ]
    for change, error in cases:
        reply = call(client, "POST", LIMITS, market.owner, limit_body(market, resource, account, **change))
        assert (reply.status, reply.json) == (400, error), change
    reply = call(client, "POST", LIMITS, market.owner, {"limit": 1})
    assert reply.status == 400 and set(reply.json) == {"resource", "component", "user"}
    assert get(client, market.staff, LIMITS) == []


# --- the offering user a share or limit names ---------------------------------------------------------
@pytest.fixture
def other_account(client, market, staff):
    """The project member's offering user in another offering of the same provider."""
    other = make_offering(staff, market.provider.id, name="Other", components=COMPONENTS)
    order = place(client, market, market.owner, of=other)
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    query = f"offering_uuid={other.id}&user_uuid={market.member.id}"
    [row] = get(client, market.seller, f"{OFFERING_USERS}?{query}")
    return row["uuid"]


def test_a_share_names_an_account_of_the_usages_offering(client, market, usage, account, other_account):
    does_not_exist = {"user": ["Invalid hyperlink - Object does not exist."]}
    for named in (other_account, "0" * 32):
        user = f"http://testserver{OFFERING_USERS}{named}/"
        reply = share(client, market.seller, usage, user=user)
        assert (reply.status, reply.json) == (400, does_not_exist), named
        bulk = {"usages": [{"username": "fine", "usage": 1}, {"username": "x", "user": user}]}
        reply = call(client, "POST", f"{USAGES}{usage['uuid']}/set_user_usages/", market.seller, bulk)
        assert (reply.status, reply.json) == (400, does_not_exist), named
    assert shares(client, market.staff) == []
    assert (
        share(client, market.seller, usage, user=f"http://testserver{OFFERING_USERS}{account}/").status == 201
    )


def test_a_limit_names_an_account_of_the_resources_offering(client, market, resource, account, other_account):
    does_not_exist = {"user": ["Invalid hyperlink - Object does not exist."]}
    for named in (other_account, "0" * 32):
        reply = call(client, "POST", LIMITS, market.owner, limit_body(market, resource, named))
        assert (reply.status, reply.json) == (400, does_not_exist), named
    assert get(client, market.staff, LIMITS) == []

    made = call(client, "POST", LIMITS, market.owner, limit_body(market, resource, account)).json
    moved = {"user": f"http://testserver{OFFERING_USERS}{other_account}/"}
    reply = call(client, "PATCH", f"{LIMITS}{made['uuid']}/", market.owner, moved)
    assert (reply.status, reply.json) == (400, does_not_exist)
    assert get(client, market.seller, f"{LIMITS}{made['uuid']}/")["user"].endswith(f"/{account}/")
