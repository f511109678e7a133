"""`make run`'s demo catalog: the demo customer is a service provider with an Active Cirrus.Demo
offering in a category, with a monthly plan, and seeding again changes nothing."""

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
        "Cirrus.Demo",
    )
    assert (offering["state"], offering["category_title"]) == ("Active", DEMO_CATEGORY)
    assert offering["plugin_options"] == {"delay_seconds": 2, "failure_rate": 0.0}
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
