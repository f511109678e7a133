"""Fixtures and builders for the OpenStack provider's contract tests (tests/providers/test_openstack_*).

`cloud`: a fresh fake OpenStack (tests/providers/fakes/openstack_server.py) on 127.0.0.1, with the
loopback opt-in (CIRRUS_PROVIDER_ALLOW_LOOPBACK=1) set for the test. `settings_for(cloud)`: an
offering's settings pointing at it, polling every 0.01 s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.providers.cloud import Job, Settings
from tests.providers.fakes.openstack_server import OpenStackFake

POLL = 0.01


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenStackFake]:
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")
    fake = OpenStackFake().start()
    try:
        yield fake
    finally:
        fake.stop()


def secrets_for(cloud: OpenStackFake, **changes: Any) -> dict[str, Any]:
    return {
        "auth_url": cloud.auth_url,
        "username": cloud.username,
        "password": cloud.password,
        "user_domain_name": "Default",
        "project_name": cloud.project_name,
        "project_domain_name": "Default",
        "region_name": "RegionOne",
        **changes,
    }


def settings_for(cloud: OpenStackFake, options: dict[str, Any] | None = None, **secrets: Any) -> Settings:
    return Settings(
        offering_uuid=uuid.uuid4().hex,
        offering_name="OpenStack",
        options={"poll_interval_seconds": POLL, **(options or {})},
        secrets=secrets_for(cloud, **secrets),
    )


def job(name: str = "web-1", resource_uuid: str | None = None, **fields: Any) -> Job:
    return Job(
        resource_uuid=resource_uuid or uuid.uuid4().hex,
        resource_name=name,
        project_uuid=uuid.uuid4().hex,
        customer_uuid=uuid.uuid4().hex,
        project_name="Research",
        **fields,
    )


class Beats:
    """A heartbeat that counts its calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
