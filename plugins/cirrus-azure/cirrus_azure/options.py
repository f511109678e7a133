"""An Azure offering's plugin options and secret options: defaults, checks (a provider's mistake is
a 400 on `plugin_options` when the offering is saved, never a failed order later) and the guard on
the endpoints a provider may point the plugin at (sovereign clouds; the tests' fake).

Secret options (never shown to consumers): `tenant_id`, `client_id`, `client_secret`,
`subscription_id` (a service principal with Contributor on the subscription), or `secret_arn` naming
a Secrets Manager secret whose JSON object has them (`providers/driver.py` resolves it).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from typing import Any

from chalicelib.domain import hooks

SECRET_OPTIONS = frozenset({"tenant_id", "client_id", "client_secret", "subscription_id", "secret_arn"})
REQUIRED_SECRETS = ("tenant_id", "client_id", "client_secret", "subscription_id")

# Set by the tests (and only there): an endpoint on 127.0.0.1 / ::1 / localhost is allowed.
ALLOW_LOOPBACK_ENV = "CIRRUS_PROVIDER_ALLOW_LOOPBACK"

DEFAULT_IMAGE: Mapping[str, str] = {
    "publisher": "Canonical",
    "offer": "ubuntu-24_04-lts",
    "sku": "server",
    "version": "latest",
}

# Every Azure type's options.
COMMON_DEFAULTS: Mapping[str, Any] = {
    "location": "westeurope",
    "resource_group_prefix": "cirrus-",
    "authority_host": "",  # "" = https://login.microsoftonline.com (Azure public cloud)
    "resource_manager_url": "",  # "" = https://management.azure.com
    "polling_interval": 10,  # seconds between polls of a long-running operation
    "sdk_retries": 3,  # the SDK's own retries of a throttled or failed call, before the workflow's
}

VM_DEFAULTS: Mapping[str, Any] = {
    **COMMON_DEFAULTS,
    "image": dict(DEFAULT_IMAGE),
    "images": {},  # more images an order may name in its `image` attribute: {name: {publisher, ...}}
    "sizes": ["Standard_B1s", "Standard_B1ms", "Standard_B2s", "Standard_B2ms", "Standard_D2s_v5"],
    "default_size": "Standard_B1s",
    "admin_username": "cirrus",
    "public_ip": True,
    "vnet_cidr": "10.0.0.0/16",
    "subnet_cidr": "10.0.0.0/24",
    "os_disk_type": "Standard_LRS",
}

# Azure SQL Database service objectives: DTU (Basic, S0-S12, P1-P15) or vCore
# (<GP|BC|HS>[_S]_Gen5_<vCores>, _S = serverless).
SQL_DEFAULTS: Mapping[str, Any] = {
    **COMMON_DEFAULTS,
    "database_skus": ["Basic", "S0", "S1", "S2", "GP_S_Gen5_1", "GP_Gen5_2"],
    "default_database_sku": "Basic",
    "max_firewall_rules": 10,
}

PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
PUBLIC_RESOURCE_MANAGER = "https://management.azure.com"

_LOCATION = re.compile(r"[a-z][a-z0-9]{1,39}")
_PREFIX = re.compile(r"[A-Za-z0-9_().-]{0,40}")
_SIZE = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,63}")
_IMAGE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_USERNAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# Azure refuses these as a Linux VM's admin user (osProfile.adminUsername).
_RESERVED_USERS = frozenset(
    {"admin", "administrator", "root", "user", "guest", "test", "sys", "support", "adm", "1", "a", "owner"}
)
_DISK_TYPES = frozenset({"Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS"})
MAX_SIZES = 200
MAX_IMAGES = 50


def check_common(options: Mapping[str, Any]) -> None:
    """ValueError (-> 400 on plugin_options) with the first problem found."""
    location = options.get("location")
    if not (isinstance(location, str) and _LOCATION.fullmatch(location)):
        raise ValueError("location must be an Azure region name such as westeurope.")
    prefix = options.get("resource_group_prefix")
    if not (isinstance(prefix, str) and _PREFIX.fullmatch(prefix)):
        raise ValueError(
            "resource_group_prefix must be at most 40 letters, digits, '_', '-', '.', '(' or ')'."
        )
    _check_endpoints(options)
    interval = options.get("polling_interval")
    if isinstance(interval, bool) or not isinstance(interval, int | float) or not 0 < interval <= 60:
        raise ValueError("polling_interval must be a number of seconds above 0 and at most 60.")
    retries = options.get("sdk_retries")
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise ValueError("sdk_retries must be a whole number from 0 to 10.")


def check_vm_options(options: Mapping[str, Any]) -> None:
    """Azure.VirtualMachine's options: ValueError (-> 400 on plugin_options) with the first problem."""
    check_common(options)
    _check_images(options)
    _check_sizes(options)
    user = options.get("admin_username")
    if not (isinstance(user, str) and _USERNAME.fullmatch(user)) or user in _RESERVED_USERS:
        raise ValueError("admin_username must be a Linux user name Azure accepts (not admin, root, ...).")
    if not isinstance(options.get("public_ip"), bool):
        raise ValueError("public_ip must be true or false.")
    _check_networks(options)
    if options.get("os_disk_type") not in _DISK_TYPES:
        raise ValueError(f"os_disk_type must be one of {', '.join(sorted(_DISK_TYPES))}.")


SQL_SKU = re.compile(r"Basic|S[0-9]{1,2}|P[0-9]{1,2}|(GP|BC|HS)(_S)?_Gen5_[0-9]{1,3}")


def check_sql_options(options: Mapping[str, Any]) -> None:
    """Azure.SQLServer's options: ValueError (-> 400 on plugin_options) with the first problem."""
    check_common(options)
    skus = options.get("database_skus")
    if (
        not isinstance(skus, list)
        or not 0 < len(skus) <= MAX_SIZES
        or not all(isinstance(s, str) and SQL_SKU.fullmatch(s) for s in skus)
    ):
        raise ValueError(
            "database_skus must be a list of Azure SQL service objectives "
            "(Basic, S0, P1, GP_Gen5_2, GP_S_Gen5_1, ...)."
        )
    if options.get("default_database_sku") not in skus:
        raise ValueError("default_database_sku must be one of database_skus.")
    rules = options.get("max_firewall_rules")
    if isinstance(rules, bool) or not isinstance(rules, int) or not 0 <= rules <= 50:
        raise ValueError("max_firewall_rules must be a whole number from 0 to 50.")


def _check_images(options: Mapping[str, Any]) -> None:
    check_image(options.get("image"), "image")
    images = options.get("images")
    if not isinstance(images, Mapping) or len(images) > MAX_IMAGES:
        raise ValueError(f"images must be an object of at most {MAX_IMAGES} named images.")
    for name, image in images.items():
        if not (isinstance(name, str) and _IMAGE_NAME.fullmatch(name)):
            raise ValueError("images must be named with at most 64 letters, digits, '_', '-' or '.'.")
        check_image(image, f"images.{name}")


def _check_endpoints(options: Mapping[str, Any]) -> None:
    for name in ("authority_host", "resource_manager_url"):
        value = options.get(name)
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a URL or empty.")
        if value:
            check_endpoint(value, name, resolve=False)


def check_image(image: Any, name: str) -> None:
    if not isinstance(image, Mapping) or set(image) != {"publisher", "offer", "sku", "version"}:
        raise ValueError(f"{name} must be an object of publisher, offer, sku and version.")
    for part, value in image.items():
        if not (isinstance(value, str) and _IMAGE_PART.fullmatch(value)):
            raise ValueError(f"{name}.{part} must be at most 128 letters, digits, '_', '-' or '.'.")


def _check_sizes(options: Mapping[str, Any]) -> None:
    sizes = options.get("sizes")
    if (
        not isinstance(sizes, list)
        or not 0 < len(sizes) <= MAX_SIZES
        or not all(isinstance(s, str) and _SIZE.fullmatch(s) for s in sizes)
    ):
        raise ValueError(f"sizes must be a list of 1 to {MAX_SIZES} VM size names such as Standard_B1s.")
    if options.get("default_size") not in sizes:
        raise ValueError("default_size must be one of sizes.")


def _check_networks(options: Mapping[str, Any]) -> None:
    try:
        vnet = ipaddress.ip_network(str(options.get("vnet_cidr")))
        subnet = ipaddress.ip_network(str(options.get("subnet_cidr")))
    except ValueError:
        raise ValueError("vnet_cidr and subnet_cidr must be networks such as 10.0.0.0/16.") from None
    if not (vnet.version == subnet.version == 4 and vnet.is_private and subnet.subnet_of(vnet)):
        raise ValueError("subnet_cidr must be a private IPv4 network inside vnet_cidr.")
    if subnet.prefixlen > 29:
        raise ValueError("subnet_cidr must be a /29 or larger (Azure reserves five addresses).")


class EndpointUnresolved(ValueError):
    """The endpoint's host name did not resolve now (DNS trouble: worth retrying)."""


def loopback_allowed() -> bool:
    return os.environ.get(ALLOW_LOOPBACK_ENV) == "1"


def check_endpoint(url: str, name: str, *, resolve: bool = True) -> str:
    """`url` without a trailing slash if it is an https URL to a public host (the web hooks' rules,
    `domain/hooks.py`); a loopback host only with CIRRUS_PROVIDER_ALLOW_LOOPBACK=1 (tests). With
    `resolve`, a host name must also resolve to allowed addresses only (checked when a backend is
    built; the SDK connects by name afterwards, so a DNS answer that changes later is not caught)."""
    if len(url) > 300:
        raise ValueError(f"{name} must be at most 300 characters.")
    try:
        where = hooks.destination(url)
    except ValueError:
        raise ValueError(f"{name} must be an https:// URL.") from None
    if where.scheme != "https" or where.target not in ("/", ""):
        raise ValueError(f"{name} must be an https:// URL with no path or query (https://host[:port]).")
    addresses = where.literal
    if addresses is None and resolve:
        try:
            found = socket.getaddrinfo(where.host, where.port, type=socket.SOCK_STREAM)
        except OSError:
            raise EndpointUnresolved(f"{name}: {where.host} does not resolve.") from None
        addresses = tuple(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found)
    for address in addresses or ():
        if hooks.address_allowed(address):
            continue
        if address.is_loopback and loopback_allowed():
            continue
        raise ValueError(f"{name} must not point at an internal address ({where.host}).")
    return url.rstrip("/")


def check_secret_options(secrets: Mapping[str, Any]) -> None:
    """The types' `validate_secret_options` (a 400 on secret_options when a provider sets them;
    Secrets Manager references are checked when the backend is built instead)."""
    check_secrets(secrets)


def check_secrets(secrets: Mapping[str, Any]) -> dict[str, str]:
    """The four credentials, each a bounded string; ValueError naming what is missing (never a value)."""
    missing = [n for n in REQUIRED_SECRETS if not (isinstance(secrets.get(n), str) and secrets[n].strip())]
    if missing:
        raise ValueError(f"The offering's secret options lack {', '.join(missing)}.")
    found = {n: str(secrets[n]).strip() for n in REQUIRED_SECRETS}
    if any(len(v) > 1000 for v in found.values()):
        raise ValueError("The offering's secret options are too long (at most 1000 characters each).")
    for name in ("tenant_id", "subscription_id"):
        if not re.fullmatch(r"[A-Za-z0-9.-]{1,100}", found[name]):
            raise ValueError(f"The offering's secret option {name} is not an Azure id.")
    return found
