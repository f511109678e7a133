"""The deployed functions' grants for cloud backends (cirrus_infra/providers.py): every function
that runs a backend (the heavy worker for orders, the background worker for pulls, the API for
importable resources) may assume roles named cirrus-* and nothing else; with providers allowed in
the platform's own account, exactly the EC2 calls chalicelib/providers/aws/ec2.py makes, its
changes only on what Cirrus tagged. (The scenario of test_iam_calls.py orders no AWS.Instance: the
EC2 calls it would make run under the assumed role's credentials, which no template holds.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.providers.aws.ec2 import EC2_ACTIONS
from tests.infra.iam_policy import Stack
from tests.infra.test_synth import Synth, _synth

pytestmark = pytest.mark.infra

REGION = "eu-west-1"
BACKEND_FUNCTIONS = ("APIHandler", "HeavyWorker", "BackgroundWorker")
PROVIDER = "0" * 31 + "1"


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str | dict) else list(value)


def provider_statements(synth: Synth, function: str) -> list[dict[str, Any]]:
    """The role's statements about STS and EC2, resolved."""
    stack = Stack(synth.template, REGION)
    statements = stack.role_statements(stack.role_of(function))
    ours = ("sts:", "ec2:")
    return [
        s
        for s in statements
        if s.get("Effect") == "Allow" and any(str(a).startswith(ours) for a in _listed(s.get("Action", [])))
    ]


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(tmp_path_factory.mktemp("synth-providers"), aws_platform_account_providers=(PROVIDER,))


@pytest.fixture(scope="module")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(tmp_path_factory.mktemp("synth-providers-default"))


def test_by_default_the_backend_functions_may_assume_cirrus_roles_and_call_no_ec2(default_synth: Synth):
    for function in BACKEND_FUNCTIONS:
        statements = provider_statements(default_synth, function)
        assert [(s["Action"], s["Resource"]) for s in statements] == [
            ("sts:AssumeRole", "arn:aws:iam::*:role/cirrus-*")
        ], function
        environment = Stack(default_synth.template, REGION).functions()[function]["Properties"]
        assert "CIRRUS_AWS_PLATFORM_ACCOUNT_PROVIDERS" not in environment["Environment"]["Variables"]


def test_with_the_platform_account_open_they_get_exactly_the_ec2_calls_the_backend_makes(synth: Synth):
    stack = Stack(synth.template, REGION)
    for function in BACKEND_FUNCTIONS:
        statements = provider_statements(synth, function)
        ec2 = [s for s in statements if str(_listed(s["Action"])[0]).startswith("ec2:")]
        granted = {a for s in ec2 for a in _listed(s["Action"])}
        assert granted == set(EC2_ACTIONS), function
        conditions = {a: s.get("Condition") for s in ec2 for a in _listed(s["Action"])}
        tagged = {"Null": {"aws:ResourceTag/cirrus:offering": "false"}}
        for change in ("ec2:TerminateInstances", "ec2:StopInstances", "ec2:ModifyInstanceAttribute"):
            assert conditions[change] == tagged
        assert conditions["ec2:DeleteSecurityGroup"] == tagged
        assert conditions["ec2:CreateTags"] == {
            "StringEquals": {"ec2:CreateAction": ["RunInstances", "CreateSecurityGroup"]}
        }
        assert conditions["ec2:RunInstances"] is None and conditions["ec2:DescribeInstances"] is None
        variables = stack.functions()[function]["Properties"]["Environment"]["Variables"]
        assert variables["CIRRUS_AWS_PLATFORM_ACCOUNT_PROVIDERS"] == PROVIDER


def test_the_role_prefix_the_grant_names_is_the_one_the_backend_checks() -> None:
    from chalicelib.providers.aws.options import ROLE_ARN

    assert ROLE_ARN.match("arn:aws:iam::123456789012:role/cirrus-provisioning")
    assert not ROLE_ARN.match("arn:aws:iam::123456789012:role/Admin")
    assert not ROLE_ARN.match("arn:aws:iam::123456789012:role/team/cirrus-x")  # a path the grant misses
    assert Path("infra/cdk/cirrus_infra/providers.py").read_text().count('"role/cirrus-*"') == 1


def test_no_backend_function_may_assume_a_role_of_the_platforms_account(default_synth: Synth):
    """The stack's own roles are named cirrus-<stage>-... too: an explicit Deny keeps an offering's
    role_arn from naming one, whatever that role's trust policy says."""
    stack = Stack(default_synth.template, REGION)
    for function in BACKEND_FUNCTIONS:
        denied = [
            s for s in stack.role_statements(stack.role_of(function))
            if s.get("Effect") == "Deny" and "sts:AssumeRole" in _listed(s["Action"])
        ]  # fmt: skip
        assert [s["Resource"] for s in denied] == ["arn:aws:iam::123456789012:role/*"], function


def test_offerings_may_reference_only_the_secrets_named_cirrus_providers(default_synth: Synth):
    stack = Stack(default_synth.template, REGION)
    for function in BACKEND_FUNCTIONS:
        reads = [
            s["Resource"] for s in stack.role_statements(stack.role_of(function))
            if "secretsmanager:GetSecretValue" in _listed(s["Action"]) and s.get("Effect") == "Allow"
        ]  # fmt: skip
        assert "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cirrus/providers/*" in reads, function
