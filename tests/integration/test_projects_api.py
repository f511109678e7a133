"""/api/projects/: creation by hyperlink, updates, soft deletion, quotas, filters."""

from __future__ import annotations

import pytest

from chalicelib.store import keys
from chalicelib.store.items import BaseItem, CustomerItem, ProjectItem
from tests.helpers import call, create_customer, create_project

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes


def test_create_by_hyperlink_or_uuid_and_flattened_customer_fields(client, staff):
    customer = create_customer(client, staff, "Acme", abbreviation="ACM")
    project = create_project(client, staff, customer, "Apollo", description="moonshot")
    assert project["customer"] == customer["url"]
    assert project["customer_uuid"] == customer["uuid"]
    assert project["customer_name"] == "Acme" and project["customer_abbreviation"] == "ACM"
    assert project["resources_count"] == 0 and project["is_removed"] is False
    by_uuid = call(client, "POST", "/api/projects/", staff, {"name": "Gemini", "customer": customer["uuid"]})
    assert by_uuid.status == 201
    assert call(client, "GET", f"/api/customers/{customer['uuid']}/", staff).json["projects_count"] == 2


def test_unknown_or_invisible_customer_is_an_invalid_hyperlink(client, staff, alice):
    customer = create_customer(client, staff)
    for account, ref in ((staff, "http://x/api/customers/" + "0" * 32 + "/"), (alice, customer["url"])):
        reply = call(client, "POST", "/api/projects/", account, {"name": "P", "customer": ref})
        assert reply.status == 400
        assert reply.json == {"customer": ["Invalid hyperlink - Object does not exist."]}


def test_patch_with_null_type_as_python_waldur_client_sends_it(client, staff):
    project = create_project(client, staff, create_customer(client, staff))
    reply = call(client, "PATCH", f"/api/projects/{project['uuid']}/", staff,
                 {"name": "Renamed", "description": "d", "type": None})  # fmt: skip
    assert reply.status == 200
    assert reply.json["name"] == "Renamed" and reply.json["description"] == "d"


def test_a_project_cannot_move_to_another_customer(client, staff):
    first, second = create_customer(client, staff, "A"), create_customer(client, staff, "B")
    project = create_project(client, staff, first)
    reply = call(
        client, "PUT", f"/api/projects/{project['uuid']}/", staff, {"name": "X", "customer": second["url"]}
    )
    assert reply.status == 400
    assert call(client, "GET", f"/api/projects/{project['uuid']}/", staff).json["name"] == project["name"]


def test_end_date_before_start_date_is_refused(client, staff):
    customer = create_customer(client, staff)
    body = {"name": "P", "customer": customer["url"], "start_date": "2026-05-01", "end_date": "2026-04-01"}
    reply = call(client, "POST", "/api/projects/", staff, body)
    assert reply.status == 400 and "end_date" in reply.json


@pytest.mark.moto
def test_deletion_is_soft(client, staff):
    customer = create_customer(client, staff)
    project = create_project(client, staff, customer)
    assert call(client, "DELETE", f"/api/projects/{project['uuid']}/", staff).status == 204
    assert call(client, "GET", f"/api/projects/{project['uuid']}/", staff).status == 404
    assert call(client, "GET", "/api/projects/", staff).json == []
    assert call(client, "GET", f"/api/customers/{customer['uuid']}/", staff).json["projects_count"] == 0
    kept = list(BaseItem.query(keys.customer_pk(customer["uuid"]), BaseItem.sk.startswith("RMPROJ#")))
    assert len(kept) == 1 and kept[0].removed is not None and kept[0].name == project["name"]


@pytest.mark.moto
def test_delete_refused_while_the_project_holds_resources(client, staff):
    project = create_project(client, staff, create_customer(client, staff))
    item = ProjectItem.get(keys.customer_pk(project["customer_uuid"]), keys.project_sk(project["uuid"]))
    item.update(actions=[ProjectItem.quota_usage["nc_resource_count"].set(1)])
    reply = call(client, "DELETE", f"/api/projects/{project['uuid']}/", staff)
    assert reply.status == 409
    assert call(client, "GET", f"/api/projects/{project['uuid']}/", staff).status == 200


@pytest.mark.moto
def test_project_count_quota_is_enforced_atomically(client, staff):
    customer = create_customer(client, staff)
    item = CustomerItem.get(keys.customer_pk(customer["uuid"]), keys.META)
    item.update(actions=[CustomerItem.quota_limits["nc_project_count"].set(1)])
    create_project(client, staff, customer, "First")
    reply = call(client, "POST", "/api/projects/", staff, {"name": "Second", "customer": customer["url"]})
    assert reply.status == 400
    assert reply.json == ["One or more quotas were exceeded: nc_project_count quota limit: 1, requires 2"]
    assert [p["name"] for p in call(client, "GET", "/api/projects/", staff).json] == ["First"]


def test_filters_by_customer_name_and_query(client, staff):
    acme, globex = create_customer(client, staff, "Acme"), create_customer(client, staff, "Globex")
    create_project(client, staff, acme, "Apollo")
    create_project(client, staff, acme, "Artemis", description="lunar")
    create_project(client, staff, globex, "Hydra")

    def names(query):
        reply = call(client, "GET", f"/api/projects/?{query}", staff)
        assert reply.status == 200, reply.json
        return sorted(p["name"] for p in reply.json)

    assert names(f"customer={acme['uuid']}") == ["Apollo", "Artemis"]
    assert names(f"customer_uuid={globex['uuid']}") == ["Hydra"]
    assert names(f"customer={acme['uuid']},{globex['uuid']}") == ["Apollo", "Artemis", "Hydra"]
    assert names("name_exact=Apollo") == ["Apollo"]
    assert names("name=art") == ["Artemis"]
    assert names("query=lunar") == ["Artemis"]
    assert names("customer_name=glob") == ["Hydra"]


def test_default_order_is_newest_first_and_o_name_sorts(client, staff):
    customer = create_customer(client, staff)
    for name in ("b", "c", "a"):
        create_project(client, staff, customer, name)
    assert [p["name"] for p in call(client, "GET", "/api/projects/", staff).json] == ["a", "c", "b"]
    assert [p["name"] for p in call(client, "GET", "/api/projects/?o=name", staff).json] == ["a", "b", "c"]
    assert [p["name"] for p in call(client, "GET", "/api/projects/?o=created", staff).json] == ["b", "c", "a"]


def test_users_without_roles_see_no_projects(client, staff, alice):
    project = create_project(client, staff, create_customer(client, staff))
    assert call(client, "GET", "/api/projects/", alice).json == []
    assert call(client, "GET", f"/api/projects/{project['uuid']}/", alice).status == 404
