"""An Azure offering's plugin options: a provider's mistake (a bad location, size list, image, or an
endpoint that is not https or points inside) is a 400 on `plugin_options` when the offering is
saved, in Waldur's shape; an endpoint on loopback only with the tests' explicit opt-in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Account
from tests.helpers import call, create_customer

pytest.importorskip("cirrus_azure")

from cirrus_azure import options

OFFERINGS = "/api/marketplace-provider-offerings/"


def checked(**given: Any) -> None:
    options.check_vm_options({**options.VM_DEFAULTS, **given})


def test_the_defaults_pass() -> None:
    checked()


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"location": "West Europe"}, "location"),
        ({"resource_group_prefix": "a/b"}, "resource_group_prefix"),
        ({"image": {"publisher": "Canonical", "offer": "x"}}, "image must be"),
        ({"images": {"bad name!": dict(options.DEFAULT_IMAGE)}}, "images must be named"),
        ({"sizes": []}, "sizes"),
        ({"default_size": "Standard_M128"}, "default_size"),
        ({"admin_username": "root"}, "admin_username"),
        ({"public_ip": "yes"}, "public_ip"),
        ({"vnet_cidr": "8.8.0.0/16", "subnet_cidr": "8.8.0.0/24"}, "private IPv4"),
        ({"subnet_cidr": "10.1.0.0/24"}, "inside vnet_cidr"),
        ({"os_disk_type": "Floppy"}, "os_disk_type"),
        ({"polling_interval": 0}, "polling_interval"),
        ({"sdk_retries": 11}, "sdk_retries"),
        ({"resource_manager_url": "http://management.azure.com"}, "https"),
        ({"resource_manager_url": "https://management.azure.com/x?y=1"}, "no path"),
        ({"resource_manager_url": "https://169.254.169.254"}, "internal address"),
        ({"authority_host": "https://10.0.0.1"}, "internal address"),
        ({"authority_host": "https://user:pw@login.example.com"}, "authority_host"),
    ],
)
def test_bad_options_are_refused_with_a_clear_reason(given: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        checked(**given)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"database_skus": ["S0", "XL"]}, "database_skus"),
        ({"database_skus": []}, "database_skus"),
        ({"default_database_sku": "P1"}, "default_database_sku"),
        ({"max_firewall_rules": 99}, "max_firewall_rules"),
        ({"location": ""}, "location"),
    ],
)
def test_bad_sql_options_are_refused(given: dict[str, Any], words: str) -> None:
    options.check_sql_options({**options.SQL_DEFAULTS})
    with pytest.raises(ValueError, match=words):
        options.check_sql_options({**options.SQL_DEFAULTS, **given})


def test_a_loopback_endpoint_needs_the_tests_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(options.ALLOW_LOOPBACK_ENV, raising=False)
    with pytest.raises(ValueError, match="internal address"):
        checked(resource_manager_url="https://127.0.0.1:8443")

    monkeypatch.setenv(options.ALLOW_LOOPBACK_ENV, "1")
    checked(resource_manager_url="https://127.0.0.1:8443", authority_host="https://localhost:8443")


def test_a_sovereign_cloud_endpoint_passes() -> None:
    checked(
        authority_host="https://login.chinacloudapi.cn",
        resource_manager_url="https://management.chinacloudapi.cn",
    )


# --- through the API ---------------------------------------------------------------------------------
@pytest.fixture
def provider(client: Any, staff: Account) -> dict[str, Any]:
    customer = create_customer(client, staff, "Azure Provider")
    category = call(client, "POST", "/api/marketplace-categories/", staff, {"title": "VMs"}).json
    return {"customer": customer["url"], "category": category["url"]}


def body(provider: dict[str, Any], **plugin_options: Any) -> dict[str, Any]:
    return {
        "name": "Azure VMs",
        "type": "Azure.VirtualMachine",
        "customer": provider["customer"],
        "category": provider["category"],
        "plugin_options": plugin_options,
        "secret_options": {"tenant_id": "t", "client_id": "c", "client_secret": "s", "subscription_id": "s1"},
        "plans": [{"name": "Small", "unit": "month", "unit_price": "12.00", "article_code": "Standard_B1s"}],
    }


@pytest.mark.fakes
def test_an_offering_with_an_internal_endpoint_is_refused_with_400(
    client: Any, staff: Account, provider: dict[str, Any]
) -> None:
    reply = call(
        client, "POST", OFFERINGS, staff, body(provider, resource_manager_url="https://169.254.169.254")
    )

    assert reply.status == 400, reply.json
    assert "internal address" in str(reply.json["plugin_options"])


@pytest.mark.fakes
def test_an_offering_without_all_credentials_is_refused_with_400_naming_what_is_missing(
    client: Any, staff: Account, provider: dict[str, Any]
) -> None:
    given = body(provider)
    given["secret_options"] = {"tenant_id": "t", "client_id": "c", "client_secret": "hunter2~secret"}

    reply = call(client, "POST", OFFERINGS, staff, given)

    assert (reply.status, reply.json) == (
        400,
        {"secret_options": ["The offering's secret options lack subscription_id."]},
    )
    assert "hunter2" not in str(reply.json)


@pytest.mark.fakes
def test_an_offering_gets_the_types_component_and_default_options(
    client: Any, staff: Account, provider: dict[str, Any]
) -> None:
    reply = call(client, "POST", OFFERINGS, staff, body(provider, location="northeurope"))

    assert reply.status == 201, reply.json
    assert reply.json["plugin_options"]["location"] == "northeurope"
    assert reply.json["plugin_options"]["default_size"] == "Standard_B1s"
    assert [c["type"] for c in reply.json["components"]] == ["vm"]
