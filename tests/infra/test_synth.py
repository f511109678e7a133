"""The CDK app, synthesised offline: the table matches `store/schema.py`, the API function gets the
table and the rights to use it, and cfn-lint finds no errors in the template CloudFormation would get.

One synth per stack variant (module-scoped fixtures). Chalice packages the app during synth; the
fixture packages a copy of it with an empty requirements.txt, so pip never runs and no network is used.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store import schema

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]
CDK_DIR = REPO / "infra" / "cdk"
DOMAIN = "cirrus.example.org"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"


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


def _copy_app(dest: Path) -> Path:
    """The Chalice project as `chalice package` sees it, minus the runtime requirements (no pip)."""
    dest.mkdir()
    shutil.copy2(REPO / "app.py", dest / "app.py")
    shutil.copytree(REPO / "chalicelib", dest / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    (dest / ".chalice").mkdir()
    shutil.copy2(REPO / ".chalice" / "config.json", dest / ".chalice" / "config.json")
    (dest / "requirements.txt").write_text("")
    return dest


def _synth(workdir: Path, **settings: Any) -> Synth:
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

            app = cdk.App(outdir=str(workdir / "cdk.out"))
            source = _copy_app(workdir / "src")
            stack = CirrusStack(
                app, "cirrus-test", settings=StackSettings(stage="test", source_dir=source, **settings)
            )
            template = Template.from_stack(stack).to_json()
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
    return _synth(tmp_path_factory.mktemp("synth-domain"), domain_name=DOMAIN, certificate_arn=CERTIFICATE)


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


def _assert_lint_clean(template: Path) -> None:
    # cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational (1: it failed to run).
    # Warnings and informational findings don't fail the build; errors do.
    code, matches = _cfn_lint(template)
    errors = [m for m in matches if m["Level"] == "Error"]
    assert not errors and code & ~(4 | 8) == 0, json.dumps(errors or matches, indent=1)


# The table ------------------------------------------------------------------------------------------


def _by(key: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item[key])


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


def _api_function(synth: Synth) -> tuple[str, dict[str, Any]]:
    functions = synth.resources("AWS::Serverless::Function") or synth.resources("AWS::Lambda::Function")
    assert list(functions) == ["APIHandler"], sorted(functions)
    return next(iter(functions.items()))


def test_api_function_is_configured_for_the_table(synth: Synth) -> None:
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    _, function = _api_function(synth)
    props = function["Properties"]

    assert props["Handler"] == "app.app"
    assert props["Environment"]["Variables"] == {
        "CIRRUS_TABLE_NAME": {"Ref": table_id},
        "CIRRUS_STAGE": "test",
        "POWERTOOLS_SERVICE_NAME": "cirrus",
    }
    assert props["Tracing"] == "Active"
    assert props["Role"] == {"Fn::GetAtt": ["DefaultRole", "Arn"]}
    # The code is the CDK asset, not a local path SAM would try to upload.
    assert set(props["CodeUri"]) == {"Bucket", "Key"}
    # Logs go to a group that expires them.
    log_group_id, log_group = synth.one("AWS::Logs::LogGroup")
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}
    assert log_group["Properties"]["RetentionInDays"] > 0


def test_rest_api_stage_is_api_and_traced(synth: Synth) -> None:
    _, api = synth.one("AWS::Serverless::Api")
    assert api["Properties"]["StageName"] == "api"
    assert api["Properties"]["TracingEnabled"] is True
    paths = api["Properties"]["DefinitionBody"]["paths"]
    assert "/api/customers" in paths
    assert "/api-auth/password" in paths


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

    # The function is created only after its table access is in place.
    _, function = _api_function(synth)
    assert {policy_id for policy_id, _ in granting} <= set(function.get("DependsOn", []))


def test_outputs(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    assert "EndpointURL" in outputs  # Chalice's; ends in /api/, the stage prefix
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    assert outputs["TableName"]["Value"] == {"Ref": table_id}


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


# A custom domain ------------------------------------------------------------------------------------


def test_custom_domain_is_mapped_at_the_root_to_the_api_stage(synth_with_domain: Synth) -> None:
    domain_id, domain = synth_with_domain.one("AWS::ApiGateway::DomainName")
    assert domain["Properties"]["DomainName"] == DOMAIN
    assert domain["Properties"]["RegionalCertificateArn"] == CERTIFICATE
    _, mapping = synth_with_domain.one("AWS::ApiGateway::BasePathMapping")
    # No base path: clients see https://<domain>/api/... and /api-auth/... (the stage name `api` is
    # dropped by the mapping and the routes themselves start with /api).
    assert mapping["Properties"]["BasePath"] == "(none)"
    assert mapping["Properties"]["DomainName"] == {"Ref": domain_id}
    # A reference to the SAM-generated stage, so the mapping waits for it.
    assert mapping["Properties"]["Stage"] == {"Ref": "RestAPI.Stage"}
    _, api = synth_with_domain.one("AWS::Serverless::Api")
    assert api["Properties"]["EndpointConfiguration"] == "REGIONAL"
    _, function = _api_function(synth_with_domain)
    assert function["Properties"]["Environment"]["Variables"]["CIRRUS_PUBLIC_URL"] == f"https://{DOMAIN}"
    assert "CustomDomainTarget" in synth_with_domain.template["Outputs"]


def test_custom_domain_template_passes_cfn_lint(synth_with_domain: Synth) -> None:
    _assert_lint_clean(synth_with_domain.path)


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
