"""The queue consumers Chalice packages from app.py (`@app.on_sqs_message(name="<queue>_worker")`),
pointed at the stack's queues.

Chalice's SAM event source names its queue (`arn:...:cirrus-tasks`, app.py's placeholder) and has no
ReportBatchItemFailures, which the consumer's partial batch responses need: both are overridden here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import CfnResource, IResolvable
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.workflows.registry import QUEUES
from cirrus_infra.queues import WorkQueues


def worker_id(queue: str) -> str:
    """The SAM logical id of the queue's consumer: Chalice CamelCases the function's name."""
    return "".join(part.capitalize() for part in f"{queue}_worker".split("_"))


def event_id(queue: str) -> str:
    return f"{worker_id(queue)}SqsEventSource"


def wire_workers(
    scope: Construct, api: Chalice, queues: WorkQueues, *, timeout: int, log_retention: logs.RetentionDays
) -> dict[str, CfnResource]:
    """Each consumer reads its CDK queue, reports partial batch failures, runs up to `timeout` seconds
    (the queues' visibility timeout is derived from it) and logs to a group that expires."""
    workers = {}
    for queue in QUEUES:
        function = api.get_resource(worker_id(queue))
        source = f"Events.{event_id(queue)}.Properties"
        function.add_property_override(f"{source}.Queue", queues[queue].queue_arn)
        function.add_property_override(f"{source}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        function.add_property_override("Timeout", timeout)
        log_group = logs.LogGroup(scope, f"{worker_id(queue)}Logs", retention=log_retention)
        function.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
        workers[queue] = function
    return workers


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def rewrite_statements(role: iam.CfnRole, rewrite: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
    """Pass every statement of the role's inline policies (Chalice writes them as plain documents)
    through `rewrite`; a statement it maps to None is dropped."""
    if not isinstance(role.policies, list):
        raise TypeError(f"expected {role.node.path}'s inline policies as a list, got {role.policies!r}")
    policies: list[iam.CfnRole.PolicyProperty | IResolvable] = []
    for policy in role.policies:
        if not isinstance(policy, iam.CfnRole.PolicyProperty) or not isinstance(policy.policy_document, dict):
            raise TypeError(f"expected an inline policy document in {role.node.path}, got {policy!r}")
        document = dict(policy.policy_document)
        rewritten = (rewrite(statement) for statement in document.get("Statement", []))
        document["Statement"] = [statement for statement in rewritten if statement is not None]
        policies.append(iam.CfnRole.PolicyProperty(policy_document=document, policy_name=policy.policy_name))
    role.policies = policies


def scope_consumer_policy(role: iam.CfnRole, queue_arns: list[str]) -> None:
    """Chalice's role may receive and delete messages on any queue (`"Resource": "*"`) once the app has
    an SQS consumer: narrow those statements to the stack's queues."""

    def scope(statement: dict[str, Any]) -> dict[str, Any]:
        if any(action.startswith("sqs:") for action in _actions(statement)):
            return {**statement, "Resource": queue_arns}
        return statement

    rewrite_statements(role, scope)
