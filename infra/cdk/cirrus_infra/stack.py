"""The Cirrus stack: the single table, the Chalice API and queue consumers that read and write it, the
work queues, the workflows (Step Functions), the schedules, and the audit log's publishing (the table's
stream → the events publisher → the EventBridge bus)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aws_cdk import Aspects, Aws, CfnOutput, CfnResource, Fn, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sam as sam
from aws_cdk import aws_sns as sns
from cdk_nag import RegexAppliesTo
from constructs import Construct

from chalicelib.config import Settings
from chalicelib.store import schema
from chalicelib.workflows.consumer import LEASE
from chalicelib.workflows.registry import BACKGROUND_QUEUE
from cirrus_infra.analytics_export import AnalyticsExport
from cirrus_infra.auth import AuthSettings, CognitoAuth
from cirrus_infra.bundle import BundledChalice, BundleSpec, build_bundle
from cirrus_infra.data import CirrusTable
from cirrus_infra.events import EventPublishing, drop_stream_statements
from cirrus_infra.files import AttachmentsBucket
from cirrus_infra.frontdoor import (
    ALIAS,
    API_TYPES,
    HTTP,
    REST,
    HttpFrontDoor,
    Throttle,
    refers_to_alias,
    refers_to_sam_id,
)
from cirrus_infra.nag import suppress, suppress_sam_resources
from cirrus_infra.operations import AlarmActions, AlarmTopic, FrontDoor, Operations, Watched
from cirrus_infra.providers import grant_providers
from cirrus_infra.queues import WorkQueues
from cirrus_infra.routing import route_everything_to_the_app
from cirrus_infra.schedules import Schedules
from cirrus_infra.webui import HomePortHosting
from cirrus_infra.workers import (
    log_group,
    max_concurrency,
    scope_consumer_policy,
    scope_log_statements,
    wire_workers,
)
from cirrus_infra.workflows import Workflows

# The repository root: app.py, chalicelib/, requirements.txt and .chalice/config.json live there.
REPO_ROOT = Path(__file__).resolve().parents[3]

# Names Chalice gives the resources in the SAM template it packages (`chalice package` output),
# kept because the construct preserves logical ids.
API_HANDLER = "APIHandler"
API_ROLE = "DefaultRole"
REST_API = "RestAPI"
CUSTOM_DOMAIN = "ApiGatewayCustomDomain"
# What Chalice packages for its REST API besides RestAPI itself (dropped with an HTTP front door).
REST_API_PERMISSION = "APIHandlerInvokePermission"
REST_API_OUTPUTS = ("RestAPIId", "EndpointURL")
# The queue consumers and the audit log's publisher (app.py), as Chalice names them in SAM.
EVENT_FUNCTIONS = ("TasksWorker", "HeavyWorker", "BackgroundWorker", "EventsPublisher")
FUNCTIONS = (API_HANDLER, *EVENT_FUNCTIONS)
# Every function's runtime: Graviton (20% cheaper per GB-s than x86) and Python 3.12, which SnapStart
# supports and the bundle's bytecode is compiled for (bundle.py).
ARCHITECTURE = "arm64"
# Lambda's own log lines kept: warnings and errors (StackSettings.log_level sets the app's).
SYSTEM_LOG_LEVEL = "WARN"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
RUNTIME = "python3.12"
# The API function's entry point: the gateway adapter in app.py (HTTP API and REST events).
API_ENTRY_POINT = "app.api_handler"

# What the API does to its table: no Scan (a request costs a constant number of calls), no table
# management. grant_read_write_data would include both.
API_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)


@dataclass(frozen=True)
class StackSettings:
    """What varies between deployments (filled from CDK context by the app entry point)."""

    stage: str = "prod"
    # The Chalice project: app.py, chalicelib/ and .chalice/config.json (the stack packages a copy
    # with an empty requirements.txt for the template, and bundles the code itself: bundle.py).
    source_dir: Path = REPO_ROOT
    # What every function's code bundle holds and how it is built (bundle.py): requirements.txt's
    # dependencies for arm64 and bytecode by default; tests build it without third-party packages.
    bundle: BundleSpec = field(default_factory=BundleSpec)
    # Base of every absolute URL the API emits (CIRRUS_PUBLIC_URL); None: taken from the Host header.
    public_url: str | None = None
    # An API Gateway custom domain mapped at the root (see README "Deploying").
    domain_name: str | None = None
    certificate_arn: str | None = None
    # Every function's memory (and so its CPU share). 512 MB: bench/memory.py models the API's mean
    # request at ~64 ms there (43 ms at 1024 MB) for $0.14 less per 1M requests; SnapStart makes the
    # slower INIT a once-per-version cost (README "Memory size"). `-c lambda_memory_size=1024`.
    lambda_memory_size: int = 512
    # API Gateway's integration timeout is 29 s (REST; 30 s for an HTTP API): a longer Lambda timeout
    # would never be seen.
    lambda_timeout: int = 29
    # The front door (frontdoor.py): "http", an HTTP API (API Gateway v2), or "rest", Chalice's REST
    # API (stage `api`, routing.py); and the HTTP API's default route throttling.
    api_type: str = HTTP
    throttle: Throttle = field(default_factory=Throttle)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    # The functions' log level (POWERTOOLS_LOG_LEVEL). WARNING: failures and warnings only, which
    # halves the log bill (bench/cost.py); INFO adds a line per API request (with the caller's uuid
    # and correlation id) and per task. `-c log_level=INFO`.
    log_level: str = "WARNING"
    # Queue consumers: a message goes to its dead-letter queue after this many receives (the runtime's
    # default, as the local stack uses), and a consumer may run this long (at most consumer.LEASE);
    # each queue's visibility timeout is six times that (900 s by default, the lease's length).
    queue_max_receives: int = Settings.queue_max_receives
    worker_timeout: int = 150
    # Every alarm notifies the stack's topic `<prefix>-alarms` (mailed to `alarm_email`, if given), or
    # this existing topic instead (then none is created).
    alarm_topic_arn: str | None = None
    alarm_email: str | None = None
    # Queue consumers' concurrency caps by queue, over workers.DEFAULT_MAX_CONCURRENCY (2 to 1000).
    worker_concurrency: dict[str, int] = field(default_factory=dict)
    # DynamoDB refuses to delete the table while this is on (it is retained by the stack either way).
    deletion_protection: bool = True
    # The address invitations are mailed from, an identity verified in SES in the stack's region
    # (none: nothing is granted on SES and mail fails, recorded on each invitation).
    email_from: str | None = None
    # Events expire from the table this many days after they happen (CIRRUS_EVENT_RETENTION_DAYS, the
    # TTL the API writes); the bus's archive keeps them `event_archive_days` (0: indefinitely).
    event_retention_days: int = Settings.event_retention_days
    event_archive_days: int = 365
    # Federated sign-in: the user pool's identity providers, hosted UI and group mapping (auth.py).
    auth: AuthSettings = field(default_factory=AuthSettings)
    # The web UI (HomePort). `homeport_dir`: a build to host on S3 + CloudFront (webui.py; off when
    # None); `homeport_url`: where the operator hosts it otherwise. Either way the API is told the UI's
    # URL (CIRRUS_HOMEPORT_URL), allows it by CORS and the hosted UI may return to its sign-in page.
    homeport_dir: Path | None = None
    homeport_url: str | None = None
    # More origins a browser may call the API from (CIRRUS_CORS_ALLOWED_ORIGINS), besides the UI's.
    cors_allowed_origins: tuple[str, ...] = ()
    # An external service desk the support desk is synced with (chalicelib/workflows/support_sync.py):
    # "basic" (none), "jira" or "zammad", and the Secrets Manager secret (its full ARN) holding the
    # adapter's settings as a JSON object of strings. With a backend: CIRRUS_SUPPORT_BACKEND and
    # CIRRUS_SUPPORT_BACKEND_SECRET_ARN for every function, secretsmanager:GetSecretValue on exactly
    # that ARN for the API (webhooks) and the queue consumers (the sync's tasks), and the 5-minute
    # pull schedule. `-c support_backend=jira -c support_backend_secret_arn=arn:aws:secretsmanager:...`
    support_backend: str = "basic"
    support_backend_secret_arn: str | None = None
    # Providers (customer uuids, or "*") whose AWS.Instance offerings may run in the platform's own
    # account (CIRRUS_AWS_PLATFORM_ACCOUNT_PROVIDERS); with any, the functions get the EC2 grants of
    # cirrus_infra/providers.py. Empty: AWS offerings work through roles in their providers' accounts.
    aws_platform_account_providers: tuple[str, ...] = ()

    @property
    def api_url(self) -> str | None:
        """The API's public base URL (CIRRUS_PUBLIC_URL), if known before deployment."""
        return self.public_url or (f"https://{self.domain_name}" if self.domain_name else None)

    @property
    def resource_prefix(self) -> str:
        """Queues, state machines and schedules are named `<prefix>-<name>` (CIRRUS_RESOURCE_PREFIX)."""
        return f"cirrus-{self.stage}"


SUPPORT_BASIC = "basic"
SUPPORT_BACKENDS = (SUPPORT_BASIC, "jira", "zammad")
# A Secrets Manager secret's full ARN (with the 6-character suffix AWS adds): granted exactly.
SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$"
)


def check_support_backend(settings: StackSettings) -> None:
    if settings.support_backend not in SUPPORT_BACKENDS:
        raise ValueError(
            f"support_backend must be one of {SUPPORT_BACKENDS}, got {settings.support_backend!r}"
        )
    arn = settings.support_backend_secret_arn
    if settings.support_backend == SUPPORT_BASIC:
        if arn:
            raise ValueError("support_backend_secret_arn is given but support_backend is basic")
        return
    if not arn or not SECRET_ARN.match(arn):
        raise ValueError(
            f"support_backend={settings.support_backend} needs support_backend_secret_arn: the full ARN of "
            "a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>)"
        )


class CirrusStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: StackSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        if settings.log_level not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {LOG_LEVELS}, got {settings.log_level!r}")
        if settings.api_type not in API_TYPES:
            raise ValueError(f"api_type must be one of {API_TYPES}, got {settings.api_type!r}")
        if settings.worker_timeout > LEASE.total_seconds():
            # A consumer still running when its idempotency claim lapses could be overtaken by a
            # redelivery of the same message (chalicelib/store/idempotency.py).
            raise ValueError(f"worker_timeout exceeds the consumer's idempotency lease ({LEASE})")
        if settings.event_retention_days < 1:
            raise ValueError("event_retention_days must be at least 1 (the events' TTL in days)")
        check_support_backend(settings)
        self.table = CirrusTable(self, "Data", deletion_protection=settings.deletion_protection).table
        prefix = settings.resource_prefix
        self.queues = WorkQueues(
            self,
            "Queues",
            prefix=prefix,
            max_receives=settings.queue_max_receives,
            consumer_timeout=settings.worker_timeout,
        )
        self.workflows = Workflows(
            self, "Workflows", prefix=prefix, queues=self.queues, log_retention=settings.log_retention
        )
        self.schedules = Schedules(
            self,
            "Schedules",
            prefix=prefix,
            queues=self.queues,
            support_backend=settings.support_backend != SUPPORT_BASIC,
        )
        self.attachments = AttachmentsBucket(self, "Attachments")
        self.analytics_export = AnalyticsExport(self, "AnalyticsExport", prefix=prefix)
        self.events = EventPublishing(
            self,
            "Events",
            prefix=prefix,
            table=self.table,
            queues=self.queues,
            archive_days=settings.event_archive_days,
            log_retention=settings.log_retention,
        )

        self.homeport = self._homeport_hosting()
        self.homeport_url = self.homeport.url if self.homeport else settings.homeport_url
        # The HTTP API first: the user pool's callback URLs name it (the API refers to nothing else;
        # its route is added once the function exists). Alarms on API metrics use `self.api_id`.
        self.http_api = self._http_front_door()
        self.auth = CognitoAuth(
            self,
            "Auth",
            prefix=prefix,
            settings=settings.auth,
            # With the REST API, whose definition refers to the function, whose environment names the
            # user pool's client, the client cannot name the REST API's URL (a cycle).
            public_url=settings.api_url or (self.http_api.origin if self.http_api else None),
            homeport_url=self.homeport_url,
        )

        # chalice.cdk names the Chalice stage after this scope (the stack), so the stage's settings
        # come from here rather than from a `stages` entry in .chalice/config.json.
        stage_config = self._stage_config()  # checks the settings before the (slower) bundle
        # Every function runs the bundle (bundle.py), not Chalice's x86_64 package without bytecode.
        self.bundle = build_bundle(replace(settings.bundle, source_dir=settings.source_dir))
        self.api = BundledChalice(
            self, "Api", source_dir=settings.source_dir, stage_config=stage_config, bundle=self.bundle
        )
        handler = self.api.get_resource(API_HANDLER)
        self._set_runtime()
        # The API's id (the HTTP API's, or the REST API's with `rest`): what API metrics name.
        self.api_id = self._wire_front_door()
        # Findings cdk-nag raises on resources of Chalice's SAM template, accepted with reasons (nag.py).
        suppress_sam_resources(self.api.sam_template)
        workers = wire_workers(
            self,
            self.api,
            self.queues,
            timeout=settings.worker_timeout,
            log_retention=settings.log_retention,
            concurrency=max_concurrency(settings.worker_concurrency),
        )
        # The audit log's publisher runs under its own role (events.py), not DefaultRole.
        publisher = self.events.wire(self.api, timeout=settings.worker_timeout)
        # The function logs to a group with a retention period. (Chalice's own `log_retention_in_days`
        # emits a log group whose Fn::Sub names `ApiHandler`, not the function `APIHandler`, which
        # CfnInclude rejects.)
        self.api_logs = logs.LogGroup(self, "ApiLogs", retention=settings.log_retention)
        handler.add_property_override("LoggingConfig.LogGroup", self.api_logs.log_group_name)
        self._deploy_homeport()
        # Chalice gives every other function (API and consumers) its one role, DefaultRole: the API
        # enqueues, starts workflows and answers callbacks as the consumers do, so all grants go to it.
        role = self.api.get_role(API_ROLE)
        grants = [
            self.table.grant(role, *API_TABLE_ACTIONS),
            *self._grant_queues(role),
            *self.workflows.grant_runtime(role),
            *self._grant_email(role),
            self.attachments.grant_api(role),
            self.analytics_export.grant_writer(role),
            *self._grant_support_secret(role),
            *grant_providers(role, platform_account=bool(self.settings.aws_platform_account_providers)),
        ]
        # The grants are a separate AWS::IAM::Policy: create it before a function can run.
        for function in (handler, *workers.values()):
            for grant in grants:
                grant.apply_before(function)
        self._accept_runtime_wildcards(role)
        default_role = self.api.get_resource(API_ROLE)
        scope_consumer_policy(default_role, [self.queues[q].queue_arn for q in self.queues.by_name])
        drop_stream_statements(default_role)
        # DefaultRole's functions (the API and the consumers) write to their own log groups only.
        log_groups = [self.api_logs, *(log_group(self, queue) for queue in self.queues.by_name)]
        scope_log_statements(default_role, [group.log_group_arn for group in log_groups])
        self._operate(
            {
                "API": handler.ref,
                **{f"{q} worker": w.ref for q, w in workers.items()},
                "publisher": publisher.ref,
            }
        )
        self._tag()

        CfnOutput(self, "TableName", value=self.table.table_name)
        CfnOutput(self, "AttachmentsBucketName", value=self.attachments.bucket.bucket_name)
        CfnOutput(self, "AnalyticsExportBucketName", value=self.analytics_export.bucket.bucket_name)
        CfnOutput(self, "AnalyticsDatabaseName", value=self.analytics_export.database_name)
        for queue, q in self.queues.by_name.items():
            CfnOutput(self, f"{queue.capitalize()}DeadLetterQueueArn", value=q.dead_letters.queue_arn)
        for name, machine in self.workflows.state_machines.items():
            output_id = "".join(part.capitalize() for part in name.split("_"))
            CfnOutput(self, f"{output_id}StateMachineArn", value=machine.state_machine_arn)
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
        CfnOutput(self, "EventBusArn", value=self.events.bus.event_bus_arn)
        CfnOutput(self, "EventArchiveName", value=self.events.archive.archive_name)
        CfnOutput(self, "EventArchiveArn", value=self.events.archive.archive_arn)
        CfnOutput(self, "EventsPublisherDeadLetterQueueArn", value=self.events.dead_letters.queue_arn)
        CfnOutput(self, "UserPoolId", value=self.auth.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.auth.client.user_pool_client_id)
        CfnOutput(self, "HostedUiUrl", value=self.auth.domain.base_url())
        self._api_outputs()

    def _http_front_door(self) -> HttpFrontDoor | None:
        s = self.settings
        if s.api_type != HTTP:
            return None
        return HttpFrontDoor(
            self,
            "HttpApi",
            prefix=s.resource_prefix,
            throttle=s.throttle,
            log_retention=s.log_retention,
            domain_name=s.domain_name,
            certificate_arn=s.certificate_arn,
        )

    def _wire_front_door(self) -> str:
        """The HTTP API to the function's alias in place of Chalice's REST API (or the REST API routed
        to the alias); the API's id."""
        if self.http_api is None:
            self._route_everything_to_the_app()
            return str(self.api.get_resource(REST_API).ref)
        self._drop_rest_api()
        self.http_api.route_to(API_HANDLER)
        return self.http_api.api_id

    def _api_outputs(self) -> None:
        """Chalice's own outputs (APIHandlerArn, ...; RestAPIId and EndpointURL with the REST API) are
        kept as they are. EndpointURL is the base URL clients use without a custom domain."""
        if self.http_api is not None:
            CfnOutput(self, "EndpointURL", value=self.http_api.url)
            CfnOutput(self, "HttpApiId", value=self.http_api.api_id)
            if self.http_api.domain_target:
                self._output_domain_target(self.http_api.domain_target)
        elif self.settings.domain_name:
            self._fix_custom_domain_mapping()

    def _set_runtime(self) -> None:
        """arm64 and Python 3.12 for every function; the API function starts at the gateway adapter and
        runs as the published alias `live`, restored from a SnapStart snapshot. The consumers' event
        source mappings stay on $LATEST (no versions, no SnapStart: a consumer's cold start is not
        anyone's wait)."""
        for name in FUNCTIONS:
            function = self.api.get_resource(name)
            function.add_property_override("Architectures", [ARCHITECTURE])
            function.add_property_override("Runtime", RUNTIME)
            # JSON logs, and none of Lambda's own START/END/REPORT lines (INFO; about 300 bytes per
            # invocation, billed as ingestion: the same figures are Lambda's metrics). Its warnings
            # and errors (timeouts, out of memory, init failures) still reach the log.
            function.add_property_override("LoggingConfig.LogFormat", "JSON")
            function.add_property_override("LoggingConfig.SystemLogLevel", SYSTEM_LOG_LEVEL)
        handler = self.api.get_resource(API_HANDLER)
        handler.add_property_override("Handler", API_ENTRY_POINT)
        handler.add_property_override("SnapStart", {"ApplyOn": "PublishedVersions"})
        handler.add_property_override("AutoPublishAlias", ALIAS)
        # A new version at any change of the function (runtime, handler, timeout...), not only of its
        # code, environment or memory (SAM's default), so the alias never runs a stale configuration.
        handler.add_property_override("AutoPublishAliasAllProperties", True)
        # A replaced version is deleted (SAM retains them by default): each SnapStart version keeps a
        # cached snapshot, billed while the version is active.
        handler.add_property_override("VersionDeletionPolicy", "Delete")

    def _drop_rest_api(self) -> None:
        """With an HTTP front door, Chalice's REST API, its invoke permission and outputs go."""
        template = self.api.sam_template
        outputs = [template.get_output(logical_id) for logical_id in REST_API_OUTPUTS]
        for scope, logical_id in [
            *((template, logical_id) for logical_id in (REST_API, REST_API_PERMISSION)),
            *((output.node.scope, output.node.id) for output in outputs),
        ]:
            if scope is None or not scope.node.try_remove_child(logical_id):
                raise ValueError(f"expected {logical_id} in the template Chalice packaged")

    def _operate(self, functions: dict[str, str]) -> None:
        """The alarms topic (or the given one), the alarms beyond the resources' own, the dashboard;
        every alarm in the stack notifies the topic (operations.py)."""
        s = self.settings
        if s.alarm_topic_arn:
            topic = sns.Topic.from_topic_arn(self, "AlarmTopic", s.alarm_topic_arn)
        else:
            topic = AlarmTopic(self, "Alarms", prefix=s.resource_prefix, email=s.alarm_email).topic
        Aspects.of(self).add(AlarmActions(topic))
        CfnOutput(self, "AlarmTopicArn", value=topic.topic_arn)
        queues: dict[str, tuple[Any, Any]] = {
            q: (w.queue, w.dead_letters) for q, w in self.queues.by_name.items()
        }
        queues["schedules"] = (None, self.schedules.dead_letters)
        queues["publisher"] = (None, self.events.dead_letters)
        self.operations = Operations(
            self,
            "Operations",
            prefix=s.resource_prefix,
            stage=s.stage,
            watched=Watched(
                # The front door's metrics: the HTTP API's by its id (frontdoor.py); Chalice's REST API
                # (`-c api_type=rest`) by its name, the app's, on the stage `api`.
                front_door=FrontDoor(
                    api_id=self.http_api.api_id if self.http_api is not None else None,
                    rest_api_name=self._chalice_app_name(),
                    rest_stage="api",
                ),
                functions=functions,
                errors_alarmed=frozenset({"publisher"}),
                queues=queues,
                state_machines=self.workflows.state_machines,
                table=self.table,
                index_names=[index.name for index in schema.GLOBAL_INDEXES],
                publisher=functions["publisher"],
                alarms=[
                    *self.queues.alarms,
                    *self.schedules.alarms,
                    *self.events.alarms,
                    *self.workflows.alarms,
                ],
            ),
        )
        CfnOutput(self, "DashboardName", value=s.resource_prefix)

    def _chalice_app_name(self) -> str:
        config = json.loads((self.settings.source_dir / ".chalice" / "config.json").read_text())
        return str(config["app_name"])

    def _tag(self) -> None:
        """`project` and `stage` on every resource that takes tags: CDK's tag aspect reaches the
        resources of Chalice's included template too; the SAM transform passes a SAM resource's tags
        to what it generates (the REST API, its stage) only when told to. The event source mappings
        SAM generates take none from it (samtranslator's model has no Tags for them; they cost
        nothing, so no cost allocation is lost)."""
        Tags.of(self).add("project", "cirrus")
        Tags.of(self).add("stage", self.settings.stage)
        for child in self.api.sam_template.node.children:
            if isinstance(child, CfnResource) and child.cfn_resource_type.startswith("AWS::Serverless::"):
                child.add_property_override("PropagateTags", True)

    def _accept_runtime_wildcards(self, role: iam.IRole) -> None:
        """The three wildcards in the functions' grants, each inside one of Cirrus's own resources."""
        suppress(
            role,
            "AwsSolutions-IAM5",
            "The table's own indexes (Query on the GSIs): <table ARN>/index/*, the form DynamoDB "
            "authorises an index by",
            applies_to=[RegexAppliesTo(regex=r"/^Resource::<Data[A-Za-z0-9]+\.Arn>\/index\/\*$/")],
            children=True,
        )
        suppress(
            role,
            "AwsSolutions-IAM5",
            "states:DescribeExecution on the executions of Cirrus's own state machines: an execution's "
            "ARN is its machine's name and a run id unknown in advance",
            applies_to=[
                RegexAppliesTo(regex=r"/^Resource::arn:<AWS::Partition>:states:.*:execution:.*:\*$/")
            ],
            children=True,
        )
        suppress(
            role,
            "AwsSolutions-IAM5",
            "The support attachments' objects: <bucket ARN>/* (keys are made per attachment; only "
            "s3:PutObject, s3:GetObject and s3:DeleteObject, cirrus_infra/files.py)",
            applies_to=[RegexAppliesTo(regex=r"/^Resource::<Attachments[A-Za-z0-9]+\.Arn>\/\*$/")],
            children=True,
        )
        suppress(
            role,
            "AwsSolutions-IAM5",
            "The analytics export's objects under its two datasets: <bucket ARN>/aggregates/* and "
            "/events/* (a key per day, dt=YYYY-MM-DD/; only s3:PutObject, cirrus_infra/analytics_export.py)",
            applies_to=[
                RegexAppliesTo(
                    regex=r"/^Resource::<AnalyticsExport[A-Za-z0-9]+\.Arn>\/(aggregates|events)\/\*$/"
                )
            ],
            children=True,
        )

    def _route_everything_to_the_app(self) -> None:
        """Every path and verb reaches the app, which answers as Waldur does (routing.py)."""
        rest_api = self.api.get_resource(REST_API)
        if not isinstance(rest_api, sam.CfnApi) or not isinstance(rest_api.definition_body, dict):
            raise TypeError(f"expected Chalice's {REST_API} as a SAM API with its swagger, got {rest_api!r}")
        origins = self._cors_origins()
        rest_api.definition_body = route_everything_to_the_app(
            rest_api.definition_body,
            self.resolve,
            cors_origin=origins[0] if len(origins) == 1 else None,
            alias_of=API_HANDLER,
        )
        refers_to_alias(rest_api, API_HANDLER)  # its integrations invoke the alias
        # API Gateway may invoke the alias the integrations name (Chalice's permission names $LATEST).
        permission = self.api.get_resource(REST_API_PERMISSION)
        permission.add_property_override("FunctionName", {"Ref": f"{API_HANDLER}.Alias"})
        refers_to_alias(permission, API_HANDLER)

    def _homeport_hosting(self) -> HomePortHosting | None:
        """The bucket and distribution for HomePort, when a build is given (before the user pool and
        the API, which are told its URL)."""
        s = self.settings
        if s.homeport_dir is None:
            return None
        if s.homeport_url:
            raise ValueError("give homeport_dir (hosted here) or homeport_url (hosted elsewhere), not both")
        return HomePortHosting(self, "HomePort", build_dir=s.homeport_dir, prefix=s.resource_prefix)

    def _deploy_homeport(self) -> None:
        """HomePort's files, pointing at the API (after the API, whose URL they hold)."""
        if self.homeport is None:
            return
        self.homeport.deploy(api_endpoint=self._api_endpoint())
        CfnOutput(self, "HomePortUrl", value=self.homeport.url)
        CfnOutput(self, "HomePortBucketName", value=self.homeport.bucket.bucket_name)

    def _api_endpoint(self) -> str:
        """The API's base URL as HomePort's `apiEndpoint` (ending in `/`): the public URL, else the
        HTTP API's own URL, or the REST API's with its stage (`api`), whose paths are then
        `/api/api/...`."""
        if self.settings.api_url:
            return self.settings.api_url.rstrip("/") + "/"
        if self.http_api is not None:
            return self.http_api.url
        rest_api = self.api.get_resource(REST_API).ref
        return Fn.join("", ["https://", rest_api, ".execute-api.", Aws.REGION, ".", Aws.URL_SUFFIX, "/api/"])

    def _grant_email(self, role: iam.IRole) -> list[iam.Grant]:
        """Send mail as `email_from` only: its address identity, or its domain's."""
        sender = self.settings.email_from
        if not sender:
            return []
        identities = [sender, sender.rsplit("@", 1)[-1]]
        arns = [
            self.format_arn(service="ses", resource="identity", resource_name=identity)
            for identity in identities
        ]
        return [iam.Grant.add_to_principal(grantee=role, actions=["ses:SendEmail"], resource_arns=arns)]

    def _grant_support_secret(self, role: iam.IRole) -> list[iam.Grant]:
        """Read the support backend's secret (its exact ARN): the API verifies webhooks with it and
        the consumers run the sync's tasks. A secret encrypted with a customer-managed KMS key also
        needs kms:Decrypt on that key, granted by the key's policy (not done here)."""
        arn = self.settings.support_backend_secret_arn
        if self.settings.support_backend == SUPPORT_BASIC or not arn:
            return []
        read = ["secretsmanager:GetSecretValue"]
        return [iam.Grant.add_to_principal(grantee=role, actions=read, resource_arns=[arn])]

    def _grant_queues(self, role: iam.IRole) -> list[iam.Grant]:
        """Send tasks to any queue; read queue attributes (dead-letter depths for the daily report); send
        a hook delivery's last failure to the background queue's dead-letter queue."""
        work = [q.queue.queue_arn for q in self.queues.by_name.values()]
        dead = [q.dead_letters.queue_arn for q in self.queues.by_name.values()]
        hooks_dead = self.queues.by_name[BACKGROUND_QUEUE].dead_letters.queue_arn
        return [
            iam.Grant.add_to_principal(
                grantee=role, actions=["sqs:SendMessage", "sqs:GetQueueAttributes"], resource_arns=work
            ),
            iam.Grant.add_to_principal(grantee=role, actions=["sqs:GetQueueAttributes"], resource_arns=dead),
            iam.Grant.add_to_principal(grantee=role, actions=["sqs:SendMessage"], resource_arns=[hooks_dead]),
        ]

    def _fix_custom_domain_mapping(self) -> None:
        # Chalice's BasePathMapping names the stage as a plain string, so CloudFormation may create it
        # before SAM's stage exists ("Invalid stage identifier specified", aws/chalice#1735, #2003).
        # SAM resolves `Ref: <api>.Stage` to the stage it generates, which adds the dependency.
        mapping = self.api.get_resource(CUSTOM_DOMAIN + "Mapping")
        mapping.add_property_override("Stage", {"Ref": f"{REST_API}.Stage"})
        refers_to_sam_id(mapping, f"{REST_API}.Stage is the stage SAM generates for the REST API")
        self._output_domain_target(
            self.api.get_resource(CUSTOM_DOMAIN).get_att("RegionalDomainName").to_string()
        )

    def _output_domain_target(self, target: str) -> None:
        CfnOutput(
            self,
            "CustomDomainTarget",
            description="Point the custom domain's DNS (alias or CNAME) at this name",
            value=target,
        )

    def _cors_origins(self) -> list[str]:
        """The origins allowed to call the API from a browser: HomePort's, then any others given."""
        homeport = [self.homeport_url.rstrip("/")] if self.homeport_url else []
        return [*homeport, *self.settings.cors_allowed_origins]

    def _web_ui_environment(self) -> dict[str, str]:
        """Where HomePort is, and the origins allowed to call the API (chalicelib/api/middleware.py)."""
        environment: dict[str, str] = {}
        origins = self._cors_origins()
        if self.homeport_url:
            environment["CIRRUS_HOMEPORT_URL"] = self.homeport_url.rstrip("/")
        if origins:
            environment["CIRRUS_CORS_ALLOWED_ORIGINS"] = ",".join(origins)
        return environment

    def _stage_config(self) -> dict[str, Any]:
        s = self.settings
        environment = {
            "CIRRUS_TABLE_NAME": self.table.table_name,
            "CIRRUS_STAGE": s.stage,
            "POWERTOOLS_SERVICE_NAME": "cirrus",
            # The app's log level (StackSettings.log_level): WARNING drops the INFO line per request
            # (the HTTP API's access log has one per request already) and per task.
            "POWERTOOLS_LOG_LEVEL": s.log_level,
            # Every function gets every queue URL and state machine ARN (the stage's environment is
            # shared): the API enqueues and starts workflows too.
            "CIRRUS_RESOURCE_PREFIX": s.resource_prefix,
            **self.queues.environment(),
            **self.workflows.environment(),
            # The publisher puts events on the bus; the API writes each event's TTL.
            **self.events.environment(),
            "CIRRUS_EVENT_RETENTION_DAYS": str(s.event_retention_days),
            # Bearer JWTs from the user pool, and the hosted UI's sign-in (chalicelib/api/cognito.py).
            **self.auth.environment(),
            # Support attachments (chalicelib/files.py).
            **self.attachments.environment(),
            # The BI export's bucket (chalicelib/exports.py; the background worker writes it).
            **self.analytics_export.environment(),
        }
        if s.email_from:
            environment["CIRRUS_EMAIL_FROM"] = s.email_from
        if s.support_backend != SUPPORT_BASIC:
            environment["CIRRUS_SUPPORT_BACKEND"] = s.support_backend
            environment["CIRRUS_SUPPORT_BACKEND_SECRET_ARN"] = s.support_backend_secret_arn or ""
        if s.aws_platform_account_providers:
            environment["CIRRUS_AWS_PLATFORM_ACCOUNT_PROVIDERS"] = ",".join(s.aws_platform_account_providers)
        # The Host headers the API answers (any other is refused with 400): `<api id>.execute-api.
        # <region>.<suffix>` by Django's leading-dot pattern, as the id is unknown here (the API's
        # definition refers to this function) and API Gateway routes a request only to the API its
        # Host names; the public URL's host is allowed by the app itself.
        environment["CIRRUS_ALLOWED_HOSTS"] = f".execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
        public_url = s.api_url
        if public_url:
            environment["CIRRUS_PUBLIC_URL"] = public_url.rstrip("/")
        environment.update(self._web_ui_environment())
        # No "xray": X-Ray is off (no SDK produced traces; sampled traces would cost ~$0.65/M requests).
        config: dict[str, Any] = {
            "api_gateway_stage": "api",
            "lambda_memory_size": s.lambda_memory_size,
            "lambda_timeout": s.lambda_timeout,
            "environment_variables": environment,
            "tags": {"project": "cirrus", "stage": s.stage},
        }
        if s.domain_name and s.api_type == REST:
            if not s.certificate_arn:
                raise ValueError("a custom domain needs certificate_arn (an ACM certificate for it)")
            config["api_gateway_endpoint_type"] = "REGIONAL"
            config["api_gateway_custom_domain"] = {
                "domain_name": s.domain_name,
                "certificate_arn": s.certificate_arn,
            }
        return config
