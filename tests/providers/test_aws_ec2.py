"""AWS.Instance's backend under moto (in-process, the suite's `aws` fixture): what it makes at EC2,
as moto's own DescribeInstances shows it, for each of create / update / terminate / get / list, in a
customer's account through an assumed role and in the platform's own; and what AWS's refusals
become (retried, or an order's error message with nothing secret in it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.providers.aws.ec2 import Ec2Backend
from chalicelib.providers.cloud import ProviderError, RemoteState, TransientError
from tests.providers.aws_helpers import (
    OFFERING,
    PROVIDER,
    ROLE_ACCOUNT,
    ROLE_ARN,
    Beats,
    an_image,
    aws_answers,
    boto3_client,
    customer_ec2,
    instances,
    instances_stay_pending,
    job,
    sent,
    settings,
    tags,
)


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """EC2 in the customer's account (where the offering's role leads), on a fresh in-process moto
    (as the suite's `aws` fixture starts it, without the table a backend never reads); the
    platform's own account is open to the provider PROVIDER."""
    from moto import mock_aws

    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_AWS_PLATFORM_ACCOUNT_PROVIDERS", PROVIDER)
    reset_settings()
    with mock_aws():
        yield customer_ec2()
    reset_settings()


@pytest.fixture
def image(ec2: Any) -> str:
    return an_image(ec2)


def backend(**given: Any) -> Ec2Backend:
    return Ec2Backend(settings(**given))


# --- create -------------------------------------------------------------------------------------------
def test_create_runs_one_tagged_instance_in_the_customers_account_and_waits_for_it(ec2, image):
    beats = Beats()
    ingress = [{"protocol": "tcp", "port": 22, "cidr": "203.0.113.0/24"}]

    made = backend(image_id=image, ingress=ingress).create(job(limits={"disk": 20}), beats)

    [instance] = instances(ec2, InstanceIds=[made.backend_id])
    assert instance["State"]["Name"] == "running" and instance["InstanceType"] == "t3.micro"
    assert tags(instance) == {"cirrus:resource": "c" * 32, "cirrus:offering": OFFERING, "Name": "vm-1"}
    assert made.state is RemoteState.OK and beats.count >= 1
    assert made.limits == {"disk": 20}
    assert made.metadata == {
        "type": "instance",
        "region": "eu-west-1",
        "instance_type": "t3.micro",
        "image_id": image,
        "availability_zone": instance["Placement"]["AvailabilityZone"],
        "private_ip": instance["PrivateIpAddress"],
        "public_ip": instance.get("PublicIpAddress", ""),
        "state": "running",
        "stopped": False,
    }
    # its own security group, letting in what the offering allows
    [group] = ec2.describe_security_groups(GroupIds=[g["GroupId"] for g in instance["SecurityGroups"]])[
        "SecurityGroups"
    ]
    assert group["GroupName"] == f"cirrus-{'c' * 32}"
    assert [(p["IpProtocol"], p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in group["IpPermissions"]] == [
        ("tcp", 22, "203.0.113.0/24")
    ]
    # the root volume is the `disk` limit's size and goes with the instance
    [root] = [m for m in instance["BlockDeviceMappings"] if m["DeviceName"] == instance["RootDeviceName"]]
    assert ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]["Size"] == 20


def test_a_retried_create_finds_the_instance_instead_of_launching_another(ec2, image):
    first = backend(image_id=image).create(job(), Beats())

    again = backend(image_id=image).create(job(), Beats())

    assert again.backend_id == first.backend_id
    assert len(instances(ec2, Filters=[{"Name": "tag:cirrus:resource", "Values": ["c" * 32]}])) == 1


def test_the_size_comes_from_the_plan_or_an_offered_attribute_and_the_image_from_the_order(ec2, image):
    chosen = backend(image_id="ami-00000000", image_ids=[image], instance_types=["m5.large"]).create(
        job(plan_code="", attributes={"instance_type": "m5.large", "image_id": image}), Beats()
    )
    assert (chosen.metadata["instance_type"], chosen.metadata["image_id"]) == ("m5.large", image)

    with pytest.raises(ProviderError, match=r"type may not be chosen here; this offering offers: m5\.large"):
        backend(image_id=image, instance_types=["m5.large"]).create(
            job("f" * 32, plan_code="", attributes={"instance_type": "p5.48xlarge"}), Beats()
        )
    with pytest.raises(ProviderError, match=f"image may not be chosen here; this offering offers: {image}"):
        backend(image_id=image).create(
            job("f" * 32, attributes={"image_id": "ami-0123456789abcdef0"}), Beats()
        )
    assert len(instances(ec2)) == 1


def test_a_missing_image_is_a_clear_provider_error_and_nothing_is_launched(ec2):
    with pytest.raises(ProviderError) as refused:
        backend(image_id="ami-0123456789abcdef0").create(job(), Beats())

    assert not isinstance(refused.value, TransientError)
    assert (
        str(refused.value)
        == "The image does not exist in eu-west-1 or may not be used (InvalidAMIID.NotFound)."
    )
    assert instances(ec2) == []


def test_an_instance_that_never_comes_up_is_retried_later_not_waited_for_forever(ec2, image):
    beats, now = Beats(), [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    slow = Ec2Backend(
        settings(image_id=image, poll_seconds=5, wait_seconds=20), sleep=sleep, clock=lambda: now[0]
    )
    with (
        instances_stay_pending(),
        pytest.raises(TransientError, match=r"still pending \(waiting for running\) after 20 s"),
    ):
        slow.create(job(), beats)

    assert beats.count == 5  # one heartbeat a poll: at 0, 5, 10, 15 and 20 s
    assert len(instances(ec2)) == 1  # and the retry will find it (test above)


# --- update -------------------------------------------------------------------------------------------
def test_update_changes_the_instance_type_and_grows_the_root_disk(ec2, image):
    made = backend(image_id=image).create(job(limits={"disk": 10}), Beats())
    beats = Beats()

    changed = backend(image_id=image).update(
        job(backend_id=made.backend_id, plan_code="t3.large", old_plan_code="t3.micro", limits={"disk": 30}),
        beats,
    )

    [instance] = instances(ec2, InstanceIds=[made.backend_id])
    assert (instance["State"]["Name"], instance["InstanceType"]) == ("running", "t3.large")
    assert changed.metadata["instance_type"] == "t3.large" and beats.count >= 3  # running, stopped, running
    [root] = [m for m in instance["BlockDeviceMappings"] if m["DeviceName"] == instance["RootDeviceName"]]
    assert ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]["Size"] == 30


def test_a_retried_update_picks_up_an_instance_an_earlier_attempt_left_stopped(ec2, image):
    made = backend(image_id=image).create(job(), Beats())
    ec2.stop_instances(InstanceIds=[made.backend_id])  # the earlier attempt timed out here

    backend().update(job(backend_id=made.backend_id, plan_code="m5.large"), Beats())

    [instance] = instances(ec2, InstanceIds=[made.backend_id])
    assert (instance["State"]["Name"], instance["InstanceType"]) == ("running", "m5.large")


def test_a_root_disk_does_not_shrink(ec2, image):
    made = backend(image_id=image).create(job(limits={"disk": 20}), Beats())

    with pytest.raises(ProviderError, match="cannot shrink: it has 20 GiB, 10 were asked"):
        backend().update(job(backend_id=made.backend_id, limits={"disk": 10}), Beats())


# --- terminate, get, list -----------------------------------------------------------------------------
def test_terminate_ends_the_instance_and_its_security_group_and_a_second_one_is_fine(ec2, image):
    made = backend(image_id=image).create(job(), Beats())
    beats = Beats()

    backend().terminate(job(backend_id=made.backend_id), beats)

    assert instances(ec2, InstanceIds=[made.backend_id])[0]["State"]["Name"] == "terminated"
    assert beats.count >= 1
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"cirrus-{'c' * 32}"]}])
    assert groups["SecurityGroups"] == []
    backend().terminate(job(backend_id=made.backend_id), Beats())  # already gone: success
    gone = backend().get(made.backend_id)
    assert gone is not None and gone.state is RemoteState.TERMINATED
    assert backend().get("i-0123456789abcdef0") is None and backend().get("not-an-id") is None


def test_an_instance_terminated_behind_cirrus_back_is_reported_gone(ec2, image):
    made = backend(image_id=image).create(job(), Beats())

    ec2.terminate_instances(InstanceIds=[made.backend_id])  # in the EC2 console, say

    found = backend().get(made.backend_id)
    assert found is not None and found.state is RemoteState.TERMINATED
    assert made.backend_id not in {r.backend_id for r in backend().list()}


def test_get_maps_ec2_states_and_says_when_an_instance_is_stopped(ec2, image):
    made = backend(image_id=image).create(job(), Beats())
    ec2.stop_instances(InstanceIds=[made.backend_id])

    found = backend().get(made.backend_id)

    assert found is not None and found.state is RemoteState.OK
    assert found.metadata["stopped"] is True and found.metadata["state"] == "stopped"


def test_list_finds_instances_made_behind_cirrus_back_as_importable_instances(ec2, image):
    ours = backend(image_id=image).create(job(), Beats())
    theirs = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.nano")["Instances"][0]
    other = backend(image_id=image, offering="cd" * 16).create(
        job("9" * 32), Beats()
    )  # the provider's other offering
    ended = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    ec2.terminate_instances(InstanceIds=[ended["InstanceId"]])

    listed = {r.backend_id: r for r in backend().list()}

    assert set(listed) == {ours.backend_id, theirs["InstanceId"]}
    assert backend().get(other.backend_id) is None  # not importable here either
    assert listed[theirs["InstanceId"]].type == "instance"
    assert listed[theirs["InstanceId"]].metadata["instance_type"] == "t3.nano"
    assert listed[ours.backend_id].limits == {"disk": 8}  # the image's own size: no disk was asked


# --- where: an assumed role, or the platform's own account --------------------------------------------
def test_the_role_is_assumed_with_a_session_naming_the_offering_and_the_providers_external_id(ec2, image):
    with sent("sts.AssumeRole") as assumed:
        made = backend(image_id=image).create(job(), Beats())

    assert assumed == [
        {"RoleArn": ROLE_ARN, "RoleSessionName": f"cirrus-offering-{OFFERING}", "ExternalId": PROVIDER}
    ]
    assert instances(ec2, InstanceIds=[made.backend_id])  # in the role's account...
    platform = boto3_client("ec2")
    assert instances(platform) == []  # ...not the platform's
    assert customer_ec2().describe_instances()["Reservations"][0]["OwnerId"] == ROLE_ACCOUNT

    with sent("sts.AssumeRole") as assumed:
        backend(secrets={"role_arn": ROLE_ARN, "external_id": "agreed-id-123"}).list()
    assert assumed[0]["ExternalId"] == "agreed-id-123"


def test_in_the_platforms_account_an_offering_sees_and_touches_only_its_own_instances(ec2, image):
    platform = boto3_client("ec2")
    mine = backend(role=False, image_id=image).create(job(), Beats())
    other = backend(role=False, image_id=image, offering="cd" * 16).create(job("9" * 32), Beats())
    stray = platform.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]

    assert [r.backend_id for r in backend(role=False).list()] == [mine.backend_id]
    assert backend(role=False).get(other.backend_id) is None and backend(role=False).get(stray) is None
    backend(role=False).terminate(job("9" * 32, backend_id=other.backend_id), Beats())
    assert instances(platform, InstanceIds=[other.backend_id])[0]["State"]["Name"] == "running"


def test_without_a_role_a_provider_the_operator_did_not_allow_is_refused(ec2, image, monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.delenv("CIRRUS_AWS_PLATFORM_ACCOUNT_PROVIDERS")
    reset_settings()

    with pytest.raises(ProviderError, match="names no role to assume"):
        backend(role=False, image_id=image).create(job(), Beats())
    assert instances(boto3_client("ec2")) == []


@pytest.mark.parametrize(
    "secrets",
    [
        {"role_arn": "arn:aws:iam::210987654321:role/admin"},  # not a cirrus-* role
        {"role_arn": "arn:aws:iam::2109:role/cirrus-x"},
        {"role_arn": ROLE_ARN, "external_id": "no spaces!"},
    ],
)
def test_a_bad_secret_option_is_refused_without_repeating_it(secrets):
    with pytest.raises(ProviderError) as refused:
        backend(secrets=secrets)

    assert all(str(value) not in str(refused.value) for value in secrets.values())


# --- AWS's refusals -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("RequestLimitExceeded", 503),
        ("Throttling", 400),
        ("InsufficientInstanceCapacity", 500),
        ("ExpiredToken", 400),  # the role's session ran out: the retry assumes it again
        ("Weird", 503),
    ],
)
def test_throttling_capacity_and_5xx_are_retried(ec2, image, code, status):
    with (
        aws_answers("ec2.RunInstances", code, status),
        pytest.raises(TransientError, match="launch the instance"),
    ):
        backend(image_id=image).create(job(), Beats())


@pytest.mark.parametrize(
    ("operation", "code"),
    [("ec2.RunInstances", "UnauthorizedOperation"), ("sts.AssumeRole", "AccessDenied")],
)
def test_a_denied_call_says_where_to_look_and_never_names_the_role(ec2, image, operation, code):
    said = f"User: arn:aws:sts::123456789012:assumed-role/x is not authorized on {ROLE_ARN} (secret-ext-id)"
    given = backend(image_id=image, secrets={"role_arn": ROLE_ARN, "external_id": "secret-ext-id"})
    with aws_answers(operation, code, 403, said), pytest.raises(ProviderError) as refused:
        given.create(job(), Beats())

    message = str(refused.value)
    assert not isinstance(refused.value, TransientError)
    assert code in message and "trust policy" in message
    assert ROLE_ARN not in message and "secret-ext-id" not in message and ROLE_ACCOUNT not in message


def test_an_invalid_parameter_is_refused_with_aws_words_scrubbed_of_secrets(ec2, image):
    said = f"Value (t3.bogus) for parameter instanceType is invalid; role {ROLE_ARN}"
    with (
        aws_answers("ec2.RunInstances", "InvalidParameterValue", 400, said),
        pytest.raises(ProviderError) as refused,
    ):
        backend(image_id=image).create(job(), Beats())

    assert str(refused.value) == (
        "AWS refused to launch the instance (InvalidParameterValue): "
        "Value (t3.bogus) for parameter instanceType is invalid; role ***"
    )
