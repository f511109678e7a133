"""AWS.Instance: EC2 instances, built in (boto3 is Cirrus's own dependency). See docs/providers/aws.md.

Waldur's AWS plugin is standalone (`waldur_aws`, app label `aws`, resource `Instance`, routes
`aws-instances/`), with no marketplace offering type; Waldur names marketplace types
`<Plugin>.<Resource>` (`OpenStack.Instance`, `Azure.VirtualMachine`), hence `AWS.Instance`.

Nothing here imports boto3: the backend imports it when it is built.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers.aws.options import (
    DEFAULTS,
    SECRET_OPTIONS,
    check_plugin_options,
    check_secret_options,
)
from chalicelib.providers.cloud import CloudBackend, Settings, cloud_type

INSTANCE = "AWS.Instance"

# The plan's fixed monthly price is the instance's (one plan per instance type, its article_code);
# the root disk is a limit the consumer chooses and pays per GiB-month.
COMPONENTS = (ComponentTemplate("disk", "Root disk", "GiB", BillingType.LIMIT, "The root EBS volume's size"),)


def backend(settings: Settings) -> CloudBackend:
    from chalicelib.providers.aws.ec2 import Ec2Backend

    return Ec2Backend(settings)


def register(registry: Any) -> None:
    """The built-in registration (`builtin.CLOUD_TYPES`)."""
    cloud_type(
        INSTANCE,
        "AWS EC2 instance",
        backend,
        components=COMPONENTS,
        secret_options=SECRET_OPTIONS,
        plugin_option_defaults=DEFAULTS,
        validate_plugin_options=check_plugin_options,
        validate_secret_options=check_secret_options,
    )(registry)
