"""The cloud plugin driver (workflows/cloud_driver.py): secret options with Secrets Manager references are
resolved when a backend is built, an order becomes the backend's Job (sizes from the plan's article
code), and a backend's failures become the order workflow's retried or final errors with the
provider's own words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import Offering, OrderState, OrderType, Plan
from chalicelib.providers.cloud import (
    Heartbeat,
    Job,
    ProviderError,
    RemoteResource,
    Settings,
    TransientError,
    cloud_type,
)
from chalicelib.providers.registry import ProcessorKind, Registry
from chalicelib.workflows import cloud_driver as driver
from chalicelib.workflows import steps

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cirrus/providers/cloud-abc"


def test_secret_references_are_read_and_a_secret_arn_object_fills_the_options() -> None:
    read: list[str] = []

    def reader(arn: str) -> str:
        read.append(arn)
        return '{"username": "svc", "password": "from-secret"}' if arn.endswith("obj") else "s3cr3t"

    resolved = driver.resolve_secrets(
        {"secret_arn": ARN + "obj", "token": ARN, "username": "explicit", "region": "eu"}, reader
    )
    assert resolved == {"username": "explicit", "password": "from-secret", "token": "s3cr3t", "region": "eu"}
    assert sorted(read) == [ARN, ARN + "obj"]
    assert driver.resolve_secrets({"plain": "x"}, reader) == {"plain": "x"}


def test_a_secret_arn_that_is_not_an_object_is_the_offerings_error_without_its_value() -> None:
    with pytest.raises(ProviderError, match="not a JSON object") as raised:
        driver.resolve_secrets({"secret_arn": ARN}, lambda _arn: "hunter2")
    assert "hunter2" not in str(raised.value)


def _order(kind: OrderType = OrderType.CREATE, **extra: Any) -> Order:
    now = datetime(2026, 12, 6, tzinfo=UTC)
    return Order(
        id="o1",
        type=kind,
        state=OrderState.EXECUTING,
        customer_id="c1",
        project_id="p1",
        offering_id="off1",
        provider_id="prov",
        resource_id="r1",
        created=now,
        modified=now,
        resource_name="vm-1",
        project_name="Project",
        customer_name="Customer",
        **extra,
    )


def _offering(type_name: str = "Test.Driver") -> Offering:
    return Offering(
        id="off1",
        customer_id="prov",
        name="Cloud",
        type=type_name,
        plans=(Plan(id="small", offering_id="off1", name="Small", article_code="t3.small"),
               Plan(id="big", offering_id="off1", name="Big", article_code="t3.large")),
        secret_options={"token": "tok"},
    )  # fmt: skip


def test_an_order_becomes_the_backends_job_with_the_plans_codes() -> None:
    job = driver.job_of(
        _order(
            OrderType.UPDATE, plan_id="big", old_plan_id="small", limits={"disk": 20}, attributes={"a": 1}
        ),
        _offering(),
        "i-1",
    )
    assert (job.resource_uuid, job.backend_id, job.plan_code, job.old_plan_code) == (
        "r1",
        "i-1",
        "t3.large",
        "t3.small",
    )
    assert (job.plan_name, dict(job.limits), dict(job.attributes)) == ("Big", {"disk": 20}, {"a": 1})


class Backend:
    """A backend that does what it is told to, and records it."""

    def __init__(self, settings: Settings, fail: Exception | None = None) -> None:
        self.settings, self.fail, self.calls = settings, fail, []

    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        self.calls.append(("create", job.resource_uuid))
        heartbeat()
        if self.fail:
            raise self.fail
        return RemoteResource(backend_id="vm-" + job.resource_uuid, metadata={"ip": "192.0.2.1"})

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        return RemoteResource(backend_id=job.backend_id, metadata={"size": job.plan_code})

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        self.calls.append(("terminate", job.backend_id))

    def get(self, backend_id: str) -> RemoteResource | None:
        return None

    def list(self) -> Iterable[RemoteResource]:
        return []

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh registry holding a cloud type whose backend the test controls."""
    state: dict[str, Any] = {"fail": None, "built": []}

    def factory(settings: Settings) -> Backend:
        backend = Backend(settings, state["fail"])
        state["built"].append(backend)
        return backend

    registry = Registry(entry_points=list)
    registry.add(cloud_type("Test.Driver", "Test cloud", factory, secret_options=frozenset({"token"})))
    from chalicelib.providers import registry as module

    monkeypatch.setattr(module, "REGISTRY", registry)
    state["registry"] = registry
    return state


def test_cloud_types_are_automatic_with_all_three_processors(registered: dict[str, Any]) -> None:
    found = registered["registry"].get("Test.Driver")
    assert found is not None and found.automatic and not found.needs_provider_review and found.cloud
    assert found.secret_attributes == frozenset({"token"})
    for kind in (ProcessorKind.CREATE, ProcessorKind.UPDATE, ProcessorKind.TERMINATE):
        assert driver.processor_for("Test.Driver", kind) is not None
    assert driver.processor_for("Marketplace.Basic", ProcessorKind.CREATE) is None


def test_create_answers_the_backend_id_and_metadata_and_heartbeats(registered: dict[str, Any]) -> None:
    beats: list[int] = []
    run = driver.processor_for("Test.Driver", ProcessorKind.CREATE)
    assert run is not None
    result = run(_order(), _offering(), lambda: beats.append(1), 0)
    assert result == {"backend_id": "vm-r1", "backend_metadata": {"ip": "192.0.2.1"}}
    assert beats == [1]
    assert registered["built"][0].settings.secrets == {"token": "tok"}


def test_a_transient_failure_is_retried_and_a_refusal_errs_in_the_providers_words(
    registered: dict[str, Any],
) -> None:
    run = driver.processor_for("Test.Driver", ProcessorKind.CREATE)
    assert run is not None
    registered["fail"] = TransientError("Rate limit exceeded, try later.")
    with pytest.raises(steps.TransientStepError, match="Rate limit"):
        run(_order(), _offering(), lambda: None, 0)
    registered["fail"] = ProviderError("Image ami-123 does not exist.")
    with pytest.raises(steps.PermanentStepError, match=r"^Image ami-123 does not exist\.$"):
        run(_order(), _offering(), lambda: None, 0)


@pytest.mark.parametrize(
    "reference",
    [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cirrus-prod-jira-AbCdEf",  # the platform's own
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other/cirrus/providers/x",
        "arn:aws:secretsmanager:eu-west-1:123456789012:cirrus/providers/x",
    ],
)
def test_only_secrets_named_cirrus_providers_are_ever_read(reference: str) -> None:
    """A provider may not have the platform read another of its secrets (a support desk's token)
    and send it to an endpoint the provider names: such a reference is refused unread."""
    read: list[str] = []
    with pytest.raises(ProviderError, match="only a Secrets Manager secret named cirrus/providers/"):
        driver.resolve_secrets({"token": reference}, lambda arn: read.append(arn) or "x")  # type: ignore[func-returns-value]
    assert read == []
