"""How Marketplace.Rancher's backend fails against the fake Rancher: a refusal (4xx) is a
ProviderError carrying Rancher's or the Kubernetes Status's own message, what is worth retrying (5xx,
a dropped connection, a timeout) a TransientError, and the token never shows in a message or a log."""

from __future__ import annotations

import logging

import pytest
from cirrus_rancher.kube import Kube
from cirrus_rancher.rancher_api import RancherApi

from chalicelib.providers.cloud import ProviderError, TransientError
from tests.providers.fakes.rancher_server import FakeRancher, _error, _kube_status
from tests.providers.rancher_helpers import CLUSTER, TOKEN, Beats, backend, fake, job

__all__ = ["fake"]

NAMESPACES = f"/k8s/clusters/{CLUSTER}/api/v1/namespaces"


def refused(call: object, kind: type[ProviderError] = ProviderError) -> str:
    with pytest.raises(kind) as caught:
        call()  # type: ignore[operator]
    text = str(caught.value)
    if kind is ProviderError:  # a refusal for good, not one the workflow would retry
        assert not isinstance(caught.value, TransientError)
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    return text


def test_a_cluster_rancher_does_not_know_is_refused_with_rancher_message(fake: FakeRancher) -> None:
    cloud = backend(fake, options_={"cluster_id": "c-m-nothere"})

    text = refused(lambda: cloud.create(job(limits={"cpu": 1}), Beats()))

    assert "HTTP 422" in text and "invalid reference: cluster c-m-nothere" in text
    assert fake.projects() == []


def test_a_wrong_token_is_refused_without_repeating_it(fake: FakeRancher) -> None:
    cloud = backend(fake, secrets={"token": "token-zzzzz:wrongwrongwrongwrongwrong"})

    text = refused(lambda: cloud.create(job(), Beats()))

    assert "HTTP 401" in text and "must authenticate" in text and "wrongwrong" not in text


def test_rancher_5xx_is_transient(fake: FakeRancher) -> None:
    fake.fail_next(
        "GET", "/v3/projects", 503, _error(503, "cluster agent is not connected", "ClusterUnavailable")
    )

    text = refused(lambda: backend(fake).create(job(), Beats()), TransientError)

    assert "HTTP 503" in text and "cluster agent is not connected" in text


def test_a_dropped_connection_is_transient(fake: FakeRancher) -> None:
    fake.fail_next("POST", "/v3/projects", 0, drop=True)

    text = refused(lambda: backend(fake).create(job(), Beats()), TransientError)

    assert "could not be reached" in text


def test_a_rancher_that_does_not_answer_in_time_is_transient(fake: FakeRancher) -> None:
    fake.state.delay = 0.3
    api = RancherApi(fake.url, TOKEN, timeout=(0.05, 0.05))

    text = refused(lambda: api.project(f"{CLUSTER}:p-abcde"), TransientError)

    assert "in time" in text


def test_a_cluster_api_that_does_not_answer_in_time_is_transient(fake: FakeRancher) -> None:
    fake.state.delay = 0.3
    kube = Kube(f"{fake.url}/k8s/clusters/{CLUSTER}", TOKEN, timeout=(0.05, 0.05))

    text = refused(lambda: kube.namespace("cirrus-x"), TransientError)

    assert "could not be reached" in text


def test_a_kubernetes_refusal_carries_the_status_message(fake: FakeRancher) -> None:
    message = (
        'namespaces is forbidden: User "u-abcde" cannot create resource "namespaces" at the cluster scope'
    )
    fake.fail_next("POST", NAMESPACES, 403, _kube_status(403, message, "Forbidden"))

    text = refused(lambda: backend(fake).create(job(), Beats()))

    assert "HTTP 403" in text and message in text


def test_kubernetes_5xx_and_dropped_connections_are_transient(fake: FakeRancher) -> None:
    cloud = backend(fake)
    order = job(limits={"cpu": 1})
    fake.fail_next(
        "POST", NAMESPACES, 500, _kube_status(500, "etcdserver: request timed out", "InternalError")
    )
    assert "etcdserver: request timed out" in refused(lambda: cloud.create(order, Beats()), TransientError)
    fake.fail_next("POST", NAMESPACES, 0, drop=True)
    refused(lambda: cloud.create(order, Beats()), TransientError)

    made = cloud.create(order, Beats())  # and the retry finishes the one project

    assert len(fake.projects()) == 1 and made.metadata["namespace"] in fake.namespaces(CLUSTER)


def test_a_namespace_of_the_same_name_that_is_not_ours_is_refused(fake: FakeRancher) -> None:
    order = job()
    made = backend(fake).create(job(), Beats())
    squatter = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": f"cirrus-{order.resource_uuid}", "labels": {"team": "b"}},
    }
    Kube(f"{fake.url}/k8s/clusters/{CLUSTER}", TOKEN).create_namespace(squatter)

    text = refused(lambda: backend(fake).create(order, Beats()))

    assert "is not this resource's" in text and made.backend_id


def test_a_token_rancher_echoes_is_scrubbed(fake: FakeRancher) -> None:
    fake.fail_next(
        "POST", "/v3/projects", 422, _error(422, f"bad request from {TOKEN}", "InvalidBodyContent")
    )

    text = refused(lambda: backend(fake).create(job(), Beats()))

    assert "bad request from ***" in text


def test_nothing_logged_carries_the_token(fake: FakeRancher, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cloud = backend(fake)
    made = cloud.create(job(limits={"cpu": 1}), Beats())
    fake.fail_next("PUT", "/v3/projects", 500)
    refused(lambda: cloud.update(job(backend_id=made.backend_id, limits={"cpu": 2}), Beats()), TransientError)

    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


def test_a_project_that_errs_while_starting_fails_the_order_with_rancher_words(fake: FakeRancher) -> None:
    fake.state.initializing_reads = 5
    cloud = backend(fake)
    order = job()
    fake.fail_next("GET", "/v3/projects/", 0, drop=True)  # the first poll fails: retried as a whole
    refused(lambda: cloud.create(order, Beats()), TransientError)
    [project] = fake.projects()
    fake.set_project(
        project["id"], transitioning="error", transitioningMessage="namespace quota exceeds project limit"
    )

    text = refused(lambda: cloud.create(order, Beats()))

    assert "namespace quota exceeds project limit" in text


def test_updating_a_project_deleted_behind_cirrus_back_says_so(fake: FakeRancher) -> None:
    cloud = backend(fake)
    made = cloud.create(job(), Beats())
    fake.remove_project(made.backend_id)

    text = refused(lambda: cloud.update(job(backend_id=made.backend_id, limits={"cpu": 2}), Beats()))

    assert "does not exist any more" in text


def test_a_pagination_link_to_another_host_is_not_followed(fake: FakeRancher) -> None:
    api = RancherApi(fake.url, TOKEN)

    text = refused(lambda: api._same_origin("http://169.254.169.254/latest/meta-data"))

    assert "another host" in text


def test_an_oversized_answer_is_refused_not_read_whole(fake: FakeRancher) -> None:
    padding = "x" * (8 * 2**20 + 10)
    fake.fail_next("GET", "/v3/projects", 200, {"type": "collection", "data": [], "padding": padding})
    assert "larger than 8 MiB" in refused(lambda: list(backend(fake).list()))

    fake.fail_next("GET", f"{NAMESPACES}/cirrus-x", 200, {"kind": "Namespace", "padding": padding})
    kube = Kube(f"{fake.url}/k8s/clusters/{CLUSTER}", TOKEN)
    assert "larger than 8 MiB" in refused(lambda: kube.namespace("cirrus-x"))


def test_an_answer_that_is_not_json_is_refused(fake: FakeRancher) -> None:
    fake.fail_next("GET", "/v3/projects", 200, "<html>login</html>")

    assert "not a collection" in refused(lambda: list(backend(fake).list()))


def test_a_project_of_another_cluster_is_neither_changed_nor_deleted(fake: FakeRancher) -> None:
    other = fake.add_project("c-other", "someone else's")
    cloud = backend(fake)

    assert "not in this offering's cluster" in refused(
        lambda: cloud.update(job(backend_id=other["id"], limits={"cpu": 64}), Beats())
    )
    assert "not in this offering's cluster" in refused(
        lambda: cloud.terminate(job(backend_id=other["id"]), Beats())
    )
    assert [p["id"] for p in fake.projects()] == [other["id"]]


@pytest.mark.parametrize("backend_id", ["..", "c-m-test1234:p-abc/../../users", "", "p-abcde"])
def test_a_backend_id_that_is_no_project_id_is_never_sent(fake: FakeRancher, backend_id: str) -> None:
    cloud = backend(fake)

    assert cloud.get(backend_id) is None
    assert "does not exist" in refused(lambda: cloud.update(job(backend_id=backend_id), Beats()))
    assert not [call for call in fake.calls if call[1].startswith("/v3/projects/")]


def test_a_wrong_kube_token_is_refused_by_the_cluster_api(fake: FakeRancher) -> None:
    cloud = backend(fake, secrets={"kube_api_url": fake.url, "kube_token": "kubetoken-wrong-wrong-wrong"})

    text = refused(lambda: cloud.create(job(), Beats()))

    assert (
        "The cluster refused to create namespace (HTTP 401: Unauthorized)" in text
        and "wrong-wrong" not in text
    )


def test_redirects_are_not_followed(fake: FakeRancher) -> None:
    elsewhere = {"Location": "http://169.254.169.254/latest/meta-data/"}
    fake.fail_next("GET", "/v3/projects", 302, {}, headers=elsewhere)
    assert "HTTP 302" in refused(lambda: list(backend(fake).list()))

    fake.fail_next("GET", f"{NAMESPACES}/cirrus-x", 307, {}, headers=elsewhere)
    kube = Kube(f"{fake.url}/k8s/clusters/{CLUSTER}", TOKEN)
    assert "HTTP 307" in refused(lambda: kube.namespace("cirrus-x"))
    assert len(fake.calls) == 2  # nothing more was asked, of the fake or elsewhere
