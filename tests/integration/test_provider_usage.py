"""Usage collection of a cloud offering (services/provider_sync.collect_offering_usage) against the
fake cloud, on moto: what the provider reports for a `usage` component is recorded through the
usage service, once; the same amounts again write nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain.clock import utcnow
from chalicelib.services import provider_sync
from chalicelib.store import usages
from chalicelib.workflows.cloud_driver import backend_for
from tests.cloud_helpers import cloud_offering, imported
from tests.ddb_costs import Meter
from tests.fakes.cloud import FakeCloud, registered


@pytest.fixture
def cloud():
    with registered(FakeCloud()) as fake:
        yield fake


@pytest.fixture
def offering(market, cloud):
    return cloud_offering(market)


def this_month() -> date:
    now = utcnow()
    return date(now.year, now.month, 1)


def stored(resource) -> dict[tuple[date, str], Decimal]:
    found = usages.of_resource(resource.customer_id, resource.project_id, resource.id)
    return {(u.billing_period, u.component_type): u.amount for u in found}


def test_the_providers_usage_of_usage_components_is_recorded(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-1")
    # `cores` is a limit component: what the cloud says of it is not usage to bill
    cloud.usages[("i-1", this_month())] = {"traffic": Decimal("12.5"), "cores": Decimal("4")}

    counts = provider_sync.collect_offering_usage(offering.id, backend_for)

    assert counts == {"reported": 1, "unchanged": 0, "failed": 0}
    assert stored(vm) == {(this_month(), "traffic"): Decimal("12.5")}


def test_collecting_the_same_month_twice_stores_the_same_usage_and_writes_nothing(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-2")
    cloud.usages[("i-2", this_month())] = {"traffic": Decimal("3")}
    provider_sync.collect_offering_usage(offering.id, backend_for)

    with Meter.installed() as meter, meter.measuring() as again:
        counts = provider_sync.collect_offering_usage(offering.id, backend_for)

    assert counts["unchanged"] == 1 and again.writes == 0
    assert stored(vm) == {(this_month(), "traffic"): Decimal("3")}


def test_a_grown_usage_replaces_the_months_amount(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-3")
    cloud.usages[("i-3", this_month())] = {"traffic": Decimal("3")}
    provider_sync.collect_offering_usage(offering.id, backend_for)
    cloud.usages[("i-3", this_month())] = {"traffic": Decimal("7.25")}

    provider_sync.collect_offering_usage(offering.id, backend_for)

    assert stored(vm) == {(this_month(), "traffic"): Decimal("7.25")}


def test_one_resources_failure_does_not_lose_the_others_usage(market, cloud, offering):
    first = imported(market, offering, cloud, "i-4")
    second = imported(market, offering, cloud, "i-5")
    for backend_id in ("i-4", "i-5"):
        cloud.usages[(backend_id, this_month())] = {"traffic": Decimal("1")}
    cloud.fail_next(RuntimeError("usage API unavailable"))

    counts = provider_sync.collect_offering_usage(offering.id, backend_for)

    assert counts == {"reported": 1, "unchanged": 0, "failed": 1}
    assert len(stored(first)) + len(stored(second)) == 1


def test_a_type_that_does_not_collect_usage_is_not_asked(market, cloud, offering):
    with registered(FakeCloud(), "Test.NoUsage", collects_usage=False) as quiet:
        other = cloud_offering(market, name="Quiet", offering_type="Test.NoUsage")
        imported(market, other, quiet, "q-1")
        quiet.calls.clear()

        assert provider_sync.collect_offering_usage(other.id, backend_for) == {
            "reported": 0,
            "unchanged": 0,
            "failed": 0,
        }
        assert quiet.calls == []
        assert [o.id for o in provider_sync.cloud_offerings(collecting_usage=True)] == [offering.id]
