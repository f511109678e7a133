"""The queue consumers Chalice packages from app.py (`@app.on_sqs_message(name="<queue>_worker")`),
pointed at the stack's queues.

Chalice's SAM event source names its queue (`arn:...:cirrus-tasks`, app.py's placeholder) and has no
ReportBatchItemFailures, which the consumer's partial batch responses need: both are overridden here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


# How many instances of each consumer its queue's event source may run at once (the event source's
# ScalingConfig.MaximumConcurrency, 2 to 1000). An account starts with 1000 concurrent executions shared
# by every function in its region (new accounts may get less; Service Quotas shows it): with these
# defaults the consumers take at most 10 + 5 + 5 = 20 and the publisher one per stream shard (its
# ParallelizationFactor is 1), leaving ~975 to the API, which at ~100 ms per request serves thousands
# of requests per second. Without a cap, a backlog of thousands of messages would scale the pollers to
# hundreds of concurrent consumers (up to 1250 per queue) and the API would answer 429/503. Reserved
# concurrency is not used: it subtracts from the pool even when idle, and AWS refuses a reservation
# that leaves fewer than 100 unreserved, which fails the deploy on an account with a low quota.
DEFAULT_MAX_CONCURRENCY: dict[str, int] = {"tasks": 10, "heavy": 5, "background": 5}
MAX_CONCURRENCY_RANGE = range(2, 1001)


def max_concurrency(overrides: Mapping[str, int]) -> dict[str, int]:
    """Each queue's cap: the defaults, with `overrides` (checked against SQS's allowed range)."""
    unknown = set(overrides) - set(QUEUES)
    if unknown:
        raise ValueError(f"worker_concurrency names unknown queues {sorted(unknown)} (known: {QUEUES})")
    caps = {queue: DEFAULT_MAX_CONCURRENCY.get(queue, 5) for queue in QUEUES} | dict(overrides)
    for queue, cap in caps.items():
        if cap not in MAX_CONCURRENCY_RANGE:
            raise ValueError(f"worker_concurrency for {queue} must be 2 to 1000, got {cap}")
    return caps


def wire_workers(
    scope: Construct,
    api: Chalice,
    queues: WorkQueues,
    *,
    timeout: int,
    log_retention: logs.RetentionDays,
    concurrency: Mapping[str, int],
) -> dict[str, CfnResource]:
    """Each consumer reads its CDK queue, reports partial batch failures, runs up to `timeout` seconds
    (the queues' visibility timeout is derived from it) in at most `concurrency[queue]` instances, and
    logs to a group that expires (`log_group`)."""
    workers = {}
    for queue in QUEUES:
        function = api.get_resource(worker_id(queue))
        source = f"Events.{event_id(queue)}.Properties"
        function.add_property_override(f"{source}.Queue", queues[queue].queue_arn)
        function.add_property_override(f"{source}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        function.add_property_override(f"{source}.ScalingConfig.MaximumConcurrency", concurrency[queue])
        function.add_property_override("Timeout", timeout)
        log_group = logs.LogGroup(scope, _log_group_id(queue), retention=log_retention)
        function.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
        workers[queue] = function
    return workers


def _log_group_id(queue: str) -> str:
    return f"{worker_id(queue)}Logs"


def log_group(scope: Construct, queue: str) -> logs.LogGroup:
    """The group `wire_workers` made for the queue's consumer."""
    group = scope.node.find_child(_log_group_id(queue))
    if not isinstance(group, logs.LogGroup):
        raise TypeError(f"expected a log group, got {group!r}")
    return group


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


LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")


def scope_log_statements(role: iam.CfnRole, log_group_arns: list[str]) -> None:
    """Chalice lets its role create and write any log group (`arn:*:logs:*:*:*`); the functions log to
    groups the stack creates (LoggingConfig), so the role may write those, and create none."""

    def scope(statement: dict[str, Any]) -> dict[str, Any] | None:
        actions = _actions(statement)
        if not any(action in LOG_ACTIONS for action in actions):
            return statement
        if any(action not in LOG_ACTIONS for action in actions):
            raise ValueError(f"unexpected actions beside the log actions in {role.node.path}: {actions}")
        return {
            **statement,
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_group_arns,
        }

    rewrite_statements(role, scope)
