"""Cirrus's Azure provider plugin: the offering types `Azure.VirtualMachine` and `Azure.SQLServer`
(Waldur's names, from waldur_mastermind.marketplace_azure), provisioned through the Azure SDK for
Python.

Installed beside Cirrus (`pip install plugins/cirrus-azure`), it is found through its entry point
`cirrus.providers: azure = cirrus_azure:register`. Importing this module imports no Azure SDK: the
backend imports it when it first talks to Azure.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers.cloud import CloudBackend, Settings, cloud_type
from cirrus_azure import options

VIRTUAL_MACHINE_TYPE = "Azure.VirtualMachine"
SQL_SERVER_TYPE = "Azure.SQLServer"

# Waldur's Azure VM offering has no built-in components (its plans carry the price); a VM is billed
# per plan: one fixed monthly component, the plan's article_code naming the VM size.
VM_COMPONENTS = (
    ComponentTemplate(
        "vm",
        "Virtual machine",
        "month",
        BillingType.FIXED,
        "One VM of the plan's size (the plan's article_code, e.g. Standard_B2s), billed per month.",
    ),
)


def virtual_machines(settings: Settings) -> CloudBackend:
    from cirrus_azure.vm import AzureVirtualMachines

    return AzureVirtualMachines(settings)


# Waldur's Azure SQL offering has no built-in components either: one fixed monthly component, the
# plan's article_code naming the database's service objective.
SQL_COMPONENTS = (
    ComponentTemplate(
        "database",
        "SQL database",
        "month",
        BillingType.FIXED,
        "A server with one database of the plan's service objective (the plan's article_code, e.g. S0).",
    ),
)


def sql_servers(settings: Settings) -> CloudBackend:
    from cirrus_azure.sql import AzureSQLServers

    return AzureSQLServers(settings)


TYPES = (
    cloud_type(
        VIRTUAL_MACHINE_TYPE,
        "Azure virtual machine",
        virtual_machines,
        components=VM_COMPONENTS,
        secret_options=options.SECRET_OPTIONS,
        plugin_option_defaults=options.VM_DEFAULTS,
        validate_plugin_options=options.check_vm_options,
        validate_secret_options=options.check_secret_options,
        needs_provider_review=False,
    ),
    cloud_type(
        SQL_SERVER_TYPE,
        "Azure SQL server with a database",
        sql_servers,
        components=SQL_COMPONENTS,
        secret_options=options.SECRET_OPTIONS,
        plugin_option_defaults=options.SQL_DEFAULTS,
        validate_plugin_options=options.check_sql_options,
        validate_secret_options=options.check_secret_options,
        needs_provider_review=False,
    ),
)


def register(registry: Any) -> None:
    """The entry point: both types (each with the driver's create/update/terminate processors)."""
    for registration in TYPES:
        registry.add(registration)
