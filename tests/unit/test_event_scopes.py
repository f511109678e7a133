"""Which feeds an event is copied to: `scopes_of` reads the scope fields of its context."""

from __future__ import annotations

from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.events import SCOPE_TYPES, Event, make_event, scopes_of

ACTOR = {"user_uuid": "u-actor", "user_username": "staff", "user_full_name": "Staff"}


def test_each_scope_field_names_its_feed():
    context = {
        "customer_uuid": "c1",
        "project_uuid": "p1",
        "resource_uuid": "r1",
        "offering_uuid": "o1",
        "affected_user_uuid": "u1",
    }
    assert scopes_of("anything", context) == (
        ("customer", "c1"),
        ("project", "p1"),
        ("resource", "r1"),
        ("offering", "o1"),
        ("user", "u1"),
    )
    assert SCOPE_TYPES == ("customer", "project", "resource", "offering", "user")


def test_a_project_event_concerns_the_project_and_its_customer():
    context = {**ACTOR, "project_uuid": "p1", "project_name": "Apollo", "customer_uuid": "c1"}
    assert scopes_of("project_update_succeeded", context) == (("customer", "c1"), ("project", "p1"))


def test_a_role_event_also_concerns_the_user_it_is_about():
    context = {**ACTOR, "customer_uuid": "c1", "project_uuid": "p1", "affected_user_uuid": "u1"}
    assert scopes_of("role_granted", context) == (("customer", "c1"), ("project", "p1"), ("user", "u1"))


def test_the_acting_user_is_not_a_scope_outside_auth_events():
    assert scopes_of("customer_creation_succeeded", {**ACTOR, "customer_uuid": "c1"}) == (("customer", "c1"),)
    assert scopes_of("role_definition_created", {**ACTOR, "role_uuid": "r", "role_name": "X"}) == ()


def test_an_auth_event_goes_to_the_feed_of_the_user_who_signed_in_or_out():
    assert scopes_of("auth_logged_in_with_username", ACTOR) == (("user", "u-actor"),)
    assert scopes_of("auth_logged_out", ACTOR) == (("user", "u-actor"),)


def test_a_failed_login_names_no_user_and_concerns_no_feed():
    assert scopes_of("auth_login_failed_with_username", {"username": "alice", "ip_address": "1.2.3.4"}) == ()


def test_a_scope_is_listed_once_however_it_is_named():
    context = {**ACTOR, "affected_user_uuid": "u-actor"}
    assert scopes_of("auth_logged_in_with_username", context) == (("user", "u-actor"),)


def test_blank_fields_name_no_scope():
    assert scopes_of("user_update_succeeded", {"customer_uuid": "", "affected_user_uuid": "u1"}) == (
        ("user", "u1"),
    )


def test_an_event_knows_its_scopes_from_its_context():
    ctx = EventContext(principal=Principal("u-actor", "staff"), ip_address="10.0.0.1")
    event = make_event("project_creation_succeeded", "m", ctx, {"project_uuid": "p1", "customer_uuid": "c1"})
    assert event.scopes == (("customer", "c1"), ("project", "p1"))
    login = Event("auth_logged_in_with_username", "m", dict(ctx.as_event_fields()))
    assert login.scopes == (("user", "u-actor"),)
