"""cdk-nag (the AwsSolutions and Serverless packs) on the Cirrus stack: the packs, and the findings Cirrus
accepts, each with its reason.

Two kinds of suppression:
- on a resource CDK builds (the table, queues, user pool, roles of the workflows and the publisher...):
  `suppress(construct, rule, reason)` in the construct file that owns it, beside the code it explains;
- on a resource `chalice package` or the SAM transform makes (Chalice's DefaultRole, the functions, their
  event source mappings): these are no CDK constructs (SAM resources exist only as
  `AWS::Serverless::*` until CloudFormation transforms them), so they are named here, in
  `SAM_SUPPRESSIONS`, by rule, CloudFormation type and logical id, and applied both to Chalice's template
  in the stack (`suppress_sam_resources`) and to the SAM-transformed template the test checks
  (tests/infra/test_nag.py).

A reason starting "TEMPORARY until" names the change that removes the finding; tests/infra/test_nag.py
fails on a suppression that no longer silences anything, so a merge that fixes one says so.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CfnResource
from aws_cdk.cloudformation_include import CfnInclude
from cdk_nag import (
    AwsSolutionsChecks,
    NagPack,
    NagPackSuppression,
    NagSuppressions,
    RegexAppliesTo,
    ServerlessChecks,
)
from constructs import IConstruct

# Chalice's functions in the SAM template (stack.py and workers.py name them), and what SAM makes of them.
CHALICE_FUNCTIONS = ("APIHandler", "TasksWorker", "HeavyWorker", "BackgroundWorker", "EventsPublisher")
SQS_EVENT_SOURCES = ("*WorkerSqsEventSource",)


def packs(*, verbose: bool = False, log_ignores: bool = True) -> list[NagPack]:
    """The packs, reporting through annotations only (no CSV report files): errors fail `cdk synth`
    (infra/cdk/app.py), and tests/infra/test_nag.py lists them. `log_ignores`: each suppressed finding is
    noted too (an info annotation), so the test can tell a suppression that silences nothing."""
    return [
        pack(verbose=verbose, log_ignores=log_ignores, reports=False)
        for pack in (AwsSolutionsChecks, ServerlessChecks)
    ]


def suppress(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    applies_to: Sequence[str | RegexAppliesTo] = (),
    children: bool = False,
) -> None:
    """Accept `rule`'s finding on `construct` (and its children, e.g. a role's default policy), for
    `reason`; `applies_to` narrows it to the named findings (IAM5's `Resource::<arn>`)."""
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=rule, reason=reason, applies_to=list(applies_to) or None)],
        apply_to_children=children,
    )


@dataclass(frozen=True)
class SamSuppression:
    rule: str
    type: str  # the CloudFormation type cdk-nag checks (after the SAM transform)
    logical_ids: tuple[str, ...]  # fnmatch patterns
    reason: str
    applies_to: tuple[str, ...] = ()

    def matches(self, logical_id: str, type_: str) -> bool:
        return type_ == self.type and any(fnmatch.fnmatchcase(logical_id, p) for p in self.logical_ids)


SAM_SUPPRESSIONS: tuple[SamSuppression, ...] = (
    # Every Chalice function.
    SamSuppression(
        "AwsSolutions-L1",
        "AWS::Lambda::Function",
        CHALICE_FUNCTIONS,
        "The runtime is the Python the bundle is built, compiled (.pyc) and tested for, chosen on purpose "
        "(python3.12 by issue 19's decision); moving to a newer one is a change of its own, not a lint fix",
    ),
    SamSuppression(
        "Serverless-LambdaLatestVersion",
        "AWS::Lambda::Function",
        CHALICE_FUNCTIONS,
        "The runtime is the Python the bundle is built, compiled (.pyc) and tested for, chosen on purpose "
        "(python3.12 by issue 19's decision); moving to a newer one is a change of its own, not a lint fix",
    ),
    SamSuppression(
        "Serverless-LambdaTracing",
        "AWS::Lambda::Function",
        CHALICE_FUNCTIONS,
        "X-Ray is off on purpose (issue 19): no SDK produced traces, and sampled ones would cost about "
        "$0.65 per 1M requests; requests are followed by the correlation id in every log line "
        "(powertools Logger), EMF metrics and CloudWatch alarms",
    ),
    SamSuppression(
        "Serverless-LambdaDLQ",
        "AWS::Lambda::Function",
        CHALICE_FUNCTIONS,
        "No function is invoked asynchronously (a function's dead-letter queue only catches async "
        "events): API Gateway invokes the API synchronously, and the workers and the publisher run "
        "from event source mappings, whose failures go to each queue's redrive dead-letter queue and "
        "to the publisher's on-failure queue",
    ),
    SamSuppression(
        "Serverless-LambdaEventSourceMappingDestination",
        "AWS::Lambda::EventSourceMapping",
        SQS_EVENT_SOURCES,
        "An SQS event source mapping takes no on-failure destination (only stream and Kafka sources "
        "do): the queue's redrive policy moves a message to its dead-letter queue after max_receives "
        "receives (queues.py), and an alarm on that queue's depth calls an operator",
    ),
)


def sam_suppressions(logical_id: str, type_: str) -> list[SamSuppression]:
    return [s for s in SAM_SUPPRESSIONS if s.matches(logical_id, type_)]


def suppress_sam_resources(template: CfnInclude) -> int:
    """Apply `SAM_SUPPRESSIONS` to the resources of an included template (Chalice's, or the test's
    SAM-transformed stack). Returns how many resources got suppressions."""
    count = 0
    for child in template.node.children:
        if not isinstance(child, CfnResource):
            continue
        found = sam_suppressions(child.node.id, child.cfn_resource_type)
        if found:
            NagSuppressions.add_resource_suppressions(
                child,
                [
                    NagPackSuppression(id=s.rule, reason=s.reason, applies_to=list(s.applies_to) or None)
                    for s in found
                ],
            )
            count += 1
    return count
