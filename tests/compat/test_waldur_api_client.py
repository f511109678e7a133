"""waldur-api-client (generated from Waldur's OpenAPI schema) against Cirrus over HTTP. Its models
parse every present key strictly (UUID, datetime, enum), so `.parsed` being the model proves the
wire format."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from urllib.parse import parse_qs, urlparse
from uuid import UUID

import pytest
from waldur_api_client import AuthenticatedClient
from waldur_api_client.api.customers import customers_create, customers_list, customers_retrieve
from waldur_api_client.api.projects import (
    projects_create,
    projects_destroy,
    projects_list,
    projects_partial_update,
    projects_retrieve,
)
from waldur_api_client.api.users import users_me_retrieve
from waldur_api_client.errors import UnexpectedStatus
from waldur_api_client.models.country_enum import CountryEnum
from waldur_api_client.models.customer import Customer
from waldur_api_client.models.customer_field_enum import CustomerFieldEnum
from waldur_api_client.models.customer_request import CustomerRequest
from waldur_api_client.models.patched_project_request import PatchedProjectRequest
from waldur_api_client.models.project import Project
from waldur_api_client.models.project_request import ProjectRequest
from waldur_api_client.models.user_me import UserMe
from waldur_api_client.types import UNSET
from waldur_api_client.utils import parse_link_header

pytestmark = pytest.mark.compat


def _create_customer(api, name: str, **fields) -> Customer:
    response = customers_create.sync_detailed(client=api, body=CustomerRequest(name=name, **fields))
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert isinstance(response.parsed, Customer)
    return response.parsed


def _create_project(api, customer: Customer, name: str, **fields) -> Project:
    body = ProjectRequest(name=name, customer=customer.url, **fields)
    response = projects_create.sync_detailed(client=api, body=body)
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert isinstance(response.parsed, Project)
    return response.parsed


def _quotas(model) -> dict[str, tuple[int, int]]:
    """Quotas are not in the generated models: they land in `additional_properties`."""
    return {q["name"]: (q["usage"], q["limit"]) for q in model["quotas"]}


def test_customers_list_parses_strictly(api, server):
    created = _create_customer(api, "Acme", abbreviation="ACM", email="ops@acme.test", country=CountryEnum.EE)

    response = customers_list.sync_detailed(client=api)
    assert response.status_code == HTTPStatus.OK
    assert response.headers["X-Result-Count"] == "1"
    customers = response.parsed
    assert isinstance(customers, list) and len(customers) == 1
    customer = customers[0]
    assert isinstance(customer, Customer)
    assert isinstance(customer.uuid, UUID)
    assert customer.uuid == created.uuid
    assert customer.url == f"{server.url}/api/customers/{customer.uuid.hex}/"
    assert isinstance(customer.created, datetime.datetime)
    assert customer.created.tzinfo is not None
    assert abs(datetime.datetime.now(datetime.UTC) - customer.created) < datetime.timedelta(minutes=5)
    assert customer.name == "Acme"
    assert customer.abbreviation == "ACM"
    assert customer.email == "ops@acme.test"
    assert customer.country == CountryEnum.EE
    assert customer.projects_count == 0
    assert customer.users_count == 0
    assert customer.blocked is False and customer.archived is False
    assert customer.latitude is None  # null, as DRF renders it
    assert customer.accounting_start_date == customer.created  # Waldur's default
    assert _quotas(customer) == {
        "nc_project_count": (0, -1),
        "nc_user_count": (0, -1),
        "nc_resource_count": (0, -1),
    }


def test_customers_list_filters_and_pages(api, settle):
    for name in ("Alpha", "Bravo", "Charlie"):
        _create_customer(api, name)
    settle()  # the total is counted from the stream

    exact = customers_list.sync_detailed(client=api, name_exact="Bravo")
    assert [c.name for c in exact.parsed] == ["Bravo"]

    # Walk the pages the way the client's sync_all does: the page number comes from rel="next".
    seen, page = [], 1
    while True:
        response = customers_list.sync_detailed(client=api, page=page, page_size=1, o="name")
        assert response.status_code == HTTPStatus.OK
        assert response.headers["X-Result-Count"] == "3"
        seen += [c.name for c in response.parsed]
        links = parse_link_header(response.headers["Link"])
        assert set(links) >= {"first", "last"}
        if "next" not in links:
            break
        page = int(parse_qs(urlparse(links["next"]).query)["page"][0])
    assert seen == ["Alpha", "Bravo", "Charlie"]

    assert sorted(c.name for c in customers_list.sync_all(client=api)) == ["Alpha", "Bravo", "Charlie"]

    sparse = customers_list.sync_detailed(
        client=api, name_exact="Alpha", field=[CustomerFieldEnum.UUID, CustomerFieldEnum.NAME]
    )
    (alpha,) = sparse.parsed
    assert isinstance(alpha.uuid, UUID) and alpha.name == "Alpha"
    assert alpha.url is UNSET and alpha.created is UNSET and alpha.additional_properties == {}


def test_customers_retrieve_with_dashed_uuid(api):
    created = _create_customer(api, "Acme")
    response = customers_retrieve.sync_detailed(uuid=created.uuid, client=api)  # sent as str(UUID): dashed
    assert response.status_code == HTTPStatus.OK
    customer = response.parsed
    assert isinstance(customer, Customer)
    assert customer.uuid == created.uuid
    assert customer.name == "Acme"
    assert isinstance(customer.created, datetime.datetime)

    with pytest.raises(UnexpectedStatus) as missing:
        customers_retrieve.sync_detailed(uuid=UUID(int=1), client=api)
    assert missing.value.status_code == 404


def test_projects_list_retrieve_update_delete(api, server):
    customer = _create_customer(api, "Acme")
    created = _create_project(api, customer, "Apollo", description="Moon shot")
    assert created.customer == customer.url
    assert created.customer_uuid == customer.uuid

    listed = projects_list.sync_detailed(client=api, customer=[customer.uuid])  # dashed uuids
    assert listed.status_code == HTTPStatus.OK
    assert listed.headers["X-Result-Count"] == "1"
    (project,) = listed.parsed
    assert isinstance(project, Project)
    assert isinstance(project.uuid, UUID) and project.uuid == created.uuid
    assert project.url == f"{server.url}/api/projects/{project.uuid.hex}/"
    assert project.name == "Apollo"
    assert project.description == "Moon shot"
    assert project.customer == customer.url
    assert project.customer_uuid == customer.uuid
    assert project.customer_name == "Acme"
    assert isinstance(project.created, datetime.datetime)
    assert project.is_removed is False
    assert project.resources_count == 0
    assert _quotas(project) == {"nc_resource_count": (0, -1)}

    retrieved = projects_retrieve.sync_detailed(uuid=created.uuid, client=api)
    assert retrieved.status_code == HTTPStatus.OK
    assert isinstance(retrieved.parsed, Project)
    assert retrieved.parsed.uuid == created.uuid
    assert retrieved.parsed.name == "Apollo"

    patched = projects_partial_update.sync_detailed(
        uuid=created.uuid, client=api, body=PatchedProjectRequest(description="Updated")
    )
    assert patched.status_code == HTTPStatus.OK
    assert patched.parsed.description == "Updated"
    assert patched.parsed.name == "Apollo"

    deleted = projects_destroy.sync_detailed(uuid=created.uuid, client=api)
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert projects_list.sync_detailed(client=api).parsed == []
    with pytest.raises(UnexpectedStatus) as gone:
        projects_retrieve.sync_detailed(uuid=created.uuid, client=api)
    assert gone.value.status_code == 404


def test_users_me_retrieve(api, admin):
    response = users_me_retrieve.sync_detailed(client=api)
    assert response.status_code == HTTPStatus.OK
    me = response.parsed
    assert isinstance(me, UserMe)
    assert me.uuid == UUID(admin.id)
    assert me.username == admin.username
    assert me.full_name == "Admin Person"
    assert me.email == "admin@example.org"
    assert me.is_staff is True
    assert me.is_support is False
    assert me.is_active is True
    assert isinstance(me.date_joined, datetime.datetime)
    assert me.permissions == []


def test_wrong_token_is_refused(server):
    stranger = AuthenticatedClient(base_url=server.url, token="0" * 40)
    with stranger, pytest.raises(UnexpectedStatus) as refused:
        users_me_retrieve.sync_detailed(client=stranger)
    assert refused.value.status_code == 401
