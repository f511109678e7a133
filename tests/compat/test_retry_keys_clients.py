"""waldur-api-client sending an `Idempotency-Key` header (a client that retries its creations): the
retry's 201 parses strictly into the same object, and a key reused with another body is a 422 in
DRF's shape, over HTTP against the served app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from waldur_api_client import AuthenticatedClient
from waldur_api_client.api.customers import customers_create
from waldur_api_client.api.keys import keys_create
from waldur_api_client.api.projects import projects_create
from waldur_api_client.errors import UnexpectedStatus
from waldur_api_client.models.customer import Customer
from waldur_api_client.models.customer_request import CustomerRequest
from waldur_api_client.models.project import Project
from waldur_api_client.models.project_request import ProjectRequest
from waldur_api_client.models.ssh_key import SshKey
from waldur_api_client.models.ssh_key_request import SshKeyRequest

pytestmark = pytest.mark.compat

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMI8mOlDJAWsXHu2OOZiOdaEhJ8q0XbC9uZKPuk9DlM6 ci@example"


@pytest.fixture
def keyed(server: Any, admin: Any) -> Iterator[Any]:
    """A client that sends one Idempotency-Key with every request (as a retrying client does)."""

    def make(key: str) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=server.url, token=admin.token, timeout=10.0, headers={"Idempotency-Key": key}
        )

    yield make


def test_a_retried_creation_parses_strictly_into_the_first_object(keyed: Any) -> None:
    with keyed("acme-1") as api:
        first = customers_create.sync_detailed(client=api, body=CustomerRequest(name="Acme"))
        again = customers_create.sync_detailed(client=api, body=CustomerRequest(name="Acme"))
        assert (first.status_code, again.status_code) == (HTTPStatus.CREATED, HTTPStatus.CREATED)
        assert isinstance(first.parsed, Customer) and isinstance(again.parsed, Customer)
        assert again.parsed.uuid == first.parsed.uuid
        customer_url = first.parsed.url
    with keyed("apollo-1") as api:
        body = ProjectRequest(name="Apollo", customer=customer_url)
        made = [projects_create.sync_detailed(client=api, body=body) for _ in range(2)]
        assert all(isinstance(m.parsed, Project) for m in made)
        assert made[0].parsed.uuid == made[1].parsed.uuid  # type: ignore[union-attr]
    with keyed("laptop-1") as api:
        keys = [keys_create.sync_detailed(client=api, body=SshKeyRequest(public_key=KEY, name="laptop"))
                for _ in range(2)]  # fmt: skip
        assert all(k.status_code == HTTPStatus.CREATED and isinstance(k.parsed, SshKey) for k in keys)
        assert keys[0].parsed.uuid == keys[1].parsed.uuid  # type: ignore[union-attr]


def test_a_key_reused_with_another_body_is_a_422(keyed: Any) -> None:
    with keyed("acme-2") as api:
        first = customers_create.sync_detailed(client=api, body=CustomerRequest(name="Acme"))
        assert first.status_code == HTTPStatus.CREATED
        with pytest.raises(UnexpectedStatus) as reused:  # the client's own handling of a 422
            customers_create.sync_detailed(client=api, body=CustomerRequest(name="Other"))
        assert reused.value.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert json.loads(reused.value.content) == {
            "detail": "This Idempotency-Key was already used with a different request; use a new key."
        }
