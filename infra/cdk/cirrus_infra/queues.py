"""The work queues of `chalicelib.workflows.registry.QUEUES`, each with its dead-letter queue and alarms,
as `chalicelib.local.aws.create_queues` builds them locally: `<prefix>-<queue>`, `<prefix>-<queue>-dlq`,
redrive after `max_receives` receives."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.workflows.registry import QUEUES
from cirrus_infra.nag import suppress

# A message older than this waits on a stuck or throttled consumer: interactive follow-ups should be
# picked up within minutes, provider calls and housekeeping may queue up for a while.
AGE_ALARMS: dict[str, Duration] = {
    "tasks": Duration.minutes(15),
    "heavy": Duration.hours(1),
    "background": Duration.hours(1),
}
DEFAULT_AGE_ALARM = Duration.hours(1)
# AWS's guidance for a Lambda event source: at least six times the function timeout (plus the batching
# window, 0 here), so the retries Lambda makes inside one visibility period don't redeliver.
VISIBILITY_PER_TIMEOUT = 6
DLQ_RETENTION = Duration.days(14)  # the maximum; longer than the source queue's (default 4 days)


def secure_queue(scope: Construct, construct_id: str, name: str, **props: Any) -> sqs.Queue:
    """SQS-managed encryption (no KMS key: Step Functions, Scheduler and Lambda need no key grants)
    and TLS-only access."""
    return sqs.Queue(
        scope,
        construct_id,
        queue_name=name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        **props,
    )


def dead_letter_queue(
    scope: Construct, construct_id: str, name: str, *, fed_by: str | None = None
) -> sqs.Queue:
    """A dead-letter queue, kept as long as SQS allows; its depth alarm (`depth_alarm`) calls an
    operator. `fed_by`: what sends to it when that is not an SQS redrive policy, which cdk-nag cannot
    see (a Scheduler target's or an event source mapping's dead-letter queue)."""
    queue = secure_queue(scope, construct_id, name, retention_period=DLQ_RETENTION)
    suppress(
        queue,
        "Serverless-SQSRedrivePolicy",
        "A dead-letter queue is the end of the line: its depth alarm calls an operator, who redrives "
        "or discards its messages (README, Operating)",
    )
    if fed_by:
        suppress(queue, "AwsSolutions-SQS3", f"It is a dead-letter queue: of {fed_by}")
    return queue


def depth_alarm(scope: Construct, construct_id: str, queue: sqs.IQueue) -> cloudwatch.Alarm:
    """Any message in a dead-letter queue needs an operator (see README, "Operating")."""
    return queue.metric_approximate_number_of_messages_visible(
        period=Duration.minutes(5), statistic="Maximum"
    ).create_alarm(
        scope,
        construct_id,
        alarm_description=f"Messages in dead-letter queue {queue.queue_name}: work that failed every "
        "retry. `python -m chalicelib.ops queues` lists them; the failure is in the consumer's log "
        '("task failed", with the message id); fix the cause, then redrive them to their queue '
        "(`python -m chalicelib.ops redrive <queue>`; a missed schedule firing is superseded by the "
        "next one) or discard them.",
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


class WorkQueue(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        max_receives: int,
        visibility_timeout: Duration,
        max_age: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(self, "DeadLetters", f"{name}-dlq")
        self.queue = secure_queue(
            self,
            "Queue",
            name,
            visibility_timeout=visibility_timeout,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=max_receives),
        )
        self.alarms = [
            depth_alarm(self, "DeadLettersAlarm", self.dead_letters),
            self.queue.metric_approximate_age_of_oldest_message(
                period=Duration.minutes(5), statistic="Maximum"
            ).create_alarm(
                self,
                "AgeAlarm",
                alarm_description=f"Oldest message in {name} is older than {max_age.to_human_string()}: "
                "its consumer is failing, throttled or at its concurrency cap behind a backlog (the "
                "dashboard's queue depth and the consumer's errors and throttles say which). "
                "`python -m chalicelib.ops queues` shows waiting and in-flight messages.",
                threshold=max_age.to_seconds(),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]


class WorkQueues(Construct):
    """One `WorkQueue` per registry queue; `environment()` is what the functions read (queues.py)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, prefix: str, max_receives: int, consumer_timeout: int
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, WorkQueue] = {
            queue: WorkQueue(
                self,
                queue.capitalize(),
                name=f"{prefix}-{queue}",
                max_receives=max_receives,
                visibility_timeout=Duration.seconds(VISIBILITY_PER_TIMEOUT * consumer_timeout),
                max_age=AGE_ALARMS.get(queue, DEFAULT_AGE_ALARM),
            )
            for queue in QUEUES
        }

    def __getitem__(self, queue: str) -> sqs.Queue:
        return self.by_name[queue].queue

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        return [alarm for q in self.by_name.values() for alarm in q.alarms]

    def environment(self) -> dict[str, str]:
        env = {}
        for queue, q in self.by_name.items():
            env[f"CIRRUS_QUEUE_URL_{queue.upper()}"] = q.queue.queue_url
            env[f"CIRRUS_DLQ_URL_{queue.upper()}"] = q.dead_letters.queue_url
        return env
