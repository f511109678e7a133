"""Fixtures for the compatibility suite: the app served over real HTTP on loopback, backed by the
in-process moto of `aws`, and the two real Waldur clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Account, make_account


@pytest.fixture(scope="session")
def _listener() -> Iterator[Any]:
    """The Chalice app on a free 127.0.0.1 port, once per session: the app keeps no state of its
    own, and stopping a server costs half a second (socketserver's shutdown poll)."""
    from app import app
    from chalicelib.local.server import AppServer

    running = AppServer(app, port=0).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def server(aws: None, _listener: Any) -> Any:
    """The served app, backed by this test's fresh moto backend: mock_aws patches botocore
    process-wide, so the server's request threads see the same backend as the test."""
    return _listener


@pytest.fixture
def admin(aws: None) -> Account:
    return make_account("admin", is_staff=True, full_name="Admin Person", email="admin@example.org")


@pytest.fixture
def waldur(server: Any, admin: Account) -> Any:
    """python-waldur-client as Waldur's Ansible modules use it."""
    from waldur_client import WaldurClient

    return WaldurClient(f"{server.url}/api/", admin.token)


@pytest.fixture
def api(server: Any, admin: Account) -> Iterator[Any]:
    """waldur-api-client, the generated OpenAPI client."""
    from waldur_api_client import AuthenticatedClient

    with AuthenticatedClient(base_url=server.url, token=admin.token, timeout=10.0) as client:
        yield client
