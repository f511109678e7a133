"""The CDK app, synthesised offline: the table matches `store/schema.py`, the API function gets the
table and the rights to use it, the work queues, workflows and schedules match the runtime's registries
(`workflows/registry.py`, `statemachines/`, `workflows/schedules.py`), the consumers read their queues,
the events publisher reads the table's stream (event inserts only) and puts events on the archived bus,
every role is scoped to Cirrus's own resources, the HTTP API front door invokes the API function's
published alias (SnapStart), every function runs arm64 Python 3.12 without X-Ray, and cfn-lint finds
no errors in the template CloudFormation would get (and SAM's transform of it: aws-sam-translator).
(The REST API front door, `-c api_type=rest`: test_synth_frontdoor.py.)

One synth per stack variant (module-scoped fixtures). Chalice packages a copy of the app with an empty
requirements.txt during synth (the stack does, bundle.py) and the fixture builds the code bundle
without third-party packages, so pip never runs and no network is used.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api import hosts
from chalicelib.config import Settings
from chalicelib.domain.roles import SYSTEM_ROLES
from chalicelib.store import counters, schema
from chalicelib.store.items import (
    AggregateItem,
    CounterItem,
    EventItem,
    FeedEntryItem,
    FoldItem,
    GrantItem,
    ProjectItem,
    TallyItem,
    UserItem,
)
from chalicelib.workflows import registry, stepfunctions
from chalicelib.workflows.consumer import LEASE
from chalicelib.workflows.envelope import TaskEnvelope
from chalicelib.workflows.publisher import DISPATCH_TASK, SOURCE, follow_up_tasks, wanted
from chalicelib.workflows.registry import BACKGROUND_QUEUE, QUEUES, TASKS_QUEUE
from chalicelib.workflows.schedules import SCHEDULES

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
CDK_DIR = REPO / "infra" / "cdk"
DOMAIN = "cirrus.example.org"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
EMAIL_FROM = "cirrus@example.org"
# The second synth's external support desk (`-c support_backend`, `-c support_backend_secret_arn`).
SUPPORT_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cirrus/support-jira-AbC123"
ALARM_TOPIC = "arn:aws:sns:eu-west-1:123456789012:cirrus-alarms"
MAX_RECEIVES = 3
PREFIX = "cirrus-test"  # resources are named `cirrus-<stage>-<name>`
# app.py's `@app.on_sqs_message(name="<queue>_worker")` functions, as Chalice names them in SAM.
WORKERS = {"tasks": "TasksWorker", "heavy": "HeavyWorker", "background": "BackgroundWorker"}
# app.py's `@app.on_dynamodb_record(name="events_publisher")`, the audit log's publisher.
PUBLISHER = "EventsPublisher"
FUNCTIONS = {"APIHandler", *WORKERS.values(), PUBLISHER}
# The HTTP API's default route limits in the second synth (`-c api_throttle_rate`, `..._burst`).
THROTTLE_RATE, THROTTLE_BURST = 50.0, 100
# Non-default event settings for the second synth (`-c event_retention_days`, `-c event_archive_days`).
RETENTION_DAYS = 90
ARCHIVE_DAYS = 0  # keep the archive indefinitely
EXECUTION_ID = "<aws.scheduler.execution-id>"


@dataclass
class Synth:
    template: dict[str, Any]
    path: Path

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def one(self, type_: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(type_)
        assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
        return next(iter(found.items()))

    def named(self, type_: str, name_property: str, name: str) -> tuple[str, dict[str, Any]]:
        found = [
            (k, v) for k, v in self.resources(type_).items() if v["Properties"].get(name_property) == name
        ]
        assert len(found) == 1, f"expected one {type_} with {name_property}={name!r}, found {found}"
        return found[0]

    def queue(self, name: str) -> tuple[str, dict[str, Any]]:
        return self.named("AWS::SQS::Queue", "QueueName", name)

    def role_statements(self, role_id: str) -> list[dict[str, Any]]:
        """Every statement the role gets: inline policies and the AWS::IAM::Policy resources naming it."""
        role = self.template["Resources"][role_id]
        statements = [
            st for p in role["Properties"].get("Policies", []) for st in p["PolicyDocument"]["Statement"]
        ]
        for policy in self.resources("AWS::IAM::Policy").values():
            if role_id in json.dumps(policy["Properties"]["Roles"]):
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        return statements


def _synth(workdir: Path, **settings: Any) -> Synth:
    """`settings`: StackSettings' fields; `throttle` may be given as a dict (Throttle's fields)."""
    # Chalice imports the module `app` to read the routes; have it find the repository's (the same
    # source as the copy it packages) rather than import a second `app` from the copy. Import it before
    # infra/cdk, which holds the CDK entry point app.py, goes on sys.path.
    assert Path(importlib.import_module("app").__file__ or "") == REPO / "app.py"
    saved_environ = dict(os.environ)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # `chalice package` needs a region
            mp.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
            # Restores sys.path afterwards, including the entry Chalice inserts for the source dir.
            mp.syspath_prepend(str(CDK_DIR))
            mp.chdir(workdir)  # chalice.cdk writes its packages into ./chalice.out

            import aws_cdk as cdk
            from aws_cdk.assertions import Template

            from cirrus_infra import CirrusStack, StackSettings
            from cirrus_infra.bundle import BundleSpec
            from cirrus_infra.frontdoor import Throttle

            if isinstance(settings.get("throttle"), dict):
                settings["throttle"] = Throttle(**settings["throttle"])
            app = cdk.App(outdir=str(workdir / "cdk.out"))
            # The code bundle without third-party packages (no pip), shared by the session's synths.
            settings.setdefault("bundle", BundleSpec(requirements=None, cache_dir=workdir.parent / "bundles"))
            stack = CirrusStack(app, "cirrus-test", settings=StackSettings(stage="test", **settings))
            template = dict(Template.from_stack(stack).to_json())
            path = Path(app.synth().get_stack_by_name(stack.stack_name).template_full_path)
    finally:
        # Chalice's packager copies the stage's environment variables (CDK tokens) into os.environ.
        os.environ.clear()
        os.environ.update(saved_environ)
    return Synth(template, path)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="module")
def synth_with_domain(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack with its options set (a second synth is the expensive part, so one covers them all)."""
    return _synth(
        tmp_path_factory.mktemp("synth-domain"),
        domain_name=DOMAIN,
        certificate_arn=CERTIFICATE,
        queue_max_receives=MAX_RECEIVES,
        alarm_topic_arn=ALARM_TOPIC,
        email_from=EMAIL_FROM,
        event_retention_days=RETENTION_DAYS,
        event_archive_days=ARCHIVE_DAYS,
        throttle={"rate": THROTTLE_RATE, "burst": THROTTLE_BURST},
        support_backend="jira",
        support_backend_secret_arn=SUPPORT_SECRET_ARN,
    )


def _cfn_lint(template: Path) -> tuple[int, list[dict[str, Any]]]:
    executable = Path(sys.executable).with_name("cfn-lint")
    command = str(executable) if executable.exists() else shutil.which("cfn-lint")
    assert command, "cfn-lint is not installed (pip install -e '.[infra]')"
    done = subprocess.run(
        [command, "--format", "json", "--", str(template)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        matches = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        pytest.fail(f"cfn-lint exited {done.returncode}: {done.stdout}\n{done.stderr}")
    return done.returncode, matches


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """The template as CloudFormation runs it: SAM's transform (aws-sam-translator, offline: the
    functions' roles are Chalice's own, so no managed policy is looked up)."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        transformed: dict[str, Any] = transform(json.loads(json.dumps(template)), {}, NoManagedPolicies())
    return transformed


def _assert_lint_clean(template: Path) -> None:
    # cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational (1: it failed to run).
    # Warnings and informational findings don't fail the build; errors do.
    code, matches = _cfn_lint(template)
    errors = [m for m in matches if m["Level"] == "Error"]
    assert not errors and code & ~(4 | 8) == 0, json.dumps(errors or matches, indent=1)


# The table ------------------------------------------------------------------------------------------


def _by(key: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item[key])


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def test_table_keys_and_indexes_are_the_schema_modules(synth: Synth) -> None:
    expected = schema.create_table_request("x")
    _, table = synth.one("AWS::DynamoDB::Table")
    props = table["Properties"]

    assert props["KeySchema"] == expected["KeySchema"]
    assert _by("AttributeName", props["AttributeDefinitions"]) == _by(
        "AttributeName", expected["AttributeDefinitions"]
    )
    assert _by("IndexName", props["GlobalSecondaryIndexes"]) == _by(
        "IndexName", expected["GlobalSecondaryIndexes"]
    )
    assert props["BillingMode"] == expected["BillingMode"]
    assert props["StreamSpecification"] == {
        "StreamViewType": expected["StreamSpecification"]["StreamViewType"]
    }
    assert "ProvisionedThroughput" not in props


def test_table_ttl_recovery_and_retention(synth: Synth) -> None:
    _, table = synth.one("AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


# The API --------------------------------------------------------------------------------------------


def _functions(synth: Synth) -> dict[str, dict[str, Any]]:
    functions = synth.resources("AWS::Serverless::Function") or synth.resources("AWS::Lambda::Function")
    assert set(functions) == FUNCTIONS, sorted(functions)
    return functions


def _api_function(synth: Synth) -> tuple[str, dict[str, Any]]:
    return "APIHandler", _functions(synth)["APIHandler"]


def test_api_function_is_configured_for_the_table(synth: Synth) -> None:
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    _, function = _api_function(synth)
    props = function["Properties"]

    assert props["Handler"] == "app.api_handler"  # the gateway adapter (HTTP API and REST events)
    variables = props["Environment"]["Variables"]
    assert variables["CIRRUS_TABLE_NAME"] == {"Ref": table_id}
    assert variables["CIRRUS_STAGE"] == "test"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "cirrus"
    assert props["Role"] == {"Fn::GetAtt": ["DefaultRole", "Arn"]}
    assert props["Timeout"] == 29  # API Gateway's integration timeout
    # The code is the CDK asset, not a local path SAM would try to upload.
    assert set(props["CodeUri"]) == {"Bucket", "Key"}
    # Logs go to a group that expires them.
    log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert synth.template["Resources"][log_group_id]["Properties"]["RetentionInDays"] > 0


def test_every_function_finds_the_queues_and_state_machines(synth: Synth) -> None:
    """What queues.py and stepfunctions.py read: the API enqueues and starts workflows as the workers do
    (the stage's environment is shared by all functions)."""
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    expected: dict[str, Any] = {
        "CIRRUS_TABLE_NAME": {"Ref": table_id},
        "CIRRUS_STAGE": "test",
        "POWERTOOLS_SERVICE_NAME": "cirrus",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "CIRRUS_RESOURCE_PREFIX": PREFIX,
        # The bus the publisher puts events on; the events' TTL, which the API writes.
        "CIRRUS_EVENT_BUS_NAME": {"Ref": synth.named("AWS::Events::EventBus", "Name", f"{PREFIX}-events")[0]},
        "CIRRUS_EVENT_RETENTION_DAYS": str(Settings().event_retention_days),
        # The Host headers the API answers: its execute-api names (a public URL's host is allowed by
        # the app itself, chalicelib/api/hosts.py).
        "CIRRUS_ALLOWED_HOSTS": EXECUTE_API_HOSTS,
        # Where the publisher puts the stream records it can never publish.
        "CIRRUS_DLQ_URL_PUBLISHER": {"Ref": synth.queue(f"{PREFIX}-events-publisher-dlq")[0]},
        # Where support attachments are stored (test_synth_files.py).
        "CIRRUS_ATTACHMENTS_BUCKET": {
            "Ref": next(k for k in synth.resources("AWS::S3::Bucket") if k.startswith("Attachments"))
        },
        # Where the analytics export goes (test_the_export_bucket_*).
        "CIRRUS_EXPORT_BUCKET": {
            "Ref": next(k for k in synth.resources("AWS::S3::Bucket") if k.startswith("AnalyticsExport"))
        },
    }
    for queue in QUEUES:
        expected[f"CIRRUS_QUEUE_URL_{queue.upper()}"] = {"Ref": synth.queue(f"{PREFIX}-{queue}")[0]}
        expected[f"CIRRUS_DLQ_URL_{queue.upper()}"] = {"Ref": synth.queue(f"{PREFIX}-{queue}-dlq")[0]}
    for name in stepfunctions.names():
        machine_id, _ = synth.named(
            "AWS::StepFunctions::StateMachine", "StateMachineName", f"{PREFIX}-{name}"
        )
        expected[f"CIRRUS_STATE_MACHINE_ARN_{name.upper()}"] = {"Ref": machine_id}
    # The user pool whose bearer JWTs the API accepts (test_synth_auth.py: with identity providers).
    expected.update(cognito_environment(synth))
    for function_id, function in _functions(synth).items():
        assert function["Properties"]["Environment"]["Variables"] == expected, function_id


EXECUTE_API_HOSTS = {
    "Fn::Join": ["", [".execute-api.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]
}


def cognito_environment(synth: Synth) -> dict[str, Any]:
    """The Cognito settings every function gets (chalicelib.config.CognitoSettings)."""
    region = {"Ref": "AWS::Region"}
    domain = {"Ref": synth.one("AWS::Cognito::UserPoolDomain")[0]}
    return {
        "CIRRUS_COGNITO_USER_POOL_ID": {"Ref": synth.one("AWS::Cognito::UserPool")[0]},
        "CIRRUS_COGNITO_CLIENT_ID": {"Ref": synth.one("AWS::Cognito::UserPoolClient")[0]},
        "CIRRUS_COGNITO_REGION": region,
        "CIRRUS_COGNITO_DOMAIN": {
            "Fn::Join": ["", ["https://", domain, ".auth.", region, ".amazoncognito.com"]]
        },
    }


def test_no_web_ui_is_hosted_or_allowed_by_default(synth: Synth) -> None:
    """HomePort on AWS is opt-in (`-c homeport_dir=...`, test_synth_webui.py); without it no bucket,
    no distribution, and the API allows no other origin (CORS)."""
    buckets = synth.resources("AWS::S3::Bucket")
    # only the support attachments' and the analytics export's
    assert [k for k in buckets if not k.startswith(("Attachments", "AnalyticsExport"))] == []
    assert not synth.resources("AWS::CloudFront::Distribution")
    assert "HomePortUrl" not in synth.template["Outputs"]
    for function in _functions(synth).values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert "CIRRUS_CORS_ALLOWED_ORIGINS" not in variables and "CIRRUS_HOMEPORT_URL" not in variables


def http_api_url(synth: Synth) -> dict[str, Any]:
    """The HTTP API's own base URL (`EndpointURL`): no stage prefix."""
    api_id, _ = synth.one("AWS::ApiGatewayV2::Api")
    region, suffix = {"Ref": "AWS::Region"}, {"Ref": "AWS::URLSuffix"}
    return {"Fn::Join": ["", ["https://", {"Ref": api_id}, ".execute-api.", region, ".", suffix, "/"]]}


def test_the_http_api_sends_every_request_to_the_api_functions_alias(synth: Synth) -> None:
    """The default front door: an HTTP API whose `$default` route (every path and verb, OPTIONS too:
    the app answers CORS) goes to a Lambda proxy integration with payload 1.0 (the shape Chalice reads),
    invoking the function's published alias `live`, which only this API may invoke."""
    api_id, api = synth.one("AWS::ApiGatewayV2::Api")
    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert "CorsConfiguration" not in api["Properties"]  # preflights reach the app's middleware
    assert api["Properties"].get("DisableExecuteApiEndpoint", False) is False  # EndpointURL works
    integration_id, integration = synth.one("AWS::ApiGatewayV2::Integration")
    assert integration["Properties"] == {
        "ApiId": {"Ref": api_id},
        "IntegrationType": "AWS_PROXY",
        "IntegrationUri": {"Ref": "APIHandler.Alias"},  # SAM resolves it (see the transform test)
        "PayloadFormatVersion": "1.0",
        "TimeoutInMillis": 30_000,
    }
    _, function = _api_function(synth)
    assert function["Properties"]["Timeout"] * 1000 < integration["Properties"]["TimeoutInMillis"]
    (route,) = synth.resources("AWS::ApiGatewayV2::Route").values()
    assert route["Properties"] == {
        "ApiId": {"Ref": api_id},
        "RouteKey": "$default",
        "Target": {"Fn::Join": ["/", ["integrations", {"Ref": integration_id}]]},
    }
    assert "AuthorizationType" not in route["Properties"]  # the app authenticates (tokens, sessions)
    (permission,) = synth.resources("AWS::Lambda::Permission").values()
    props = permission["Properties"]
    assert props["FunctionName"] == {"Ref": "APIHandler.Alias"}  # not $LATEST
    assert props["Principal"] == "apigateway.amazonaws.com" and props["Action"] == "lambda:InvokeFunction"
    source = props["SourceArn"]["Fn::Join"][1]
    assert source[-2:] == [{"Ref": api_id}, "/*/*"] and ":execute-api:" in source
    # Chalice's REST API, its permission and outputs are gone.
    assert not synth.resources("AWS::Serverless::Api")
    types = {resource["Type"] for resource in synth.template["Resources"].values()}
    assert not [t for t in types if t.startswith("AWS::ApiGateway::")]


def test_the_default_stage_is_throttled_and_access_logged(synth: Synth, synth_with_domain: Synth) -> None:
    for s, (rate, burst) in ((synth, (500.0, 1000)), (synth_with_domain, (THROTTLE_RATE, THROTTLE_BURST))):
        api_id, _ = s.one("AWS::ApiGatewayV2::Api")
        _, stage = s.one("AWS::ApiGatewayV2::Stage")
        props = stage["Properties"]
        assert props["ApiId"] == {"Ref": api_id}
        assert props["StageName"] == "$default" and props["AutoDeploy"] is True  # no path prefix
        assert props["DefaultRouteSettings"] == {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
        log_group_id = props["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
        group = s.template["Resources"][log_group_id]["Properties"]
        assert group["RetentionInDays"] > 0
        # Half the ingestion price; read with Logs Insights (no metric filter needs it).
        assert group["LogGroupClass"] == "INFREQUENT_ACCESS"


def test_functions_log_json_without_lambdas_per_invocation_lines_at_the_stage_log_level(synth: Synth) -> None:
    """Every function logs JSON; Lambda's START/END/REPORT lines (INFO, ~300 B per invocation of
    ingestion) are off, its warnings and errors kept; the app logs at WARNING unless told INFO."""
    for function_id, function in _functions(synth).items():
        props = function["Properties"]
        assert props["LoggingConfig"]["LogFormat"] == "JSON", function_id
        assert props["LoggingConfig"]["SystemLogLevel"] == "WARN", function_id
        assert props["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "WARNING", function_id


def test_log_level_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    monkeypatch.syspath_prepend(str(CDK_DIR))
    import aws_cdk as cdk

    from cirrus_infra import CirrusStack, StackSettings

    with pytest.raises(ValueError, match="log_level"):
        CirrusStack(cdk.App(), "cirrus-bad", settings=StackSettings(log_level="LOUD"))


# HTTP API access log variables (API Gateway developer guide, "Customize HTTP API access logs") whose
# value cannot hold any part of the query string, with their value for a request to
# `GET /api/customers/?token=SECRET`. Not here, so refused: `$context.integrationErrorMessage` and
# `$context.integration.error` (the function's error text, which may quote its input),
# `$context.authorizer.*` and `$context.identity.*` other than these (none configured).
QUERY_FREE_LOG_VARIABLES = {
    "$context.requestId": "Id1",
    "$context.extendedRequestId": "Id1",
    "$context.identity.sourceIp": "203.0.113.9",
    "$context.identity.userAgent": "curl/8.5",
    "$context.requestTime": "06/Dec/2026:02:00:00 +0000",
    "$context.requestTimeEpoch": "1796436000000",
    "$context.httpMethod": "GET",
    "$context.path": "/api/customers/",  # the path alone
    "$context.routeKey": "$default",
    "$context.stage": "$default",
    "$context.protocol": "HTTP/1.1",
    "$context.domainName": "a1b2.execute-api.eu-west-1.amazonaws.com",
    "$context.status": "200",
    "$context.responseLength": "2",
    "$context.responseLatency": "41",
    "$context.integration.status": "200",
    "$context.integration.integrationStatus": "200",
    "$context.integration.latency": "38",
    "$context.integrationLatency": "38",
    "$context.error.message": "-",  # API Gateway's own fixed messages ("Too Many Requests"...)
}


def test_the_access_log_never_holds_the_query_string(synth: Synth) -> None:
    """Tokens may travel in the query string (`?token=`, the Cognito callback's `code`): the access
    log has only fields that cannot carry it, one JSON object per request."""
    _, stage = synth.one("AWS::ApiGatewayV2::Stage")
    log_format = stage["Properties"]["AccessLogSettings"]["Format"]
    used = set(re.findall(r"\$context\.[A-Za-z0-9_.]*[A-Za-z0-9]", log_format))
    assert used and used <= set(QUERY_FREE_LOG_VARIABLES), used - set(QUERY_FREE_LOG_VARIABLES)
    line = log_format
    for variable in sorted(used, key=len, reverse=True):  # `$context.integration.status` first
        line = line.replace(variable, QUERY_FREE_LOG_VARIABLES[variable])
    entry = json.loads(line)
    assert "SECRET" not in line and "token" not in line
    # What an operator looks for in it.
    assert {"requestId", "ip", "method", "path", "status", "latency"} <= set(entry)
    assert entry["path"] == "/api/customers/"


def test_every_function_runs_arm64_python_312_without_xray(synth: Synth) -> None:
    """Graviton (cheaper per GB-s) and Python 3.12 (SnapStart, the bundle's bytecode); X-Ray is off:
    no active tracing, no trace rights on any role, no traced state machine."""
    for function_id, function in _functions(synth).items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"], function_id
        assert props["Runtime"] == "python3.12", function_id
        assert props.get("Tracing", "PassThrough") != "Active", function_id
    for role_id in synth.resources("AWS::IAM::Role"):
        for statement in synth.role_statements(role_id):
            assert not any(a.startswith("xray:") for a in _actions(statement)), (role_id, statement)
    for machine in synth.resources("AWS::StepFunctions::StateMachine").values():
        assert not machine["Properties"].get("TracingConfiguration", {}).get("Enabled", False)


def test_snapstart_and_the_published_alias_are_on_the_api_function_only(synth: Synth) -> None:
    """The API function is restored from a snapshot of a published version (SnapStart), which its alias
    `live` names; SAM publishes a new version at any change of the function. The consumers' event
    source mappings stay on $LATEST."""
    functions = _functions(synth)
    api = functions.pop("APIHandler")["Properties"]
    assert api["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert api["AutoPublishAlias"] == "live"
    assert api["AutoPublishAliasAllProperties"] is True
    assert api["VersionDeletionPolicy"] == "Delete"  # a replaced version's snapshot is not kept
    for function_id, function in functions.items():
        props = function["Properties"]
        assert "SnapStart" not in props and "AutoPublishAlias" not in props, function_id


def test_sams_transform_publishes_the_version_and_alias_the_api_invokes(synth: Synth, tmp_path: Path) -> None:
    """What CloudFormation runs (SAM's transform): one version of the API function and the alias
    `live` on it, which the integration and the permission name; the consumers' event source mappings
    name the functions themselves ($LATEST). And cfn-lint finds no error in it either."""
    transformed = sam_transform(synth.template)
    resources = transformed["Resources"]

    def of_type(type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in resources.items() if v["Type"] == type_}

    ((version_id, version),) = of_type("AWS::Lambda::Version").items()
    assert version["Properties"]["FunctionName"] == {"Ref": "APIHandler"}
    ((alias_id, alias),) = of_type("AWS::Lambda::Alias").items()
    assert alias["Properties"] == {
        "Name": "live",
        "FunctionName": {"Ref": "APIHandler"},
        "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
    }
    (integration,) = of_type("AWS::ApiGatewayV2::Integration").values()
    assert integration["Properties"]["IntegrationUri"] == {"Ref": alias_id}
    (permission,) = of_type("AWS::Lambda::Permission").values()
    assert permission["Properties"]["FunctionName"] == {"Ref": alias_id}
    function = resources["APIHandler"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert function["Architectures"] == ["arm64"] and function["Runtime"] == "python3.12"
    mappings = of_type("AWS::Lambda::EventSourceMapping").values()
    assert sorted(json.dumps(m["Properties"]["FunctionName"]) for m in mappings) == sorted(
        json.dumps({"Ref": f}) for f in FUNCTIONS - {"APIHandler"}
    )
    path = tmp_path / "transformed.template.json"
    path.write_text(json.dumps(transformed))
    _assert_lint_clean(path)


def test_the_user_pool_returns_to_the_http_apis_url(synth: Synth) -> None:
    """Without a public URL, the hosted UI's callback is the HTTP API's own (no stage prefix), where
    the app computes it from the Host header (chalicelib/api/cognito.py)."""
    _, client = synth.one("AWS::Cognito::UserPoolClient")
    url = http_api_url(synth)["Fn::Join"][1][:-1]
    assert client["Properties"]["CallbackURLs"] == [{"Fn::Join": ["", [*url, "/api-auth/cognito/callback/"]]}]
    assert client["Properties"]["LogoutURLs"] == [{"Fn::Join": ["", [*url, "/"]]}]


def test_the_api_type_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    monkeypatch.syspath_prepend(str(CDK_DIR))
    import aws_cdk as cdk

    from cirrus_infra import CirrusStack, StackSettings

    with pytest.raises(ValueError, match="api_type"):
        CirrusStack(cdk.App(), "cirrus-bad", settings=StackSettings(api_type="websocket"))


def test_api_role_may_read_and_write_the_table_and_its_indexes(synth: Synth) -> None:
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}
    needed = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    needed |= {"dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"}

    granting = []
    for policy_id, policy in synth.resources("AWS::IAM::Policy").items():
        if "DefaultRole" not in json.dumps(policy["Properties"]["Roles"]):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = json.dumps(statement["Resource"])
            if statement["Effect"] == "Allow" and json.dumps(table_arn) in resources:
                assert "/index/*" in resources  # GSI queries need the index ARNs too
                granting.append((policy_id, set(actions)))
    assert granting, "no IAM policy on DefaultRole grants access to the table"
    granted = set().union(*(actions for _, actions in granting))
    assert needed <= granted
    assert "dynamodb:Scan" not in granted  # a request never scans the table

    # The functions are created only after their table access is in place.
    for function_id, function in _functions(synth).items():
        if function_id == PUBLISHER:  # its own role, which has no table access (it reads the stream)
            assert function["Properties"]["Role"] != {"Fn::GetAtt": ["DefaultRole", "Arn"]}
            continue
        assert {policy_id for policy_id, _ in granting} <= set(function.get("DependsOn", []))


def test_outputs(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    # The base URL clients use: the HTTP API's own, no stage prefix.
    assert outputs["EndpointURL"]["Value"] == http_api_url(synth)
    assert outputs["HttpApiId"]["Value"] == {"Ref": synth.one("AWS::ApiGatewayV2::Api")[0]}
    assert "RestAPIId" not in outputs
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    assert outputs["TableName"]["Value"] == {"Ref": table_id}
    # What an operator needs to redrive a dead-letter queue or list a workflow's executions.
    for queue in QUEUES:
        dlq_id, _ = synth.queue(f"{PREFIX}-{queue}-dlq")
        assert outputs[f"{queue.capitalize()}DeadLetterQueueArn"]["Value"] == _arn(dlq_id)
    machines = synth.resources("AWS::StepFunctions::StateMachine")
    machine_outputs = [o["Value"] for k, o in outputs.items() if k.endswith("StateMachineArn")]
    assert sorted(json.dumps(v) for v in machine_outputs) == sorted(json.dumps({"Ref": m}) for m in machines)


def test_template_passes_cfn_lint(synth: Synth) -> None:
    assert synth.template.get("Transform") == "AWS::Serverless-2016-10-31"
    _assert_lint_clean(synth.path)


def test_cfn_lint_sees_inside_the_sam_function(synth: Synth, tmp_path: Path) -> None:
    """The lint above is only worth something if cfn-lint expands the SAM transform and reports errors
    in what comes out of it: break the function and expect an error-level finding."""
    broken = json.loads(synth.path.read_text())
    broken["Resources"]["APIHandler"]["Properties"]["MemorySize"] = "lots"
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken))
    code, matches = _cfn_lint(path)
    assert code & 2, matches
    assert any(m["Level"] == "Error" and "APIHandler" in json.dumps(m) for m in matches), matches


# Work queues ----------------------------------------------------------------------------------------


def test_each_queue_has_a_dead_letter_queue(synth: Synth) -> None:
    worker_timeouts = {q: _functions(synth)[WORKERS[q]]["Properties"]["Timeout"] for q in QUEUES}
    for queue in QUEUES:
        _, source = synth.queue(f"{PREFIX}-{queue}")
        dlq_id, dlq = synth.queue(f"{PREFIX}-{queue}-dlq")
        props = source["Properties"]
        # As the local stack builds them: redrive after the runtime's default number of receives.
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": _arn(dlq_id),
            "maxReceiveCount": Settings().queue_max_receives,
        }
        assert Settings().queue_max_receives == 5
        # AWS guidance for a Lambda event source; and a worker never outlives its idempotency claim, so
        # a redelivery never overtakes a worker that still runs.
        assert 6 * worker_timeouts[queue] <= props["VisibilityTimeout"]
        assert worker_timeouts[queue] <= LEASE.total_seconds()
        assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
        for q in (props, dlq["Properties"]):
            assert q["SqsManagedSseEnabled"] is True  # encrypted, without a KMS key to grant
            assert "KmsMasterKeyId" not in q


def _alarms_on(synth: Synth, metric: str, queue_id: str) -> list[dict[str, Any]]:
    return [
        alarm["Properties"]
        for alarm in synth.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == metric
        and alarm["Properties"].get("Namespace") == "AWS/SQS"
        and alarm["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    ]


def test_alarms_on_dead_letter_depth_and_queue_age(synth: Synth) -> None:
    dead_letter_queues = [f"{PREFIX}-{queue}-dlq" for queue in QUEUES] + [f"{PREFIX}-schedules-dlq"]
    for name in dead_letter_queues:
        [depth] = _alarms_on(synth, "ApproximateNumberOfMessagesVisible", synth.queue(name)[0])
        assert depth["ComparisonOperator"] == "GreaterThanThreshold"
        assert depth["Threshold"] == 0  # a single dead letter pages
    thresholds = {}
    for queue in QUEUES:
        [age] = _alarms_on(synth, "ApproximateAgeOfOldestMessage", synth.queue(f"{PREFIX}-{queue}")[0])
        assert age["ComparisonOperator"] == "GreaterThanThreshold"
        thresholds[queue] = age["Threshold"]
    assert thresholds == {"tasks": 15 * 60, "heavy": 3600, "background": 3600}


# Queue consumers ------------------------------------------------------------------------------------


def test_each_worker_consumes_its_queue_with_partial_batch_failures(synth: Synth) -> None:
    functions = _functions(synth)
    for queue, worker in WORKERS.items():
        props = functions[worker]["Properties"]
        assert props["Handler"] == f"app.{queue}_worker"
        [event] = props["Events"].values()
        queue_id, _ = synth.queue(f"{PREFIX}-{queue}")
        assert event["Type"] == "SQS"
        assert event["Properties"]["Queue"] == _arn(queue_id)  # not Chalice's queue-by-name ARN
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert synth.template["Resources"][log_group_id]["Properties"]["RetentionInDays"] > 0
    # No other function consumes a queue (a new consumer in app.py needs its queue wired here too).
    assert not any(functions["APIHandler"]["Properties"].get("Events", {}).values())


def test_function_role_is_scoped_to_the_cirrus_queues_and_state_machines(synth: Synth) -> None:
    """Chalice gives the API and the workers one role, DefaultRole; every SQS and Step Functions right it
    has names Cirrus's own resources, never "*"."""
    statements = [st for st in synth.role_statements("DefaultRole") if st["Effect"] == "Allow"]
    machines = set(synth.resources("AWS::StepFunctions::StateMachine"))
    queues = {q: synth.queue(f"{PREFIX}-{q}")[0] for q in QUEUES}
    dead = {q: synth.queue(f"{PREFIX}-{q}-dlq")[0] for q in QUEUES}

    granted: dict[str, list[str]] = {}
    for statement in statements:
        for action in _actions(statement):
            if not action.startswith(("sqs:", "states:")):
                continue
            assert action != "states:*" and action != "sqs:*", statement
            resources = _resources(statement)
            assert "*" not in resources, statement
            for resource in resources:
                text = json.dumps(resource)
                if action.startswith("states:"):
                    assert any(m in text for m in machines), statement
                    if action == "states:DescribeExecution":
                        assert ":execution:" in text
                else:
                    assert resource in [_arn(i) for i in [*queues.values(), *dead.values()]], statement
                granted.setdefault(action, []).append(text)

    for action in ("states:StartExecution", "states:SendTaskSuccess", "states:SendTaskFailure"):
        assert {json.dumps({"Ref": m}) for m in machines} <= set(granted[action]), action
    assert {m for m in machines if any(m in r for r in granted["states:SendTaskHeartbeat"])} == machines
    assert {m for m in machines if any(m in r for r in granted["states:DescribeExecution"])} == machines
    # Enqueue on every work queue; receive/delete (the event source mappings) on the work queues only.
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage"):
        assert sorted(granted[action]) == sorted(json.dumps(_arn(i)) for i in queues.values()), action
    # Send: every work queue, and the background queue's dead-letter queue (a hook delivery's last
    # failure, which the background worker sends there itself).
    assert sorted(granted["sqs:SendMessage"]) == sorted(
        json.dumps(_arn(i)) for i in [*queues.values(), dead[BACKGROUND_QUEUE]]
    )
    # Dead-letter depths for the daily report.
    assert {json.dumps(_arn(i)) for i in dead.values()} <= set(granted["sqs:GetQueueAttributes"])
    # Chalice's read-any-stream statement is gone: only the publisher, under its own role, reads it.
    assert not [
        st for st in statements if any(a.startswith("dynamodb:") and "Stream" in a for a in _actions(st))
    ]


# Workflows ------------------------------------------------------------------------------------------


def _definition(machine: dict[str, Any], urls: dict[str, str]) -> str:
    """The DefinitionString with each queue reference replaced by a stand-in URL; fails on anything else
    CloudFormation would have to resolve."""
    definition = machine["Properties"]["DefinitionString"]
    if isinstance(definition, str):
        return definition
    separator, parts = definition["Fn::Join"]
    assert separator == ""
    text = []
    for part in parts:
        if isinstance(part, str):
            text.append(part)
        else:
            assert set(part) == {"Ref"} and part["Ref"] in urls, part
            text.append(urls[part["Ref"]])
    return "".join(text)


def test_one_standard_state_machine_per_asl_file(synth: Synth) -> None:
    machines = synth.resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == len(stepfunctions.names()) > 0
    # Stand-in URLs: the CDK tokens became Refs to the queues, which the test resolves itself.
    stand_in = {q: f"https://sqs.example/{q}" for q in QUEUES}
    urls = {synth.queue(f"{PREFIX}-{q}")[0]: url for q, url in stand_in.items()}
    for name in stepfunctions.names():
        _, machine = synth.named("AWS::StepFunctions::StateMachine", "StateMachineName", f"{PREFIX}-{name}")
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        text = _definition(machine, urls)
        assert "${" not in text  # every placeholder was substituted
        # The same definition the local stack creates (same render, same placeholder names).
        values: dict[str, Any] = dict(stepfunctions.DEFAULT_TIMING)
        values.update({f"{q.capitalize()}QueueUrl": url for q, url in stand_in.items()})
        assert json.loads(text) == json.loads(stepfunctions.render(name, values))
        logging = props["LoggingConfiguration"]
        assert logging["Level"] in ("ALL", "ERROR")
        assert logging["IncludeExecutionData"] is True
        [destination] = logging["Destinations"]
        log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        log_group = synth.template["Resources"][log_group_id]["Properties"]
        assert log_group["RetentionInDays"] > 0
        assert log_group["LogGroupName"].startswith("/aws/vendedlogs/states/")
        assert props.get("TracingConfiguration", {}).get("Enabled", False) is False  # no X-Ray


def test_state_machine_roles_may_only_send_to_their_queues(synth: Synth) -> None:
    for name in stepfunctions.names():
        _, machine = synth.named("AWS::StepFunctions::StateMachine", "StateMachineName", f"{PREFIX}-{name}")
        role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        used = [q for q in QUEUES if f"{q.capitalize()}QueueUrl" in stepfunctions.placeholders(name)]
        assert used
        sent_to = []
        for statement in synth.role_statements(role_id):
            actions = _actions(statement)
            if any(a.startswith("sqs:") for a in actions):
                assert actions == {"sqs:SendMessage"}, statement
                sent_to += _resources(statement)
            else:  # log delivery, which AWS authorises only on "*"
                assert all(a.startswith("logs:") for a in actions), statement
        assert sorted(map(json.dumps, sent_to)) == sorted(
            json.dumps(_arn(synth.queue(f"{PREFIX}-{q}")[0])) for q in used
        )


# Schedules ------------------------------------------------------------------------------------------


def test_one_schedule_per_registry_entry_sends_its_task_envelope(synth: Synth) -> None:
    schedules = synth.resources("AWS::Scheduler::Schedule")
    # With the built-in support desk alone (the default) its pull is not deployed.
    deployed = [entry for entry in SCHEDULES if not entry.needs_support_backend]
    assert len(schedules) == len(deployed) > 0 and len(deployed) < len(SCHEDULES)
    role_ids = set()
    for entry in deployed:
        _, schedule = synth.named("AWS::Scheduler::Schedule", "Name", f"{PREFIX}-{entry.name}")
        props = schedule["Properties"]
        assert props["ScheduleExpression"] == entry.expression
        assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert props.get("State", "ENABLED") == "ENABLED"
        target = props["Target"]
        queue_id, _ = synth.queue(f"{PREFIX}-{registry.get(entry.task).queue}")
        assert target["Arn"] == _arn(queue_id)
        # The message body is the envelope the consumer parses; the Scheduler fills in its execution id,
        # so each firing is a distinct delivery for the idempotency check.
        envelope = TaskEnvelope.model_validate_json(target["Input"])
        assert envelope.task == entry.task and envelope.task in registry.load_all()
        assert envelope.payload == entry.payload
        assert envelope.idempotency_key == EXECUTION_ID
        assert target["DeadLetterConfig"]["Arn"] == _arn(synth.queue(f"{PREFIX}-schedules-dlq")[0])
        role_ids.add(target["RoleArn"]["Fn::GetAtt"][0])

    [role_id] = role_ids
    role = synth.template["Resources"][role_id]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    allowed = []
    for statement in synth.role_statements(role_id):
        assert _actions(statement) == {"sqs:SendMessage"}, statement
        allowed += _resources(statement)
    targets = {registry.get(entry.task).queue for entry in deployed}
    expected = [f"{PREFIX}-{q}" for q in targets] + [f"{PREFIX}-schedules-dlq"]
    assert sorted(map(json.dumps, allowed)) == sorted(json.dumps(_arn(synth.queue(n)[0])) for n in expected)


# The audit log's publishing ---------------------------------------------------------------------------


def _publisher(synth: Synth) -> dict[str, Any]:
    return dict(_functions(synth)[PUBLISHER]["Properties"])


def _stream_source(synth: Synth) -> dict[str, Any]:
    [event] = _publisher(synth)["Events"].values()
    assert event["Type"] == "DynamoDB"
    return dict(event["Properties"])


def _matches(pattern: Any, value: Any) -> bool:
    """EventBridge/Lambda filter semantics, as far as the stream filter uses them: nested objects, and
    lists of allowed values at the leaves."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and _matches(sub, value[key]) for key, sub in pattern.items()
        )
    return value in pattern


def _stream_record(event_name: str, item: Any) -> dict[str, Any]:
    """A DynamoDB stream record of `item` as Lambda filters it (the images in attribute-value form)."""
    image = item.serialize()
    images = {"OldImage": image} if event_name == "REMOVE" else {"NewImage": image}
    if event_name == "MODIFY":
        images["OldImage"] = image
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": images}


def _stream_patterns(synth: Synth) -> list[Any]:
    return [json.loads(f["Pattern"]) for f in _stream_source(synth)["FilterCriteria"]["Filters"]]


def _passes(patterns: list[Any], record: dict[str, Any]) -> bool:
    return any(_matches(p, record) for p in patterns)  # a record passes if any filter matches


def test_publisher_reads_the_table_stream_with_partial_batch_failures(synth: Synth) -> None:
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    props = _publisher(synth)
    assert props["Handler"] == "app.events_publisher"
    source = _stream_source(synth)
    assert source["Stream"] == {"Fn::GetAtt": [table_id, "StreamArn"]}  # not Chalice's placeholder
    assert source["StartingPosition"] == "TRIM_HORIZON"
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # A failing batch is split to isolate the failing record, retried a bounded number of times, and
    # given up on after a day (the stream's own retention) instead of blocking the shard.
    assert source["BisectBatchOnFunctionError"] is True
    assert 0 < source["MaximumRetryAttempts"] <= 10_000
    assert 60 <= source["MaximumRecordAgeInSeconds"] <= 24 * 3600
    dlq_id, dlq = synth.queue(f"{PREFIX}-events-publisher-dlq")
    assert source["DestinationConfig"] == {"OnFailure": {"Type": "SQS", "Destination": _arn(dlq_id)}}
    # Like the other dead-letter queues: 14 days, encrypted without a key to grant, TLS only.
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True
    [policy] = [
        p["Properties"]
        for p in synth.resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": dlq_id}]
    ]
    [deny] = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_stream_filter_passes_exactly_the_event_records_the_publisher_publishes(synth: Synth) -> None:
    patterns = _stream_patterns(synth)
    fields: dict[str, Any] = {
        "event_id": "e1",
        "event_type": "project_creation_succeeded",
        "message": "Project has been created.",
        "created": datetime(2025, 1, 1, tzinfo=UTC),
    }
    event = EventItem(pk="EVT#c#2025-01", sk="e1", **fields)
    feed = FeedEntryItem(pk="FEED#c", sk="e1", **fields)

    assert _passes(patterns, _stream_record("INSERT", event))
    assert not _passes(patterns, _stream_record("MODIFY", event))
    assert not _passes(patterns, _stream_record("REMOVE", event))  # TTL expiry
    assert not _passes(patterns, _stream_record("INSERT", feed))  # a feed copy: published once, not per feed


def test_stream_filter_passes_every_change_that_moves_a_platform_total(synth: Synth) -> None:
    patterns = _stream_patterns(synth)
    created = datetime(2025, 1, 1, tzinfo=UTC)
    project = ProjectItem(
        pk="CUST#c", sk="PROJ#p", project_id="p", customer_id="c", name="P", created=created
    )
    removed = ProjectItem(
        pk="CUST#c", sk="RMPROJ#p", project_id="p", customer_id="c", name="P", created=created
    )
    user = UserItem(pk="USER#u", sk="#META", user_id="u", username="u", date_joined=created)
    owner = GrantItem(
        pk="CUST#c", sk="GRANT#x", grant_id="g", user_id="u", role_id=SYSTEM_ROLES["CUSTOMER.OWNER"].id,
        scope_type="customer", scope_id="c", customer_id="c", created=created,
    )  # fmt: skip
    counter = CounterItem(pk="COUNTER#projects", sk="#META", value=3)
    marker = TallyItem(pk="TALLY#r", sk="#META")

    moving = [("INSERT", project), ("REMOVE", project), ("INSERT", user), ("REMOVE", user), ("INSERT", owner)]
    for name, item in moving:
        record = _stream_record(name, item)
        assert wanted(record) and _passes(patterns, record), (name, item)
    # What the counting and the analytics themselves write never reach the function: it would read
    # its own writes for nothing.
    aggregate = AggregateItem(pk="AGG#s", sk="D#2025-01-01|f", series="s", period="D#2025-01-01", field="f")
    folded = FoldItem(pk="FOLD#r#0", sk="#META")
    own = [("INSERT", counter), ("MODIFY", counter), ("INSERT", marker), ("INSERT", folded)]
    for name, item in [*own, ("INSERT", aggregate), ("MODIFY", aggregate)]:
        record = _stream_record(name, item)
        assert not wanted(record) and not _passes(patterns, record), (name, item)
    # A project's edits reach it for the analytics (its quota usage's daily points: `analytics.fold`
    # works out whether one moved), as does a removed project's copy (it moves no total).
    for name, item in [("MODIFY", project), ("INSERT", removed)]:
        record = _stream_record(name, item)
        assert wanted(record) and _passes(patterns, record), (name, item)
    assert not counters.moves(_stream_record("INSERT", removed))


def test_publisher_runs_under_its_own_role_and_logged(synth: Synth) -> None:
    props = _publisher(synth)
    role_id = props["Role"]["Fn::GetAtt"][0]
    assert role_id != "DefaultRole"
    [trust] = synth.template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert props["Timeout"] == _functions(synth)[WORKERS[BACKGROUND_QUEUE]]["Properties"]["Timeout"]
    log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert synth.template["Resources"][log_group_id]["Properties"]["RetentionInDays"] > 0
    variables = props["Environment"]["Variables"]
    bus_id, _ = synth.named("AWS::Events::EventBus", "Name", f"{PREFIX}-events")
    assert variables["CIRRUS_EVENT_BUS_NAME"] == {"Ref": bus_id}
    # hooks.dispatch goes to the background queue, an order's marketplace.ensure_started to tasks.
    assert variables["CIRRUS_QUEUE_URL_BACKGROUND"] == {"Ref": synth.queue(f"{PREFIX}-background")[0]}
    assert variables["CIRRUS_QUEUE_URL_TASKS"] == {"Ref": synth.queue(f"{PREFIX}-tasks")[0]}


def test_publisher_role_reads_the_stream_puts_on_the_bus_and_writes_only_counters(synth: Synth) -> None:
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    bus_id, _ = synth.named("AWS::Events::EventBus", "Name", f"{PREFIX}-events")
    role_id = _publisher(synth)["Role"]["Fn::GetAtt"][0]
    # Inline: in place before the event source mapping, whose creation checks the role's rights.
    assert not [
        p
        for p in synth.resources("AWS::IAM::Policy").values()
        if role_id in json.dumps(p["Properties"]["Roles"])
    ]
    granted: dict[str, list[Any]] = {}
    for statement in synth.role_statements(role_id):
        assert statement["Effect"] == "Allow"
        for action in _actions(statement):
            granted.setdefault(action, []).extend(_resources(statement))
    stream = {"Fn::GetAtt": [table_id, "StreamArn"]}
    for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"):
        assert granted.pop(action) == [stream], action
    # ListStreams has no resource-level permissions: "*" or nothing (it lists ARNs, reads no data).
    assert granted.pop("dynamodb:ListStreams") == ["*"]
    assert granted.pop("events:PutEvents") == [_arn(bus_id)]
    # The platform-wide totals and the audit log's shared counts (store/counters.tally), and the
    # analytics aggregates (store/analytics.fold): only the counters', event counts', aggregates'
    # and markers' partitions of the table.
    table_arn = _arn(table_id)
    for action in ("dynamodb:PutItem", "dynamodb:UpdateItem"):
        assert granted.pop(action) == [table_arn], action
    [write] = [s for s in synth.role_statements(role_id) if "dynamodb:PutItem" in _actions(s)]
    assert write["Condition"] == {
        "ForAllValues:StringLike": {
            "dynamodb:LeadingKeys": ["COUNTER#*", "EVCOUNT#*", "TALLY#*", "AGG#*", "FOLD#*"]
        }
    }
    allowed = write["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert all(
        fnmatch.fnmatchcase(pk, pattern)
        for pk in _publisher_writes()
        for pattern in [next((p for p in allowed if fnmatch.fnmatchcase(pk, p)), "-")]
    ), (_publisher_writes(), allowed)
    # Whether an event's type has active hooks (publisher._hooks_want): a Query of the hook
    # subscriptions' partitions only.
    assert granted.pop("dynamodb:Query") == [table_arn]
    [read] = [s for s in synth.role_statements(role_id) if "dynamodb:Query" in _actions(s)]
    assert read["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["HOOKSUB#*"]}}
    # The queues of every task it queues: hooks.dispatch (background) and the events' follow-ups
    # (an order's marketplace.ensure_started on tasks), and its own dead-letter queue.
    published = [DISPATCH_TASK, *follow_up_tasks()]
    sent_to = {registry.get(task).queue for task in published}
    assert {BACKGROUND_QUEUE, TASKS_QUEUE} <= sent_to
    queues = [synth.queue(f"{PREFIX}-{q}")[0] for q in sent_to]
    dlq = synth.queue(f"{PREFIX}-events-publisher-dlq")[0]
    assert sorted(map(json.dumps, granted.pop("sqs:SendMessage"))) == sorted(
        json.dumps(_arn(i)) for i in (*queues, dlq)
    )
    log_group_id = _publisher(synth)["LoggingConfig"]["LogGroup"]["Ref"]
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert granted.pop(action) == [_arn(log_group_id)], action
    assert granted == {}  # nothing else: no other table access, no other queue, no other bus


def test_event_bus_is_archived_for_the_configured_days(synth: Synth, synth_with_domain: Synth) -> None:
    for s, days in ((synth, 365), (synth_with_domain, ARCHIVE_DAYS)):
        bus_id, bus = s.named("AWS::Events::EventBus", "Name", f"{PREFIX}-events")
        assert "EventSourceName" not in bus["Properties"]  # a custom bus, not a partner bus
        archive_id, archive = s.one("AWS::Events::Archive")
        props = archive["Properties"]
        assert props["SourceArn"] == _arn(bus_id)
        assert props["EventPattern"] == {"source": [SOURCE]}
        assert props["RetentionDays"] == days  # 0: indefinitely
        outputs = s.template["Outputs"]
        assert outputs["EventBusName"]["Value"] == {"Ref": bus_id}
        assert outputs["EventBusArn"]["Value"] == _arn(bus_id)
        assert outputs["EventArchiveName"]["Value"] == {"Ref": archive_id}
        assert outputs["EventArchiveArn"]["Value"] == _arn(archive_id)
        dlq_id, _ = s.queue(f"{PREFIX}-events-publisher-dlq")
        assert outputs["EventsPublisherDeadLetterQueueArn"]["Value"] == _arn(dlq_id)


def test_event_retention_days_reach_every_function(synth_with_domain: Synth) -> None:
    for function_id, function in _functions(synth_with_domain).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["CIRRUS_EVENT_RETENTION_DAYS"] == str(RETENTION_DAYS), function_id


def test_alarms_on_publisher_lag_errors_and_dead_letters(synth: Synth) -> None:
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]
    on_publisher = {
        a["MetricName"]: a
        for a in alarms
        if a.get("Namespace") == "AWS/Lambda"
        and a.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": PUBLISHER}}]
    }
    # Throttles: every function's (test_synth_operations.py).
    assert set(on_publisher) == {"IteratorAge", "Errors", "Throttles"}
    age = on_publisher["IteratorAge"]
    assert age["Statistic"] == "Maximum" and age["ComparisonOperator"] == "GreaterThanThreshold"
    assert age["Threshold"] == 5 * 60 * 1000  # milliseconds
    errors = on_publisher["Errors"]
    assert errors["Statistic"] == "Sum" and errors["ComparisonOperator"] == "GreaterThanThreshold"
    assert errors["Threshold"] == 0
    [depth] = _alarms_on(
        synth, "ApproximateNumberOfMessagesVisible", synth.queue(f"{PREFIX}-events-publisher-dlq")[0]
    )
    assert depth["ComparisonOperator"] == "GreaterThanThreshold" and depth["Threshold"] == 0


def test_event_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    monkeypatch.syspath_prepend(str(CDK_DIR))
    import aws_cdk as cdk

    from cirrus_infra import CirrusStack, StackSettings

    with pytest.raises(ValueError, match="event_retention_days"):
        CirrusStack(cdk.App(), "cirrus-bad", settings=StackSettings(event_retention_days=0))
    with pytest.raises(ValueError, match="event_archive_days"):
        CirrusStack(cdk.App(), "cirrus-bad", settings=StackSettings(event_archive_days=-1))


# A custom domain ------------------------------------------------------------------------------------


def test_custom_domain_is_mapped_at_the_root_to_the_http_api(synth_with_domain: Synth) -> None:
    domain_id, domain = synth_with_domain.one("AWS::ApiGatewayV2::DomainName")
    assert domain["Properties"]["DomainName"] == DOMAIN
    assert domain["Properties"]["DomainNameConfigurations"] == [
        {"CertificateArn": CERTIFICATE, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
    ]
    api_id, _ = synth_with_domain.one("AWS::ApiGatewayV2::Api")
    stage_id, _ = synth_with_domain.one("AWS::ApiGatewayV2::Stage")
    _, mapping = synth_with_domain.one("AWS::ApiGatewayV2::ApiMapping")
    # No mapping key: clients see https://<domain>/api/... and /api-auth/... (the routes' own paths).
    assert mapping["Properties"] == {
        "ApiId": {"Ref": api_id},
        "DomainName": {"Ref": domain_id},
        "Stage": {"Ref": stage_id},  # `$default`, and the mapping waits for the stage
    }
    # Chalice's REST custom domain is not made (it would need the REST API).
    assert not synth_with_domain.resources("AWS::ApiGateway::DomainName")
    assert not synth_with_domain.resources("AWS::ApiGateway::BasePathMapping")
    _, function = _api_function(synth_with_domain)
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["CIRRUS_PUBLIC_URL"] == f"https://{DOMAIN}"
    # Requests through the custom domain pass the Host check (the public URL's host is always allowed),
    # and so do those through the execute-api endpoint.
    patterns = hosts.allowed_patterns(
        [".execute-api.eu-west-1.amazonaws.com"], variables["CIRRUS_PUBLIC_URL"]
    )
    assert hosts.is_allowed(DOMAIN, patterns) and hosts.is_allowed(
        "a1b2.execute-api.eu-west-1.amazonaws.com", patterns
    )
    assert variables["CIRRUS_ALLOWED_HOSTS"] == EXECUTE_API_HOSTS
    target = synth_with_domain.template["Outputs"]["CustomDomainTarget"]
    assert target["Value"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    # The user pool's callback is the public URL's.
    _, client = synth_with_domain.one("AWS::Cognito::UserPoolClient")
    assert client["Properties"]["CallbackURLs"] == [f"https://{DOMAIN}/api-auth/cognito/callback/"]


def test_options_set_redrive_and_alarm_actions(synth_with_domain: Synth) -> None:
    for queue in QUEUES:
        _, source = synth_with_domain.queue(f"{PREFIX}-{queue}")
        assert source["Properties"]["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES
    alarms = synth_with_domain.resources("AWS::CloudWatch::Alarm")
    # Every alarm (the queues', schedules', publisher's and workflows' own, and operations.py's)
    # notifies the given topic, on alarm and on recovery; the stack creates none of its own.
    assert len(alarms) > 2 * len(QUEUES) + 1 + 3 + 1
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [ALARM_TOPIC]
        assert alarm["Properties"]["OKActions"] == [ALARM_TOPIC]
    assert not synth_with_domain.resources("AWS::SNS::Topic")
    assert synth_with_domain.template["Outputs"]["AlarmTopicArn"]["Value"] == ALARM_TOPIC


def test_mail_is_sent_only_as_the_configured_sender(synth: Synth, synth_with_domain: Synth) -> None:
    def ses_statements(s: Synth) -> list[dict[str, Any]]:
        return [
            st for st in s.role_statements("DefaultRole") if any(a.startswith("ses:") for a in _actions(st))
        ]

    assert ses_statements(synth) == []  # no sender configured: no SES rights at all
    (statement,) = ses_statements(synth_with_domain)
    assert _actions(statement) == {"ses:SendEmail"}
    identities = json.dumps(_resources(statement))
    assert f"identity/{EMAIL_FROM}" in identities and "identity/example.org" in identities
    variables = _api_function(synth_with_domain)[1]["Properties"]["Environment"]["Variables"]
    assert variables["CIRRUS_EMAIL_FROM"] == EMAIL_FROM


def test_a_support_backend_gets_its_settings_its_secret_exactly_and_its_pull(
    synth: Synth, synth_with_domain: Synth
) -> None:
    def secret_statements(s: Synth) -> list[dict[str, Any]]:
        """The role's grants on secrets besides the providers' own (`cirrus/providers/*`, always
        there: cirrus_infra/providers.py, tests/infra/test_synth_providers.py)."""
        return [
            st
            for st in s.role_statements("DefaultRole")
            if any(a.startswith("secretsmanager:") for a in _actions(st))
            and "cirrus/providers/" not in json.dumps(st.get("Resource"))
        ]

    # The built-in desk alone: no secret, no setting, no pull.
    assert secret_statements(synth) == []
    assert "CIRRUS_SUPPORT_BACKEND" not in _api_function(synth)[1]["Properties"]["Environment"]["Variables"]
    assert not any(
        "pull-support-backend" in json.dumps(r) for r in synth.resources("AWS::Scheduler::Schedule").values()
    )
    # Jira: the API (webhooks) and the consumers (the sync's tasks) may read exactly that secret.
    (statement,) = secret_statements(synth_with_domain)
    assert _actions(statement) == {"secretsmanager:GetSecretValue"}
    assert _resources(statement) == [SUPPORT_SECRET_ARN]
    for function_id in ("APIHandler", *WORKERS.values()):
        variables = _functions(synth_with_domain)[function_id]["Properties"]["Environment"]["Variables"]
        assert variables["CIRRUS_SUPPORT_BACKEND"] == "jira"
        assert variables["CIRRUS_SUPPORT_BACKEND_SECRET_ARN"] == SUPPORT_SECRET_ARN
    _, schedule = synth_with_domain.named(
        "AWS::Scheduler::Schedule", "Name", f"{PREFIX}-pull-support-backend"
    )
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(5 minutes)"
    assert TaskEnvelope.model_validate_json(props["Target"]["Input"]).task == "support_sync.pull_changes"
    assert props["Target"]["Arn"] == _arn(synth_with_domain.queue(f"{PREFIX}-{BACKGROUND_QUEUE}")[0])


@pytest.mark.parametrize(
    ("backend", "arn", "problem"),
    [
        ("servicenow", None, "support_backend must be one of"),
        ("jira", None, "needs support_backend_secret_arn"),
        ("zammad", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cirrus", "full ARN"),
        ("basic", SUPPORT_SECRET_ARN, "support_backend is basic"),
    ],
)
def test_support_backend_settings_are_checked_before_synth(
    backend: str, arn: str | None, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    monkeypatch.syspath_prepend(str(CDK_DIR))
    import aws_cdk as cdk

    from cirrus_infra import CirrusStack, StackSettings

    settings = StackSettings(support_backend=backend, support_backend_secret_arn=arn)
    with pytest.raises(ValueError, match=problem):
        CirrusStack(cdk.App(), "cirrus-bad", settings=settings)


def test_custom_domain_template_passes_cfn_lint(synth_with_domain: Synth) -> None:
    _assert_lint_clean(synth_with_domain.path)


def test_worker_timeout_may_not_exceed_the_idempotency_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    monkeypatch.syspath_prepend(str(CDK_DIR))
    import aws_cdk as cdk

    from cirrus_infra import CirrusStack, StackSettings

    too_long = int(LEASE.total_seconds()) + 1
    with pytest.raises(ValueError, match="lease"):
        CirrusStack(cdk.App(), "cirrus-bad", settings=StackSettings(worker_timeout=too_long))


def test_custom_domain_needs_a_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    monkeypatch.syspath_prepend(str(CDK_DIR))
    import aws_cdk as cdk

    from cirrus_infra import CirrusStack, StackSettings

    with pytest.raises(ValueError, match="certificate_arn"):
        CirrusStack(cdk.App(), "cirrus-bad", settings=StackSettings(domain_name=DOMAIN))


# Packaging inputs -----------------------------------------------------------------------------------


def test_lambda_requirements_are_the_runtime_dependencies() -> None:
    """requirements.txt (what `chalice package` installs for Lambda) follows pyproject's runtime
    dependencies, minus chalice, whose runtime Chalice bundles into the package itself."""
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (REPO / "requirements.txt").read_text().splitlines()
    required = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert sorted(required) == sorted(d for d in declared if not d.startswith("chalice"))


def test_chalice_project_config() -> None:
    config = json.loads((REPO / ".chalice" / "config.json").read_text())
    assert config["version"] == "2.0"
    assert config["app_name"] == "cirrus"


# The order lifecycle ----------------------------------------------------------------------------------


def test_the_deployed_order_workflow_can_not_leave_an_order_waiting_forever(synth: Synth) -> None:
    """Issue 6: no order stays `executing` (or pending) unnoticed. In the definition CloudFormation
    gets, every wait has a timeout, the automatic processor retries only transient failures and
    catches everything else into the erred branch, and every state reaches a final state."""
    stand_in = {q: f"https://sqs.example/{q}" for q in QUEUES}
    urls = {synth.queue(f"{PREFIX}-{q}")[0]: url for q, url in stand_in.items()}
    _, machine = synth.named("AWS::StepFunctions::StateMachine", "StateMachineName", f"{PREFIX}-order")
    states = json.loads(_definition(machine, urls))["States"]
    for name, state in states.items():
        if state["Type"] == "Task" and state["Resource"].endswith(".waitForTaskToken"):
            assert isinstance(state["TimeoutSeconds"], int) and state["TimeoutSeconds"] > 0, name
    process = states["Process"]
    assert process["HeartbeatSeconds"] < process["TimeoutSeconds"]
    # SQS's errors first (sending the step), then the worker's transient failures, each with backoff.
    sqs_errors, transient = (r["ErrorEquals"] for r in process["Retry"])
    assert "SQS.SdkClientException" in sqs_errors and transient == ["Cirrus.Transient"]
    assert all(r["BackoffRate"] > 1 for r in process["Retry"])
    assert [(c["ErrorEquals"], c["Next"]) for c in process["Catch"]] == [
        (sqs_errors, "Stranded"),
        (["States.ALL"], "MarkErred"),
    ]
    assert states["MarkErred"]["Parameters"]["QueueUrl"] == stand_in["tasks"]
    assert states["MarkErred"]["Next"] == "Failed" and states["Failed"]["Type"] == "Fail"

    def successors(state: dict[str, Any]) -> set[str]:
        found = {state["Next"]} if "Next" in state else set()
        found |= {c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])}
        return found | ({state["Default"]} if "Default" in state else set())

    final = {n for n, s in states.items() if s["Type"] in ("Succeed", "Fail")}
    reaches_end = set(final)
    changed = True
    while changed:
        changed = False
        for name, state in states.items():
            if name not in reaches_end and successors(state) & reaches_end:
                reaches_end.add(name)
                changed = True
    assert reaches_end == set(states)


def test_a_stranded_order_workflow_alarms(synth: Synth) -> None:
    """Issue 14: an order workflow ending in its Stranded state pages (erred orders fail their
    execution too, so the alarm counts Cirrus.OrderStranded in the execution log, not
    ExecutionsFailed)."""
    log_group_id, _ = synth.named(
        "AWS::Logs::LogGroup", "LogGroupName", f"/aws/vendedlogs/states/{PREFIX}-order"
    )
    _, metric_filter = synth.one("AWS::Logs::MetricFilter")
    props = metric_filter["Properties"]
    assert props["LogGroupName"] == {"Ref": log_group_id}
    assert '$.type = "ExecutionFailed"' in props["FilterPattern"]
    assert f'$.details.error = "{stepfunctions.ORDER_STRANDED}"' in props["FilterPattern"]
    (transformation,) = props["MetricTransformations"]
    alarms = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == transformation["MetricName"]
        and a["Properties"].get("Namespace") == transformation["MetricNamespace"]
    ]
    assert [(a["Threshold"], a["ComparisonOperator"]) for a in alarms] == [(0, "GreaterThanThreshold")]
    _, machine = synth.named("AWS::StepFunctions::StateMachine", "StateMachineName", f"{PREFIX}-order")
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"


def _publisher_writes() -> list[str]:
    """The partition keys the publisher's counting writes for an event record (the audit log's
    shared counts) and for a counted item (a platform total), with their markers: what its role
    must be allowed to write on AWS."""
    from chalicelib.domain.analytics_quotas import user_facts
    from chalicelib.domain.context import EventContext
    from chalicelib.domain.events import make_event
    from chalicelib.domain.users import User
    from chalicelib.store import counters, keys
    from chalicelib.store.outbox import event_items

    event = make_event(
        "role_granted", "granted", EventContext(), {"offering_uuid": "o" * 32, "affected_user_uuid": "u" * 32}
    )
    record = event_items(event, 365)[0]
    image = record.serialize()
    image["type"] = {"S": "event"}
    found = [
        pk for (pk, _), _ in counters.event_counts({"eventName": "INSERT", "dynamodb": {"NewImage": image}})
    ]
    found += [
        keys.counter_pk(name)
        for name in counters.moves(
            {"eventName": "INSERT", "dynamodb": {"NewImage": {"type": {"S": "customer"}}}}
        )
    ]
    assert len(found) >= 4 and datetime.now(UTC)  # the shard, two shared feeds, a total
    # a user's registration folded into the analytics (an aggregate and the record's marker)
    found += [keys.aggregate_pk(add.series) for add in user_facts(User("u", "u", datetime.now(UTC)))]
    return [*found, keys.tally_pk("record-id"), keys.fold_pk("record-id#0")]


# CloudFormation's limit on a template it reads from S3 (CDK uploads large templates there).
TEMPLATE_LIMIT = 1_000_000


def test_template_fits_cloudformations_limit(synth: Synth, synth_with_domain: Synth) -> None:
    for variant in (synth, synth_with_domain):
        assert variant.path.stat().st_size < TEMPLATE_LIMIT


def test_every_function_runs_the_bundle(synth: Synth) -> None:
    """Each function's code is the bundle (bundle.py: the Chalice runtime, the app, bytecode) as one
    CDK asset; Chalice's own package is not an asset, so nothing unused is uploaded."""
    manifest = json.loads(
        synth.path.with_name(synth.path.name.replace(".template.json", ".assets.json")).read_text()
    )
    keys = {
        destination["objectKey"]: entry["source"]
        for entry in manifest["files"].values()
        for destination in entry["destinations"].values()
    }
    code_keys = set()
    for name, function in _functions(synth).items():
        code = function["Properties"]["CodeUri"]
        assert set(code) == {"Bucket", "Key"}, name
        code_keys.add(code["Key"])
    assert len(code_keys) == 1
    source = keys[code_keys.pop()]
    assert source["packaging"] == "zip"
    bundle = synth.path.parent / source["path"]
    assert (bundle / "app.py").exists() and (bundle / "chalice" / "app.py").exists()
    assert (bundle / "chalicelib" / "__pycache__" / "config.cpython-312.pyc").exists()
    assert not [s for s in keys.values() if s["path"].endswith("deployment.zip")]


# --- the support attachments' bucket (cirrus_infra/files.py) ---------------------------------------
def _attachments_bucket(synth: Synth) -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in synth.resources("AWS::S3::Bucket").items() if k.startswith("Attachments")]
    assert len(found) == 1, found
    return found[0]


def test_the_bucket_is_private_encrypted_and_retained(synth: Synth) -> None:
    bucket_id, bucket = _attachments_bucket(synth)
    props = bucket["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    # Only TLS: the bucket policy denies every request over plain HTTP.
    [policy] = [
        p
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_api_role_may_put_get_and_delete_objects_only(synth: Synth) -> None:
    bucket_id, _ = _attachments_bucket(synth)
    statements = [
        st
        for policy in synth.resources("AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if bucket_id in json.dumps(st.get("Resource"))
    ]
    assert len(statements) == 1
    [statement] = statements
    assert sorted(statement["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}


def test_every_function_is_told_the_attachments_bucket(synth: Synth) -> None:
    bucket_id, _ = _attachments_bucket(synth)
    for name, function in _functions(synth).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["CIRRUS_ATTACHMENTS_BUCKET"] == {"Ref": bucket_id}, name


# --- the analytics export (cirrus_infra/analytics_export.py) ----------------------------------------
def _export_bucket(synth: Synth) -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in synth.resources("AWS::S3::Bucket").items() if k.startswith("AnalyticsExport")]
    assert len(found) == 1, found
    return found[0]


def test_the_export_bucket_is_private_encrypted_tls_only_and_retained(synth: Synth) -> None:
    bucket_id, bucket = _export_bucket(synth)
    props = bucket["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    # an upload that failed half way leaves no parts behind for long
    [lifecycle] = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    [policy] = [
        p
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_functions_may_only_put_objects_under_the_export_datasets(synth: Synth) -> None:
    """chalicelib/exports.py's calls (PutObject and a multipart upload) are all s3:PutObject; nothing
    may read, list or delete the export."""
    bucket_id, _ = _export_bucket(synth)
    statements = [
        st
        for policy in synth.resources("AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if bucket_id in json.dumps(st.get("Resource"))
    ]
    assert len(statements) == 1
    [statement] = statements
    assert statement["Action"] == "s3:PutObject"
    arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    assert statement["Resource"] == [
        {"Fn::Join": ["", [arn, "/aggregates/*"]]},
        {"Fn::Join": ["", [arn, "/events/*"]]},
    ]
    assert "AnalyticsExportBucketName" in synth.template["Outputs"]


def test_glue_tables_read_the_day_partitions_by_projection(synth: Synth) -> None:
    """Athena finds each day's object from the query's `dt` alone: no crawler, no partitions added."""
    from chalicelib import exports

    bucket_id, _ = _export_bucket(synth)
    _, database = synth.one("AWS::Glue::Database")
    assert database["Properties"]["DatabaseInput"]["Name"] == f"{PREFIX}_analytics".replace("-", "_")
    assert not synth.resources("AWS::Glue::Crawler")
    tables = {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]
        for t in synth.resources("AWS::Glue::Table").values()
    }
    assert set(tables) == set(exports.DATASETS)
    for name, props in tables.items():
        table = props["TableInput"]
        assert props["DatabaseName"] == database["Properties"]["DatabaseInput"]["Name"]
        assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string", "Comment": "the day, YYYY-MM-DD"}]
        location = {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, f"/{name}/"]]}
        assert table["StorageDescriptor"]["Location"] == location
        assert (
            table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
            == "org.openx.data.jsonserde.JsonSerDe"
        )
        parameters = table["Parameters"]
        assert parameters["projection.enabled"] == "true"
        assert (parameters["projection.dt.type"], parameters["projection.dt.format"]) == (
            "date",
            "yyyy-MM-dd",
        )
        assert parameters["projection.dt.range"].endswith(",NOW")
        # the template's `${dt}` lands on the key the export writes for that day
        template = parameters["storage.location.template"]
        assert template == {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, f"/{name}/dt=${{dt}}/"]]}
        day_prefix = str(template["Fn::Join"][1][2]).replace("${dt}", "2026-12-05")
        assert ("/" + exports.key(name, date(2026, 12, 5))).startswith(day_prefix)
    columns = {
        name: [c["Name"] for c in props["TableInput"]["StorageDescriptor"]["Columns"]]
        for name, props in tables.items()
    }
    assert columns == {
        "aggregates": ["series", "period", "field", "label", "kind", "value"],
        "events": ["uuid", "created", "event_type", "message", "customer_uuid", "scopes", "context"],
    }
