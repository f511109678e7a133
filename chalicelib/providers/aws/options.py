"""AWS.Instance's settings: the offering's plugin options (checked when the provider saves them, so
a bad value is a 400 on the offering) and secret options (checked when a backend is built: they
are not the type's to validate on save, and a bad one errs the order with a message that never
repeats the value), and what an order may choose (instance type, image, root disk size)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.providers.cloud import Job, ProviderError, Settings

# The commercial regions EC2 runs in (an offering names one; anything else is a typo or a partition
# Cirrus is not deployed for).
REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "af-south-1",
        "ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3",
        "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1",
        "eu-south-2", "eu-north-1",
        "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
    }
)  # fmt: skip

DEFAULTS: Mapping[str, Any] = {
    "region": "us-east-1",
    "image_id": "",  # the default image
    # Other images an order's attribute `image_id` may choose (a Marketplace AMI's software fees are
    # billed to the account's owner: the provider decides which images its plans' prices cover).
    "image_ids": [],
    "instance_type": "t3.micro",  # when neither the plan (article_code) nor the order names one
    "instance_types": [],  # what an order's attribute `instance_type` may choose from
    "subnet_id": "",  # empty: the region's default VPC
    "ingress": [],  # [{"protocol": "tcp", "port": 22, "cidr": "203.0.113.0/24"}]: nothing by default
    "poll_seconds": 5,  # between two DescribeInstances while waiting
    # How long one create/update/terminate waits for EC2 before failing as retryable: within the
    # heavy worker's timeout (150 s by default, infra/cdk worker_timeout).
    "wait_seconds": 120,
}

SECRET_OPTIONS = frozenset({"role_arn", "external_id"})

INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]{0,15}\.[a-z0-9]{1,16}$")  # t3.micro, m7i-flex.large
IMAGE_ID = re.compile(r"^ami-[0-9a-f]{8,17}$")
INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
# A role in the customer's account whose name starts with `cirrus-` (the functions may assume no
# other: infra/cdk grants sts:AssumeRole on arn:aws:iam::*:role/cirrus-*); no path.
ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/cirrus-[\w+=,.@-]{1,57}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
PROTOCOLS = frozenset({"tcp", "udp"})
MAX_INGRESS = 20
MAX_DISK_GIB = 16384  # gp3's largest volume
MAX_TYPES = 50


def _number(options: Mapping[str, Any], name: str, low: float, high: float) -> float:
    value = options.get(name, DEFAULTS[name])
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}.")
    return float(value)


def _ingress_rule(rule: Any) -> dict[str, Any]:
    if not isinstance(rule, Mapping) or set(rule) - {"protocol", "port", "cidr"}:
        raise ValueError('Each ingress rule is an object of "protocol", "port" and "cidr".')
    protocol, port, cidr = rule.get("protocol", "tcp"), rule.get("port"), rule.get("cidr")
    if protocol not in PROTOCOLS:
        raise ValueError("An ingress rule's protocol is tcp or udp.")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError("An ingress rule's port is a number from 1 to 65535.")
    try:
        network = ipaddress.ip_network(str(cidr))
    except ValueError:
        raise ValueError("An ingress rule's cidr is an IPv4 or IPv6 network, e.g. 203.0.113.0/24.") from None
    return {"protocol": protocol, "port": port, "cidr": str(network)}


def check_plugin_options(options: Mapping[str, Any]) -> None:
    """The offering's plugin_options (the type's defaults overlaid): ValueError says what is wrong."""
    if options.get("region") not in REGIONS:
        raise ValueError("region must be an AWS region EC2 runs in, e.g. eu-west-1.")
    image = options.get("image_id") or ""
    if not isinstance(image, str) or (image and not IMAGE_ID.match(image)):
        raise ValueError("image_id must be an AMI id (ami- and 8 or 17 hex digits).")
    images = options.get("image_ids")
    if (
        not isinstance(images, list)
        or len(images) > MAX_TYPES
        or not all(isinstance(i, str) and IMAGE_ID.match(i) for i in images)
    ):
        raise ValueError(f"image_ids must be a list of at most {MAX_TYPES} AMI ids.")
    if not isinstance(options.get("instance_type"), str) or not INSTANCE_TYPE.match(options["instance_type"]):
        raise ValueError("instance_type must be an EC2 instance type, e.g. t3.micro.")
    types = options.get("instance_types")
    if (
        not isinstance(types, list)
        or len(types) > MAX_TYPES
        or not all(isinstance(t, str) and INSTANCE_TYPE.match(t) for t in types)
    ):
        raise ValueError(f"instance_types must be a list of at most {MAX_TYPES} EC2 instance types.")
    subnet = options.get("subnet_id") or ""
    if not isinstance(subnet, str) or (subnet and not SUBNET_ID.match(subnet)):
        raise ValueError("subnet_id must be a subnet id (subnet- and 8 or 17 hex digits).")
    ingress = options.get("ingress")
    if not isinstance(ingress, list) or len(ingress) > MAX_INGRESS:
        raise ValueError(f"ingress must be a list of at most {MAX_INGRESS} rules.")
    for rule in ingress:
        _ingress_rule(rule)
    _number(options, "poll_seconds", 0.001, 60)
    _number(options, "wait_seconds", 1, 840)


@dataclass(frozen=True)
class Options:
    """One offering's settings, checked: what a backend runs with."""

    region: str
    image_id: str
    image_ids: frozenset[str]
    instance_type: str
    instance_types: frozenset[str]
    subnet_id: str
    ingress: tuple[dict[str, Any], ...]
    poll_seconds: float
    wait_seconds: float
    role_arn: str  # empty: the platform's own account
    external_id: str

    @classmethod
    def of(cls, settings: Settings) -> Options:
        options = {**DEFAULTS, **settings.options}
        try:
            check_plugin_options(options)
        except ValueError as exc:  # saved before the check existed, or changed behind the API
            raise ProviderError(f"The offering's plugin options are invalid: {exc}") from None
        role_arn, external_id = _role(settings)
        return cls(
            region=options["region"],
            image_id=options["image_id"] or "",
            image_ids=frozenset(options["image_ids"]),
            instance_type=options["instance_type"],
            instance_types=frozenset(options["instance_types"]),
            subnet_id=options["subnet_id"] or "",
            ingress=tuple(_ingress_rule(rule) for rule in options["ingress"]),
            poll_seconds=float(options["poll_seconds"]),
            wait_seconds=float(options["wait_seconds"]),
            role_arn=role_arn,
            external_id=external_id,
        )


def check_secret_options(secrets: Mapping[str, Any]) -> None:
    """The offering's secret_options: `role_arn` a role named cirrus-… (no path), `external_id` what
    STS accepts. ValueError says what is wrong without repeating the value."""
    unknown = sorted(str(name) for name in secrets if name not in SECRET_OPTIONS | {"secret_arn"})
    if unknown:
        raise ValueError(
            f"Unknown secret options: {', '.join(unknown)[:200]} (known: external_id, role_arn)."
        )
    role_arn, external_id = secrets.get("role_arn") or "", secrets.get("external_id") or ""
    if not isinstance(role_arn, str) or (role_arn and not ROLE_ARN.match(role_arn)):
        raise ValueError(
            "role_arn must be the ARN of an IAM role named cirrus-… without a path "
            "(arn:aws:iam::<12-digit account>:role/cirrus-<name>)."
        )
    if not isinstance(external_id, str) or (external_id and not EXTERNAL_ID.match(external_id)):
        raise ValueError("external_id must be 2 to 1224 letters, digits or +=,.@:/-_.")


def _role(settings: Settings) -> tuple[str, str]:
    """The role to assume and the ExternalId to send. Without an `external_id` secret, the
    provider's customer uuid: unique per provider and not another provider's to choose, so a trust
    policy conditioned on it admits this provider's offerings only (the confused deputy)."""
    secrets = {k: v for k, v in settings.secrets.items() if k in SECRET_OPTIONS}
    try:
        check_secret_options(secrets)
    except ValueError as exc:
        raise ProviderError(f"The offering's secret options are invalid: {exc}") from None
    role_arn, external_id = str(secrets.get("role_arn") or ""), str(secrets.get("external_id") or "")
    if role_arn and not external_id:
        external_id = settings.customer_uuid
    return role_arn, external_id


def instance_type_for(job: Job, options: Options, *, default: str) -> str:
    """The plan's article_code, else the order's attribute `instance_type` (one the offering lets
    orders choose), else `default`."""
    if job.plan_code:
        if not INSTANCE_TYPE.match(job.plan_code):
            raise ProviderError(
                f"The plan's article code {job.plan_code[:40]!r} is not an EC2 instance type."
            )
        return job.plan_code
    chosen = job.attributes.get("instance_type")
    if chosen in (None, ""):
        return default
    if not isinstance(chosen, str) or chosen not in options.instance_types:
        offered = ", ".join(sorted(options.instance_types)) or "none"
        raise ProviderError(f"The instance type may not be chosen here; this offering offers: {offered}.")
    return chosen


def image_for(job: Job, options: Options) -> str:
    """The order's attribute `image_id` (the offering's default or one of its `image_ids`), else the
    offering's default."""
    chosen = job.attributes.get("image_id")
    if chosen not in (None, "") and chosen != options.image_id:
        if not isinstance(chosen, str) or chosen not in options.image_ids:
            offered = ", ".join(sorted(options.image_ids | ({options.image_id} - {""}))) or "none"
            raise ProviderError(f"The image may not be chosen here; this offering offers: {offered}.")
        return chosen
    if not options.image_id:
        raise ProviderError("No image: the order names none and the offering sets no image_id.")
    return options.image_id


def disk_for(job: Job) -> int | None:
    """The root volume's size in GiB: the `disk` limit, else the attribute `disk`; None: the
    image's own size."""
    size = job.limits.get("disk") or job.attributes.get("disk")
    if size in (None, 0):
        return None
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_DISK_GIB:
        raise ProviderError(f"The disk size must be a whole number of GiB from 1 to {MAX_DISK_GIB}.")
    return size
