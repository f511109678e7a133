"""One Standard state machine per `statemachines/*.asl.json`, rendered by the same function and with
the same placeholder names as the local stack (`chalicelib.local.aws.create_state_machines`)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from chalicelib.workflows import stepfunctions
from chalicelib.workflows.registry import QUEUES
from cirrus_infra.nag import suppress
from cirrus_infra.queues import WorkQueues

# What the functions do to a state machine: start it (a second start of the same execution name is a
# no-op) and answer the task tokens its Task states hand out. The token calls are authorised against
# the state machine's ARN (CDK's grantTaskResponse does the same).
RUNTIME_ACTIONS = [
    "states:StartExecution",
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
]


# The order workflow's executions that ended in its `Stranded` state, counted from its execution log
# (level ALL): ExecutionsFailed counts erred orders too (their execution fails in `Failed`, by design).
STRANDED_FILTER = logs.FilterPattern.all(
    logs.FilterPattern.string_value("$.type", "=", "ExecutionFailed"),
    logs.FilterPattern.string_value("$.details.error", "=", stepfunctions.ORDER_STRANDED),
)
STRANDED_METRIC = "OrdersStranded"


def stranded_alarm(scope: Construct, prefix: str, log_group: logs.ILogGroup) -> cloudwatch.Alarm:
    """One stranded order pages: SQS kept refusing its workflow's sends, or its recheck or erring
    failed; the hourly sweep restarts it, the operator finds out why (README, "Operating")."""
    metric_filter = logs.MetricFilter(
        scope,
        "OrderStrandedFilter",
        log_group=log_group,
        filter_pattern=STRANDED_FILTER,
        metric_namespace=f"Cirrus/{prefix}",
        metric_name=STRANDED_METRIC,
        metric_value="1",
    )
    return metric_filter.metric(period=Duration.minutes(5), statistic="Sum").create_alarm(
        scope,
        "OrderStrandedAlarm",
        alarm_description=f"An order workflow ended in Stranded ({stepfunctions.ORDER_STRANDED}): "
        "its order waits until the hourly sweep restarts it; the execution's history says why",
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def queue_url_placeholder(queue: str) -> str:
    return f"{queue.capitalize()}QueueUrl"  # as create_state_machines names them


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class Workflows(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        queues: WorkQueues,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        # Queue URLs are CDK tokens here; in the rendered string they become an Fn::Join.
        values: dict[str, object] = dict(stepfunctions.DEFAULT_TIMING)
        values.update({queue_url_placeholder(q): queues[q].queue_url for q in QUEUES})
        self.state_machines: dict[str, sfn.StateMachine] = {}
        self.alarms: list[cloudwatch.Alarm] = []
        for name in stepfunctions.names():
            construct_name = _pascal(name)
            log_group = logs.LogGroup(
                self,
                f"{construct_name}Logs",
                # Step Functions' recommended prefix: no CloudWatch Logs resource policy to outgrow.
                log_group_name=f"/aws/vendedlogs/states/{prefix}-{name}",
                retention=log_retention,
                # Named: a retained group would block re-creating the stack under the same name. The
                # execution history itself stays in Step Functions (90 days after the execution ends).
                removal_policy=RemovalPolicy.DESTROY,
            )
            machine = sfn.StateMachine(
                self,
                construct_name,
                state_machine_name=f"{prefix}-{name}",
                state_machine_type=sfn.StateMachineType.STANDARD,
                definition_body=sfn.DefinitionBody.from_string(stepfunctions.render(name, values)),
                logs=sfn.LogOptions(
                    destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
                ),
                # No X-Ray: a trace of a workflow would stop at its queues (no function traces).
                tracing_enabled=False,
            )
            # The only thing a workflow does to the outside: send to the queues its definition names.
            used = [q for q in QUEUES if queue_url_placeholder(q) in stepfunctions.placeholders(name)]
            if used:
                machine.add_to_role_policy(
                    iam.PolicyStatement(
                        actions=["sqs:SendMessage"], resources=[queues[q].queue_arn for q in used]
                    )
                )
            suppress(
                machine.role,
                "AwsSolutions-IAM5",
                "Step Functions' log delivery (logs:CreateLogDelivery and the rest CDK grants for `logs`) "
                "is authorised on * only",
                applies_to=["Resource::*"],
                children=True,
            )
            for rule in ("AwsSolutions-SF2", "Serverless-StepFunctionStateMachineXray"):
                suppress(
                    machine,
                    rule,
                    "X-Ray is off on purpose (issue 19: traces nobody reads, at a price): each execution's "
                    "history and its log group (level ALL, with execution data) show every step",
                )
            self.state_machines[name] = machine
            if name == "order":
                self.alarms.append(stranded_alarm(self, prefix, log_group))

    def environment(self) -> dict[str, str]:
        return {
            f"CIRRUS_STATE_MACHINE_ARN_{name.upper()}": machine.state_machine_arn
            for name, machine in self.state_machines.items()
        }

    def grant_runtime(self, grantee: iam.IGrantable) -> list[iam.Grant]:
        """Start and follow executions, and answer their task tokens (workers, and the API when an
        approver answers a callback): on these state machines only."""
        machines = [m.state_machine_arn for m in self.state_machines.values()]
        executions = [
            Stack.of(self).format_arn(
                service="states",
                resource="execution",
                resource_name=f"{m.state_machine_name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for m in self.state_machines.values()
        ]
        return [
            iam.Grant.add_to_principal(grantee=grantee, actions=RUNTIME_ACTIONS, resource_arns=machines),
            iam.Grant.add_to_principal(
                grantee=grantee, actions=["states:DescribeExecution"], resource_arns=executions
            ),
        ]
