"""Marketplace.Rancher run by the platform's driver (chalicelib/workflows/cloud_driver.py), as the order
workflow runs it: the offering's plugin options (the type's defaults overlaid) and its secret
options, here a Secrets Manager reference under moto, reach the plugin's backend; what the processor
answers is what the resource records; a refusal becomes the workflow's permanent error."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import Offering, OrderState, OrderType
from chalicelib.providers.types import ProcessorKind
from chalicelib.workflows import cloud_driver as driver
from tests.providers.fakes.rancher_server import FakeRancher
from tests.providers.rancher_helpers import CLUSTER, TOKEN, fake

__all__ = ["fake"]


def offering(secret_options: dict[str, Any], cluster_id: str = CLUSTER) -> Offering:
    return Offering(
        id=uuid.uuid4().hex,
        customer_id=uuid.uuid4().hex,
        name="Kubernetes share",
        type="Marketplace.Rancher",
        plugin_options={"cluster_id": cluster_id, "poll_interval_seconds": 0.01},
        secret_options=secret_options,
    )


def order(limits: dict[str, int]) -> Order:
    now = datetime.now(UTC)
    return Order(
        id=uuid.uuid4().hex,
        type=OrderType.CREATE,
        state=OrderState.EXECUTING,
        customer_id=uuid.uuid4().hex,
        project_id=uuid.uuid4().hex,
        offering_id=uuid.uuid4().hex,
        provider_id=uuid.uuid4().hex,
        resource_id=uuid.uuid4().hex,
        created=now,
        modified=now,
        limits=limits,
        resource_name="ML team",
    )


def secret_arn(fake: FakeRancher) -> str:
    from chalicelib.workflows.aws import client

    made = client("secretsmanager").create_secret(
        Name=f"cirrus/providers/rancher-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"rancher_url": fake.url, "token": TOKEN}),
    )
    return str(made["ARN"])


def test_the_create_processor_provisions_with_secrets_from_secrets_manager(
    aws: None, fake: FakeRancher
) -> None:
    create = driver.processor(ProcessorKind.CREATE)

    answer = create(order({"cpu": 4, "ram": 8}), offering({"secret_arn": secret_arn(fake)}), lambda: None)

    [project] = fake.projects()
    assert answer["backend_id"] == project["id"]
    assert answer["backend_metadata"]["cluster_id"] == CLUSTER
    assert answer["backend_metadata"]["namespace"] in fake.namespaces(CLUSTER)
    assert project["resourceQuota"]["limit"] == {"requestsCpu": "4000m", "requestsMemory": "8Gi"}
    assert TOKEN not in json.dumps(answer)


def test_a_refusal_is_the_workflows_permanent_error_without_the_token(fake: FakeRancher) -> None:
    from chalicelib.workflows import steps

    create = driver.processor(ProcessorKind.CREATE)
    refused = offering({"rancher_url": fake.url, "token": TOKEN}, cluster_id="c-m-nothere")

    with pytest.raises(steps.PermanentStepError) as caught:
        create(order({"cpu": 1}), refused, lambda: None)

    assert "invalid reference: cluster c-m-nothere" in str(caught.value) and TOKEN not in str(caught.value)


def test_a_rancher_outage_is_the_workflows_retried_error(fake: FakeRancher) -> None:
    from chalicelib.workflows import steps

    fake.fail_next("GET", "/v3/projects", 502)
    create = driver.processor(ProcessorKind.CREATE)

    with pytest.raises(steps.TransientStepError):
        create(order({"cpu": 1}), offering({"rancher_url": fake.url, "token": TOKEN}), lambda: None)
