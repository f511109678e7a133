"""What a tenant's own people may not change or read, over HTTP with real roles (issue 13, findings
2, 3, 4 and 18): a customer's staff-only fields, a blocked or archived customer, a user's civil
number and email, an offering's secret options, the bound on token lifetimes, a project's end date
and an order's traceback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Account, make_account
from tests.helpers import call
from tests.integration.test_marketplace_orders_api import body
from tests.marketplace_helpers import make_offering

ORDERS = "/api/marketplace-orders/"
BLOCKED = ["Blocked organization is not available."]
ARCHIVED = ["Archived organization is not available."]
SECRETS = {"api_token": "provider-secret-token"}


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


def get(client: Any, account: Account | None, path: str) -> Any:
    reply = call(client, "GET", path, account)
    assert reply.status == 200, (path, reply.status, reply.json)
    return reply.json


def grant(client: Any, staff: Account, collection: str, scope_id: str, user: Account, role: str) -> None:
    reply = call(
        client, "POST", f"/api/{collection}/{scope_id}/add_user/", staff, {"user": user.id, "role": role}
    )
    assert reply.status == 201, reply.json


# --- finding 2: a customer's staff-only fields --------------------------------------------------------
STAFF_ONLY = {
    "default_tax_percent": "0",
    "accounting_start_date": "2030-01-01T00:00:00Z",
    "blocked": True,
    "archived": True,
    "domain": "attacker.example",
}


@pytest.mark.parametrize("name", sorted(STAFF_ONLY))
def test_an_owner_cannot_change_a_staff_only_customer_field(client, market, name):
    path = f"/api/customers/{market.consumer.id}/"
    assert call(client, "PATCH", path, market.staff, {"default_tax_percent": "20"}).status == 200
    before = get(client, market.staff, path)

    reply = call(client, "PATCH", path, market.owner, {name: STAFF_ONLY[name], "name": "Renamed"})

    assert reply.status == 403, reply.json
    assert reply.json == {"detail": f"Only staff can change {name}."}
    after = get(client, market.staff, path)
    assert after == before  # nothing of the request was applied, the name neither
    assert after["default_tax_percent"] == "20.00"


def test_an_owner_may_send_the_current_values_back_and_change_the_rest(client, market):
    """A client that PUTs the whole object it read still works: an unchanged value is no change."""
    path = f"/api/customers/{market.consumer.id}/"
    call(client, "PATCH", path, market.staff, {"default_tax_percent": "20", "domain": "acme.example"})
    current = get(client, market.owner, path)
    sent = {k: current[k] for k in ("name", "default_tax_percent", "blocked", "archived", "domain")}

    reply = call(client, "PUT", path, market.owner, {**sent, "name": "Acme Renamed"})

    assert reply.status == 200, reply.json
    assert reply.json["name"] == "Acme Renamed" and reply.json["default_tax_percent"] == "20.00"


def test_staff_change_every_staff_only_field(client, market):
    path = f"/api/customers/{market.consumer.id}/"
    reply = call(client, "PATCH", path, market.staff, {**STAFF_ONLY, "default_tax_percent": "7.5"})

    assert reply.status == 200, reply.json
    body = reply.json
    assert body["default_tax_percent"] == "7.50" and body["domain"] == "attacker.example"
    assert body["blocked"] is True and body["archived"] is True
    assert body["accounting_start_date"].startswith("2030-01-01")


def test_the_next_invoice_keeps_the_tax_staff_set(client, market):
    path = f"/api/customers/{market.consumer.id}/"
    assert call(client, "PATCH", path, market.staff, {"default_tax_percent": "20"}).status == 200
    assert call(client, "PATCH", path, market.owner, {"default_tax_percent": "0"}).status == 403

    order = call(client, "POST", ORDERS, market.owner, body(market)).json
    for action in ("approve_by_provider", "set_state_done"):
        done = call(client, "POST", f"{ORDERS}{order['uuid']}/{action}/", market.seller)
        assert done.status == 200, (action, done.json)

    [invoice] = get(client, market.owner, f"/api/invoices/?customer_uuid={market.consumer.id}")
    assert float(invoice["price"]) > 0
    assert float(invoice["tax"]) == pytest.approx(float(invoice["price"]) * 0.2, abs=0.01)


# --- finding 2: a blocked or archived customer ---------------------------------------------------------
@pytest.mark.parametrize(("lock", "message"), [("blocked", BLOCKED), ("archived", ARCHIVED)])
def test_a_locked_customer_orders_nothing_and_makes_no_projects(client, market, lock, message):
    path = f"/api/customers/{market.consumer.id}/"
    assert call(client, "PATCH", path, market.staff, {lock: True}).status == 200
    before = get(client, market.staff, f"/api/projects/{market.project.id}/")

    ordered = call(client, "POST", ORDERS, market.owner, body(market))
    project = call(client, "POST", "/api/projects/", market.owner, {"name": "New", "customer": path})
    renamed = call(client, "PATCH", path, market.owner, {"name": "Still mine?"})
    described = call(
        client, "PATCH", f"/api/projects/{market.project.id}/", market.owner, {"description": "x"}
    )

    assert (ordered.status, ordered.json) == (400, message)
    assert (project.status, project.json) == (400, message)
    assert (renamed.status, renamed.json) == (400, message)
    assert (described.status, described.json) == (400, message)
    assert get(client, market.staff, f"/api/projects/{market.project.id}/") == before  # no resource counted
    assert get(client, market.staff, f"{ORDERS}?customer_uuid={market.consumer.id}") == []

    assert call(client, "PATCH", path, market.staff, {lock: False}).status == 200  # staff lift the lock
    assert call(client, "POST", ORDERS, market.owner, body(market)).status == 201


def test_a_pending_order_of_a_customer_blocked_meanwhile_is_not_approved(client, market):
    order = call(client, "POST", ORDERS, market.member, body(market)).json
    assert order["state"] == "pending-consumer"
    call(client, "PATCH", f"/api/customers/{market.consumer.id}/", market.staff, {"blocked": True})

    approved = call(client, "POST", f"{ORDERS}{order['uuid']}/approve_by_consumer/", market.owner)
    rejected = call(client, "POST", f"{ORDERS}{order['uuid']}/reject_by_consumer/", market.owner)

    assert (approved.status, approved.json) == (400, BLOCKED)
    assert rejected.status == 200  # winding down stays open


# --- findings 3 and 2 (audit): a user's own record ---------------------------------------------------
@pytest.mark.parametrize(
    ("name", "value"),
    [("civil_number", "EE-123"), ("email", "someone-else@example.org"), ("description", "x")],
)
def test_a_user_cannot_change_their_own_identity_fields(client, staff, alice, name, value):
    path = f"/api/users/{alice.id}/"
    before = get(client, staff, path)

    mine = call(client, "PATCH", path, alice, {name: value})
    by_staff = call(client, "PATCH", path, staff, {name: value})

    assert (mine.status, mine.json) == (403, {"detail": f"Only staff can change {name}."})
    assert by_staff.status == 200 and by_staff.json[name] == value
    assert before[name] != value


def test_a_civil_number_copied_into_ones_profile_does_not_open_an_invitation(client, market):
    """The invitation's civil-number binding holds: the invitee cannot give themselves the number."""
    body = {
        "scope": f"http://testserver/api/projects/{market.project.id}/",
        "role": "PROJECT.ADMIN",
        "email": "intruder@example.org",
        "civil_number": "EE-123",
    }
    invitation = call(client, "POST", "/api/user-invitations/", market.owner, body)
    assert invitation.status == 201, invitation.json
    intruder = make_account("intruder", email="intruder@example.org")

    copied = call(client, "PATCH", f"/api/users/{intruder.id}/", intruder, {"civil_number": "EE-123"})
    accepted = call(client, "POST", f"/api/user-invitations/{invitation.json['uuid']}/accept/", intruder)

    assert copied.status == 403
    assert accepted.status in (400, 403, 404), accepted.json  # refused, however the binding says it
    roles = get(client, market.staff, f"/api/user-permissions/?user={intruder.id}")
    assert roles == []


# --- finding 4: an offering's secret options --------------------------------------------------------
@pytest.fixture
def secret_offering(client, market):
    offering = make_offering(market.staff, market.provider.id, name="Secretive", secret_options=SECRETS)
    return offering


def _provider_view(client, account, offering_id):
    one = call(client, "GET", f"/api/marketplace-provider-offerings/{offering_id}/", account)
    listed = call(client, "GET", "/api/marketplace-provider-offerings/?page_size=50", account)
    rows = [o for o in listed.json or [] if o.get("uuid") == offering_id] if listed.status == 200 else []
    return one, rows


@pytest.mark.parametrize("role", ["CUSTOMER.SUPPORT", None])
def test_the_providers_readers_do_not_see_secret_options(client, market, secret_offering, role):
    reader = make_account("reader")
    if role:
        grant(client, market.staff, "customers", market.provider.id, reader, role)
    else:  # global support: reads everything, sets nothing
        reader = make_account("global-support", is_support=True)

    one, rows = _provider_view(client, reader, secret_offering.id)

    assert one.status == 200 and len(rows) == 1
    for shown in (one.json, rows[0]):
        assert "secret_options" not in shown and "service_attributes" not in shown
        assert shown["can_update_integration"] is False
        assert SECRETS["api_token"] not in str(shown)


@pytest.mark.parametrize("who", ["staff", "seller", "CUSTOMER.MANAGER", "OFFERING.MANAGER"])
def test_who_may_set_secret_options_sees_them(client, market, secret_offering, who):
    account = getattr(market, who, None)
    if account is None:
        account = make_account("manager")
        collection, scope_id = (
            ("customers", market.provider.id)
            if who.startswith("CUSTOMER")
            else ("marketplace-provider-offerings", secret_offering.id)
        )
        grant(client, market.staff, collection, scope_id, account, who)

    one, rows = _provider_view(client, account, secret_offering.id)

    assert one.status == 200 and one.json["secret_options"] == SECRETS
    assert one.json["can_update_integration"] is True
    assert rows and rows[0]["secret_options"] == SECRETS


def test_consumers_and_anonymous_callers_never_see_secret_options(client, market, secret_offering):
    path = f"/api/marketplace-public-offerings/{secret_offering.id}/"
    manager = make_account("project-manager")
    grant(client, market.staff, "projects", market.project.id, manager, "PROJECT.MANAGER")

    for account in (market.owner, market.member, manager, None):
        assert SECRETS["api_token"] not in str(get(client, account, path))
        assert SECRETS["api_token"] not in str(get(client, account, "/api/marketplace-public-offerings/"))
        provider_view = call(
            client, "GET", f"/api/marketplace-provider-offerings/{secret_offering.id}/", account
        )
        assert provider_view.status in (401, 404)
    order = call(client, "POST", ORDERS, market.owner, body(market, of=secret_offering))
    assert order.status == 201 and SECRETS["api_token"] not in str(order.json)
    resource = get(
        client, market.owner, f"/api/marketplace-resources/{order.json['marketplace_resource_uuid']}/"
    )
    assert SECRETS["api_token"] not in str(resource)


# --- finding 18: token lifetimes ----------------------------------------------------------------------
@pytest.fixture
def bounded(monkeypatch) -> Iterator[None]:
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_MAX_TOKEN_LIFETIME", "7200")
    reset_settings()
    yield
    monkeypatch.delenv("CIRRUS_MAX_TOKEN_LIFETIME")
    reset_settings()


def test_a_user_stays_within_the_operators_token_lifetime_bound(client, staff, alice, bounded):
    path = f"/api/users/{alice.id}/"

    forever = call(client, "PATCH", path, alice, {"token_lifetime": None})
    too_long = call(client, "PATCH", path, alice, {"token_lifetime": 7201})
    within = call(client, "PATCH", path, alice, {"token_lifetime": 7200})
    by_staff = call(client, "PATCH", path, staff, {"token_lifetime": None})

    assert forever.status == 400 and list(forever.json) == ["token_lifetime"], forever.json
    assert "never expire" in forever.json["token_lifetime"][0]
    assert (too_long.status, too_long.json) == (
        400,
        {"token_lifetime": ["Ensure this value is less than or equal to 7200."]},
    )
    assert within.status == 200 and within.json["token_lifetime"] == 7200
    assert by_staff.status == 200 and by_staff.json.get("token_lifetime") is None
    # What staff set may be sent back unchanged (a whole-object PUT still works).
    assert call(client, "PATCH", path, alice, {"token_lifetime": None, "full_name": "A"}).status == 200


def test_without_a_bound_tokens_may_never_expire_as_in_waldur(client, alice):
    reply = call(client, "PATCH", f"/api/users/{alice.id}/", alice, {"token_lifetime": None})
    assert reply.status == 200 and reply.json.get("token_lifetime") is None


# --- audit: a project's end date, an order's traceback ----------------------------------------------
def test_only_who_may_delete_a_project_sets_its_end_date(client, market):
    manager = make_account("project-manager")
    grant(client, market.staff, "projects", market.project.id, manager, "PROJECT.MANAGER")
    path = f"/api/projects/{market.project.id}/"

    by_manager = call(client, "PATCH", path, manager, {"end_date": "2099-01-01"})
    renamed = call(client, "PATCH", path, manager, {"description": "still theirs to describe"})
    by_owner = call(client, "PATCH", path, market.owner, {"end_date": "2099-01-01"})

    assert by_manager.status == 403
    assert renamed.status == 200
    assert by_owner.status == 200 and by_owner.json["end_date"] == "2099-01-01"


def test_an_orders_traceback_is_for_staff_and_support(client, market, support):
    order = call(client, "POST", ORDERS, market.owner, body(market)).json
    path = f"{ORDERS}{order['uuid']}/"
    assert call(client, "POST", f"{path}approve_by_provider/", market.seller).status == 200
    erred = {"error_message": "quota exhausted", "error_traceback": "Traceback: /srv/agent/secret.py"}
    assert call(client, "POST", f"{path}set_state_erred/", market.seller, erred).status == 200

    for account in (market.owner, market.seller):
        shown = get(client, account, path)
        assert shown["error_message"] == "quota exhausted" and "error_traceback" not in shown
    assert get(client, market.staff, path)["error_traceback"] == erred["error_traceback"]
    assert get(client, support, path)["error_traceback"] == erred["error_traceback"]
