"""AWS.Instance under moto: a backend for an offering, a job for a resource, moto's own view of the
instances (what an operator would see in the EC2 console), and AWS's refusals injected where moto
has none (throttling, a denied call)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.providers.cloud import Job, Settings

REGION = "eu-west-1"
ROLE_ACCOUNT = "210987654321"
ROLE_ARN = f"arn:aws:iam::{ROLE_ACCOUNT}:role/cirrus-provisioner"
PROVIDER = "0" * 31 + "1"
OFFERING = "ab" * 16
FAST = {"poll_seconds": 0.01, "wait_seconds": 30}


def boto3_client(service: str, credentials: dict[str, str] | None = None) -> Any:
    import boto3

    keys = {}
    if credentials:
        keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
    return boto3.client(service, region_name=REGION, **keys)


def customer_ec2() -> Any:
    """EC2 in the customer's account (moto keeps each assumed role's account apart)."""
    sts = boto3_client("sts")
    credentials = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="the-customer")["Credentials"]
    return boto3_client("ec2", credentials)


def an_image(ec2: Any) -> str:
    return str(ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"])


def settings(
    *, role: bool = True, offering: str = OFFERING, secrets: dict[str, Any] | None = None, **options: Any
) -> Settings:
    return Settings(
        offering_uuid=offering,
        offering_name="EC2",
        options={"region": REGION, **FAST, **options},
        secrets=secrets if secrets is not None else ({"role_arn": ROLE_ARN} if role else {}),
        customer_uuid=PROVIDER,
    )


def job(resource: str = "c" * 32, **fields: Any) -> Job:
    values: dict[str, Any] = {
        "resource_name": "vm-1",
        "project_uuid": "d" * 32,
        "customer_uuid": "e" * 32,
        "plan_code": "t3.micro",
        **fields,
    }
    return Job(resource_uuid=resource, **values)


class Beats:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def instances(ec2: Any, **filters: Any) -> list[dict[str, Any]]:
    found = ec2.describe_instances(**filters)["Reservations"]
    return [i for r in found for i in r["Instances"]]


def tags(instance: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in instance.get("Tags", ())}


@contextmanager
def aws_answers(operation: str, code: str, status: int = 400, message: str = "") -> Iterator[list[dict]]:
    """AWS refuses every `operation` (e.g. "ec2.RunInstances") with `code`; yields the requests
    refused. boto3's default session builds the backend's clients, so its hooks reach them."""
    import boto3
    from botocore.exceptions import ClientError

    refused: list[dict] = []

    def refuse(params: dict, **_: Any) -> None:
        refused.append(params)
        error = {"Error": {"Code": code, "Message": message or f"{code} (injected by the test)"}}
        raise ClientError({**error, "ResponseMetadata": {"HTTPStatusCode": status}}, operation.split(".")[1])

    events = boto3._get_default_session().events
    events.register(f"before-parameter-build.{operation}", refuse)
    try:
        yield refused
    finally:
        events.unregister(f"before-parameter-build.{operation}", refuse)


@contextmanager
def sent(operation: str) -> Iterator[list[dict]]:
    """The parameters of every `operation` call (e.g. "sts.AssumeRole")."""
    import boto3

    seen: list[dict] = []

    def record(params: dict, **_: Any) -> None:
        seen.append(dict(params))

    events = boto3._get_default_session().events
    events.register(f"before-parameter-build.{operation}", record)
    try:
        yield seen
    finally:
        events.unregister(f"before-parameter-build.{operation}", record)


@contextmanager
def instances_stay_pending() -> Iterator[None]:
    """EC2 keeps every instance `pending` (moto has them running at once)."""
    import boto3

    def pending(parsed: dict, **_: Any) -> None:
        for reservation in parsed.get("Reservations", ()):
            for instance in reservation.get("Instances", ()):
                instance["State"] = {"Code": 0, "Name": "pending"}

    events = boto3._get_default_session().events
    events.register("after-call.ec2.DescribeInstances", pending)
    try:
        yield
    finally:
        events.unregister("after-call.ec2.DescribeInstances", pending)
