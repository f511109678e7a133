"""The schedules of the cloud backends (workflows/providers.py) under moto's queues: the registry's
entries, and their fan-out into one background task per offering of a cloud type, served by the
consumer the Lambdas run, one unreachable cloud not holding up another."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain.clock import utcnow
from chalicelib.domain.vocabulary import ResourceState
from chalicelib.providers.cloud import TransientError
from chalicelib.workflows import queues, registry
from chalicelib.workflows.registry import BACKGROUND_QUEUE
from chalicelib.workflows.schedules import SCHEDULES
from tests.cloud_helpers import cloud_offering, current, imported
from tests.fakes.cloud import FakeCloud, registered
from tests.workflow_helpers import deliver_once


@pytest.fixture
def aws(stack):
    """The queues exist (the fan-out sends to `background`)."""
    yield


def serve_background() -> int:
    """Run what the background queue holds until it is empty; returns how many tasks ran."""
    ran = 0
    while True:
        received, failed = deliver_once(BACKGROUND_QUEUE)
        assert failed == []
        if not received:
            return ran
        ran += received


def test_the_pull_runs_every_15_minutes_and_usage_hourly_on_the_background_queue():
    entries = {s.name: s for s in SCHEDULES}

    assert (entries["providers-pull"].expression, entries["providers-pull"].task) == (
        "rate(15 minutes)",
        "providers.pull",
    )
    assert (entries["providers-usage"].expression, entries["providers-usage"].task) == (
        "rate(1 hour)",
        "providers.collect_usage",
    )
    for name in ("providers.pull", "providers.pull_offering", "providers.collect_usage"):
        assert registry.get(name).queue == BACKGROUND_QUEUE


def test_the_pull_fans_out_per_cloud_offering_and_a_failing_cloud_does_not_stop_another(market):
    with registered(FakeCloud()) as healthy, registered(FakeCloud(), "Test.Broken") as broken:
        good = cloud_offering(market, name="Good")
        bad = cloud_offering(market, name="Bad", offering_type="Test.Broken")
        gone = imported(market, good, healthy, "i-1")
        kept = imported(market, bad, broken, "b-1")
        healthy.vanish("i-1")
        broken.vanish("b-1")
        broken.fail_next(TransientError("The cloud API timed out."))

        queues.enqueue("providers.pull", {})
        ran = serve_background()

        assert ran == 3  # the fan-out, then one pull per cloud offering (the Basic one has none)
        assert current(gone).state is ResourceState.ERRED
        assert current(kept).state is ResourceState.OK  # its cloud did not answer: next time


def test_usage_collection_fans_out_per_offering_of_a_type_that_collects_usage(market):
    now = utcnow()
    month = date(now.year, now.month, 1)
    with registered(FakeCloud()) as cloud:
        offering = cloud_offering(market)
        vm = imported(market, offering, cloud, "i-1")
        cloud.usages[("i-1", month)] = {"traffic": Decimal("2")}

        queues.enqueue("providers.collect_usage", {})
        assert serve_background() == 2

        from chalicelib.store import usages

        [usage] = usages.of_resource(vm.customer_id, vm.project_id, vm.id)
        assert (usage.component_type, usage.amount, usage.billing_period) == ("traffic", Decimal("2"), month)
