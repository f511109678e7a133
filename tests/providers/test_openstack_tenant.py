"""OpenStack.Tenant against the fake Keystone, Nova and Cinder, driven through openstacksdk: a
project with quotas from Waldur's limits (cores, ram MiB, storage MiB) -> get -> new quotas ->
terminate -> gone; list; idempotent create; terminate refused while the project holds servers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cirrus_openstack.cloud import TAG_PREFIX
from cirrus_openstack.tenant import TenantBackend

from chalicelib.providers.cloud import ProviderError, RemoteState
from tests.providers.fakes.openstack_server import OpenStackFake
from tests.providers.openstack_helpers import Beats, cloud, job, settings_for

__all__ = ["cloud"]

LIMITS = {"cores": 4, "ram": 8 * 1024, "storage": 100 * 1024}


def test_create_makes_a_tagged_project_with_quotas_from_the_limits(cloud: OpenStackFake) -> None:
    backend, wanted = TenantBackend(settings_for(cloud)), job("Lab", limits=LIMITS)

    made = backend.create(wanted, Beats())

    project = cloud.projects[made.backend_id]
    assert project["name"] == f"Lab-{wanted.resource_uuid[:8]}"
    assert project["domain_id"] == "default"
    assert project["tags"] == [TAG_PREFIX + wanted.resource_uuid]
    assert cloud.compute_quotas[made.backend_id]["cores"] == 4
    assert cloud.compute_quotas[made.backend_id]["ram"] == 8192  # MiB, as Nova counts it
    assert cloud.volume_quotas[made.backend_id]["gigabytes"] == 100  # MiB -> GiB for Cinder
    assert made.state is RemoteState.OK
    assert made.limits == LIMITS
    assert made.metadata["project_id"] == made.backend_id
    assert backend.get(made.backend_id) == made


def test_a_retried_create_adopts_the_project_and_sets_the_quotas(cloud: OpenStackFake) -> None:
    backend, wanted = TenantBackend(settings_for(cloud)), job("Lab", limits=LIMITS)
    cloud.fail("PUT", r"/compute/v2\.1/os-quota-sets/", 500, "Internal Server Error")
    with pytest.raises(ProviderError):
        backend.create(wanted, Beats())

    made = backend.create(wanted, Beats())

    assert len(cloud.sent("POST", r"/v3/projects$")) == 1
    assert len(cloud.projects) == 2  # the offering's own project and the tenant
    assert cloud.compute_quotas[made.backend_id]["cores"] == 4


def test_keystones_refusal_reaches_the_order_in_its_words(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud, {"domain_id": "other"}))
    cloud.fail(
        "POST",
        r"/v3/projects$",
        403,
        "You are not authorized to perform the requested action: identity:create_project.",
    )

    with pytest.raises(ProviderError) as raised:
        backend.create(job("Lab", limits=LIMITS), Beats())

    assert "HTTP 403" in str(raised.value) and "identity:create_project" in str(raised.value)


def test_update_pushes_the_new_limits_as_quotas(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud))
    made = backend.create(job("Lab", limits=LIMITS), Beats())

    changed = backend.update(
        replace(
            job("Lab", limits={**LIMITS, "cores": 16, "storage": 200 * 1024}), backend_id=made.backend_id
        ),
        Beats(),
    )

    assert changed.limits == {**LIMITS, "cores": 16, "storage": 200 * 1024}
    assert cloud.compute_quotas[made.backend_id]["cores"] == 16
    assert cloud.volume_quotas[made.backend_id]["gigabytes"] == 200


def test_terminate_deletes_the_project_and_a_second_terminate_succeeds(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud))
    made = backend.create(job("Lab", limits=LIMITS), Beats())
    gone = replace(job("Lab"), backend_id=made.backend_id)

    backend.terminate(gone, Beats())
    backend.terminate(gone, Beats())

    assert made.backend_id not in cloud.projects
    assert backend.get(made.backend_id) is None


def test_terminate_is_refused_while_the_project_holds_servers(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud))
    made = backend.create(job("Lab", limits=LIMITS), Beats())
    cloud.servers["s1"] = {
        "id": "s1",
        "name": "left",
        "status": "ACTIVE",
        "tenant_id": made.backend_id,
        "_flavor": "1",
        "_image": "",
    }

    with pytest.raises(ProviderError, match=r"still holds 1 server\(s\) and 0 volume\(s\)"):
        backend.terminate(replace(job("Lab"), backend_id=made.backend_id), Beats())

    assert made.backend_id in cloud.projects


def test_a_project_deleted_or_disabled_behind_cirruss_back(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud))
    first = backend.create(job("A", limits=LIMITS), Beats())
    second = backend.create(job("B", limits=LIMITS), Beats())

    del cloud.projects[first.backend_id]
    cloud.projects[second.backend_id]["enabled"] = False

    assert backend.get(first.backend_id) is None
    disabled = backend.get(second.backend_id)
    assert disabled is not None and disabled.state is RemoteState.ERRED
    assert disabled.error == "The Keystone project is disabled."


def test_list_answers_the_domains_projects_but_the_offerings_own(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud))
    made = backend.create(job("Lab", limits=LIMITS), Beats())

    (found,) = backend.list()

    assert (found.backend_id, found.type) == (made.backend_id, "tenant")


def test_a_negative_limit_is_refused_before_anything_is_made(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud))

    with pytest.raises(ProviderError, match="cores"):
        backend.create(job("Lab", limits={"cores": -1}), Beats())

    assert cloud.sent("POST", r"/v3/projects$") == []


# --- the tenant's network (the offering's external_network_id set) -------------------------------
def test_with_an_external_network_the_tenant_gets_a_network_subnet_and_router(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud, {"external_network_id": cloud.external_network_id}))

    made = backend.create(job("Lab", limits=LIMITS), Beats())

    name = cloud.projects[made.backend_id]["name"]
    network = cloud.networks[made.metadata["internal_network_id"]]
    subnet = cloud.subnets[made.metadata["subnet_id"]]
    router = cloud.routers[made.metadata["router_id"]]
    assert (network["name"], network["project_id"]) == (f"{name}-int-net", made.backend_id)
    assert (subnet["name"], subnet["cidr"], subnet["network_id"]) == (
        f"{name}-sub-net",
        "192.168.42.0/24",
        network["id"],
    )
    assert router["external_gateway_info"] == {"network_id": cloud.external_network_id}
    assert router["_interfaces"] == [subnet["id"]]


def test_a_retried_create_makes_no_second_network_or_interface(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud, {"external_network_id": cloud.external_network_id}))
    wanted = job("Lab", limits=LIMITS)
    cloud.fail("PUT", r"/add_router_interface$", 503, "Service Unavailable")
    with pytest.raises(ProviderError):
        backend.create(wanted, Beats())

    made = backend.create(wanted, Beats())

    assert len(cloud.sent("POST", r"/v2\.0/networks$")) == 1
    assert len(cloud.sent("POST", r"/v2\.0/routers$")) == 1
    assert cloud.routers[made.metadata["router_id"]]["_interfaces"] == [made.metadata["subnet_id"]]
    backend.create(wanted, Beats())  # a third try finds the interface too
    assert len([r for r in cloud.sent("PUT", r"/add_router_interface$")]) == 2  # the failed one and one more


def test_neutrons_refusal_of_a_bad_external_network_reaches_the_order(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud, {"external_network_id": cloud.network_id}))  # not external

    with pytest.raises(ProviderError) as raised:
        backend.create(job("Lab", limits=LIMITS), Beats())

    assert "HTTP 400" in str(raised.value) and "is not a valid external network" in str(raised.value)


def test_terminate_detaches_and_deletes_the_router_and_network_then_the_project(cloud: OpenStackFake) -> None:
    backend = TenantBackend(settings_for(cloud, {"external_network_id": cloud.external_network_id}))
    made = backend.create(job("Lab", limits=LIMITS), Beats())

    backend.terminate(replace(job("Lab"), backend_id=made.backend_id), Beats())

    assert made.metadata["router_id"] not in cloud.routers
    assert made.metadata["internal_network_id"] not in cloud.networks
    assert made.metadata["subnet_id"] not in cloud.subnets
    assert made.backend_id not in cloud.projects
    assert cloud.external_network_id in cloud.networks  # the shared one is not the tenant's


def test_a_subnet_cidr_that_is_not_private_is_refused() -> None:
    from cirrus_openstack.cloud import check_plugin_options

    for bad in ("8.8.8.0/24", "10.0.0.0/8", "192.168.1.1/24", "fd00::/64", 42):
        with pytest.raises(ValueError, match="subnet_cidr"):
            check_plugin_options({"subnet_cidr": bad})
