"""Operating the stack: where alarms go (an SNS topic, optionally mailed), the alarms beyond the ones the
queues, schedules, workflows and publisher carry themselves (API errors and latency, every function's
errors and throttles, every workflow's failed, timed-out and aborted executions, table throttles), and
one CloudWatch dashboard. README, "Operating", says what each alarm means and what to do.

Every alarm in the stack, whoever creates it, notifies the topic when it fires and when it recovers
(`AlarmActions`, an aspect: an alarm added later cannot be forgotten).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsii
from aws_cdk import Aws, Duration, IAspect, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from chalicelib import metrics as app_metrics
from cirrus_infra.nag import suppress

PERIOD = Duration.minutes(5)

# The application's own metrics, written as CloudWatch embedded metric format by powertools Metrics
# (chalicelib/metrics.py, whose namespace, dimension and names these are): each carries the dimension
# `stage`. Counts are summed; OrderTimeToDone is a duration (seconds) shown as percentiles.
APP_NAMESPACE = app_metrics.NAMESPACE
ORDERS_PLACED = app_metrics.ORDERS_PLACED.name
ORDERS_DONE = app_metrics.ORDERS_DONE.name
ORDERS_ERRED = app_metrics.ORDERS_ERRED.name
ORDER_TIME_TO_DONE = app_metrics.ORDER_TIME_TO_DONE.name
HOOK_FAILURES = app_metrics.HOOK_DELIVERY_FAILURES.name
BILLING_RUNS = app_metrics.BILLING_RUNS.name
APP_COUNTS = (ORDERS_PLACED, ORDERS_DONE, ORDERS_ERRED, HOOK_FAILURES, BILLING_RUNS)

# The API: a 5xx share above this (of at least API_MIN_REQUESTS requests in 5 minutes, so that one
# failed request at night is not 100%) pages; so does a p90 latency above API_LATENCY_P90 for
# API_LATENCY_PERIODS periods in a row (a cold start or one slow export is not an incident; most
# requests slow for a quarter of an hour is).
API_5XX_PERCENT = 5
API_MIN_REQUESTS = 20
API_LATENCY_P90 = Duration.seconds(2)
API_LATENCY_PERIODS = 3
# A workflow's execution fails by design when its order errs, a provider step fails or a callback is
# refused (statemachines/*.asl.json): each is the users' business, shown on the order. This many in
# an hour means a provider or the platform is broken.
FAILED_EXECUTIONS_PER_HOUR = 10


@dataclass(frozen=True)
class FrontDoor:
    """Which API Gateway metrics describe the API: the HTTP API `api_id` (its `$default` stage), or,
    when None, Chalice's REST API by name and stage (REST metrics carry `ApiName`, not the id)."""

    api_id: str | None
    rest_api_name: str = "cirrus"
    rest_stage: str = "api"

    def metric(self, name: str, statistic: str) -> cloudwatch.Metric:
        """`name` as the HTTP API calls it (`Count`, `5xx`, `4xx`, `Latency`, `IntegrationLatency`)."""
        if self.api_id is not None:
            return _metric("AWS/ApiGateway", name, {"ApiId": self.api_id, "Stage": "$default"}, statistic)
        rest_names = {"5xx": "5XXError", "4xx": "4XXError"}
        dimensions = {"ApiName": self.rest_api_name, "Stage": self.rest_stage}
        return _metric("AWS/ApiGateway", rest_names.get(name, name), dimensions, statistic)


def _metric(
    namespace: str, name: str, dimensions: Mapping[str, str], statistic: str, period: Duration = PERIOD
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dict(dimensions),
        statistic=statistic,
        period=period,
    )


def lambda_metric(function_name: str, name: str, statistic: str) -> cloudwatch.Metric:
    return _metric("AWS/Lambda", name, {"FunctionName": function_name}, statistic)


def app_metric(name: str, stage: str, statistic: str = "Sum", period: Duration = PERIOD) -> cloudwatch.Metric:
    return _metric(APP_NAMESPACE, name, {app_metrics.DIMENSION: stage}, statistic, period)


class AlarmTopic(Construct):
    """`<prefix>-alarms`, encrypted with a key of its own (CloudWatch cannot publish to a topic under
    the AWS-managed `alias/aws/sns` key, whose policy no one may extend), TLS-only, publishable by
    this account's alarms; `email` gets a subscription (AWS mails a confirmation link first)."""

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, email: str | None) -> None:
        super().__init__(scope, construct_id)
        alarms_in_account = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts {prefix}-alarms notifications",
            enable_key_rotation=True,
            # It protects nothing that outlives a notification's delivery.
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy: this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{prefix}-alarms",
            display_name=f"Cirrus {prefix} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        # A topic policy replaces SNS's default one (which lets the account's services publish), so
        # CloudWatch's right to publish is stated: for alarms of this account and region only.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": alarms_in_account},
                },
            )
        )
        if email:
            subscription = sns.Subscription(
                self,
                "Email",
                topic=self.topic,
                protocol=sns.SubscriptionProtocol.EMAIL,
                endpoint=email,
            )
            suppress(
                subscription,
                "Serverless-SNSRedrivePolicy",
                "An alarm e-mail SNS could not deliver stays visible where it matters: the alarm's state "
                "in CloudWatch and on the dashboard; a dead-letter queue of undelivered alarm mails would "
                "need someone to watch it, which is what the mail was for",
            )


@jsii.implements(IAspect)
class AlarmActions:
    """Every alarm notifies `topic` when it fires and when it is OK again (a recovery at night is worth
    knowing in the morning)."""

    def __init__(self, topic: sns.ITopic) -> None:
        self.action = cloudwatch_actions.SnsAction(topic)
        self.done: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cloudwatch.Alarm) and node.node.path not in self.done:
            self.done.add(node.node.path)
            node.add_alarm_action(self.action)
            node.add_ok_action(self.action)
        elif isinstance(node, cloudwatch.CfnAlarm) and not isinstance(node.node.scope, cloudwatch.Alarm):
            raise TypeError(f"{node.node.path}: create alarms as cloudwatch.Alarm (they get the topic)")


@dataclass(frozen=True)
class Watched:
    """What the alarms and the dashboard look at. `functions`: label → function name; `errors_alarmed`:
    labels whose Errors alarm exists already (the publisher's, events.py); `queues`: label → (queue,
    its dead-letter queue); `alarms`: the stack's other alarms (shown on the dashboard)."""

    front_door: FrontDoor
    functions: Mapping[str, str]
    errors_alarmed: frozenset[str]
    queues: Mapping[str, tuple[sqs.IQueue | None, sqs.IQueue]]
    state_machines: Mapping[str, sfn.StateMachine]
    table: dynamodb.Table
    index_names: Sequence[str]
    publisher: str
    alarms: Sequence[cloudwatch.IAlarm] = ()


_ABOVE: dict[str, Any] = {
    "comparison_operator": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
}


class Operations(Construct):
    """The alarms of `Watched` and the dashboard `<prefix>`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, prefix: str, stage: str, watched: Watched
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefix = prefix
        self.stage = stage
        self.watched = watched
        self.alarms: list[cloudwatch.Alarm] = [
            *self._api_alarms(),
            *self._function_alarms(),
            *self._workflow_alarms(),
            self._table_alarm(),
        ]
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=prefix, default_interval=Duration.hours(3)
        )
        for row in self._dashboard_rows():
            self.dashboard.add_widgets(*row)

    # Alarms --------------------------------------------------------------------------------------

    def _api_5xx_percent(self) -> cloudwatch.MathExpression:
        door = self.watched.front_door
        return cloudwatch.MathExpression(
            expression=f"IF(requests >= {API_MIN_REQUESTS}, 100 * errors / requests, 0)",
            using_metrics={"requests": door.metric("Count", "Sum"), "errors": door.metric("5xx", "Sum")},
            period=PERIOD,
            label="5xx %",
        )

    def _api_alarms(self) -> list[cloudwatch.Alarm]:
        door = self.watched.front_door
        return [
            self._api_5xx_percent().create_alarm(
                self,
                "Api5xxAlarm",
                alarm_description=f"More than {API_5XX_PERCENT}% of API requests answered 5xx in 5 minutes "
                f"(at least {API_MIN_REQUESTS} requests). Look at the API function's log group for "
                '"level":"ERROR" entries and its Errors/Throttles alarms; a 503/504 without a log entry '
                "is API Gateway (throttling, the 29 s integration timeout). Roll back a bad deploy.",
                threshold=API_5XX_PERCENT,
                evaluation_periods=1,
                **_ABOVE,
            ),
            door.metric("Latency", "p90").create_alarm(
                self,
                "ApiLatencyAlarm",
                alarm_description=f"API p90 latency above {API_LATENCY_P90.to_human_string()} for "
                f"{API_LATENCY_PERIODS * 5} minutes. Compare Latency with the function's Duration on the "
                "dashboard: if Duration is high too, look at DynamoDB throttles and slow requests in the "
                "log; if only Latency is, API Gateway or cold starts (SnapStart restores) are to blame.",
                threshold=API_LATENCY_P90.to_milliseconds(),
                evaluation_periods=API_LATENCY_PERIODS,
                **_ABOVE,
            ),
        ]

    def _function_alarms(self) -> list[cloudwatch.Alarm]:
        alarms = []
        for label, name in self.watched.functions.items():
            construct = "".join(part.capitalize() for part in label.split())
            if label not in self.watched.errors_alarmed:
                alarms.append(
                    lambda_metric(name, "Errors", "Sum").create_alarm(
                        self,
                        f"{construct}ErrorsAlarm",
                        alarm_description=f"The {label} function failed (an unhandled error, a timeout or "
                        "running out of memory; handled errors are answered or reported per message, "
                        "not counted here). Its log group has the stack trace ('Task timed out', "
                        "'Runtime exited'); queue consumers retry the batch, then dead-letter it.",
                        threshold=0,
                        evaluation_periods=1,
                        **_ABOVE,
                    )
                )
            alarms.append(
                lambda_metric(name, "Throttles", "Sum").create_alarm(
                    self,
                    f"{construct}ThrottlesAlarm",
                    alarm_description=f"Lambda refused to run the {label} function: the account's "
                    "concurrency is used up (ConcurrentExecutions on the dashboard). Find what is "
                    "running (a flood of API requests, another stack in the account), or ask AWS for a "
                    "higher concurrency quota; queue consumers are capped by MaximumConcurrency.",
                    threshold=0,
                    evaluation_periods=1,
                    **_ABOVE,
                )
            )
        return alarms

    def _workflow_alarms(self) -> list[cloudwatch.Alarm]:
        alarms = []
        for name, machine in self.watched.state_machines.items():
            construct = "".join(part.capitalize() for part in name.split("_"))
            machine_name = f"{self.prefix}-{name}"
            alarms += [
                machine.metric_failed(period=Duration.hours(1), statistic="Sum").create_alarm(
                    self,
                    f"{construct}FailedAlarm",
                    alarm_description=f"More than {FAILED_EXECUTIONS_PER_HOUR} executions of "
                    f"{machine_name} failed in an hour. One failure is an order that erred or a step a "
                    "provider refused; this many is a provider or the platform broken: `python -m "
                    f"chalicelib.ops executions --workflow {name} --status FAILED`, then `history` of one.",
                    threshold=FAILED_EXECUTIONS_PER_HOUR,
                    evaluation_periods=1,
                    **_ABOVE,
                ),
                machine.metric_timed_out(period=PERIOD, statistic="Sum").create_alarm(
                    self,
                    f"{construct}TimedOutAlarm",
                    alarm_description=f"An execution of {machine_name} timed out as a whole (its states "
                    "time out on their own first, so this is unexpected): read its history; an order "
                    "left waiting is restarted by the hourly sweep.",
                    threshold=0,
                    evaluation_periods=1,
                    **_ABOVE,
                ),
                machine.metric_aborted(period=PERIOD, statistic="Sum").create_alarm(
                    self,
                    f"{construct}AbortedAlarm",
                    alarm_description=f"An execution of {machine_name} was stopped (Cirrus never stops "
                    "one; a person or a script did): make sure its order or step was finished by hand.",
                    threshold=0,
                    evaluation_periods=1,
                    **_ABOVE,
                ),
            ]
        return alarms

    def _table_throttles(self) -> cloudwatch.MathExpression:
        table_name = self.watched.table.table_name
        metrics: dict[str, cloudwatch.IMetric] = {}
        targets = [("table", {"TableName": table_name})] + [
            (f"index{i}", {"TableName": table_name, "GlobalSecondaryIndexName": index})
            for i, index in enumerate(self.watched.index_names)
        ]
        for target, dimensions in targets:
            for kind in ("Read", "Write"):
                metrics[f"{target}{kind.lower()}"] = _metric(
                    "AWS/DynamoDB", f"{kind}ThrottleEvents", dimensions, "Sum"
                )
        return cloudwatch.MathExpression(
            expression="SUM(METRICS())", using_metrics=metrics, period=PERIOD, label="Throttled requests"
        )

    def _table_alarm(self) -> cloudwatch.Alarm:
        return self._table_throttles().create_alarm(
            self,
            "TableThrottlesAlarm",
            alarm_description="DynamoDB throttled reads or writes on the table or its indexes (the SDK "
            "retries; requests slow down or fail with 5xx). On demand, this is traffic above twice "
            "the previous peak or one hot partition key: see the dashboard's throttles by index and "
            "the log entries around the time; a bulk job (a backfill, an import) may need pacing.",
            threshold=0,
            evaluation_periods=1,
            **_ABOVE,
        )

    # The dashboard ---------------------------------------------------------------------------------

    def _dashboard_rows(self) -> list[list[cloudwatch.IWidget]]:
        w = self.watched
        door = w.front_door
        functions = w.functions.items()

        def graph(title: str, left: Sequence[cloudwatch.IMetric], **props: Any) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(left), width=8, height=6, **props)

        def per_function(metric: str, statistic: str) -> list[cloudwatch.IMetric]:
            return [lambda_metric(name, metric, statistic).with_(label=label) for label, name in functions]

        queues = w.queues.items()
        return [
            [
                cloudwatch.TextWidget(
                    markdown=f'# {self.prefix}\nAlarms: README, "Operating".', width=24, height=1
                )
            ],
            [
                graph(
                    "API requests and errors",
                    [door.metric("Count", "Sum")],
                    right=[door.metric("4xx", "Sum"), door.metric("5xx", "Sum")],
                ),
                graph(
                    "API latency (ms)",
                    [door.metric("Latency", s).with_(label=f"Latency {s}") for s in ("p50", "p90", "p99")]
                    + [door.metric("IntegrationLatency", "p90").with_(label="Integration p90")],
                ),
                cloudwatch.AlarmStatusWidget(
                    title="Alarms", alarms=[*self.watched.alarms, *self.alarms], width=8, height=6
                ),
            ],
            [
                graph("Lambda invocations", per_function("Invocations", "Sum")),
                graph("Lambda errors", per_function("Errors", "Sum")),
                graph("Lambda throttles", per_function("Throttles", "Sum")),
            ],
            [
                graph("Lambda duration p90 (ms)", per_function("Duration", "p90")),
                graph(
                    "Lambda concurrency (max)",
                    [
                        *per_function("ConcurrentExecutions", "Maximum"),
                        _metric("AWS/Lambda", "ConcurrentExecutions", {}, "Maximum").with_(label="account"),
                    ],
                ),
                graph("Publisher iterator age (ms)", [lambda_metric(w.publisher, "IteratorAge", "Maximum")]),
            ],
            [
                graph(
                    "Queue depth (visible)",
                    [
                        q.metric_approximate_number_of_messages_visible(statistic="Maximum", label=label)
                        for label, (q, _) in queues
                        if q is not None
                    ],
                ),
                graph(
                    "Oldest message (s)",
                    [
                        q.metric_approximate_age_of_oldest_message(statistic="Maximum", label=label)
                        for label, (q, _) in queues
                        if q is not None
                    ],
                ),
                graph(
                    "Dead letters",
                    [
                        dlq.metric_approximate_number_of_messages_visible(statistic="Maximum", label=label)
                        for label, (_, dlq) in queues
                    ],
                ),
            ],
            [
                graph(
                    "Executions started / succeeded",
                    [
                        m.metric_started(statistic="Sum", label=f"{name} started")
                        for name, m in w.state_machines.items()
                    ],
                    right=[
                        m.metric_succeeded(statistic="Sum", label=f"{name} succeeded")
                        for name, m in w.state_machines.items()
                    ],
                ),
                graph(
                    "Executions failed / timed out / aborted",
                    [
                        metric
                        for name, m in w.state_machines.items()
                        for metric in (
                            m.metric_failed(statistic="Sum", label=f"{name} failed"),
                            m.metric_timed_out(statistic="Sum", label=f"{name} timed out"),
                            m.metric_aborted(statistic="Sum", label=f"{name} aborted"),
                        )
                    ],
                ),
                graph("DynamoDB throttles", [self._table_throttles()]),
            ],
            [
                graph(
                    "DynamoDB consumed capacity",
                    [
                        _metric(
                            "AWS/DynamoDB",
                            f"Consumed{kind}CapacityUnits",
                            {"TableName": w.table.table_name},
                            "Sum",
                        ).with_(label=f"{kind.lower()} units")
                        for kind in ("Read", "Write")
                    ],
                ),
                graph(
                    "Orders",
                    [app_metric(name, self.stage) for name in (ORDERS_PLACED, ORDERS_DONE, ORDERS_ERRED)],
                ),
                graph(
                    "Order time to done (s)",
                    [
                        app_metric(ORDER_TIME_TO_DONE, self.stage, s, Duration.hours(1)).with_(label=s)
                        for s in ("p50", "p90", "Maximum")
                    ],
                    right=[
                        app_metric(HOOK_FAILURES, self.stage),
                        app_metric(BILLING_RUNS, self.stage, period=Duration.hours(1)),
                    ],
                ),
            ],
        ]
