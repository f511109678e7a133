"""Contract tests of the Azure plugin's `Azure.SQLServer` backend: the real azure-mgmt-sql (with
azure-identity) against the fake ARM in `fakes/azure_server.py`, over HTTPS on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.providers.cloud import Job, ProviderError, RemoteState, Settings, TransientError
from chalicelib.providers.registry import Registry
from tests.providers.fakes.azure_server import FakeAzure

pytest.importorskip("cirrus_azure")

from cirrus_azure.sql import sku_body

TYPE = "Azure.SQLServer"
UUID = "fedcba9876543210fedcba9876543210"
ADMIN = {"admin_login": "dba-team@contoso.com", "admin_object_id": "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"}
GROUP, SERVER = f"cirrus-{UUID}", f"sql-{UUID}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAzure]:
    server = FakeAzure().start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")
    yield server
    server.stop()


def backend(fake: FakeAzure, **options: Any) -> Any:
    found = Registry().get(TYPE)
    assert found is not None and found.cloud is not None
    given = {"authority_host": fake.url, "resource_manager_url": fake.url, "polling_interval": 0.01}
    secrets = {
        "tenant_id": fake.tenant_id,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "subscription_id": fake.subscription_id,
    }
    settings = Settings("ffffeeee", "Azure SQL", found.plugin_options({**given, **options}), secrets)
    return found.cloud.factory(settings)


def job(backend_id: str = "", plan_code: str = "", **attributes: Any) -> Job:
    return Job(
        resource_uuid=UUID,
        resource_name="Orders DB",
        project_uuid="p1",
        customer_uuid="c1",
        backend_id=backend_id,
        plan_code=plan_code,
        attributes={**ADMIN, **attributes},
    )


def nothing() -> None:
    return None


def test_the_entry_point_registers_both_azure_types() -> None:
    registry = Registry()
    sql, vm = registry.get(TYPE), registry.get("Azure.VirtualMachine")

    assert sql is not None and vm is not None
    assert [(c.type, c.billing_type.value) for c in sql.components] == [("database", "fixed")]
    assert sql.plugin_option_defaults["default_database_sku"] == "Basic"
    assert "client_secret" in sql.secret_attributes


def test_create_makes_an_entra_only_server_with_firewall_and_database(fake: FakeAzure) -> None:
    made = backend(fake).create(
        job(allowed_ips=["20.50.10.7", "52.1.2.0/24"], database_name="orders"), nothing
    )

    assert made.backend_id == f"{GROUP}/{SERVER}/orders"
    assert made.state is RemoteState.OK
    assert made.metadata["fqdn"] == f"{SERVER}.database.windows.net"
    assert made.metadata["sku"] == "Basic" and made.metadata["database_status"] == "Online"
    assert made.metadata["admin_login"] == "dba-team@contoso.com"
    put = json.loads(fake.requests("PUT", "/microsoft.sql/servers/[^/]+$")[0]["body"])
    admins = put["properties"]["administrators"]
    assert admins["azureADOnlyAuthentication"] is True and admins["sid"] == ADMIN["admin_object_id"]
    assert "administratorLoginPassword" not in put["properties"]
    rules = [r for k, r in fake.resources.items() if k[1] == "microsoft.sql/servers/firewallrules"]
    assert sorted((r["properties"]["startIpAddress"], r["properties"]["endIpAddress"]) for r in rules) == [
        ("20.50.10.7", "20.50.10.7"),
        ("52.1.2.0", "52.1.2.255"),
    ]
    text = json.dumps(dict(made.metadata))
    assert fake.tenant_id not in text and fake.subscription_id not in text


def test_scale_then_terminate_leaves_nothing(fake: FakeAzure) -> None:
    azure = backend(fake)
    made = azure.create(job(), nothing)

    scaled = azure.update(job(made.backend_id, plan_code="GP_S_Gen5_1"), nothing)

    assert scaled.metadata["sku"] == "GP_S_Gen5_1"
    patch = json.loads(fake.requests("PATCH", "/databases/")[0]["body"])
    assert patch["sku"] == {"name": "GP_S_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 1}

    azure.terminate(job(made.backend_id), nothing)

    assert azure.get(made.backend_id) is None
    assert fake.resources == {} and fake.groups == {}


def test_a_retried_create_makes_no_second_server(fake: FakeAzure) -> None:
    azure = backend(fake)
    first = azure.create(job(), nothing)

    again = azure.create(job(), nothing)

    assert again.backend_id == first.backend_id
    assert len(fake.requests("PUT", "/microsoft.sql/servers/[^/]+$")) == 1


def test_a_database_deleted_behind_cirrus_back_errs_and_a_server_gone_is_none(fake: FakeAzure) -> None:
    azure = backend(fake)
    made = azure.create(job(), nothing)

    del fake.resources[(GROUP.lower(), "microsoft.sql/servers/databases", f"{SERVER}/db")]
    seen = azure.get(made.backend_id)
    assert seen is not None and seen.state is RemoteState.ERRED and "not on the SQL server" in seen.error

    del fake.resources[(GROUP.lower(), "microsoft.sql/servers", SERVER)]
    assert azure.get(made.backend_id) is None


def test_list_pages_through_the_subscriptions_servers(fake: FakeAzure) -> None:
    azure = backend(fake)
    for uuid in ("1" * 32, "2" * 32, "3" * 32):
        azure.create(
            Job(resource_uuid=uuid, resource_name="x", project_uuid="p", customer_uuid="c", attributes=ADMIN),
            nothing,
        )

    listed = list(azure.list())

    assert sorted(r.backend_id for r in listed) == [f"cirrus-{u * 32}/sql-{u * 32}" for u in "123"]
    assert {(r.state, r.type) for r in listed} == {(RemoteState.OK, "sql_server")}


def test_an_order_without_an_entra_admin_is_refused(fake: FakeAzure) -> None:
    with pytest.raises(ProviderError, match="admin_login"):
        backend(fake).create(
            Job(resource_uuid=UUID, resource_name="x", project_uuid="p", customer_uuid="c"), nothing
        )
    assert fake.log == []


@pytest.mark.parametrize(
    ("attributes", "words"),
    [
        ({"allowed_ips": ["0.0.0.0/0"]}, "wider than a /8"),
        ({"allowed_ips": ["not-an-ip"]}, "not an IPv4"),
        ({"allowed_ips": ["0.0.0.0"]}, "not a public range"),
        ({"allowed_ips": ["10.0.0.0/16"]}, "not a public range"),
        ({"database_name": "master"}, "database_name"),
        ({"sku": "P15"}, "not offered"),
        ({"admin_object_id": "bob"}, "admin_object_id"),
    ],
)
def test_bad_order_attributes_are_refused_before_azure_is_asked(
    fake: FakeAzure, attributes: dict[str, Any], words: str
) -> None:
    with pytest.raises(ProviderError, match=words):
        backend(fake).create(job(**attributes), nothing)
    assert fake.log == []


def test_a_sku_azure_refuses_is_a_provider_error_with_its_code(fake: FakeAzure) -> None:
    azure = backend(fake, database_skus=["Basic", "S5"], default_database_sku="S5")  # no S5 at Azure

    with pytest.raises(ProviderError) as refused:
        azure.create(job(), nothing)

    assert not isinstance(refused.value, TransientError)
    assert "InvalidSkuName" in str(refused.value)


def test_a_throttled_server_create_is_transient(fake: FakeAzure) -> None:
    fake.fail("PUT", "/microsoft.sql/servers/[^/]+$", 429, "TooManyRequests", "Slow down.")

    with pytest.raises(TransientError, match="HTTP 429"):
        backend(fake, sdk_retries=0).create(job(), nothing)


@pytest.mark.parametrize(
    ("objective", "sku"),
    [
        ("Basic", {"name": "Basic", "tier": "Basic"}),
        ("S1", {"name": "S1", "tier": "Standard"}),
        ("P2", {"name": "P2", "tier": "Premium"}),
        ("GP_Gen5_2", {"name": "GP_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 2}),
        ("BC_Gen5_4", {"name": "BC_Gen5", "tier": "BusinessCritical", "family": "Gen5", "capacity": 4}),
    ],
)
def test_service_objectives_become_the_rest_sku(objective: str, sku: dict[str, Any]) -> None:
    assert sku_body(objective) == sku
