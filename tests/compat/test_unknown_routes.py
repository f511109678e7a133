"""What Cirrus answers for what it does not serve, as Waldur (Django REST framework) answers it: a path
no view serves is 404 `{"detail": "Not found."}`, a verb a known path does not serve is 405 in DRF's
words, HEAD never has a body (whatever its status), no answer quotes a request header, and query
parameters an endpoint does not know are ignored. Over real HTTP on the local server (its
stand-in for API Gateway routes as the deployed stack does)."""

from __future__ import annotations

import http.client
import json
from http import HTTPStatus
from typing import Any

import pytest
from waldur_api_client.api.events import (
    events_count_count,
    events_count_retrieve,
    events_event_groups_count,
    events_scope_types_count,
)
from waldur_api_client.api.users import users_count, users_me_count

from tests.conftest import Account

pytestmark = pytest.mark.compat

NOT_FOUND = {"detail": "Not found."}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UNKNOWN_PATHS = (
    "/",
    "/api/nothing-here/",
    "/api/marketplace-nothing/00000000000000000000000000000000/",
    "/api/customers/00000000000000000000000000000000/no_such_action/",
    "/not-api/at/all",
    "/api/customers/x/y/z/w/v/",
)


def _request(server: Any, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, path, body=b"{}" if method in ("POST", "PUT", "PATCH") else None,
                     headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_an_unknown_path_is_waldurs_404_for_every_method(server, admin: Account, path: str) -> None:
    secret = f"Token {admin.token}"
    for method in METHODS:
        for headers in ({}, {"Authorization": secret}):
            status, got, body = _request(server, method, path, headers)
            assert status == HTTPStatus.NOT_FOUND, (method, path, status, body)
            if method == "HEAD":
                assert body == b"" and got.get("Content-Length", "0") == "0"
            else:
                assert json.loads(body) == NOT_FOUND, (method, path)
            assert admin.token.encode() not in body


def test_a_known_path_refuses_a_verb_it_does_not_serve_in_drf_words(server, admin: Account) -> None:
    auth = {"Authorization": f"Token {admin.token}"}
    for method, path in (("DELETE", "/api/customers/"), ("PUT", "/api/users/me/"), ("POST", "/api/version/")):
        status, headers, body = _request(server, method, path, auth)
        assert status == HTTPStatus.METHOD_NOT_ALLOWED, (method, path, body)
        assert json.loads(body) == {"detail": f'Method "{method}" not allowed.'}
        assert "GET" in headers["Allow"]
    status, _, body = _request(server, "OPTIONS", "/api/customers/", auth)
    assert status == HTTPStatus.METHOD_NOT_ALLOWED and json.loads(body) == {
        "detail": 'Method "OPTIONS" not allowed.'
    }


def test_a_verb_chalice_has_no_handler_for_is_drfs_405_json(server, admin: Account) -> None:
    """TRACE and other verbs Chalice has no handler for reach the app like the others (once: the
    local server's HTML 501 page)."""
    auth = {"Authorization": f"Token {admin.token}"}
    for method in ("TRACE", "PROPFIND", "PURGE"):
        status, headers, body = _request(server, method, "/api/customers/", auth)
        assert status == HTTPStatus.METHOD_NOT_ALLOWED, (method, body)
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body) == {"detail": f'Method "{method}" not allowed.'}
    # What is no verb at all is still refused by the server itself, in DRF's shape.
    status, headers, body = _request(server, "x" * 30, "/api/customers/", auth)
    assert status == HTTPStatus.NOT_IMPLEMENTED and headers["Content-Type"] == "application/json"
    assert set(json.loads(body)) == {"detail"} and admin.token.encode() not in body


def test_head_never_has_a_body_so_a_kept_alive_connection_stays_in_step(server, admin: Account) -> None:
    """http.client reads no body after HEAD: any byte sent would be taken as the next status line."""
    auth = {"Authorization": f"Token {admin.token}"}
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        for path, headers, status in (
            ("/api/nothing-here/", auth, 404),  # the catch-all
            ("/api-auth/password/", auth, 405),  # Chalice's own 405 (a POST-only path)
            ("/api/users/me/", auth, 200),
            ("/api/customers/00000000000000000000000000000000/", auth, 404),  # a view's 404
            ("/api/users/me/", {}, 401),
        ):
            conn.request("HEAD", path, headers=headers)
            head = conn.getresponse()
            assert head.status == status and head.read() == b"", path
            conn.request("GET", "/api/version/", headers=auth)
            after = conn.getresponse()
            assert after.status == 200 and "version" in json.loads(after.read()), path
    finally:
        conn.close()


def test_unknown_query_parameters_are_ignored_and_known_ones_still_checked(server, admin: Account) -> None:
    auth = {"Authorization": f"Token {admin.token}"}
    plain = _request(server, "GET", "/api/customers/", auth)
    tolerant = _request(server, "GET", "/api/customers/?colour=red&page_size=5", auth)
    assert plain[0] == tolerant[0] == 200 and json.loads(plain[2]) == json.loads(tolerant[2])
    for path in (
        "/api/configuration/?page_size=10",  # python-waldur-client's get_configuration
        f"/api/users/?name_exact={admin.username}",  # get_user(<username>)
        "/api/marketplace-orders/?modified_before=2030-01-01T00:00:00Z",  # the site agent
        f"/api/users/{admin.id}/?page=2",
    ):
        status, _, body = _request(server, "GET", path, auth)
        assert status == 200, (path, body)
    status, _, body = _request(server, "GET", "/api/customers/?page=abc&colour=red", auth)
    assert status == 404 and json.loads(body) == {"detail": "Invalid page."}  # DRF's paginator


def test_python_waldur_client_get_configuration_sends_page_size_and_works(waldur) -> None:
    configuration = waldur.get_configuration()
    assert configuration["WALDUR_CORE"]["SITE_NAME"] == "Cirrus"


def test_every_count_function_gets_x_result_count_on_head(api, admin: Account) -> None:
    """waldur-api-client's `*_count` functions send HEAD and read X-Result-Count: a list's total, the
    count `events/count/` reports, the length of an unpaged list, 1 for a single object."""
    assert users_count.sync(client=api) == 1
    assert users_me_count.sync(client=api) == 1
    counted = events_count_retrieve.sync_detailed(client=api)
    assert counted.status_code == 200
    assert events_count_count.sync(client=api) == json.loads(counted.content)["count"]
    groups = events_event_groups_count.sync_detailed(client=api)
    scopes = events_scope_types_count.sync_detailed(client=api)
    assert groups.status_code == scopes.status_code == 200
    assert isinstance(groups.parsed, int) and isinstance(scopes.parsed, int) and scopes.parsed >= 1
