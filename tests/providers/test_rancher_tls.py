"""Marketplace.Rancher over https, as a real Rancher is reached: the fake Rancher serves a
self-signed certificate; with it as the offering's ca_certificate both requests (the v3 API) and the
kubernetes client (the cluster proxy) verify and go through, without it neither sends anything past
the handshake and the order fails for good with a message saying what to set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cirrus_rancher import options
from cirrus_rancher.kube import Kube

from chalicelib.providers.cloud import ProviderError, RemoteState, TransientError
from tests.providers.fakes.rancher_server import FakeRancher, self_signed
from tests.providers.rancher_helpers import CLUSTER, TOKEN, Beats, backend, job


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeRancher, str]]:
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")
    pem, context = self_signed(tmp_path)
    with FakeRancher(TOKEN, clusters=(CLUSTER,), tls=context) as server:
        yield server, pem


def test_with_the_ca_certificate_everything_goes_over_verified_https(tls: tuple[FakeRancher, str]) -> None:
    fake, pem = tls
    assert fake.url.startswith("https://127.0.0.1:")
    cloud = backend(fake, options_={"ca_certificate": pem})

    made = cloud.create(job(limits={"cpu": 1, "ram": 1}), Beats())

    assert made.state is RemoteState.OK and made.metadata["namespace"] in fake.namespaces(CLUSTER)
    assert (found := cloud.get(made.backend_id)) is not None and found.limits == {"cpu": 1, "ram": 1}


def test_an_unverifiable_rancher_certificate_fails_for_good(tls: tuple[FakeRancher, str]) -> None:
    fake, _ = tls

    with pytest.raises(ProviderError, match="certificate could not be verified") as caught:
        backend(fake).create(job(), Beats())

    assert not isinstance(caught.value, TransientError) and fake.calls == []


def test_an_unverifiable_cluster_certificate_fails_for_good(tls: tuple[FakeRancher, str]) -> None:
    fake, _ = tls
    kube = Kube(f"{fake.url}/k8s/clusters/{CLUSTER}", TOKEN)

    with pytest.raises(ProviderError, match="certificate could not be verified") as caught:
        kube.namespace("cirrus-x")

    assert not isinstance(caught.value, TransientError) and fake.calls == []


def test_the_ca_certificate_option_must_be_a_loadable_pem(tmp_path: Path) -> None:
    pem, _ = self_signed(tmp_path)
    options.check({**options.DEFAULTS, "ca_certificate": pem})
    for bad in ("not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 7):
        with pytest.raises(ValueError, match="ca_certificate"):
            options.check({**options.DEFAULTS, "ca_certificate": bad})
