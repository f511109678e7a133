"""What HomePort's resource pages read: the rows of its resource tables (`scope` null, the offering's
category, the provider, the project), the category page's `category_uuid` filter, the details
page's `marketplace-resources/<uuid>/offering/` and the orders a resource's retrieve carries
(`order_in_progress`, `creation_order`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import call
from tests.integration.test_marketplace_orders_api import act, get, place
from tests.marketplace_helpers import ctx_of, make_offering

RESOURCES = "/api/marketplace-resources/"
PROVIDER = "/api/marketplace-provider-resources/"
# What HomePort's resource tables ask for (marketplace/resources/list/utils.ts and the columns).
TABLE_FIELDS = (
    "uuid", "name", "category_title", "offering_name", "created", "state", "backend_metadata",
    "attributes", "available_actions", "end_date", "offering_type", "offering_customer_uuid",
    "backend_id", "slug", "scope", "report", "plan_uuid", "is_limit_based", "is_usage_based",
    "limits", "limit_usage", "current_usages", "customer_uuid", "description", "resource_type",
    "resource_uuid", "project_name", "customer_name",
)  # fmt: skip

pytestmark = [pytest.mark.stack, pytest.mark.fakes]


@pytest.fixture
def filed(market: Any) -> Any:
    """An offering of the market's provider filed under a category, with a secret option."""
    from chalicelib.services import categories

    category = categories.create_category(ctx_of(market.staff), {"title": "Virtual machines"})
    offering = make_offering(
        market.staff,
        market.provider.id,
        name="Cloud VMs",
        category_id=category.id,
        description="Machines by the hour",
        secret_options={"api_key": "s3cret"},
    )
    return category, offering


def _live(client: Any, market: Any, offering: Any) -> str:
    order = place(client, market, market.owner, of=offering)
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    return str(order["marketplace_resource_uuid"])


def _listed(client: Any, account: Any, query: str) -> Any:
    fields = "&".join(f"field={name}" for name in TABLE_FIELDS)
    reply = call(client, "GET", f"{RESOURCES}?{query}&{fields}", account)
    assert reply.status == 200, reply.json
    return reply.json


def test_a_resource_row_has_what_homeports_table_renders(client: Any, market: Any, filed: Any) -> None:
    category, offering = filed
    resource = _live(client, market, offering)
    [row] = _listed(client, market.owner, f"project_uuid={market.project.id}&state=OK")
    assert row["uuid"] == resource
    # `scope === null` makes the actions menu a marketplace one (not a backend model's, fetched
    # from `scope`: undefined made HomePort fetch `undefined` and show "Unable to load actions").
    assert "scope" in row and row["scope"] is None
    assert (row["category_title"], row["offering_customer_uuid"]) == ("Virtual machines", market.provider.id)
    assert row["limit_usage"] == {"cpu": None}  # a limit component, no usage reported yet
    assert (row["project_name"], row["customer_name"]) == ("Apollo", "Acme")
    assert set(row) == set(TABLE_FIELDS)  # every key the table asks for is there

    one = get(client, market.owner, f"{RESOURCES}{resource}/")
    assert (one["category_uuid"], one["offering_description"]) == (category.id, "Machines by the hour")
    assert (one["offering_shared"], one["offering_billable"], one["plan_description"]) == (True, True, "")
    assert one["project_end_date"] is None and one["options"] == {} and one["endpoints"] == []


def test_a_resource_of_an_offering_without_a_category_leaves_it_out(client: Any, market: Any) -> None:
    resource = _live(client, market, market.offering)
    one = get(client, market.owner, f"{RESOURCES}{resource}/")
    assert "category_title" not in one and "category_uuid" not in one and one["scope"] is None
    assert one["offering_customer_uuid"] == market.provider.id


def test_the_category_page_lists_the_resources_of_its_offerings_only(
    client: Any, market: Any, filed: Any
) -> None:
    category, offering = filed
    in_category = _live(client, market, offering)
    _live(client, market, market.offering)  # no category
    assert [r["uuid"] for r in _listed(client, market.owner, f"category_uuid={category.id}")] == [in_category]
    assert len(_listed(client, market.owner, "state=OK")) == 2
    assert [r["uuid"] for r in _listed(client, market.staff, f"category_uuid={category.id}")] == [in_category]
    assert _listed(client, market.owner, f"category_uuid={'0' * 32}") == []
    bad = call(client, "GET", f"{RESOURCES}?category_uuid=nope", market.owner)
    assert (bad.status, bad.json) == (400, {"category_uuid": ["Enter a valid UUID."]})


def test_the_details_page_reads_the_resources_offering(client: Any, market: Any, filed: Any) -> None:
    _, offering = filed
    resource = _live(client, market, offering)
    shown = get(client, market.owner, f"{RESOURCES}{resource}/offering/")
    assert (shown["uuid"], shown["name"]) == (offering.id, "Cloud VMs")
    assert shown["category_title"] == "Virtual machines"
    assert [c["type"] for c in shown["components"]] == ["cpu"]
    assert [p["name"] for p in shown["plans"]] == ["Standard"]
    assert "secret_options" not in shown  # the provider's credentials never reach the consumer
    assert get(client, market.owner, f"{RESOURCES}{resource}/offering/?field=components") == {
        "components": shown["components"]
    }
    # The provider's view answers it too; the provider's staff see their own secrets elsewhere only.
    assert "secret_options" not in get(client, market.seller, f"{PROVIDER}{resource}/offering/")


def test_the_offering_of_a_resource_is_shown_even_once_the_catalog_hides_it(
    client: Any, market: Any, filed: Any
) -> None:
    from chalicelib.services import offerings

    _, offering = filed
    resource = _live(client, market, offering)
    offerings.set_state(ctx_of(market.staff), offering.id, "archive")
    hidden = call(client, "GET", f"/api/marketplace-public-offerings/{offering.id}/", market.owner)
    assert hidden.status == 404
    assert get(client, market.owner, f"{RESOURCES}{resource}/offering/")["state"] == "Archived"


def test_nobody_reads_the_offering_of_a_resource_they_do_not_see(client: Any, market: Any) -> None:
    from tests.conftest import make_account

    resource = _live(client, market, market.offering)
    stranger = make_account("stranger")
    for path in (f"{RESOURCES}{resource}/offering/", f"{PROVIDER}{resource}/offering/"):
        reply = call(client, "GET", path, stranger)
        assert (reply.status, reply.json) == (404, {"detail": "No Resource matches the given query."}), path
    # The consumer's owner has no provider's sight of it.
    assert call(client, "GET", f"{PROVIDER}{resource}/offering/", market.owner).status == 404
    assert call(client, "GET", f"{RESOURCES}{'0' * 32}/offering/", market.staff).status == 404


def test_a_resource_shows_the_order_changing_it_and_the_one_that_made_it(client: Any, market: Any) -> None:
    resource = _live(client, market, market.offering)
    one = get(client, market.owner, f"{RESOURCES}{resource}/")
    assert one["order_in_progress"] is None
    assert (one["creation_order"]["type"], one["creation_order"]["state"]) == ("Create", "done")

    limits = {"limits": {"cpu": 4}}
    placed = call(client, "POST", f"{RESOURCES}{resource}/update_limits/", market.owner, limits)
    changing = get(client, market.owner, f"{RESOURCES}{resource}/")["order_in_progress"]
    assert (changing["uuid"], changing["type"]) == (placed.json["order_uuid"], "Update")
    assert changing["limits"] == {"cpu": 4}
    only = get(client, market.owner, f"{RESOURCES}{resource}/?field=order_in_progress")
    assert list(only) == ["order_in_progress"]
    assert "order_in_progress" not in _listed(client, market.owner, "state=OK")[0]


def test_the_resources_audit_log_is_read_by_who_sees_its_project(client: Any, market: Any) -> None:
    from tests.conftest import make_account

    resource = _live(client, market, market.offering)
    scope = f"http://testserver/api/marketplace-resources/{resource}/"

    def messages(account: Any) -> list[str]:
        reply = call(client, "GET", f"/api/events/?scope={scope}", account)
        assert reply.status == 200, reply.json
        return [e["message"] for e in reply.json]

    seen = messages(market.staff)
    assert "Resource vm-1 has been created." in seen
    assert messages(market.owner) == seen and messages(market.member) == seen
    assert messages(make_account("stranger")) == []
    assert messages(market.seller) == []  # the provider's owner reads its offering's log, not the project's
    ghost = f"http://testserver/api/marketplace-resources/{'0' * 32}/"
    assert call(client, "GET", f"/api/events/?scope={ghost}", market.owner).json == []
