"""A fake vCenter speaking the part of vSphere's Automation REST API (`/api`, vSphere 7.0U2+) that the
VMware backend calls, in the shapes the public reference documents:

- API reference: https://developer.broadcom.com/xapis/vsphere-automation-api/latest/
  - Create Session: POST /api/session, HTTP basic auth -> 201 and the session id as a JSON string;
    later calls carry it in the `vmware-api-session-id` header
    (https://developer.broadcom.com/xapis/vsphere-automation-api/latest/cis/ - "Cis Session")
  - List Vm: GET /api/vcenter/vm with the filters `names`, `folders`, `datacenters`, ... (repeated
    parameters) -> 200 [{"vm", "name", "power_state", "cpu_count", "memory_size_MiB"}]
    (https://developer.broadcom.com/xapis/vsphere-automation-api/latest/vcenter/api/vcenter/vm/get/)
  - Create Vm: POST /api/vcenter/vm with VM.CreateSpec (`guest_OS` required; `placement.folder`
    "currently required"; a resource pool unless a host or cluster is named - the placement spec's
    notes) -> 201 and the new VM's id as a JSON string
  - Get Vm: GET /api/vcenter/vm/{vm} -> VM.Info (`name`, `power_state`, `guest_OS`, `cpu{count,
    cores_per_socket, hot_add_enabled, hot_remove_enabled}`, `memory{size_MiB, hot_add_enabled}`,
    `disks` as a map of disk key -> {label, type, capacity}, ...)
  - Delete Vm: DELETE /api/vcenter/vm/{vm} -> 204; a running VM is refused (400
    NOT_ALLOWED_IN_CURRENT_STATE)
  - Power: POST /api/vcenter/vm/{vm}/power?action=start|stop -> 204; already so -> 400
    ALREADY_IN_DESIRED_STATE (https://developer.vmware.com/apis/vsphere-automation/latest/vcenter/
    api/vcenter/vm/vm/poweractionstart/post/)
  - Deploy a VM template: GET /api/vcenter/vm-template/library-items/{item} -> the template's
    info (`guest_OS`, `cpu{count, cores_per_socket}`, `memory{size_MiB}`, `disks` map of key ->
    {capacity, disk_storage}); POST ...?action=deploy with LibraryItems.DeploySpec (`name` and
    `placement` required; `vm_home_storage`, `disk_storage`, `hardware_customization{cpu_update
    {num_cpus, num_cores_per_socket}, memory_update{memory}, disks_to_update{key: {capacity}}}`,
    `powered_on`) -> 200 and the new VM's id as a JSON string
    (https://developer.vmware.com/apis/vsphere-automation/latest/vcenter/data-structures/VmTemplate/LibraryItems/DeploySpec/)
  - Hardware: PATCH /api/vcenter/vm/{vm}/hardware/cpu ({count, cores_per_socket, ...}) and
    .../hardware/memory ({size_MiB, ...}) -> 204; changing a running VM without hot-add enabled is
    refused (400 NOT_ALLOWED_IN_CURRENT_STATE)
- Errors are `{"error_type": "...", "messages": [{"id", "default_message", "args"}]}` (the
  reference's Std_Errors_Error: UNAUTHENTICATED 401, UNAUTHORIZED 403, NOT_FOUND 404,
  INVALID_ARGUMENT / ALREADY_EXISTS / ALREADY_IN_DESIRED_STATE / NOT_ALLOWED_IN_CURRENT_STATE 400,
  SERVICE_UNAVAILABLE 503).

The session header is checked on every call (UNAUTHENTICATED otherwise), basic auth on login.
"""

from __future__ import annotations

import base64
import itertools
import secrets
from typing import Any

from tests.providers.fakes.https_fake import FakeApi, Reply, Request

SESSION_HEADER = "vmware-api-session-id"
MIB = 1024 * 1024


def error(status: int, error_type: str, message: str) -> Reply:
    return Reply(
        status,
        {
            "error_type": error_type,
            "messages": [
                {"id": f"com.vmware.fake.{error_type.lower()}", "default_message": message, "args": []}
            ],
        },
    )


def unauthenticated() -> Reply:
    return error(401, "UNAUTHENTICATED", "Authentication required.")


class FakeVCenter(FakeApi):
    def __init__(self, username: str = "administrator@vsphere.local", password: str = "s3cret-Pa55") -> None:
        super().__init__()
        self.username, self.password = username, password
        self.sessions: set[str] = set()
        self.vms: dict[str, dict[str, Any]] = {}
        self.folders: dict[str, str] = {}  # vm -> folder
        self.templates: dict[str, dict[str, Any]] = {}  # content library item id -> template info
        self._ids = itertools.count(1001)

    # --- test helpers -------------------------------------------------------------------------
    def add_vm(
        self, name: str, folder: str = "group-v3", cpu: int = 2, ram: int = 2048, on: bool = True
    ) -> str:
        vm = f"vm-{next(self._ids)}"
        self.vms[vm] = self._info(name, "OTHER_LINUX_64", cpu, 1, ram, [10240 * MIB])
        self.vms[vm]["power_state"] = "POWERED_ON" if on else "POWERED_OFF"
        self.folders[vm] = folder
        return vm

    def add_template(self, item: str, disk_mib: int = 16384) -> None:
        self.templates[item] = {
            "guest_OS": "UBUNTU_64",
            "cpu": {"count": 1, "cores_per_socket": 1},
            "memory": {"size_MiB": 1024},
            "disks": {"2000": {"capacity": disk_mib * MIB, "disk_storage": {"datastore": "datastore-14"}}},
            "vm_home_storage": {"datastore": "datastore-14"},
        }

    def expire_sessions(self) -> None:
        self.sessions.clear()

    # --- dispatch -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        if request.path == "/api/session" and request.method == "POST":
            return self._login(request)
        if request.headers.get(SESSION_HEADER) not in self.sessions:
            return unauthenticated()
        queued = self.take_queued()
        if queued is not None:
            return queued
        parts = request.path.strip("/").split("/")
        if parts[:4] == ["api", "vcenter", "vm-template", "library-items"] and len(parts) == 5:
            return self._template(parts[4], request)
        if parts[:3] != ["api", "vcenter", "vm"]:
            return error(404, "NOT_FOUND", f"No operation at {request.path}.")
        if len(parts) == 3:
            return self._list(request) if request.method == "GET" else self._create(request)
        vm = parts[3]
        if vm not in self.vms:
            return error(404, "NOT_FOUND", f"Virtual machine with identifier '{vm}' does not exist.")
        return self._on_vm(vm, parts[4:], request)

    def _on_vm(self, vm: str, rest: list[str], request: Request) -> Reply:
        info = self.vms[vm]
        route = (request.method, "/".join(rest))
        if route == ("GET", ""):
            return Reply(200, info)
        if route == ("DELETE", ""):
            if info["power_state"] == "POWERED_ON":
                return error(400, "NOT_ALLOWED_IN_CURRENT_STATE", "The virtual machine is powered on.")
            del self.vms[vm]
            return Reply(204)
        if route == ("POST", "power"):
            return self._power(info, request.query.get("action", [""])[0])
        if route == ("GET", "power"):
            return Reply(200, {"state": info["power_state"]})
        if route in (("PATCH", "hardware/cpu"), ("PATCH", "hardware/memory")):
            return self._hardware(info, rest[1], request.body)
        return error(404, "NOT_FOUND", f"No operation {request.method} at {request.path}.")

    # --- operations -----------------------------------------------------------------------------
    def _login(self, request: Request) -> Reply:
        header = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if header != f"Basic {expected}":
            return unauthenticated()
        session = secrets.token_hex(16)
        self.sessions.add(session)
        return Reply(201, session)

    def _list(self, request: Request) -> Reply:
        names, folders = set(request.query.get("names", [])), set(request.query.get("folders", []))
        found = []
        for vm, info in self.vms.items():
            if (names and info["name"] not in names) or (folders and self.folders[vm] not in folders):
                continue
            found.append(
                {
                    "vm": vm,
                    "name": info["name"],
                    "power_state": info["power_state"],
                    "cpu_count": info["cpu"]["count"],
                    "memory_size_MiB": info["memory"]["size_MiB"],
                }
            )
        return Reply(200, found)

    def _create(self, request: Request) -> Reply:
        spec = request.body
        if not isinstance(spec, dict) or "spec" in spec:  # /api takes the spec itself, not /rest's envelope
            return error(400, "INVALID_ARGUMENT", "Unexpected field 'spec' or body not an object.")
        placement = spec.get("placement") or {}
        problems = [
            "name" if not isinstance(spec.get("name"), str) or not spec.get("name") else "",
            "guest_OS" if not isinstance(spec.get("guest_OS"), str) else "",
            "placement.folder" if not placement.get("folder") else "",
            "placement.resource_pool" if not {"resource_pool", "host", "cluster"} & set(placement) else "",
        ]
        missing = [p for p in problems if p]
        if missing:
            return error(400, "INVALID_ARGUMENT", f"Missing or invalid field(s): {', '.join(missing)}.")
        folder = placement["folder"]
        if any(i["name"] == spec["name"] and self.folders[v] == folder for v, i in self.vms.items()):
            return error(400, "ALREADY_EXISTS", f"The name '{spec['name']}' already exists.")
        cpu, memory = spec.get("cpu") or {}, spec.get("memory") or {}
        disks = [d["new_vmdk"]["capacity"] for d in spec.get("disks") or [] if "new_vmdk" in d]
        vm = f"vm-{next(self._ids)}"
        self.vms[vm] = self._info(
            spec["name"],
            spec["guest_OS"],
            int(cpu.get("count", 1)),
            int(cpu.get("cores_per_socket", 1)),
            int(memory.get("size_MiB", 1024)),
            disks,
        )
        self.folders[vm] = placement["folder"]
        return Reply(201, vm)

    def _template(self, item: str, request: Request) -> Reply:
        template = self.templates.get(item)
        if template is None:
            return error(404, "NOT_FOUND", f"Library item '{item}' does not exist.")
        if request.method == "GET":
            return Reply(200, template)
        if request.method != "POST" or request.query.get("action") != ["deploy"]:
            return error(400, "INVALID_ARGUMENT", "Unsupported operation.")
        spec = request.body
        if not isinstance(spec, dict) or "spec" in spec:
            return error(400, "INVALID_ARGUMENT", "Unexpected field 'spec' or body not an object.")
        placement = spec.get("placement") or {}
        if not spec.get("name") or not placement.get("folder") or "datastore" in placement:
            return error(
                400, "INVALID_ARGUMENT", "name and placement.folder are required; placement has no datastore."
            )
        folder = placement["folder"]
        if any(i["name"] == spec["name"] and self.folders[v] == folder for v, i in self.vms.items()):
            return error(400, "ALREADY_EXISTS", f"The name '{spec['name']}' already exists.")
        hardware = spec.get("hardware_customization") or {}
        cpu, memory = hardware.get("cpu_update") or {}, hardware.get("memory_update") or {}
        disks = {k: dict(v) for k, v in template["disks"].items()}
        for key, update in (hardware.get("disks_to_update") or {}).items():
            if key not in disks or update.get("capacity", 0) < disks[key]["capacity"]:
                return error(400, "INVALID_ARGUMENT", f"Disk '{key}' cannot be updated so.")
            disks[key]["capacity"] = update["capacity"]
        vm = f"vm-{next(self._ids)}"
        self.vms[vm] = self._info(
            spec["name"],
            template["guest_OS"],
            int(cpu.get("num_cpus", template["cpu"]["count"])),
            int(cpu.get("num_cores_per_socket", template["cpu"]["cores_per_socket"])),
            int(memory.get("memory", template["memory"]["size_MiB"])),
            [d["capacity"] for d in disks.values()],
        )
        if spec.get("powered_on"):
            self.vms[vm]["power_state"] = "POWERED_ON"
        self.folders[vm] = folder
        return Reply(200, vm)

    def _power(self, info: dict[str, Any], action: str) -> Reply:
        target = {"start": "POWERED_ON", "stop": "POWERED_OFF"}.get(action)
        if target is None:
            return error(400, "INVALID_ARGUMENT", f"Unknown action '{action}'.")
        if info["power_state"] == target:
            return error(400, "ALREADY_IN_DESIRED_STATE", f"The virtual machine is already {target}.")
        info["power_state"] = target
        return Reply(204)

    def _hardware(self, info: dict[str, Any], part: str, body: Any) -> Reply:
        if not isinstance(body, dict) or "spec" in body:
            return error(400, "INVALID_ARGUMENT", "Unexpected field 'spec' or body not an object.")
        section = info[part]
        if info["power_state"] == "POWERED_ON" and not section.get("hot_add_enabled"):
            return error(400, "NOT_ALLOWED_IN_CURRENT_STATE", f"Changing {part} needs the VM powered off.")
        allowed = {"cpu": {"count", "cores_per_socket", "hot_add_enabled", "hot_remove_enabled"}}.get(
            part, {"size_MiB", "hot_add_enabled"}
        )
        if set(body) - allowed:
            return error(400, "INVALID_ARGUMENT", f"Unknown field(s) {sorted(set(body) - allowed)}.")
        section.update(body)
        return Reply(204)

    @staticmethod
    def _info(name: str, guest: str, cpu: int, cores: int, ram: int, disks: list[int]) -> dict[str, Any]:
        return {
            "name": name,
            "guest_OS": guest,
            "power_state": "POWERED_OFF",
            "cpu": {
                "count": cpu,
                "cores_per_socket": cores,
                "hot_add_enabled": False,
                "hot_remove_enabled": False,
            },
            "memory": {"size_MiB": ram, "hot_add_enabled": False},
            "disks": {
                str(2000 + i): {"label": f"Hard disk {i + 1}", "type": "SCSI", "capacity": capacity}
                for i, capacity in enumerate(disks)
            },
            "hardware": {"version": "VMX_19", "upgrade_policy": "NEVER", "upgrade_status": "NONE"},
            "boot": {"type": "BIOS", "delay": 0, "retry": False, "retry_delay": 10000},
        }
