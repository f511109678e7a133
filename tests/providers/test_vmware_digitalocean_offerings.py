"""A provider saving a VMware or DigitalOcean offering through the API gets Waldur's 400 for bad
plugin or secret options (never repeating a secret), and the type's built-in components on a good
one; the types come from the installed plugins' entry points."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Account, make_account
from tests.helpers import call, create_customer
from tests.integration.test_marketplace_catalog_api import OFFERINGS, offering_body

pytestmark = pytest.mark.fakes
VMWARE = {
    "host": "https://vcenter.example.com",
    "username": "administrator@vsphere.local",
    "password": "Pa55-w0rd-sekrit",
}


@pytest.fixture
def world(client: Any, staff: Account) -> dict[str, Any]:
    provider = create_customer(client, staff, "Cloud Provider")
    owner = make_account("owner")
    added = call(client, "POST", f"/api/customers/{provider['uuid']}/add_user/", staff,
                 {"user": owner.id, "role": "CUSTOMER.OWNER"})  # fmt: skip
    assert added.status == 201, added.json
    category = call(client, "POST", "/api/marketplace-categories/", staff, {"title": "Compute"}).json
    return {"provider": provider, "owner": owner, "category": category}


def save(client: Any, world: dict[str, Any], **fields: Any) -> Any:
    body = offering_body(world, components=[], plans=[], **fields)
    return call(client, "POST", OFFERINGS, world["owner"], body)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"secret_options": {**VMWARE, "host": "https://10.0.0.8"}}, "secret_options"),
        ({"secret_options": {**VMWARE, "host": "http://vcenter.example.com"}}, "secret_options"),
        ({"secret_options": {**VMWARE, "password": ""}}, "secret_options"),
        ({"secret_options": VMWARE, "plugin_options": {"folder": "a/../b"}}, "plugin_options"),
    ],
)
def test_bad_vmware_options_are_a_400(
    client: Any, world: dict[str, Any], fields: dict[str, Any], field: str
) -> None:
    reply = save(client, world, type="VMware.VirtualMachine", **fields)

    assert reply.status == 400 and list(reply.json) == [field], reply.json
    assert VMWARE["password"] not in str(reply.json)


def test_bad_digitalocean_options_are_a_400_that_never_repeat_the_token(
    client: Any, world: dict[str, Any]
) -> None:
    token = "dop_v1 leaked secret"
    bad_token = save(client, world, type="DigitalOcean.Droplet", secret_options={"token": token})
    bad_url = save(
        client,
        world,
        type="DigitalOcean.Droplet",
        secret_options={"token": "dop_v1_ok"},
        plugin_options={"api_url": "https://169.254.169.254"},
    )

    assert (bad_token.status, list(bad_token.json)) == (400, ["secret_options"])
    assert token not in str(bad_token.json)
    assert (bad_url.status, list(bad_url.json)) == (400, ["plugin_options"])


def test_good_options_save_the_offering_with_the_types_components(client: Any, world: dict[str, Any]) -> None:
    vmware = save(client, world, type="VMware.VirtualMachine", secret_options=VMWARE,
                  plugin_options={"folder": "group-v3", "cluster": "domain-c8"})  # fmt: skip
    droplets = save(client, world, type="DigitalOcean.Droplet", secret_options={"token": "dop_v1_ok"})

    assert vmware.status == 201, vmware.json
    assert droplets.status == 201, droplets.json
    assert sorted(c["type"] for c in vmware.json["components"]) == ["cpu", "disk", "ram"]
    assert [c["type"] for c in droplets.json["components"]] == ["droplet"]
