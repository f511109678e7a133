"""`make run`'s demo catalog: the demo customer is a service provider with an Active Marketplace.Basic
offering (done when its provider approves an order: HomePort has an order form for the type) in a
category, with a monthly plan, and seeding again changes nothing."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import AuthenticationFailed
from chalicelib.local.seed import DEMO_CATEGORY, DEMO_OFFERING, seed
from tests.helpers import call


def test_the_demo_catalog_is_seeded_once_and_shows_in_the_public_catalog(client):
    first = seed("admin", "admin-secret-pw")
    again = seed("admin", "admin-secret-pw")
    assert (again.offering_id, again.plan_id) == (first.offering_id, first.plan_id)

    [offering] = call(client, "GET", "/api/marketplace-public-offerings/", None).json
    assert (offering["uuid"], offering["name"], offering["type"]) == (
        first.offering_id,
        DEMO_OFFERING,
        "Marketplace.Basic",
    )
    assert (offering["state"], offering["category_title"]) == ("Active", DEMO_CATEGORY)
    assert offering["plugin_options"] == {"done_on_approval": True}
    assert sorted(c["type"] for c in offering["components"]) == ["cpu", "ip", "storage"]
    [plan] = offering["plans"]
    assert plan["uuid"] == first.plan_id and plan["url"].endswith(f"/plans/{first.plan_id}/")
    providers = call(
        client, "GET", f"/api/marketplace-service-providers/?customer_uuid={first.customer_id}", None
    )
    assert [p["customer_uuid"] for p in providers.json] == [first.customer_id]


def test_the_staff_token_printed_before_a_restart_is_printed_again_while_it_works(aws):
    """`make run` keeps the printed token in its data directory and hands it back to the seed."""
    first = seed("admin", "admin-secret-pw")

    assert seed("admin", "admin-secret-pw", first.token).token == first.token
    unknown = "0" * 40
    assert seed("admin", "admin-secret-pw", unknown).token not in (unknown, first.token)
    with pytest.raises(AuthenticationFailed):  # a changed password is refused, as on a first start
        seed("admin", "another-password", first.token)


def test_a_restart_finds_the_demo_project_among_more_projects_than_a_filter_may_read(aws, monkeypatch):
    """The seed looked the demo project up by a name filter, which reads the whole customer and is
    refused past CIRRUS_FILTER_READ_LIMIT: `make run` could not start again once the demo customer
    held more projects than that (the benchmark's 10,000)."""
    from chalicelib.config import reset_settings
    from chalicelib.domain.context import EventContext
    from chalicelib.services import projects

    first = seed("admin", "admin-secret-pw")
    monkeypatch.setenv("CIRRUS_FILTER_READ_LIMIT", "3")
    reset_settings()
    staff = EventContext(principal=call_principal("admin"))
    for n in range(4):
        projects.create_project(staff, first.customer_id, {"name": f"more {n}"})

    again = seed("admin", "admin-secret-pw", first.token)

    assert again.project_id == first.project_id


def call_principal(username: str):
    from chalicelib.store import users as user_store

    user = user_store.get_by_username(username)
    assert user is not None
    return user.principal()


@pytest.mark.stack
def test_the_demo_resource_is_ordered_and_approved_by_its_provider_so_it_is_ok(aws):
    """The seed orders the demo resource as staff and approves it as the provider (staff may): the
    demo offering is done on its provider's approval, so the resource is OK (and billed) at once."""
    from chalicelib.local.seed import order_demo_resource
    from chalicelib.services.ports import Source
    from chalicelib.store import orders as order_store
    from chalicelib.store import resources as resource_store

    seeded = seed("admin", "admin-secret-pw")
    resource_id = order_demo_resource(seeded, "admin")
    assert order_demo_resource(seeded, "admin") == resource_id  # once

    resource = resource_store.load(seeded.customer_id, seeded.project_id, resource_id)
    assert resource is not None and resource.state.value == "OK"
    source = Source.consumer(seeded.customer_id, seeded.project_id)
    [order] = [o for o in order_store.read([source], bounded=False) if o.resource_id == resource_id]
    assert order.state.value == "done" and order.provider_reviewed_by is not None


def test_a_cirrus_demo_offering_of_an_older_data_directory_is_archived_and_replaced(aws):
    """HomePort has no order form for Cirrus.Demo: a data directory seeded before keeps its old
    demo offering's resources, and the catalog shows the Basic one instead."""
    from chalicelib.domain.context import EventContext
    from chalicelib.local.seed import DEMO_OFFERING_DATA
    from chalicelib.services import offerings
    from chalicelib.store import offerings as offering_store

    first = seed("admin", "admin-secret-pw")
    ctx = EventContext(principal=call_principal("admin"))
    offerings.delete_offering(ctx, first.offering_id)  # as if seeded before the Basic one
    old_data = {**DEMO_OFFERING_DATA, "type": "Cirrus.Demo", "plugin_options": {"delay_seconds": 2}}
    old = offerings.create_offering(ctx, first.customer_id, old_data)
    offerings.set_state(ctx, old.id, "activate")

    again = seed("admin", "admin-secret-pw")

    states = {o.id: (o.type, o.state.value) for o in offering_store.for_customer(first.customer_id)}
    assert states[old.id] == ("Cirrus.Demo", "Archived")
    assert states[again.offering_id] == ("Marketplace.Basic", "Active")


def test_the_support_desk_demo_is_seeded_once(client):
    """`make run`'s support user sees the demo tickets; the demo owner sees theirs; seeding again
    opens no more."""
    from chalicelib.local.seed import DEMO_OWNER, DEMO_OWNER_PASSWORD, DEMO_SUPPORT, DEMO_SUPPORT_PASSWORD

    first = seed("admin", "admin-secret-pw")
    assert first.support_issues == 2 and seed("admin", "admin-secret-pw").support_issues == 2

    def login(username: str, password: str) -> dict[str, str]:
        reply = call(
            client, "POST", "/api-auth/password/", None, {"username": username, "password": password}
        )
        assert reply.status == 200, reply.json
        return {"Authorization": f"Token {reply.json['token']}", "Content-Type": "application/json"}

    desk = login(DEMO_SUPPORT, DEMO_SUPPORT_PASSWORD)
    issues = client.get("/api/support-issues/?o=key", headers=desk).json_body
    assert [(i["key"], i["summary"], i["status"]) for i in issues] == [
        ("SUP-1", "Cannot reach my demo VM", "New"),
        ("SUP-2", "More CPU for the demo project", "In Progress"),
    ]
    assert issues[0]["project_uuid"] == first.project_id
    owner = login(DEMO_OWNER, DEMO_OWNER_PASSWORD)
    assert len(client.get("/api/support-issues/", headers=owner).json_body) == 2
    [answer] = client.get(f"/api/support-comments/?issue_uuid={issues[0]['uuid']}", headers=owner).json_body
    assert answer["author_name"] == "Demo Support" and answer["is_public"] is True
