"""`Azure.VirtualMachine`'s cloud backend: a Linux VM in a resource group of its own.

For a resource (Cirrus's uuid `U`) create makes, in the offering's subscription and location, as
Waldur's waldur_azure does (a group per VM, `group-…-<name>` there):

- the resource group `<resource_group_prefix>U` (Resource Groups - Create Or Update, synchronous),
- the virtual network `vnet-U` with the one subnet `default` (Virtual Networks - Create Or Update),
- the public IP `ip-U` if the order asks (attribute `public_ip`, default the offering's `public_ip`),
- the network interface `nic-U` (its public IP deleted with it),
- the VM `vm-U` (Virtual Machines - Create Or Update): the plan's size, the offering's image (or one
  the order names from `images`), an OS disk and NIC that Azure deletes with the VM
  (`deleteOption: Delete`), SSH key login only (the order's `ssh_public_key`) for `admin_username`.

Each is a PUT by name, idempotent by design; the VM is looked up first, so a retried create that
finds it made returns it without another PUT. Long-running operations are polled by the SDK
(`polling_interval`) while this heartbeats. The backend id is `<resource group>/<vm name>` (not the
ARM id: that carries the subscription id, a secret option). Update resizes (Virtual Machines -
Update, `hardwareProfile.vmSize`); terminate deletes the VM, then the resource group if Cirrus made
it (tagged with the resource's uuid), which takes the network and anything left with it.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.cloud import (
    Heartbeat,
    Job,
    ProviderError,
    RemoteResource,
    RemoteState,
    Settings,
    TransientError,
)
from cirrus_azure import options as opts
from cirrus_azure.base import MAX_WAIT_SECONDS, TAG_NAME, AzureBackend, group_of, text

Names = list[str]  # (the class's own `list` method shadows the builtin in its annotations)
Addresses = dict[str, Names]

IMPORTABLE_TYPE = "virtual_machine"
MAX_SSH_KEY = 16 * 1024
MAX_USER_DATA = 48 * 1024  # Azure's customData is at most 64 KiB once base64-encoded
_SSH_KEY = re.compile(r"(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( [^\r\n]*)?")
_BACKEND_ID = re.compile(r"([A-Za-z0-9_().-]{1,90})/([A-Za-z0-9_.-]{1,64})")

_BUSY = frozenset({"creating", "updating", "migrating", "deleting"})
_STATES = {
    "creating": RemoteState.CREATING,
    "updating": RemoteState.UPDATING,
    "migrating": RemoteState.UPDATING,
    "deleting": RemoteState.TERMINATING,
    "failed": RemoteState.ERRED,
    "canceled": RemoteState.ERRED,
    "succeeded": RemoteState.OK,
}


class AzureVirtualMachines(AzureBackend):
    """One offering's VMs. Built from its Settings; the SDK clients are made on first use."""

    def __init__(self, settings: Settings, **sdk: Any) -> None:
        super().__init__(settings, opts.VM_DEFAULTS, opts.check_vm_options, **sdk)

    def _settled(self, group: str, name: str, vm: Any, heartbeat: Heartbeat) -> Any:
        """The VM once no operation is running on it (an earlier create that timed out while Azure
        worked): a PUT now would be refused as a conflicting operation. None if it went away."""
        compute = self.client("compute")
        deadline = time.monotonic() + MAX_WAIT_SECONDS
        while vm is not None and _provisioning(vm) in _BUSY:
            heartbeat()
            if time.monotonic() > deadline:
                raise TransientError(f"Azure is still working on the VM {name} ({_provisioning(vm)}).")
            time.sleep(self.interval)
            vm = self.absent(
                "looking for the VM", lambda: compute.virtual_machines.get(group, name, expand="instanceView")
            )
        return vm

    # --- names ---------------------------------------------------------------------------------
    def names(self, resource_uuid: str) -> dict[str, str]:
        uuid = self.uuid_of(resource_uuid)
        return {
            "group": self.group_name(resource_uuid),
            "vm": f"vm-{uuid}",
            "vnet": f"vnet-{uuid}",
            "ip": f"ip-{uuid}",
            "nic": f"nic-{uuid}",
            "disk": f"osdisk-{uuid}",
        }

    @staticmethod
    def parse_backend_id(backend_id: str) -> tuple[str, str]:
        found = _BACKEND_ID.fullmatch(backend_id or "")
        if found is None:
            raise ProviderError(f"{backend_id[:100]!r} is not an Azure VM id (resource group/VM name).")
        return found.group(1), found.group(2)

    # --- the order's choices -------------------------------------------------------------------
    def _size(self, job: Job, current: str = "") -> str:
        """The size asked for; `current` (an update's VM's size) when the order names none."""
        # The plan's size wins: an order may not buy a small plan and ask for a large VM.
        size = job.plan_code or job.attributes.get("size") or current or self.options["default_size"]
        if size == current:
            return current
        if size not in self.options["sizes"]:
            offered = ", ".join(self.options["sizes"][:20])
            raise ProviderError(f"The VM size {str(size)[:64]!r} is not offered here (one of: {offered}).")
        return str(size)

    def _image(self, job: Job) -> Mapping[str, str]:
        name = job.attributes.get("image")
        if name in (None, ""):
            return dict(self.options["image"])
        images = self.options["images"]
        if not isinstance(name, str) or name not in images:
            raise ProviderError(
                f"The image {str(name)[:64]!r} is not offered here (one of: {', '.join(images)})."
            )
        return dict(images[name])

    @staticmethod
    def _ssh_key(job: Job) -> str:
        key = job.attributes.get("ssh_public_key")
        if not isinstance(key, str) or len(key) > MAX_SSH_KEY or not _SSH_KEY.fullmatch(key.strip()):
            raise ProviderError(
                "An Azure VM needs the order's ssh_public_key (an OpenSSH public key: ssh-rsa, ssh-ed25519 "
                "or ecdsa); password login is not offered."
            )
        return key.strip()

    @staticmethod
    def _user_data(job: Job) -> str | None:
        data = job.attributes.get("user_data")
        if data in (None, ""):
            return None
        if not isinstance(data, str) or len(data.encode()) > MAX_USER_DATA:
            raise ProviderError(f"user_data must be text of at most {MAX_USER_DATA} bytes.")
        return base64.b64encode(data.encode()).decode()

    def _public_ip(self, job: Job) -> bool:
        wanted = job.attributes.get("public_ip", self.options["public_ip"])
        if not isinstance(wanted, bool):
            raise ProviderError("public_ip must be true or false.")
        return wanted

    @staticmethod
    def _computer_name(job: Job, fallback: str) -> str:
        name = re.sub(r"[^a-z0-9-]+", "-", job.resource_name.lower()).strip("-")[:63].strip("-")
        return name if name and not name.isdigit() else fallback

    # --- CloudBackend --------------------------------------------------------------------------
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        n = self.names(job.resource_uuid)
        size, image, key = self._size(job), self._image(job), self._ssh_key(job)
        user_data, public_ip = self._user_data(job), self._public_ip(job)
        compute = self.client("compute")
        heartbeat()
        found = self.absent(
            "looking for the VM",
            lambda: compute.virtual_machines.get(n["group"], n["vm"], expand="instanceView"),
        )
        if found is not None:  # an earlier attempt made it, or is still making it
            found = self._settled(n["group"], n["vm"], found, heartbeat)
        if found is not None and _provisioning(found) == "succeeded":
            return self._remote(found, n["group"])
        location, tags = self.options["location"], self.tags(job)
        network = self.client("network")
        self.make_group(n["group"], tags)
        vnet = self.wait(
            "creating the virtual network",
            lambda: network.virtual_networks.begin_create_or_update(
                n["group"], n["vnet"], self._vnet_body(location, tags)
            ),
            heartbeat,
        )
        subnet_id = vnet.properties.subnets[0].id
        ip_id = None
        if public_ip:
            made_ip = self.wait(
                "creating the public IP address",
                lambda: network.public_ip_addresses.begin_create_or_update(
                    n["group"], n["ip"], _public_ip_body(location, tags)
                ),
                heartbeat,
            )
            ip_id = made_ip.id
        nic = self.wait(
            "creating the network interface",
            lambda: network.network_interfaces.begin_create_or_update(
                n["group"], n["nic"], _nic_body(location, tags, subnet_id, ip_id)
            ),
            heartbeat,
        )
        body = self._vm_body(job, n, location, tags, size, image, key, user_data, nic.id)
        self.wait(
            "creating the virtual machine",
            lambda: compute.virtual_machines.begin_create_or_update(n["group"], n["vm"], body),
            heartbeat,
        )
        made = self.call(
            "reading the VM", lambda: compute.virtual_machines.get(n["group"], n["vm"], expand="instanceView")
        )
        remote = self._remote(made, n["group"])
        if remote.state is RemoteState.ERRED:
            raise ProviderError(remote.error)
        return remote

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        group, name = self.parse_backend_id(job.backend_id)
        compute = self.client("compute")
        vm = self.absent("reading the VM", lambda: compute.virtual_machines.get(group, name))
        if vm is None:
            raise ProviderError(f"The VM {name} is not at Azure any more (resource group {group}).")
        current = text(vm.properties.hardware_profile.vm_size)
        size = self._size(job, current)
        if size != current:
            body = {"properties": {"hardwareProfile": {"vmSize": size}}}
            self.wait(
                f"resizing the VM to {size}",
                lambda: compute.virtual_machines.begin_update(group, name, body),
                heartbeat,
            )
        made = self.call(
            "reading the VM", lambda: compute.virtual_machines.get(group, name, expand="instanceView")
        )
        return self._remote(made, group)

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        group, name = self.parse_backend_id(job.backend_id)
        compute = self.client("compute")
        self.wait(
            "deleting the VM",
            lambda: compute.virtual_machines.begin_delete(group, name),
            heartbeat,
            gone_ok=True,
        )
        self.delete_group_if_ours(group, job, heartbeat)

    def get(self, backend_id: str) -> RemoteResource | None:
        group, name = self.parse_backend_id(backend_id)
        compute = self.client("compute")
        vm = self.absent(
            "reading the VM", lambda: compute.virtual_machines.get(group, name, expand="instanceView")
        )
        return self._remote(vm, group) if vm is not None else None

    def list(self) -> Iterable[RemoteResource]:
        compute = self.client("compute")
        with self.calling("listing the VMs"):
            return [
                self._remote(vm, group_of(vm.id), addresses=False)
                for vm in compute.virtual_machines.list_all()
            ]

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}  # Azure reports cost through Cost Management, not per VM here: nothing collected

    # --- bodies (the REST shapes of the references in the fake's docstring) ----------------------
    def _vnet_body(self, location: str, tags: Mapping[str, str]) -> dict[str, Any]:
        return {
            "location": location,
            "tags": dict(tags),
            "properties": {
                "addressSpace": {"addressPrefixes": [self.options["vnet_cidr"]]},
                "subnets": [
                    {"name": "default", "properties": {"addressPrefix": self.options["subnet_cidr"]}}
                ],
            },
        }

    def _vm_body(
        self,
        job: Job,
        n: Mapping[str, str],
        location: str,
        tags: Mapping[str, str],
        size: str,
        image: Mapping[str, str],
        key: str,
        user_data: str | None,
        nic_id: str,
    ) -> dict[str, Any]:
        user = self.options["admin_username"]
        os_profile: dict[str, Any] = {
            "computerName": self._computer_name(job, n["vm"]),
            "adminUsername": user,
            "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "ssh": {"publicKeys": [{"path": f"/home/{user}/.ssh/authorized_keys", "keyData": key}]},
            },
        }
        if user_data is not None:
            os_profile["customData"] = user_data
        return {
            "location": location,
            "tags": dict(tags),
            "properties": {
                "hardwareProfile": {"vmSize": size},
                "storageProfile": {
                    "imageReference": dict(image),
                    "osDisk": {
                        "name": n["disk"],
                        "createOption": "FromImage",
                        "deleteOption": "Delete",
                        "managedDisk": {"storageAccountType": self.options["os_disk_type"]},
                    },
                },
                "osProfile": os_profile,
                "networkProfile": {
                    "networkInterfaces": [
                        {"id": nic_id, "properties": {"primary": True, "deleteOption": "Delete"}}
                    ]
                },
            },
        }

    # --- answers -------------------------------------------------------------------------------
    def _remote(self, vm: Any, group: str, addresses: bool = True) -> RemoteResource:
        props = vm.properties
        state = _STATES.get(_provisioning(vm), RemoteState.ERRED)
        statuses = list(getattr(getattr(props, "instance_view", None), "statuses", None) or [])
        power = next(
            (s.code.split("/", 1)[1] for s in statuses if (s.code or "").startswith("PowerState/")), ""
        )
        error = ""
        if state is RemoteState.ERRED:
            failed = [s.message or s.display_status or s.code for s in statuses if s.level == "Error"]
            error = f"Azure reports the VM {_provisioning(vm) or 'in an unknown state'}" + (
                f": {failed[0][:300]}" if failed else "."
            )
        image = props.storage_profile.image_reference if props.storage_profile else None
        metadata: dict[str, Any] = {
            "resource_group": group,
            "vm_name": vm.name,
            "location": text(vm.location),
            "size": text(props.hardware_profile.vm_size) if props.hardware_profile else "",
            "runtime_state": power,
            "provisioning_state": text(props.provisioning_state),
        }
        if image is not None and image.publisher:
            metadata["image"] = ":".join(
                text(p) for p in (image.publisher, image.offer, image.sku, image.version)
            )
        if props.os_profile is not None:
            metadata["admin_username"] = text(props.os_profile.admin_username)
        if addresses:
            metadata.update(self._addresses(vm, group))
        return RemoteResource(
            backend_id=f"{group}/{vm.name}",
            name=(vm.tags or {}).get(TAG_NAME) or vm.name,
            state=state,
            error=error,
            metadata=metadata,
            type=IMPORTABLE_TYPE,
            description=f"{metadata['size']} in {vm.location}",
        )

    def _addresses(self, vm: Any, group: str) -> Addresses:
        """Waldur's backend_metadata `internal_ips` / `external_ips` of the VM's NICs."""
        network = self.client("network")
        internal: Names = []
        external: Names = []
        nics = vm.properties.network_profile.network_interfaces if vm.properties.network_profile else []
        for ref in nics or []:
            nic_group, nic_name = group_of(ref.id), ref.id.rsplit("/", 1)[-1]
            nic = self.absent(
                "reading the VM's network interface",
                lambda g=nic_group, n=nic_name: network.network_interfaces.get(g, n),  # type: ignore[misc]
            )
            for config in (nic.properties.ip_configurations or []) if nic is not None else []:
                if config.properties.private_ip_address:
                    internal.append(config.properties.private_ip_address)
                public = config.properties.public_ip_address
                if public is not None and public.id:
                    ip_group, ip_name = group_of(public.id), public.id.rsplit("/", 1)[-1]
                    ip = self.absent(
                        "reading the VM's public IP",
                        lambda g=ip_group, n=ip_name: network.public_ip_addresses.get(g, n),  # type: ignore[misc]
                    )
                    if ip is not None and ip.properties.ip_address:
                        external.append(ip.properties.ip_address)
        return {"internal_ips": internal, "external_ips": external}


def _provisioning(vm: Any) -> str:
    return str(getattr(vm.properties, "provisioning_state", "") or "").lower()


def _public_ip_body(location: str, tags: Mapping[str, str]) -> dict[str, Any]:
    return {
        "location": location,
        "tags": dict(tags),
        "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
    }


def _nic_body(location: str, tags: Mapping[str, str], subnet_id: str, ip_id: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {"subnet": {"id": subnet_id}, "privateIPAllocationMethod": "Dynamic"}
    if ip_id is not None:
        config["publicIPAddress"] = {"id": ip_id, "properties": {"deleteOption": "Delete"}}
    return {
        "location": location,
        "tags": dict(tags),
        "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": config}]},
    }
