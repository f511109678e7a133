"""The marketplace catalog over HTTP: service providers, categories, provider offerings (create,
state and `update_*` actions, components, offering roles), the public catalog with its plans, and
provider plans; in Waldur's fields, status codes and messages, with who may do what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Account, make_account
from tests.helpers import call, create_customer, feed

OFFERINGS, PUBLIC, PLANS = (
    "/api/marketplace-provider-offerings/",
    "/api/marketplace-public-offerings/",
    "/api/marketplace-plans/",
)

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes
PROVIDERS, CATEGORIES = "/api/marketplace-service-providers/", "/api/marketplace-categories/"
CORES = {"type": "cores", "name": "Cores", "measured_unit": "cores", "billing_type": "limit", "max_value": 64}
MONTHLY = {"name": "Monthly", "unit": "month", "unit_price": "10.50", "prices": {"cores": "2"}}


def ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.json
    return reply.json


@pytest.fixture
def world(client: Any, staff: Account) -> dict[str, Any]:
    """A provider customer with an owner, a category, and a user with no roles."""
    provider = create_customer(client, staff, "Cloud Provider")
    owner = make_account("owner", full_name="Provider Owner")
    ok(call(client, "POST", f"/api/customers/{provider['uuid']}/add_user/", staff,
            {"user": owner.id, "role": "CUSTOMER.OWNER"}), 201)  # fmt: skip
    category = ok(call(client, "POST", CATEGORIES, staff, {"title": "Compute"}), 201)
    return {"provider": provider, "owner": owner, "category": category, "staff": staff}


def offering_body(world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "name": "Virtual machines",
        "category": world["category"]["url"],
        "customer": world["provider"]["url"],
        "type": "Marketplace.Basic",
        "components": [CORES],
        "plans": [MONTHLY],
        **fields,
    }


def create(client: Any, world: dict[str, Any], account: Account | None = None, **fields: Any) -> Any:
    return ok(call(client, "POST", OFFERINGS, account or world["owner"], offering_body(world, **fields)), 201)


def act(client: Any, account: Account, offering: Any, action: str, body: Any = None) -> Any:
    return call(client, "POST", f"{OFFERINGS}{offering['uuid']}/{action}/", account, body)


# --- offerings -------------------------------------------------------------------------------------
def test_an_owner_creates_a_draft_offering_with_components_plans_and_inline_prices(client, world):
    offering = create(client, world, plugin_options={"site": "eu-1"}, attributes={"ram": "4GB"})

    assert offering["url"].endswith(f"{OFFERINGS}{offering['uuid']}/") and len(offering["uuid"]) == 32
    assert (offering["state"], offering["type"], offering["name"]) == (
        "Draft",
        "Marketplace.Basic",
        "Virtual machines",
    )
    assert (offering["customer_uuid"], offering["customer_name"]) == (
        world["provider"]["uuid"],
        "Cloud Provider",
    )
    assert (offering["category_uuid"], offering["category_title"]) == (world["category"]["uuid"], "Compute")
    assert offering["plugin_options"] == {"site": "eu-1"} and offering["attributes"] == {"ram": "4GB"}
    [component] = offering["components"]
    assert (component["type"], component["billing_type"], component["max_value"]) == ("cores", "limit", 64)
    [plan] = offering["plans"]
    # Prices given inline are kept (Waldur ignores them here), as strings.
    assert (plan["unit_price"], plan["prices"], plan["unit"]) == ("10.50", {"cores": "2"}, "month")
    assert plan["url"].endswith(f"{PLANS}{plan['uuid']}/")
    # The customer became a service provider with its first offering.
    providers = ok(call(client, "GET", f"{PROVIDERS}?customer_uuid={world['provider']['uuid']}", None))
    assert [p["customer_uuid"] for p in providers] == [world["provider"]["uuid"]]
    # The event is in the provider's feed and the offering's.
    created = [
        e for e in feed("offering", offering["uuid"]) if e.event_type == "marketplace_offering_created"
    ]
    assert len(created) == 1 and created[0].context["user_username"] == "owner"
    assert [e.event_type for e in feed("customer", world["provider"]["uuid"])][
        -1
    ] == "marketplace_offering_created"


def test_plugin_options_default_to_an_object_and_the_type_brings_its_components(client, world):
    slurm = create(client, world, type="Marketplace.Slurm", components=[], plans=[])
    assert slurm["plugin_options"] == {}
    assert {c["type"]: c["is_builtin"] for c in slurm["components"]} == {
        "cpu": True,
        "gpu": True,
        "ram": True,
    }
    demo = create(client, world, type="Cirrus.Demo", plugin_options={"delay_seconds": 0})
    assert demo["plugin_options"] == {"delay_seconds": 0, "failure_rate": 0.0}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"type": "Acme.Unknown"}, {"type": ['"Acme.Unknown" is not a valid choice.']}),
        ({"plugin_options": ["not", "an", "object"]}, "plugin_options"),
        ({"type": "Cirrus.Demo", "plugin_options": {"failure_rate": 2}}, "plugin_options"),
        ({"components": [CORES, CORES]}, {"components": ["Component types must be unique."]}),
        ({"components": [CORES, {**CORES, "type": "ram", "billing_type": "monthly"}]},
         {"components": [{}, {"billing_type": ['"monthly" is not a valid choice.']}]}),
        ({"plans": [{**MONTHLY, "prices": {"ram": "1"}}]}, {"prices": ["Invalid components: ram."]}),
        ({"plans": [{**MONTHLY, "unit": "fortnight"}]},
         {"plans": [{"unit": ['"fortnight" is not a valid choice.']}]}),
        ({"plans": [{**MONTHLY, "prices": {"cores": "1e30"}}]},
         {"plans": [{"prices": {"cores": ["Ensure that there are no more than 22 digits in total."]}}]}),
        ({"category": "http://testserver/api/marketplace-categories/0123456789abcdef0123456789abcdef/"},
         {"category": ["Invalid hyperlink - Object does not exist."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
    ],
)  # fmt: skip
def test_bad_offerings_are_refused_in_drfs_shape_and_nothing_is_stored(client, world, fields, expected):
    reply = call(client, "POST", OFFERINGS, world["owner"], offering_body(world, **fields))
    assert reply.status == 400, reply.json
    assert reply.json == expected if isinstance(expected, dict) else expected in reply.json
    assert ok(call(client, "GET", OFFERINGS, world["staff"])) == []


def test_only_staff_and_the_providers_owners_create_offerings(client, world, alice):
    reply = call(client, "POST", OFFERINGS, alice, offering_body(world))
    assert (reply.status, reply.json) == (400, {"customer": ["Invalid hyperlink - Object does not exist."]})
    member = make_account("member")
    ok(call(client, "POST", f"/api/customers/{world['provider']['uuid']}/add_user/", world["staff"],
            {"user": member.id, "role": "CUSTOMER.SUPPORT"}), 201)  # fmt: skip
    assert call(client, "POST", OFFERINGS, member, offering_body(world)).status == 403
    assert create(client, world, world["staff"])["state"] == "Draft"


def test_state_actions_follow_waldurs_transitions(client, world):
    staff, owner = world["staff"], world["owner"]
    offering = create(client, world)
    # activate is staff's (Waldur); an offering without plans cannot be activated.
    assert act(client, owner, offering, "activate").status == 403
    empty = create(client, world, plans=[])
    assert act(client, staff, empty, "activate").json == ["Offering does not have any billing plans."]

    assert ok(act(client, staff, offering, "activate")) == {
        "detail": "Offering state updated.",
        "state": "Active",
    }
    assert act(client, staff, offering, "activate").json == ["Offering state is invalid."]
    assert ok(act(client, owner, offering, "pause", {"paused_reason": "maintenance"}))["state"] == "Paused"
    shown = ok(call(client, "GET", f"{OFFERINGS}{offering['uuid']}/", owner))
    assert (shown["state"], shown["paused_reason"]) == ("Paused", "maintenance")
    assert ok(act(client, owner, offering, "unpause"))["state"] == "Active"
    assert act(client, owner, offering, "unpause").status == 400
    assert ok(act(client, owner, offering, "archive"))["state"] == "Archived"
    # An archived offering is not changed any more, until it is a draft again.
    assert act(client, owner, offering, "update_overview", {"name": "X"}).json == [
        "It is not possible to update archived offering."
    ]
    assert ok(act(client, owner, offering, "draft"))["state"] == "Draft"
    events = [
        e.message
        for e in feed("offering", offering["uuid"])
        if e.event_type == "marketplace_offering_updated"
    ]
    assert events == [f"Offering Virtual machines has been {s}." for s in
                      ("activated", "paused", "unpaused", "archived", "moved to draft")]  # fmt: skip


def test_offerings_change_through_actions_only(client, world):
    offering = create(client, world)
    owner, path = world["owner"], f"{OFFERINGS}{offering['uuid']}/"
    assert call(client, "PUT", path, owner, offering_body(world)).status == 405
    assert call(client, "PATCH", path, owner, {"name": "x"}).json == {"detail": 'Method "PATCH" not allowed.'}

    other = ok(call(client, "POST", CATEGORIES, world["staff"], {"title": "Storage"}), 201)
    assert ok(act(client, owner, offering, "update_overview", {"name": "VMs", "description": "Fast"})) is None
    assert ok(act(client, owner, offering, "update_description", {"category": other["url"]})) is None
    assert ok(act(client, owner, offering, "update_location", {"latitude": 59.4, "longitude": 24.7})) is None
    assert (
        ok(act(client, owner, offering, "update_options", {"options": {"order": [], "options": {}}})) is None
    )
    assert ok(act(client, owner, offering, "update_integration", {"plugin_options": {"a": 1}})) is None
    assert ok(act(client, owner, offering, "update_attributes", {"vcpu": 4})) is None
    shown = ok(call(client, "GET", path, owner))
    assert (shown["name"], shown["description"], shown["category_title"]) == ("VMs", "Fast", "Storage")
    assert (shown["latitude"], shown["options"], shown["plugin_options"]) == (
        59.4,
        {"order": [], "options": {}},
        {"a": 1},
    )
    assert shown["attributes"] == {"vcpu": 4}

    bad = act(client, owner, offering, "update_integration", {"plugin_options": "x"})
    assert (bad.status, bad.json) == (
        400,
        {"plugin_options": ['Expected a dictionary of items but got type "str".']},
    )
    assert act(client, owner, offering, "update_options", {}).json == {"options": ["This field is required."]}


def test_components_are_created_changed_and_removed_except_the_types_own(client, world):
    owner = world["owner"]
    offering = create(client, world, type="Marketplace.Slurm")
    storage = {"type": "storage", "name": "Storage", "billing_type": "usage", "measured_unit": "GB"}
    ram = ok(act(client, owner, offering, "create_offering_component", storage), 201)
    assert (ram["type"], ram["is_builtin"]) == ("storage", False)
    duplicate = act(client, owner, offering, "create_offering_component", {**CORES})
    assert duplicate.json == {"type": ["Component types must be unique."]}

    ok(act(client, owner, offering, "update_offering_component", {"uuid": ram["uuid"], "name": "Disk"}))
    assert act(client, owner, offering, "update_offering_component", {"name": "x"}).json == [
        "UUID for offering component was not provided."
    ]
    cpu = next(c for c in offering["components"] if c["type"] == "cpu")
    assert act(client, owner, offering, "remove_offering_component", {"uuid": cpu["uuid"]}).json == [
        "The component cpu cannot be removed because it is builtin"
    ]
    ok(act(client, owner, offering, "remove_offering_component", {"uuid": ram["uuid"]}))
    shown = ok(call(client, "GET", f"{OFFERINGS}{offering['uuid']}/", owner))
    assert sorted(c["type"] for c in shown["components"]) == ["cores", "cpu", "gpu", "ram"]
    gone = act(client, owner, offering, "remove_offering_component", {"uuid": ram["uuid"]})
    assert gone.status == 404


def test_provider_lists_filter_and_order(client, world):
    staff = world["staff"]
    basic = create(client, world, name="Basic")
    create(client, world, name="Slurm", type="Marketplace.Slurm")
    ok(act(client, staff, basic, "activate"))
    other = create_customer(client, staff, "Other Provider")
    create(client, world, staff, name="Elsewhere", customer=other["url"])

    def names(query: str, account: Account = staff) -> list[str]:
        return [o["name"] for o in ok(call(client, "GET", f"{OFFERINGS}?{query}", account))]

    assert names("") == ["Elsewhere", "Slurm", "Basic"]  # newest first
    assert names("o=name") == ["Basic", "Elsewhere", "Slurm"]
    assert names(f"customer_uuid={other['uuid']}") == ["Elsewhere"]
    assert names(f"customer={world['provider']['url']}&o=name") == ["Basic", "Slurm"]
    assert names("state=Active") == ["Basic"]
    assert names("state=Active&state=Draft&o=-name") == ["Slurm", "Elsewhere", "Basic"]
    assert names("type=Marketplace.Slurm") == ["Slurm"]
    assert names("name=sl") == ["Slurm"] and names("name_exact=Basic") == ["Basic"]
    assert names(f"category_uuid={world['category']['uuid']}&shared=true&o=name") == [
        "Basic",
        "Elsewhere",
        "Slurm",
    ]
    assert call(client, "GET", f"{OFFERINGS}?state=Gone", staff).json == {
        "state": ["Select a valid choice. Gone is not one of the available choices."]
    }
    # The owner manages their customer's offerings only; anybody else sees none here.
    assert names("o=name", world["owner"]) == ["Basic", "Slurm"]
    assert names("", make_account("nobody")) == []


def test_an_offering_manager_manages_the_offering_but_does_not_activate_it(client, world):
    owner, staff = world["owner"], world["staff"]
    offering = create(client, world)
    manager = make_account("manager")
    granted = call(client, "POST", f"{OFFERINGS}{offering['uuid']}/add_user/", owner,
                   {"user": manager.id, "role": "OFFERING.MANAGER"})  # fmt: skip
    assert granted.status == 201, granted.json
    team = ok(call(client, "GET", f"/api/offerings/{offering['uuid']}/list_users/", owner))
    assert [(m["user_username"], m["role_name"]) for m in team] == [("manager", "OFFERING.MANAGER")]

    assert [o["uuid"] for o in ok(call(client, "GET", OFFERINGS, manager))] == [offering["uuid"]]
    ok(act(client, manager, offering, "update_overview", {"description": "Managed"}))
    assert act(client, manager, offering, "activate").status == 403
    assert act(client, manager, offering, "archive").status == 403  # OFFERING.ARCHIVE is the provider's
    # Somebody else's offering is a 404, not a 403.
    assert act(client, make_account("stranger"), offering, "update_overview", {"name": "x"}).status == 404
    ok(act(client, owner, offering, "delete_user", {"user": manager.id, "role": "OFFERING.MANAGER"}))
    assert ok(call(client, "GET", OFFERINGS, manager)) == []
    assert call(client, "GET", f"{OFFERINGS}{offering['uuid']}/", staff).status == 200


# --- the public catalog ----------------------------------------------------------------------------
def test_the_public_catalog_shows_shared_active_and_paused_offerings_to_anybody(client, world):
    staff, owner = world["staff"], world["owner"]
    active = create(client, world, name="Active")
    paused = create(client, world, name="Paused")
    create(client, world, name="Draft")
    private = create(client, world, name="Private", shared=False)
    for offering in (active, paused, private):
        ok(act(client, staff, offering, "activate"))
    ok(act(client, owner, paused, "pause"))

    def names(account: Account | None, query: str = "o=name") -> list[str]:
        return [o["name"] for o in ok(call(client, "GET", f"{PUBLIC}?{query}", account))]

    assert names(None) == ["Active", "Paused"]
    assert names(make_account("shopper")) == ["Active", "Paused"]
    assert names(owner) == ["Active", "Paused", "Private"]  # its provider also sees its private one
    assert names(None, "state=Active&state=Paused&name_exact=Active") == ["Active"]

    shown = ok(call(client, "GET", f"{PUBLIC}{active['uuid']}/", None))
    assert shown["url"].endswith(f"{PUBLIC}{active['uuid']}/") and "secret_options" not in shown
    [plan] = shown["plans"]
    assert plan["url"].endswith(f"{PUBLIC}{active['uuid']}/plans/{plan['uuid']}/")
    assert call(client, "GET", f"{PUBLIC}{private['uuid']}/", None).status == 404
    draft = ok(call(client, "GET", f"{OFFERINGS}?name_exact=Draft", staff))[0]
    assert call(client, "GET", f"{PUBLIC}{draft['uuid']}/", None).json == {
        "detail": "No Offering matches the given query."
    }


def test_public_plans_are_a_bare_list_without_archived_ones_and_each_has_its_own_url(client, world):
    staff, owner = world["staff"], world["owner"]
    offering = create(client, world, plans=[MONTHLY, {"name": "Old", "unit": "day", "unit_price": "1"}])
    ok(act(client, staff, offering, "activate"))
    old = next(p for p in offering["plans"] if p["name"] == "Old")
    ok(call(client, "POST", f"{PLANS}{old['uuid']}/archive/", owner))

    plans = call(client, "GET", f"{PUBLIC}{offering['uuid']}/plans/", None)
    assert plans.status == 200 and "X-Result-Count" not in plans.headers
    assert [p["name"] for p in plans.json] == ["Monthly"]
    monthly = plans.json[0]
    one = ok(call(client, "GET", "/api/" + monthly["url"].split("/api/", 1)[1], None))
    assert one == monthly
    missing = call(client, "GET", f"{PUBLIC}{offering['uuid']}/plans/{'0' * 32}/", None)
    assert missing.json == {"detail": "No Plan matches the given query."}


# --- provider plans --------------------------------------------------------------------------------
def test_provider_plans_are_created_changed_priced_and_archived(client, world):
    owner = world["owner"]
    offering = create(client, world)
    hourly = {"offering": offering["url"], "name": "Hourly", "unit": "hour", "unit_price": "0.25"}
    created = ok(call(client, "POST", PLANS, owner, hourly), 201)
    assert (created["offering_uuid"], created["unit"], created["unit_price"]) == (
        offering["uuid"],
        "hour",
        "0.25",
    )
    path = f"{PLANS}{created['uuid']}/"
    assert (
        ok(call(client, "PATCH", path, owner, {"description": "By the hour"}))["description"] == "By the hour"
    )
    ok(call(client, "POST", f"{path}update_prices/", owner, {"prices": {"cores": "0.5"}}))
    ok(call(client, "POST", f"{path}update_quotas/", owner, {"quotas": {"cores": 2}}))
    shown = ok(call(client, "GET", path, owner))
    assert (shown["prices"], shown["quotas"]) == ({"cores": "0.5"}, {"cores": 2})
    assert shown["components"] == [{"type": "cores", "name": "Cores", "measured_unit": "cores",
                                    "billing_type": "limit", "amount": 2, "price": "0.5"}]  # fmt: skip
    bad = call(client, "POST", f"{path}update_prices/", owner, {"prices": {"gpu": "1"}})
    assert bad.json == {"prices": ["Invalid components: gpu."]}
    # DRF's DictField answers by key (not "prices.cores"), and only for the bad values
    prices = {"cores": "lots", "ram": "1", "gpu": "-1"}
    bad = call(client, "POST", f"{path}update_prices/", owner, {"prices": prices})
    assert (bad.status, bad.json) == (400, {"prices": {
        "cores": ["A valid number is required."], "gpu": ["Ensure this value is greater than or equal to 0."]
    }})  # fmt: skip
    bad = call(client, "POST", f"{path}update_quotas/", owner, {"quotas": {"cores": "two"}})
    assert (bad.status, bad.json) == (400, {"quotas": {"cores": ["A valid integer is required."]}})

    assert ok(call(client, "POST", f"{path}archive/", owner)) == {"detail": "Plan has been archived."}
    assert call(client, "POST", f"{path}archive/", owner).json == ["Plan is already archived."]
    listed = ok(call(client, "GET", f"{PLANS}?offering_uuid={offering['uuid']}", owner))
    assert sorted((p["name"], p["archived"]) for p in listed) == [("Hourly", True), ("Monthly", False)]
    assert call(client, "DELETE", path, owner).status == 405
    # Another provider's plan is not there for them.
    assert call(client, "GET", path, make_account("stranger")).status == 404
    refused = call(
        client, "POST", PLANS, make_account("outsider"), {"offering": offering["url"], "name": "X"}
    )
    assert refused.json == {"offering": ["Invalid hyperlink - Object does not exist."]}


# --- service providers and categories ------------------------------------------------------------
def test_an_owner_registers_their_customer_as_a_provider_once(client, world, alice):
    customer, owner = world["provider"], world["owner"]
    created = ok(
        call(client, "POST", PROVIDERS, owner, {"customer": customer["url"], "description": "We sell"}), 201
    )
    assert (created["customer_uuid"], created["customer_name"], created["description"]) == (
        customer["uuid"], "Cloud Provider", "We sell")  # fmt: skip
    again = call(client, "POST", PROVIDERS, owner, {"customer": customer["url"]})
    assert again.json == {"customer": ["service provider with this customer already exists."]}
    assert call(client, "POST", PROVIDERS, alice, {"customer": customer["url"]}).status == 400

    # The site agent looks its provider up by customer and takes the first row (anonymous allowed).
    found = ok(call(client, "GET", f"{PROVIDERS}?customer_uuid={customer['uuid']}", None))
    assert [p["uuid"] for p in found] == [created["uuid"]]
    assert (
        ok(call(client, "GET", f"{PROVIDERS}{created['uuid']}/", alice))["customer_uuid"] == customer["uuid"]
    )
    assert ok(call(client, "GET", f"{PROVIDERS}?customer_uuid={'0' * 32}", alice)) == []


def test_categories_are_read_by_anybody_and_written_by_staff(client, world, alice):
    staff, category = world["staff"], world["category"]
    assert call(client, "POST", CATEGORIES, alice, {"title": "Mine"}).status == 403
    assert [c["title"] for c in ok(call(client, "GET", CATEGORIES, None))] == ["Compute"]
    assert [c["title"] for c in ok(call(client, "GET", f"{CATEGORIES}?name_exact=Compute", alice))] == [
        "Compute"
    ]
    path = f"{CATEGORIES}{category['uuid']}/"
    assert ok(call(client, "PATCH", path, staff, {"description": "VMs"}))["description"] == "VMs"
    assert call(client, "PATCH", path, alice, {"description": "x"}).status == 403
    create(client, world)
    assert call(client, "DELETE", path, staff).json == ["Category has offerings; move or archive them first."]
    spare = ok(call(client, "POST", CATEGORIES, staff, {"title": "Spare"}), 201)
    assert call(client, "DELETE", f"{CATEGORIES}{spare['uuid']}/", staff).status == 204
