"""Publishing the audit log: the table's stream → the Chalice function `events_publisher`
(`chalicelib/workflows/publisher.py`) → the EventBridge bus `<prefix>-events` (archived), the
`hooks.dispatch` task on the background queue and each event's follow-up task (an order's
`marketplace.ensure_started` on the tasks queue). The same function keeps the platform-wide totals
(`chalicelib/store/counters.py`) from the counted items' INSERTs and REMOVEs, and the audit log's
counts that tenants share (staff index shards, offering and user feeds) from the event records: it
writes the `COUNTER#`, `EVCOUNT#` and `TALLY#` items of the table, and nothing else.

Chalice's DynamoDB event source names a placeholder stream, has no filter, no partial batch responses
and retries a failing batch until its records leave the stream (24 hours), blocking the shard: all of
that is overridden here. The publisher gets a role of its own, scoped to the stream, the bus, the
queues of the tasks it queues (`publisher_queues`) and its dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.store import analytics_sources, counters, keys
from chalicelib.workflows import registry
from chalicelib.workflows.publisher import (
    DEAD_LETTERS_URL_ENV,
    DISPATCH_TASK,
    EVENT_ITEM_TYPE,
    MAX_RETRY_ATTEMPTS,
    SOURCE,
    follow_up_tasks,
)
from cirrus_infra.nag import suppress
from cirrus_infra.queues import WorkQueues, dead_letter_queue
from cirrus_infra.workers import rewrite_statements

# The SAM logical ids of `@app.on_dynamodb_record(name="events_publisher")` and its event source, as
# Chalice CamelCases them.
PUBLISHER = "EventsPublisher"
PUBLISHER_EVENT_SOURCE = f"{PUBLISHER}DynamodbEventSource"

# Only new event records reach the function (no updates, no TTL deletions of events, no feed
# copies), and the INSERTs and REMOVEs of the item types a platform-wide total counts (the function
# works out which of those move a total: `counters.moves`).
STREAM_FILTER: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"type": {"S": [EVENT_ITEM_TYPE]}}},
}
COUNTED_INSERTS: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"type": {"S": list(counters.COUNTED_TYPES)}}},
}
COUNTED_REMOVES: dict[str, Any] = {
    "eventName": ["REMOVE"],
    "dynamodb": {"OldImage": {"type": {"S": list(counters.COUNTED_TYPES)}}},
}
# Every change of an item type the analytics aggregates take in (store/analytics_sources.py; the
# function works out which of those move an aggregate: most MODIFYs move none and write nothing).
FOLDED_CHANGES: dict[str, Any] = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"type": {"S": list(analytics_sources.source_types())}}},
}
FOLDED_REMOVES: dict[str, Any] = {
    "eventName": ["REMOVE"],
    "dynamodb": {"OldImage": {"type": {"S": list(analytics_sources.source_types())}}},
}
STREAM_FILTERS = (STREAM_FILTER, COUNTED_INSERTS, COUNTED_REMOVES, FOLDED_CHANGES, FOLDED_REMOVES)
# The partitions the publisher writes: the counters, the audit log's shared counts, the analytics
# aggregates and the markers of the records it counted and folded.
COUNTER_KEYS = [
    keys.counter_pk("*"),
    keys.event_count_pk("*"),
    keys.tally_pk("*"),
    keys.aggregate_pk("*"),
    keys.fold_pk("*"),
]
# The partitions the publisher reads: the active hooks of an event type (whether to queue its dispatch).
HOOK_SUBSCRIPTION_KEYS = [keys.hook_subscription_pk("*")]
# A DynamoDB stream keeps its records 24 hours: retrying a batch longer than that is pointless.
MAX_RECORD_AGE = Duration.days(1)
# MAX_RETRY_ATTEMPTS (publisher.py, which the local stream reader also follows): retries of a
# failing batch (halved on each error, and only from the first failed record on when the function
# reports partial failures) before its records' positions go to the dead-letter queue. Records the
# publisher knows it can never publish it sends to that queue itself, without retries.
# The oldest record the publisher has yet to read; beyond this the audit log's subscribers lag.
ITERATOR_AGE_ALARM = Duration.minutes(5)

# Reading the stream. ListStreams has no resource-level permissions (it is authorised on "*" only
# and reveals stream ARNs, not data); the record-reading actions are scoped to the table's stream.
STREAM_READ_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
STREAM_LIST_ACTIONS = ["dynamodb:ListStreams"]


def publisher_queues() -> list[str]:
    """The work queues the publisher sends to: those of the tasks it queues (`hooks.dispatch` for
    every event, and each event type's follow-ups, `FOLLOW_UPS`), as the task registry routes them."""
    return sorted({registry.get(task).queue for task in (DISPATCH_TASK, *follow_up_tasks())})


def _is_stream_statement(statement: dict[str, Any]) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return any(action in (*STREAM_READ_ACTIONS, *STREAM_LIST_ACTIONS) for action in actions)


def drop_stream_statements(role: iam.CfnRole) -> None:
    """Chalice lets its shared role read every stream (`"Resource": "*"`) once the app has a stream
    handler; the publisher runs under its own role, so the shared one needs none of it."""
    rewrite_statements(role, lambda statement: None if _is_stream_statement(statement) else statement)


class EventPublishing(Construct):
    """The bus and its archive, the publisher's dead-letter queue, role and log group. Created before
    the Chalice app (whose environment names the bus); `wire` then points the publisher at them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        table: dynamodb.Table,
        queues: WorkQueues,
        archive_days: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        if archive_days < 0:
            raise ValueError("event_archive_days must be 0 (keep forever) or more")
        if table.table_stream_arn is None:
            raise ValueError("the table has no stream to publish from")
        self.table_stream_arn = table.table_stream_arn
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{prefix}-events")
        # The audit log kept beyond the table's TTL: every Cirrus event, replayable onto the bus.
        # Retained when the stack is deleted (or the archive replaced): it is the audit log beyond the
        # table's TTL. Its name is CloudFormation's, so a stage re-created after `cdk destroy` gets a
        # new archive beside the old one, which replays onto the new bus (same name, same ARN).
        self.archive = self.bus.archive(
            "Archive",
            description=f"Cirrus audit log events (source {SOURCE}) published on {prefix}-events",
            event_pattern=events.EventPattern(source=[SOURCE]),
            # 0: kept indefinitely (EventBridge's RetentionDays 0).
            retention=Duration.days(archive_days),
        )
        self.archive.apply_removal_policy(RemovalPolicy.RETAIN)
        # Where the stream's event source puts the positions of records it gave up on.
        self.dead_letters = dead_letter_queue(
            self,
            "PublisherDeadLetters",
            f"{prefix}-events-publisher-dlq",
            fed_by="the publisher's stream event source mapping (its on-failure destination)",
        )
        self.log_group = logs.LogGroup(self, "PublisherLogs", retention=log_retention)
        sends_to = [queues[queue].queue_arn for queue in publisher_queues()]
        # Inline policies: in place with the role, so the event source mapping (whose creation checks
        # that the role may read the stream) never waits on a separate policy resource.
        self.role = iam.Role(
            self,
            "PublisherRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Cirrus events publisher: table stream to the EventBridge bus and the task queues",
            inline_policies={
                "Publish": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(actions=STREAM_READ_ACTIONS, resources=[table.table_stream_arn]),
                        iam.PolicyStatement(actions=STREAM_LIST_ACTIONS, resources=["*"]),
                        iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.bus.event_bus_arn]),
                        # The totals and the analytics: a marker put and counter/aggregate updates per
                        # record, in one TransactWriteItems (authorised per item action), and a gauge's
                        # conditional point (UpdateItem), on those partitions only.
                        iam.PolicyStatement(
                            actions=["dynamodb:PutItem", "dynamodb:UpdateItem"],
                            resources=[table.table_arn],
                            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": COUNTER_KEYS}},
                        ),
                        # Whether an event's type has active hooks (publisher.py `_hooks_want`).
                        iam.PolicyStatement(
                            actions=["dynamodb:Query"],
                            resources=[table.table_arn],
                            conditions={
                                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": HOOK_SUBSCRIPTION_KEYS}
                            },
                        ),
                        # The tasks it queues (hooks.dispatch, the events' follow-ups such as
                        # marketplace.ensure_started), and the stream's on-failure destination (the
                        # event source mapping sends with the function's role).
                        iam.PolicyStatement(
                            actions=["sqs:SendMessage"], resources=[*sends_to, self.dead_letters.queue_arn]
                        ),
                        iam.PolicyStatement(
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[self.log_group.log_group_arn],
                        ),
                    ]
                )
            },
        )
        for rule in ("AwsSolutions-IAM5", "Serverless-LambdaStarPermissions"):
            suppress(
                self.role,
                rule,
                "Its one * is dynamodb:ListStreams, authorised on * only (it reveals stream ARNs, no "
                "data; the stream's records are read on the table's stream ARN)",
                applies_to=["Resource::*"] if rule == "AwsSolutions-IAM5" else (),
            )
        self.alarms: list[cloudwatch.Alarm] = [
            self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ).create_alarm(
                self,
                "PublisherDeadLettersAlarm",
                alarm_description="The events publisher gave up on stream records: each message in "
                f"{prefix}-events-publisher-dlq names a shard and sequence range (readable in the stream "
                "for 24 hours; the events stay in the table until their TTL): republish them",
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        ]

    def environment(self) -> dict[str, str]:
        return {
            "CIRRUS_EVENT_BUS_NAME": self.bus.event_bus_name,
            DEAD_LETTERS_URL_ENV: self.dead_letters.queue_url,
        }

    def wire(self, api: Chalice, *, timeout: int) -> CfnResource:
        """Point Chalice's publisher at the table's stream, filtered to event inserts and counted
        items' inserts and removes, with partial batch responses, bisection, bounded retries and an
        on-failure queue; run it under the publisher's role, log to a group that expires, and alarm
        on lag and errors."""
        function: CfnResource = api.get_resource(PUBLISHER)
        source = f"Events.{PUBLISHER_EVENT_SOURCE}.Properties"
        function.add_property_override(f"{source}.Stream", self.table_stream_arn)
        function.add_property_override(f"{source}.StartingPosition", "TRIM_HORIZON")
        function.add_property_override(f"{source}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        function.add_property_override(f"{source}.BisectBatchOnFunctionError", True)
        function.add_property_override(f"{source}.MaximumRetryAttempts", MAX_RETRY_ATTEMPTS)
        function.add_property_override(
            f"{source}.MaximumRecordAgeInSeconds", int(MAX_RECORD_AGE.to_seconds())
        )
        function.add_property_override(
            f"{source}.FilterCriteria", {"Filters": [{"Pattern": json.dumps(f)} for f in STREAM_FILTERS]}
        )
        function.add_property_override(
            f"{source}.DestinationConfig",
            {"OnFailure": {"Type": "SQS", "Destination": self.dead_letters.queue_arn}},
        )
        function.add_property_override("Role", self.role.role_arn)
        function.add_property_override("Timeout", timeout)
        function.add_property_override("LoggingConfig.LogGroup", self.log_group.log_group_name)
        self.alarms += self._function_alarms(function.ref)
        return function

    def _function_alarms(self, function_name: str) -> list[cloudwatch.Alarm]:
        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name=name,
                dimensions_map={"FunctionName": function_name},
                statistic=statistic,
                period=Duration.minutes(5),
            )

        common: dict[str, Any] = {
            "comparison_operator": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            "evaluation_periods": 1,
            "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
        }
        return [
            metric("IteratorAge", "Maximum").create_alarm(
                self,
                "PublisherIteratorAgeAlarm",
                alarm_description="The events publisher lags the table's stream by more than "
                f"{ITERATOR_AGE_ALARM.to_human_string()}: events reach the bus and the hooks late",
                threshold=ITERATOR_AGE_ALARM.to_milliseconds(),  # IteratorAge is in milliseconds
                **common,
            ),
            metric("Errors", "Sum").create_alarm(
                self,
                "PublisherErrorsAlarm",
                alarm_description="The events publisher failed (a batch is retried, then bisected; "
                "records still failing then are reported to the publisher's dead-letter queue)",
                threshold=0,
                **common,
            ),
        ]
