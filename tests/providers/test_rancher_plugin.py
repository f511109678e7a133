"""Marketplace.Rancher as the platform sees it: found through its installed entry point with its
components and secret options, its plugin options checked (a 400 on the offering, not a failed order
later), and its URLs vetted before anything is sent."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from cirrus_rancher import options
from cirrus_rancher.backend import RancherBackend
from cirrus_rancher.urls import check_url

from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers.cloud import ProviderError
from chalicelib.providers.registry import Registry
from tests.helpers import call, create_customer
from tests.providers.fakes.rancher_server import FakeRancher
from tests.providers.rancher_helpers import TOKEN, fake, settings

__all__ = ["fake"]


def test_the_installed_entry_point_registers_marketplace_rancher() -> None:
    found = Registry().get("Marketplace.Rancher")

    assert found is not None and found.automatic and found.cloud is not None
    assert [(c.type, c.measured_unit, c.billing_type) for c in found.components] == [
        ("cpu", "cores", BillingType.LIMIT),
        ("ram", "GiB", BillingType.LIMIT),
        ("storage", "GiB", BillingType.LIMIT),
    ]
    assert {"rancher_url", "token", "kube_api_url", "kube_token"} <= found.secret_attributes
    assert found.plugin_options({})["namespace_prefix"] == "cirrus-"


def test_discovery_imports_neither_sdk() -> None:
    probe = (
        "import sys; from chalicelib.providers.registry import Registry; "
        "assert Registry().get('Marketplace.Rancher') is not None; "
        "print(sorted(m for m in ('kubernetes', 'requests') if m in sys.modules))"
    )
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert answer.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ({"cluster_id": "C-M-ABC"}, "cluster_id"),
        ({"cluster_id": "c-m-abc/../../v3/users"}, "cluster_id"),
        ({"default_limits": {"gpu": 1}}, "gpu is not one of"),
        ({"default_limits": {"cpu": -1}}, "default_limits.cpu"),
        ({"default_limits": {"ram": True}}, "default_limits.ram"),
        ({"default_limits": [1]}, "default_limits"),
        ({"namespace_prefix": "Cirrus_"}, "namespace_prefix"),
        ({"namespace_prefix": "x" * 21}, "namespace_prefix"),
        ({"poll_interval_seconds": 3600}, "poll_interval_seconds"),
        ({"request_timeout_seconds": 0}, "request_timeout_seconds"),
    ],
)
def test_bad_plugin_options_are_refused_clearly(given: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint.replace(".", r"\.")):
        options.check({**options.DEFAULTS, **given})


def test_good_plugin_options_pass() -> None:
    options.check({**options.DEFAULTS, "cluster_id": "c-m-abcd1234", "default_limits": {"cpu": 2, "ram": 4}})
    options.check({**options.DEFAULTS, "cluster_id": "local"})


OFFERINGS = "/api/marketplace-provider-offerings/"


@pytest.fixture
def provider(client: Any, staff: Any) -> dict[str, Any]:
    customer = create_customer(client, staff, "Rancher Provider")
    category = call(client, "POST", "/api/marketplace-categories/", staff, {"title": "Kubernetes"}).json
    return {"customer": customer["url"], "category": category["url"]}


def offering_body(provider: dict[str, Any], **plugin_options: Any) -> dict[str, Any]:
    return {
        "name": "Kubernetes share",
        "type": "Marketplace.Rancher",
        "customer": provider["customer"],
        "category": provider["category"],
        "plugin_options": plugin_options,
        "secret_options": {"rancher_url": "https://rancher.example.com", "token": TOKEN},
        "plans": [{"name": "Team", "unit": "month", "unit_price": "0", "prices": {"cpu": "10", "ram": "2"}}],
    }


@pytest.mark.fakes
def test_an_offering_with_bad_plugin_options_is_a_400_on_plugin_options(
    client: Any, staff: Any, provider: dict[str, Any]
) -> None:
    reply = call(client, "POST", OFFERINGS, staff, offering_body(provider, cluster_id="c-m-x/../../v3/users"))

    assert reply.status == 400, reply.json
    assert "cluster_id" in str(reply.json["plugin_options"])


@pytest.mark.fakes
def test_an_offering_gets_the_types_components_and_default_options(
    client: Any, staff: Any, provider: dict[str, Any]
) -> None:
    reply = call(client, "POST", OFFERINGS, staff, offering_body(provider, cluster_id="c-m-abcd1234"))

    assert reply.status == 201, reply.json
    assert reply.json["plugin_options"]["cluster_id"] == "c-m-abcd1234"
    assert reply.json["plugin_options"]["namespace_prefix"] == "cirrus-"
    assert [(c["type"], c["billing_type"]) for c in reply.json["components"]] == [
        ("cpu", "limit"),
        ("ram", "limit"),
        ("storage", "limit"),
    ]


@pytest.mark.fakes
@pytest.mark.parametrize(
    ("secrets", "complaint"),
    [
        ({"rancher_url": "https://169.254.169.254", "token": TOKEN}, "rancher_url"),
        ({"rancher_url": "http://rancher.example.com", "token": TOKEN}, "rancher_url"),
        ({"rancher_url": "https://rancher.example.com", "token": "token-abc:has spaces in it"}, "token"),
        ({"rancher_url": "https://rancher.example.com"}, "token"),
        (
            {
                "rancher_url": "https://rancher.example.com",
                "token": TOKEN,
                "kube_api_url": "https://10.0.0.5:6443",
            },
            "kube_api_url",
        ),
    ],
)
def test_bad_secret_options_are_a_400_on_secret_options_without_the_token(
    client: Any, staff: Any, provider: dict[str, Any], secrets: dict[str, Any], complaint: str
) -> None:
    body = {**offering_body(provider, cluster_id="c-m-abcd1234"), "secret_options": secrets}

    reply = call(client, "POST", OFFERINGS, staff, body)

    assert reply.status == 400, reply.json
    assert complaint in str(reply.json["secret_options"])
    assert "has spaces" not in str(reply.json) and TOKEN.split(":")[1] not in str(reply.json)


@pytest.mark.fakes
def test_a_secrets_manager_reference_is_taken_as_it_is(
    client: Any, staff: Any, provider: dict[str, Any]
) -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cirrus/providers/rancher-AbCdEf"
    body = {**offering_body(provider, cluster_id="c-m-abcd1234"), "secret_options": {"secret_arn": arn}}

    assert call(client, "POST", OFFERINGS, staff, body).status == 201


def test_a_host_name_is_judged_when_the_backend_is_built_not_when_saved() -> None:
    options.check_secrets({"rancher_url": "https://rancher.corp.example", "token": TOKEN})

    with pytest.raises(ValueError, match="internal"):
        check_url("rancher_url", "https://rancher.corp.example", resolver=private)


def public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def private(host: str, port: int) -> list[str]:
    return ["10.1.2.3"]


@pytest.mark.parametrize(
    "url",
    [
        "http://rancher.example.com",  # not https
        "https://127.0.0.1",
        "https://localhost:8443",
        "https://10.0.0.5",
        "https://169.254.169.254",
        "https://[::1]",
        "https://[::ffff:10.0.0.1]",
        "https://0x7f.1",
        "https://user:pw@rancher.example.com",
        "https://rancher.example.com?x=1",
        "ftp://rancher.example.com",
        "",
        42,
    ],
)
def test_internal_or_malformed_urls_are_refused(url: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", raising=False)

    with pytest.raises(ValueError, match="rancher_url"):
        check_url("rancher_url", url, resolver=public)


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", raising=False)

    with pytest.raises(ValueError, match="internal"):
        check_url("rancher_url", "https://rancher.corp.example", resolver=private)


def test_a_public_https_url_passes() -> None:
    assert (
        check_url("rancher_url", "https://rancher.example.com/", resolver=public)
        == "https://rancher.example.com"
    )


def test_the_loopback_opt_in_allows_loopback_and_nothing_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")

    assert check_url("rancher_url", "http://127.0.0.1:8080", resolver=public) == "http://127.0.0.1:8080"
    for url in ("http://10.0.0.5", "https://169.254.169.254", "http://rancher.example.com"):
        with pytest.raises(ValueError):
            check_url("rancher_url", url, resolver=public)


def test_a_backend_with_an_internal_url_or_no_token_is_not_built(
    fake: FakeRancher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ProviderError, match="kube_api_url"):
        RancherBackend(settings(fake, secrets={"kube_api_url": "https://10.0.0.5:6443"}))
    with pytest.raises(ProviderError, match="token") as caught:
        RancherBackend(settings(fake, secrets={"token": "token-abc: has spaces"}))
    assert "has spaces" not in str(caught.value)
    with pytest.raises(ProviderError, match="cluster_id"):
        RancherBackend(settings(fake, options_={"cluster_id": ""}))
    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK")
    with pytest.raises(ProviderError, match="rancher_url") as caught:
        RancherBackend(settings(fake))
    assert TOKEN not in str(caught.value)
