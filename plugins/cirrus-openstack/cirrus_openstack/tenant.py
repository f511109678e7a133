"""`OpenStack.Tenant`: a Keystone project in the offering's domain, with quotas from the order's
limits (Waldur's tenant components and units):

- `cores` -> Nova's `cores` quota;
- `ram` (MiB, as Waldur stores it) -> Nova's `ram` quota (MiB);
- `storage` (MiB, as Waldur stores it) -> Cinder's `gigabytes` quota (GiB, rounded up).

- create: find a project tagged `cirrus-resource-<uuid>` (a retried create adopts it), else POST
  /v3/projects (name: the resource's name and the uuid's first 8 characters, so two resources of the
  same name do not collide in the domain; the tag; a description naming the Cirrus project), then
  PUT the Nova and Cinder quota sets.
- update: PUT the quota sets from the new limits.
- network (as Waldur does for a new tenant), when the offering's `external_network_id` option is
  set: an internal network `<name>-int-net`, a subnet `<name>-sub-net` of `subnet_cidr`, and a
  router `<name>-router` with its gateway on the external network and an interface on the subnet;
  each found by name in the project first (a retried create makes none twice).
- terminate: refuse while the project still holds servers or volumes (Nova and Cinder, listed with
  all_tenants for that project: deleting the project would orphan them, still running and no longer
  billed); else detach and delete the project's routers, delete its networks (their subnets go with
  them), then DELETE the project (404 is success).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.cloud import Heartbeat, Job, ProviderError, RemoteResource, RemoteState, Settings
from cirrus_openstack.cloud import TAG_PREFIX, OpenStack, name_for, positive_int, subnet_cidr

CORES, RAM, STORAGE = "cores", "ram", "storage"
LIMITS = (CORES, RAM, STORAGE)
PROJECT_NAME_MAX = 64  # Keystone's


def compute_quotas(limits: Mapping[str, int]) -> dict[str, int]:
    quotas: dict[str, int] = {}
    if CORES in limits:
        quotas["cores"] = positive_int(limits[CORES], "The cores limit")
    if RAM in limits:
        quotas["ram"] = positive_int(limits[RAM], "The ram limit (MiB)")
    return quotas


def volume_quotas(limits: Mapping[str, int]) -> dict[str, int]:
    if STORAGE not in limits:
        return {}
    return {"gigabytes": math.ceil(positive_int(limits[STORAGE], "The storage limit (MiB)") / 1024)}


class TenantBackend:
    def __init__(self, settings: Settings) -> None:
        self.cloud = OpenStack(settings)
        self.domain_id = str(self.cloud.options.get("domain_id") or "default")

    def _identity(self) -> Any:
        return self.cloud.service("identity")

    def _read(self, project_id: str) -> Any:
        from openstack import exceptions

        try:
            return self._identity().get_project(project_id)
        except exceptions.NotFoundException:
            return None

    def _find(self, resource_uuid: str) -> Any:
        with self.cloud.calling("look for the project"):
            for project in self._identity().projects(
                domain_id=self.domain_id, tags=TAG_PREFIX + resource_uuid
            ):
                return project
        return None

    def _push_quotas(self, project_id: str, limits: Mapping[str, int]) -> None:
        nova, cinder = compute_quotas(limits), volume_quotas(limits)
        if nova:
            with self.cloud.calling("set the project's compute quotas"):
                self.cloud.service("compute").update_quota_set(project_id, **nova)
        if cinder:
            with self.cloud.calling("set the project's volume quotas"):
                self.cloud.service("block_storage").update_quota_set(project_id, **cinder)

    def _limits(self, project_id: str) -> dict[str, int]:
        with self.cloud.calling("read the project's quotas"):
            nova = self.cloud.service("compute").get_quota_set(project_id)
            cinder = self.cloud.service("block_storage").get_quota_set(project_id)
        limits = {CORES: int(nova.cores or 0), RAM: int(nova.ram or 0)}
        gigabytes = int(cinder.gigabytes or 0)
        limits[STORAGE] = gigabytes * 1024 if gigabytes >= 0 else -1
        return limits

    def _remote(self, project: Any, limits: Mapping[str, int] | None = None) -> RemoteResource:
        enabled = bool(getattr(project, "is_enabled", True))
        return RemoteResource(
            backend_id=str(project.id),
            name=str(project.name or ""),
            state=RemoteState.OK if enabled else RemoteState.ERRED,
            error="" if enabled else "The Keystone project is disabled.",
            metadata={
                "project_id": str(project.id),
                "domain_id": str(project.domain_id or ""),
                "name": str(project.name or ""),
            },
            limits=dict(limits or {}),
            type="tenant",
            description=str(getattr(project, "description", "") or ""),
        )

    # --- the tenant's network (Waldur's internal network, subnet and router) ------------------------
    def _network(self) -> Any:
        return self.cloud.service("network")

    def _one(self, found: Iterable[Any]) -> Any:
        return next(iter(found), None)

    def _make_network(self, project: Any, heartbeat: Heartbeat) -> dict[str, str]:
        external = str(self.cloud.options.get("external_network_id") or "")
        if not external:
            return {}
        network_api, project_id, base = self._network(), str(project.id), str(project.name)
        with self.cloud.calling("create the project's network"):
            network = self._one(network_api.networks(project_id=project_id, name=f"{base}-int-net"))
            if network is None:
                network = network_api.create_network(name=f"{base}-int-net", project_id=project_id)
            subnet = self._one(network_api.subnets(network_id=network.id, name=f"{base}-sub-net"))
            if subnet is None:
                subnet = network_api.create_subnet(
                    name=f"{base}-sub-net",
                    network_id=network.id,
                    project_id=project_id,
                    ip_version=4,
                    cidr=subnet_cidr(self.cloud.options),
                    enable_dhcp=True,
                )
            heartbeat()
            router = self._one(network_api.routers(project_id=project_id, name=f"{base}-router"))
            if router is None:
                router = network_api.create_router(
                    name=f"{base}-router",
                    project_id=project_id,
                    external_gateway_info={"network_id": external},
                )
            if not any(network_api.ports(device_id=router.id, network_id=network.id)):
                network_api.add_interface_to_router(router, subnet_id=subnet.id)
        return {
            "internal_network_id": str(network.id),
            "subnet_id": str(subnet.id),
            "router_id": str(router.id),
        }

    def _delete_network(self, project_id: str, heartbeat: Heartbeat) -> None:
        from openstack import exceptions

        network_api = self._network()
        with self.cloud.calling("delete the project's network"):
            networks = list(network_api.networks(project_id=project_id))
            for router in list(network_api.routers(project_id=project_id)):
                for subnet_id in [s for n in networks for s in (n.subnet_ids or [])]:
                    with suppress(exceptions.NotFoundException):  # no interface on that subnet
                        network_api.remove_interface_from_router(router, subnet_id=subnet_id)
                network_api.delete_router(router, ignore_missing=True)
            heartbeat()
            for network in networks:
                network_api.delete_network(network, ignore_missing=True)

    # --- the contract ------------------------------------------------------------------------------
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        compute_quotas(job.limits)  # bad limits fail before anything is made
        volume_quotas(job.limits)
        project = self._find(job.resource_uuid)
        if project is None:
            suffix = f"-{job.resource_uuid[:8]}"
            name = name_for(job.resource_name, "cirrus", PROJECT_NAME_MAX - len(suffix)) + suffix
            description = name_for(
                f"Cirrus tenant of project {job.project_name} ({job.project_uuid})", "Cirrus tenant"
            )
            with self.cloud.calling("create the project"):
                project = self._identity().create_project(
                    name=name,
                    domain_id=self.domain_id,
                    description=description,
                    tags=[TAG_PREFIX + job.resource_uuid],
                    is_enabled=True,
                )
        heartbeat()
        self._push_quotas(str(project.id), job.limits)
        made = self._make_network(project, heartbeat)
        found = self._remote(project, self._limits(str(project.id)))
        return replace(found, metadata={**found.metadata, **made})

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        with self.cloud.calling("read the project"):
            project = self._read(job.backend_id)
        if project is None:
            raise ProviderError(f"OpenStack has no project {job.backend_id} to set quotas on.")
        self._push_quotas(job.backend_id, job.limits)
        return self._remote(project, self._limits(job.backend_id))

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        with self.cloud.calling("read the project"):
            if self._read(job.backend_id) is None:
                return
        with self.cloud.calling("list the project's servers and volumes"):
            servers = list(
                self.cloud.service("compute").servers(
                    details=True, all_projects=True, project_id=job.backend_id
                )
            )
            volumes = list(
                self.cloud.service("block_storage").volumes(
                    details=True, all_projects=True, project_id=job.backend_id
                )
            )
        if servers or volumes:
            raise ProviderError(
                f"The project still holds {len(servers)} server(s) and {len(volumes)} volume(s): "
                "delete them before terminating the tenant."
            )
        heartbeat()
        if self.cloud.options.get("external_network_id"):
            self._delete_network(job.backend_id, heartbeat)
        with self.cloud.calling("delete the project"):
            self._identity().delete_project(job.backend_id, ignore_missing=True)

    def get(self, backend_id: str) -> RemoteResource | None:
        with self.cloud.calling("read the project"):
            project = self._read(backend_id)
        if project is None:
            return None
        return self._remote(project, self._limits(backend_id))

    def list(self) -> Iterable[RemoteResource]:
        """The domain's projects but the offering's own (the one its credentials are scoped to)."""
        with self.cloud.calling("list the projects"):
            projects = list(self._identity().projects(domain_id=self.domain_id))
        own = self.cloud.credentials.project_name
        return [self._remote(p) for p in projects if p.name != own]

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}
