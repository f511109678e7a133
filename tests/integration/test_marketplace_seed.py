"""`make run`'s demo catalog: the demo customer is a service provider with an Active Cirrus.Demo
offering in a category, with a monthly plan, and seeding again changes nothing."""

from __future__ import annotations

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
