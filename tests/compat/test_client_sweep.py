"""Every function of waldur-api-client's 22 core tags and every core method of python-waldur-client,
called as staff with placeholder arguments: no answer is a 5xx, a 403 with an AWS signature message, or
quotes the caller's token (a site agent stores such bodies as a resource's error_message, which the
consumer's members read); every route Cirrus does not serve answers 404 `{"detail": "Not found."}` and
every verb a known path does not serve 405 in DRF's words. Which routes are served comes from the app's
route table, so the sweep stays right as routes are added (bench/unserved_routes.py prints the list)."""

from __future__ import annotations

import pytest

from tests.compat import sweep
from tests.conftest import Account

pytestmark = pytest.mark.compat


@pytest.fixture
def recorder() -> sweep.Recorder:
    from app import app

    return sweep.Recorder(app)


def _report(recorder: sweep.Recorder, secret: str) -> list[str]:
    return [
        f"{e.caller}: {e.method} {e.path} -> {e.status} {e.body[:200]!r}: {problem}"
        for e in recorder.exchanges
        for problem in sweep.problems(e, secret)
    ]


def test_every_waldur_api_client_core_function_gets_an_honest_answer(
    server, admin: Account, recorder
) -> None:
    called = sweep.sweep_api_client(recorder, server.url, admin.token)

    assert called == sum(1 for _ in sweep.api_client_functions()) == 487  # 8.1.3
    assert len(recorder.exchanges) >= called
    assert _report(recorder, admin.token) == []
    unserved = [e for e in recorder.exchanges if e.unserved]
    assert unserved and all(e.status in (404, 405) for e in unserved)


def test_every_python_waldur_client_core_method_gets_an_honest_answer(
    server, admin: Account, recorder
) -> None:
    core, openstack = sweep.waldur_client_methods()
    assert (len(core), len(openstack)) == (133, 35)  # 0.6.4's public methods

    called = sweep.sweep_waldur_client(recorder, f"{server.url}/api/", admin.token)

    assert called == len(core)
    assert len({e.caller for e in recorder.exchanges}) > 100  # most methods reach the server
    assert _report(recorder, admin.token) == []


def test_the_unserved_list_names_routes_by_feature(recorder) -> None:
    """The README's list: an unserved path is grouped under its collection."""
    recorder.add("c", "f", "GET", "http://h/api/no-such-thing/x/", 404, b'{"detail": "Not found."}', {})
    recorder.add("c", "g", "GET", "http://h/api/customers/", 200, b"[]", {})
    recorder.add("c", "h", "HEAD", "http://h/api/no-such-thing/x/", 404, b"", {})
    assert sweep.unserved_by_feature(recorder.exchanges) == {
        "no-such-thing": {"GET /api/no-such-thing/x/": {"f", "h"}}
    }
    assert sweep.problems(recorder.exchanges[0], "secret") == []
    leak = sweep.Exchange(
        "c", "f", "GET", "/a/", "/a/", 403, b'{"message": "Authorization=Token secret"}', {}, "path"
    )
    assert set(sweep.problems(leak, "secret")) == {
        "echoes the caller's token",
        "a 403 with an AWS signature message",
        "an unserved path not answered 404 {'detail': 'Not found.'}",
    }
