"""/api/customers/: Waldur's behaviour for staff, support and users without roles."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import call, create_customer, create_project, feed

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes


def test_staff_creates_a_customer_with_waldurs_fields(client, staff):
    body = create_customer(client, staff, "Acme", abbreviation="ACM", email="ops@acme.test", country="EE")
    assert body["url"] == f"http://localhost/api/customers/{body['uuid']}/" or body["url"].endswith(
        f"/api/customers/{body['uuid']}/"
    )
    assert len(body["uuid"]) == 32
    assert body["created"].endswith("Z")
    assert body["projects_count"] == 0 and body["users_count"] == 0
    assert {"name": "nc_project_count", "usage": 0, "limit": -1} in body["quotas"]
    assert body["default_tax_percent"] == "0.00"
    assert body["latitude"] is None  # DRF renders an unset field as null (Waldur's schema allows it)
    assert body["accounting_start_date"] == body["created"]  # Waldur's default; never null


def test_python_waldur_clients_create_payload_is_accepted(client, staff):
    payload = {
        "abbreviation": "", "address": "", "bank_account": "", "bank_name": "", "contact_details": "",
        "country": "", "display_name": "", "domain": "", "email": "", "homepage": "", "name": "Full",
        "native_name": "", "registration_code": "", "backend_id": "", "latitude": None, "longitude": None,
        "phone_number": "", "postal": "", "vat_code": "",
    }  # fmt: skip
    reply = call(client, "POST", "/api/customers/", staff, payload)
    assert reply.status == 201, reply.json


def test_retrieve_accepts_hex_and_dashed_uuid(client, staff):
    customer = create_customer(client, staff)
    for ref in (customer["uuid"], str(uuid.UUID(customer["uuid"]))):
        reply = call(client, "GET", f"/api/customers/{ref}/", staff)
        assert reply.status == 200 and reply.json["uuid"] == customer["uuid"]


def test_users_without_roles_see_no_customers(client, staff, alice):
    customer = create_customer(client, staff)
    listing = call(client, "GET", "/api/customers/", alice)
    assert listing.status == 200 and listing.json == [] and listing.headers["X-Result-Count"] == "0"
    hidden = call(client, "GET", f"/api/customers/{customer['uuid']}/", alice)
    assert hidden.status == 404 and hidden.json == {"detail": "No Customer matches the given query."}
    assert call(client, "PATCH", f"/api/customers/{customer['uuid']}/", alice, {"name": "x"}).status == 404
    assert call(client, "DELETE", f"/api/customers/{customer['uuid']}/", alice).status == 404


def test_only_staff_create_customers(client, alice, support):
    for account in (alice, support):
        reply = call(client, "POST", "/api/customers/", account, {"name": "Nope"})
        assert reply.status == 403
        assert reply.json == {"detail": "You do not have permission to perform this action."}


def test_support_reads_everything_and_changes_nothing(client, staff, support):
    customer = create_customer(client, staff)
    assert call(client, "GET", f"/api/customers/{customer['uuid']}/", support).status == 200
    assert call(client, "GET", "/api/customers/", support).json[0]["uuid"] == customer["uuid"]
    assert call(client, "PATCH", f"/api/customers/{customer['uuid']}/", support, {"name": "x"}).status == 403


def test_patch_changes_only_named_fields_and_put_requires_name(client, staff):
    customer = create_customer(client, staff, "Acme", email="a@acme.test")
    reply = call(client, "PATCH", f"/api/customers/{customer['uuid']}/", staff, {"phone_number": "123"})
    assert reply.status == 200
    assert reply.json["phone_number"] == "123" and reply.json["email"] == "a@acme.test"
    put = call(client, "PUT", f"/api/customers/{customer['uuid']}/", staff, {"email": "b@acme.test"})
    assert put.status == 400 and put.json == {"name": ["This field is required."]}


def test_delete_refused_while_projects_exist(client, staff):
    customer = create_customer(client, staff)
    project = create_project(client, staff, customer)
    reply = call(client, "DELETE", f"/api/customers/{customer['uuid']}/", staff)
    assert reply.status == 409
    assert call(client, "GET", f"/api/customers/{customer['uuid']}/", staff).status == 200
    assert call(client, "DELETE", f"/api/projects/{project['uuid']}/", staff).status == 204
    assert call(client, "DELETE", f"/api/customers/{customer['uuid']}/", staff).status == 204
    assert call(client, "GET", f"/api/customers/{customer['uuid']}/", staff).status == 404
    assert call(client, "GET", "/api/customers/", staff).headers["X-Result-Count"] == "0"


@pytest.fixture
def three(client, staff):
    return [create_customer(client, staff, name) for name in ("Charlie", "alpha", "Bravo")]


def names(reply):
    return [c["name"] for c in reply.json]


def test_filters_name_name_exact_and_query(client, staff, three):
    assert names(call(client, "GET", "/api/customers/?name=rav", staff)) == ["Bravo"]
    assert names(call(client, "GET", "/api/customers/?name_exact=alpha", staff)) == ["alpha"]
    assert call(client, "GET", "/api/customers/?name_exact=Alpha", staff).json == []
    assert names(call(client, "GET", "/api/customers/?query=CHAR", staff)) == ["Charlie"]


def test_ordering_by_name_and_created(client, staff, three):
    assert names(call(client, "GET", "/api/customers/", staff)) == ["Bravo", "Charlie", "alpha"]
    assert names(call(client, "GET", "/api/customers/?o=-name", staff)) == ["alpha", "Charlie", "Bravo"]
    assert names(call(client, "GET", "/api/customers/?o=created", staff)) == ["Charlie", "alpha", "Bravo"]
    assert names(call(client, "GET", "/api/customers/?o=-created", staff)) == ["Bravo", "alpha", "Charlie"]


def test_an_exact_name_keeps_the_order_asked_for(client, staff):
    first, second = create_customer(client, staff, "Same"), create_customer(client, staff, "Same")

    def listed(order: str) -> list[str]:
        return [
            c["uuid"] for c in call(client, "GET", f"/api/customers/?name_exact=Same&o={order}", staff).json
        ]

    assert listed("created") == listed("name") == [first["uuid"], second["uuid"]]
    assert listed("-created") == listed("-name") == [second["uuid"], first["uuid"]]


def test_pagination_headers_follow_waldurs_format(client, staff, three, settle):
    settle()  # the total is counted from the stream
    first = call(client, "GET", "/api/customers/?page_size=1", staff)
    assert first.headers["X-Result-Count"] == "3"
    base = "http://localhost/api/customers/?page_size=1&page="
    link = first.headers["Link"].replace("http://127.0.0.1", "http://localhost")
    assert link == f'<{base}1>; rel="first", <{base}2>; rel="next", <{base}3>; rel="last"'
    middle = call(client, "GET", "/api/customers/?page_size=1&page=2", staff).headers["Link"]
    assert [part.split("; ")[1] for part in middle.split(", ")] == [
        'rel="first"', 'rel="prev"', 'rel="next"', 'rel="last"',
    ]  # fmt: skip
    last = call(client, "GET", "/api/customers/?page_size=1&page=3", staff)
    assert 'rel="next"' not in last.headers["Link"] and len(last.json) == 1
    beyond = call(client, "GET", "/api/customers/?page_size=1&page=4", staff)
    assert beyond.status == 404 and beyond.json == {"detail": "Invalid page."}


def test_pages_cover_every_customer_exactly_once(client, staff, three):
    seen = []
    for page in (1, 2, 3):
        seen += names(call(client, "GET", f"/api/customers/?page_size=1&page={page}&o=created", staff))
    assert seen == ["Charlie", "alpha", "Bravo"]


def test_links_keep_the_filters(client, staff, three):
    reply = call(client, "GET", "/api/customers/?page_size=1&name=a", staff)
    assert "name=a" in reply.headers["Link"]


def test_head_answers_with_headers_only(client, staff, three):
    reply = call(client, "HEAD", "/api/customers/", staff)
    assert reply.status == 200 and reply.raw in (b"", "")
    assert reply.headers["X-Result-Count"] == "3"


def test_sparse_fields(client, staff, three):
    reply = call(client, "GET", "/api/customers/?field=uuid&field=name", staff)
    assert all(set(c) == {"uuid", "name"} for c in reply.json)


def test_each_change_writes_its_audit_event_in_the_same_transaction(client, staff):
    customer = create_customer(client, staff, "Audited")
    call(client, "PATCH", f"/api/customers/{customer['uuid']}/", staff, {"name": "Audited 2"})
    call(client, "DELETE", f"/api/customers/{customer['uuid']}/", staff)
    events = feed("customer", customer["uuid"])
    assert [e.event_type for e in events] == [
        "customer_creation_succeeded", "customer_update_succeeded", "customer_deletion_succeeded",
    ]  # fmt: skip
    assert events[0].context["user_uuid"] == staff.id
    assert events[1].context["customer_name"] == "Audited 2"


@pytest.mark.moto
def test_rename_reaches_every_project_in_batches(client, staff, monkeypatch):
    from chalicelib.store import projects as project_store

    customer = create_customer(client, staff, "Big")
    for i in range(3):
        create_project(client, staff, customer, f"p{i}")
    monkeypatch.setattr(project_store, "MAX_ITEMS", 2)  # two transactions: 2 + 1 projects
    assert project_store.follow_customer_rename(customer["uuid"], "Bigger", "B", "", 2) == 3
    listed = call(client, "GET", f"/api/projects/?customer={customer['uuid']}", staff).json
    assert [p["customer_name"] for p in listed] == ["Bigger"] * 3


@pytest.mark.moto
def test_rename_skips_a_project_removed_meanwhile_without_resurrecting_it(client, staff):
    from chalicelib.store import keys
    from chalicelib.store import projects as project_store
    from chalicelib.store.items import ProjectItem

    customer = create_customer(client, staff, "Racy")
    project = create_project(client, staff, customer)
    live = (keys.customer_pk(customer["uuid"]), keys.project_sk(project["uuid"]))
    gone = (keys.customer_pk(customer["uuid"]), keys.project_sk("f" * 32))
    actions = [ProjectItem.customer_name.set("Renamed")]
    assert project_store._update_all([gone, live], actions) == 1
    assert ProjectItem.count(gone[0], ProjectItem.sk == gone[1]) == 0
    assert call(client, "GET", f"/api/projects/{project['uuid']}/", staff).json["customer_name"] == "Renamed"
