"""The scheduled pull of a cloud offering (services/provider_sync.py) against the in-memory fake
cloud (tests/fakes/cloud.py), on moto: drift makes a resource Erred with a message and an event,
recovery makes it OK, metadata follows the provider, and an offering that did not change costs
reads only, as many whatever its resource count."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.vocabulary import ResourceState
from chalicelib.providers.cloud import ProviderError, RemoteState, TransientError
from chalicelib.services import provider_sync
from chalicelib.workflows.cloud_driver import backend_for
from tests.cloud_helpers import cloud_offering, current, imported
from tests.ddb_costs import Meter
from tests.fakes.cloud import FakeCloud, registered
from tests.helpers import feed


@pytest.fixture
def cloud():
    with registered(FakeCloud()) as fake:
        yield fake


@pytest.fixture
def offering(market, cloud):
    return cloud_offering(market)


def events_of(resource) -> list[tuple[str, str]]:
    return [(e.event_type, e.message) for e in feed("resource", resource.id)]


def _force(resource, **changes):
    """Put the resource in a state an order would (the test's setting, not the pull's)."""
    from chalicelib.store import resources
    from chalicelib.store.unit_of_work import UnitOfWork

    before = current(resource)
    uow = UnitOfWork()
    resources.save_changes(uow, before, replace(before, **changes))
    uow.commit()


def test_a_machine_deleted_behind_cirrus_back_makes_its_resource_erred_with_a_clear_message(
    market, cloud, offering
):
    vm = imported(market, offering, cloud, "i-0abc", metadata={"type": "instance"})
    cloud.vanish("i-0abc")

    report = provider_sync.pull_offering(offering.id, backend_for)

    after = current(vm)
    assert report.erred == 1
    assert after.state is ResourceState.ERRED
    assert after.error_message == (
        "The instance i-0abc no longer exists at the provider (found missing by the scheduled pull)."
    )
    erred = [e for e in feed("resource", vm.id) if e.event_type == "marketplace_resource_erred_on_backend"]
    assert len(erred) == 1 and "user_uuid" not in erred[0].context  # the system's doing, nobody's


def test_a_machine_the_provider_lists_as_terminated_is_gone_too(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-1")
    cloud.set_state("i-1", RemoteState.TERMINATED)

    provider_sync.pull_offering(offering.id, backend_for)

    assert current(vm).state is ResourceState.ERRED
    assert "no longer exists at the provider" in current(vm).error_message


def test_the_providers_error_reaches_the_resource(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-2")
    cloud.set_state("i-2", RemoteState.ERRED, error="Host failure: the hypervisor is down.")

    provider_sync.pull_offering(offering.id, backend_for)

    after = current(vm)
    assert after.state is ResourceState.ERRED
    assert (
        after.error_message
        == "The provider reports the resource i-2 as erred: Host failure: the hypervisor is down."
    )


def test_a_resource_erred_by_drift_is_ok_again_once_the_provider_has_it(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-3")
    cloud.set_state("i-3", RemoteState.ERRED, error="Disk full.")
    provider_sync.pull_offering(offering.id, backend_for)

    cloud.set_state("i-3", RemoteState.OK)
    report = provider_sync.pull_offering(offering.id, backend_for)

    after = current(vm)
    assert report.recovered == 1
    assert after.state is ResourceState.OK and after.error_message == "" and after.error_traceback == ""
    assert [t for t, _ in events_of(vm)][-2:] == [
        "marketplace_resource_erred_on_backend",
        "marketplace_resource_update_succeeded",
    ]


def test_an_error_the_pull_did_not_set_is_not_lifted_by_it(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-4")
    _force(vm, state=ResourceState.ERRED, error_message="Update failed at the provider.")

    provider_sync.pull_offering(offering.id, backend_for)

    assert current(vm).state is ResourceState.ERRED
    assert current(vm).error_message == "Update failed at the provider."


def test_changed_metadata_is_recorded(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-5", metadata={"ip": "192.0.2.1"})
    cloud.set_metadata("i-5", {"ip": "192.0.2.99"})

    report = provider_sync.pull_offering(offering.id, backend_for)

    assert report.metadata == 1 and current(vm).backend_metadata == {"ip": "192.0.2.99"}
    assert current(vm).state is ResourceState.OK


def test_resources_with_an_order_in_progress_or_no_backend_id_are_left_to_their_orders(
    market, cloud, offering
):
    updating = imported(market, offering, cloud, "i-6")
    unmade = imported(market, offering, cloud, "i-7")
    _force(updating, state=ResourceState.UPDATING, order_in_progress_id="f" * 32)
    _force(unmade, backend_id="")
    cloud.vanish("i-6")
    cloud.vanish("i-7")
    cloud.calls.clear()

    report = provider_sync.pull_offering(offering.id, backend_for)

    assert report.skipped == 2 and report.erred == 0
    assert current(updating).state is ResourceState.UPDATING
    assert current(unmade).state is ResourceState.OK
    assert cloud.calls == []  # nothing to compare: the cloud is not asked


def test_an_order_started_while_the_cloud_was_asked_keeps_its_resource(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-11")
    cloud.vanish("i-11")
    cloud.meanwhile = lambda call: _force(vm, state=ResourceState.TERMINATING, order_in_progress_id="e" * 32)

    report = provider_sync.pull_offering(offering.id, backend_for)

    assert (report.erred, report.skipped) == (0, 1)
    assert current(vm).state is ResourceState.TERMINATING


def test_terminated_resources_are_not_pulled(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-8")
    _force(vm, state=ResourceState.TERMINATED)
    cloud.vanish("i-8")

    assert provider_sync.pull_offering(offering.id, backend_for).erred == 0
    assert current(vm).state is ResourceState.TERMINATED


def test_the_pull_lists_once_and_asks_only_for_what_the_list_does_not_show(market, cloud, offering):
    for n in range(3):
        imported(market, offering, cloud, f"i-{n}")
    cloud.vanish("i-2")
    cloud.calls.clear()

    provider_sync.pull_offering(offering.id, backend_for)

    assert cloud.calls == ["list", "get"]  # the missing one confirmed before it counts


def test_a_backend_that_cannot_list_is_asked_for_each_resource(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-9")
    cloud.can_list = False
    cloud.vanish("i-9")
    cloud.calls.clear()

    provider_sync.pull_offering(offering.id, backend_for)

    assert cloud.calls == ["list", "get"]
    assert current(vm).state is ResourceState.ERRED


def test_a_failing_backend_is_reported_and_changes_nothing(market, cloud, offering):
    vm = imported(market, offering, cloud, "i-10")
    cloud.vanish("i-10")
    cloud.fail_next(TransientError("The cloud API timed out."))

    report = provider_sync.pull_offering(offering.id, backend_for)

    assert report.failed == "The cloud API timed out."
    assert current(vm).state is ResourceState.OK
    cloud.fail_next(ProviderError("Credentials rejected."))
    assert provider_sync.pull_offering(offering.id, backend_for).failed == "Credentials rejected."


def test_an_unchanged_offering_writes_nothing_and_costs_the_same_whatever_its_size(market, cloud, offering):
    few = cloud_offering(market, name="Few")
    imported(market, few, cloud, "f-1")
    many = cloud_offering(market, name="Many")
    for n in range(4):
        imported(market, many, cloud, f"m-{n}")
    provider_sync.pull_offering(few.id, backend_for)
    provider_sync.pull_offering(many.id, backend_for)

    with Meter.installed() as meter:
        with meter.measuring() as one:
            small = provider_sync.pull_offering(few.id, backend_for)
        with meter.measuring() as four:
            large = provider_sync.pull_offering(many.id, backend_for)

    assert (small.unchanged, large.unchanged) == (1, 4)
    assert one.writes == four.writes == 0
    assert one.ops == four.ops  # one lookup of the offering, one Query of its resources
    assert "Scan" not in four.ops
