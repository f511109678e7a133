"""Contract tests of the VMware plugin (plugins/cirrus-vmware): the real backend and its requests
client, built through the installed `cirrus.providers` entry point, against the fake vCenter
(tests/providers/fakes/vmware_server.py) over https on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.providers.cloud import Job, ProviderError, RemoteState, Settings, TransientError
from chalicelib.providers.registry import Registry
from tests.providers.fakes.https_fake import serving
from tests.providers.fakes.tls import FAKE_HOST_NAME, Certificate, self_signed
from tests.providers.fakes.vmware_server import FakeVCenter, error

TYPE = "VMware.VirtualMachine"
PASSWORD = "s3cret-Pa55"
OPTIONS = {"folder": "group-v3", "cluster": "domain-c8", "datastore": "datastore-14", "guest_os": "UBUNTU_64"}
RESOURCE = "0192f0c1d2e34a5b8c7d9e0f1a2b3c4d"
MIB = 1024 * 1024
TEMPLATE = "6a6a1a5e-4a6c-4c8e-9a0e-1c2d3e4f5a6b"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("vmware-tls"))


@pytest.fixture
def vcenter(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVCenter]:
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate.cert_path))
    with serving(FakeVCenter(password=PASSWORD), certificate) as api:
        yield api  # type: ignore[misc]


def backend(vcenter: FakeVCenter, options: dict[str, Any] | None = None, **secrets: Any) -> Any:
    found = Registry().get(TYPE)
    assert found is not None and found.cloud is not None
    settings = Settings(
        offering_uuid="off1",
        offering_name="vSphere",
        options=found.plugin_options({**OPTIONS, **(options or {})}),
        secrets={"host": vcenter.url, "username": vcenter.username, "password": PASSWORD, **secrets},
    )
    return found.cloud.factory(settings)


def job(**overrides: Any) -> Job:
    fields: dict[str, Any] = {
        "resource_uuid": RESOURCE,
        "resource_name": "web server #1",
        "project_uuid": "p1",
        "customer_uuid": "c1",
        "limits": {"cpu": 2, "ram": 2048, "disk": 20480},
    }
    return Job(**{**fields, **overrides})


def beats() -> tuple[list[int], Any]:
    count: list[int] = []
    return count, lambda: count.append(1)


def calls(vcenter: FakeVCenter) -> list[str]:
    """Each request as `METHOD path[?action]`."""
    return [
        f"{r.method} {r.path}" + (f"?{r.query['action'][0]}" if "action" in r.query else "")
        for r in vcenter.requests
    ]


# --- discovery ------------------------------------------------------------------------------------
def test_the_entry_point_registers_the_type_with_waldurs_components_and_secret_options() -> None:
    found = Registry().get(TYPE)

    assert found is not None and found.automatic and found.cloud is not None
    assert [(c.type, c.billing_type.value) for c in found.components] == [
        ("cpu", "limit"),
        ("ram", "limit"),
        ("disk", "limit"),
    ]
    assert {"host", "username", "password"} <= found.secret_attributes


# --- lifecycle ------------------------------------------------------------------------------------
def test_create_makes_a_powered_on_vm_with_the_ordered_limits_in_the_offerings_placement(
    vcenter: FakeVCenter,
) -> None:
    count, heartbeat = beats()

    made = backend(vcenter).create(job(), heartbeat)

    info = vcenter.vms[made.backend_id]
    assert info["name"] == f"web-server-1-{RESOURCE}"
    assert info["power_state"] == "POWERED_ON"
    assert info["guest_OS"] == "UBUNTU_64"
    assert vcenter.folders[made.backend_id] == "group-v3"
    assert (made.state, made.limits) == (RemoteState.OK, {"cpu": 2, "ram": 2048, "disk": 20480})
    assert made.metadata["runtime_state"] == "POWERED_ON"
    assert count  # heartbeats while vCenter works
    create = next(r for r in vcenter.requests if r.method == "POST" and r.path == "/api/vcenter/vm")
    placement = {"folder": "group-v3", "cluster": "domain-c8", "datastore": "datastore-14"}
    assert create.body["placement"] == placement
    assert create.body["disks"] == [{"new_vmdk": {"name": info["name"], "capacity": 20480 * MIB}}]


def test_create_deploys_the_offerings_template_with_the_ordered_cpu_ram_and_a_grown_disk(
    vcenter: FakeVCenter,
) -> None:
    vcenter.add_template(TEMPLATE, disk_mib=16384)

    made = backend(vcenter, {"template": TEMPLATE}).create(job(), lambda: None)

    info = vcenter.vms[made.backend_id]
    assert (info["guest_OS"], info["power_state"]) == ("UBUNTU_64", "POWERED_ON")
    assert made.limits == {"cpu": 2, "ram": 2048, "disk": 20480}
    deploy = next(r for r in vcenter.requests if r.query.get("action") == ["deploy"])
    assert deploy.body["placement"] == {"folder": "group-v3", "cluster": "domain-c8"}
    assert deploy.body["disk_storage"] == {"datastore": "datastore-14"}


def test_an_order_may_pick_only_a_template_the_offering_lists(vcenter: FakeVCenter) -> None:
    vcenter.add_template(TEMPLATE)
    vcenter.add_template("other-item")
    cloud = backend(vcenter, {"template": TEMPLATE, "templates": ["other-item"]})

    picked = cloud.create(job(attributes={"template": "other-item"}), lambda: None)
    with pytest.raises(ProviderError, match="not one this offering provides"):
        cloud.create(job(resource_uuid="f" * 32, attributes={"template": "secret-item"}), lambda: None)

    assert picked.backend_id in vcenter.vms
    assert len(vcenter.vms) == 1


def test_without_a_disk_limit_a_template_keeps_its_disk(vcenter: FakeVCenter) -> None:
    vcenter.add_template(TEMPLATE, disk_mib=40960)

    made = backend(vcenter, {"template": TEMPLATE}).create(job(limits={"cpu": 1, "ram": 1024}), lambda: None)

    assert made.limits == {"cpu": 1, "ram": 1024, "disk": 40960}


def test_a_disk_limit_below_the_templates_disk_is_refused(vcenter: FakeVCenter) -> None:
    vcenter.add_template(TEMPLATE, disk_mib=40960)

    with pytest.raises(ProviderError, match="cannot be smaller"):
        backend(vcenter, {"template": TEMPLATE}).create(job(), lambda: None)

    assert vcenter.vms == {}


def test_a_retried_create_finds_the_first_vm_instead_of_making_a_second(vcenter: FakeVCenter) -> None:
    first = backend(vcenter).create(job(), lambda: None)
    again = backend(vcenter).create(job(), lambda: None)

    assert again.backend_id == first.backend_id
    assert len(vcenter.vms) == 1


def test_update_powers_the_vm_off_changes_cpu_and_ram_and_powers_it_on_again(vcenter: FakeVCenter) -> None:
    cloud = backend(vcenter)
    vm = cloud.create(job(), lambda: None).backend_id
    vcenter.requests.clear()

    changed = cloud.update(job(backend_id=vm, limits={"cpu": 4, "ram": 8192, "disk": 20480}), lambda: None)

    assert changed.limits == {"cpu": 4, "ram": 8192, "disk": 20480}
    assert vcenter.vms[vm]["power_state"] == "POWERED_ON"
    assert [c for c in calls(vcenter) if not c.startswith("GET")] == [
        f"POST /api/vcenter/vm/{vm}/power?stop",
        f"PATCH /api/vcenter/vm/{vm}/hardware/cpu",
        f"PATCH /api/vcenter/vm/{vm}/hardware/memory",
        f"POST /api/vcenter/vm/{vm}/power?start",
    ]


def test_update_of_a_vm_without_disks_changes_its_memory(vcenter: FakeVCenter) -> None:
    vm = backend(vcenter).create(job(limits={"cpu": 1, "ram": 1024, "disk": 0}), lambda: None).backend_id

    changed = backend(vcenter).update(job(backend_id=vm, limits={"cpu": 1, "ram": 2048}), lambda: None)

    assert changed.limits == {"cpu": 1, "ram": 2048, "disk": 0}


def test_update_of_a_stopped_vm_leaves_it_stopped(vcenter: FakeVCenter) -> None:
    vm = vcenter.add_vm("stopped", on=False)

    changed = backend(vcenter).update(job(backend_id=vm, limits={"cpu": 3}), lambda: None)

    assert changed.limits["cpu"] == 3
    assert vcenter.vms[vm]["power_state"] == "POWERED_OFF"


def test_a_disk_change_is_refused_before_anything_is_touched(vcenter: FakeVCenter) -> None:
    vm = backend(vcenter).create(job(), lambda: None).backend_id

    with pytest.raises(ProviderError, match="cannot resize a virtual disk"):
        backend(vcenter).update(job(backend_id=vm, limits={"cpu": 4, "disk": 40960}), lambda: None)

    assert vcenter.vms[vm]["cpu"]["count"] == 2
    assert vcenter.vms[vm]["power_state"] == "POWERED_ON"


def test_terminate_powers_off_and_deletes_and_a_vm_already_gone_is_success(vcenter: FakeVCenter) -> None:
    cloud = backend(vcenter)
    vm = cloud.create(job(), lambda: None).backend_id

    cloud.terminate(job(backend_id=vm), lambda: None)

    assert vm not in vcenter.vms
    assert cloud.get(vm) is None
    cloud.terminate(job(backend_id=vm), lambda: None)  # 404: nothing left to do


def test_an_id_that_is_not_a_vm_id_is_unknown_without_a_call(vcenter: FakeVCenter) -> None:
    cloud = backend(vcenter)

    assert cloud.get("../session") is None
    assert cloud.get("") is None
    cloud.terminate(job(backend_id="vm-1/../../session"), lambda: None)
    assert not any("session" in r.path and r.method == "DELETE" for r in vcenter.requests)


def test_get_reports_a_stopped_vm_as_existing_with_its_power_state(vcenter: FakeVCenter) -> None:
    vm = vcenter.add_vm("legacy", on=False)

    seen = backend(vcenter).get(vm)

    assert seen is not None
    assert (seen.state, seen.name) == (RemoteState.OK, "legacy")
    assert seen.metadata["runtime_state"] == "POWERED_OFF"
    assert seen.limits == {"cpu": 2, "ram": 2048, "disk": 10240}


def test_list_offers_the_vms_of_the_offerings_folder_for_import(vcenter: FakeVCenter) -> None:
    ours = vcenter.add_vm("db", folder="group-v3", cpu=4, ram=4096)
    vcenter.add_vm("elsewhere", folder="group-v99")

    listed = list(backend(vcenter).list())

    assert [(r.backend_id, r.name, r.limits, r.type) for r in listed] == [
        (ours, "db", {"cpu": 4, "ram": 4096}, "virtual_machine")
    ]
    assert backend(vcenter).usage(ours, datetime.date(2026, 12, 1)) == {}


def test_an_expired_session_is_renewed_once(vcenter: FakeVCenter) -> None:
    cloud = backend(vcenter)
    vm = vcenter.add_vm("a")
    assert cloud.get(vm) is not None
    vcenter.expire_sessions()

    assert cloud.get(vm) is not None
    assert [r.path for r in vcenter.requests].count("/api/session") == 2


# --- failures -------------------------------------------------------------------------------------
def test_wrong_credentials_are_a_clear_refusal_that_never_shows_the_password(vcenter: FakeVCenter) -> None:
    with pytest.raises(ProviderError) as caught:
        backend(vcenter, password="not-the-Pa55word").create(job(), lambda: None)

    assert not isinstance(caught.value, TransientError)
    assert "user name and password" in str(caught.value)
    assert "not-the-Pa55word" not in str(caught.value)


def test_a_refusal_carries_vcenters_words(vcenter: FakeVCenter) -> None:
    vcenter.add_vm("taken")
    vcenter.fail_next(error(403, "UNAUTHORIZED", "Permission to perform this operation was denied."))

    with pytest.raises(ProviderError) as caught:
        backend(vcenter).create(job(), lambda: None)

    assert not isinstance(caught.value, TransientError)
    assert "Permission to perform this operation was denied" in str(caught.value)


def test_a_5xx_is_transient(vcenter: FakeVCenter) -> None:
    vcenter.fail_next(error(503, "SERVICE_UNAVAILABLE", "The service is unavailable."))

    with pytest.raises(TransientError, match="503"):
        backend(vcenter).create(job(), lambda: None)


def test_an_unreachable_vcenter_is_transient(vcenter: FakeVCenter, certificate: Certificate) -> None:
    closed = vcenter.url.rsplit(":", 1)[0] + ":9"  # the discard port: nothing listens on loopback

    with pytest.raises(TransientError, match="could not be reached"):
        backend(vcenter, host=closed).get("vm-1")


def test_an_answer_past_the_bound_is_refused(vcenter: FakeVCenter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cirrus_vmware.client.ANSWER_MAX", 200)
    for n in range(5):
        vcenter.add_vm(f"vm{n}")

    with pytest.raises(ProviderError, match="over 200 bytes"):
        list(backend(vcenter).list())


def test_missing_placement_is_refused_before_calling_create(vcenter: FakeVCenter) -> None:
    with pytest.raises(ProviderError, match="folder and a cluster"):
        backend(vcenter, options={"cluster": "", "folder": "group-v3"}).create(job(), lambda: None)

    assert not any(r.method == "POST" and r.path == "/api/vcenter/vm" for r in vcenter.requests)


@pytest.mark.parametrize(
    "host",
    [
        "http://vcenter.example.com",
        "https://10.0.0.5",
        "https://169.254.169.254",
        "https://[::ffff:10.0.0.1]",
        "https://user:pw@vcenter.example.com",
        "ftp://vcenter.example.com",
    ],
)
def test_a_host_that_is_not_public_https_is_refused(vcenter: FakeVCenter, host: str) -> None:
    with pytest.raises(ProviderError, match="host"):
        backend(vcenter, host=host)


def test_loopback_is_refused_without_the_test_opt_in(
    vcenter: FakeVCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK")

    with pytest.raises(ProviderError, match="loopback"):
        backend(vcenter)


def test_a_host_name_resolving_inside_is_refused_before_connecting(
    vcenter: FakeVCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chalicelib.providers.outbound.resolve", lambda host, port: ["10.1.2.3"])

    with pytest.raises(ProviderError, match="private"):
        backend(vcenter, host="https://vcenter.example.com").get("vm-1")
    assert vcenter.requests == []


def test_connections_go_to_the_vetted_address_and_tls_checks_the_host_name(
    vcenter: FakeVCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr("chalicelib.providers.outbound.resolve", resolve)
    port = vcenter.url.rsplit(":", 1)[1]
    vm = vcenter.add_vm("a")

    cloud = backend(vcenter, host=f"https://{FAKE_HOST_NAME}:{port}")
    assert cloud.get(vm) is not None
    assert cloud.get(vm) is not None
    with pytest.raises(ProviderError, match="certificate"):
        backend(vcenter, host=f"https://other.provider.test:{port}").get(vm)

    assert asked == [FAKE_HOST_NAME, "other.provider.test"]  # resolved once per backend, then pinned
    assert {r.headers["host"] for r in vcenter.requests} == {f"{FAKE_HOST_NAME}:{port}"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"folder": "../etc"}, "folder"),
        ({"guest_os": "ubuntu; rm"}, "guest_os"),
        ({"cores_per_socket": 0}, "cores_per_socket"),
        ({"default_limits": {"cpu": 1, "gpu": 1}}, "default_limits"),
        ({"default_limits": {"ram": 10**12}}, "default_limits.ram"),
        (
            {"ca_certificate": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"},
            "ca_certificate",
        ),
    ],
)
def test_plugin_options_are_validated(options: dict[str, Any], message: str) -> None:
    found = Registry().get(TYPE)
    assert found is not None and found.validate_plugin_options is not None

    with pytest.raises(ValueError, match=message):
        found.validate_plugin_options(found.plugin_options(options))


def test_secrets_never_reach_messages_metadata_or_logs(
    vcenter: FakeVCenter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cloud = backend(vcenter)
    made = cloud.create(job(), lambda: None)
    seen = [repr(made), repr(cloud.get(made.backend_id)), repr(list(cloud.list()))]
    vcenter.fail_next(error(500, "ERROR", "boom"))
    with pytest.raises(TransientError) as caught:
        cloud.get(made.backend_id)
    seen.append(str(caught.value))
    sessions = list(vcenter.sessions)

    text = " ".join(seen) + caplog.text
    assert PASSWORD not in text
    assert not any(session in text for session in sessions)


def test_the_fake_checks_what_it_is_sent(vcenter: FakeVCenter) -> None:
    """The fake refuses calls without the session header and /rest's {"spec": ...} envelope."""
    import requests

    verify = os.environ["REQUESTS_CA_BUNDLE"]
    anonymous = requests.get(f"{vcenter.url}/api/vcenter/vm", timeout=5, verify=verify)
    login = requests.post(
        f"{vcenter.url}/api/session", auth=(vcenter.username, PASSWORD), timeout=5, verify=verify
    )
    enveloped = requests.post(
        f"{vcenter.url}/api/vcenter/vm",
        json={"spec": {"name": "x"}},
        headers={"vmware-api-session-id": login.json()},
        timeout=5,
        verify=verify,
    )

    assert (anonymous.status_code, anonymous.json()["error_type"]) == (401, "UNAUTHENTICATED")
    assert login.status_code == 201
    assert (enveloped.status_code, enveloped.json()["error_type"]) == (400, "INVALID_ARGUMENT")


# --- through the order workflow's processor -------------------------------------------------------
def test_the_create_processor_provisions_with_the_password_from_secrets_manager(
    vcenter: FakeVCenter, aws: None
) -> None:
    from chalicelib.domain.orders import Order
    from chalicelib.domain.vocabulary import Offering, OrderState, OrderType
    from chalicelib.providers.types import ProcessorKind
    from chalicelib.workflows import cloud_driver as driver
    from chalicelib.workflows import steps
    from chalicelib.workflows.aws import client

    secret = {"host": vcenter.url, "username": vcenter.username, "password": PASSWORD}
    arn = client("secretsmanager").create_secret(Name="cirrus/providers/vc", SecretString=json.dumps(secret))[
        "ARN"
    ]
    offering = Offering(
        id="of1",
        customer_id="prov1",
        name="vSphere",
        type=TYPE,
        plugin_options=OPTIONS,
        secret_options={"secret_arn": arn},
    )
    now = datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC)
    order = Order(
        id="or1",
        type=OrderType.CREATE,
        state=OrderState.EXECUTING,
        customer_id="c1",
        project_id="p1",
        offering_id="of1",
        provider_id="prov1",
        resource_id=RESOURCE,
        created=now,
        modified=now,
        resource_name="db",
        limits={"cpu": 1, "ram": 512},
    )

    done = driver.processor(ProcessorKind.CREATE)(order, offering, lambda: None)
    refused = dataclasses.replace(offering, plugin_options={**OPTIONS, "folder": ""})
    with pytest.raises(steps.PermanentStepError, match="folder"):
        driver.processor(ProcessorKind.CREATE)(
            dataclasses.replace(order, resource_id="e" * 32), refused, lambda: None
        )

    assert vcenter.vms[done["backend_id"]]["memory"]["size_MiB"] == 512
    assert done["backend_metadata"]["runtime_state"] == "POWERED_ON"


def test_a_private_ca_in_the_plugin_options_verifies_vcenters_certificate(
    vcenter: FakeVCenter, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    vm = vcenter.add_vm("a")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # only the offering's CA is trusted
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)

    seen = backend(vcenter, {"ca_certificate": certificate.cert_path.read_text()}).get(vm)

    assert seen is not None and seen.name == "a"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_ssl_false_reaches_a_vcenter_whose_certificate_is_not_trusted(
    vcenter: FakeVCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    vm = vcenter.add_vm("a")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # the system's authorities do not know the fake's

    with pytest.raises(ProviderError, match="certificate") as caught:
        backend(vcenter).get(vm)
    assert not isinstance(caught.value, TransientError)  # retrying will not make it trusted
    assert backend(vcenter, verify_ssl=False).get(vm) is not None
