"""AWS.Instance's cloud backend: one EC2 instance per resource, with its own security group.

Every instance and group Cirrus makes is tagged `cirrus:resource=<resource uuid>` and
`cirrus:offering=<offering uuid>` (and `Name`): a retried create finds what an earlier attempt made
instead of launching a second machine, and in the platform's own account an offering sees only its
own instances. The EC2 calls made here are the ones infra/cdk grants (EC2_ACTIONS).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.aws import session
from chalicelib.providers.aws.options import (
    INSTANCE_ID,
    Options,
    disk_for,
    image_for,
    instance_type_for,
)
from chalicelib.providers.cloud import (
    Heartbeat,
    Job,
    ProviderError,
    RemoteResource,
    RemoteState,
    Settings,
    TransientError,
)

RESOURCE_TAG = "cirrus:resource"
OFFERING_TAG = "cirrus:offering"
LIVE_STATES = ("pending", "running", "stopping", "stopped", "shutting-down")
STATES = {
    "pending": RemoteState.CREATING,
    "running": RemoteState.OK,
    "stopped": RemoteState.OK,
    "stopping": RemoteState.UPDATING,
    "shutting-down": RemoteState.TERMINATING,
    "terminated": RemoteState.TERMINATED,
}
GONE = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"})
GROUP_GONE = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.NotFound"})
LIST_LIMIT = 1000  # instances listed as importable at most
VOLUME_BATCH = 200
NAME_LIMIT = 255

# What this module calls, for the deployed functions' IAM policy (infra/cdk/cirrus_infra/stack.py).
EC2_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeImages",
    "ec2:DescribeVolumes",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:CreateSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
    "ec2:CreateTags",
    "ec2:RunInstances",
    "ec2:StopInstances",
    "ec2:StartInstances",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyVolume",
    "ec2:TerminateInstances",
)


def _tags(instance: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in instance.get("Tags") or ()}


def _state(instance: Mapping[str, Any]) -> str:
    return str(instance.get("State", {}).get("Name") or "")


def _root_volume_id(instance: Mapping[str, Any]) -> str | None:
    root = instance.get("RootDeviceName")
    for mapping in instance.get("BlockDeviceMappings") or ():
        if mapping.get("DeviceName") == root and mapping.get("Ebs", {}).get("VolumeId"):
            return str(mapping["Ebs"]["VolumeId"])
    return None


class Ec2Backend:
    """`CloudBackend` for EC2. `sleep` and `clock` are the waits' (tests pass instant ones)."""

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._options = Options.of(settings)
        self._sleep, self._clock = sleep, clock
        self._client: Any = None
        self._deadline = 0.0

    def _start(self) -> None:
        """One operation's waits share one deadline: `wait_seconds`, within the heavy worker's own
        timeout, after which the step fails as retryable and the retry picks up from what EC2 has."""
        self._deadline = self._clock() + self._options.wait_seconds

    # --- plumbing ---------------------------------------------------------------------------------
    @property
    def ec2(self) -> Any:
        if self._client is None:
            self._client = session.ec2_client(self._options, self._settings)
        return self._client

    def _aws(self, doing: str) -> Any:
        return session.mapped(doing, self._settings, self._options)

    @property
    def _own_account(self) -> bool:
        """Instances in the platform's account belong to many offerings: see only this one's."""
        return not self._options.role_arn

    def _mine(self, instance: Mapping[str, Any]) -> bool:
        """Whether this offering may see the instance: not another offering's, and in the
        platform's account only one made for this offering."""
        tag = _tags(instance).get(OFFERING_TAG)
        return tag == self._settings.offering_uuid or (tag is None and not self._own_account)

    def _describe(self, instance_id: str) -> dict[str, Any] | None:
        if not INSTANCE_ID.match(instance_id or ""):
            return None
        with self._aws("describe the instance"):
            found = session.ignoring(GONE, lambda: self.ec2.describe_instances(InstanceIds=[instance_id]))
        for reservation in (found or {}).get("Reservations", ()):
            for instance in reservation.get("Instances", ()):
                return dict(instance) if self._mine(instance) else None
        return None

    def _instances(self, filters: list[dict[str, Any]], limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        with self._aws("list instances"):
            pages = self.ec2.get_paginator("describe_instances").paginate(Filters=filters)
            for page in pages:
                for reservation in page.get("Reservations", ()):
                    found.extend(reservation.get("Instances", ()))
                if len(found) >= limit:
                    break
        return found[:limit]

    def _wait(self, instance_id: str, wanted: str, heartbeat: Heartbeat) -> dict[str, Any]:
        """Poll until the instance is `wanted`, heartbeating each poll; past the operation's deadline a
        TransientError (the workflow retries the step, which picks up where this one was)."""
        while True:
            heartbeat()
            instance = self._describe(instance_id)
            state = _state(instance) if instance else "terminated"
            if state == wanted:
                return instance or {}
            if state in ("terminated", "shutting-down") and wanted != "terminated":
                reason = ((instance or {}).get("StateReason") or {}).get("Message") or "no reason given"
                raise ProviderError(f"The instance {instance_id} was terminated by AWS: {reason[:200]}")
            if self._clock() >= self._deadline:
                raise TransientError(
                    f"The instance {instance_id} was still {state} (waiting for {wanted}) after"
                    f" {self._options.wait_seconds:g} s."
                )
            self._sleep(self._options.poll_seconds)

    def _disks(self, instances: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Root volume id -> size in GiB, for `instances` (one DescribeVolumes per 200 of them)."""
        ids = [v for v in (_root_volume_id(i) for i in instances) if v]
        sizes: dict[str, int] = {}
        for start in range(0, len(ids), VOLUME_BATCH):
            found = self._volumes(ids[start : start + VOLUME_BATCH])
            sizes.update({v["VolumeId"]: int(v["Size"]) for v in (found or {}).get("Volumes", ())})
        return sizes

    def _volumes(self, volume_ids: list[str]) -> dict[str, Any] | None:
        with self._aws("describe the root volumes"):
            return session.ignoring(  # type: ignore[no-any-return]
                frozenset({"InvalidVolume.NotFound"}),  # one went meanwhile: sizes unknown this time
                lambda: self.ec2.describe_volumes(VolumeIds=volume_ids),
            )

    def _remote(self, instance: Mapping[str, Any], disks: Mapping[str, int] | None = None) -> RemoteResource:
        state = _state(instance)
        disks = self._disks([instance]) if disks is None else disks
        disk = disks.get(_root_volume_id(instance) or "")
        metadata = {
            "type": "instance",
            "region": self._options.region,
            "instance_type": instance.get("InstanceType", ""),
            "image_id": instance.get("ImageId", ""),
            "availability_zone": (instance.get("Placement") or {}).get("AvailabilityZone", ""),
            "private_ip": instance.get("PrivateIpAddress") or "",
            "public_ip": instance.get("PublicIpAddress") or "",
            "state": state,
            "stopped": state == "stopped",
        }
        return RemoteResource(
            backend_id=str(instance["InstanceId"]),
            name=_tags(instance).get("Name", ""),
            state=STATES.get(state, RemoteState.ERRED),
            error="" if state in STATES else f"EC2 reports the state {state!r}.",
            metadata=metadata,
            limits={"disk": disk} if disk else {},
            type="instance",
            description=f"{instance.get('InstanceType', '')} in {self._options.region}",
        )

    # --- create -----------------------------------------------------------------------------------
    def _made_for(self, resource_uuid: str) -> dict[str, Any] | None:
        filters = [
            {"Name": f"tag:{RESOURCE_TAG}", "Values": [resource_uuid]},
            {"Name": f"tag:{OFFERING_TAG}", "Values": [self._settings.offering_uuid]},
            {"Name": "instance-state-name", "Values": list(LIVE_STATES)},
        ]
        found = self._instances(filters, limit=1)
        return found[0] if found else None

    def _cirrus_tags(self, job: Job) -> list[dict[str, str]]:
        return [
            {"Key": RESOURCE_TAG, "Value": job.resource_uuid},
            {"Key": OFFERING_TAG, "Value": self._settings.offering_uuid},
            {"Key": "Name", "Value": (job.resource_name or job.resource_uuid)[:NAME_LIMIT]},
        ]

    def _vpc_id(self) -> str:
        if self._options.subnet_id:
            with self._aws("find the offering's subnet"):
                subnets = self.ec2.describe_subnets(SubnetIds=[self._options.subnet_id])["Subnets"]
            return str(subnets[0]["VpcId"])
        with self._aws("find the region's default VPC"):
            vpcs = self.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise ProviderError(f"{self._options.region} has no default VPC: set the offering's subnet_id.")
        return str(vpcs[0]["VpcId"])

    def _group_name(self, resource_uuid: str) -> str:
        return f"cirrus-{resource_uuid}"

    def _find_group(self, name: str, vpc_id: str | None = None) -> str | None:
        filters = [{"Name": "group-name", "Values": [name]}]
        if vpc_id:
            filters.append({"Name": "vpc-id", "Values": [vpc_id]})
        with self._aws("find the instance's security group"):
            groups = self.ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
        return str(groups[0]["GroupId"]) if groups else None

    def _security_group(self, job: Job) -> str:
        """The resource's own group (made once: found by name on a retry), letting in what the
        offering's `ingress` rules allow and nothing else."""
        vpc_id = self._vpc_id()
        name = self._group_name(job.resource_uuid)
        group_id = self._find_group(name, vpc_id)
        if group_id is None:
            with self._aws("create the instance's security group"):
                made = session.ignoring(
                    frozenset({"InvalidGroup.Duplicate"}),
                    lambda: self.ec2.create_security_group(
                        GroupName=name,
                        Description=f"Cirrus resource {job.resource_uuid}",
                        VpcId=vpc_id,
                        TagSpecifications=[
                            {"ResourceType": "security-group", "Tags": self._cirrus_tags(job)}
                        ],
                    ),
                )
            group_id = str(made["GroupId"]) if made else self._find_group(name, vpc_id)
        if group_id is None:
            raise TransientError("The instance's security group could not be found after creating it.")
        self._allow_ingress(group_id)
        return group_id

    def _allow_ingress(self, group_id: str) -> None:
        permissions = [
            {
                "IpProtocol": rule["protocol"],
                "FromPort": rule["port"],
                "ToPort": rule["port"],
                **(
                    {"Ipv6Ranges": [{"CidrIpv6": rule["cidr"]}]}
                    if ":" in rule["cidr"]
                    else {"IpRanges": [{"CidrIp": rule["cidr"]}]}
                ),
            }
            for rule in self._options.ingress
        ]
        if not permissions:
            return
        with self._aws("open the security group's ingress"):
            session.ignoring(
                frozenset({"InvalidPermission.Duplicate"}),
                lambda: self.ec2.authorize_security_group_ingress(
                    GroupId=group_id, IpPermissions=permissions
                ),
            )

    def _root_device(self, image_id: str) -> str:
        with self._aws("find the image"):
            images = self.ec2.describe_images(ImageIds=[image_id])["Images"]
        if not images:
            raise ProviderError(f"The image {image_id} does not exist in {self._options.region}.")
        return str(images[0].get("RootDeviceName") or "/dev/xvda")

    def _launch(self, job: Job) -> str:
        instance_type = instance_type_for(job, self._options, default=self._options.instance_type)
        image_id = image_for(job, self._options)
        disk = disk_for(job)
        root_device = self._root_device(image_id)
        group_id = self._security_group(job)
        request: dict[str, Any] = {
            "ImageId": image_id,
            "InstanceType": instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "ClientToken": job.resource_uuid,  # AWS's own idempotency, beside the tag lookup
            "SecurityGroupIds": [group_id],
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": self._cirrus_tags(job)},
                {"ResourceType": "volume", "Tags": self._cirrus_tags(job)},
            ],
        }
        if self._options.subnet_id:
            request["SubnetId"] = self._options.subnet_id
        if disk is not None:
            ebs = {"VolumeSize": disk, "DeleteOnTermination": True}
            request["BlockDeviceMappings"] = [{"DeviceName": root_device, "Ebs": ebs}]
        with self._aws("launch the instance"):
            made = self.ec2.run_instances(**request)
        return str(made["Instances"][0]["InstanceId"])

    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        self._start()
        found = self._made_for(job.resource_uuid)
        instance_id = str(found["InstanceId"]) if found else self._launch(job)
        if found and _state(found) in ("stopping", "stopped"):
            self._wait(instance_id, "stopped", heartbeat)
            with self._aws("start the instance"):
                self.ec2.start_instances(InstanceIds=[instance_id])
        return self._remote(self._wait(instance_id, "running", heartbeat))

    # --- update -----------------------------------------------------------------------------------
    def _existing(self, backend_id: str) -> dict[str, Any]:
        instance = self._describe(backend_id)
        if instance is None or _state(instance) in ("shutting-down", "terminated"):
            raise ProviderError(f"The instance {backend_id[:40]} no longer exists at AWS.")
        return instance

    def _resize(self, instance: Mapping[str, Any], instance_type: str, heartbeat: Heartbeat) -> None:
        instance_id = str(instance["InstanceId"])
        if _state(instance) != "stopped":
            self._wait(instance_id, "running", heartbeat)  # a pending one first comes up
            with self._aws("stop the instance"):
                self.ec2.stop_instances(InstanceIds=[instance_id])
            self._wait(instance_id, "stopped", heartbeat)
        with self._aws("change the instance type"):
            self.ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": instance_type})
        with self._aws("start the instance"):
            self.ec2.start_instances(InstanceIds=[instance_id])

    def _root_volume(self, instance: Mapping[str, Any]) -> dict[str, Any] | None:
        volume_id = _root_volume_id(instance)
        if volume_id is None:
            return None
        with self._aws("describe the root volume"):
            volumes = self.ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
        return dict(volumes[0]) if volumes else None

    def _grow(self, instance: Mapping[str, Any], size: int) -> None:
        volume = self._root_volume(instance)
        if volume is None:
            raise ProviderError("The instance has no EBS root volume to resize.")
        if size < int(volume["Size"]):
            raise ProviderError(
                f"An EBS volume cannot shrink: it has {volume['Size']} GiB, {size} were asked."
            )
        if size > int(volume["Size"]):
            with self._aws("grow the root volume"):
                self.ec2.modify_volume(VolumeId=volume["VolumeId"], Size=size)

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        self._start()
        instance = self._existing(job.backend_id)
        current = str(instance.get("InstanceType") or "")
        wanted = instance_type_for(job, self._options, default=current)
        size = disk_for(job) if "disk" in job.limits else None
        if size is not None:
            self._grow(instance, size)
        if wanted != current:
            self._resize(instance, wanted, heartbeat)
        return self._remote(self._wait(str(instance["InstanceId"]), "running", heartbeat))

    # --- terminate --------------------------------------------------------------------------------
    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        self._start()
        if self._describe(job.backend_id) is not None:
            with self._aws("terminate the instance"):
                session.ignoring(GONE, lambda: self.ec2.terminate_instances(InstanceIds=[job.backend_id]))
            self._wait(job.backend_id, "terminated", heartbeat)
        group_id = self._find_group(self._group_name(job.resource_uuid))
        if group_id is not None:
            with self._aws("delete the instance's security group"):
                session.ignoring(GROUP_GONE, lambda: self.ec2.delete_security_group(GroupId=group_id))

    # --- reads ------------------------------------------------------------------------------------
    def get(self, backend_id: str) -> RemoteResource | None:
        instance = self._describe(backend_id)
        return self._remote(instance) if instance is not None else None

    def list(self) -> Iterable[RemoteResource]:
        """The region's instances that are not terminated and not another offering's: all the others
        of the customer's account, or in the platform's own account this offering's only."""
        filters: list[dict[str, Any]] = [{"Name": "instance-state-name", "Values": list(LIVE_STATES)}]
        if self._own_account:
            filters.append({"Name": f"tag:{OFFERING_TAG}", "Values": [self._settings.offering_uuid]})
        instances = [i for i in self._instances(filters) if self._mine(i)]
        disks = self._disks(instances)
        return [self._remote(instance, disks) for instance in instances]

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        """EC2 reports no per-instance usage to bill by: the plan's fixed price and the `disk` limit
        are the bill (docs/providers/aws.md)."""
        return {}
