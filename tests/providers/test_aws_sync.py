"""AWS.Instance and the platform's side of cloud backends, end to end under moto: an instance
terminated behind Cirrus's back makes its resource Erred on the next scheduled pull (the
`providers.pull` task, fanned out on the background queue); one launched behind Cirrus's back is
listed as importable and imported through the API (services/provider_sync.py, provider_imports.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.helpers import call
from tests.providers.aws_helpers import an_image, customer_ec2, instances
from tests.providers.test_aws_orders import (
    OFFERINGS,
    ORDERS,
    RESOURCES,
    TIMING,
    aws_offering,
    plan_url,
    served,
)
from tests.workflow_helpers import deliver_once


@pytest.fixture
def aws() -> Iterator[None]:
    """Everything on moto: queues, state machines (executed, with test_aws_orders' step timing) and EC2."""
    from tests.workflow_helpers import embedded_stack

    with embedded_stack(execute=True, timing=TIMING):
        yield


@pytest.fixture
def ec2(aws: None) -> Any:
    return customer_ec2()


def ordered_instance(client, market, offering) -> dict:
    body = {
        "project": f"http://testserver/api/projects/{market.project.id}/",
        "offering": f"http://testserver/api/marketplace-public-offerings/{offering['uuid']}/",
        "plan": plan_url(offering, "Small"),
        "attributes": {"name": "web-1"},
        "limits": {"disk": 12},
        "accepting_terms_of_service": True,
    }
    placed = call(client, "POST", ORDERS, market.owner, body)
    assert served(placed.json["uuid"], market.owner, client)["state"] == "done"
    return call(client, "GET", f"{RESOURCES}{placed.json['marketplace_resource_uuid']}/", market.owner).json


def scheduled_pull(run: int) -> None:
    """The `providers-pull` schedule fires for the `run`th time (every 15 minutes: each run is its
    own time slot): its fan-out, then each offering's pull."""
    from chalicelib.domain import clock
    from chalicelib.workflows.queues import enqueue
    from chalicelib.workflows.registry import BACKGROUND_QUEUE

    later = clock.utcnow() + timedelta(minutes=15 * run)
    clock.set_source(lambda: later)
    try:
        enqueue("providers.pull", {})
        for _ in range(3):
            deliver_once(BACKGROUND_QUEUE)
    finally:
        clock.set_source(None)


def test_an_instance_terminated_behind_cirrus_back_errs_its_resource_on_the_next_pull(client, market, ec2):
    offering = aws_offering(client, market, an_image(ec2))
    resource = ordered_instance(client, market, offering)
    instance_id = resource["backend_id"]

    scheduled_pull(1)  # nothing changed: still OK
    assert call(client, "GET", f"{RESOURCES}{resource['uuid']}/", market.owner).json["state"] == "OK"

    ec2.terminate_instances(InstanceIds=[instance_id])  # in the EC2 console
    scheduled_pull(2)

    found = call(client, "GET", f"{RESOURCES}{resource['uuid']}/", market.owner).json
    assert found["state"] == "Erred"
    assert found["error_message"] == (
        f"The instance {instance_id} no longer exists at the provider (found missing by the scheduled pull)."
    )


def test_an_instance_launched_behind_cirrus_back_is_importable_and_imported(client, market, ec2):
    image = an_image(ec2)
    offering = aws_offering(client, market, image)
    ours = ordered_instance(client, market, offering)
    theirs = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.nano")["Instances"][0]
    path = f"{OFFERINGS}{offering['uuid']}/"

    listed = call(client, "GET", f"{path}importable_resources/", market.staff)

    assert listed.status == 200, listed.json
    assert [(r["backend_id"], r["type"]) for r in listed.json] == [(theirs["InstanceId"], "instance")]
    assert ours["backend_id"] not in str(listed.json)

    body = {
        "backend_id": theirs["InstanceId"],
        "project": market.project.id,
        "plan": plan_url(offering, "Small"),
    }
    imported = call(client, "POST", f"{path}import_resource/", market.staff, body)  # shared: staff imports

    assert imported.status == 201, imported.json
    assert (imported.json["state"], imported.json["backend_id"]) == ("OK", theirs["InstanceId"])
    assert imported.json["limits"] == {"disk": 8}
    assert {i["State"]["Name"] for i in instances(ec2)} == {"running"} and len(instances(ec2)) == 2
    assert call(client, "GET", f"{path}importable_resources/", market.staff).json == []
