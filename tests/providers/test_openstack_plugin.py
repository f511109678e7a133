"""The OpenStack plugin as Cirrus sees it: discovered through its installed `cirrus.providers` entry
point (a separately packaged distribution, plugins/cirrus-openstack), its three types with Waldur's
names and components, its plugin options checked (a 400 through the API), no SDK imported by
discovery, and the platform's driver running its backend as the order workflow's processor."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import pytest

from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import BillingType, Offering, OrderState, OrderType
from chalicelib.providers import driver
from chalicelib.providers.registry import ProcessorKind, Registry
from tests.conftest import Account, make_account
from tests.helpers import call, create_customer
from tests.providers.fakes.openstack_server import OpenStackFake
from tests.providers.openstack_helpers import cloud, secrets_for

__all__ = ["cloud"]

TYPES = ("OpenStack.Tenant", "OpenStack.Instance", "OpenStack.Volume")


def test_the_entry_point_is_installed_and_names_the_register_function() -> None:
    (entry,) = [e for e in metadata.entry_points(group="cirrus.providers") if e.name == "openstack"]

    assert entry.value == "cirrus_openstack:register"
    assert entry.dist is not None and entry.dist.name == "cirrus-openstack"


def test_a_fresh_registry_discovers_the_three_types_with_their_components() -> None:
    registry = Registry()

    tenant, instance, volume = (registry.get(name) for name in TYPES)

    assert tenant and instance and volume
    assert [(c.type, c.name, c.measured_unit, c.billing_type) for c in tenant.components] == [
        ("cores", "Cores", "cores", BillingType.LIMIT),
        ("ram", "RAM", "MB", BillingType.LIMIT),
        ("storage", "Storage", "MB", BillingType.LIMIT),
    ]
    assert instance.components == ()
    assert [(c.type, c.measured_unit, c.billing_type) for c in volume.components] == [
        ("size", "GB", BillingType.LIMIT)
    ]
    for found in (tenant, instance, volume):
        assert found.automatic and found.cloud is not None
        assert {"auth_url", "username", "password", "project_name"} <= found.secret_attributes
        for kind in (ProcessorKind.CREATE, ProcessorKind.UPDATE, ProcessorKind.TERMINATE):
            assert registry.processor(found.name, kind) is not None


@pytest.mark.parametrize(
    "options",
    [
        {"poll_interval_seconds": 0},
        {"wait_timeout_seconds": "soon"},
        {"api_timeout_seconds": True},
        {"availability_zone": "zone a; rm -rf"},
        {"network_id": 42},
    ],
)
def test_bad_plugin_options_are_refused(options: dict[str, Any]) -> None:
    tenant = Registry().get("OpenStack.Tenant")
    assert tenant is not None and tenant.validate_plugin_options is not None

    with pytest.raises(ValueError):
        tenant.validate_plugin_options(tenant.plugin_options(options))


def test_discovery_imports_no_sdk() -> None:
    code = (
        "import sys; from chalicelib.providers.registry import Registry; "
        "assert Registry().get('OpenStack.Tenant'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openstack', 'keystoneauth1')))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )

    assert ran.stdout.strip() == "[]"


# --- through the API -----------------------------------------------------------------------------
@pytest.fixture
def owner(client: Any, staff: Account) -> dict[str, Any]:
    provider = create_customer(client, staff, "Cloud Provider")
    account = make_account("owner", full_name="Provider Owner")
    reply = call(
        client,
        "POST",
        f"/api/customers/{provider['uuid']}/add_user/",
        staff,
        {"user": account.id, "role": "CUSTOMER.OWNER"},
    )
    assert reply.status in (200, 201), reply.json
    category = call(client, "POST", "/api/marketplace-categories/", staff, {"title": "Private cloud"}).json
    return {"account": account, "provider": provider, "category": category}


def offering(client: Any, owner: dict[str, Any], **fields: Any) -> Any:
    body = {
        "name": "OpenStack tenants",
        "category": owner["category"]["url"],
        "customer": owner["provider"]["url"],
        "type": "OpenStack.Tenant",
        **fields,
    }
    return call(client, "POST", "/api/marketplace-provider-offerings/", owner["account"], body)


@pytest.mark.fakes
def test_an_openstack_tenant_offering_brings_waldurs_components(client: Any, owner: dict[str, Any]) -> None:
    reply = offering(client, owner)

    assert reply.status == 201, reply.json
    assert {c["type"]: c["billing_type"] for c in reply.json["components"]} == {
        "cores": "limit",
        "ram": "limit",
        "storage": "limit",
    }
    assert reply.json["plugin_options"]["poll_interval_seconds"] == 5


@pytest.mark.fakes
def test_bad_plugin_options_are_a_400_on_plugin_options(client: Any, owner: dict[str, Any]) -> None:
    reply = offering(client, owner, plugin_options={"wait_timeout_seconds": 10**9})

    assert reply.status == 400
    assert "plugin_options" in reply.json


# --- the platform's driver runs the backend ----------------------------------------------------------
def _order(offering: Offering, **fields: Any) -> Order:
    now = datetime.now(UTC)
    return Order(
        id=uuid.uuid4().hex,
        type=OrderType.CREATE,
        state=OrderState.EXECUTING,
        customer_id=uuid.uuid4().hex,
        project_id=uuid.uuid4().hex,
        offering_id=offering.id,
        provider_id=offering.customer_id,
        resource_id=uuid.uuid4().hex,
        created=now,
        modified=now,
        resource_name="vol-1",
        **fields,
    )


def test_the_drivers_create_processor_provisions_through_the_backend(cloud: OpenStackFake) -> None:
    from chalicelib.workflows import steps

    volumes = Offering(
        id=uuid.uuid4().hex,
        customer_id=uuid.uuid4().hex,
        name="Volumes",
        type="OpenStack.Volume",
        plugin_options={"poll_interval_seconds": 0.01},
        secret_options=secrets_for(cloud),
    )
    create = driver.processor(ProcessorKind.CREATE)

    done = create(_order(volumes, limits={"size": 3}), volumes, lambda: None)

    assert done["backend_id"] in cloud.volumes
    assert done["backend_metadata"]["size"] == 3
    cloud.fail("POST", r"/volumes$", 503, "Service Unavailable")
    with pytest.raises(steps.TransientStepError):
        create(_order(volumes, limits={"size": 1}), volumes, lambda: None)
    with pytest.raises(steps.PermanentStepError, match="size"):
        create(_order(volumes), volumes, lambda: None)
