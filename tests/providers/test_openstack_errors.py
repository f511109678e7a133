"""How the OpenStack backends fail: the SDK's and keystoneauth's exceptions as the contract's errors
(5xx and unreachable -> TransientError; 4xx -> ProviderError in the API's words), the credentials
never in a message, metadata or log line, and outbound URLs guarded (auth_url and every catalog
endpoint: https to public addresses only, loopback only with the tests' opt-in)."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace

import pytest
from cirrus_openstack.cloud import check_url
from cirrus_openstack.instance import InstanceBackend
from cirrus_openstack.tenant import TenantBackend
from cirrus_openstack.volume import VolumeBackend

from chalicelib.providers.cloud import ProviderError, TransientError
from tests.providers.fakes.openstack_server import OpenStackFake
from tests.providers.openstack_helpers import Beats, cloud, job, settings_for

__all__ = ["cloud"]


def order(cloud: OpenStackFake):  # type: ignore[no-untyped-def]
    return job(plan_code="m1.small", attributes={"image": cloud.image_id, "network": cloud.network_id})


def test_wrong_credentials_are_a_provider_error_that_never_shows_the_password(cloud: OpenStackFake) -> None:
    wrong = "Wr0ng-Passw0rd-that-must-not-leak"
    backend = InstanceBackend(settings_for(cloud, password=wrong))

    with pytest.raises(ProviderError) as raised:
        backend.create(order(cloud), Beats())

    assert not isinstance(raised.value, TransientError)
    assert "credentials" in str(raised.value) and "401" in str(raised.value)
    assert wrong not in str(raised.value) and wrong not in repr(raised.value.__cause__)
    assert cloud.servers == {}


def test_a_5xx_is_transient_and_says_what_failed(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))
    cloud.fail("POST", r"/servers$", 500, "Unexpected API Error.")

    with pytest.raises(TransientError) as raised:
        backend.create(order(cloud), Beats())

    assert "create the server" in str(raised.value) and "HTTP 500" in str(raised.value)
    assert "Unexpected API Error." in str(raised.value)


def test_keystone_unavailable_is_transient(cloud: OpenStackFake) -> None:
    backend = VolumeBackend(settings_for(cloud))
    cloud.fail("POST", r"/auth/tokens$", 503, "Service Unavailable")

    with pytest.raises(TransientError):
        backend.get("any")


def test_an_unreachable_cloud_is_transient(cloud: OpenStackFake) -> None:
    with socket.socket() as spare:  # a loopback port nobody listens on
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    backend = TenantBackend(settings_for(cloud, auth_url=f"http://127.0.0.1:{port}/identity/v3"))

    with pytest.raises(TransientError, match="could not be reached"):
        backend.get("any")


def test_the_password_never_reaches_metadata_or_logs(
    cloud: OpenStackFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # keystoneauth and the SDK log every request at DEBUG
    backend = InstanceBackend(settings_for(cloud))

    made = backend.create(order(cloud), Beats())
    backend.terminate(replace(order(cloud), backend_id=made.backend_id), Beats())

    (auth,) = cloud.sent("POST", r"/auth/tokens$")
    assert auth.body["auth"]["identity"]["password"]["user"]["password"] == cloud.password  # it was sent
    assert any("auth/tokens" in r.getMessage() for r in caplog.records)  # and its request was logged
    assert cloud.password not in caplog.text
    assert cloud.password not in repr(made)
    assert cloud.password not in repr(backend.cloud.credentials)


def test_a_message_that_repeats_the_password_is_masked(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))
    made = backend.create(order(cloud), Beats())
    cloud.fail("POST", r"/action$", 409, f"echo {cloud.password}")  # an API that repeats it back

    with pytest.raises(ProviderError) as raised:
        backend.update(replace(order(cloud), backend_id=made.backend_id, plan_code="m1.medium"), Beats())

    assert cloud.password not in str(raised.value)
    assert "HTTP 409: echo ***" in str(raised.value)


def test_the_fake_refuses_calls_without_a_token(cloud: OpenStackFake) -> None:
    import requests

    answer = requests.get(f"{cloud.base}/compute/v2.1/servers/detail", timeout=5)

    assert answer.status_code == 401


# --- the URL guard ---------------------------------------------------------------------------------
def test_missing_secret_options_are_named(cloud: OpenStackFake) -> None:
    with pytest.raises(ProviderError, match="lack auth_url, password"):
        InstanceBackend(settings_for(cloud, auth_url="", password=""))


def test_auth_url_must_be_keystone_v3(cloud: OpenStackFake) -> None:
    with pytest.raises(ProviderError, match="v3"):
        InstanceBackend(settings_for(cloud, auth_url=f"{cloud.base}/identity/v2.0"))


@pytest.mark.parametrize(
    "url",
    [
        "http://keystone.example.com/v3",  # not https
        "https://10.0.0.5:5000/v3",  # private
        "https://169.254.169.254/v3",  # link-local (instance metadata)
        "https://[::1]/v3",  # loopback without the opt-in
        "https://127.1/v3",  # loopback in inet_aton's short form
        "https://user:pw@keystone.example.com/v3",  # credentials in the URL
        "ftp://keystone.example.com/v3",
    ],
)
def test_auth_urls_that_could_reach_inside_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", raising=False)

    with pytest.raises(ProviderError):
        check_url(url, "auth_url", resolve=lambda host, port: ["93.184.216.34"])


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(ProviderError, match="private"):
        check_url(
            "https://keystone.internal.example/v3", "auth_url", resolve=lambda host, port: ["192.168.1.10"]
        )


def test_a_public_https_url_passes() -> None:
    url = "https://keystone.example.com:5000/v3"

    assert check_url(url, "auth_url", resolve=lambda host, port: ["93.184.216.34"]) == url


def test_loopback_needs_the_opt_in(cloud: OpenStackFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK")

    with pytest.raises(ProviderError, match="https"):
        InstanceBackend(settings_for(cloud))


def test_the_opt_in_allows_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")

    with pytest.raises(ProviderError):
        check_url("http://10.1.2.3/v3", "auth_url")


def test_a_catalog_endpoint_at_a_private_address_is_never_called(cloud: OpenStackFake) -> None:
    cloud.endpoint_overrides["compute"] = "https://10.20.30.40/compute/v2.1"
    backend = InstanceBackend(settings_for(cloud))

    with pytest.raises(ProviderError, match="compute endpoint"):
        backend.list()

    assert [r.path for r in cloud.requests] == ["/identity/v3/auth/tokens"]


# --- the exception table (what the fake cannot provoke without a clock) ------------------------------
def _translated(exc: BaseException) -> ProviderError:
    from cirrus_openstack.cloud import translate

    return translate(exc, "create the server")


def test_timeouts_and_connection_failures_are_transient() -> None:
    from keystoneauth1 import exceptions as ksa

    for exc in (ksa.ConnectTimeout(), ksa.ConnectFailure(), ksa.RequestTimeout(), ksa.DiscoveryFailure()):
        assert isinstance(_translated(exc), TransientError), exc


def test_statuses_worth_retrying_are_transient_and_the_rest_are_not() -> None:
    import requests
    from openstack import exceptions as sdk

    def http(status: int) -> sdk.HttpException:
        response = requests.Response()
        response.status_code = status
        response._content = b'{"overLimit": {"code": %d, "message": "Try again later."}}' % status
        return sdk.HttpException(message="x", response=response)

    for status in (408, 429, 500, 502, 503, 504):
        assert isinstance(_translated(http(status)), TransientError), status
    for status in (400, 403, 404, 409, 413):
        error = _translated(http(status))
        assert not isinstance(error, TransientError), status
        assert f"HTTP {status}: Try again later." in str(error)


def test_a_refused_certificate_and_a_missing_endpoint_are_permanent() -> None:
    from keystoneauth1 import exceptions as ksa

    for exc in (ksa.SSLError(), ksa.EndpointNotFound(), ValueError("odd")):
        error = _translated(exc)
        assert not isinstance(error, TransientError), exc
        assert "create the server" in str(error)
