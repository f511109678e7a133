"""The `VMware.VirtualMachine` cloud backend: a vCenter VM per resource, through vSphere's
Automation REST API (`client.VSphereClient`).

- create: a VM named `<name>-<resource uuid>` (names are unique in a vCenter folder, so a retried
  create finds the first one by name instead of making a second) in the offering's placement
  (folder, cluster / resource pool / host, datastore), then powered on. Either deployed from a VM
  template in a content library (the offering's `template`, or one of its `templates` the order
  names) with cpu and memory set to the order's limits and the first disk grown to the disk limit,
  or made from scratch with the offering's guest OS, the cpu and ram limits and one new disk.
- update: cpu and ram (`PATCH .../hardware/cpu` and `.../hardware/memory`), powering the VM off
  first when it runs (vSphere refuses to change a running VM without hot-add) and on again after.
  Growing a disk is not in the Automation API (Waldur does it over the SOAP API): a disk change is
  refused before anything is touched.
- terminate: power off, then `DELETE`; a VM vCenter does not know is already gone.
- get / list: the VM's power state (POWERED_ON, POWERED_OFF, SUSPENDED are all an existing VM, OK,
  with `runtime_state` in the metadata) and its cpu, ram and disk as limits.

Limits are Waldur's: cpu in vCPUs, ram and disk in MiB (Waldur's VMware plugin prices them per GB
with a factor of 1024; Cirrus's components have no factor, so they are priced per MiB).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.cloud import Heartbeat, Job, ProviderError, RemoteResource, RemoteState, Settings
from cirrus_vmware.client import NotFound, Refused, VSphereClient

CPU, RAM, DISK = "cpu", "ram", "disk"
MIB = 1024 * 1024
# vSphere 8's maxima for one VM: 768 vCPUs, 24 TiB of memory, a 62 TiB virtual disk (0: none).
LIMIT_RANGES: Mapping[str, tuple[int, int]] = {CPU: (1, 768), RAM: (4, 24 * MIB), DISK: (0, 62 * MIB)}
NAME_MAX = 80  # vCenter's VM names
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
GUEST_OS = re.compile(r"[A-Z0-9_]{1,64}")
VM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")  # vCenter's managed object ids: vm-42
POWERED_ON, POWERED_OFF = "POWERED_ON", "POWERED_OFF"
PLACEMENT_KEYS = ("folder", "cluster", "resource_pool", "host", "datastore")


def vm_name(job: Job) -> str:
    """`<name>-<resource uuid>`: the user's name, made safe and cut so the whole fits 80 characters."""
    base = _UNSAFE_NAME.sub("-", job.resource_name).strip("-") or "vm"
    return f"{base[: NAME_MAX - len(job.resource_uuid) - 1]}-{job.resource_uuid}"


class VMwareBackend:
    def __init__(self, settings: Settings, client: VSphereClient) -> None:
        self.options = settings.options
        self.client = client

    # --- create -----------------------------------------------------------------------------------
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        limits = self._limits(job.limits)
        name = vm_name(job)
        heartbeat()
        vm = self._find(name)
        if vm is None:
            template = self._template(job)
            if template:  # the template's disk unless the order asks for a disk limit itself
                vm = self._deploy(template, name, {**limits, DISK: job.limits.get(DISK, 0)})
            else:
                vm = self._from_scratch(job, name, limits)
        heartbeat()
        self._power(vm, "start")
        heartbeat()
        made = self.get(vm)
        if made is None:
            raise ProviderError(f"vCenter made the virtual machine {vm} but no longer knows it.")
        return made

    def _find(self, name: str) -> str | None:
        params: dict[str, Any] = {"names": name}
        if self.options.get("folder"):
            params["folders"] = self.options["folder"]
        found = self.client.get("/api/vcenter/vm", params)
        return str(found[0]["vm"]) if isinstance(found, list) and found else None

    def _placement(self) -> dict[str, str]:
        placement = {key: str(self.options[key]) for key in PLACEMENT_KEYS if self.options.get(key)}
        if "folder" not in placement or not {"cluster", "resource_pool", "host"} & set(placement):
            raise ProviderError(
                "The offering's plugin options must name a folder and a cluster, resource_pool or host "
                "to place virtual machines in."
            )
        return placement

    def _template(self, job: Job) -> str:
        """The content library item to deploy: the order's `template` if the offering lists it
        among `templates`, else the offering's `template` ("" for a VM from scratch)."""
        asked = job.attributes.get("template")
        if asked is None or asked == self.options.get("template"):
            return str(self.options.get("template") or "")
        if asked not in (self.options.get("templates") or []):
            raise ProviderError(f"The template {str(asked)[:80]!r} is not one this offering provides.")
        return str(asked)

    def _from_scratch(self, job: Job, name: str, limits: Mapping[str, int]) -> str:
        guest_os = str(job.attributes.get("guest_os") or self.options.get("guest_os") or "")
        if not GUEST_OS.fullmatch(guest_os):
            raise ProviderError("guest_os must be a vSphere guest OS identifier such as UBUNTU_64.")
        spec: dict[str, Any] = {
            "name": name,
            "guest_OS": guest_os,
            "placement": self._placement(),
            "cpu": {"count": limits[CPU], "cores_per_socket": self._cores(limits[CPU])},
            "memory": {"size_MiB": limits[RAM]},
        }
        if limits.get(DISK):
            spec["disks"] = [{"new_vmdk": {"name": name, "capacity": limits[DISK] * MIB}}]
        return str(self.client.post("/api/vcenter/vm", spec).body)

    def _deploy(self, template: str, name: str, limits: Mapping[str, int]) -> str:
        """Deploy a VM template from a content library, its cpu and memory set to the limits and its
        first disk grown to the disk limit (a template's disk is never shrunk: that is refused)."""
        placement = self._placement()
        datastore = placement.pop("datastore", None)  # a deploy places storage by vm_home/disk_storage
        item = f"/api/vcenter/vm-template/library-items/{template}"
        info = self.client.get(item)
        hardware: dict[str, Any] = {
            "cpu_update": {"num_cpus": limits[CPU], "num_cores_per_socket": self._cores(limits[CPU])},
            "memory_update": {"memory": limits[RAM]},
        }
        disks = info.get("disks") if isinstance(info, dict) else None
        if limits.get(DISK) and isinstance(disks, dict) and disks:
            key, disk = sorted(disks.items())[0]
            have = int(disk.get("capacity") or 0) // MIB
            if limits[DISK] < have:
                raise ProviderError(f"The template's disk has {have} MiB: the disk limit cannot be smaller.")
            if limits[DISK] > have:
                hardware["disks_to_update"] = {key: {"capacity": limits[DISK] * MIB}}
        spec: dict[str, Any] = {"name": name, "placement": placement, "hardware_customization": hardware}
        if datastore:
            spec["vm_home_storage"] = {"datastore": datastore}
            spec["disk_storage"] = {"datastore": datastore}
        return str(self.client.post(item, spec, params={"action": "deploy"}).body)

    def _cores(self, cpus: int) -> int:
        cores = int(self.options.get("cores_per_socket") or 1)
        return cores if cpus % cores == 0 else 1  # sockets must be whole

    def _limits(self, given: Mapping[str, int]) -> dict[str, int]:
        """The order's limits over the offering's defaults, each within what vSphere allows."""
        limits = checked({**(self.options.get("default_limits") or {}), **given})
        for required in (CPU, RAM):
            if required not in limits:
                raise ProviderError(f"The order sets no {required} limit and the offering has no default.")
        return limits

    # --- update -----------------------------------------------------------------------------------
    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        info = self._info(job.backend_id)
        current = limits_of(info)
        wanted = {k: v for k, v in checked(job.limits).items() if current.get(k) != v}
        if DISK in wanted:
            raise ProviderError(
                "vSphere's Automation API cannot resize a virtual disk: the disk limit stays "
                f"{current.get(DISK, 0)} MiB. Order a new virtual machine for a different disk."
            )
        if wanted:
            self._resize(job.backend_id, wanted, info.get("power_state") == POWERED_ON, heartbeat)
        changed = self.get(job.backend_id)
        if changed is None:
            raise ProviderError(f"The virtual machine {job.backend_id} is gone from vCenter.")
        return changed

    def _resize(self, vm: str, wanted: Mapping[str, int], was_on: bool, heartbeat: Heartbeat) -> None:
        """Patch cpu and memory with the VM off; a VM that ran is started again, even after a refusal."""
        if was_on:
            heartbeat()
            self._power(vm, "stop")
        try:
            if CPU in wanted:
                heartbeat()
                self.client.patch(f"/api/vcenter/vm/{vm}/hardware/cpu", {"count": wanted[CPU]})
            if RAM in wanted:
                heartbeat()
                self.client.patch(f"/api/vcenter/vm/{vm}/hardware/memory", {"size_MiB": wanted[RAM]})
        finally:
            if was_on:
                heartbeat()
                self._power(vm, "start")

    # --- terminate --------------------------------------------------------------------------------
    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        if not VM_ID.fullmatch(job.backend_id):
            return  # not an id vCenter could have given: there is nothing of it to delete
        try:
            heartbeat()
            self._power(job.backend_id, "stop")
            heartbeat()
            self.client.delete(f"/api/vcenter/vm/{job.backend_id}")
        except NotFound:
            return  # already gone: what terminate wants

    # --- reads ------------------------------------------------------------------------------------
    def get(self, backend_id: str) -> RemoteResource | None:
        try:
            info = self._info(backend_id)
        except NotFound:
            return None
        power = str(info.get("power_state") or "")
        return RemoteResource(
            backend_id=backend_id,
            name=str(info.get("name") or ""),
            state=RemoteState.OK,
            metadata={"runtime_state": power, "guest_os": str(info.get("guest_OS") or "")},
            limits=limits_of(info),
            type="virtual_machine",
        )

    def list(self) -> Iterable[RemoteResource]:
        params: dict[str, Any] = {}
        for option, filter_name in (("folder", "folders"), ("datacenter", "datacenters")):
            if self.options.get(option):
                params[filter_name] = self.options[option]
        found = self.client.get("/api/vcenter/vm", params)
        for summary in found if isinstance(found, list) else []:
            limits = {CPU: summary.get("cpu_count"), RAM: summary.get("memory_size_MiB")}
            yield RemoteResource(
                backend_id=str(summary["vm"]),
                name=str(summary.get("name") or ""),
                state=RemoteState.OK,
                metadata={"runtime_state": str(summary.get("power_state") or "")},
                limits={k: int(v) for k, v in limits.items() if isinstance(v, int)},
                type="virtual_machine",
            )

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}  # limit-billed: vCenter's REST API reports no metered usage

    # --- helpers ----------------------------------------------------------------------------------
    def _info(self, backend_id: str) -> dict[str, Any]:
        if not VM_ID.fullmatch(backend_id):  # it goes into the URL's path: nothing but an id
            raise NotFound(f"{backend_id[:40]!r} is not a virtual machine id.")
        info = self.client.get(f"/api/vcenter/vm/{backend_id}")
        if not isinstance(info, dict):
            raise ProviderError(f"vCenter answered GET /api/vcenter/vm/{backend_id} with no object.")
        return info

    def _power(self, backend_id: str, action: str) -> None:
        """Start or stop the VM; one already in that state is fine (vCenter says ALREADY_IN_DESIRED_STATE)."""
        try:
            self.client.post(f"/api/vcenter/vm/{backend_id}/power", params={"action": action})
        except Refused as exc:
            if exc.error_type != "ALREADY_IN_DESIRED_STATE":
                raise


def checked(given: Mapping[str, Any]) -> dict[str, int]:
    """The cpu, ram and disk among `given`, each a whole number within what vSphere allows."""
    limits: dict[str, int] = {}
    for name, (low, high) in LIMIT_RANGES.items():
        value = given.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ProviderError(f"The {name} limit must be a whole number from {low} to {high}.")
        limits[name] = value
    return limits


def limits_of(info: Mapping[str, Any]) -> dict[str, int]:
    """cpu, ram (MiB) and disk (MiB, all disks together) of a VM's `GET /api/vcenter/vm/{vm}` answer."""
    limits: dict[str, int] = {}
    cpu, memory, disks = info.get("cpu"), info.get("memory"), info.get("disks")
    if isinstance(cpu, dict) and isinstance(cpu.get("count"), int):
        limits[CPU] = cpu["count"]
    if isinstance(memory, dict) and isinstance(memory.get("size_MiB"), int):
        limits[RAM] = memory["size_MiB"]
    if isinstance(disks, dict):
        capacity = sum(d.get("capacity") or 0 for d in disks.values() if isinstance(d, dict))
        limits[DISK] = int(capacity // MIB)
    return limits
