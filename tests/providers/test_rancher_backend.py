"""Marketplace.Rancher's backend against the fake Rancher (tests/providers/fakes/rancher_server.py):
requests and the real kubernetes client speak to it over loopback; what a provider and a consumer
would notice is asserted on what the fake holds afterwards."""

from __future__ import annotations

import json

import pytest

from chalicelib.providers.cloud import RemoteState
from tests.providers.fakes.rancher_server import FakeRancher
from tests.providers.rancher_helpers import CLUSTER, TOKEN, Beats, backend, fake, job

__all__ = ["fake"]

CATTLE = "authz.management.cattle.io"


def test_create_makes_a_project_a_namespace_in_it_and_its_quota(fake: FakeRancher) -> None:
    order = job(limits={"cpu": 2, "ram": 4, "storage": 10})
    beats = Beats()

    made = backend(fake).create(order, beats)

    [project] = fake.projects()
    assert made.backend_id == project["id"] and project["id"].startswith(f"{CLUSTER}:p-")
    assert made.state is RemoteState.OK
    assert project["name"] == "Team A allocation"
    assert project["labels"]["cirrus/resource-uuid"] == order.resource_uuid
    limit = {"requestsCpu": "2000m", "requestsMemory": "4Gi", "requestsStorage": "10Gi"}
    assert project["resourceQuota"]["limit"] == limit
    assert project["namespaceDefaultResourceQuota"]["limit"] == limit
    namespace = f"cirrus-{order.resource_uuid}"
    assert made.metadata == {"project_id": project["id"], "namespace": namespace, "cluster_id": CLUSTER}
    held = fake.namespaces(CLUSTER)[namespace]["metadata"]
    assert held["annotations"]["field.cattle.io/projectId"] == project["id"]
    assert json.loads(held["annotations"]["field.cattle.io/resourceQuota"]) == {"limit": limit}
    quota = fake.quota(CLUSTER, namespace, "cirrus-quota")
    assert quota is not None
    assert quota["spec"]["hard"] == {
        "requests.cpu": "2",
        "requests.memory": "4Gi",
        "requests.storage": "10Gi",
    }
    assert made.limits == {"cpu": 2, "ram": 4, "storage": 10}
    assert beats.count >= 1
    # Through Rancher's cluster proxy, with the bearer token the fake checked on every call.
    assert ("POST", f"/k8s/clusters/{CLUSTER}/api/v1/namespaces") in fake.calls


def test_get_reads_the_project_back_with_state_and_metadata(fake: FakeRancher) -> None:
    cloud = backend(fake)
    made = cloud.create(job(limits={"cpu": 1, "ram": 2, "storage": 5}), Beats())

    found = cloud.get(made.backend_id)

    assert found is not None
    assert (found.state, found.metadata, found.limits) == (
        RemoteState.OK,
        made.metadata,
        {"cpu": 1, "ram": 2, "storage": 5},
    )
    assert found.type == "project"


def test_a_project_still_initializing_is_waited_for_with_heartbeats(fake: FakeRancher) -> None:
    fake.state.initializing_reads = 3
    beats = Beats()

    made = backend(fake).create(job(limits={"cpu": 1}), beats)

    assert made.state is RemoteState.OK
    assert beats.count >= 3
    assert sum(1 for call in fake.calls if call[0] == "GET" and call[1].startswith("/v3/projects/")) >= 3


def test_a_project_that_never_becomes_active_is_retried_later_not_duplicated(fake: FakeRancher) -> None:
    from chalicelib.providers.cloud import TransientError

    fake.state.initializing_reads = 1000
    order = job(limits={"cpu": 1})
    cloud = backend(fake, options_={"ready_timeout_seconds": 0.05})
    try:
        cloud.create(order, Beats())
        raise AssertionError("expected a TransientError")
    except TransientError as exc:
        assert "not active yet" in str(exc)
    fake.state.initializing_reads = 0
    for project in fake.projects():
        fake.set_project(project["id"], state="active", transitioning="no")

    made = cloud.create(order, Beats())

    assert len(fake.projects()) == 1 and made.state is RemoteState.OK


def test_get_maps_rancher_states(fake: FakeRancher) -> None:
    cloud = backend(fake)
    made = cloud.create(job(), Beats())

    fake.set_project(made.backend_id, state="provisioning", transitioning="yes")
    assert (found := cloud.get(made.backend_id)) is not None and found.state is RemoteState.CREATING
    fake.set_project(made.backend_id, state="removing", transitioning="yes")
    assert (found := cloud.get(made.backend_id)) is not None and found.state is RemoteState.TERMINATING
    fake.set_project(
        made.backend_id,
        state="active",
        transitioning="error",
        transitioningMessage="quota exceeds cluster capacity",
    )
    found = cloud.get(made.backend_id)
    assert (
        found is not None
        and found.state is RemoteState.ERRED
        and found.error == "quota exceeds cluster capacity"
    )


def test_a_project_deleted_behind_cirrus_back_is_none(fake: FakeRancher) -> None:
    cloud = backend(fake)
    made = cloud.create(job(), Beats())
    fake.remove_project(made.backend_id)

    assert cloud.get(made.backend_id) is None


def test_a_project_of_another_cluster_is_not_this_offerings(fake: FakeRancher) -> None:
    other = fake.add_project("c-other", "elsewhere")

    assert backend(fake).get(other["id"]) is None


def test_update_sets_new_quotas_on_the_project_and_the_namespace(fake: FakeRancher) -> None:
    cloud = backend(fake)
    order = job(limits={"cpu": 2, "ram": 4, "storage": 10})
    made = cloud.create(order, Beats())

    changed = cloud.update(
        job(order.resource_uuid, backend_id=made.backend_id, limits={"cpu": 8, "ram": 16}), Beats()
    )

    [project] = fake.projects()
    limit = {"requestsCpu": "8000m", "requestsMemory": "16Gi", "requestsStorage": "10Gi"}
    assert project["resourceQuota"]["limit"] == limit == project["namespaceDefaultResourceQuota"]["limit"]
    namespace = made.metadata["namespace"]
    quota = fake.quota(CLUSTER, namespace, "cirrus-quota")
    assert quota is not None
    assert quota["spec"]["hard"] == {
        "requests.cpu": "8",
        "requests.memory": "16Gi",
        "requests.storage": "10Gi",
    }
    annotations = fake.namespaces(CLUSTER)[namespace]["metadata"]["annotations"]
    assert json.loads(annotations["field.cattle.io/resourceQuota"]) == {"limit": limit}
    assert changed.limits == {"cpu": 8, "ram": 16, "storage": 10}
    assert ("PUT", f"/v3/projects/{made.backend_id}") in fake.calls


def test_terminate_deletes_namespace_and_project_and_get_answers_none(fake: FakeRancher) -> None:
    cloud = backend(fake)
    order = job(limits={"cpu": 1})
    made = cloud.create(order, Beats())

    cloud.terminate(job(order.resource_uuid, backend_id=made.backend_id), Beats())

    assert fake.projects() == [] and fake.namespaces(CLUSTER) == {}
    assert cloud.get(made.backend_id) is None
    assert ("DELETE", f"/k8s/clusters/{CLUSTER}/api/v1/namespaces/{made.metadata['namespace']}") in fake.calls


def test_a_project_being_removed_reads_as_terminating(fake: FakeRancher) -> None:
    fake.state.removing_reads = 1
    cloud = backend(fake)
    order = job()
    made = cloud.create(order, Beats())

    cloud.terminate(job(order.resource_uuid, backend_id=made.backend_id), Beats())

    assert (found := cloud.get(made.backend_id)) is not None and found.state is RemoteState.TERMINATING
    assert cloud.get(made.backend_id) is None


def test_terminating_what_is_already_gone_succeeds(fake: FakeRancher) -> None:
    cloud = backend(fake)
    order = job()
    made = cloud.create(order, Beats())
    cloud.terminate(job(order.resource_uuid, backend_id=made.backend_id), Beats())

    cloud.terminate(job(order.resource_uuid, backend_id=made.backend_id), Beats())  # again: 404s are success

    assert fake.projects() == []


def test_terminate_leaves_a_namespace_that_is_not_this_resources(fake: FakeRancher) -> None:
    cloud = backend(fake)
    first, second = job(), job()
    made = cloud.create(first, Beats())
    cloud.create(second, Beats())

    cloud.terminate(job(second.resource_uuid, backend_id=made.backend_id), Beats())  # a mismatched order

    assert f"cirrus-{second.resource_uuid}" in fake.namespaces(CLUSTER)


def test_a_retried_create_makes_no_second_project_or_namespace(fake: FakeRancher) -> None:
    cloud = backend(fake)
    order = job(limits={"cpu": 2})
    first = cloud.create(order, Beats())

    again = cloud.create(order, Beats())

    assert again.backend_id == first.backend_id
    assert len(fake.projects()) == 1 and len(fake.namespaces(CLUSTER)) == 1
    assert sum(1 for call in fake.calls if call == ("POST", "/v3/projects")) == 1


def test_a_create_that_failed_after_the_project_finishes_on_retry(fake: FakeRancher) -> None:
    from chalicelib.providers.cloud import TransientError

    cloud = backend(fake)
    order = job(limits={"cpu": 2, "ram": 1})
    fake.fail_next(
        "POST", f"/k8s/clusters/{CLUSTER}/api/v1/namespaces/cirrus-{order.resource_uuid}/resourcequotas", 503
    )
    try:
        cloud.create(order, Beats())
        raise AssertionError("expected a TransientError")
    except TransientError:
        pass

    made = cloud.create(order, Beats())

    assert len(fake.projects()) == 1
    assert fake.quota(CLUSTER, made.metadata["namespace"], "cirrus-quota") is not None


def test_list_answers_every_project_of_the_cluster_across_pages(fake: FakeRancher) -> None:
    fake.state.page_size = 2
    cloud = backend(fake)
    made = cloud.create(job(), Beats())
    for index in range(3):
        fake.add_project(CLUSTER, f"team {index}", description="made in Rancher's UI")
    fake.add_project("c-other", "not this cluster")

    listed = list(cloud.list())

    assert len(listed) == 4
    assert made.backend_id in {r.backend_id for r in listed}
    imported = next(r for r in listed if r.name == "team 0")
    assert (imported.state, imported.type, imported.metadata["namespace"]) == (RemoteState.OK, "project", "")
    assert sum(1 for call in fake.calls if call == ("GET", "/v3/projects")) >= 2  # followed pagination.next


def test_default_limits_apply_when_the_order_gives_none(fake: FakeRancher) -> None:
    made = backend(fake, options_={"default_limits": {"cpu": 1, "ram": 2}}).create(job(), Beats())

    assert made.limits == {"cpu": 1, "ram": 2}


def test_without_limits_no_quota_is_set(fake: FakeRancher) -> None:
    made = backend(fake).create(job(), Beats())

    [project] = fake.projects()
    assert "resourceQuota" not in project
    assert fake.quota(CLUSTER, made.metadata["namespace"], "cirrus-quota") is None


def test_a_direct_kube_api_url_is_used_for_the_namespace(fake: FakeRancher) -> None:
    cloud = backend(fake, secrets={"kube_api_url": fake.url})

    made = cloud.create(job(limits={"cpu": 1}), Beats())

    assert ("POST", "/api/v1/namespaces") in fake.calls
    assert made.metadata["namespace"] in fake.namespaces(CLUSTER)


def test_usage_is_not_reported(fake: FakeRancher) -> None:
    from datetime import date

    assert backend(fake).usage("c-m-test1234:p-abcde", date(2026, 12, 1)) == {}


def test_the_token_is_sent_as_a_bearer_only(fake: FakeRancher) -> None:
    made = backend(fake).create(job(limits={"cpu": 1}), Beats())

    assert TOKEN not in json.dumps(made.metadata)
    assert TOKEN not in json.dumps(fake.projects())


def test_the_clusters_system_and_default_projects_are_neither_listed_nor_touched(fake: FakeRancher) -> None:
    from chalicelib.providers.cloud import ProviderError

    system = fake.add_project(CLUSTER, "System", labels={f"{CATTLE}/system-project": "true"})
    default = fake.add_project(CLUSTER, "Default", labels={f"{CATTLE}/default-project": "true"})
    cloud = backend(fake)

    assert list(cloud.list()) == []
    for project in (system, default):
        with pytest.raises(ProviderError, match="Cirrus does not change or delete it"):
            cloud.terminate(job(backend_id=project["id"]), Beats())
        with pytest.raises(ProviderError, match="Cirrus does not change or delete it"):
            cloud.update(job(backend_id=project["id"], limits={"cpu": 1}), Beats())
    assert len(fake.projects()) == 2 and not [c for c in fake.calls if c[0] in ("PUT", "DELETE")]
