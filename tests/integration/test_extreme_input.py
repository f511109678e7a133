"""Extreme input over HTTP: a body nested too deep, a number too large for the arithmetic behind it,
a name with control or bidi override characters. Each gets a 400 in DRF's shape, before anything
is stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import call, create_customer, create_project
from tests.integration.test_marketplace_orders_api import ORDERS, act, body, place
from tests.marketplace_helpers import make_offering

HUGE = 10**30
MAX_INTEGER = 2**31 - 1
CUSTOMERS = "/api/customers/"


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


def _nested(depth: int) -> bytes:
    return b'{"name": ' + b"[" * depth + b"]" * depth + b"}"


def _refused_order(client, market, **overrides):
    reply = call(client, "POST", ORDERS, market.owner, body(market, **overrides))
    assert reply.status == 400, reply.json
    return reply.json


def _customers(client, staff):
    return call(client, "GET", CUSTOMERS, staff).json


# --- deep JSON --------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_too_deep_is_a_parse_error_and_stores_nothing(client, staff, depth):
    before = _customers(client, staff)

    reply = call(client, "POST", CUSTOMERS, staff, raw_body=_nested(depth))

    assert reply.status == 400, reply.json
    assert reply.json == {"detail": "JSON parse error - Nesting is deeper than 32 levels."}
    assert _customers(client, staff) == before


def test_json_nested_to_the_limit_is_parsed(client, staff):
    reply = call(client, "POST", CUSTOMERS, staff, raw_body=_nested(31))  # in the body's object: 32
    assert reply.status == 400
    assert reply.json == {"name": ["Not a valid string."]}  # parsed, then validated


def test_deep_json_from_an_anonymous_caller_is_refused_without_a_server_error(client):
    anonymous = call(client, "POST", CUSTOMERS, None, raw_body=_nested(1000))
    login = call(client, "POST", "/api-auth/password/", None, raw_body=_nested(1000))

    assert anonymous.status == 401  # authentication comes first; the body is never read
    assert login.status == 400, login.json  # an anonymous endpoint reads it: a parse error
    assert login.json["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_numbers_json_cannot_carry_are_a_parse_error(client, staff, literal):
    reply = call(client, "POST", CUSTOMERS, staff, raw_body=b'{"name": "X", "latitude": ' + literal + b"}")
    assert reply.status == 400
    assert reply.json["detail"].startswith("JSON parse error - Out of range float values")


# --- numbers ------------------------------------------------------------------------------------------
def _orders_and_resources(client, staff):
    return (
        call(client, "GET", "/api/marketplace-orders/", staff).json,
        call(client, "GET", "/api/marketplace-resources/", staff).json,
    )


def test_an_order_with_a_huge_limit_is_refused_and_stores_nothing(client, market):
    before = _orders_and_resources(client, market.staff)

    reply = _refused_order(client, market, limits={"cpu": HUGE})

    assert reply == {"limits": {"cpu": [f"Ensure this value is less than or equal to {MAX_INTEGER}."]}}
    assert _orders_and_resources(client, market.staff) == before


def test_a_resource_limit_update_with_a_huge_limit_is_refused(client, market):
    order = place(client, market, market.owner)
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    path = f"/api/marketplace-resources/{order['marketplace_resource_uuid']}/update_limits/"
    before = _orders_and_resources(client, market.staff)

    reply = call(client, "POST", path, market.owner, {"limits": {"cpu": HUGE}})

    assert reply.status == 400, reply.json
    assert "limits" in reply.json
    assert _orders_and_resources(client, market.staff) == before


def _offering_path(market, action=""):
    return f"/api/marketplace-provider-offerings/{market.offering.id}/{action}"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "plan/update_quotas/", {"quotas": {"cpu": HUGE}}, "quotas"),
        ("PATCH", "plan/", {"max_amount": 10**6}, "max_amount"),
        ("POST", "offering/create_offering_component/", {"type": "ram", "name": "RAM",
         "billing_type": "limit", "max_value": HUGE}, "max_value"),
        ("POST", "offering/create_offering_component/", {"type": "ram", "name": "RAM",
         "billing_type": "limit", "min_value": -HUGE}, "min_value"),
        ("POST", "customer/set_quotas/", {"quotas": {"nc_project_count": HUGE}}, "quotas"),
        ("PATCH", "user/", {"token_lifetime": HUGE}, "token_lifetime"),
    ],
)  # fmt: skip
def test_a_number_too_large_for_its_column_is_refused(client, market, method, path, body, field):
    kind, action = path.split("/", 1)
    target = {
        "plan": f"/api/marketplace-plans/{market.plan.id}/",
        "offering": _offering_path(market),
        "customer": f"/api/customers/{market.consumer.id}/",
        "user": f"/api/users/{market.owner.id}/",
    }[kind]
    before = call(client, "GET", target, market.staff).json

    reply = call(client, method, target + action, market.staff, body)

    assert reply.status == 400, reply.json
    assert field in reply.json, reply.json
    assert call(client, "GET", target, market.staff).json == before


def test_a_usage_at_the_largest_amount_and_price_is_billed_without_a_server_error(client, market):
    """An amount of 18 whole digits at a price of 12: the product outgrows Python's default
    precision, where rounding to the cent raised InvalidOperation."""
    usage = {"type": "hours", "name": "Hours", "billing_type": "usage"}
    price = "999999999999.9999999999"
    plan = {"name": "Metered", "unit": "month", "unit_price": "1", "prices": {"hours": price}}
    market.offering = make_offering(market.staff, market.provider.id, components=[usage], plans=(plan,))
    order = place(client, market, market.owner, limits={})
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    amount = "999999999999999999.99"
    body = {"resource": order["marketplace_resource_uuid"], "usages": [{"type": "hours", "amount": amount}]}

    reply = call(client, "POST", "/api/marketplace-component-usages/set_usage/", market.seller, body)

    assert reply.status == 201, reply.json
    invoices = call(client, "GET", f"/api/invoices/?customer_uuid={market.consumer.id}", market.staff).json
    assert invoices and Decimal(invoices[0]["price"]) > 10**29


# --- names --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Ac\x00me", "Null characters are not allowed."),
        ("Ac\x07me", "Control characters are not allowed."),
        ("Ac\u0085me", "Control characters are not allowed."),
        ("Line\nbreak", "Control characters are not allowed."),
        ("\u202eemca", "Bidirectional override characters are not allowed."),
        ("Acme\u2066x\u2069", "Bidirectional override characters are not allowed."),
        ("\ud800", "Surrogate characters are not allowed: U+D800."),
        ("   ", "This field may not be blank."),
    ],
)
def test_a_name_with_control_bidi_or_only_whitespace_is_refused(client, staff, name, message):
    before = _customers(client, staff)

    reply = call(client, "POST", CUSTOMERS, staff, {"name": name})

    assert reply.status == 400
    assert reply.json == {"name": [message]}
    assert _customers(client, staff) == before


def test_names_are_trimmed_and_right_to_left_marks_kept(client, staff):
    customer = create_customer(client, staff, " Acme ", abbreviation="  AC ")
    rtl = create_project(client, staff, customer, "\u05e9\u05dc\u05d5\u05dd 2\u200f")

    assert (customer["name"], customer["abbreviation"]) == ("Acme", "AC")
    assert call(client, "GET", f"/api/customers/{customer['uuid']}/", staff).json["name"] == "Acme"
    assert rtl["name"] == "\u05e9\u05dc\u05d5\u05dd 2\u200f"


def test_descriptions_keep_line_breaks_and_tabs_but_refuse_other_controls(client, staff):
    customer = create_customer(client, staff, "Acme")
    path = f"/api/customers/{customer['uuid']}/"

    kept = call(client, "PATCH", path, staff, {"description": "one\n\ttwo\r\nthree"})
    refused = call(client, "PATCH", path, staff, {"description": "one\x1b[31mred"})

    assert kept.status == 200 and kept.json["description"] == "one\n\ttwo\r\nthree"
    assert refused.status == 400
    assert refused.json == {"description": ["Control characters are not allowed."]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/projects/{p}/", {"name": "\u202eevil"}, "name"),
        ("/api/users/{u}/", {"full_name": "Eve\x00"}, "full_name"),
        ("/api/users/{u}/", {"job_title": "CEO\u202e"}, "job_title"),
        ("/api/roles/{r}/", {"name": " "}, "name"),
    ],
)
def test_other_names_follow_the_same_rules(client, staff, path, body, field):
    from chalicelib.domain.roles import SYSTEM_ROLES

    customer = create_customer(client, staff, "Acme")
    project = create_project(client, staff, customer, "Apollo")
    ids = {"p": project["uuid"], "u": staff.id, "r": SYSTEM_ROLES["PROJECT.MEMBER"].id}
    target = path.format(**ids)
    before = call(client, "GET", target, staff).json

    reply = call(client, "PATCH", target, staff, body)

    assert reply.status == 400, reply.json
    assert list(reply.json) == [field]
    assert call(client, "GET", target, staff).json == before


def test_an_order_naming_its_resource_with_a_bidi_override_is_refused(client, market):
    before = _orders_and_resources(client, market.staff)

    reply = _refused_order(client, market, attributes={"name": "vm\u202egnp.exe"})

    assert reply == {"attributes": ["name: Bidirectional override characters are not allowed."]}
    assert _orders_and_resources(client, market.staff) == before
