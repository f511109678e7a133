"""What HomePort's marketplace pages read (landing, category, offering, order form, provider orders):
the offering types (`marketplace-plugins/`), plan prices (`marketplace-plan-components/`), category
groups (none), the sidebar's per-category resource counts (`marketplace-global-categories/`),
categories with the offerings a caller may order (`has_offerings`, `offering_count`,
`allowed_customer_uuid`), and a Basic offering whose provider's approval finishes an order
(`plugin_options.done_on_approval`, what `make run`'s demo offering is)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.roles import ScopeType
from tests.helpers import call
from tests.marketplace_helpers import BASIC, CPU, PLAN, ctx_of, make_offering

pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # orders start workflows; nothing runs them

ORDERS = "/api/marketplace-orders/"


def _category(staff: Any, title: str = "Compute") -> Any:
    from chalicelib.services import categories

    return categories.create_category(ctx_of(staff), {"title": title})


def _in_category(market: Any, category: Any, customer_id: str, **fields: Any) -> Any:
    return make_offering(market.staff, customer_id, category_id=category.id, **fields)


def _order(client: Any, market: Any, account: Any, offering: Any, name: str = "vm-1") -> dict[str, Any]:
    public = f"http://testserver/api/marketplace-public-offerings/{offering.id}/"
    body = {
        "project": f"http://testserver/api/projects/{market.project.id}/",
        "offering": public,
        "plan": f"{public}plans/{offering.plans[0].id}/",
        "attributes": {"name": name},
        "limits": {"cpu": 2},
    }
    reply = call(client, "POST", ORDERS, account, body)
    assert reply.status == 201, reply.json
    return reply.json  # type: ignore[no-any-return]


# --- marketplace-plugins/ ----------------------------------------------------------------------------
def test_plugins_list_every_offering_type_with_its_built_in_components_signed_out_too(client):
    reply = call(client, "GET", "/api/marketplace-plugins/")
    assert reply.status == 200 and isinstance(reply.json, list)
    by_type = {p["offering_type"]: p for p in reply.json}
    assert {"Marketplace.Basic", "Marketplace.Slurm", "Cirrus.Demo"} <= set(by_type)
    assert by_type["Marketplace.Basic"] == {
        "offering_type": "Marketplace.Basic",
        "components": [],
        "available_limits": [],
    }
    assert {"type": "cpu", "name": "CPU", "measured_unit": "hours", "billing_type": "usage"} in by_type[
        "Marketplace.Slurm"
    ]["components"]


# --- marketplace-plan-components/ --------------------------------------------------------------------
def test_plan_components_price_each_component_of_each_plan_the_caller_sees(client, market):
    storage = {"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "usage"}
    plans = ({**PLAN, "prices": {"cpu": "2", "storage": "0.05"}, "quotas": {"cpu": 1}},)
    priced = make_offering(
        market.staff, market.provider.id, name="Priced", components=[CPU, storage], plans=plans
    )
    plan = priced.plans[0]

    reply = call(client, "GET", f"/api/marketplace-plan-components/?offering_uuid={priced.id}")
    assert reply.status == 200 and reply.headers["X-Result-Count"] == "2"
    assert reply.json == [
        {
            "offering_uuid": priced.id,
            "offering_name": "Priced",
            "plan_uuid": plan.id,
            "plan_name": "Standard",
            "plan_unit": "month",
            "component_name": name,
            "measured_unit": unit,
            "billing_type": billing,
            "amount": amount,
            "price": price,
            "future_price": None,
        }
        for name, unit, billing, amount, price in (
            ("CPU", "cores", "limit", 1, "2"),
            ("Storage", "GB", "usage", 0, "0.05"),
        )
    ]
    by_plan = call(client, "GET", f"/api/marketplace-plan-components/?plan_uuid={plan.id}", market.owner)
    assert [r["component_name"] for r in by_plan.json] == ["CPU", "Storage"]
    every = call(client, "GET", "/api/marketplace-plan-components/", market.owner).json
    assert {r["offering_name"] for r in every} == {"Compute", "Priced"}


def test_plan_components_of_an_offering_outside_the_catalog_stay_with_its_provider(client, market):
    from chalicelib.services import offerings

    draft = offerings.create_offering(
        ctx_of(market.staff),
        market.provider.id,
        {"name": "Draft", "type": BASIC, "components": [CPU], "plans": [PLAN]},
    )
    path = f"/api/marketplace-plan-components/?offering_uuid={draft.id}"
    assert call(client, "GET", path).json == []
    assert call(client, "GET", path, market.owner).json == []
    assert [r["offering_name"] for r in call(client, "GET", path, market.seller).json] == ["Draft"]
    assert call(client, "GET", "/api/marketplace-plan-components/?offering_uuid=nope").status == 400


# --- marketplace-category-groups/ --------------------------------------------------------------------
def test_there_are_no_category_groups(client, staff):
    reply = call(client, "GET", "/api/marketplace-category-groups/")
    assert (reply.status, reply.json, reply.headers["X-Result-Count"]) == (200, [], "0")
    missing = call(client, "GET", f"/api/marketplace-category-groups/{'a' * 32}/", staff)
    assert missing.status == 404 and "detail" in missing.json


# --- marketplace-global-categories/ ------------------------------------------------------------------
def test_global_categories_count_the_callers_live_resources_per_category(client, market, alice):
    compute, storage = _category(market.staff), _category(market.staff, "Storage")
    vms = _in_category(market, compute, market.provider.id, name="VMs")
    disks = _in_category(market, storage, market.provider.id, name="Disks")
    for n in range(2):
        _order(client, market, market.owner, vms, f"vm-{n}")
    _order(client, market, market.owner, disks, "disk")
    gone = _order(client, market, market.owner, disks, "gone")
    assert call(client, "POST", f"{ORDERS}{gone['uuid']}/cancel/", market.owner).status == 202

    expected = {compute.id: 2, storage.id: 1}  # the canceled order's resource is Terminated
    assert call(client, "GET", "/api/marketplace-global-categories/", market.owner).json == expected
    assert call(client, "GET", "/api/marketplace-global-categories/", market.staff).json == expected
    assert call(client, "GET", "/api/marketplace-global-categories/", market.seller).json == expected
    assert call(client, "GET", "/api/marketplace-global-categories/", alice).json == {}
    narrowed = f"/api/marketplace-global-categories/?customer_uuid={market.provider.id}"
    assert call(client, "GET", narrowed, market.staff).json == {}  # the provider ordered nothing
    by_project = f"/api/marketplace-global-categories/?project_uuid={market.project.id}"
    assert call(client, "GET", by_project, market.member).json == expected
    assert call(client, "GET", "/api/marketplace-global-categories/").status == 401


def test_global_categories_answer_empty_rather_than_fail_past_the_read_bound(client, market, monkeypatch):
    from chalicelib.config import reset_settings

    compute = _category(market.staff)
    vms = _in_category(market, compute, market.provider.id, name="VMs")
    for n in range(3):
        _order(client, market, market.owner, vms, f"vm-{n}")
    monkeypatch.setenv("CIRRUS_FILTER_READ_LIMIT", "2")
    reset_settings()
    reply = call(client, "GET", "/api/marketplace-global-categories/", market.staff)
    assert (reply.status, reply.json) == (200, {})


# --- categories with offerings -----------------------------------------------------------------------
def test_categories_count_and_filter_by_the_offerings_a_caller_may_order(client, market):
    from chalicelib.services import offerings

    compute, empty, private = (_category(market.staff, t) for t in ("Compute", "Empty", "Private"))
    _in_category(market, compute, market.provider.id, name="VMs")
    _in_category(market, compute, market.provider.id, name="GPUs")
    own = _in_category(market, private, market.consumer.id, name="In-house", shared=False)
    offerings.create_offering(  # a Draft: not in the catalog
        ctx_of(market.staff),
        market.provider.id,
        {"name": "Draft", "type": BASIC, "components": [CPU], "plans": [PLAN], "category_id": empty.id},
    )

    def counts(path: str, account: Any = None) -> dict[str, int]:
        reply = call(client, "GET", path, account)
        assert reply.status == 200, reply.json
        return {c["title"]: c["offering_count"] for c in reply.json}

    listed = "/api/marketplace-categories/?field=title&field=offering_count"
    assert counts(listed) == {"Compute": 2, "Empty": 0, "Private": 0}
    assert counts(listed, market.owner) == {"Compute": 2, "Empty": 0, "Private": 1}
    assert counts(f"{listed}&has_offerings=true", market.owner) == {"Compute": 2, "Private": 1}
    assert counts(f"{listed}&has_offerings=true") == {"Compute": 2}
    assert counts(f"{listed}&has_offerings=false") == {"Empty": 0, "Private": 0}
    other = f"{listed}&has_offerings=true&allowed_customer_uuid={market.provider.id}"
    assert counts(other, market.staff) == {"Compute": 2}  # the consumer's own offering is not theirs
    one = call(client, "GET", f"/api/marketplace-categories/{compute.id}/").json
    assert (one["offering_count"], one["available_offerings_count"]) == (2, 2)
    assert own.shared is False


def test_public_offerings_allowed_to_a_customer_are_the_shared_ones_and_its_own(client, market):
    own = make_offering(market.staff, market.consumer.id, name="In-house", shared=False)
    theirs = make_offering(market.staff, market.provider.id, name="Private", shared=False)
    path = "/api/marketplace-public-offerings/?field=name&o=name&allowed_customer_uuid="
    names = [o["name"] for o in call(client, "GET", f"{path}{market.consumer.id}", market.staff).json]
    assert names == ["Compute", "In-house"]
    names = [o["name"] for o in call(client, "GET", f"{path}{market.provider.id}", market.staff).json]
    assert names == ["Compute", "Private"]
    assert call(client, "GET", f"{path}not-a-uuid", market.staff).status == 400
    assert (own.shared, theirs.shared) == (False, False)


# --- done on approval ----------------------------------------------------------------------------------
def test_a_basic_offering_done_on_approval_is_done_when_its_provider_approves(client, market):
    offering = make_offering(
        market.staff, market.provider.id, name="Manual", plugin_options={"done_on_approval": True}
    )
    order = _order(client, market, market.owner, offering)
    assert order["state"] == "pending-provider"

    reply = call(client, "POST", f"{ORDERS}{order['uuid']}/approve_by_provider/", market.seller)
    assert reply.status == 200
    done = call(client, "GET", f"{ORDERS}{order['uuid']}/", market.owner).json
    assert done["state"] == "done" and done["provider_reviewed_by_username"] == "seller"
    assert done["new_plan_name"] == "Standard"  # HomePort's order summary names the plan by it
    resource = call(
        client, "GET", f"/api/marketplace-resources/{order['marketplace_resource_uuid']}/", market.owner
    )
    assert resource.json["state"] == "OK"


def test_without_done_on_approval_a_basic_order_waits_for_its_provider_to_finish(client, market):
    order = _order(client, market, market.owner, market.offering)
    assert call(client, "POST", f"{ORDERS}{order['uuid']}/approve_by_provider/", market.seller).status == 200
    assert call(client, "GET", f"{ORDERS}{order['uuid']}/", market.owner).json["state"] == "executing"


def test_done_on_approval_must_be_true_or_false(client, market):
    customer = f"http://testserver/api/customers/{market.provider.id}/"
    category = f"http://testserver/api/marketplace-categories/{_category(market.staff).id}/"
    body = {
        "name": "Manual",
        "type": BASIC,
        "customer": customer,
        "category": category,
        "plugin_options": {"done_on_approval": "yes"},
    }
    reply = call(client, "POST", "/api/marketplace-provider-offerings/", market.staff, body)
    assert reply.status == 400 and "plugin_options" in reply.json


# --- marketplace-offering-permissions/ ---------------------------------------------------------------
def test_offering_permissions_list_a_providers_offering_managers_to_who_sees_the_provider(
    client, market, alice
):
    from chalicelib.services import memberships

    manual = make_offering(market.staff, market.provider.id, name="Manual")
    scope = memberships.find_scope(ScopeType.OFFERING, manual.id)
    assert scope is not None
    memberships.add_user(ctx_of(market.staff), scope, alice.id, "OFFERING.MANAGER", None)

    path = f"/api/marketplace-offering-permissions/?customer={market.provider.id}"
    for account in (market.staff, market.seller):
        reply = call(client, "GET", path, account)
        assert reply.status == 200 and reply.headers["X-Result-Count"] == "1"
        [row] = reply.json
        assert (row["offering_uuid"], row["offering_name"], row["role_name"]) == (
            manual.id,
            "Manual",
            "OFFERING.MANAGER",
        )
        assert (row["user_uuid"], row["user_username"]) == (alice.id, "alice")
        assert row["user_email"] == "" or "@" in row["user_email"]
    assert call(client, "GET", path, market.owner).json == []  # another customer's people
    mine = call(client, "GET", "/api/marketplace-offering-permissions/", market.seller).json
    assert [r["offering_name"] for r in mine] == ["Manual"]
    by_offering = f"/api/marketplace-offering-permissions/?offering={market.offering.id}"
    assert call(client, "GET", by_offering, market.staff).json == []
    assert call(client, "GET", path).status == 401
