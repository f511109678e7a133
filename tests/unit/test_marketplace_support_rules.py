"""Request-based offerings' rules (domain/marketplace_support.py): the ticket's text for each kind
of order (Waldur's marketplace_support templates), its fixed id, and what the ticket's end does to
the order (Waldur's RESOURCE_CALLBACKS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import marketplace_support as rules
from chalicelib.domain.orders import Actor, Order
from chalicelib.domain.support import DESCRIPTION_MAX_BYTES, SUMMARY_MAX
from chalicelib.domain.vocabulary import (
    BillingType,
    Component,
    Offering,
    OrderState,
    OrderType,
    Plan,
    ResourceState,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OFFERING = Offering(
    id="off1",
    customer_id="prov1",
    name="Consulting",
    type=rules.PLUGIN_NAME,
    options={
        "order": ["purpose", "hours", "absent"],
        "options": {"purpose": {"type": "string", "label": "Purpose"}, "hours": {"type": "integer"}},
    },
    components=(
        Component("c1", "cpu", "CPU", "cores", BillingType.LIMIT),
        Component("c2", "storage", "Storage", "GB", BillingType.USAGE),
    ),
    plans=(
        Plan("p1", "off1", "Small", prices={"cpu": Decimal("2"), "storage": Decimal("0.1")}),
        Plan("p2", "off1", "Large", prices={"cpu": Decimal("3")}),
    ),
)
ORDER = Order(
    id="ord1",
    type=OrderType.CREATE,
    state=OrderState.EXECUTING,
    customer_id="cust1",
    project_id="proj1",
    offering_id="off1",
    provider_id="prov1",
    resource_id="res1",
    created=NOW,
    modified=NOW,
    plan_id="p1",
    plan_name="Small",
    attributes={"name": "advice-1", "purpose": "Tune it", "hours": 4, "description": "ASAP please"},
    limits={"cpu": 2},
    created_by=Actor("u1", "olga", "Olga Owner", "olga@example.org"),
    provider_name="Cloud Provider",
    offering_name="Consulting",
    resource_name="advice-1",
)


def test_a_create_order_asks_for_the_offering_with_what_was_ordered_and_by_whom():
    made = rules.request_of(ORDER, OFFERING)

    assert made.summary == "Request for Consulting"
    assert made.description.split("\n") == [
        "Purpose: 'Tune it'",  # the options form's label, in its order
        "hours: '4'",  # no label: the attribute's name
        "",
        " ASAP please",
        "Order.",
        "Provider: Cloud Provider",
        "Resource UUID: res1",
        "Resource name: advice-1",
        "Plan details:",
        "    Plan: Small",
        "        CPU: 2",  # the usage component has no fixed price to show
        "Full name: Olga Owner",
        "Email: olga@example.org",
        "",
        "CPU (cpu): 2 cores",
    ]


def test_with_a_homeport_address_the_text_links_the_order_and_the_resource():
    links = rules.homeport_links("https://hp.example.org/", ORDER)
    assert links.order == "https://hp.example.org/projects/proj1/marketplace-order-details/ord1/"
    assert "[Order|https://hp.example.org/projects/proj1/marketplace-order-details/ord1/]." in (
        rules.request_of(ORDER, OFFERING, links).description
    )
    terminate = replace(ORDER, type=OrderType.TERMINATE)
    assert rules.request_of(terminate, OFFERING, links).description.startswith(
        "[Terminate resource advice-1|https://hp.example.org/projects/proj1/support/res1/]."
    )
    assert rules.homeport_links(None, ORDER) == rules.Links()


def test_an_update_order_asks_for_new_limits_or_another_plan():
    limits = replace(ORDER, type=OrderType.UPDATE, old_plan_id="p1", old_limits={"cpu": 2}, limits={"cpu": 8})
    made = rules.request_of(limits, OFFERING)
    assert made.summary == "Request to update limits for advice-1"
    assert made.description.split("\n") == [
        "Update limits for resource advice-1.",
        "Marketplace resource UUID: res1",
        "Old limits: CPU: 2.",
        "New limits: CPU: 8.",
    ]

    plan = replace(ORDER, type=OrderType.UPDATE, old_plan_id="p1", plan_id="p2", plan_name="Large")
    made = rules.request_of(plan, OFFERING)
    assert made.summary == "Request to switch plan for advice-1"
    assert "Switch from Small plan to Large." in made.description.split("\n")


def test_a_terminate_order_asks_to_terminate_the_resource():
    made = rules.request_of(replace(ORDER, type=OrderType.TERMINATE), OFFERING)
    assert made.summary == "Request to terminate resource advice-1"
    assert made.description.split("\n") == [
        "Terminate resource advice-1.",
        "Plan: Small",
        "    CPU: 2",
        "Marketplace resource UUID: res1",
    ]


def test_the_text_stays_within_the_desks_bounds():
    long_name = replace(ORDER, type=OrderType.TERMINATE, resource_name="n" * 400)
    assert len(rules.request_of(long_name, OFFERING).summary) == SUMMARY_MAX
    huge = replace(ORDER, attributes={**ORDER.attributes, "description": "é" * DESCRIPTION_MAX_BYTES})
    description = rules.request_of(huge, OFFERING).description
    assert len(description.encode()) <= DESCRIPTION_MAX_BYTES and description.endswith("[…]")


def test_without_options_form_creator_or_plan_the_text_says_none():
    bare = replace(
        ORDER, attributes={"name": "x"}, created_by=None, plan_id=None, provider_name="", limits={}
    )
    lines = rules.request_of(bare, replace(OFFERING, options={})).description.split("\n")
    assert lines[0] == "Order."
    assert "Provider: none" in lines and "    Plan: none" in lines
    assert "Full name: none" in lines and "Email: none" in lines


def test_each_execution_of_an_order_has_one_fixed_issue():
    first = rules.issue_id_of("ord1")
    assert first == rules.issue_id_of("ord1", 1) and len(first) == 32
    assert rules.issue_id_of("ord1", 2) not in (first, rules.issue_id_of("ord2"))


@pytest.mark.parametrize(
    ("order_type", "resolved", "expected"),
    [
        (OrderType.CREATE, True, (rules.Settlement.DONE, None)),
        (OrderType.UPDATE, True, (rules.Settlement.DONE, None)),
        (OrderType.TERMINATE, True, (rules.Settlement.DONE, None)),
        # Waldur's resource_creation_canceled / resource_update_failed / resource_deletion_failed
        (OrderType.CREATE, False, (rules.Settlement.CANCELED, ResourceState.TERMINATED)),
        (OrderType.UPDATE, False, (rules.Settlement.ERRED, ResourceState.ERRED)),
        (OrderType.TERMINATE, False, (rules.Settlement.ERRED, ResourceState.OK)),
    ],
)
def test_the_tickets_end_settles_the_order_as_waldurs_callbacks_do(order_type, resolved, expected):
    found = rules.outcome(order_type, resolved, "SUP-7")
    assert (found.settlement, found.resource_state) == expected
    message = "" if resolved else "The support request SUP-7 for this order was canceled."
    assert found.error_message == message
