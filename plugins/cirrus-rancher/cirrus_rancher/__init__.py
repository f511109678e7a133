"""Cirrus provider plugin `Marketplace.Rancher`: a tenant's allocation (a Rancher project, a
namespace in it and a ResourceQuota) on an existing Rancher-managed Kubernetes cluster.

The entry point `cirrus.providers: rancher = cirrus_rancher:register` names `register`; nothing here
imports an SDK (requests and kubernetes are imported when a backend is built). See
docs/providers/rancher.md.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers.cloud import CloudBackend, Settings, cloud_type
from cirrus_rancher import options

TYPE = "Marketplace.Rancher"
SECRET_OPTIONS = frozenset({"rancher_url", "token", "kube_api_url", "kube_token"})

COMPONENTS = (
    ComponentTemplate("cpu", "CPU", "cores", BillingType.LIMIT, "requests.cpu of the namespace's quota"),
    ComponentTemplate("ram", "RAM", "GiB", BillingType.LIMIT, "requests.memory of the namespace's quota"),
    ComponentTemplate(
        "storage", "Storage", "GiB", BillingType.LIMIT, "requests.storage of the namespace's quota"
    ),
)


def build(settings: Settings) -> CloudBackend:
    from cirrus_rancher.backend import RancherBackend

    return RancherBackend(settings)


register: Any = cloud_type(
    TYPE,
    "Rancher project and namespace with quotas on an existing cluster",
    build,
    components=COMPONENTS,
    secret_options=SECRET_OPTIONS,
    plugin_option_defaults=options.DEFAULTS,
    validate_plugin_options=options.check,
    validate_secret_options=options.check_secrets,
    needs_provider_review=False,
)
