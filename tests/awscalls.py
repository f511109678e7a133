"""Recording every AWS call the code makes, per entry point, and what IAM authorises each one by.

`Recorder.installed()` wraps botocore's `BaseClient._make_api_call`, which every boto3 client and
pynamodb's connection go through, and notes each call with the entry point running at the time: the
`ENTRY_POINT` context variable, which the test harness sets around the Lambda handler it invokes
(`entry_point("TasksWorker")`). Calls made outside any entry point (the harness creating resources,
playing the event source mapping, reading the stream) are recorded with `entry_point=None`; calls
made while another call is in progress (moto running a state machine inside StartExecution) are
marked `nested` and belong to moto, not to the code.

`requests_for(call)` turns a call into the authorisation requests AWS makes for it: the IAM action
(`service:Operation` mostly; TransactWriteItems is authorised per item by PutItem/UpdateItem/
DeleteItem/ConditionCheckItem, TransactGetItems per item by GetItem), the resource ARN (table or
index, queue, state machine, execution, event bus, SES identity) and the condition keys a policy may
test (`dynamodb:LeadingKeys`). An operation it does not know raises `Unmapped`: a new kind of call
must be mapped here before the test can pass, never skipped.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

ENTRY_POINT: ContextVar[str | None] = ContextVar("cirrus_aws_entry_point", default=None)
_IN_CALL: ContextVar[bool] = ContextVar("cirrus_aws_in_call", default=False)


@contextmanager
def entry_point(name: str) -> Iterator[None]:
    """Attribute the AWS calls made inside to the function `name` (a template's logical id)."""
    token = ENTRY_POINT.set(name)
    try:
        yield
    finally:
        ENTRY_POINT.reset(token)


@dataclass(frozen=True)
class Call:
    entry_point: str | None
    service: str  # botocore's service name: dynamodb, sqs, stepfunctions, events, sesv2, sts, ...
    operation: str  # the API operation: PutItem, SendMessage, ...
    params: dict[str, Any] = field(hash=False)
    region: str
    nested: bool  # made by moto while serving another call

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[Recorder]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        recorder = self

        def recording(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            call = Call(
                entry_point=ENTRY_POINT.get(),
                service=client.meta.service_model.service_name,
                operation=operation_name,
                params=copy.deepcopy(api_params),
                region=client.meta.region_name,
                nested=_IN_CALL.get(),
            )
            with recorder._lock:
                recorder.calls.append(call)
            token = _IN_CALL.set(True)
            try:
                return original(client, operation_name, api_params)
            finally:
                _IN_CALL.reset(token)

        BaseClient._make_api_call = recording
        try:
            yield self
        finally:
            BaseClient._make_api_call = original

    def by_entry_point(self) -> dict[str, list[Call]]:
        found: dict[str, list[Call]] = {}
        for call in self.calls:
            if call.entry_point is not None and not call.nested:
                found.setdefault(call.entry_point, []).append(call)
        return found


# --- what IAM authorises a call by ---------------------------------------------------------------------


class Unmapped(Exception):
    """A call this module cannot map to IAM actions and resources (map it; never skip it)."""


@dataclass(frozen=True)
class Request:
    """One authorisation: `action` on any one of `resources` (usually one; SES sends as whichever of
    the address's or its domain's identity is verified), with the condition keys' values."""

    action: str
    resources: tuple[str, ...]
    context: tuple[tuple[str, tuple[str, ...] | None], ...] = ()

    def context_value(self, key: str) -> tuple[str, ...] | None:
        for name, values in self.context:
            if name.lower() == key.lower():
                return values
        raise KeyError(key)

    def has_context(self, key: str) -> bool:
        return any(name.lower() == key.lower() for name, _ in self.context)

    def __str__(self) -> str:
        resources = self.resources[0] if len(self.resources) == 1 else " or ".join(self.resources)
        keys = "".join(f" [{k}={list(v) if v is not None else '?'}]" for k, v in self.context)
        return f"{self.action} on {resources}{keys}"


# Operations AWS never authorises by IAM policy.
UNAUTHORISED = {("sts", "GetCallerIdentity")}

_LEADING_KEYS = "dynamodb:LeadingKeys"


@dataclass(frozen=True)
class Account:
    """Where the recorded calls are: moto's account in the test's region, the table's key names."""

    account: str
    partition: str = "aws"
    # table name -> its partition key attribute (for dynamodb:LeadingKeys)
    partition_keys: Mapping[str, str] = field(default_factory=dict)
    # Step Functions task token -> the ARN of the state machine whose execution issued it
    task_tokens: Mapping[str, str] = field(default_factory=dict)

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"


def _queue_arn(account: Account, region: str, url: str) -> str:
    # https://sqs.<region>.amazonaws.com/<account>/<name> (moto answers the same form)
    match = re.fullmatch(r"https?://[^/]+/(\d{12})/([^/?]+)/?", url)
    if not match:
        raise Unmapped(f"not an SQS queue URL: {url!r}")
    owner, name = match.groups()
    return f"arn:{account.partition}:sqs:{region}:{owner}:{name}"


def _table_arn(account: Account, region: str, table: str, index: str | None = None) -> str:
    base = table if table.startswith("arn:") else account.arn("dynamodb", region, f"table/{table}")
    return f"{base}/index/{index}" if index else base


def _string(value: Mapping[str, Any]) -> str:
    """A key attribute's value ({"S": ...}, {"N": ...}, {"B": ...}) as IAM compares it."""
    for kind in ("S", "N"):
        if kind in value:
            return str(value[kind])
    raise Unmapped(f"a key value IAM's dynamodb:LeadingKeys cannot be computed for: {value!r}")


def _leading_key(account: Account, table: str, key: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    name = account.partition_keys.get(table)
    if name is None or key is None or name not in key:
        return None
    return (_string(key[name]),)


def _query_leading_key(account: Account, params: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The partition key value a Query reads (`<name> = <value>` in its key condition), on the table
    itself; None for an index (its partition key is not the table's)."""
    if params.get("IndexName"):
        return None
    name = account.partition_keys.get(params["TableName"])
    expression = params.get("KeyConditionExpression") or ""
    names = {alias: real for alias, real in (params.get("ExpressionAttributeNames") or {}).items()}
    values = params.get("ExpressionAttributeValues") or {}
    for left, right in re.findall(r"([#\w]+)\s*=\s*(:\w+)", expression):
        if names.get(left, left) == name and right in values:
            return (_string(values[right]),)
    return None


def _dynamodb(call: Call, account: Account) -> list[Request]:
    p, region, op = call.params, call.region, call.operation

    def request(
        action: str, table: str, leading: tuple[str, ...] | None, index: str | None = None
    ) -> Request:
        return Request(
            f"dynamodb:{action}", (_table_arn(account, region, table, index),), ((_LEADING_KEYS, leading),)
        )

    if op in ("GetItem", "DeleteItem", "UpdateItem"):
        return [request(op, p["TableName"], _leading_key(account, p["TableName"], p.get("Key")))]
    if op == "PutItem":
        return [request(op, p["TableName"], _leading_key(account, p["TableName"], p.get("Item")))]
    if op == "Query":
        return [request(op, p["TableName"], _query_leading_key(account, p), p.get("IndexName"))]
    if op == "Scan":
        return [request(op, p["TableName"], None, p.get("IndexName"))]
    if op in ("DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups"):
        return [Request(f"dynamodb:{op}", (_table_arn(account, region, p["TableName"]),))]
    if op in ("BatchGetItem", "BatchWriteItem"):
        out = []
        for table, spec in p["RequestItems"].items():
            if op == "BatchGetItem":
                keys = spec["Keys"]
            else:
                keys = [
                    w.get("PutRequest", {}).get("Item") or w.get("DeleteRequest", {}).get("Key") for w in spec
                ]
            leading = [_leading_key(account, table, k) for k in keys]
            values = None if any(v is None for v in leading) else tuple(sorted({v[0] for v in leading if v}))
            out.append(request(op, table, values))
        return out
    if op == "TransactWriteItems":
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        out = []
        for item in p["TransactItems"]:
            [(kind, spec)] = item.items()
            key = spec.get("Item") if kind == "Put" else spec.get("Key")
            out.append(
                request(actions[kind], spec["TableName"], _leading_key(account, spec["TableName"], key))
            )
        return out
    if op == "TransactGetItems":
        out = []
        for item in p["TransactItems"]:
            spec = item["Get"]
            out.append(
                request(
                    "GetItem", spec["TableName"], _leading_key(account, spec["TableName"], spec.get("Key"))
                )
            )
        return out
    raise Unmapped(f"dynamodb.{op}")


def _sqs(call: Call, account: Account) -> list[Request]:
    p, op = call.params, call.operation
    if op == "GetQueueUrl":
        owner = p.get("QueueOwnerAWSAccountId") or account.account
        return [
            Request(
                "sqs:GetQueueUrl", (f"arn:{account.partition}:sqs:{call.region}:{owner}:{p['QueueName']}",)
            )
        ]
    # SendMessageBatch and DeleteMessageBatch are authorised as SendMessage and DeleteMessage.
    action = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
              "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}.get(op, op)  # fmt: skip
    if op in (
        "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
        "GetQueueAttributes", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "PurgeQueue",
    ):  # fmt: skip
        return [Request(f"sqs:{action}", (_queue_arn(account, call.region, p["QueueUrl"]),))]
    raise Unmapped(f"sqs.{op}")


def _state_machine_of_execution(execution_arn: str) -> str:
    head, _, _name = execution_arn.rpartition(":")
    return head.replace(":execution:", ":stateMachine:")


def _stepfunctions(call: Call, account: Account) -> list[Request]:
    p, op = call.params, call.operation
    if op == "StartExecution":
        return [Request("states:StartExecution", (p["stateMachineArn"],))]
    if op in ("DescribeExecution", "StopExecution", "GetExecutionHistory"):
        return [Request(f"states:{op}", (p["executionArn"],))]
    if op in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        # Authorised on the state machine whose execution issued the token.
        owner = account.task_tokens.get(p["taskToken"])
        if owner is None:
            raise Unmapped(
                f"states.{op}: a task token no recorded state machine issued: {p['taskToken'][:40]}"
            )
        return [Request(f"states:{op}", (owner,))]
    raise Unmapped(f"stepfunctions.{op}")


def _events(call: Call, account: Account) -> list[Request]:
    if call.operation != "PutEvents":
        raise Unmapped(f"events.{call.operation}")
    out = []
    for entry in call.params["Entries"]:
        bus = entry.get("EventBusName") or "default"
        arn = bus if bus.startswith("arn:") else account.arn("events", call.region, f"event-bus/{bus}")
        out.append(Request("events:PutEvents", (arn,)))
    return out


def _ses(call: Call, account: Account) -> list[Request]:
    if call.operation != "SendEmail":
        raise Unmapped(f"{call.service}.{call.operation}")
    sender = call.params.get("FromEmailAddress") or call.params.get("Source")
    if not sender:
        raise Unmapped(f"{call.service}.SendEmail without a sender")
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    identities = (address, address.rsplit("@", 1)[-1])
    return [
        Request("ses:SendEmail", tuple(account.arn("ses", call.region, f"identity/{i}") for i in identities))
    ]


def _cloudwatch(call: Call, account: Account) -> list[Request]:
    if call.operation != "PutMetricData":
        raise Unmapped(f"cloudwatch.{call.operation}")
    # No resource-level permissions: "*" only (a policy may test cloudwatch:namespace).
    namespace = call.params.get("Namespace")
    return [
        Request(
            "cloudwatch:PutMetricData",
            ("*",),
            (("cloudwatch:namespace", (namespace,) if namespace else None),),
        )
    ]


def _s3(call: Call, account: Account) -> list[Request]:
    """Object calls, authorised on the object's ARN (which names neither a region nor an account).
    A presigned URL is no call: whoever follows it acts with the signer's s3:GetObject. A multipart
    upload is authorised as a PutObject at each of its steps but its abort."""
    action = {"PutObject": "s3:PutObject", "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject",
              "DeleteObject": "s3:DeleteObject", "CreateMultipartUpload": "s3:PutObject",
              "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
              "AbortMultipartUpload": "s3:AbortMultipartUpload"}.get(call.operation)  # fmt: skip
    if action is None:
        raise Unmapped(f"s3.{call.operation}")
    return [Request(action, (f"arn:{account.partition}:s3:::{call.params['Bucket']}/{call.params['Key']}",))]


def _secretsmanager(call: Call, account: Account) -> list[Request]:
    """A secret's value, authorised on the secret's ARN (Cirrus names its secret by its full ARN)."""
    if call.operation != "GetSecretValue":
        raise Unmapped(f"secretsmanager.{call.operation}")
    secret = str(call.params["SecretId"])
    named = account.arn("secretsmanager", call.region, f"secret:{secret}")
    arn = secret if secret.startswith("arn:") else named
    return [Request("secretsmanager:GetSecretValue", (arn,))]


_MAPPERS = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "stepfunctions": _stepfunctions,
    "events": _events,
    "sesv2": _ses,
    "ses": _ses,
    "cloudwatch": _cloudwatch,
    "s3": _s3,
    "secretsmanager": _secretsmanager,
}


def requests_for(call: Call, account: Account) -> list[Request]:
    """What AWS authorises `call` by; [] for the calls IAM never checks; raises Unmapped."""
    if (call.service, call.operation) in UNAUTHORISED:
        return []
    mapper = _MAPPERS.get(call.service)
    if mapper is None:
        raise Unmapped(f"{call.service}.{call.operation}: no IAM mapping for service {call.service!r}")
    return mapper(call, account)


def task_token_owners(calls: list[Call]) -> dict[str, str]:
    """Which state machine issued each task token: the workflows send `{"payload": {"token": ...},
    "idempotency_key": "<execution ARN>|..."}` envelopes to the queues (statemachines/*.asl.json)."""
    owners = {}
    for call in calls:
        if call.service != "sqs" or call.operation != "SendMessage":
            continue
        try:
            body = json.loads(call.params.get("MessageBody") or "")
        except ValueError:
            continue
        if not isinstance(body, dict):
            continue
        token = (body.get("payload") or {}).get("token") if isinstance(body.get("payload"), dict) else None
        key = str(body.get("idempotency_key") or "")
        if token and ":execution:" in key:
            owners[token] = _state_machine_of_execution(key.split("|", 1)[0])
    return owners
