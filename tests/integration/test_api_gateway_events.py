"""The API function's handler (`app.api_handler`) with the events API Gateway sends, from both front
doors: a REST API (Chalice's, stage `api`, reached at its execute-api URL: the routes live under
`/api/api/...`) and an HTTP API (payload format 1.0 from its `$default` route and `$default` stage,
which carries no resource path). What a client sees: the answer, and absolute links it can follow
(issue 19: without a custom domain every `url`, `Link` and Cognito callback pointed at `/api/...`,
which the REST API answers 403)."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.config import reset_settings
from tests.conftest import Account

HOST = "abc123.execute-api.eu-west-1.amazonaws.com"
REST = f"https://{HOST}/api"  # the REST API's stage is part of every URL its clients call
HTTP = f"https://{HOST}"
CLIENT_IP = "198.51.100.7"
ORIGIN = "https://homeport.example.org"


@pytest.fixture(autouse=True)
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The settings the stack gives the API function without a custom domain."""
    monkeypatch.setenv("CIRRUS_ALLOWED_HOSTS", ".execute-api.eu-west-1.amazonaws.com")
    reset_settings()
    yield
    reset_settings()


def _headers(account: Account | None, extra: dict[str, str] | None) -> dict[str, str]:
    # As clients spell them: API Gateway passes header names in the client's case.
    headers = {
        "Host": HOST,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": CLIENT_IP,
        "accept": "*/*",
        "User-Agent": "python-requests/2.32",
    }
    if account is not None:
        headers["Authorization"] = f"Token {account.token}"
    return {**headers, **(extra or {})}


def _body(body: Any, encode: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    text = json.dumps(body)
    return (base64.b64encode(text.encode()).decode(), True) if encode else (text, False)


def _query(query: dict[str, list[str]] | None) -> tuple[Any, Any]:
    if not query:
        return None, None
    return {k: v[-1] for k, v in query.items()}, query


def rest_event(
    method: str,
    path: str,
    resource: str,
    *,
    params: dict[str, str] | None = None,
    account: Account | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """What Chalice's REST API (proxy integration, stage `api`) sends for `path` matched to `resource`."""
    sent = _headers(account, {"Content-Type": "application/json", **(headers or {})} if body else headers)
    text, encoded = _body(body, False)
    single, multi = _query(query)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": single,
        "multiValueQueryStringParameters": multi,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "x1y2z3",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": "Ab1=",
            "requestTime": "06/Dec/2026:02:00:00 +0000",
            "path": f"/api{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "api",
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1796522400000,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": CLIENT_IP, "userAgent": "python-requests/2.32"},
            "domainName": HOST,
            "apiId": "abc123",
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def http_event(
    method: str,
    path: str,
    *,
    account: Account | None = None,
    body: Any = None,
    base64_body: bool = False,
    headers: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """What an HTTP API's `$default` route sends with payload format 1.0 (the shape of a real
    capture: `resource` and `resourcePath` are `$default`, `pathParameters` null)."""
    sent = _headers(account, {"Content-Type": "application/json", **(headers or {})} if body else headers)
    text, encoded = _body(body, base64_body)
    single, multi = _query(query)
    return {
        "version": "1.0",
        "resource": "$default",
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": single,
        "multiValueQueryStringParameters": multi,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": HOST,
            "domainPrefix": "abc123",
            "extendedRequestId": "H6SdPgXtiYcEP1w=",
            "httpMethod": method,
            "identity": {"sourceIp": CLIENT_IP, "userAgent": "python-requests/2.32"},
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": "H6SdPgXtiYcEP1w=",
            "requestTime": "06/Dec/2026:02:00:00 +0000",
            "requestTimeEpoch": 1796522400000,
            "resourceId": "$default",
            "resourcePath": "$default",
            "stage": "$default",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": text,
        "isBase64Encoded": encoded,
    }


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    from app import api_handler

    return api_handler(event, None)


def body_of(response: dict[str, Any]) -> Any:
    raw = response["body"]
    if response.get("isBase64Encoded"):
        raw = base64.b64decode(raw)
    return json.loads(raw) if raw else None


def header(response: dict[str, Any], name: str) -> str:
    for key, value in {**response["headers"], **response.get("multiValueHeaders", {})}.items():
        if key.lower() == name.lower():
            return ", ".join(value) if isinstance(value, list) else str(value)
    raise KeyError(name)


def links(response: dict[str, Any]) -> dict[str, str]:
    """The Link header's targets by rel."""
    found = {}
    for part in header(response, "Link").split(", <"):
        url, rel = part.strip("<").split(">; rel=")
        found[rel.strip('"')] = url
    return found


Create = Callable[[str], dict[str, Any]]


@pytest.fixture
def three_customers(aws: None, staff: Account) -> list[dict[str, Any]]:
    """Three customers created by POSTs through the HTTP API."""
    created = []
    for name in ("Acme", "Beta", "Gamma"):
        response = invoke(http_event("POST", "/api/customers/", account=staff, body={"name": name}))
        assert response["statusCode"] == 201, body_of(response)
        created.append(body_of(response))
    return created


# --- lists: urls and pagination links -----------------------------------------------------------------
def test_rest_api_links_carry_the_stage(staff, three_customers):
    # GIVEN the REST API at its execute-api URL, with no custom domain
    event = rest_event("GET", "/api/customers/", "/api/customers", account=staff, query={"page_size": ["2"]})

    # WHEN a client lists customers
    response = invoke(event)

    # THEN every link is under /api/api/, where the REST API serves the routes
    assert response["statusCode"] == 200, body_of(response)
    listed = body_of(response)
    assert len(listed) == 2
    assert all(c["url"].startswith(f"{REST}/api/customers/") for c in listed)
    assert links(response) == {
        "first": f"{REST}/api/customers/?page_size=2&page=1",
        "next": f"{REST}/api/customers/?page_size=2&page=2",
        "last": f"{REST}/api/customers/?page_size=2&page=2",
    }
    assert header(response, "X-Result-Count") == "3"


def test_rest_api_follows_its_own_links(staff, three_customers):
    listed = body_of(invoke(rest_event("GET", "/api/customers/", "/api/customers", account=staff)))
    url = urllib.parse.urlsplit(listed[0]["url"])
    # API Gateway strips the stage from what the function sees; the rest is the route's path
    assert url.path.startswith("/api/api/customers/")
    path = url.path.removeprefix("/api")
    uuid = listed[0]["uuid"]
    response = invoke(rest_event("GET", path, "/api/customers/{uuid}", params={"uuid": uuid}, account=staff))
    assert response["statusCode"] == 200 and body_of(response)["url"] == listed[0]["url"]


def test_http_api_links_have_no_stage(staff, three_customers):
    response = invoke(http_event("GET", "/api/customers/", account=staff, query={"page_size": ["2"]}))

    assert response["statusCode"] == 200, body_of(response)
    assert all(c["url"].startswith(f"{HTTP}/api/customers/") for c in body_of(response))
    assert links(response)["next"] == f"{HTTP}/api/customers/?page_size=2&page=2"


def test_a_public_url_is_the_base_whatever_the_front_door(monkeypatch, staff, three_customers):
    monkeypatch.setenv("CIRRUS_PUBLIC_URL", "https://cirrus.example.org")
    reset_settings()
    for event in (
        rest_event("GET", "/api/customers/", "/api/customers", account=staff, query={"page_size": ["2"]}),
        http_event("GET", "/api/customers/", account=staff, query={"page_size": ["2"]}),
    ):
        response = invoke(event)
        urls = [c["url"] for c in body_of(response)]
        assert all(url.startswith("https://cirrus.example.org/api/customers/") for url in urls)
        assert links(response)["next"] == "https://cirrus.example.org/api/customers/?page_size=2&page=2"


def test_a_host_the_settings_do_not_allow_is_refused_on_both_front_doors(staff):
    forged = {"Host": "evil.example"}
    for event in (
        rest_event("GET", "/api/customers/", "/api/customers", account=staff, headers=forged),
        http_event("GET", "/api/customers/", account=staff, headers=forged),
    ):
        response = invoke(event)
        assert (response["statusCode"], body_of(response)) == (400, {"detail": "Invalid HTTP_HOST header."})


# --- bodies ----------------------------------------------------------------------------------------
def test_http_api_post_with_a_json_body_creates_and_links(staff):
    response = invoke(http_event("POST", "/api/customers/", account=staff, body={"name": "Acme"}))

    assert response["statusCode"] == 201, body_of(response)
    created = body_of(response)
    assert created["name"] == "Acme"
    assert created["url"] == f"{HTTP}/api/customers/{created['uuid']}/"


def test_http_api_post_with_a_base64_body(staff):
    # an HTTP API base64-encodes a body it does not take for text
    event = http_event("POST", "/api/customers/", account=staff, body={"name": "Encoded"}, base64_body=True)
    response = invoke(event)

    assert response["statusCode"] == 201, body_of(response)
    assert body_of(response)["name"] == "Encoded"


def test_rest_api_post_creates_under_the_stage(staff):
    event = rest_event("POST", "/api/customers/", "/api/customers", account=staff, body={"name": "Acme"})
    response = invoke(event)
    assert response["statusCode"] == 201, body_of(response)
    assert body_of(response)["url"].startswith(f"{REST}/api/customers/")


# --- routing ---------------------------------------------------------------------------------------
def test_http_api_path_with_a_parameter_reaches_its_view(staff, three_customers):
    uuid = three_customers[1]["uuid"]
    response = invoke(http_event("GET", f"/api/customers/{uuid}/", account=staff))

    assert response["statusCode"] == 200, body_of(response)
    assert body_of(response)["name"] == "Beta"


def test_http_api_text_response_is_sent_as_text(aws):
    # the icons are SVG (text): no route answers a binary type, so nothing is base64-encoded
    response = invoke(http_event("GET", "/api/icons/favicon/"))

    assert response["statusCode"] == 200
    assert header(response, "Content-Type") == "image/svg+xml"
    assert not response.get("isBase64Encoded") and response["body"].startswith("<svg")


@pytest.mark.parametrize("path", ["/api/no-such-collection/", "/api/customers/abc/no_such_action/", "/"])
def test_http_api_unknown_path_is_waldurs_404(aws, staff, path):
    for method in ("GET", "POST", "DELETE"):
        response = invoke(http_event(method, path, account=staff))
        assert (response["statusCode"], body_of(response)) == (404, {"detail": "Not found."}), (method, path)


def test_http_api_unrouted_verb_is_a_drf_405(staff):
    response = invoke(http_event("PUT", "/api/customers/", account=staff, body={"name": "x"}))
    assert response["statusCode"] == 405
    assert body_of(response) == {"detail": 'Method "PUT" not allowed.'}


# --- CORS ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("front_door", ["rest", "http"])
def test_a_preflight_from_an_allowed_origin_is_answered_on_both_front_doors(monkeypatch, aws, front_door):
    monkeypatch.setenv("CIRRUS_CORS_ALLOWED_ORIGINS", ORIGIN)
    reset_settings()
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    if front_door == "rest":
        event = rest_event("OPTIONS", "/api/customers/", "/api/customers", headers=preflight)
    else:
        event = http_event("OPTIONS", "/api/customers/", headers=preflight)

    response = invoke(event)

    assert response["statusCode"] == 200
    assert header(response, "Access-Control-Allow-Origin") == ORIGIN
    assert "POST" in header(response, "Access-Control-Allow-Methods")


# --- Cognito's hosted UI under the REST API's stage -------------------------------------------------
def test_hosted_ui_sign_in_works_under_the_rest_apis_stage(aws, monkeypatch):
    from tests.cognito_fakes import FakeCognito, claims, configure, mint, serving

    with serving(FakeCognito()) as fake:
        configure(monkeypatch, fake)
        # GIVEN a browser that starts the sign-in at the REST API's URL
        login = invoke(rest_event("GET", "/api-auth/cognito/login/", "/api-auth/cognito/login"))
        assert login["statusCode"] == 302, body_of(login)
        location = header(login, "Location")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        # THEN Cognito returns it to the callback under the stage, with a cookie the browser sends there
        assert query["redirect_uri"] == f"{REST}/api-auth/cognito/callback/"
        cookie = header(login, "Set-Cookie")
        assert "Path=/api/api-auth/cognito/" in cookie and "Secure" in cookie

        # WHEN the hosted UI sends the browser back there with a code
        code, state = fake.sign_in(location, mint(claims("id")))
        callback = rest_event(
            "GET",
            "/api-auth/cognito/callback/",
            "/api-auth/cognito/callback",
            headers={"Cookie": cookie.split(";")[0]},
            query={"code": [code], "state": [state]},
        )
        response = invoke(callback)

        # THEN the sign-in completes with a token
        assert response["statusCode"] == 200, body_of(response)
        assert body_of(response)["token"]
        assert "Path=/api/api-auth/cognito/" in header(response, "Set-Cookie")
