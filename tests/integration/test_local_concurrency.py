"""The local stack under concurrent requests, served as `make run` serves it: the app on its threaded
HTTP server, moto on its threaded server in the same process. moto's DynamoDB models are plain dicts
(a transaction's backup iterated a table another request was writing: `RuntimeError: dictionary
changed size during iteration`); chalicelib/local/moto_speedups.py serialises them under one lock.
Without it (moto_speedups.uninstall()), the concurrent creations below meet 500s (checked by hand,
issue 17); with it, none, not even one botocore's retries would have hidden."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Account, make_account

THREADS = 8
REQUESTS_EACH = 25
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Account]]:
    """The app at an HTTP URL, its table on an in-process moto server, and a staff account."""
    from app import app
    from chalicelib import bootstrap
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.local.aws import MotoServer, create_table
    from chalicelib.local.server import AppServer
    from chalicelib.services import ports

    moto = MotoServer().start()
    monkeypatch.setenv("CIRRUS_AWS_ENDPOINT_URL", moto.endpoint)
    # moto's in-process servers share one backend: a table of its own for each test.
    monkeypatch.setenv("CIRRUS_TABLE_NAME", f"cirrus-concurrency-{uuid.uuid4().hex[:8]}")
    reset_settings()
    ports.use(None)
    server = None
    try:
        create_table(get_settings().table_name, moto.endpoint)
        bootstrap.ensure_ready()
        staff = make_account("staff", is_staff=True, full_name="Staff Person")
        server = AppServer(app, port=0).start()
        yield server.url, staff
    finally:
        if server is not None:
            server.stop()
        moto.stop()
        ports.use(None)
        monkeypatch.delenv("CIRRUS_AWS_ENDPOINT_URL")
        reset_settings()


def _send(
    url: str, staff: Account, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    sent = {**staff.headers, **(headers or {})}
    request = urllib.request.Request(url + path, data=data, method=method, headers=sent)
    try:
        with _OPENER.open(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()[:300]


def _client_loop(url: str, staff: Account, customer: dict[str, Any], n: int, answers: list[Any]) -> None:
    project_url = None
    for i in range(REQUESTS_EACH):
        if i % 3 == 0:
            status, body = _send(
                url, staff, "POST", "/api/projects/", {"name": f"P{n}-{i}", "customer": customer["url"]}
            )
            project_url = body["uuid"] if status == 201 else project_url
        elif i % 3 == 1 or project_url is None:
            status, body = _send(url, staff, "GET", f"/api/projects/?customer={customer['uuid']}")
        else:
            status, body = _send(url, staff, "GET", f"/api/projects/{project_url}/")
        answers.append((status, body if status >= 300 else None))


def test_concurrent_requests_all_succeed_and_moto_logs_no_traceback(served, caplog, capfd):
    url, staff = served
    status, customer = _send(url, staff, "POST", "/api/customers/", {"name": "Acme"})
    assert status == 201, customer
    answers: list[Any] = []
    caplog.set_level(logging.ERROR)
    threads = [
        threading.Thread(target=_client_loop, args=(url, staff, customer, n, answers)) for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(answers) == THREADS * REQUESTS_EACH
    assert [a for a in answers if not 200 <= a[0] < 300] == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert "Traceback" not in capfd.readouterr().err
    status, listed = _send(url, staff, "GET", f"/api/projects/?customer={customer['uuid']}&page_size=300")
    assert status == 200 and len(listed) == THREADS * (REQUESTS_EACH // 3 + 1)


# --- concurrent creations: no moto error, even one botocore's retries would hide; no duplicate ---------
CREATIONS_EACH = 25


@pytest.fixture
def dynamodb_attempts() -> Iterator[list[int]]:
    """The HTTP status of every attempt the app's DynamoDB client makes, retries included: botocore
    resends a call moto answered 500 (its `dictionary changed size during iteration` inside
    TransactWriteItems was hidden that way), so the API's statuses alone would not show it."""
    from chalicelib.store.table import connection

    statuses: list[int] = []

    def seen(response_dict: Any = None, exception: Any = None, **_: Any) -> None:
        statuses.append(599 if exception is not None else int((response_dict or {}).get("status_code", 0)))

    events = connection().client.meta.events
    events.register("response-received.dynamodb", seen, unique_id="cirrus-test-attempts")
    yield statuses
    events.unregister("response-received.dynamodb", unique_id="cirrus-test-attempts")


def _creating_loop(url: str, staff: Account, customer: dict[str, Any], n: int, answers: list[Any]) -> None:
    """POSTs only, each sent twice with its own Idempotency-Key (a client retrying every request)."""
    for i in range(CREATIONS_EACH):
        body = {"name": f"P{n}-{i}", "customer": customer["url"]}
        headers = {"Idempotency-Key": f"create-{n}-{i}"}
        first = _send(url, staff, "POST", "/api/projects/", body, headers)
        again = _send(url, staff, "POST", "/api/projects/", body, headers)
        answers.append((first[0], again[0], _uuid(first[1]), _uuid(again[1])))


def _uuid(body: Any) -> Any:
    return body.get("uuid") if isinstance(body, dict) else body


def test_concurrent_creations_meet_no_moto_error_and_each_key_makes_one_project(served, dynamodb_attempts):
    url, staff = served
    status, customer = _send(url, staff, "POST", "/api/customers/", {"name": "Acme"})
    assert status == 201, customer
    answers: list[Any] = []
    loops = [(url, staff, customer, n, answers) for n in range(THREADS)]
    threads = [threading.Thread(target=_creating_loop, args=args) for args in loops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert len(answers) == THREADS * CREATIONS_EACH
    assert [a for a in answers if a[:2] != (201, 201) or a[2] != a[3]] == []
    assert len(dynamodb_attempts) > THREADS * CREATIONS_EACH  # every attempt is seen...
    assert [s for s in dynamodb_attempts if s >= 500] == []  # ...and moto answered each, none retried
    status, listed = _send(url, staff, "GET", f"/api/projects/?customer={customer['uuid']}&page_size=300")
    assert status == 200 and len(listed) == THREADS * CREATIONS_EACH
    assert len({p["uuid"] for p in listed}) == len({a[2] for a in answers})
