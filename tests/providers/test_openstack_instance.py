"""OpenStack.Instance against the fake Nova, driven through openstacksdk: create -> get -> resize ->
terminate -> gone; list (importables); drift; ERROR with Nova's fault; idempotent create."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from cirrus_openstack.cloud import RESOURCE_KEY
from cirrus_openstack.instance import InstanceBackend, remote

from chalicelib.providers.cloud import ProviderError, RemoteState, TransientError
from tests.providers.fakes.openstack_server import OpenStackFake
from tests.providers.openstack_helpers import Beats, cloud, job, settings_for

__all__ = ["cloud"]


def order(cloud: OpenStackFake, **attributes: object):  # type: ignore[no-untyped-def]
    return job(
        plan_code="m1.small", attributes={"image": cloud.image_id, "network": cloud.network_id, **attributes}
    )


def test_create_waits_for_active_and_answers_the_server(cloud: OpenStackFake) -> None:
    cloud.polls_to_finish = 3
    backend, beats, wanted = InstanceBackend(settings_for(cloud)), Beats(), order(cloud)

    made = backend.create(wanted, beats)

    server = cloud.servers[made.backend_id]
    assert server["status"] == "ACTIVE"
    assert made.state is RemoteState.OK
    assert made.name == "web-1"
    assert made.metadata["flavor"] == "1"  # m1.small, found by name
    assert made.metadata["internal_ips"] == ["10.0.0.5"]
    assert server["metadata"][RESOURCE_KEY] == wanted.resource_uuid
    assert beats.count >= 2  # heartbeating while Nova builds
    (sent,) = cloud.sent("POST", r"/compute/v2\.1/servers$")
    assert sent.body["server"]["flavorRef"] == "1"
    assert sent.body["server"]["imageRef"] == cloud.image_id
    assert sent.body["server"]["networks"] == [{"uuid": cloud.network_id}]
    assert backend.get(made.backend_id) == made


def test_a_system_volume_size_boots_from_a_volume_made_from_the_image(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud, {"availability_zone": "zone-a"}))

    backend.create(order(cloud, system_volume_size=20 * 1024 + 1), Beats())

    (sent,) = cloud.sent("POST", r"/servers$")
    (mapping,) = sent.body["server"]["block_device_mapping_v2"]
    assert mapping["volume_size"] == 21  # MiB (Waldur's unit) rounded up to GiB
    assert mapping["source_type"] == "image" and mapping["destination_type"] == "volume"
    assert mapping["uuid"] == cloud.image_id
    assert sent.body["server"]["availability_zone"] == "zone-a"


def test_a_retried_create_adopts_the_server_the_first_try_made(cloud: OpenStackFake) -> None:
    backend, wanted = InstanceBackend(settings_for(cloud)), order(cloud)
    # Nova made the server, then the status read failed: the first try ends in a retryable error.
    cloud.fail("GET", r"/servers/[0-9a-f-]{36}$", 503, "Service Unavailable")
    with pytest.raises(TransientError):
        backend.create(wanted, Beats())

    made = backend.create(wanted, Beats())

    assert len(cloud.servers) == 1
    assert len(cloud.sent("POST", r"/servers$")) == 1
    assert made.backend_id in cloud.servers


def test_a_server_in_error_fails_the_create_with_novas_fault(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))

    with pytest.raises(ProviderError) as raised:
        backend.create(order(cloud, image=cloud.broken_image_id), Beats())

    assert not isinstance(raised.value, TransientError)
    assert "No valid host was found" in str(raised.value)
    (server,) = cloud.servers.values()
    found = backend.get(server["id"])
    assert found is not None and found.state is RemoteState.ERRED
    assert "No valid host was found" in found.error


def test_novas_refusal_reaches_the_order_in_its_words(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))

    with pytest.raises(ProviderError) as raised:
        backend.create(order(cloud, image="no-such-image"), Beats())

    assert not isinstance(raised.value, TransientError)
    assert "HTTP 400" in str(raised.value)
    assert "Image no-such-image could not be found." in str(raised.value)
    assert cloud.servers == {}


def test_an_unknown_flavor_or_a_missing_image_is_refused_before_any_server(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))

    with pytest.raises(ProviderError, match=r"no flavor m9\.huge"):
        backend.create(replace(order(cloud), plan_code="m9.huge"), Beats())
    with pytest.raises(ProviderError, match="image"):
        backend.create(replace(order(cloud), attributes={}), Beats())
    assert cloud.sent("POST", r"/servers$") == []


def test_update_resizes_to_the_new_plans_flavor_and_confirms(cloud: OpenStackFake) -> None:
    cloud.polls_to_finish = 2
    backend = InstanceBackend(settings_for(cloud))
    made = backend.create(order(cloud), Beats())

    changed = backend.update(
        replace(order(cloud), backend_id=made.backend_id, plan_code="m1.medium"), Beats()
    )

    assert changed.metadata["flavor"] == "2"
    assert changed.state is RemoteState.OK
    assert cloud.servers[made.backend_id]["_flavor"] == "2"
    actions = [r.body for r in cloud.sent("POST", r"/action$")]
    assert actions == [{"resize": {"flavorRef": "2"}}, {"confirmResize": None}]


def test_update_to_the_same_flavor_changes_nothing(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))
    made = backend.create(order(cloud), Beats())

    backend.update(replace(order(cloud), backend_id=made.backend_id), Beats())

    assert cloud.sent("POST", r"/action$") == []


def test_terminate_deletes_and_a_second_terminate_succeeds(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))
    made = backend.create(order(cloud), Beats())
    gone = replace(order(cloud), backend_id=made.backend_id)

    backend.terminate(gone, Beats())
    backend.terminate(gone, Beats())

    assert cloud.servers == {}
    assert backend.get(made.backend_id) is None


def test_a_server_deleted_behind_cirruss_back_reads_as_none(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))
    made = backend.create(order(cloud), Beats())

    del cloud.servers[made.backend_id]

    assert backend.get(made.backend_id) is None


def test_list_answers_every_server_of_the_project_as_importable_instances(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))
    first = backend.create(order(cloud), Beats())
    second = backend.create(replace(order(cloud), resource_name="db-1"), Beats())

    found = {r.backend_id: r for r in backend.list()}

    assert set(found) == {first.backend_id, second.backend_id}
    assert {r.type for r in found.values()} == {"instance"}
    assert found[second.backend_id].name == "db-1"


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("BUILD", RemoteState.CREATING),
        ("ACTIVE", RemoteState.OK),
        ("SHUTOFF", RemoteState.OK),
        ("RESIZE", RemoteState.UPDATING),
        ("VERIFY_RESIZE", RemoteState.UPDATING),
        ("ERROR", RemoteState.ERRED),
    ],
)
def test_novas_statuses_map_to_the_platforms(status: str, state: RemoteState) -> None:
    server = SimpleNamespace(id="s1", name="x", status=status, fault={"message": "boom"}, flavor={"id": "1"})

    found = remote(server)

    assert found is not None and found.state is state
    assert found.error == ("boom" if state is RemoteState.ERRED else "")


def test_a_deleted_server_maps_to_none() -> None:
    assert remote(SimpleNamespace(id="s1", name="x", status="DELETED")) is None


def test_a_flavor_embedded_by_newer_microversions_is_read_by_name() -> None:
    server = SimpleNamespace(
        id="s1", name="x", status="ACTIVE", flavor={"original_name": "m1.small", "vcpus": 1}
    )

    found = remote(server)

    assert found is not None and found.metadata["flavor"] == "m1.small"


def test_a_nova_with_newer_microversions_is_spoken_to_in_them(cloud: OpenStackFake) -> None:
    cloud.compute_max_version = "2.96"  # flavors embedded by name (2.47+), networks required (2.37+)
    backend = InstanceBackend(settings_for(cloud))

    made = backend.create(order(cloud), Beats())
    changed = backend.update(
        replace(order(cloud), backend_id=made.backend_id, plan_code="m1.medium"), Beats()
    )
    backend.update(replace(order(cloud), backend_id=made.backend_id, plan_code="m1.medium"), Beats())

    assert made.metadata["flavor"] == "m1.small"
    assert changed.metadata["flavor"] == "m1.medium"
    assert (
        len(cloud.sent("POST", r"/action$")) == 2
    )  # resize and confirm, once: the second update saw m1.medium
    (create,) = cloud.sent("POST", r"/servers$")
    assert create.headers["OpenStack-API-Version"].startswith("compute 2.")
    assert create.headers["OpenStack-API-Version"] != "compute 2.1"


def test_no_network_is_refused_before_any_server(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))

    with pytest.raises(ProviderError, match="network"):
        backend.create(replace(order(cloud), attributes={"image": cloud.image_id}), Beats())

    assert cloud.sent("POST", r"/servers$") == []


def test_a_retried_order_replaces_the_server_an_earlier_try_left_in_error(cloud: OpenStackFake) -> None:
    backend, wanted = InstanceBackend(settings_for(cloud)), order(cloud, image=cloud.broken_image_id)
    with pytest.raises(ProviderError):
        backend.create(wanted, Beats())
    (broken,) = cloud.servers
    cloud.broken_images.clear()  # the cloud has room again

    made = backend.create(wanted, Beats())

    assert list(cloud.servers) == [made.backend_id] and made.backend_id != broken
    assert made.state is RemoteState.OK


def test_list_and_the_idempotency_lookup_follow_novas_pages(cloud: OpenStackFake) -> None:
    backend = InstanceBackend(settings_for(cloud))
    made = [backend.create(replace(order(cloud), resource_name=f"vm-{n}"), Beats()) for n in range(3)]
    cloud.page_size = 1
    last = made[-1]
    retried = replace(order(cloud), resource_uuid=cloud.servers[last.backend_id]["metadata"][RESOURCE_KEY])

    assert {r.backend_id for r in backend.list()} == {m.backend_id for m in made}
    assert backend.create(retried, Beats()).backend_id == last.backend_id  # found on the last page
    assert len(cloud.sent("POST", r"/servers$")) == 3
    assert any("marker" in r.query for r in cloud.sent("GET", r"/servers/detail$"))
