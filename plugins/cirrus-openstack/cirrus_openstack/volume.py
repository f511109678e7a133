"""`OpenStack.Volume`: a Cinder volume in the offering's project.

- create: find a volume whose metadata carries the resource's uuid (a retried create adopts it; one
  in `error` from an earlier try is deleted and made anew), else POST /volumes with the size in GiB
  (the `size` limit; or Waldur's `size` attribute in MiB, rounded up to GiB), the name,
  `availability_zone` and `type` (volume type) attributes; wait for `available` (heartbeating);
  `error` -> ProviderError.
- update: a larger `size` limit -> os-extend, wait for `available`; a smaller one is refused
  (Cinder cannot shrink a volume).
- terminate: DELETE (404 is success), wait until Cinder answers 404. Cinder refuses to delete an
  attached volume (400, its message reaches the order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.cloud import Heartbeat, Job, ProviderError, RemoteResource, RemoteState, Settings
from cirrus_openstack.cloud import RESOURCE_KEY, OpenStack, gib_of_mib, name_for, positive_int

SIZE = "size"
MAX_GIB = 64 * 1024
# Cinder's volume status -> the platform's (block-storage api-ref, "Volume statuses").
STATES: Mapping[str, RemoteState] = {
    "creating": RemoteState.CREATING,
    "downloading": RemoteState.CREATING,
    "available": RemoteState.OK,
    "in-use": RemoteState.OK,
    "reserved": RemoteState.OK,
    "attaching": RemoteState.UPDATING,
    "detaching": RemoteState.UPDATING,
    "extending": RemoteState.UPDATING,
    "retyping": RemoteState.UPDATING,
    "maintenance": RemoteState.UPDATING,
    "uploading": RemoteState.UPDATING,
    "backing-up": RemoteState.UPDATING,
    "restoring-backup": RemoteState.UPDATING,
    "deleting": RemoteState.TERMINATING,
    "error": RemoteState.ERRED,
    "error_deleting": RemoteState.ERRED,
    "error_extending": RemoteState.ERRED,
    "error_restoring": RemoteState.ERRED,
    "error_backing-up": RemoteState.ERRED,
    "error_managing": RemoteState.ERRED,
}
USABLE = frozenset({"available", "in-use"})


def remote(volume: Any) -> RemoteResource:
    status = str(getattr(volume, "status", "") or "").lower()
    state = STATES.get(status, RemoteState.OK)
    size = int(getattr(volume, "size", 0) or 0)
    attachments = getattr(volume, "attachments", None) or []
    return RemoteResource(
        backend_id=str(volume.id),
        name=str(getattr(volume, "name", "") or ""),
        state=state,
        error=f"Cinder reports the volume as {status}." if state is RemoteState.ERRED else "",
        metadata={
            "status": status,
            "size": size,
            "availability_zone": str(getattr(volume, "availability_zone", "") or ""),
            "type_name": str(getattr(volume, "volume_type", "") or ""),
            "instance_ids": [
                str(a.get("server_id")) for a in attachments if isinstance(a, dict) and a.get("server_id")
            ],
        },
        limits={SIZE: size},
        type="volume",
    )


def size_of(job: Job) -> int:
    """The size in GiB: the `size` limit, else Waldur's `size` attribute in MiB."""
    if SIZE in job.limits:
        size = positive_int(job.limits[SIZE], "The size limit (GiB)", MAX_GIB)
        if size < 1:
            raise ProviderError("The size limit must be at least 1 GiB.")
        return size
    if SIZE in job.attributes:
        return gib_of_mib(job.attributes[SIZE], "The size attribute")
    raise ProviderError(
        "Say the volume's size: the `size` limit in GiB (or Waldur's `size` attribute in MiB)."
    )


class VolumeBackend:
    def __init__(self, settings: Settings) -> None:
        self.cloud = OpenStack(settings)

    def _storage(self) -> Any:
        return self.cloud.service("block_storage")

    def _read(self, volume_id: str) -> Any:
        from openstack import exceptions

        try:
            return self._storage().get_volume(volume_id)
        except exceptions.NotFoundException:
            return None

    def _find(self, resource_uuid: str) -> Any:
        with self.cloud.calling("look for the volume"):
            for volume in self._storage().volumes(details=True):
                if (getattr(volume, "metadata", None) or {}).get(RESOURCE_KEY) == resource_uuid:
                    return volume
        return None

    def _wait_usable(self, volume_id: str, what: str, heartbeat: Heartbeat) -> Any:
        def done(volume: Any) -> bool:
            if volume is None:
                raise ProviderError(f"The volume {volume_id} disappeared while trying to {what}.")
            status = str(volume.status).lower()
            if status.startswith("error"):
                raise ProviderError(
                    f"OpenStack failed to {what}: Cinder set the volume's status to {status}."
                )
            return status in USABLE

        return self.cloud.wait(what, lambda: self._read(volume_id), done, heartbeat)

    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        volume = self._find(job.resource_uuid)
        if volume is not None and str(volume.status).lower() == "error":
            # What an earlier try left in error holds nothing: a new try (the order retried) replaces it.
            self.terminate(replace(job, backend_id=str(volume.id)), heartbeat)
            volume = None
        if volume is None:
            attrs: dict[str, Any] = {
                "size": size_of(job),
                "name": name_for(job.resource_name, f"cirrus-{job.resource_uuid[:8]}"),
                "metadata": {RESOURCE_KEY: job.resource_uuid, "cirrus_project_uuid": job.project_uuid},
            }
            zone = (
                job.attributes.get("availability_zone") or self.cloud.options.get("availability_zone") or ""
            )
            kind = job.attributes.get("type") or ""
            for key, value in (("availability_zone", zone), ("volume_type", kind)):
                if not isinstance(value, str) or len(value) > 255:
                    raise ProviderError(f"The `{key}` attribute must be a name of up to 255 characters.")
                if value:
                    attrs[key] = value
            with self.cloud.calling("create the volume"):
                volume = self._storage().create_volume(**attrs)
        heartbeat()
        return remote(self._wait_usable(str(volume.id), "create the volume", heartbeat))

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        wanted = size_of(job)
        with self.cloud.calling("read the volume"):
            volume = self._read(job.backend_id)
        if volume is None:
            raise ProviderError(f"OpenStack has no volume {job.backend_id} to extend.")
        status = str(volume.status).lower()
        if status != "extending":  # a retried update waits for the extension it started
            current = int(volume.size or 0)
            if wanted == current:
                return remote(volume)
            if wanted < current:
                raise ProviderError(f"A Cinder volume cannot shrink (from {current} GiB to {wanted} GiB).")
            with self.cloud.calling("extend the volume"):
                self._storage().extend_volume(job.backend_id, wanted)
            heartbeat()
        return remote(self._wait_usable(job.backend_id, "extend the volume", heartbeat))

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        with self.cloud.calling("delete the volume"):
            self._storage().delete_volume(job.backend_id, ignore_missing=True)

        def gone(volume: Any) -> bool:
            if volume is not None and str(volume.status).lower() == "error_deleting":
                raise ProviderError(
                    "OpenStack failed to delete the volume: Cinder set its status to error_deleting."
                )
            return volume is None

        self.cloud.wait("delete the volume", lambda: self._read(job.backend_id), gone, heartbeat)

    def get(self, backend_id: str) -> RemoteResource | None:
        with self.cloud.calling("read the volume"):
            volume = self._read(backend_id)
        return remote(volume) if volume is not None else None

    def list(self) -> Iterable[RemoteResource]:
        with self.cloud.calling("list the volumes"):
            return [remote(v) for v in self._storage().volumes(details=True)]

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}
