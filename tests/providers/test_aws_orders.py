"""AWS.Instance end to end under moto: a provider makes an AWS offering through the API (a role in
its customer's account as a secret option), a consumer orders an instance, the order workflow (moto
executes the state machine; the test serves its queues with the Lambdas' consumer) runs the backend
on the heavy worker, and moto's EC2 shows the instance running, resized, then terminated. Short
timings (tests/workflow_helpers.py): moto really sleeps in the workflow's waits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.workflows.registry import HEAVY_QUEUE, TASKS_QUEUE
from tests.helpers import call
from tests.marketplace_helpers import ctx_of
from tests.providers.aws_helpers import (
    REGION,
    ROLE_ACCOUNT,
    ROLE_ARN,
    an_image,
    customer_ec2,
    instances,
    tags,
)
from tests.workflow_helpers import deliver_once

OFFERINGS = "/api/marketplace-provider-offerings/"
ORDERS = "/api/marketplace-orders/"
RESOURCES = "/api/marketplace-resources/"


# A step waits for EC2 (stop, resize, start; terminate) heartbeating each poll: TEST_TIMING's 6 s
# for a whole step is too short on a loaded machine.
TIMING = {"StepTimeoutSeconds": 60, "StepHeartbeatSeconds": 20}


@pytest.fixture
def aws() -> Iterator[None]:
    """Everything on moto: queues, state machines (executed) and EC2."""
    from tests.workflow_helpers import embedded_stack

    with embedded_stack(execute=True, timing=TIMING):
        yield


@pytest.fixture
def ec2(aws: None) -> Any:
    return customer_ec2()


def served(order_uuid: str, account: Any, client: Any, timeout: float = 30.0) -> dict[str, Any]:
    """Serve both queues until the order leaves `executing`; returns the order as the API shows it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliver_once(TASKS_QUEUE)
        deliver_once(HEAVY_QUEUE)
        order = call(client, "GET", f"{ORDERS}{order_uuid}/", account).json
        if order["state"] not in ("pending-consumer", "pending-provider", "executing"):
            deliver_once(TASKS_QUEUE)
            return dict(order)
        time.sleep(0.1)
    raise AssertionError(f"order {order_uuid} still executing after {timeout}s")


def category_url(market: Any) -> str:
    from chalicelib.services import categories

    category = categories.create_category(ctx_of(market.staff), {"title": "Virtual machines"})
    return f"http://testserver/api/marketplace-categories/{category.id}/"


def aws_offering(client: Any, market: Any, image: str) -> dict[str, Any]:
    plan = {"unit": "month", "prices": {"disk": "0.10"}}
    body = {
        "name": "EC2 in Ireland",
        "type": "AWS.Instance",
        "customer": f"http://testserver/api/customers/{market.provider.id}/",
        "category": category_url(market),
        "plans": [
            {**plan, "name": "Small", "article_code": "t3.micro", "unit_price": "8"},
            {**plan, "name": "Large", "article_code": "t3.large", "unit_price": "60"},
        ],
        "plugin_options": {"region": REGION, "image_id": image, "poll_seconds": 0.01, "wait_seconds": 5},
        "secret_options": {"role_arn": ROLE_ARN, "external_id": "acme-7f3c9a"},
    }
    made = call(client, "POST", OFFERINGS, market.seller, body)
    assert made.status == 201, made.json
    activated = call(client, "POST", f"{OFFERINGS}{made.json['uuid']}/activate/", market.staff)
    assert activated.status == 200, activated.json
    return dict(made.json)


def plan_url(offering: dict[str, Any], name: str) -> str:
    plan = next(p for p in offering["plans"] if p["name"] == name)
    return f"http://testserver/api/marketplace-public-offerings/{offering['uuid']}/plans/{plan['uuid']}/"


def test_an_instance_is_ordered_resized_and_terminated_at_ec2_through_the_order_workflow(client, market, ec2):
    image = an_image(ec2)
    offering = aws_offering(client, market, image)
    assert offering["components"][0]["type"] == "disk"  # the type's built-in component

    # the consumer sees the offering, never its secret options
    public = call(client, "GET", f"/api/marketplace-public-offerings/{offering['uuid']}/", market.owner)
    assert public.status == 200 and "secret_options" not in public.json
    assert ROLE_ARN not in str(public.json) and "acme-7f3c9a" not in str(public.json)
    provider_view = call(client, "GET", f"{OFFERINGS}{offering['uuid']}/", market.owner)
    assert provider_view.status == 404 and ROLE_ARN not in str(provider_view.json)  # not the consumer's
    assert call(client, "GET", f"{OFFERINGS}{offering['uuid']}/", market.seller).json["secret_options"] == {
        "role_arn": ROLE_ARN,
        "external_id": "acme-7f3c9a",
    }  # (the provider itself does)

    # order: the instance runs at EC2, in the role's account, and is the resource's backend id
    body = {
        "project": f"http://testserver/api/projects/{market.project.id}/",
        "offering": f"http://testserver/api/marketplace-public-offerings/{offering['uuid']}/",
        "plan": plan_url(offering, "Small"),
        "attributes": {"name": "web-1"},
        "limits": {"disk": 12},
        "accepting_terms_of_service": True,
    }
    placed = call(client, "POST", ORDERS, market.owner, body)
    assert placed.status == 201 and placed.json["state"] == "executing", placed.json
    assert served(placed.json["uuid"], market.owner, client)["state"] == "done"

    resource_path = f"{RESOURCES}{placed.json['marketplace_resource_uuid']}/"
    resource = call(client, "GET", resource_path, market.owner).json
    [instance] = instances(ec2)
    assert (resource["state"], resource["backend_id"]) == ("OK", instance["InstanceId"])
    assert (instance["State"]["Name"], instance["InstanceType"]) == ("running", "t3.micro")
    assert tags(instance)["cirrus:resource"] == placed.json["marketplace_resource_uuid"]
    assert tags(instance)["Name"] == "web-1"
    assert ec2.describe_instances()["Reservations"][0]["OwnerId"] == ROLE_ACCOUNT
    assert ROLE_ARN not in str(resource) and "acme-7f3c9a" not in str(resource)

    # switch plan: the instance is resized to the new plan's type
    switched = call(
        client, "POST", f"{resource_path}switch_plan/", market.owner, {"plan": plan_url(offering, "Large")}
    )
    assert switched.status == 200, switched.json
    assert served(switched.json["order_uuid"], market.owner, client)["state"] == "done"
    [instance] = instances(ec2)
    assert (instance["State"]["Name"], instance["InstanceType"]) == ("running", "t3.large")

    # terminate: the instance is terminated at EC2 and the resource with it
    ended = call(client, "POST", f"{resource_path}terminate/", market.owner, {})
    assert ended.status == 200, ended.json
    assert served(ended.json["order_uuid"], market.owner, client)["state"] == "done"
    assert instances(ec2)[0]["State"]["Name"] == "terminated"
    assert call(client, "GET", resource_path, market.owner).json["state"] == "Terminated"


def test_an_order_ec2_refuses_errs_with_a_message_that_names_no_secret(client, market, ec2):
    offering = aws_offering(client, market, "ami-0123456789abcdef0")  # no such image in the region
    body = {
        "project": f"http://testserver/api/projects/{market.project.id}/",
        "offering": f"http://testserver/api/marketplace-public-offerings/{offering['uuid']}/",
        "plan": plan_url(offering, "Small"),
        "attributes": {"name": "web-2"},
        "limits": {"disk": 12},
        "accepting_terms_of_service": True,
    }
    placed = call(client, "POST", ORDERS, market.owner, body)

    erred = served(placed.json["uuid"], market.owner, client)

    # (moto's SendTaskFailure drops the cause the heavy worker sends, "The image does not exist in
    # eu-west-1 ..." (test_aws_ec2.py): under moto the order says only that the provider failed.)
    assert erred["state"] == "erred" and erred["error_message"]
    assert ROLE_ARN not in erred["error_message"] and "acme-7f3c9a" not in erred["error_message"]
    assert instances(ec2) == []


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        (
            "plugin_options",
            {"region": "mars-north-1"},
            "region must be an AWS region EC2 runs in, e.g. eu-west-1.",
        ),
        (
            "secret_options",
            {"role_arn": "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole"},
            "role_arn must be the ARN of an IAM role named cirrus-… without a path "
            "(arn:aws:iam::<12-digit account>:role/cirrus-<name>).",
        ),
    ],
)
def test_options_are_checked_when_the_provider_saves_them(client, market, field, value, said):
    body = {
        "name": "EC2",
        "type": "AWS.Instance",
        "customer": f"http://testserver/api/customers/{market.provider.id}/",
        "category": category_url(market),
        field: value,
    }

    refused = call(client, "POST", OFFERINGS, market.seller, body)

    assert (refused.status, refused.json) == (400, {field: [said]})


def test_the_type_is_listed_with_its_disk_component(client):
    reply = call(client, "GET", "/api/marketplace-plugins/")

    [aws_type] = [p for p in reply.json if p["offering_type"] == "AWS.Instance"]
    assert {"type": "disk", "name": "Root disk", "measured_unit": "GiB", "billing_type": "limit"} in aws_type[
        "components"
    ]
