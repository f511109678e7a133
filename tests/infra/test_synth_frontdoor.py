"""The REST API front door (`-c api_type=rest`, cirrus_infra/routing.py), synthesised offline with a
custom domain and a web UI hosted elsewhere (one CORS origin): Chalice's REST API (stage `api`) routes
every path and verb to the API function's published alias `live`, answers what API Gateway answers
itself in DRF's shape, maps the custom domain at the root, and SAM's transform of it passes cfn-lint.
The functions' runtime is the same as with the HTTP API (the default: test_synth.py).

One synth for the module (test_synth.py's helper); the gateway responses' CORS choice is a function.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.test_synth import (
    CDK_DIR,
    CERTIFICATE,
    DOMAIN,
    FUNCTIONS,
    Synth,
    _assert_lint_clean,
    _functions,
    _synth,
    sam_transform,
)

pytestmark = pytest.mark.infra

HOMEPORT_URL = "https://ui.example.org"  # HomePort hosted elsewhere: the API's one CORS origin
# GetGatewayResponse's response types: every answer API Gateway may give on its own.
GATEWAY_RESPONSE_TYPES = {
    "DEFAULT_4XX", "DEFAULT_5XX", "RESOURCE_NOT_FOUND", "UNAUTHORIZED", "INVALID_API_KEY", "ACCESS_DENIED",
    "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR", "INVALID_SIGNATURE", "EXPIRED_TOKEN",
    "MISSING_AUTHENTICATION_TOKEN", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "API_CONFIGURATION_ERROR",
    "UNSUPPORTED_MEDIA_TYPE", "BAD_REQUEST_PARAMETERS", "BAD_REQUEST_BODY", "REQUEST_TOO_LARGE", "THROTTLED",
    "QUOTA_EXCEEDED", "WAF_FILTERED",
}  # fmt: skip
INTEGRATION = "x-amazon-apigateway-integration"
ANY_METHOD = "x-amazon-apigateway-any-method"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(
        tmp_path_factory.mktemp("synth-rest"),
        api_type="rest",
        domain_name=DOMAIN,
        certificate_arn=CERTIFICATE,
        homeport_url=HOMEPORT_URL,
    )


def _routing_module() -> Any:
    importlib.import_module("app")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(CDK_DIR))
        return importlib.import_module("cirrus_infra.routing")


def definition_body(synth: Synth) -> dict[str, Any]:
    _, api = synth.one("AWS::Serverless::Api")
    body: dict[str, Any] = api["Properties"]["DefinitionBody"]
    return body


def test_the_rest_api_is_chalices_with_its_stage_and_no_http_api(synth: Synth) -> None:
    api_id, api = synth.one("AWS::Serverless::Api")
    assert api["Properties"]["StageName"] == "api"
    assert "TracingEnabled" not in api["Properties"]  # no X-Ray
    assert not [
        r for r in synth.template["Resources"].values() if r["Type"].startswith("AWS::ApiGatewayV2::")
    ]
    outputs = synth.template["Outputs"]
    assert outputs["RestAPIId"]["Value"] == {"Ref": api_id}
    # Chalice's: the stage is a path prefix of the execute-api URL (the app reads it from the request
    # context to build its links).
    assert outputs["EndpointURL"]["Value"] == {
        "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"
    }
    assert "HttpApiId" not in outputs


def test_every_path_answers_every_verb_through_the_api_functions_alias(synth: Synth) -> None:
    """API Gateway pairs resource and method: a verb a resource lacks would fall through to the
    catch-all (a 404 where Waldur answers 405) or, with no match, to its 403 quoting the caller's
    Authorization header. So every path answers ANY, through the function's alias `live` (SnapStart
    restores published versions only), and an unknown path has the greedy `/{proxy+}`."""
    from app import app

    paths = definition_body(synth)["paths"]
    assert set(paths) == set(app.routes), "every route of the app is a path of the API, and no other"
    for path, item in paths.items():
        assert list(item) == [ANY_METHOD], path
        integration = item[ANY_METHOD][INTEGRATION]
        assert integration["type"] == "aws_proxy", path
        assert integration["uri"] == {
            "Fn::Sub": [
                "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                "${Alias}/invocations",
                {"Alias": {"Ref": "APIHandler.Alias"}},
            ]
        }, path
    catch_all = paths["/{proxy+}"][ANY_METHOD]
    assert catch_all["parameters"] == [{"name": "proxy", "in": "path", "required": True, "type": "string"}]
    assert "/" in paths  # a greedy variable takes at least one character: the root has its own path
    assert "/api/customers" in paths and "/api-auth/password" in paths
    (permission,) = synth.resources("AWS::Lambda::Permission").values()
    assert permission["Properties"]["FunctionName"] == {"Ref": "APIHandler.Alias"}


def test_api_gateways_own_answers_are_drf_shaped_quote_nothing_and_let_the_ui_read_them(
    synth: Synth,
) -> None:
    """API Gateway's default bodies are `{"message": $context.error.messageString}`, which for a route
    miss quotes the request's Authorization header. Every response type gets a fixed body; a route
    miss is Waldur's 404. They are in the definition, so SAM's redeployments keep them. With one
    allowed origin, a throttled or timed-out request reaches HomePort's page as its status, not as a
    CORS error."""
    responses = definition_body(synth)["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == GATEWAY_RESPONSE_TYPES
    for kind, response in responses.items():
        templates = response["responseTemplates"]
        assert list(templates) == ["application/json"], kind
        assert "$" not in templates["application/json"] and "detail" in json.loads(
            templates["application/json"]
        )
        parameters = response["responseParameters"]
        assert all("'" in value and "request" not in value for value in parameters.values())
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{HOMEPORT_URL}'", kind
        assert parameters["gatewayresponse.header.Vary"] == "'Origin'", kind
    for kind in ("MISSING_AUTHENTICATION_TOKEN", "RESOURCE_NOT_FOUND", "INVALID_SIGNATURE"):
        assert responses[kind]["statusCode"] == "404"
        assert json.loads(responses[kind]["responseTemplates"]["application/json"]) == {
            "detail": "Not found."
        }
    assert not synth.resources("AWS::ApiGateway::GatewayResponse")


def test_with_no_single_origin_api_gateways_own_answers_name_none() -> None:
    """A fixed header cannot name the right one of several origins (and reflecting Origin would allow
    any): API Gateway's own answers then carry no CORS header; the app's answers carry theirs."""
    routing = _routing_module()
    for response in routing.gateway_responses(None).values():
        assert not any("Access-Control" in name for name in response["responseParameters"])


def test_custom_domain_is_mapped_at_the_root_to_the_api_stage(synth: Synth) -> None:
    domain_id, domain = synth.one("AWS::ApiGateway::DomainName")
    assert domain["Properties"]["DomainName"] == DOMAIN
    assert domain["Properties"]["RegionalCertificateArn"] == CERTIFICATE
    _, mapping = synth.one("AWS::ApiGateway::BasePathMapping")
    # No base path: clients see https://<domain>/api/... and /api-auth/... (the stage name `api` is
    # dropped by the mapping and the routes themselves start with /api).
    assert mapping["Properties"]["BasePath"] == "(none)"
    assert mapping["Properties"]["DomainName"] == {"Ref": domain_id}
    # A reference to the SAM-generated stage, so the mapping waits for it.
    assert mapping["Properties"]["Stage"] == {"Ref": "RestAPI.Stage"}
    _, api = synth.one("AWS::Serverless::Api")
    assert api["Properties"]["EndpointConfiguration"] == "REGIONAL"
    for function in _functions(synth).values():
        assert function["Properties"]["Environment"]["Variables"]["CIRRUS_PUBLIC_URL"] == f"https://{DOMAIN}"
    target = synth.template["Outputs"]["CustomDomainTarget"]["Value"]
    assert target == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}


def test_functions_run_as_with_the_http_api(synth: Synth) -> None:
    functions = _functions(synth)
    for function_id, function in functions.items():
        props = function["Properties"]
        assert (props["Architectures"], props["Runtime"]) == (["arm64"], "python3.12"), function_id
        assert props.get("Tracing", "PassThrough") != "Active", function_id
    api = functions["APIHandler"]["Properties"]
    assert api["Handler"] == "app.api_handler"
    assert api["SnapStart"] == {"ApplyOn": "PublishedVersions"} and api["AutoPublishAlias"] == "live"


def test_sams_transform_invokes_the_alias_and_passes_cfn_lint(synth: Synth, tmp_path: Path) -> None:
    _assert_lint_clean(synth.path)
    transformed = sam_transform(synth.template)
    resources = transformed["Resources"]
    ((alias_id, alias),) = [(k, v) for k, v in resources.items() if v["Type"] == "AWS::Lambda::Alias"]
    assert alias["Properties"]["Name"] == "live"
    (rest_api,) = [v for v in resources.values() if v["Type"] == "AWS::ApiGateway::RestApi"]
    uris = {
        json.dumps(item[ANY_METHOD][INTEGRATION]["uri"])
        for item in rest_api["Properties"]["Body"]["paths"].values()
    }
    assert uris == {
        json.dumps(
            {
                "Fn::Sub": [
                    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                    "${Alias}/invocations",
                    {"Alias": {"Ref": alias_id}},
                ]
            }
        )
    }
    (permission,) = [v for v in resources.values() if v["Type"] == "AWS::Lambda::Permission"]
    assert permission["Properties"]["FunctionName"] == {"Ref": alias_id}
    assert {k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"} == FUNCTIONS
    path = tmp_path / "transformed.template.json"
    path.write_text(json.dumps(transformed))
    _assert_lint_clean(path)


@pytest.mark.parametrize(
    ("context", "api_type", "rate", "burst"),
    [
        ({}, "http", 500.0, 1000),
        ({"api_type": "rest", "api_throttle_rate": "20", "api_throttle_burst": "40"}, "rest", 20.0, 40),
    ],
)
def test_the_entry_point_reads_the_front_door_from_the_context(
    context: dict[str, str],
    api_type: str,
    rate: float,
    burst: int,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """`cdk synth -c api_type=rest -c api_throttle_rate=20 ...` (infra/cdk/app.py), without a synth: the
    stack it would build is recorded instead."""
    importlib.import_module("app")  # the repository's app.py, before infra/cdk's goes on sys.path
    monkeypatch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.syspath_prepend(str(CDK_DIR.parents[1]))
    monkeypatch.syspath_prepend(str(CDK_DIR))
    spec = importlib.util.spec_from_file_location("cirrus_cdk_entry_point", CDK_DIR / "app.py")
    assert spec and spec.loader
    entry_point = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry_point)
    app_class = entry_point.cdk.App
    # The context as `-c name=value` gives it (the CLI hands it to the app's process).
    monkeypatch.setattr(entry_point.cdk, "App", lambda: app_class(context=context, outdir=str(tmp_path)))
    built: list[Any] = []
    monkeypatch.setattr(entry_point, "CirrusStack", lambda *args, settings, **kwargs: built.append(settings))

    entry_point.main()

    (settings,) = built
    assert settings.api_type == api_type
    assert (settings.throttle.rate, settings.throttle.burst) == (rate, burst)
