"""Shared set-up of the Rancher contract tests: a fake Rancher on loopback and backends built as the
platform builds them (Settings with the type's defaults overlaid)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from cirrus_rancher import options
from cirrus_rancher.backend import RancherBackend

from chalicelib.providers.cloud import Job, Settings
from tests.providers.fakes.rancher_server import FakeRancher

TOKEN = "token-abcde:s3cr3tv4lu3xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyz"
CLUSTER = "c-m-test1234"
OFFERING = "0f" * 16


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRancher]:
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")
    with FakeRancher(TOKEN, clusters=(CLUSTER, "c-other")) as server:
        yield server


def settings(
    fake: FakeRancher, options_: Mapping[str, Any] | None = None, secrets: Mapping[str, Any] | None = None
) -> Settings:
    given = {
        "cluster_id": CLUSTER,
        "poll_interval_seconds": 0.01,
        "ready_timeout_seconds": 1,
        **(options_ or {}),
    }
    return Settings(
        offering_uuid=OFFERING,
        offering_name="Rancher",
        options={**options.DEFAULTS, **given},
        secrets={"rancher_url": fake.url, "token": TOKEN, **(secrets or {})},
    )


def backend(fake: FakeRancher, **kwargs: Any) -> RancherBackend:
    return RancherBackend(settings(fake, **kwargs))


def job(resource_uuid: str | None = None, **fields: Any) -> Job:
    return Job(
        resource_uuid=resource_uuid or uuid.uuid4().hex,
        resource_name=fields.pop("resource_name", "Team A allocation"),
        project_uuid="1" * 32,
        customer_uuid="2" * 32,
        **fields,
    )


class Beats:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
