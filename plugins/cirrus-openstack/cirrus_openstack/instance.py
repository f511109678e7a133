"""`OpenStack.Instance`: a Nova server in the offering's project (the project its credentials are
scoped to).

- create: find a server whose metadata carries the resource's uuid (a retried create adopts it; one
  in ERROR from an earlier try is deleted and made anew), else POST /servers with the flavor (the
  plan's article_code, or the `flavor` attribute: an id or a name), the image (`image` attribute: an
  id), the network (`network` attribute or the offering's `network_id` option; required), the
  availability zone (`availability_zone` attribute or option) and, when `system_volume_size` (MiB,
  Waldur's field) is given, a boot volume made from the image; wait for ACTIVE (heartbeating); ERROR
  -> ProviderError with Nova's fault message.
- update: a new flavor (the new plan's article_code, or the `flavor` attribute) -> resize, wait for
  VERIFY_RESIZE, confirm, wait for ACTIVE/SHUTOFF.
- terminate: DELETE (404 is success), wait until Nova answers 404.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.cloud import Heartbeat, Job, ProviderError, RemoteResource, RemoteState, Settings
from cirrus_openstack.cloud import RESOURCE_KEY, OpenStack, gib_of_mib, name_for

# Nova's server status -> the platform's (https://docs.openstack.org/api-guide/compute/server_concepts.html).
STATES: Mapping[str, RemoteState] = {
    "BUILD": RemoteState.CREATING,
    "ACTIVE": RemoteState.OK,
    "SHUTOFF": RemoteState.OK,
    "PAUSED": RemoteState.OK,
    "SUSPENDED": RemoteState.OK,
    "SHELVED": RemoteState.OK,
    "SHELVED_OFFLOADED": RemoteState.OK,
    "RESCUE": RemoteState.OK,
    "REBOOT": RemoteState.UPDATING,
    "HARD_REBOOT": RemoteState.UPDATING,
    "PASSWORD": RemoteState.UPDATING,
    "REBUILD": RemoteState.UPDATING,
    "MIGRATING": RemoteState.UPDATING,
    "RESIZE": RemoteState.UPDATING,
    "VERIFY_RESIZE": RemoteState.UPDATING,
    "REVERT_RESIZE": RemoteState.UPDATING,
    "ERROR": RemoteState.ERRED,
    "UNKNOWN": RemoteState.ERRED,
}
GONE = frozenset({"DELETED", "SOFT_DELETED"})
SETTLED = frozenset({"ACTIVE", "SHUTOFF"})


def fault_of(server: Any) -> str:
    fault = getattr(server, "fault", None) or {}
    message = fault.get("message") if isinstance(fault, dict) else ""
    return str(message or "Nova put the server in ERROR without a fault message.")


def flavor_of(server: Any) -> str:
    """The server's flavor: its id (microversion < 2.47) or its name (2.47+ embeds the flavor)."""
    flavor = getattr(server, "flavor", None)
    if flavor is None:
        return ""
    get = flavor.get if isinstance(flavor, dict) else lambda key, default=None: getattr(flavor, key, default)
    return str(get("id") or get("original_name") or get("name") or "")


def _image_of(server: Any) -> str:
    image = getattr(server, "image", None)
    if not image:
        return ""
    return str(image.get("id", "") if isinstance(image, dict) else getattr(image, "id", "") or "")


def _addresses(server: Any) -> list[str]:
    found: list[str] = []
    for entries in (getattr(server, "addresses", None) or {}).values():
        found.extend(str(e.get("addr")) for e in entries or [] if isinstance(e, dict) and e.get("addr"))
    return found


def remote(server: Any) -> RemoteResource | None:
    status = str(getattr(server, "status", "") or "").upper()
    if status in GONE:
        return None
    state = STATES.get(status, RemoteState.OK)
    return RemoteResource(
        backend_id=str(server.id),
        name=str(getattr(server, "name", "") or ""),
        state=state,
        error=fault_of(server) if state is RemoteState.ERRED else "",
        metadata={
            "status": status,
            "flavor": flavor_of(server),
            "image": _image_of(server),
            "internal_ips": _addresses(server),
            "availability_zone": str(getattr(server, "availability_zone", "") or ""),
        },
        type="instance",
    )


class InstanceBackend:
    def __init__(self, settings: Settings) -> None:
        self.cloud = OpenStack(settings)

    # --- helpers ---------------------------------------------------------------------------------
    def _compute(self) -> Any:
        return self.cloud.service("compute")

    def _find(self, resource_uuid: str) -> Any:
        with self.cloud.calling("look for the server"):
            for server in self._compute().servers(details=True):
                if (getattr(server, "metadata", None) or {}).get(RESOURCE_KEY) == resource_uuid:
                    return server
        return None

    def _read(self, server_id: str) -> Any:
        from openstack import exceptions

        try:
            return self._compute().get_server(server_id)
        except exceptions.NotFoundException:
            return None

    def _flavor_id(self, wanted: Any) -> str:
        return self._flavor(wanted)[0]

    def _flavor(self, wanted: Any) -> tuple[str, str]:
        """The flavor's id and name, found by id or name."""
        if not isinstance(wanted, str) or not wanted or len(wanted) > 255:
            raise ProviderError(
                "Say which flavor: the plan's article code or the order's `flavor` attribute."
            )
        from openstack import exceptions

        with self.cloud.calling(f"find the flavor {wanted}"):
            try:
                flavor = self._compute().find_flavor(wanted, ignore_missing=False)
            except exceptions.NotFoundException:
                flavor = None
        if flavor is None:
            raise ProviderError(f"OpenStack has no flavor {wanted}.")
        return str(flavor.id), str(flavor.name or "")

    def _wait_settled(self, server_id: str, what: str, heartbeat: Heartbeat, target: frozenset[str]) -> Any:
        def done(server: Any) -> bool:
            if server is None:
                raise ProviderError(f"The server {server_id} disappeared while trying to {what}.")
            if str(server.status).upper() == "ERROR":
                raise ProviderError(f"OpenStack failed to {what}: {fault_of(server)}")
            return str(server.status).upper() in target

        return self.cloud.wait(what, lambda: self._read(server_id), done, heartbeat)

    def _server_attrs(self, job: Job) -> dict[str, Any]:
        attributes = job.attributes
        options = self.cloud.options
        image = attributes.get("image")
        if not isinstance(image, str) or not image or len(image) > 255:
            raise ProviderError("Say which image: the order's `image` attribute (an image id).")
        network = attributes.get("network") or options.get("network_id") or ""
        if not isinstance(network, str) or not network or len(network) > 255:
            raise ProviderError(
                "Say which network: the order's `network` attribute or the offering's `network_id`."
            )
        zone = attributes.get("availability_zone") or options.get("availability_zone") or ""
        if not isinstance(zone, str) or len(zone) > 255:
            raise ProviderError("The `availability_zone` attribute must be a zone name.")
        attrs: dict[str, Any] = {
            "name": name_for(job.resource_name, f"cirrus-{job.resource_uuid[:8]}"),
            "flavor_id": self._flavor_id(job.plan_code or attributes.get("flavor")),
            "metadata": {RESOURCE_KEY: job.resource_uuid, "cirrus_project_uuid": job.project_uuid},
        }
        attrs["networks"] = [{"uuid": network}]
        if zone:
            attrs["availability_zone"] = zone
        size = attributes.get("system_volume_size")
        if size is None:
            attrs["image_id"] = image
        else:  # boot from a volume made from the image (Waldur's system volume)
            attrs["block_device_mapping"] = [
                {
                    "boot_index": 0,
                    "uuid": image,
                    "source_type": "image",
                    "destination_type": "volume",
                    "volume_size": gib_of_mib(size, "system_volume_size"),
                    "delete_on_termination": True,
                }
            ]
        return attrs

    # --- the contract ------------------------------------------------------------------------------
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        server = self._find(job.resource_uuid)
        if server is not None and str(server.status).upper() == "ERROR":
            # What an earlier try left in ERROR never ran: a new try (the order retried) replaces it.
            self.terminate(replace(job, backend_id=str(server.id)), heartbeat)
            server = None
        if server is None:
            attrs = self._server_attrs(job)
            with self.cloud.calling("create the server"):
                server = self._compute().create_server(**attrs)
        heartbeat()
        settled = self._wait_settled(str(server.id), "create the server", heartbeat, SETTLED)
        return remote(settled) or RemoteResource(backend_id=str(server.id))

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        wanted = job.plan_code or job.attributes.get("flavor")
        with self.cloud.calling("read the server"):
            server = self._read(job.backend_id)
        if server is None:
            raise ProviderError(f"OpenStack has no server {job.backend_id} to resize.")
        status = str(server.status).upper()
        if status not in ("VERIFY_RESIZE", "RESIZE"):  # a retried update continues where it was
            flavor_id, flavor_name = self._flavor(wanted)
            if flavor_of(server) in (flavor_id, flavor_name):  # an id before 2.47, a name from it
                return remote(server) or RemoteResource(backend_id=job.backend_id)
            with self.cloud.calling("resize the server"):
                self._compute().resize_server(job.backend_id, flavor_id)
            heartbeat()
        server = self._wait_settled(
            job.backend_id, "resize the server", heartbeat, frozenset({"VERIFY_RESIZE"}) | SETTLED
        )
        if str(server.status).upper() == "VERIFY_RESIZE":
            with self.cloud.calling("confirm the resize"):
                self._compute().confirm_server_resize(job.backend_id)
            server = self._wait_settled(job.backend_id, "confirm the resize", heartbeat, SETTLED)
        return remote(server) or RemoteResource(backend_id=job.backend_id)

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        with self.cloud.calling("delete the server"):
            self._compute().delete_server(job.backend_id, ignore_missing=True)
        self.cloud.wait("delete the server", lambda: self._read(job.backend_id), _gone, heartbeat)

    def get(self, backend_id: str) -> RemoteResource | None:
        with self.cloud.calling("read the server"):
            server = self._read(backend_id)
        return remote(server) if server is not None else None

    def list(self) -> Iterable[RemoteResource]:
        with self.cloud.calling("list the servers"):
            servers = list(self._compute().servers(details=True))
        return [found for found in (remote(s) for s in servers) if found is not None]

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}


def _gone(server: Any) -> bool:
    return server is None or str(getattr(server, "status", "")).upper() in GONE
