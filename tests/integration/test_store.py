"""The single-table store: atomic units of work, optimistic locking, constant request cost."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict
from chalicelib.services import customers as customer_service
from chalicelib.store import counters
from chalicelib.store import customers as customer_store
from chalicelib.store.unit_of_work import UnitOfWork
from tests.helpers import feed


@pytest.fixture
def ctx(staff):
    from chalicelib.store import users

    return EventContext(principal=users.get(staff.id).principal(), ip_address="127.0.0.1")


def test_a_stale_write_loses_instead_of_overwriting(ctx):
    created = customer_service.create_customer(ctx, {"name": "Original"})
    first = customer_store.get(created.id)
    second = customer_store.get(created.id)
    uow = UnitOfWork()
    customer_store.save_changes(uow, first, replace(first, name="First edit"))
    uow.commit()
    uow = UnitOfWork()
    customer_store.save_changes(uow, second, replace(second, email="second@edit.test"))
    with pytest.raises(Conflict):
        uow.commit()
    stored = customer_store.get(created.id)
    assert stored.name == "First edit" and stored.email == "" and stored.version == 2


def test_a_failed_unit_of_work_writes_nothing(ctx, settle):
    created = customer_service.create_customer(ctx, {"name": "Only One"})
    settle()
    count_before = counters.value(counters.CUSTOMERS)
    uow = UnitOfWork()
    again = replace(created, name="Clash")  # same id: the put's condition fails
    customer_store.add(uow, again)
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the point is what was stored
        uow.commit()
    assert customer_store.get(created.id).name == "Only One"
    assert settle() == 0  # not one change reached the stream
    assert counters.value(counters.CUSTOMERS) == count_before == 1


def test_a_crash_before_commit_leaves_neither_change_nor_event(ctx):
    uow = UnitOfWork()
    from chalicelib.domain import customers as domain
    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.customers import Customer
    from chalicelib.domain.ids import new_id

    customer = Customer(id=new_id(), name="Never", created=utcnow())
    customer_store.add(uow, customer)
    uow.record(domain.event(customer, "creation", ctx))
    del uow  # the process dies here
    assert customer_store.get(customer.id) is None
    assert feed("customer", customer.id) == []


def test_effects_are_carried_out_after_the_commit_and_never_for_a_failed_one(ctx):
    from chalicelib.services.effects import AnswerCallback, ForgetAccess

    created = customer_service.create_customer(ctx, {"name": "Only One"})
    seen: list[tuple[list[object], str]] = []

    def executor(effects):  # what the table holds when the effects run
        seen.append((list(effects), customer_store.get(created.id).name))

    failing = UnitOfWork(executor)
    customer_store.add(failing, replace(created, name="Clash"))  # same id: the put's condition fails
    failing.after_commit(ForgetAccess(ctx.actor))
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do
        failing.commit()
    assert seen == []

    uow = UnitOfWork(executor)
    customer_store.save_changes(uow, created, replace(created, name="Renamed"))
    answer = AnswerCallback("order:x:provider", {"state": "done"})
    uow.after_commit(answer, ForgetAccess(ctx.actor))
    uow.commit()
    assert seen == [([answer, ForgetAccess(ctx.actor)], "Renamed")]


class CallCounter:
    def __init__(self):
        self.calls: list[str] = []

    def __call__(self, model, params, **kwargs):
        self.calls.append(model.name)


@pytest.fixture
def dynamodb_calls():
    from chalicelib.store.table import connection

    counter = CallCounter()
    events = connection().client.meta.events
    events.register("before-call.dynamodb", counter)
    yield counter
    events.unregister("before-call.dynamodb", counter)


def test_requests_cost_a_constant_number_of_round_trips(client, staff, dynamodb_calls):
    from tests.helpers import call, create_customer, create_project

    customer = create_customer(client, staff)
    for i in range(12):
        create_project(client, staff, customer, f"p{i}")

    def cost(path):
        dynamodb_calls.calls.clear()
        assert call(client, "GET", path, staff).status == 200
        return len(dynamodb_calls.calls)

    project = call(client, "GET", "/api/projects/", staff).json[0]
    # A retrieve carries the month's billing_price_estimate: one Query of the month's invoice with
    # its items (services.billing.month_estimate): 2 + 1.
    assert cost(f"/api/customers/{customer['uuid']}/") <= 2 + 1
    assert cost(f"/api/projects/{project['uuid']}/") <= 2 + 1
    assert cost("/api/customers/") <= 3
    assert cost("/api/projects/") <= 3
    assert cost(f"/api/projects/?customer={customer['uuid']}") <= 3
    assert cost("/api/projects/?page=2") <= 4  # plus one keys-only read to step over page 1


def test_a_transaction_refused_at_its_last_write_leaves_the_table_and_its_stream_as_they_were(aws):
    """moto copies a table once per transaction for its rollback (chalicelib/local/moto_speedups.py,
    installed by tests/conftest.py): a refusal after earlier writes applied still undoes them all."""
    import boto3

    from chalicelib.config import get_settings
    from chalicelib.local.aws import dynamodb_client

    client = dynamodb_client(None)
    table = get_settings().table_name

    def put(pk: str, condition: str | None = None) -> dict:
        op = {"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"S": "#META"}}}
        return {"Put": {**op, "ConditionExpression": condition} if condition else op}

    client.transact_write_items(TransactItems=[put("TAKEN#1")])
    stream = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=get_settings().region)
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    records_before = _stream_records(streams, stream, shard)

    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[put("NEW#1"), put("NEW#2"), put("TAKEN#1", "attribute_not_exists(pk)")]
        )

    keys = {i["pk"]["S"] for i in client.scan(TableName=table)["Items"]}
    assert keys == {"TAKEN#1"}
    assert _stream_records(streams, stream, shard) == records_before


def _stream_records(streams, stream: str, shard: str) -> int:
    iterator = streams.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])
