"""EventBridge Scheduler schedules from `chalicelib.workflows.schedules.SCHEDULES` (Celery beat's
replacement): each firing sends its task's envelope straight to the task's queue."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from chalicelib.workflows import registry
from chalicelib.workflows.envelope import TaskContext
from chalicelib.workflows.queues import envelope_for
from chalicelib.workflows.schedules import SCHEDULES, Schedule
from cirrus_infra.queues import WorkQueues, dead_letter_queue, depth_alarm

# Filled in by the Scheduler at each invocation: every firing is a distinct delivery to the consumer's
# idempotency check (a fixed key would make every firing after the first a "duplicate").
EXECUTION_ID = "<aws.scheduler.execution-id>"


def envelope_input(schedule: Schedule) -> str:
    """The TaskEnvelope JSON the consumer parses, keyed (and correlated) by the Scheduler's
    execution id."""
    envelope = envelope_for(schedule.task, schedule.payload, idempotency_key=EXECUTION_ID)
    envelope.context = TaskContext(correlation_id=EXECUTION_ID)
    return envelope.model_dump_json()


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        queues: WorkQueues,
        support_backend: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        registry.load_all()
        # The support desk's pull is deployed only with an external desk configured (with the
        # built-in desk alone it would do nothing, 288 times a day).
        deployed = [s for s in SCHEDULES if support_backend or not s.needs_support_backend]
        targets = {s.name: queues[registry.get(s.task).queue] for s in deployed}
        # Deliveries the Scheduler gave up on (queue unavailable, permission denied) land here.
        self.dead_letters = dead_letter_queue(
            self, "DeadLetters", f"{prefix}-schedules-dlq", fed_by="the EventBridge Scheduler's targets"
        )
        self.alarms: list[cloudwatch.Alarm] = [depth_alarm(self, "DeadLettersAlarm", self.dead_letters)]
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                # Only schedules in this account may use the role (confused deputy).
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
            description="EventBridge Scheduler: send scheduled Cirrus tasks to their queues",
        )
        # Exactly the queues the schedules target, and the dead-letter queue.
        allowed = {q.node.path: q for q in [*targets.values(), self.dead_letters]}
        self.policy = iam.Policy(
            self,
            "SendPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["sqs:SendMessage"], resources=[q.queue_arn for q in allowed.values()]
                )
            ],
        )
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        for schedule in deployed:
            self.schedules[schedule.name] = scheduler.CfnSchedule(
                self,
                _pascal(schedule.name),
                name=f"{prefix}-{schedule.name}",
                description=f"Sends task {schedule.task}",
                schedule_expression=schedule.expression,
                schedule_expression_timezone="UTC",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state="ENABLED",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=targets[schedule.name].queue_arn,
                    role_arn=self.role.role_arn,
                    input=envelope_input(schedule),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        # A firing more than an hour late is superseded by the next one.
                        maximum_event_age_in_seconds=int(Duration.hours(1).to_seconds()),
                        maximum_retry_attempts=10,
                    ),
                    dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                        arn=self.dead_letters.queue_arn
                    ),
                ),
            )
            # The role's policy is a separate resource: have it in place before the first firing.
            self.schedules[schedule.name].node.add_dependency(self.policy)
