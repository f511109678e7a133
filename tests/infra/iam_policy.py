"""A synthesized template's IAM, evaluated: which role each function runs under, every statement that
role gets (its inline policies and the AWS::IAM::Policy resources attached to it), resolved to plain
strings with a fixed account, region and partition, and whether they allow an authorisation request
(`tests/awscalls.Request`).

Resolution covers the intrinsics and resource types the stack uses (Ref, Fn::GetAtt, Fn::Join,
Fn::Select, Fn::Split, Fn::Sub; tables, queues, state machines, buses, roles, log groups, user
pools...). Anything else in a policy raises `Unsupported`: a construct this module cannot evaluate
fails the test loudly instead of passing as "allowed" or "denied" by accident. The same goes for
statement elements (NotAction, NotResource, policy variables), condition operators and keys it does
not know, managed policies and permission boundaries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tests.awscalls import Request

ACCOUNT = "123456789012"  # moto's default account: the recorded calls' ARNs name it too
API_ID = "abcdef1234"  # the id of the stack's API Gateway API (REST or HTTP), as CloudFormation gives it
_API_TYPES = (
    "AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api",
)  # fmt: skip
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


class Unsupported(Exception):
    """Something in the template (a policy, a reference) this module cannot evaluate."""


@dataclass(frozen=True)
class Stack:
    template: Mapping[str, Any]
    region: str
    name: str = "cirrus-test"

    @property
    def resources(self) -> Mapping[str, Any]:
        return self.template["Resources"]  # type: ignore[no-any-return]

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{self.region if region else ''}:{ACCOUNT}:{resource}"

    # --- names -------------------------------------------------------------------------------------

    def physical_name(self, logical_id: str) -> str:
        """The resource's name: the one the template gives it, else a stand-in CloudFormation's
        generated name would take (stable, derived from the logical id)."""
        resource = self._resource(logical_id)
        props = resource.get("Properties", {})
        kind = resource["Type"]
        named = {
            "AWS::DynamoDB::Table": "TableName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::StepFunctions::StateMachine": "StateMachineName",
            "AWS::Events::EventBus": "Name",
            "AWS::IAM::Role": "RoleName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::Cognito::UserPoolDomain": "Domain",
            "AWS::SNS::Topic": "TopicName",
        }.get(kind)
        if named and named in props:
            return str(self.resolve(props[named]))
        if kind == "AWS::Cognito::UserPool":
            return f"{self.region}_{logical_id}"
        if kind == "AWS::S3::Bucket":  # bucket names are lower case
            return props.get("BucketName") or f"{self.name}-{logical_id}".lower()
        return f"{self.name}-{logical_id}"

    def _resource(self, logical_id: str) -> Mapping[str, Any]:
        try:
            return self.resources[logical_id]  # type: ignore[no-any-return]
        except KeyError:
            raise Unsupported(f"no resource {logical_id!r} in the template") from None

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::Partition": PARTITION,
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self.name,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id in self.template.get("Parameters", {}):
            raise Unsupported(f"Ref to parameter {logical_id!r}")
        kind = self._resource(logical_id)["Type"]
        name = self.physical_name(logical_id)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.{URL_SUFFIX}/{ACCOUNT}/{name}"
        if kind == "AWS::StepFunctions::StateMachine":
            return self.arn("states", f"stateMachine:{name}")
        if kind in (
            "AWS::DynamoDB::Table", "AWS::Events::EventBus", "AWS::IAM::Role", "AWS::Logs::LogGroup",
            "AWS::Serverless::Function", "AWS::Lambda::Function", "AWS::Cognito::UserPool",
            "AWS::Cognito::UserPoolDomain", "AWS::Cognito::UserPoolClient",
        ):  # fmt: skip
            return name
        if kind == "AWS::SNS::Topic":
            return self.arn("sns", name)
        if kind == "AWS::S3::Bucket":
            return name
        if kind in _API_TYPES:
            return API_ID
        raise Unsupported(f"Ref to {logical_id} ({kind})")

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._resource(logical_id)["Type"]
        name = self.physical_name(logical_id)
        known: dict[tuple[str, str], str] = {
            ("AWS::DynamoDB::Table", "Arn"): self.arn("dynamodb", f"table/{name}"),
            # The label is the stream's creation time; fixed here (only compared with itself).
            ("AWS::DynamoDB::Table", "StreamArn"): self.arn(
                "dynamodb", f"table/{name}/stream/1970-01-01T00:00:00.000"
            ),
            ("AWS::SQS::Queue", "Arn"): self.arn("sqs", name),
            ("AWS::SQS::Queue", "QueueName"): name,
            ("AWS::SQS::Queue", "QueueUrl"): self.ref(logical_id) if kind == "AWS::SQS::Queue" else "",
            ("AWS::StepFunctions::StateMachine", "Arn"): self.arn("states", f"stateMachine:{name}"),
            ("AWS::StepFunctions::StateMachine", "Name"): name,
            ("AWS::Events::EventBus", "Arn"): self.arn("events", f"event-bus/{name}"),
            ("AWS::Events::EventBus", "Name"): name,
            ("AWS::IAM::Role", "Arn"): self.arn("iam", f"role/{name}", region=False),
            ("AWS::Logs::LogGroup", "Arn"): self.arn("logs", f"log-group:{name}:*"),
            ("AWS::Cognito::UserPool", "Arn"): self.arn("cognito-idp", f"userpool/{name}"),
            ("AWS::Serverless::Function", "Arn"): self.arn("lambda", f"function:{name}"),
            ("AWS::Lambda::Function", "Arn"): self.arn("lambda", f"function:{name}"),
            # An S3 ARN names neither a region nor an account.
            ("AWS::S3::Bucket", "Arn"): f"arn:{PARTITION}:s3:::{name}",
        }
        if kind in _API_TYPES and attribute == "ApiEndpoint":
            return f"https://{API_ID}.execute-api.{self.region}.{URL_SUFFIX}"
        try:
            return known[(kind, attribute)]
        except KeyError:
            raise Unsupported(f"Fn::GetAtt {logical_id}.{attribute} ({kind})") from None

    def resolve_environment(self, variables: Mapping[str, Any]) -> dict[str, str]:
        """A function's environment variables, resolved; a variable naming something this module
        cannot resolve gets a stand-in (`unresolved:<name>`): a function's environment is not a policy,
        and a value the code then uses in an AWS call shows up as a call on that stand-in."""
        resolved = {}
        for name, value in variables.items():
            try:
                resolved[name] = str(self.resolve(value))
            except Unsupported:
                resolved[name] = f"unresolved:{name}"
        return resolved

    # --- intrinsics --------------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function evaluated; raises Unsupported on any other."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, arg)] = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(self.resolve(p)) for p in self.resolve(parts))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key.startswith("Fn::") or key == "Condition":
                raise Unsupported(f"intrinsic {key}: {json.dumps(value)[:200]}")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    # --- functions and their roles -----------------------------------------------------------------

    def functions(self) -> dict[str, Mapping[str, Any]]:
        return {
            k: v
            for k, v in self.resources.items()
            if v["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
        }

    def role_of(self, function_id: str) -> str:
        """The logical id of the role a function runs under (its `Role`, an ARN of a role here)."""
        props = self.functions()[function_id]["Properties"]
        if "Role" not in props:
            raise Unsupported(f"{function_id} has no Role (SAM would make one this module cannot see)")
        arn = self.resolve(props["Role"])
        for logical_id, resource in self.resources.items():
            if resource["Type"] == "AWS::IAM::Role" and self.get_att(logical_id, "Arn") == arn:
                return logical_id
        raise Unsupported(f"{function_id}'s role {arn} is not a role of this template")

    def role_statements(self, role_id: str) -> list[dict[str, Any]]:
        """Every statement the role gets, resolved: its inline policies and every AWS::IAM::Policy
        naming it. Managed policies, boundaries and AWS::IAM::ManagedPolicy resources are refused."""
        props = self._resource(role_id)["Properties"]
        for unsupported in ("ManagedPolicyArns", "PermissionsBoundary"):
            if props.get(unsupported):
                raise Unsupported(f"{role_id} has {unsupported}: {props[unsupported]}")
        name = self.physical_name(role_id)
        statements: list[dict[str, Any]] = []
        for policy in props.get("Policies", []):
            statements += _statements(self.resolve(policy["PolicyDocument"]))
        for logical_id, resource in self.resources.items():
            kind = resource["Type"]
            if kind not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            roles = self.resolve(resource["Properties"].get("Roles", []))
            if name not in roles:
                continue
            if kind == "AWS::IAM::ManagedPolicy":
                raise Unsupported(f"{logical_id}: a managed policy attached to {role_id}")
            statements += _statements(self.resolve(resource["Properties"]["PolicyDocument"]))
        return statements


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return [dict(s) for s in (statements if isinstance(statements, list) else [statements])]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@lru_cache(maxsize=1024)
def _glob(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters (`/` and `:` included), `?` one character."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


def _like(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    return _glob(pattern, case_sensitive).fullmatch(value) is not None


# Condition operators evaluated (with or without the ForAllValues:/ForAnyValue: set prefix) and the
# condition keys whose values a Request carries.
_OPERATORS = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": lambda pattern, value: _like(pattern, value),
}
_KEYS = {"dynamodb:leadingkeys", "cloudwatch:namespace"}


def _condition_holds(condition: Mapping[str, Any], request: Request) -> bool:
    for operator, tests in condition.items():
        prefix, _, base = operator.rpartition(":")
        if base not in _OPERATORS or prefix not in ("", "ForAllValues", "ForAnyValue"):
            raise Unsupported(f"condition operator {operator!r}")
        compare = _OPERATORS[base]
        for key, patterns in tests.items():
            if key.lower() not in _KEYS:
                raise Unsupported(f"condition key {key!r} ({operator})")
            if not request.has_context(key):
                raise Unsupported(f"{request.action} carries no {key} to test ({operator})")
            values = request.context_value(key)
            if values is None:
                raise Unsupported(f"the call's {key} is unknown: can't evaluate {operator} for {request}")
            allowed = _listed(patterns)

            def matches(value: str, allowed: list[str] = allowed, compare: Any = compare) -> bool:
                return any(compare(p, value) for p in allowed)

            if prefix == "ForAllValues":
                ok = all(matches(v) for v in values)  # (an empty set passes, as on AWS)
            elif prefix == "ForAnyValue":
                ok = any(matches(v) for v in values)
            else:
                if len(values) != 1:
                    raise Unsupported(f"single-valued {operator} on {len(values)} values of {key}")
                ok = matches(values[0])
            if not ok:
                return False
    return True


_ELEMENTS = {"Sid", "Effect", "Action", "Resource", "Condition"}


def _applies(statement: Mapping[str, Any], request: Request, resource: str) -> bool:
    unknown = set(statement) - _ELEMENTS
    if unknown:
        raise Unsupported(f"statement elements {sorted(unknown)}: {statement}")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise Unsupported(f"statement effect {statement.get('Effect')!r}")
    if not any(_like(a, request.action, case_sensitive=False) for a in _listed(statement["Action"])):
        return False
    patterns = _listed(statement["Resource"])
    for pattern in patterns:
        if not isinstance(pattern, str) or "${" in pattern:
            raise Unsupported(f"resource {pattern!r} (unresolved, or a policy variable)")
    if not any(_like(p, resource) for p in patterns):
        return False
    return _condition_holds(statement.get("Condition") or {}, request)


def allows(statements: list[dict[str, Any]], request: Request) -> bool:
    """Whether the statements allow the request on one of its resources: an Allow applies and no
    Deny does (identity policies only; the queues' resource policies deny only non-TLS access)."""
    for resource in request.resources:
        matching = [s for s in statements if _applies(s, request, resource)]
        if any(s["Effect"] == "Deny" for s in matching):
            continue
        if any(s["Effect"] == "Allow" for s in matching):
            return True
    return False


def granted(statements: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (action pattern, resource pattern) the Allow statements grant."""
    return [
        (action, resource)
        for s in statements
        if s["Effect"] == "Allow"
        for action in _listed(s["Action"])
        for resource in _listed(s["Resource"])
    ]


def covers(action_pattern: str, resource_pattern: str, request: Request) -> bool:
    """Whether a granted (action, resource) pattern is what `request` uses."""
    return _like(action_pattern, request.action, case_sensitive=False) and any(
        _like(resource_pattern, r) for r in request.resources
    )
