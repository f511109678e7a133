"""Site agent identities, services and processors through waldur-api-client's own functions, with
its strict parsers, in the order waldur-site-agent calls them at every start (list by name, create
or update, register_service, register_processor), and who may see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from tests.marketplace_helpers import SLURM, build_market, make_offering


@pytest.fixture
def market(aws, admin):
    market = build_market(admin)
    market.offering = make_offering(admin, market.provider.id, SLURM, name="HPC")
    return market


def client_of(server: Any, account: Any) -> Any:
    from waldur_api_client import AuthenticatedClient

    return AuthenticatedClient(base_url=server.url, token=account.token, timeout=10.0)


def identity_request(offering_id: str, name: str, version: str = "1.0.7") -> Any:
    from waldur_api_client.models import AgentIdentityRequest
    from waldur_api_client.models.agent_dependency_request import AgentDependencyRequest

    return AgentIdentityRequest(
        offering=UUID(offering_id),
        name=name,
        version=version,
        last_restarted=datetime.now(UTC),
        dependencies=[AgentDependencyRequest(package="waldur-api-client", version="8.1.2")],
        config_file_path="",
        config_file_content="",
    )


def test_the_agents_start_sequence_parses_strictly(server, market):
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_create as create,
    )
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_list as list_identities,
    )
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_register_service as register_service,
    )
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_retrieve as retrieve,
    )
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_update as update,
    )
    from waldur_api_client.api.marketplace_site_agent_processors import (
        marketplace_site_agent_processors_list as list_processors,
    )
    from waldur_api_client.api.marketplace_site_agent_processors import (
        marketplace_site_agent_processors_retrieve as retrieve_processor,
    )
    from waldur_api_client.api.marketplace_site_agent_services import (
        marketplace_site_agent_services_list as list_services,
    )
    from waldur_api_client.api.marketplace_site_agent_services import (
        marketplace_site_agent_services_register_processor as register_processor,
    )
    from waldur_api_client.api.marketplace_site_agent_services import (
        marketplace_site_agent_services_retrieve as retrieve_service,
    )
    from waldur_api_client.models import AgentProcessorCreateRequest, AgentServiceCreateRequest

    seller = client_of(server, market.seller)
    offering = market.offering.id
    name = f"agent-{UUID(offering)}"
    assert list_identities.sync(client=seller, name=name) == []

    made = create.sync(client=seller, body=identity_request(offering, name))
    assert (made.name, made.offering.hex, made.version, made.services) == (name, offering, "1.0.7", [])
    assert made.created_by.hex == market.seller.id
    assert made.compatibility.status.value == "compatible"
    assert [(d.package, d.version) for d in made.dependencies] == [("waldur-api-client", "8.1.2")]

    [found] = list_identities.sync(client=seller, name=name)
    assert found.uuid == made.uuid
    again = update.sync(uuid=made.uuid.hex, client=seller, body=identity_request(offering, name, "1.0.8"))
    assert (again.uuid, again.version) == (made.uuid, "1.0.8")

    first = register_service.sync_detailed(
        uuid=made.uuid.hex,
        client=seller,
        body=AgentServiceCreateRequest(name="order_process", mode="order_process"),
    )
    second = register_service.sync_detailed(
        uuid=made.uuid.hex,
        client=seller,
        body=AgentServiceCreateRequest(name="order_process", mode="order_process"),
    )
    assert (first.status_code, second.status_code) == (201, 200)
    svc = second.parsed
    assert (svc.uuid, svc.identity, svc.identity_name, svc.state.value) == (
        first.parsed.uuid, made.uuid, name, "Active",
    )  # fmt: skip

    body = AgentProcessorCreateRequest(
        name="OfferingOrderProcessor", backend_type="mock.MockBackend", backend_version="1.0"
    )
    processor = register_processor.sync(uuid=svc.uuid.hex, client=seller, body=body)
    assert (processor.service, processor.service_name, processor.backend_type) == (
        svc.uuid, "order_process", "mock.MockBackend",
    )  # fmt: skip
    assert processor.last_run is not None

    whole = retrieve.sync(uuid=made.uuid.hex, client=seller)
    assert [s.name for s in whole.services] == ["order_process"]
    assert [p.uuid for p in retrieve_service.sync(uuid=svc.uuid.hex, client=seller).processors] == [
        processor.uuid
    ]
    assert [s.uuid for s in list_services.sync(client=seller, identity_uuid=made.uuid)] == [svc.uuid]
    assert [p.uuid for p in list_processors.sync(client=seller, service_uuid=svc.uuid)] == [processor.uuid]
    assert retrieve_processor.sync(uuid=processor.uuid.hex, client=seller).name == "OfferingOrderProcessor"


def test_only_the_provider_and_staff_see_identities(server, market, admin):
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_create as create,
    )
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_destroy as destroy,
    )
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_list as list_identities,
    )
    from waldur_api_client.api.marketplace_site_agent_identities import (
        marketplace_site_agent_identities_retrieve as retrieve,
    )
    from waldur_api_client.errors import UnexpectedStatus

    seller, outsider = client_of(server, market.seller), client_of(server, market.owner)
    made = create.sync(client=seller, body=identity_request(market.offering.id, "agent-1"))

    assert list_identities.sync(client=outsider) == []
    with pytest.raises(UnexpectedStatus) as refused:
        retrieve.sync(uuid=made.uuid.hex, client=outsider)
    assert refused.value.status_code == 404
    with pytest.raises(UnexpectedStatus) as refused:
        create.sync(client=outsider, body=identity_request(market.offering.id, "agent-2"))
    assert refused.value.status_code == 400  # not an offering they manage: "does not exist"
    with pytest.raises(UnexpectedStatus) as refused:
        destroy.sync_detailed(uuid=made.uuid.hex, client=outsider)
    assert refused.value.status_code == 404

    assert [i.uuid for i in list_identities.sync(client=client_of(server, admin))] == [made.uuid]
    assert destroy.sync_detailed(uuid=made.uuid.hex, client=seller).status_code == 204
    assert list_identities.sync(client=seller) == []
