"""OpenStack.Volume against the fake Cinder, driven through openstacksdk: create -> get -> extend ->
terminate -> gone; list; drift; Cinder's refusals in its words; idempotent create."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cirrus_openstack.cloud import RESOURCE_KEY
from cirrus_openstack.volume import VolumeBackend

from chalicelib.providers.cloud import ProviderError, RemoteState, TransientError
from tests.providers.fakes.openstack_server import OpenStackFake
from tests.providers.openstack_helpers import Beats, cloud, job, settings_for

__all__ = ["cloud"]


def test_create_waits_for_available_and_answers_the_volume(cloud: OpenStackFake) -> None:
    cloud.polls_to_finish = 3
    backend, beats = VolumeBackend(settings_for(cloud, {"availability_zone": "zone-a"})), Beats()
    wanted = job("data", limits={"size": 10}, attributes={"type": "ssd"})

    made = backend.create(wanted, beats)

    volume = cloud.volumes[made.backend_id]
    assert volume["status"] == "available" and volume["size"] == 10
    assert volume["metadata"][RESOURCE_KEY] == wanted.resource_uuid
    assert volume["availability_zone"] == "zone-a" and volume["volume_type"] == "ssd"
    assert made.state is RemoteState.OK
    assert made.limits == {"size": 10}
    assert made.metadata["size"] == 10 and made.metadata["type_name"] == "ssd"
    assert beats.count >= 2
    assert backend.get(made.backend_id) == made


def test_waldurs_size_attribute_in_mib_is_rounded_up_to_gib(cloud: OpenStackFake) -> None:
    made = VolumeBackend(settings_for(cloud)).create(job("data", attributes={"size": 1536}), Beats())

    assert cloud.volumes[made.backend_id]["size"] == 2


def test_a_retried_create_adopts_the_volume_the_first_try_made(cloud: OpenStackFake) -> None:
    backend, wanted = VolumeBackend(settings_for(cloud)), job("data", limits={"size": 1})
    cloud.fail("GET", r"/volumes/[0-9a-f-]{36}$", 500, "Internal Server Error")
    with pytest.raises(TransientError):
        backend.create(wanted, Beats())

    backend.create(wanted, Beats())

    assert len(cloud.volumes) == 1
    assert len(cloud.sent("POST", r"/volumes$")) == 1


def test_cinders_quota_refusal_reaches_the_order_in_its_words(cloud: OpenStackFake) -> None:
    backend = VolumeBackend(settings_for(cloud))

    with pytest.raises(ProviderError) as raised:
        backend.create(job("huge", limits={"size": 5000}), Beats())

    assert not isinstance(raised.value, TransientError)
    assert "HTTP 413" in str(raised.value) and "exceeds allowed gigabytes quota" in str(raised.value)


def test_update_extends_to_the_new_size(cloud: OpenStackFake) -> None:
    cloud.polls_to_finish = 2
    backend = VolumeBackend(settings_for(cloud))
    made = backend.create(job("data", limits={"size": 1}), Beats())

    changed = backend.update(replace(job("data", limits={"size": 4}), backend_id=made.backend_id), Beats())

    assert changed.limits == {"size": 4}
    assert cloud.volumes[made.backend_id]["size"] == 4
    (sent,) = cloud.sent("POST", r"/action$")
    assert sent.body == {"os-extend": {"new_size": 4}}


def test_a_volume_cannot_shrink(cloud: OpenStackFake) -> None:
    backend = VolumeBackend(settings_for(cloud))
    made = backend.create(job("data", limits={"size": 4}), Beats())

    with pytest.raises(ProviderError, match="cannot shrink"):
        backend.update(replace(job("data", limits={"size": 2}), backend_id=made.backend_id), Beats())

    assert cloud.sent("POST", r"/action$") == []


def test_terminate_deletes_waits_until_gone_and_a_second_terminate_succeeds(cloud: OpenStackFake) -> None:
    cloud.polls_to_finish = 2
    backend = VolumeBackend(settings_for(cloud))
    made = backend.create(job("data", limits={"size": 1}), Beats())
    gone = replace(job("data"), backend_id=made.backend_id)

    backend.terminate(gone, Beats())
    backend.terminate(gone, Beats())

    assert cloud.volumes == {}
    assert backend.get(made.backend_id) is None


def test_cinders_refusal_to_delete_an_attached_volume_reaches_the_order(cloud: OpenStackFake) -> None:
    backend = VolumeBackend(settings_for(cloud))
    made = backend.create(job("data", limits={"size": 1}), Beats())
    cloud.volumes[made.backend_id]["status"] = "in-use"

    with pytest.raises(ProviderError) as raised:
        backend.terminate(replace(job("data"), backend_id=made.backend_id), Beats())

    assert "HTTP 400" in str(raised.value) and "Volume status must be available" in str(raised.value)
    assert made.backend_id in cloud.volumes


def test_a_volume_deleted_behind_cirruss_back_reads_as_none_and_an_errored_one_as_erred(
    cloud: OpenStackFake,
) -> None:
    backend = VolumeBackend(settings_for(cloud))
    first = backend.create(job("a", limits={"size": 1}), Beats())
    second = backend.create(job("b", limits={"size": 1}), Beats())

    del cloud.volumes[first.backend_id]
    cloud.volumes[second.backend_id]["status"] = "error"

    assert backend.get(first.backend_id) is None
    erred = backend.get(second.backend_id)
    assert erred is not None and erred.state is RemoteState.ERRED and "error" in erred.error


def test_list_answers_the_projects_volumes_as_importable(cloud: OpenStackFake) -> None:
    backend = VolumeBackend(settings_for(cloud))
    made = backend.create(job("a", limits={"size": 3}), Beats())

    (found,) = backend.list()

    assert (found.backend_id, found.type, found.limits) == (made.backend_id, "volume", {"size": 3})


def test_a_retried_order_replaces_the_volume_an_earlier_try_left_in_error(cloud: OpenStackFake) -> None:
    backend, wanted = VolumeBackend(settings_for(cloud)), job("data", limits={"size": 1})
    first = backend.create(wanted, Beats())
    cloud.volumes[first.backend_id]["status"] = "error"

    made = backend.create(wanted, Beats())

    assert list(cloud.volumes) == [made.backend_id] and made.backend_id != first.backend_id


def test_list_follows_cinders_pages(cloud: OpenStackFake) -> None:
    backend = VolumeBackend(settings_for(cloud))
    made = {backend.create(job(f"v{n}", limits={"size": 1}), Beats()).backend_id for n in range(3)}
    cloud.page_size = 2

    assert {r.backend_id for r in backend.list()} == made
    assert any("marker" in r.query for r in cloud.sent("GET", r"/volumes/detail$"))
