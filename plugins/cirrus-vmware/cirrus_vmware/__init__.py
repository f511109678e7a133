"""VMware vSphere virtual machines as the Cirrus offering type `VMware.VirtualMachine` (Waldur's
name, `marketplace_vmware`), registered through the `cirrus.providers` entry point `register`.

Components are Waldur's: cpu (vCPU), ram and disk (MiB), all limit-billed. Secret options: `host`
(vCenter's https URL), `username`, `password`, `verify_ssl` (default true). Plugin options: the
placement (`folder`, and `cluster`, `resource_pool` or `host`; `datastore`; `datacenter` narrows the
importable list), `ca_certificate` (vCenter's private CA, PEM), `template` (a content library VM
template to deploy; none: VMs from scratch with `guest_os`) and `templates` an order may choose
among, `cores_per_socket`, `default_limits`.
Nothing here imports requests: the backend's client does, when a backend is built (discovery stays
cheap).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers import outbound
from chalicelib.providers.cloud import CloudBackend, ProviderError, Settings, cloud_type

TYPE = "VMware.VirtualMachine"
SECRET_OPTIONS = frozenset({"host", "username", "password", "verify_ssl"})
COMPONENTS = (
    ComponentTemplate("cpu", "CPU", "vCPU", BillingType.LIMIT),
    ComponentTemplate("ram", "RAM", "MiB", BillingType.LIMIT),
    ComponentTemplate("disk", "Disk", "MiB", BillingType.LIMIT),
)
DEFAULTS: Mapping[str, Any] = {
    "ca_certificate": "",  # PEM of the CA that signed vCenter's certificate (its VMCA), if private
    "guest_os": "OTHER_LINUX_64",
    "cores_per_socket": 1,
    "default_limits": {"cpu": 1, "ram": 1024, "disk": 10240},
}
# vCenter's managed object ids (group-v3, domain-c8, resgroup-9, host-12, datastore-14, datacenter-2)
# and content library item ids (UUIDs).
OBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,79}")
OBJECT_OPTIONS = ("folder", "cluster", "resource_pool", "host", "datastore", "datacenter", "template")
TEMPLATES_MAX = 50
CREDENTIAL_MAX = 256


def validate_plugin_options(options: Mapping[str, Any]) -> None:
    """Each option has its shape (a 400 on `plugin_options` otherwise)."""
    from cirrus_vmware.backend import GUEST_OS, LIMIT_RANGES

    for name in OBJECT_OPTIONS:
        value = options.get(name)
        if value not in (None, "") and not (isinstance(value, str) and OBJECT_ID.fullmatch(value)):
            raise ValueError(f"{name} must be a vCenter object id such as group-v3 or domain-c8.")
    outbound.check_ca(options.get("ca_certificate", ""))
    templates = options.get("templates", [])
    if not isinstance(templates, list) or len(templates) > TEMPLATES_MAX:
        raise ValueError(f"templates must be a list of at most {TEMPLATES_MAX} content library item ids.")
    if not all(isinstance(t, str) and OBJECT_ID.fullmatch(t) for t in templates):
        raise ValueError("templates must hold content library item ids.")
    if not (isinstance(options.get("guest_os"), str) and GUEST_OS.fullmatch(options["guest_os"])):
        raise ValueError("guest_os must be a vSphere guest OS identifier such as UBUNTU_64.")
    cores = options.get("cores_per_socket")
    if isinstance(cores, bool) or not isinstance(cores, int) or not 1 <= cores <= 64:
        raise ValueError("cores_per_socket must be a whole number from 1 to 64.")
    defaults = options.get("default_limits")
    if not isinstance(defaults, dict) or set(defaults) - set(LIMIT_RANGES):
        raise ValueError("default_limits must be an object of cpu, ram and disk (MiB).")
    for name, value in defaults.items():
        low, high = LIMIT_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"default_limits.{name} must be a whole number from {low} to {high}.")


def validate_secret_options(secrets: Mapping[str, Any]) -> None:
    """The offering's secret options when a provider saves them (a 400 on `secret_options` that
    names the option, never its value): `host` an https URL that is not itself an internal address
    (a name is judged after resolving it, when a backend is built), `username` and `password`
    non-empty, `verify_ssl` true or false."""
    check_secrets(secrets)


def check_secrets(secrets: Mapping[str, Any]) -> tuple[str, str, str, bool]:
    """host (https, not an internal address), username, password, verify_ssl; ValueError if not."""
    host = outbound.check_url(secrets.get("host"), "host")
    username, password = secrets.get("username"), secrets.get("password")
    for name, value in (("username", username), ("password", password)):
        if not isinstance(value, str) or not value or len(value) > CREDENTIAL_MAX:
            raise ValueError(f"{name} must be a non-empty string of at most {CREDENTIAL_MAX} characters.")
    verify = secrets.get("verify_ssl", True)
    if not isinstance(verify, bool):
        raise ValueError("verify_ssl must be true or false.")
    return host, str(username), str(password), verify


def build(settings: Settings) -> CloudBackend:
    from cirrus_vmware.backend import VMwareBackend
    from cirrus_vmware.client import VSphereClient

    try:
        host, username, password, verify = check_secrets(settings.secrets)
    except ValueError as exc:
        raise ProviderError(f"The offering's secret option {exc}") from None
    ca = str(settings.options.get("ca_certificate") or "")
    verification: bool | str = ca_file(ca) if ca and verify else verify
    return VMwareBackend(settings, VSphereClient(host, username, password, verify_ssl=verification))


def ca_file(pem: str) -> str:
    """A file holding `pem` (requests verifies against a path), named by its digest and written once
    per process: /tmp on Lambda."""
    import hashlib
    import os
    import tempfile

    path = os.path.join(
        tempfile.gettempdir(), f"cirrus-vmware-ca-{hashlib.sha256(pem.encode()).hexdigest()}.pem"
    )
    if not os.path.exists(path):
        partial = f"{path}.{os.getpid()}"
        with open(partial, "w", encoding="ascii") as handle:
            handle.write(pem)
        os.replace(partial, path)
    return path


register = cloud_type(
    TYPE,
    "VMware virtual machine (vSphere)",
    build,
    components=COMPONENTS,
    secret_options=SECRET_OPTIONS,
    plugin_option_defaults=DEFAULTS,
    validate_plugin_options=validate_plugin_options,
    validate_secret_options=validate_secret_options,
)
