"""A customer's rename reaches its projects through a background task, not within the request.

The request writes the customer alone (its cost does not grow with the customer's projects) and
queues `customers.follow_rename` on `background`; serving that queue copies the names. A task
queued for an older version, or one that runs late, never writes older names over newer ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import call, create_customer, create_project
from tests.workflow_helpers import deliver_once

WRITES = ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")


@pytest.fixture
def aws(stack):
    """The task queues exist; the test serves `background` itself."""
    yield


@pytest.fixture
def writes() -> Iterator[list[dict[str, Any]]]:
    """The parameters of every DynamoDB write call made while the test runs."""
    from chalicelib.store.table import connection

    made: list[dict[str, Any]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in WRITES:
            made.append({"operation": model.name, **params})

    events = connection().client.meta.events
    events.register("before-parameter-build.dynamodb", record)
    yield made
    events.unregister("before-parameter-build.dynamodb", record)


def customer_names(client: Any, staff: Any, project: dict[str, Any]) -> tuple[str, str]:
    shown = call(client, "GET", f"/api/projects/{project['uuid']}/", staff).json
    return shown["customer_name"], shown["customer_abbreviation"]


def serve_background() -> int:
    """Run every task waiting on `background`; returns how many ran."""
    ran = 0
    while True:
        received, failed = deliver_once("background")
        assert failed == []
        if not received:
            return ran
        ran += received


def written_keys(made: list[dict[str, Any]]) -> list[str]:
    keys = []
    for call_params in made:
        for entry in call_params.get("TransactItems", []):
            for action in entry.values():
                keys.append(action["Key"]["sk"]["S"] if "Key" in action else action["Item"]["sk"]["S"])
    return keys


def test_a_rename_answers_without_touching_the_projects_which_follow_in_the_background(client, staff, writes):
    from chalicelib.store import keys

    customer = create_customer(client, staff, "Old Name", abbreviation="ON")
    projects = [create_project(client, staff, customer, f"p{i}") for i in range(2)]
    writes.clear()

    path = f"/api/customers/{customer['uuid']}/"
    reply = call(client, "PATCH", path, staff, {"name": "New Name", "abbreviation": "NN"})

    assert reply.status == 200 and reply.json["name"] == "New Name"
    assert [w["operation"] for w in writes] == ["TransactWriteItems"]  # the customer and its event
    assert not [k for k in written_keys(writes) if k.startswith(keys.PROJECT_PREFIX)]
    assert [customer_names(client, staff, p) for p in projects] == [("Old Name", "ON")] * 2

    assert serve_background() == 1
    assert [customer_names(client, staff, p) for p in projects] == [("New Name", "NN")] * 2
    assert serve_background() == 0  # one task per rename


def test_a_change_that_keeps_the_names_queues_nothing(client, staff):
    customer = create_customer(client, staff, "Same")
    create_project(client, staff, customer)
    reply = call(client, "PATCH", f"/api/customers/{customer['uuid']}/", staff, {"email": "a@b.test"})
    assert reply.status == 200
    assert serve_background() == 0


def test_a_stale_task_does_not_revert_a_newer_name(client, staff):
    from chalicelib.store import projects as project_store
    from chalicelib.workflows import queues

    customer = create_customer(client, staff, "First")
    project = create_project(client, staff, customer)
    path = f"/api/customers/{customer['uuid']}/"
    assert call(client, "PATCH", path, staff, {"name": "Second"}).status == 200  # version 2
    assert call(client, "PATCH", path, staff, {"name": "Third"}).status == 200  # version 3

    assert serve_background() == 2  # in whatever order SQS hands them out
    assert customer_names(client, staff, project)[0] == "Third"

    # The task of version 2 again (a redelivery under a new key): it converges on today's names.
    queues.enqueue("customers.follow_rename", {"customer_uuid": customer["uuid"], "version": 2})
    assert serve_background() == 1
    assert customer_names(client, staff, project)[0] == "Third"

    # A task that read version 2's names and writes them only now: refused by the projects.
    assert project_store.follow_customer_rename(customer["uuid"], "Second", "", "", 2) == 0
    assert customer_names(client, staff, project)[0] == "Third"


def test_a_rename_of_a_customer_deleted_before_its_task_ran_does_nothing(client, staff):
    from chalicelib.services import customers

    customer = create_customer(client, staff, "Gone")
    assert call(client, "PATCH", f"/api/customers/{customer['uuid']}/", staff, {"name": "Went"}).status == 200
    assert call(client, "DELETE", f"/api/customers/{customer['uuid']}/", staff).status == 204
    assert customers.copy_names_to_projects(customer["uuid"]) == 0
    assert serve_background() == 1
