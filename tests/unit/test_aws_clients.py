"""Every AWS client Cirrus builds ends a call well inside API Gateway's 29 s integration timeout:
short connect/read timeouts and a few attempts in botocore's standard retry mode, for pynamodb's
DynamoDB client as for the boto3 clients (SQS, Step Functions, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.config import reset_settings
from chalicelib.services import ports
from chalicelib.store.table import connection
from chalicelib.workflows.aws import client

API_GATEWAY_TIMEOUT = 29
# botocore's standard mode waits up to base x 2^(i-1) before retry i (base 1 s for throttling, the
# largest; at most 20 s).
THROTTLING_BASE, MAX_BACKOFF = 1.0, 20.0


def worst_case(config: Any) -> float:
    """One call's longest time: every attempt connects and reads as long as allowed, with the
    longest backoffs between them."""
    attempts = config.retries["total_max_attempts"]
    backoffs = sum(min(THROTTLING_BASE * 2 ** (i - 1), MAX_BACKOFF) for i in range(1, attempts))
    return float(attempts * (config.connect_timeout + config.read_timeout) + backoffs)


def _forget_clients() -> None:
    """Drop the clients built here, outside moto: a later test's moto must build its own (a cached
    client made without moto's hook would reach the real AWS endpoint)."""
    from chalicelib.store.items import ALL_MODELS
    from chalicelib.workflows import aws

    aws._client.cache_clear()
    for model in ALL_MODELS:
        model._connection = None
    ports.use(None)


@pytest.fixture
def bound() -> Iterator[None]:
    reset_settings()
    bootstrap.ensure_ready()
    yield
    _forget_clients()
    reset_settings()


def built_clients() -> dict[str, Any]:
    return {
        "dynamodb (pynamodb)": connection().client,
        "sqs": client("sqs"),
        "stepfunctions": client("stepfunctions"),
    }


def test_every_client_ends_a_call_inside_api_gateways_timeout(bound):
    for name, built in built_clients().items():
        config = built.meta.config
        assert config.retries["mode"] == "standard", name
        assert 1 < config.retries["total_max_attempts"] <= 3, name  # a few retries, not none
        assert config.connect_timeout <= 3 and config.read_timeout <= 10, name
        assert worst_case(config) < API_GATEWAY_TIMEOUT, (name, worst_case(config))


def test_the_timeouts_and_attempts_come_from_the_settings(bound, monkeypatch):
    monkeypatch.setenv("CIRRUS_AWS_CONNECT_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("CIRRUS_AWS_READ_TIMEOUT_SECONDS", "4")
    monkeypatch.setenv("CIRRUS_AWS_MAX_ATTEMPTS", "2")
    reset_settings()
    bootstrap.ensure_ready()
    for name, built in built_clients().items():
        config = built.meta.config
        assert (config.connect_timeout, config.read_timeout) == (1.5, 4.0), name
        assert config.retries["total_max_attempts"] == 2, name
