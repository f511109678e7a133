"""What a user hears when DynamoDB misbehaves under a write: an answer lost after a commit, a
transaction cancelled for throttling or as invalid, a throttled call. The failures are injected on
the store's real botocore client (a `before-send` hook answering in DynamoDB's place), moto serves
the rest."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from chalicelib.store.unit_of_work import LOST_RACE
from tests.helpers import call, create_customer, create_project

Answer = Callable[[Any, dict[str, Any]], AWSResponse | None]


def _operation(request: Any) -> str:
    return str(request.headers.get("X-Amz-Target", b"")).split(".")[-1].rstrip("'")


def _reply(request: Any, status: int, body: dict[str, Any]) -> AWSResponse:
    return AWSResponse(request.url, status, {}, MockRawResponse(json.dumps(body)))  # type: ignore[arg-type]


def _error(request: Any, status: int, code: str, **fields: Any) -> AWSResponse:
    return _reply(request, status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", **fields})


class Dynamo:
    """Stands in front of moto on the store's client: `answer(request, body)` may answer a call in
    DynamoDB's place (None: moto answers it). botocore calls every `before-send` handler, so moto's
    own is taken off this client while the fake is on, or it would apply a call the fake refused.
    Records every TransactWriteItems' ClientRequestToken."""

    def __init__(self) -> None:
        self.answer: Answer = moto
        self.tokens: list[str | None] = []

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        body = json.loads(request.body or b"{}")
        if _operation(request) == "TransactWriteItems":
            self.tokens.append(body.get("ClientRequestToken"))
        reply = self.answer(request, body)
        return reply if reply is not None else botocore_stubber(event_name=event_name, request=request)


def moto(request: Any, body: dict[str, Any]) -> None:
    return None


@pytest.fixture
def dynamo(aws: None) -> Iterator[Dynamo]:
    from chalicelib.store.table import connection

    fake = Dynamo()
    events = connection().client.meta.events
    events.unregister("before-send", botocore_stubber)
    events.register_first("before-send.dynamodb", fake, unique_id="test-dynamo")
    yield fake
    events.unregister("before-send.dynamodb", unique_id="test-dynamo")
    events.register("before-send", botocore_stubber)


@pytest.fixture
def project(client: Any, staff: Any) -> dict[str, Any]:
    return create_project(client, staff, create_customer(client, staff))  # type: ignore[no-any-return]


def rename(client: Any, staff: Any, project: dict[str, Any], name: str) -> Any:
    return call(client, "PATCH", f"/api/projects/{project['uuid']}/", staff, {"name": name})


def name_of(client: Any, staff: Any, project: dict[str, Any]) -> str:
    return str(call(client, "GET", f"/api/projects/{project['uuid']}/", staff).json["name"])


def cancelled(request: Any, body: dict[str, Any], code: str, message: str) -> AWSResponse:
    """TransactionCanceledException, `code` for the first write, "None" for the others."""
    reasons = [{"Code": "None"} for _ in body["TransactItems"]]
    reasons[0] = {"Code": code, "Message": message}
    return _error(
        request,
        400,
        "TransactionCanceledException",
        Message=f"Transaction cancelled, please refer cancellation reasons for specific reasons [{code}]",
        CancellationReasons=reasons,
    )


def test_a_commit_whose_answer_was_lost_is_not_reported_as_a_lost_race(client, staff, project, dynamo):
    """The first TransactWriteItems commits but a 500 comes back; botocore sends it again with the
    same ClientRequestToken, and DynamoDB answers a repeat of a committed token as the success it
    was (moto does not implement tokens; the fake below does, as DynamoDB documents it)."""
    committed: set[str] = set()

    def lose_first_answer(request: Any, body: dict[str, Any]) -> AWSResponse | None:
        if _operation(request) != "TransactWriteItems":
            return None
        token = body.get("ClientRequestToken")
        if token is not None and token in committed:
            return _reply(request, 200, {})  # an idempotent repeat: applied once, answered again
        reply = botocore_stubber(event_name="before-send.dynamodb.TransactWriteItems", request=request)
        if token is not None and reply is not None and reply.status_code == 200:
            committed.add(token)
        return _error(request, 500, "InternalServerError", message="The answer was lost on the way.")

    dynamo.answer = lose_first_answer
    reply = rename(client, staff, project, "Artemis")
    dynamo.answer = moto

    assert reply.status == 200, reply.json
    assert reply.json["name"] == "Artemis"
    assert len(dynamo.tokens) == 2  # the call and botocore's retry of it
    assert dynamo.tokens[0] and dynamo.tokens[0] == dynamo.tokens[1]
    assert name_of(client, staff, project) == "Artemis"


def test_a_transaction_sent_again_after_contention_has_a_new_token(client, staff, project, dynamo):
    """A TransactionConflict cancels the transaction (nothing committed); the unit of work sends it
    again as a new transaction (a new token: the old one would stand for the cancelled outcome)."""

    def conflict_once(request: Any, body: dict[str, Any]) -> AWSResponse | None:
        if _operation(request) == "TransactWriteItems" and len(dynamo.tokens) == 1:
            return cancelled(request, body, "TransactionConflict", "Transaction is ongoing for the item")
        return None

    dynamo.answer = conflict_once
    reply = rename(client, staff, project, "Artemis")

    assert reply.status == 200, reply.json
    assert len(dynamo.tokens) == 2 and all(dynamo.tokens)
    assert dynamo.tokens[0] != dynamo.tokens[1]


def test_a_transaction_cancelled_for_throttling_answers_503_with_retry_after(client, staff, project, dynamo):
    def throttle(request: Any, body: dict[str, Any]) -> AWSResponse | None:
        if _operation(request) == "TransactWriteItems":
            return cancelled(request, body, "ThrottlingError", "Throughput exceeds the current capacity.")
        return None

    dynamo.answer = throttle
    reply = rename(client, staff, project, "Artemis")
    dynamo.answer = moto

    assert reply.status == 503, reply.json
    assert int(reply.headers["Retry-After"]) >= 1
    assert set(reply.json) == {"detail"} and reply.json["detail"] != LOST_RACE
    assert name_of(client, staff, project) == "Apollo"


def test_a_transaction_dynamodb_finds_invalid_is_not_reported_as_a_lost_race(client, staff, project, dynamo):
    def too_large(request: Any, body: dict[str, Any]) -> AWSResponse | None:
        if _operation(request) == "TransactWriteItems":
            return cancelled(
                request, body, "ValidationError", "Item size has exceeded the maximum allowed size"
            )
        return None

    dynamo.answer = too_large
    reply = rename(client, staff, project, "Artemis")
    dynamo.answer = moto

    assert reply.status == 500  # a bug of ours (the input bounds let it through), logged with the reason
    assert reply.json == {"detail": "A server error occurred."}
    assert name_of(client, staff, project) == "Apollo"


@pytest.fixture
def one_attempt(monkeypatch: pytest.MonkeyPatch, aws: None) -> Iterator[None]:
    """botocore makes one attempt per call: a throttled call reaches Cirrus without backoff sleeps."""
    from chalicelib import bootstrap
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_AWS_MAX_ATTEMPTS", "1")
    reset_settings()
    bootstrap.ensure_ready()  # rebinds the models: a new client, with one attempt
    yield
    monkeypatch.delenv("CIRRUS_AWS_MAX_ATTEMPTS")
    reset_settings()
    bootstrap.ensure_ready()


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"]
)
def test_a_throttled_call_answers_503_with_retry_after(client, staff, project, one_attempt, dynamo, code):
    dynamo.answer = lambda request, body: _error(request, 400, code, message="Slow down.")
    reply = rename(client, staff, project, "Artemis")
    listed = call(client, "GET", "/api/projects/", staff)
    dynamo.answer = moto

    assert (reply.status, listed.status) == (503, 503)
    assert int(reply.headers["Retry-After"]) >= 1
    assert set(reply.json) == {"detail"}
    assert name_of(client, staff, project) == "Apollo"


def test_a_throttled_store_while_processing_an_order_is_a_transient_failure(one_attempt, dynamo):
    """The workflow retries Cirrus.Transient; a permanent failure would err the order."""
    from chalicelib.domain.context import EventContext
    from chalicelib.workflows import marketplace
    from chalicelib.workflows.aws import client as aws_client

    answered: list[str] = []
    sfn = aws_client("stepfunctions")
    spy = lambda params, **_: answered.append(params["error"])  # noqa: E731
    sfn.meta.events.register("before-parameter-build.sfn.SendTaskFailure", spy)
    dynamo.answer = lambda request, body: _error(request, 400, "ThrottlingException", message="Slow down.")
    try:
        marketplace.process_order(
            {"token": "a-task-token", "order": {"customer_id": "c1", "id": "o1"}}, EventContext()
        )
    finally:
        dynamo.answer = moto
        sfn.meta.events.unregister("before-parameter-build.sfn.SendTaskFailure", spy)

    assert answered == ["Cirrus.Transient"]
