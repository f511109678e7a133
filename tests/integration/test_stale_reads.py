"""Two quick changes in a row (Terraform, Ansible) while DynamoDB's eventually consistent reads lag.

moto's reads are always up to date, so the lag is injected on the real client with botocore event
hooks: once a key is `frozen`, every read of it that does not ask for ConsistentRead (a GSI Query,
a plain Query or GetItem of the base table) answers the item's image from that moment, as a
replica that has not caught up would. A consistent read sees the item as it is.

The read before a versioned write must be consistent (`store.load`); otherwise the second PATCH is
conditioned on the version before the first and answers a spurious 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import call, create_customer, create_project

EVENTUAL_READS = ("Query", "Scan", "GetItem")


class LaggingReads:
    """Answer eventually consistent reads of frozen keys with the frozen image; log every call."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.frozen: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (operation, parameters)

    def freeze(self, pk: str, sk: str) -> None:
        from chalicelib.config import get_settings

        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        found = self.client.get_item(TableName=get_settings().table_name, Key=key, ConsistentRead=True)
        self.frozen[(pk, sk)] = found["Item"]
        self.calls.clear()

    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["lagging_reads_consistent"] = bool(params.get("ConsistentRead"))
        self.calls.append((model.name, dict(params)))

    def after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name not in EVENTUAL_READS or context.get("lagging_reads_consistent"):
            return
        if "Item" in parsed:
            parsed["Item"] = self._stale(parsed["Item"])
        if "Items" in parsed:
            parsed["Items"] = [self._stale(item) for item in parsed["Items"]]

    def _stale(self, item: dict[str, Any]) -> dict[str, Any]:
        key = (item.get("pk", {}).get("S", ""), item.get("sk", {}).get("S", ""))
        return self.frozen.get(key, item)

    def catch_up(self) -> None:
        """The replicas caught up: every read sees the items as they are."""
        self.frozen.clear()

    def writes(self) -> list[int]:
        return [i for i, (name, _) in enumerate(self.calls) if name == "TransactWriteItems"]


@pytest.fixture
def lagging(aws: None) -> Iterator[LaggingReads]:
    from chalicelib.store.table import connection

    client = connection().client
    lag = LaggingReads(client)
    events = client.meta.events
    events.register("before-parameter-build.dynamodb", lag.before)
    events.register("after-call.dynamodb", lag.after)
    yield lag
    events.unregister("before-parameter-build.dynamodb", lag.before)
    events.unregister("after-call.dynamodb", lag.after)


def patch_twice(
    client: Any, account: Any, lag: LaggingReads, path: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    """Two PATCHes in a row both answer 200, and both changes are kept."""
    one = call(client, "PATCH", path, account, first)
    assert one.status == 200, one.json
    two = call(client, "PATCH", path, account, second)
    assert two.status == 200, two.json  # not 409: nobody else changed it
    lag.catch_up()
    shown = call(client, "GET", path, account).json
    assert {name: shown[name] for name in {**first, **second}} == {**first, **second}


def assert_consistent_read_before_each_write(lag: LaggingReads, pk: str, sk: str) -> None:
    """The last read of the changed item before each transaction is a consistent GetItem of its
    base-table key (the index only names the key)."""
    for at in lag.writes():
        reads = [
            (name, params)
            for name, params in lag.calls[:at]
            if name == "GetItem" and params.get("Key") == {"pk": {"S": pk}, "sk": {"S": sk}}
        ]
        assert reads and reads[-1][1].get("ConsistentRead") is True


def test_two_quick_project_patches_both_succeed(client, staff, lagging):
    from chalicelib.store import keys

    customer = create_customer(client, staff)
    project = create_project(client, staff, customer)
    pk, sk = keys.customer_pk(customer["uuid"]), keys.project_sk(project["uuid"])
    lagging.freeze(pk, sk)
    path = f"/api/projects/{project['uuid']}/"

    patch_twice(client, staff, lagging, path, {"name": "Apollo 11"}, {"description": "Landed."})

    assert_consistent_read_before_each_write(lagging, pk, sk)
    # Round trips of one PATCH: its calls up to and including its transaction.
    first_write = lagging.writes()[0]
    per_patch = [name for name, _ in lagging.calls[: first_write + 1]]
    assert per_patch.count("TransactWriteItems") == 1
    assert len(per_patch) == 5, per_patch  # token, gsi1 lookup, consistent load, customer, write


def test_a_project_deleted_right_after_a_change(client, staff, lagging):
    from chalicelib.store import keys

    customer = create_customer(client, staff)
    project = create_project(client, staff, customer)
    lagging.freeze(keys.customer_pk(customer["uuid"]), keys.project_sk(project["uuid"]))
    path = f"/api/projects/{project['uuid']}/"

    assert call(client, "PATCH", path, staff, {"name": "Apollo 11"}).status == 200
    assert call(client, "DELETE", path, staff).status == 204
    assert call(client, "GET", path, staff).status == 404


def test_two_quick_project_quota_changes_both_succeed(client, staff, lagging):
    from chalicelib.store import keys

    customer = create_customer(client, staff)
    project = create_project(client, staff, customer)
    lagging.freeze(keys.customer_pk(customer["uuid"]), keys.project_sk(project["uuid"]))
    path = f"/api/projects/{project['uuid']}/set_quotas/"

    for limit in (5, 6):
        reply = call(client, "POST", path, staff, {"quotas": {"nc_resource_count": limit}})
        assert reply.status == 200, reply.json


def test_two_quick_role_patches_both_succeed(client, staff, lagging):
    from chalicelib.store import keys

    reply = call(
        client,
        "POST",
        "/api/roles/",
        staff,
        {"name": "PROJECT.REVIEWER", "content_type": "project", "permissions": ["ORDER.APPROVE"]},
    )
    assert reply.status == 201, reply.json
    role = reply.json
    lagging.freeze(keys.ROLES, keys.role_sk(role["uuid"]))
    path = f"/api/roles/{role['uuid']}/"

    patch_twice(client, staff, lagging, path, {"description": "Approves orders."}, {"is_active": False})

    assert_consistent_read_before_each_write(lagging, keys.ROLES, keys.role_sk(role["uuid"]))


def test_two_quick_category_patches_both_succeed(client, staff, lagging):
    from chalicelib.store import keys

    reply = call(client, "POST", "/api/marketplace-categories/", staff, {"title": "Compute"})
    assert reply.status == 201, reply.json
    category = reply.json
    lagging.freeze(keys.CATEGORIES, keys.category_sk(category["uuid"]))
    path = f"/api/marketplace-categories/{category['uuid']}/"

    patch_twice(
        client, staff, lagging, path, {"title": "Compute (VMs)"}, {"description": "Virtual machines."}
    )


def test_two_quick_customer_and_user_patches_both_succeed(client, staff, alice, lagging):
    """Customers and users were read consistently already: a guard that they stay so."""
    from chalicelib.store import keys

    customer = create_customer(client, staff)
    lagging.freeze(keys.customer_pk(customer["uuid"]), keys.META)
    path = f"/api/customers/{customer['uuid']}/"
    patch_twice(
        client, staff, lagging, path, {"contact_details": "Main street 1"}, {"phone_number": "+3725550000"}
    )

    lagging.freeze(keys.user_pk(alice.id), keys.META)
    path = f"/api/users/{alice.id}/"
    patch_twice(client, staff, lagging, path, {"job_title": "Engineer"}, {"phone_number": "+3725550001"})
