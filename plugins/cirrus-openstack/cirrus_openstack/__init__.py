"""Cirrus's OpenStack provider plugin: three offering types named as Waldur names them,
`OpenStack.Tenant` (a Keystone project with Nova/Cinder quotas), `OpenStack.Instance` (a Nova
server) and `OpenStack.Volume` (a Cinder volume), each run by its own cloud backend through
openstacksdk. The entry point (`cirrus.providers`: `openstack = "cirrus_openstack:register"`)
names `register`, which adds the three types to the registry.

Importing this package imports no SDK (the backends import openstacksdk when they first connect).
See docs/providers/openstack.md.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers.cloud import CloudBackend, Settings, cloud_type
from cirrus_openstack.cloud import PLUGIN_OPTION_DEFAULTS, SECRET_OPTIONS, check_plugin_options

TENANT_TYPE = "OpenStack.Tenant"
INSTANCE_TYPE = "OpenStack.Instance"
VOLUME_TYPE = "OpenStack.Volume"

# Waldur's tenant components (marketplace_openstack/apps.py): limits, in the units Waldur stores
# them: cores, and RAM and storage in MiB (Waldur prices those per GB with a factor of 1024; Cirrus
# components have no factor, so the unit here is the MiB the limit is counted in).
TENANT_COMPONENTS = (
    ComponentTemplate("cores", "Cores", "cores", BillingType.LIMIT, "vCPU quota of the project (Nova cores)"),
    ComponentTemplate("ram", "RAM", "MB", BillingType.LIMIT, "RAM quota of the project in MiB (Nova ram)"),
    ComponentTemplate(
        "storage", "Storage", "MB", BillingType.LIMIT, "Block storage quota in MiB (Cinder gigabytes)"
    ),
)
# A volume's size as a limit (GiB): what an update order extends. Waldur's volume offering has no
# components of its own (its size is an attribute in MiB, which create also accepts).
VOLUME_COMPONENTS = (
    ComponentTemplate("size", "Size", "GB", BillingType.LIMIT, "Size of the Cinder volume in GiB"),
)


def _tenant(settings: Settings) -> CloudBackend:
    from cirrus_openstack.tenant import TenantBackend

    return TenantBackend(settings)


def _instance(settings: Settings) -> CloudBackend:
    from cirrus_openstack.instance import InstanceBackend

    return InstanceBackend(settings)


def _volume(settings: Settings) -> CloudBackend:
    from cirrus_openstack.volume import VolumeBackend

    return VolumeBackend(settings)


TYPES = (
    cloud_type(
        TENANT_TYPE,
        "OpenStack tenant (a Keystone project with compute and storage quotas)",
        _tenant,
        components=TENANT_COMPONENTS,
        secret_options=SECRET_OPTIONS,
        plugin_option_defaults=PLUGIN_OPTION_DEFAULTS,
        validate_plugin_options=check_plugin_options,
    ),
    cloud_type(
        INSTANCE_TYPE,
        "OpenStack instance (a Nova server)",
        _instance,
        secret_options=SECRET_OPTIONS,
        plugin_option_defaults=PLUGIN_OPTION_DEFAULTS,
        validate_plugin_options=check_plugin_options,
    ),
    cloud_type(
        VOLUME_TYPE,
        "OpenStack volume (a Cinder volume)",
        _volume,
        components=VOLUME_COMPONENTS,
        secret_options=SECRET_OPTIONS,
        plugin_option_defaults=PLUGIN_OPTION_DEFAULTS,
        validate_plugin_options=check_plugin_options,
    ),
)


def register(registry: Any) -> None:
    """The entry point: add the three OpenStack types (and their processors) to `registry`."""
    for add in TYPES:
        registry.add(add)
