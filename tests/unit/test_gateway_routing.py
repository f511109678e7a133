"""The API function's routing of HTTP API events (chalicelib/api/gateway.py): Chalice's route table
matched with API Gateway's rules, and the base path of the links from API Gateway's request context.

Functions only: no app is called here (tests/integration/test_api_gateway_events.py calls it)."""

from __future__ import annotations

import pytest

from chalicelib.api.gateway import Match, RouteTable, base_path, is_unrouted, to_rest_event

ROUTES = [
    "/",
    "/api/customers",
    "/api/customers/{uuid}",
    "/api/customers/{uuid}/users",
    "/api/customers/me",  # a literal beside a parameter, as API Gateway allows
    "/api/icons/{name}",
    "/{proxy+}",
]


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable(ROUTES)


def test_a_trailing_slash_is_dropped_before_matching(table):
    assert table.match("/api/customers/") == Match("/api/customers", {})
    assert table.match("/api/customers") == Match("/api/customers", {})
    assert table.match("/api/customers/abc/users/") == Match("/api/customers/{uuid}/users", {"uuid": "abc"})


def test_a_literal_segment_beats_a_parameter(table):
    assert table.match("/api/customers/me/") == Match("/api/customers/me", {})
    assert table.match("/api/customers/mee/") == Match("/api/customers/{uuid}", {"uuid": "mee"})


def test_the_greedy_route_takes_only_what_no_other_route_takes(table):
    deep = table.match("/api/customers/abc/no_such_action/")
    assert deep == Match("/{proxy+}", {"proxy": "api/customers/abc/no_such_action/"})
    assert table.match("/nothing") == Match("/{proxy+}", {"proxy": "nothing"})
    # an empty segment is no parameter's value: `//` is no customer
    assert table.match("/api/customers//users/") == Match("/{proxy+}", {"proxy": "api/customers//users/"})
    # a greedy variable takes at least one character: the bare root has its own route
    assert table.match("/") == Match("/", {})
    assert table.match("") == Match("/", {})


def test_a_deeper_greedy_route_wins_over_a_shallower_one():
    table = RouteTable(["/{proxy+}", "/api/{rest+}", "/api/customers"])
    assert table.match("/api/customers/") == Match("/api/customers", {})
    assert table.match("/api/x/y") == Match("/api/{rest+}", {"rest": "x/y"})
    assert table.match("/other/x") == Match("/{proxy+}", {"proxy": "other/x"})


def test_without_a_catch_all_an_unknown_path_matches_nothing():
    table = RouteTable(["/api/customers", "/api/customers/{uuid}"])
    assert table.match("/api/projects/") is None
    assert table.match("/api/customers/abc/users") is None


def test_a_failed_literal_branch_falls_back_to_the_parameter():
    table = RouteTable(["/a/b/c", "/a/{x}/d"])
    assert table.match("/a/b/d") == Match("/a/{x}/d", {"x": "b"})


def test_encoded_segments_are_decoded_only_when_asked(table):
    # a REST API (and the local server) sees the path encoded and decodes parameters, as API Gateway
    # does; an HTTP API delivers it decoded already
    decoded = table.match("/api/icons/site%20logo/", decode=True)
    assert decoded == Match("/api/icons/{name}", {"name": "site logo"})
    assert table.match("/api/icons/100%25/") == Match("/api/icons/{name}", {"name": "100%25"})


def test_the_apps_own_table_routes_waldur_paths():
    from app import app

    table = RouteTable(list(app.routes))
    assert table.match("/api/customers/").route == "/api/customers"  # type: ignore[union-attr]
    uuid = "0190a1b2c3d4e5f60718293a4b5c6d7e"
    found = table.match(f"/api/customers/{uuid}/")
    assert found == Match("/api/customers/{uuid}", {"uuid": uuid})
    assert table.match("/api/no-such-collection/").route == "/{proxy+}"  # type: ignore[union-attr]
    assert table.match("/api-auth/password/").route == "/api-auth/password"  # type: ignore[union-attr]


# --- events ---------------------------------------------------------------------------------------
def http_api_event(path: str) -> dict:
    """What an HTTP API's `$default` route sends with payload format 1.0 (a real capture's shape)."""
    return {
        "version": "1.0",
        "resource": "$default",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.eu-west-1.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.eu-west-1.amazonaws.com"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {
            "httpMethod": "GET",
            "path": path,
            "resourceId": "$default",
            "resourcePath": "$default",
            "stage": "$default",
            "identity": {"sourceIp": "198.51.100.7"},
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
    }


def test_an_http_api_event_gets_the_route_and_its_parameters(table):
    event = http_api_event("/api/customers/abc/")
    assert is_unrouted(event)
    routed = to_rest_event(event, table)
    assert routed is not None
    assert routed["requestContext"]["resourcePath"] == routed["resource"] == "/api/customers/{uuid}"
    assert routed["pathParameters"] == {"uuid": "abc"}
    assert routed["path"] == "/api/customers/abc/"
    assert routed["requestContext"]["identity"] == {"sourceIp": "198.51.100.7"}
    assert event["requestContext"]["resourcePath"] == "$default"  # the event itself is left alone


def test_a_route_without_parameters_gets_none_as_a_rest_api_sends(table):
    routed = to_rest_event(http_api_event("/api/customers/"), table)
    assert routed is not None and routed["pathParameters"] is None


def test_a_rest_api_event_is_not_rerouted():
    event = {
        "resource": "/api/customers",
        "requestContext": {"resourcePath": "/api/customers", "stage": "api"},
    }
    assert not is_unrouted(event)


def test_payload_format_2_is_refused_loudly(table):
    with pytest.raises(ValueError, match=r"format 2\.0 is not supported"):
        to_rest_event({"version": "2.0", "rawPath": "/api/customers/", "requestContext": {}}, table)


# --- the links' base path -------------------------------------------------------------------------
def test_the_rest_apis_stage_prefixes_its_execute_api_urls():
    context = {"stage": "api", "path": "/api/api/customers/"}
    assert base_path(context, "/api/customers/") == "/api"


def test_the_http_apis_default_stage_adds_nothing():
    assert base_path({"stage": "$default", "path": "/api/customers/"}, "/api/customers/") == ""


def test_no_stage_no_prefix():
    # chalice's test client and the local server send no stage
    assert base_path({}, "/api/customers/") == "" == base_path(None, None)


def test_a_custom_domain_mapped_at_the_root_adds_nothing_and_a_base_path_mapping_its_path():
    # through a custom domain, the context's path is what the client called: no stage in it
    assert base_path({"stage": "api", "path": "/api/customers/"}, "/api/customers/") == ""
    assert base_path({"stage": "api", "path": "/v1/api/customers/"}, "/api/customers/") == "/v1"


def test_without_the_requested_path_the_stage_name_is_the_prefix():
    assert base_path({"stage": "prod"}, "/api/customers/") == "/prod"
    assert base_path({"stage": "api", "path": "/api/api/customers/"}, "/api/projects/") == "/api"


def test_the_root_under_a_stage():
    assert base_path({"stage": "api", "path": "/api/"}, "/") == "/api"


def test_nothing_but_a_plain_path_is_taken_for_a_prefix():
    # whatever precedes the route's path must look like a base path; else the stage, if plain
    odd = {"stage": "api", "path": "//evil.example/api/customers/"}
    assert base_path(odd, "/api/customers/") == "/api"
    assert base_path({"stage": "a b", "path": "x"}, "/api/customers/") == ""
