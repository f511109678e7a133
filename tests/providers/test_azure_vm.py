"""Contract tests of the Azure plugin's `Azure.VirtualMachine` backend: the real Azure SDK for Python
(azure-identity, azure-mgmt-*) against the fake identity platform and ARM in
`fakes/azure_server.py`, over HTTPS on 127.0.0.1 with a certificate made for the test."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from chalicelib.providers.cloud import Job, ProviderError, RemoteState, Settings, TransientError
from chalicelib.providers.registry import Registry
from tests.providers.fakes.azure_server import FakeAzure

pytest.importorskip("cirrus_azure")

from cirrus_azure.vm import AzureVirtualMachines

TYPE = "Azure.VirtualMachine"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd1aGFsZWtleWRhdGFmb3J0ZXN0cw alice@laptop"
UUID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAzure]:
    server = FakeAzure().start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))  # the SDK's requests trusts the fake
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")
    yield server
    server.stop()


def settings(fake: FakeAzure, **options: Any) -> Settings:
    found = Registry().get(TYPE)
    assert found is not None
    given = {
        "authority_host": fake.url,
        "resource_manager_url": fake.url,
        "polling_interval": 0.01,
        **options,
    }
    return Settings(
        offering_uuid="ffffeeee",
        offering_name="Azure VMs",
        options=found.plugin_options(given),
        secrets={
            "tenant_id": fake.tenant_id,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "subscription_id": fake.subscription_id,
        },
    )


def backend(fake: FakeAzure, **options: Any) -> Any:
    """The backend as the platform builds it: the registered type's factory."""
    found = Registry().get(TYPE)
    assert found is not None and found.cloud is not None
    return found.cloud.factory(settings(fake, **options))


def quick(fake: FakeAzure, **options: Any) -> AzureVirtualMachines:
    """No SDK retries and a short read timeout, for the failure tests."""
    return AzureVirtualMachines(settings(fake, **options), retry_total=0, read_timeout=0.5)


def job(uuid: str = UUID, **attributes: Any) -> Job:
    return Job(
        resource_uuid=uuid,
        resource_name="Web server 1",
        project_uuid="p1",
        customer_uuid="c1",
        attributes={"ssh_public_key": KEY, **attributes},
    )


class Beats:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def secrets_absent(fake: FakeAzure, text: str) -> None:
    for value in (fake.client_secret, fake.subscription_id, fake.tenant_id, fake.client_id):
        assert value not in text


# --- discovery ---------------------------------------------------------------------------------------
def test_the_entry_point_registers_the_vm_type_with_its_component_and_secret_options() -> None:
    found = Registry().get(TYPE)

    assert found is not None and found.automatic and found.cloud is not None
    assert [(c.type, c.billing_type.value) for c in found.components] == [("vm", "fixed")]
    assert {"tenant_id", "client_id", "client_secret", "subscription_id"} <= found.secret_attributes
    assert found.plugin_option_defaults["location"] == "westeurope"


def test_importing_the_plugin_imports_no_azure_sdk() -> None:
    code = "import sys, cirrus_azure; print(sorted(m for m in sys.modules if m.startswith('azure')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- the lifecycle -----------------------------------------------------------------------------------
def test_create_makes_group_network_ip_nic_and_vm_and_answers_it_running(fake: FakeAzure) -> None:
    beats = Beats()

    made = backend(fake).create(job(), beats)

    group = f"cirrus-{UUID}"
    assert made.backend_id == f"{group}/vm-{UUID}"
    assert made.state is RemoteState.OK
    assert made.metadata["runtime_state"] == "running"
    assert made.metadata["size"] == "Standard_B1s"
    assert made.metadata["image"] == "Canonical:ubuntu-24_04-lts:server:latest"
    assert made.metadata["internal_ips"] and made.metadata["external_ips"]
    assert beats.count >= 4  # heartbeats while the four long-running operations ran
    assert fake.groups[group.lower()]["tags"]["cirrus-resource"] == UUID
    vm = fake.vm(group, f"vm-{UUID}")
    assert vm is not None
    profile = vm["properties"]["osProfile"]
    assert profile["computerName"] == "web-server-1"
    assert profile["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"] == KEY
    assert profile["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert vm["properties"]["storageProfile"]["osDisk"]["deleteOption"] == "Delete"
    secrets_absent(fake, json.dumps(dict(made.metadata)))


def test_get_update_and_terminate(fake: FakeAzure) -> None:
    azure = backend(fake)
    made = azure.create(job(), Beats())

    seen = azure.get(made.backend_id)
    assert seen is not None and seen.state is RemoteState.OK and seen.name == "Web server 1"
    assert azure.usage(made.backend_id, date.today()) == {}  # Azure's cost is not read per VM

    resized = azure.update(
        Job(
            resource_uuid=UUID,
            resource_name="Web server 1",
            project_uuid="p1",
            customer_uuid="c1",
            backend_id=made.backend_id,
            plan_code="Standard_B2s",
        ),
        Beats(),
    )
    assert resized.metadata["size"] == "Standard_B2s"
    vm = fake.vm(f"cirrus-{UUID}", f"vm-{UUID}")
    assert vm is not None and vm["properties"]["hardwareProfile"]["vmSize"] == "Standard_B2s"
    assert len(fake.requests("PATCH", "/virtualmachines/")) == 1

    azure.terminate(
        Job(
            resource_uuid=UUID,
            resource_name="",
            project_uuid="p1",
            customer_uuid="c1",
            backend_id=made.backend_id,
        ),
        Beats(),
    )

    assert azure.get(made.backend_id) is None
    assert fake.groups == {} and fake.resources == {} and fake.disks == {}


def test_update_to_the_same_size_changes_nothing(fake: FakeAzure) -> None:
    azure = backend(fake)
    made = azure.create(job(), Beats())

    same = azure.update(
        Job(
            resource_uuid=UUID,
            resource_name="",
            project_uuid="",
            customer_uuid="",
            backend_id=made.backend_id,
            plan_code="Standard_B1s",
        ),
        Beats(),
    )

    assert same.metadata["size"] == "Standard_B1s"
    assert fake.requests("PATCH", "/virtualmachines/") == []


def test_an_update_that_names_no_size_keeps_the_vms(fake: FakeAzure) -> None:
    azure = backend(fake)
    made = azure.create(job(size="Standard_B2s"), Beats())

    same = azure.update(Job(resource_uuid=UUID, resource_name="", project_uuid="", customer_uuid="",
                            backend_id=made.backend_id), Beats())  # fmt: skip

    assert same.metadata["size"] == "Standard_B2s"
    assert fake.requests("PATCH", "/virtualmachines/") == []


def test_a_retried_create_makes_no_second_vm(fake: FakeAzure) -> None:
    azure = backend(fake)
    first = azure.create(job(), Beats())

    again = azure.create(job(), Beats())

    assert again.backend_id == first.backend_id
    assert len(fake.requests("PUT", "/virtualmachines/")) == 1
    assert len([k for k in fake.resources if k[1] == "microsoft.compute/virtualmachines"]) == 1


def test_a_create_that_failed_half_way_completes_when_retried(fake: FakeAzure) -> None:
    azure = quick(fake)
    fake.fail("PUT", "/networkinterfaces/", 503, "ServiceUnavailable", "Try later.")
    with pytest.raises(TransientError):
        azure.create(job(), Beats())

    made = azure.create(job(), Beats())

    assert made.state is RemoteState.OK
    assert len(fake.requests("PUT", "/virtualnetworks/")) == 2  # PUT by name again: the same network
    assert len([k for k in fake.resources if k[1] == "microsoft.network/virtualnetworks"]) == 1


def test_a_create_retried_while_azure_still_makes_the_vm_waits_for_it_instead_of_a_second_put(
    fake: FakeAzure,
) -> None:
    azure = quick(fake)
    fake.polls = 3  # the VM stays Creating for a while
    fake.fail("GET", "/microsoft.compute/locations/.*/operations/", 500, "InternalServerError", "Oops.")
    with pytest.raises(TransientError):
        azure.create(job(), Beats())
    assert fake.vm(f"cirrus-{UUID}", f"vm-{UUID}")["properties"]["provisioningState"] == "Creating"  # type: ignore[index]

    made = azure.create(job(), Beats())

    assert made.state is RemoteState.OK
    assert len(fake.requests("PUT", "/virtualmachines/")) == 1


def test_without_a_public_ip_the_vm_has_only_an_internal_address(fake: FakeAzure) -> None:
    made = backend(fake).create(job(public_ip=False), Beats())

    assert made.metadata["external_ips"] == [] and made.metadata["internal_ips"]
    assert fake.requests("PUT", "/publicipaddresses/") == []


def test_user_data_goes_as_custom_data_and_an_image_from_the_offering(fake: FakeAzure) -> None:
    debian = {"publisher": "Debian", "offer": "debian-12", "sku": "12", "version": "latest"}

    made = backend(fake, images={"debian": debian}).create(
        job(image="debian", user_data="#!/bin/sh\necho hi\n"), Beats()
    )

    assert made.metadata["image"] == "Debian:debian-12:12:latest"
    put = fake.requests("PUT", "/virtualmachines/")[0]
    assert json.loads(put["body"])["properties"]["osProfile"]["customData"] == "IyEvYmluL3NoCmVjaG8gaGkK"


# --- drift and import --------------------------------------------------------------------------------
def test_a_failing_heartbeat_is_raised_as_it_is_not_as_azures_failure(fake: FakeAzure) -> None:
    class TaskTimedOut(Exception):
        pass

    def heartbeat() -> None:
        if fake.requests("PUT", "/virtualnetworks/"):
            raise TaskTimedOut("the workflow gave up")

    with pytest.raises(TaskTimedOut):
        backend(fake).create(job(), heartbeat)


def test_a_vm_deleted_behind_cirrus_back_is_gone(fake: FakeAzure) -> None:
    azure = backend(fake)
    made = azure.create(job(), Beats())

    fake.remove_vm(f"cirrus-{UUID}", f"vm-{UUID}")

    assert azure.get(made.backend_id) is None


def test_list_pages_through_every_vm_of_the_subscription(fake: FakeAzure) -> None:
    azure = backend(fake)
    uuids = [f"{i:032x}" for i in range(1, 4)]
    for uuid in uuids:
        azure.create(job(uuid), Beats())

    listed = list(azure.list())

    assert sorted(r.backend_id for r in listed) == sorted(f"cirrus-{u}/vm-{u}" for u in uuids)
    assert {r.state for r in listed} == {RemoteState.OK}
    assert {r.type for r in listed} == {"virtual_machine"}
    assert any(
        "skiptoken" in r["query"].get("$skiptoken", "skiptoken")
        for r in fake.requests("GET", "/virtualmachines$")
    )
    assert len(fake.requests("GET", "/providers/microsoft.compute/virtualmachines$")) == 2  # page size 2


def test_terminating_an_imported_vm_leaves_its_resource_group(fake: FakeAzure) -> None:
    azure = backend(fake)
    made = azure.create(job(), Beats())

    azure.terminate(
        Job(
            resource_uuid="9" * 32,
            resource_name="",
            project_uuid="",
            customer_uuid="",
            backend_id=made.backend_id,
        ),
        Beats(),
    )

    assert fake.vm(f"cirrus-{UUID}", f"vm-{UUID}") is None
    assert f"cirrus-{UUID}" in fake.groups


def test_terminating_a_vm_already_gone_succeeds(fake: FakeAzure) -> None:
    azure = backend(fake)
    made = azure.create(job(), Beats())
    fake.remove_vm(f"cirrus-{UUID}", f"vm-{UUID}")

    azure.terminate(
        Job(
            resource_uuid=UUID,
            resource_name="",
            project_uuid="",
            customer_uuid="",
            backend_id=made.backend_id,
        ),
        Beats(),
    )

    assert fake.groups == {}


# --- refusals and failures ---------------------------------------------------------------------------
def test_an_allocation_failure_errs_the_order_and_the_vm_reads_erred(fake: FakeAzure) -> None:
    azure = quick(fake)
    fake.fail_vm_operation = {
        "code": "AllocationFailed",
        "message": "Allocation failed. We do not have sufficient capacity.",
    }

    with pytest.raises(ProviderError) as refused:
        azure.create(job(), Beats())

    assert not isinstance(refused.value, TransientError)
    assert "AllocationFailed" in str(refused.value) and "sufficient capacity" in str(refused.value)
    seen = azure.get(f"cirrus-{UUID}/vm-{UUID}")
    assert seen is not None and seen.state is RemoteState.ERRED and "sufficient capacity" in seen.error


def test_a_size_azure_does_not_know_is_refused_with_arm_words(fake: FakeAzure) -> None:
    azure = quick(fake, sizes=["Standard_Z99"], default_size="Standard_Z99")

    with pytest.raises(ProviderError) as refused:
        azure.create(job(), Beats())

    assert not isinstance(refused.value, TransientError)
    assert "InvalidParameter" in str(refused.value) and "Standard_Z99" in str(refused.value)
    secrets_absent(fake, str(refused.value))


def test_a_size_the_offering_does_not_offer_is_refused_before_azure_is_asked(fake: FakeAzure) -> None:
    with pytest.raises(ProviderError, match=r"Standard_M128.* not offered"):
        quick(fake).create(job(size="Standard_M128"), Beats())
    assert fake.log == []


def test_the_plans_size_wins_over_the_orders(fake: FakeAzure) -> None:
    made = backend(fake).create(
        Job(resource_uuid=UUID, resource_name="x", project_uuid="p", customer_uuid="c",
            plan_code="Standard_B1s", attributes={"ssh_public_key": KEY, "size": "Standard_D2s_v5"}),
        Beats(),
    )  # fmt: skip

    assert made.metadata["size"] == "Standard_B1s"


def test_a_host_name_that_resolves_inside_is_refused_and_one_that_does_not_resolve_is_transient(
    fake: FakeAzure, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host == "arm.internal.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(ProviderError, match="internal address") as inside:
        quick(fake, resource_manager_url="https://arm.internal.example")
    assert not isinstance(inside.value, TransientError)
    with pytest.raises(TransientError, match="does not resolve"):
        quick(fake, resource_manager_url="https://arm.nowhere.example")


def test_an_order_without_an_ssh_key_is_refused(fake: FakeAzure) -> None:
    with pytest.raises(ProviderError, match="ssh_public_key"):
        quick(fake).create(job(ssh_public_key="not a key"), Beats())


def test_a_wrong_client_secret_is_refused_without_showing_it(fake: FakeAzure) -> None:
    wrong = settings(fake)
    wrong = Settings(
        wrong.offering_uuid,
        wrong.offering_name,
        wrong.options,
        {**wrong.secrets, "client_secret": "Wr0ng~Secret-Value-42"},
    )
    azure = AzureVirtualMachines(wrong, retry_total=0)

    with pytest.raises(ProviderError) as refused:
        azure.get(f"cirrus-{UUID}/vm-{UUID}")

    assert not isinstance(refused.value, TransientError)
    assert "credentials" in str(refused.value) and "AADSTS7000215" in str(refused.value)
    assert "Wr0ng~Secret-Value-42" not in str(refused.value)
    secrets_absent(fake, str(refused.value))


def test_a_forbidden_call_is_refused_with_the_arm_code(fake: FakeAzure) -> None:
    fake.fail(
        "GET",
        "/virtualmachines/",
        403,
        "AuthorizationFailed",
        f"The client '{fake.client_id}' does not have authorization to perform action over scope "
        f"'/subscriptions/{fake.subscription_id}'.",
    )

    with pytest.raises(ProviderError) as refused:
        quick(fake).get(f"cirrus-{UUID}/vm-{UUID}")

    assert not isinstance(refused.value, TransientError)
    assert "AuthorizationFailed" in str(refused.value)
    secrets_absent(fake, str(refused.value))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_transient(fake: FakeAzure, status: int) -> None:
    fake.fail(
        "PUT", "/virtualmachines/", status, "ServerBusy" if status != 429 else "TooManyRequests", "Busy."
    )

    with pytest.raises(TransientError) as busy:
        quick(fake).create(job(), Beats())

    assert f"HTTP {status}" in str(busy.value)


def test_a_timeout_is_transient(fake: FakeAzure) -> None:
    fake.fail("GET", "/virtualmachines/", 200, hang=True)

    with pytest.raises(TransientError, match="could not be reached"):
        quick(fake).get(f"cirrus-{UUID}/vm-{UUID}")


def test_an_unreachable_endpoint_is_transient(fake: FakeAzure) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    azure = quick(fake, resource_manager_url=f"https://127.0.0.1:{port}")

    with pytest.raises(TransientError):
        azure.get(f"cirrus-{UUID}/vm-{UUID}")


def test_an_unreachable_or_failing_identity_platform_is_transient_not_a_refusal(fake: FakeAzure) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(TransientError, match="identity platform could not be reached"):
        quick(fake, authority_host=f"https://127.0.0.1:{port}").get(f"cirrus-{UUID}/vm-{UUID}")

    fake.fail("POST", "/oauth2/v2.0/token", 503, "AADSTS90033", "A transient error has occurred.")
    with pytest.raises(TransientError, match=r"identity platform is unavailable \(HTTP 503\)"):
        quick(fake).get(f"cirrus-{UUID}/vm-{UUID}")


def test_the_token_is_fetched_once_and_the_secret_goes_only_to_the_token_endpoint(fake: FakeAzure) -> None:
    azure = backend(fake)
    azure.create(job(), Beats())
    azure.list()

    assert fake.tokens_issued == 1
    carrying = [r for r in fake.log if fake.client_secret in json.dumps(r)]
    assert [r["path"] for r in carrying] == [f"/{fake.tenant_id}/oauth2/v2.0/token"]
    assert all(
        r["authorization"].startswith("Bearer ") for r in fake.log if r["path"].startswith("/subscriptions/")
    )


def test_backends_built_again_for_the_same_offering_reuse_the_token(fake: FakeAzure) -> None:
    backend(fake).list()
    backend(fake).list()

    assert fake.tokens_issued == 1


def test_a_backend_id_that_is_not_ours_is_refused(fake: FakeAzure) -> None:
    with pytest.raises(ProviderError, match="not an Azure VM id"):
        quick(fake).get("../../etc/passwd")


def test_missing_credentials_are_named_not_shown(fake: FakeAzure) -> None:
    given = settings(fake)
    with pytest.raises(ProviderError, match="lack client_secret"):
        AzureVirtualMachines(Settings("o", "n", given.options, {**given.secrets, "client_secret": ""}))


# --- through the platform's driver (the order workflow's processors) ---------------------------------
def order_and_offering(fake: FakeAzure, **attributes: Any) -> tuple[Any, Any]:
    from datetime import UTC, datetime

    from chalicelib.domain.orders import Order
    from chalicelib.domain.vocabulary import Offering, OrderState, OrderType

    given = settings(fake)
    offering = Offering(
        id="ffffeeee", customer_id="prov", name="Azure VMs", type=TYPE,
        plugin_options={
            "authority_host": fake.url, "resource_manager_url": fake.url,
            "polling_interval": 0.01, "sdk_retries": 0,
        },
        secret_options=dict(given.secrets),
    )  # fmt: skip
    now = datetime.now(UTC)
    order = Order(
        id="0" * 32, type=OrderType.CREATE, state=OrderState.EXECUTING, customer_id="c1", project_id="p1",
        offering_id=offering.id, provider_id="prov", resource_id=UUID, created=now, modified=now,
        attributes={"ssh_public_key": KEY, **attributes}, resource_name="Web server 1",
    )  # fmt: skip
    return order, offering


def test_the_drivers_create_processor_records_the_vm_and_json_metadata(fake: FakeAzure) -> None:
    from chalicelib.providers import driver
    from chalicelib.providers.types import ProcessorKind

    order, offering = order_and_offering(fake)

    done = driver.processor(ProcessorKind.CREATE)(order, offering, Beats())

    assert done["backend_id"] == f"cirrus-{UUID}/vm-{UUID}"
    metadata = json.loads(json.dumps(done["backend_metadata"]))
    assert metadata["runtime_state"] == "running" and metadata["external_ips"]
    secrets_absent(fake, json.dumps(done))


def test_the_driver_turns_a_refusal_into_the_orders_error_and_a_503_into_a_retry(fake: FakeAzure) -> None:
    from chalicelib.providers import driver
    from chalicelib.providers.types import ProcessorKind
    from chalicelib.workflows import steps

    create = driver.processor(ProcessorKind.CREATE)
    order, offering = order_and_offering(fake, size="Standard_M128")
    with pytest.raises(steps.PermanentStepError, match="Standard_M128"):
        create(order, offering, Beats())

    order, offering = order_and_offering(fake)
    fake.fail("PUT", "/resourcegroups/", 503, "ServiceUnavailable", "Busy.")  # the offering's sdk_retries: 0
    with pytest.raises(steps.TransientStepError, match="HTTP 503"):
        create(order, offering, Beats())


def test_no_secret_option_or_token_reaches_the_logs_at_info(
    fake: FakeAzure, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # (at DEBUG urllib3 logs every URL, the subscription id in it)
    azure = backend(fake)
    azure.create(job(), Beats())
    wrong = settings(fake)
    with pytest.raises(ProviderError):
        AzureVirtualMachines(
            Settings("o", "n", wrong.options, {**wrong.secrets, "client_secret": "Wr0ng~Secret-Value-42"}),
            retry_total=0,
        ).get(f"cirrus-{UUID}/vm-{UUID}")

    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (
        fake.client_secret,
        "Wr0ng~Secret-Value-42",
        fake.subscription_id,
        fake.client_id,
        *fake.tokens,
    ):
        assert secret not in logged
