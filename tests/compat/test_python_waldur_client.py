"""python-waldur-client (what Waldur's Ansible modules use) against Cirrus over HTTP, unchanged."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
import requests
from waldur_client import ObjectDoesNotExist, WaldurClient, WaldurClientException

pytestmark = pytest.mark.compat

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def test_customer_create_and_lookup_by_name_and_uuid(waldur, server):
    created = waldur.create_customer(name="Acme")  # ~19 fields: empty strings, null latitude/longitude
    assert created["name"] == "Acme"
    assert HEX32.match(created["uuid"])
    assert created["url"] == f"{server.url}/api/customers/{created['uuid']}/"
    assert created["latitude"] is None and created["longitude"] is None  # as DRF renders them

    by_name = waldur.get_customer("Acme")  # ?name_exact=Acme, exactly one row expected
    assert by_name["uuid"] == created["uuid"]
    by_uuid = waldur.get_customer(created["uuid"])  # /api/customers/<uuid>/
    assert by_uuid["name"] == "Acme"
    assert by_uuid["url"] == created["url"]
    dashed = str(UUID(created["uuid"]))
    assert waldur.get_customer(dashed)["uuid"] == created["uuid"]

    two = waldur.create_customer(name="Acme & Co, Ltd+Søn")  # name_exact must not match this one
    assert waldur.get_customer("Acme")["uuid"] == created["uuid"]
    assert waldur.get_customer("Acme & Co, Ltd+Søn")["uuid"] == two["uuid"]  # query string decoding
    with pytest.raises(ObjectDoesNotExist):
        waldur.get_customer("Nobody")


def test_project_lifecycle(waldur, server):
    customer = waldur.create_customer(name="Acme")
    project = waldur.create_project(customer["uuid"], "Apollo", description="Moon shot")
    assert project["name"] == "Apollo"
    assert project["description"] == "Moon shot"
    assert project["customer"] == customer["url"]  # the client sent it as an absolute hyperlink
    assert project["customer_uuid"] == customer["uuid"]
    assert project["customer_name"] == "Acme"
    assert HEX32.match(project["uuid"])

    updated = waldur.update_project(project["uuid"], name="Artemis", description="Back again")  # "type": null
    assert updated["uuid"] == project["uuid"]
    assert updated["name"] == "Artemis"
    assert updated["description"] == "Back again"

    listed = waldur.list_projects({"customer": customer["uuid"]})
    assert [p["uuid"] for p in listed] == [project["uuid"]]
    assert listed[0]["name"] == "Artemis"
    assert waldur.list_projects({"name_exact": "Apollo"}) == []
    assert waldur.count_projects() == 1

    waldur.delete_project(project["uuid"])
    assert waldur.list_projects({"customer": customer["uuid"]}) == []
    assert waldur.count_projects() == 0
    with pytest.raises(WaldurClientException, match="404"):
        waldur._get_project(project["uuid"])  # soft-deleted: gone from the API


def test_list_customers_follows_link_header_through_every_page(waldur):
    names = ["Alpha", "Bravo", "Charlie"]
    uuids = {waldur.create_customer(name=name)["uuid"] for name in names}

    # page_size=1: page 1 has (first, next, last), page 2 (first, prev, next, last), page 3 no next.
    customers = waldur.list_customers({"page_size": 1})
    assert len(customers) == 3
    assert {c["uuid"] for c in customers} == uuids
    assert sorted(c["name"] for c in customers) == names

    # Next links keep the filters, encoded so that the client's split on ", " still works.
    for i in (1, 2, 3):
        waldur.create_customer(name=f"Big, Co {i}")
    big = waldur.list_customers({"page_size": 1, "name": "big, co"})
    assert sorted(c["name"] for c in big) == ["Big, Co 1", "Big, Co 2", "Big, Co 3"]


def test_link_header_has_the_layout_the_client_indexes_into(waldur, server, admin, settle):
    for name in ("Alpha", "Bravo", "Charlie"):
        waldur.create_customer(name=name)
    settle()  # the total is counted from the stream
    reply = requests.get(
        f"{server.url}/api/customers/",
        params={"page_size": 1, "page": 2, "o": "name"},
        headers={"Authorization": f"token {admin.token}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert reply.status_code == 200
    assert [c["name"] for c in reply.json()] == ["Bravo"]
    assert reply.headers["X-Result-Count"] == "3"
    base = f"{server.url}/api/customers/?page_size=1&o=name&page="
    assert reply.headers["Link"] == (
        f'<{base}1>; rel="first", <{base}1>; rel="prev", <{base}3>; rel="next", <{base}3>; rel="last"'
    )


def test_counts_with_head(waldur):
    assert waldur.count_customers() == 0
    assert waldur.count_projects() == 0
    first = waldur.create_customer(name="One")
    waldur.create_customer(name="Two")
    waldur.create_project(first["uuid"], "P1")
    assert waldur.count_customers() == 2
    assert waldur.count_projects() == 1


def test_current_user(waldur, admin):
    me = waldur.get_current_user()
    assert me["username"] == admin.username
    assert me["uuid"] == admin.id
    assert me["is_staff"] is True
    assert me["full_name"] == "Admin Person"


def test_wrong_token_is_refused(server):
    stranger = WaldurClient(f"{server.url}/api/", "0" * 40)
    with pytest.raises(WaldurClientException, match="401"):
        stranger.get_current_user()
    with pytest.raises(WaldurClientException, match="401"):
        stranger.list_customers()
    with pytest.raises(WaldurClientException, match="401"):
        stranger.create_customer(name="Nope")


def test_wrong_token_answers_in_drfs_shape(server):
    reply = requests.get(
        f"{server.url}/api/users/me/", headers={"Authorization": "token " + "0" * 40}, timeout=10
    )
    assert reply.status_code == 401
    assert reply.json() == {"detail": "Invalid token."}
    anonymous = requests.get(f"{server.url}/api/customers/", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
