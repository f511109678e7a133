"""The pull's rules without AWS (services/provider_sync.py): what the provider's answer changes on a
resource, and how the backend is asked (a list once, a get only for what the list leaves out)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import ResourceState
from chalicelib.providers.cloud import RemoteResource, RemoteState
from chalicelib.services.provider_sync import PULL_MARK, Drift, drift, remote_view
from tests.fakes.cloud import FakeBackend, FakeCloud

NOW = datetime(2026, 12, 1, tzinfo=UTC)
VM = Resource(
    id="r" * 32,
    name="vm",
    state=ResourceState.OK,
    customer_id="c" * 32,
    project_id="p" * 32,
    offering_id="o" * 32,
    provider_id="s" * 32,
    created=NOW,
    modified=NOW,
    backend_id="i-1",
    backend_metadata={"type": "instance", "ip": "192.0.2.1"},
)
HERE = RemoteResource("i-1", metadata={"type": "instance", "ip": "192.0.2.1"})


def test_the_same_at_the_provider_changes_nothing():
    assert not drift(VM, HERE)
    assert not drift(VM, replace(HERE, metadata={}))  # a list without metadata clears nothing


def test_gone_or_terminated_at_the_provider_errs_with_the_backends_word_for_it():
    message = "The instance i-1 no longer exists at the provider (found missing by the scheduled pull)."
    assert drift(VM, None) == Drift(erred=message)
    assert drift(VM, replace(HERE, state=RemoteState.TERMINATED)) == Drift(erred=message)
    plain = replace(VM, backend_metadata={})
    assert drift(plain, None).erred.startswith("The resource i-1 no longer exists")


def test_already_erred_with_the_same_message_is_left():
    gone = drift(VM, None).erred
    assert not drift(
        replace(VM, state=ResourceState.ERRED, error_message=gone, error_traceback=PULL_MARK), None
    )


def test_only_an_error_the_pull_set_is_lifted():
    by_pull = replace(VM, state=ResourceState.ERRED, error_message="x", error_traceback=PULL_MARK)
    by_order = replace(VM, state=ResourceState.ERRED, error_message="Update failed.")
    assert drift(by_pull, HERE) == Drift(recovered=True)
    assert not drift(by_order, HERE)


def test_new_metadata_is_taken():
    moved = replace(HERE, metadata={"type": "instance", "ip": "192.0.2.2"})
    assert drift(VM, moved) == Drift(metadata=moved.metadata)


def test_the_backend_is_listed_once_and_asked_only_for_what_the_list_leaves_out():
    cloud = FakeCloud()
    cloud.add("i-1")
    cloud.add("i-2")
    listed = FakeCloud(resources={"i-1": cloud.resources["i-1"]})

    class PartialList(FakeBackend):
        def list(self):
            self.cloud._call("list")
            return list(listed.resources.values())

    found = remote_view(PartialList(cloud), ["i-1", "i-2", "i-3", "i-1"])

    assert set(found) == {"i-1", "i-2", "i-3"} and found["i-3"] is None
    assert cloud.calls == ["list", "get", "get"]
