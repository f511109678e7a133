#!/usr/bin/env python
"""The monthly AWS bill of a synthesized Cirrus stack at a given traffic, at list prices.

    .venv/bin/python bench/cost.py                      # synthesize the default stack (offline), price it
    .venv/bin/python bench/cost.py cdk.out/cirrus-prod.template.json
    .venv/bin/python bench/cost.py --requests-per-day 3e5 --orders-per-month 2000 --write-share 0.2
    .venv/bin/python bench/cost.py --check              # exit 1 if the cost per 1M requests > $2.10
    .venv/bin/python bench/cost.py --measure            # re-measure bench/cost_profile.json (moto)

What the stack is made of comes from the template (`read_template`): the API type (HTTP API or
Chalice's REST API), each function's architecture, memory, runtime, SnapStart and tracing, the log
groups' retention, the state machines' type, logging and tracing, the queues Lambda polls, the
table's billing mode, PITR and stream, the EventBridge archive, Cognito pools, alarms, dashboards,
metric filters, SNS topics and subscriptions, KMS keys and schedules. Prices are data
(`bench/prices.json`: us-east-1 list prices, the date taken and the source of each). What one API
request or one order costs in DynamoDB request units, log bytes, queue messages, state transitions,
events and CPU time is measured under moto (`--measure`, cached in `bench/cost_profile.json`);
traffic is arguments. What a request costs on average is, by default, the client mix's: the requests
a day per `METHOD /path/{id}/` template that bench/client_mix.py counted from Waldur's clients
(bench/client_mix.json, its combined model: HomePort sessions and waldur-site-agent polling) weigh
each template's measured figures (the profile's `templates`; one it could not measure costs its
class's average, read or write). With `--write-share`, or without client_mix.json or per-template
figures, it is the older model: the profile's average read and average write at that write share
(the mix's combined share by default, 10% without the file). Free tiers are not counted
(the account may hold other things), except Cognito's per-pool MAU allowance. Every assumption the
model makes is printed under the table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PRICES = HERE / "prices.json"
PROFILE = HERE / "cost_profile.json"
CLIENT_MIX = HERE / "client_mix.json"  # bench/client_mix.py: what Waldur's clients send
GUESSED_WRITE_SHARE = 0.10  # the write share when client_mix.json is absent
DAYS_PER_MONTH = 730 / 24  # AWS bills a month as 730 hours
SECONDS_PER_MONTH = 730 * 3600
GOAL_PER_MILLION = 2.10
LAMBDA_FULL_VCPU_MB = 1769  # Lambda gives a function one full vCPU at 1,769 MB, a share below
# Lambda's own lines per invocation (START, END, REPORT), as they appear in the text log format.
PLATFORM_LOG_BYTES = 300
XRAY_PLATFORM_LOG_BYTES = 80  # the REPORT line's trace id when tracing is active
X_RAY_RESERVOIR_PER_S, X_RAY_RATE = 1.0, 0.05  # X-Ray's default sampling rule


# --- reading the template ---------------------------------------------------------------------
@dataclass
class Function:
    name: str
    role: str  # "api", "worker", "publisher", "other" (deploy-time helpers: never invoked by traffic)
    architecture: str
    memory_mb: int
    timeout_s: int
    runtime: str
    snapstart: bool
    tracing: bool
    log_retention_days: int | None  # None: never expires
    # Lambda's own START/END/REPORT lines are INFO: logged unless the system log level is above it.
    system_log_level: str = "INFO"
    # The app's (POWERTOOLS_LOG_LEVEL): its per-request and per-task lines are INFO.
    app_log_level: str = "INFO"

    @property
    def platform_lines(self) -> bool:
        return self.system_log_level.upper() in ("DEBUG", "INFO")

    @property
    def info_lines(self) -> bool:
        return self.app_log_level.upper() in ("DEBUG", "INFO")


@dataclass
class StateMachine:
    name: str
    type: str  # STANDARD or EXPRESS
    states: int
    log_level: str  # OFF, ERROR, FATAL, ALL
    log_execution_data: bool
    tracing: bool
    log_retention_days: int | None


@dataclass
class Shape:
    """What the bill depends on, as the template says it."""

    api: str  # "http" or "rest"
    api_tracing: bool = False  # REST stage TracingEnabled
    access_log_bytes: int = 0  # per request, 0 when the stage writes no access log
    access_log_retention_days: int | None = None
    access_log_infrequent: bool = False  # the group's class: Infrequent Access, half the ingestion
    functions: list[Function] = field(default_factory=list)
    state_machines: list[StateMachine] = field(default_factory=list)
    queues: int = 0
    polled_queues: int = 0  # queues a Lambda event source mapping polls
    table_on_demand: bool = True
    pitr: bool = False
    stream: bool = False
    archive: bool = False
    archive_retention_days: int = 0  # 0: indefinitely
    user_pools: list[str] = field(default_factory=list)  # each pool's tier
    alarm_metrics: int = 0  # metrics alarmed on (a metric-math alarm pays per metric)
    alarms: int = 0
    dashboards: int = 0
    metric_filters: int = 0
    topics: int = 0
    email_subscriptions: int = 0
    kms_keys: int = 0
    schedules_per_month: float = 0.0
    hosted_web_ui: bool = False
    notes: list[str] = field(default_factory=list)

    def api_function(self) -> Function:
        found = [f for f in self.functions if f.role == "api"]
        if len(found) != 1:
            raise SystemExit(f"expected one API function, found {[f.name for f in found]}")
        return found[0]

    def by_role(self, role: str) -> list[Function]:
        return [f for f in self.functions if f.role == role]


def _flatten(value: Any) -> str:
    """A DefinitionString as text: Fn::Join's literal parts, references as a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(_flatten(p) for p in parts)
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return _flatten(sub[0] if isinstance(sub, list) else sub)
    return "ref"


def count_states(definition: dict[str, Any]) -> int:
    """States of a definition, those of Parallel branches and Map iterators included."""
    total = 0
    for state in (definition.get("States") or {}).values():
        total += 1
        for branch in state.get("Branches") or []:
            total += count_states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                total += count_states(state[key])
    return total


def _role(handler: str) -> str:
    name = handler.rsplit(".", 1)[-1]
    if handler.startswith("app.") and name in ("app", "api_handler"):
        return "api"
    if handler.startswith("app.") and name.endswith("_worker"):
        return "worker"
    if handler.startswith("app.") and name.endswith("_publisher"):
        return "publisher"
    return "other"


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


_SCHEDULE_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")


def runs_per_month(expression: str) -> float:
    """How often a schedule expression fires in a month (cron: by its day-of-month/hour/minute)."""
    rate = _SCHEDULE_RATE.fullmatch(expression.strip())
    if rate:
        n, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        seconds = {"minute": 60, "hour": 3600, "day": 86400}[unit] * n
        return SECONDS_PER_MONTH / seconds
    cron = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if cron:
        minute, hour, dom, _month, dow, *_ = cron.group(1).split()

        def count(field_: str, full: int) -> float:
            if field_ in ("*", "?"):
                return full
            if "/" in field_:
                return full / int(field_.split("/")[1])
            return len(field_.split(","))

        per_day = count(minute, 60) * count(hour, 24)
        days = (
            DAYS_PER_MONTH
            if dom in ("*", "?") and dow in ("*", "?")
            else count(dom, 1)
            if dom != "?"
            else (count(dow, 7) * DAYS_PER_MONTH / 7)
        )
        return per_day * days
    return 1.0  # at(...): once


def _variables(props: dict[str, Any]) -> dict[str, Any]:
    return dict((props.get("Environment") or {}).get("Variables") or {})


def _access_log_bytes(fmt: str) -> int:
    """A rough size for one access-log line: each $context variable taken as 20 bytes."""
    return len(re.sub(r"\$context\.[A-Za-z0-9_.]+", "x" * 20, fmt)) + 1


def read_template(template: dict[str, Any]) -> Shape:  # noqa: C901  (one flat pass per resource type)
    resources: dict[str, dict[str, Any]] = template.get("Resources") or {}
    globals_ = (template.get("Globals") or {}).get("Function") or {}

    def of(type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in resources.items() if v.get("Type") == type_}

    def retention(group_id: str | None) -> int | None:
        group = resources.get(group_id or "") or {}
        days = (group.get("Properties") or {}).get("RetentionInDays")
        return int(days) if days else None

    def infrequent(group_id: str | None) -> bool:
        group = resources.get(group_id or "") or {}
        return (group.get("Properties") or {}).get("LogGroupClass") == "INFREQUENT_ACCESS"

    http = [
        k for k, v in of("AWS::ApiGatewayV2::Api").items() if v["Properties"].get("ProtocolType") == "HTTP"
    ]
    rest = list(of("AWS::Serverless::Api")) + list(of("AWS::ApiGateway::RestApi"))
    if not http and not rest:
        raise SystemExit("the template holds no API (neither AWS::ApiGatewayV2::Api nor a REST API)")
    shape = Shape(api="http" if http else "rest")
    if http and rest:
        shape.notes.append(
            "the template holds both an HTTP API and a REST API: priced as HTTP (the default front door)"
        )

    # The front door's stage: tracing and access logs.
    if shape.api == "rest":
        for props in [
            v["Properties"] for v in {**of("AWS::Serverless::Api"), **of("AWS::ApiGateway::Stage")}.values()
        ]:
            shape.api_tracing |= bool(props.get("TracingEnabled"))
            setting = props.get("AccessLogSetting") or {}
            if setting.get("Format"):
                shape.access_log_bytes = _access_log_bytes(str(setting["Format"]))
                shape.access_log_retention_days = retention(_ref(setting.get("DestinationArn")))
    else:
        for props in [v["Properties"] for v in of("AWS::ApiGatewayV2::Stage").values()]:
            setting = props.get("AccessLogSettings") or {}
            if setting.get("Format"):
                shape.access_log_bytes = _access_log_bytes(str(setting["Format"]))
                shape.access_log_retention_days = retention(_ref(setting.get("DestinationArn")))
                shape.access_log_infrequent = infrequent(_ref(setting.get("DestinationArn")))

    # Functions: SAM's (with Globals) and plain Lambda ones.
    polled: set[str] = set()
    for fid, res in {**of("AWS::Serverless::Function"), **of("AWS::Lambda::Function")}.items():
        props = {**globals_, **res.get("Properties", {})}
        tracing = (
            props.get("Tracing") == "Active" or (props.get("TracingConfig") or {}).get("Mode") == "Active"
        )
        log_group = _ref((props.get("LoggingConfig") or {}).get("LogGroup"))
        if log_group is None:  # the default /aws/lambda/<name> group, if the template makes one
            log_group = next(
                (
                    k
                    for k, v in of("AWS::Logs::LogGroup").items()
                    if fid in json.dumps(v["Properties"].get("LogGroupName", ""))
                ),
                None,
            )
        shape.functions.append(
            Function(
                name=fid,
                role=_role(str(props.get("Handler", ""))),
                architecture=(props.get("Architectures") or ["x86_64"])[0],
                memory_mb=int(props.get("MemorySize", 128)),
                timeout_s=int(props.get("Timeout", 3)),
                runtime=str(props.get("Runtime", "")),
                snapstart=(props.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions",
                tracing=tracing,
                log_retention_days=retention(log_group),
                system_log_level=str((props.get("LoggingConfig") or {}).get("SystemLogLevel", "INFO")),
                app_log_level=str(_variables(props).get("POWERTOOLS_LOG_LEVEL", "INFO")),
            )
        )
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "SQS":
                polled.add(json.dumps(event["Properties"].get("Queue"), sort_keys=True))
    for mapping in of("AWS::Lambda::EventSourceMapping").values():
        source = json.dumps(mapping["Properties"].get("EventSourceArn"), sort_keys=True)
        if "Queue" in source or ":sqs:" in source:
            polled.add(source)
    shape.polled_queues = len(polled)
    shape.queues = len(of("AWS::SQS::Queue"))

    for sid, res in of("AWS::StepFunctions::StateMachine").items():
        props = res["Properties"]
        raw = props.get("DefinitionString") or props.get("Definition") or {}
        text = _flatten(raw) if not isinstance(raw, dict) or "States" not in raw else json.dumps(raw)
        try:
            definition = json.loads(text)
        except json.JSONDecodeError:
            definition = {}
            shape.notes.append(f"{sid}: definition not readable, its states not counted")
        logging = props.get("LoggingConfiguration") or {}
        destinations: list[dict[str, Any]] = logging.get("Destinations") or [{}]
        group = destinations[0].get("CloudWatchLogsLogGroup") or {}
        shape.state_machines.append(
            StateMachine(
                name=str(props.get("StateMachineName") or sid),
                type=str(props.get("StateMachineType", "STANDARD")),
                states=count_states(definition),
                log_level=str(logging.get("Level", "OFF")),
                log_execution_data=bool(logging.get("IncludeExecutionData")),
                tracing=bool((props.get("TracingConfiguration") or {}).get("Enabled")),
                log_retention_days=retention(_ref(group.get("LogGroupArn"))),
            )
        )

    tables = list(of("AWS::DynamoDB::Table").values())
    if tables:
        props = tables[0]["Properties"]
        shape.table_on_demand = props.get("BillingMode") == "PAY_PER_REQUEST"
        shape.pitr = bool(
            (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        )
        shape.stream = bool(props.get("StreamSpecification"))
        if not shape.table_on_demand:
            shape.notes.append(
                "the table is provisioned: priced as if on-demand (provisioned capacity not modelled)"
            )
    archives = list(of("AWS::Events::Archive").values())
    if archives:
        shape.archive = True
        shape.archive_retention_days = int(archives[0]["Properties"].get("RetentionDays") or 0)
    shape.user_pools = [
        str(v["Properties"].get("UserPoolTier", "ESSENTIALS")).upper()
        for v in of("AWS::Cognito::UserPool").values()
    ]
    for alarm in of("AWS::CloudWatch::Alarm").values():
        shape.alarms += 1
        metrics = alarm["Properties"].get("Metrics")
        shape.alarm_metrics += sum(1 for m in metrics if "MetricStat" in m) if metrics else 1
    shape.dashboards = len(of("AWS::CloudWatch::Dashboard"))
    shape.metric_filters = sum(
        len(v["Properties"].get("MetricTransformations") or [])
        for v in of("AWS::Logs::MetricFilter").values()
    )
    shape.topics = len(of("AWS::SNS::Topic"))
    shape.email_subscriptions = sum(
        1 for v in of("AWS::SNS::Subscription").values() if v["Properties"].get("Protocol") == "email"
    ) + sum(
        1
        for v in of("AWS::SNS::Topic").values()
        for s in v["Properties"].get("Subscription") or []
        if s.get("Protocol") == "email"
    )
    shape.kms_keys = len(of("AWS::KMS::Key"))
    shape.schedules_per_month = sum(
        runs_per_month(str(v["Properties"].get("ScheduleExpression", "")))
        for v in of("AWS::Scheduler::Schedule").values()
        if v["Properties"].get("State", "ENABLED") == "ENABLED"
    )
    shape.hosted_web_ui = bool(of("AWS::CloudFront::Distribution"))
    return shape


# --- synthesizing the default stack -----------------------------------------------------------
def synthesize(workdir: Path, **settings: Any) -> Path:
    """The default stack's template, synthesized in this process as tests/infra/test_synth.py does:
    the code bundle without third-party packages (no pip, offline; the template is the same)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import app as _app  # noqa: F401  (Chalice reads the routes from the repository's module)

    saved_environ, saved_cwd = dict(os.environ), os.getcwd()
    sys.path.insert(0, str(ROOT / "infra" / "cdk"))
    try:
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
        os.chdir(workdir)
        import contextlib

        import aws_cdk as cdk

        from cirrus_infra import CirrusStack, StackSettings  # type: ignore[import-not-found]
        from cirrus_infra.bundle import BundleSpec  # type: ignore[import-not-found]

        settings.setdefault("bundle", BundleSpec(requirements=None, cache_dir=workdir / "bundles"))
        with contextlib.redirect_stdout(sys.stderr):  # Chalice's packager talks on stdout
            cdk_app = cdk.App(outdir=str(workdir / "cdk.out"))
            stack = CirrusStack(cdk_app, "cirrus-prod", settings=StackSettings(stage="prod", **settings))
            assembly = cdk_app.synth()
        return Path(assembly.get_stack_by_name(stack.stack_name).template_full_path)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.path.remove(str(ROOT / "infra" / "cdk"))


# --- the traffic and the measured profile -------------------------------------------------------
@dataclass
class Traffic:
    requests_per_day: float = 1_000_000
    orders_per_month: float = 10_000
    write_share: float = GUESSED_WRITE_SHARE  # of API requests (main: measured_write_share())
    # Requests a day per `METHOD /path/{id}/` template (main: measured_mix()): when given, and the
    # profile is measured per template, a request costs the mix's weighted average, not write_share's.
    mix: dict[str, float] | None = None
    ddb_latency_ms: float = 5.0  # per DynamoDB round trip, billed as the API function's duration
    api_ms: float | None = None  # override the API function's billed duration per request
    table_gb: float = 5.0
    mau: float = 2_000
    cold_starts_per_day: float = 200.0  # SnapStart restores
    snapstart_versions: int = 1  # published versions kept active (cached)
    alarm_emails_per_month: float = 100.0
    platform_log_bytes: float = PLATFORM_LOG_BYTES  # 0: Lambda's system log level above INFO

    @property
    def requests_per_month(self) -> float:
        return self.requests_per_day * DAYS_PER_MONTH


def load_profile(path: Path = PROFILE) -> dict[str, Any]:
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `bench/cost.py --measure` first")
    return dict(json.loads(path.read_text()))


MEASURED_KEYS = (
    *tuple(
        f"{prefix}{key}"
        for prefix in ("", "pub_", "worker_")
        for key in ("rru", "wru", "round_trips", "log_bytes", "cpu_ms", "sqs_requests")
    ),
    "events",
    "event_bytes",
    "pub_invocations",
    "worker_messages",
)


def per_request(
    profile: dict[str, Any], write_share: float, mix: dict[str, float] | None = None
) -> dict[str, float]:
    """The measured figures of one API request (the request's own, the events publisher's `pub_`
    and the workers' `worker_` it sets off), averaged over the traffic: with `mix` (requests per
    `METHOD /path/{id}/` template) and a profile measured per template, the mix's weighted average
    (`template_figures`); else over the read and the write mix at `write_share`."""
    if mix and profile.get("templates"):
        figures = template_figures(profile, mix)
        total = sum(mix.values())
        return {key: sum(mix[t] * figures[t].get(key, 0.0) for t in mix) / total for key in MEASURED_KEYS}
    out: dict[str, float] = {}
    for kind, weight in (("reads", 1 - write_share), ("writes", write_share)):
        rows = profile["requests"][kind]
        for key in MEASURED_KEYS:
            out[key] = out.get(key, 0.0) + weight * sum(float(r.get(key, 0)) for r in rows) / len(rows)
    return out


def template_figures(profile: dict[str, Any], mix: dict[str, float]) -> dict[str, dict[str, float]]:
    """Each template's measured figures; a template not measured (absent from the profile's
    `templates`, or listed `unmeasured`) gets its class's: the mix-weighted average of the measured
    reads (GET, HEAD, OPTIONS) or writes, or the profile's read/write rows if none is measured."""
    measured = {
        t: {k: float(row.get(k, 0)) for k in MEASURED_KEYS}
        for t, row in (profile.get("templates") or {}).items()
        if t not in (profile.get("unmeasured") or {})
    }
    averages: dict[bool, dict[str, float]] = {}
    for write in (False, True):
        known = [t for t in mix if t in measured and is_write(t) == write]
        weight = sum(mix[t] for t in known)
        if weight:
            averages[write] = {k: sum(mix[t] * measured[t][k] for t in known) / weight for k in MEASURED_KEYS}
        else:
            rows = profile["requests"]["writes" if write else "reads"]
            averages[write] = {k: sum(float(r.get(k, 0)) for r in rows) / len(rows) for k in MEASURED_KEYS}
    return {t: measured.get(t) or averages[is_write(t)] for t in mix}


# --- pricing ----------------------------------------------------------------------------------
@dataclass
class Line:
    service: str
    monthly: float
    idle: float = 0.0
    detail: str = ""


def load_prices(path: Path = PRICES) -> dict[str, float]:
    data = json.loads(path.read_text())
    return {k: float(v["price"]) for k, v in data["items"].items()}


def _duration_ms(cpu_ms: float, memory_mb: int, round_trips: float, latency_ms: float) -> float:
    """Billed duration: the CPU time measured here, slowed by Lambda's CPU share below 1,769 MB,
    plus DynamoDB's latency per round trip (Lambda bills wall time)."""
    return cpu_ms * max(1.0, LAMBDA_FULL_VCPU_MB / memory_mb) + round_trips * latency_ms


def _gb_s_price(prices: dict[str, float], function: Function) -> float:
    return prices["lambda_gb_s_arm64" if function.architecture == "arm64" else "lambda_gb_s_x86_64"]


def _traces(requests_per_month: float) -> float:
    """Traces X-Ray's default rule records for traffic spread evenly over the month."""
    rate = requests_per_month / SECONDS_PER_MONTH
    return SECONDS_PER_MONTH * (
        min(rate, X_RAY_RESERVOIR_PER_S) + X_RAY_RATE * max(rate - X_RAY_RESERVOIR_PER_S, 0)
    )


def _storage_gb(monthly_gb: float, retention_days: int | None) -> float:
    """Logs held at steady state; a group that never expires is counted at a year's worth."""
    return monthly_gb * (retention_days if retention_days else 365) / DAYS_PER_MONTH


def price(  # noqa: C901  (one flat block per service)
    shape: Shape, traffic: Traffic, profile: dict[str, Any], prices: dict[str, float]
) -> list[Line]:
    req = per_request(profile, traffic.write_share, traffic.mix)
    order = profile["order"]
    n = traffic.requests_per_month
    orders = traffic.orders_per_month
    lines: list[Line] = []
    gb = 1024**3

    # API Gateway.
    key = "apigw_http_per_million" if shape.api == "http" else "apigw_rest_per_million"
    lines.append(
        Line("API Gateway", n / 1e6 * prices[key], 0.0, f"{shape.api.upper()} API, ${prices[key]:.2f}/M")
    )

    # With the client mix priced per template, the orders' requests (placing, approving, marking
    # done) are templates of the mix, measured with what each sets off: their tables, queues and
    # functions are in `req` already, and only the workflows' own transitions and logs are the
    # orders'. Without it, the demo order's whole cost is added per order.
    by_template = bool(traffic.mix and profile.get("templates"))

    def total(key: str) -> float:
        """A measured figure over the month: the API requests' share and the orders'."""
        return n * req.get(key, 0.0) + (0.0 if by_template else orders * float(order.get(key, 0)))

    # Lambda: the API function, the workers (order tasks, hook dispatches, scheduled jobs), the
    # events publisher (one invocation per stream batch).
    api = shape.api_function()
    api_ms = (
        traffic.api_ms
        if traffic.api_ms is not None
        else _duration_ms(req["cpu_ms"], api.memory_mb, req["round_trips"], traffic.ddb_latency_ms)
    )
    lambda_cost = n / 1e6 * prices["lambda_requests_per_million"]
    lambda_cost += n * api_ms / 1000 * api.memory_mb / 1024 * _gb_s_price(prices, api)
    workers = shape.by_role("worker")
    worker = workers[0] if workers else api
    worker_messages = total("worker_messages")
    worker_total_ms = _duration_ms(
        total("worker_cpu_ms"), worker.memory_mb, total("worker_round_trips"), traffic.ddb_latency_ms
    )
    worker_ms = worker_total_ms / worker_messages if worker_messages else 0.0
    worker_messages += shape.schedules_per_month  # a scheduled job: one message, as long as the others
    worker_total_ms += shape.schedules_per_month * worker_ms
    lambda_cost += worker_messages / 1e6 * prices["lambda_requests_per_million"]
    lambda_cost += worker_total_ms / 1000 * worker.memory_mb / 1024 * _gb_s_price(prices, worker)
    publishers = shape.by_role("publisher")
    invocations = total("pub_invocations") if publishers else 0.0
    pub_ms = 0.0
    if publishers:
        pub = publishers[0]
        pub_total_ms = _duration_ms(
            total("pub_cpu_ms"), pub.memory_mb, total("pub_round_trips"), traffic.ddb_latency_ms
        )
        pub_ms = pub_total_ms / invocations if invocations else 0.0
        lambda_cost += invocations / 1e6 * prices["lambda_requests_per_million"]
        lambda_cost += pub_total_ms / 1000 * pub.memory_mb / 1024 * _gb_s_price(prices, pub)
    lines.append(
        Line(
            "Lambda",
            lambda_cost,
            0.0,
            f"API {api.memory_mb} MB {api.architecture} {api_ms:.0f} ms/request; "
            f"{worker_messages:,.0f} worker messages at {worker_ms:.0f} ms; "
            f"{invocations:,.0f} publisher invocations at {pub_ms:.0f} ms",
        )
    )
    snap = [f for f in shape.functions if f.snapstart]
    if snap:
        cache = sum(
            f.memory_mb
            / 1024
            * SECONDS_PER_MONTH
            * prices["snapstart_cache_gb_s"]
            * traffic.snapstart_versions
            for f in snap
        )
        restores = sum(
            traffic.cold_starts_per_day * DAYS_PER_MONTH * f.memory_mb / 1024 * prices["snapstart_restore_gb"]
            for f in snap
        )
        lines.append(
            Line(
                "Lambda SnapStart",
                cache + restores,
                cache,
                f"cache of {traffic.snapstart_versions} version(s) of {', '.join(f.name for f in snap)}; "
                f"{traffic.cold_starts_per_day:.0f} restores/day",
            )
        )

    # DynamoDB: what the requests, the publisher and the workers read and write.
    rru = total("rru") + total("pub_rru") + total("worker_rru")
    wru = total("wru") + total("pub_wru") + total("worker_wru")
    storage = traffic.table_gb * prices["dynamodb_storage_gb_month"]
    pitr = traffic.table_gb * prices["dynamodb_pitr_gb_month"] if shape.pitr else 0.0
    request_units = (
        rru / 1e6 * prices["dynamodb_rru_per_million"] + wru / 1e6 * prices["dynamodb_wru_per_million"]
    )
    lines.append(
        Line(
            "DynamoDB",
            request_units + storage + pitr,
            storage + pitr,
            f"{rru / n if n else 0:.2f} RRU + {wru / n if n else 0:.2f} WRU per request (all included); "
            f"{traffic.table_gb:g} GB"
            + (" with PITR" if shape.pitr else "")
            + ("; stream read by Lambda (free)" if shape.stream else ""),
        )
    )

    # SQS: Lambda's pollers long-poll each polled queue (5 pollers, 20 s polls) whether or not it
    # holds messages (their receives return the messages too); each message is a send and a delete.
    polling = shape.polled_queues * 5 * SECONDS_PER_MONTH / 20
    messages = total("sqs_requests") + total("pub_sqs_requests") + total("worker_sqs_requests")
    messages = (
        max(messages, 2 * (worker_messages - shape.schedules_per_month)) + 2 * shape.schedules_per_month
    )
    sqs_idle = polling / 1e6 * prices["sqs_per_million"]
    lines.append(
        Line(
            "SQS",
            sqs_idle + messages / 1e6 * prices["sqs_per_million"],
            sqs_idle,
            f"{shape.polled_queues} polled queues ({polling:,.0f} receives); "
            f"{messages:,.0f} sends and deletes",
        )
    )

    # Step Functions.
    standard = [m for m in shape.state_machines if m.type == "STANDARD"]
    transitions = orders * order["transitions"]
    sfn = transitions / 1000 * prices["sfn_standard_per_thousand"] if standard else 0.0
    if any(m.type == "EXPRESS" for m in shape.state_machines):
        sfn += orders * order["executions"] / 1e6 * prices["sfn_express_per_million"]
    lines.append(Line("Step Functions", sfn, 0.0, f"{order['transitions']:.0f} transitions/order"))

    # EventBridge: the audit log's events, their archive, the schedules.
    events = total("events")
    event_gb = total("event_bytes") / gb
    eb = events / 1e6 * prices["eventbridge_custom_per_million"]
    archive_gb = 0.0
    if shape.archive:
        archive_months = (shape.archive_retention_days or 365 * 3) / DAYS_PER_MONTH
        archive_gb = event_gb * archive_months
        eb += (
            event_gb * prices["eventbridge_archive_gb"] + archive_gb * prices["eventbridge_archive_gb_month"]
        )
    eb += shape.schedules_per_month / 1e6 * prices["scheduler_per_million"]
    lines.append(
        Line(
            "EventBridge",
            eb,
            archive_gb * prices["eventbridge_archive_gb_month"],
            f"{events:,.0f} events/month; archive {archive_gb:.2f} GB at steady state"
            + ("" if shape.archive_retention_days else " (kept indefinitely: 3 years counted)"),
        )
    )

    # CloudWatch Logs: the API function's lines and Lambda's own, access logs, workers, publisher,
    # workflows (a machine logging ALL writes every history event, with its data if asked).
    xray_line = XRAY_PLATFORM_LOG_BYTES if api.tracing else 0
    # Lambda's START/END/REPORT lines unless its system log level is above INFO; the app's INFO lines
    # (one per request, the measured `log_bytes`) unless its level is above INFO.
    platform = traffic.platform_log_bytes if api.platform_lines else 0.0
    worker_platform = traffic.platform_log_bytes if worker.platform_lines else 0.0
    request_log = req["log_bytes"] if api.info_lines else 0.0
    api_log_gb = n * (request_log + platform + xray_line) / gb
    access_gb = n * shape.access_log_bytes / gb
    worker_info = 1.0 if worker.info_lines else 0.0
    worker_log_gb = (
        worker_info * (total("worker_log_bytes") + total("pub_log_bytes"))
        + (worker_messages + invocations) * worker_platform
    ) / gb
    logged = [m for m in shape.state_machines if m.log_level == "ALL"]
    sfn_log_gb = 0.0
    if logged:
        with_data = any(m.log_execution_data for m in logged)
        sfn_log_gb = orders * float(order["sfn_log_bytes" if with_data else "sfn_log_bytes_no_data"]) / gb
    ingest = api_log_gb + access_gb + worker_log_gb + sfn_log_gb
    stored = (
        _storage_gb(api_log_gb, api.log_retention_days)
        + _storage_gb(access_gb, shape.access_log_retention_days)
        + _storage_gb(worker_log_gb, worker.log_retention_days)
        + _storage_gb(sfn_log_gb, next((m.log_retention_days for m in shape.state_machines), None))
    )
    access_price = "logs_ingest_gb_infrequent" if shape.access_log_infrequent else "logs_ingest_gb"
    lines.append(
        Line(
            "CloudWatch Logs",
            (ingest - access_gb) * prices["logs_ingest_gb"]
            + access_gb * prices[access_price]
            + stored * prices["logs_storage_gb_month"],
            stored * prices["logs_storage_gb_month"],
            f"{ingest:.1f} GB/month ingested "
            f"({request_log + platform + xray_line:.0f} B/request"
            f"{f' + {shape.access_log_bytes} B access log' if shape.access_log_bytes else ''}"
            f"{' (Infrequent Access)' if shape.access_log_infrequent else ''}); "
            f"{stored:.1f} GB held",
        )
    )

    # CloudWatch: alarms, dashboards, custom metrics (metric filters and EMF).
    # The app's EMF metrics (chalicelib/metrics.py): each name, with its one `stage` dimension, is a
    # custom metric once emitted in a month (all of them, at this traffic).
    from chalicelib.metrics import METRIC_NAMES

    custom = shape.metric_filters + max(len(METRIC_NAMES), int(profile.get("emf_metrics", 0)))
    cw = (
        shape.alarm_metrics * prices["alarm_month"]
        + shape.dashboards * prices["dashboard_month"]
        + custom * prices["custom_metric_month"]
    )
    lines.append(
        Line(
            "CloudWatch alarms, dashboards, metrics",
            cw,
            cw,
            f"{shape.alarms} alarms, {shape.dashboards} dashboards, {custom} custom metrics",
        )
    )

    # X-Ray.
    traces = 0.0
    if api.tracing or shape.api_tracing:
        traces += _traces(n)
    if any(f.tracing for f in workers + publishers):
        traces += _traces(worker_messages + invocations)
    if any(m.tracing for m in shape.state_machines):
        traces += _traces(orders * order["executions"])
    if traces:
        lines.append(
            Line("X-Ray", traces / 1e6 * prices["xray_traces_per_million"], 0.0, f"{traces:,.0f} traces")
        )

    # Cognito, SNS, KMS.
    for tier in shape.user_pools:
        key = "cognito_mau_lite" if tier == "LITE" else "cognito_mau_essentials"
        billed = max(0.0, traffic.mau - 10_000)
        lines.append(
            Line(
                "Cognito",
                billed * prices[key],
                0.0,
                f"{traffic.mau:,.0f} MAU, {tier.lower()} tier (10k free)",
            )
        )
    if shape.topics:
        sns = traffic.alarm_emails_per_month * shape.email_subscriptions / 1e5 * prices["sns_email_per_100k"]
        lines.append(
            Line(
                "SNS",
                sns,
                0.0,
                f"{shape.topics} topic(s), {shape.email_subscriptions} e-mail subscription(s)",
            )
        )
    if shape.kms_keys:
        kms = shape.kms_keys * prices["kms_key_month"]
        lines.append(Line("KMS", kms, kms, f"{shape.kms_keys} key(s)"))
    return lines


# --- the report -------------------------------------------------------------------------------
def summary(lines: list[Line], traffic: Traffic) -> tuple[float, float, float]:
    total = sum(line.monthly for line in lines)
    idle = sum(line.idle for line in lines)
    return total, idle, total / (traffic.requests_per_month / 1e6)


def report(shape: Shape, traffic: Traffic, lines: list[Line], prices: dict[str, float], source: str) -> str:
    total, idle, per_m = summary(lines, traffic)
    millions = traffic.requests_per_month / 1e6
    api = shape.api_function()
    out = [
        f"## Monthly AWS cost at {traffic.requests_per_day:,.0f} requests/day "
        f"({millions:,.1f}M/month), {traffic.orders_per_month:,.0f} orders/month, "
        f"{traffic.write_share:.0%} writes",
        "",
        f"Template: {source}: {shape.api.upper()} API; API function {api.memory_mb} MB {api.architecture} "
        f"{api.runtime}{', SnapStart' if api.snapstart else ''}{', X-Ray' if api.tracing else ''}; "
        f"{len(shape.state_machines)} state machines "
        f"({', '.join(sorted({m.type for m in shape.state_machines}))}); "
        f"{shape.alarms} alarms; {shape.dashboards} dashboards.",
        "",
        "| service | monthly | per 1M requests | idle | what |",
        "|---|---:|---:|---:|---|",
    ]
    for line in sorted(lines, key=lambda x: -x.monthly):
        out.append(
            f"| {line.service} | ${line.monthly:,.2f} | ${line.monthly / millions:,.3f} "
            f"| ${line.idle:,.2f} | {line.detail} |"
        )
    out.append(f"| **total** | **${total:,.2f}** | **${per_m:,.3f}** | **${idle:,.2f}** | |")
    low, high = prices["server_stack_month_low"], prices["server_stack_month_high"]
    verdict = "meets" if per_m <= GOAL_PER_MILLION else "misses"
    out += [
        "",
        f"**${per_m:.2f} per 1M requests**: {verdict} the goal of ${GOAL_PER_MILLION:.2f}. "
        f"Against the ${low:.0f}-{high:.0f}/month server stack: {total / high:.0%}-{total / low:.0%} "
        f"of it (goal: under a third). Idle (no traffic): ${idle:.2f}/month.",
    ]
    return "\n".join(out)


def measured_write_share(path: Path = CLIENT_MIX) -> tuple[float, str]:
    """The combined write share bench/client_mix.py measured from HomePort and waldur-site-agent
    (`combined.write_share` of its JSON) and where it comes from; without the file (or with a
    broken one), GUESSED_WRITE_SHARE."""
    try:
        data = json.loads(path.read_text())
        combined = data["combined"]
        share = float(combined["write_share"])
        weights = combined["weights"]
        if not 0.0 <= share <= 1.0:
            raise ValueError(share)
        source = (
            f"measured by bench/client_mix.py ({data.get('date', '?')}): HomePort and waldur-site-agent "
            f"at {weights['ui_sessions_per_day']:g} UI sessions/day and {weights['agent_offerings']:g} "
            "agent-polled offerings"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return GUESSED_WRITE_SHARE, f"a guess ({path.name} is absent or unreadable)"
    return share, source


WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def template_weights(mix: dict[str, Any]) -> dict[str, float]:
    """Requests a day per `METHOD /path/{id}/` template in bench/client_mix.py's combined model:
    `combined.by_path` if the file holds it, else rebuilt from the per-client counts and the weights
    it records, as client_mix.combine() weighs the methods: each HomePort session's paths (the mean
    session) times `ui_sessions_per_day`; each agent mode's steady cycle times its cycles a day
    (`agent_periods_minutes`) times `agent_offerings`; plus what one order adds to order_process (its
    first cycle over its steady one, per resource, never below 0) times the orders a day."""
    combined = mix["combined"]
    if isinstance(combined.get("by_path"), dict):
        return {k: float(v) for k, v in combined["by_path"].items()}
    weights = combined["weights"]
    clients = mix.get("clients") or {}
    out: dict[str, float] = {}

    def add(counts: dict[str, Any], factor: float) -> None:
        for path, n in counts.items():
            out[path] = out.get(path, 0.0) + float(n) * factor

    if homeport := clients.get("homeport"):
        sessions = list(homeport["sessions"].values())
        for session in sessions:
            add(session["by_path"], float(weights["ui_sessions_per_day"]) / len(sessions))
    if agent := clients.get("site_agent"):
        offerings = float(weights["agent_offerings"])
        periods = weights.get("agent_periods_minutes") or agent["default_period_minutes"]
        for mode, run in agent["modes"].items():
            add(run["steady_cycle"]["by_path"], 24 * 60 / float(periods[mode]) * offerings)
        ordering = agent["modes"]["order_process"]
        first, steady = ordering["cycles"][0]["by_path"], ordering["steady_cycle"]["by_path"]
        per_order = {
            p: max(0.0, float(first.get(p, 0)) - float(steady.get(p, 0))) / float(agent["resources"])
            for p in set(first) | set(steady)
        }
        add(per_order, offerings * float(weights["agent_orders_per_offering_per_day"]))
    return {k: v for k, v in sorted(out.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0}


def is_write(template: str) -> bool:
    return template.split(" ", 1)[0].upper() in WRITE_METHODS


def measured_mix(path: Path = CLIENT_MIX) -> dict[str, float] | None:
    """The client mix's requests a day per path template, None without the file (or with one that
    holds no per-path counts)."""
    try:
        weights = template_weights(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return None
    return weights or None


def mix_write_share(mix: dict[str, float]) -> float:
    total = sum(mix.values())
    return sum(n for t, n in mix.items() if is_write(t)) / total if total else 0.0


def mix_at_write_share(mix: dict[str, float], share: float) -> dict[str, float]:
    """The mix with its write templates scaled to `share` of the requests, the reads kept."""
    reads = sum(n for t, n in mix.items() if not is_write(t))
    writes = sum(n for t, n in mix.items() if is_write(t))
    factor = share / (1 - share) * reads / writes if writes and share < 1 else 1.0
    return {t: n * factor if is_write(t) else n for t, n in mix.items()}


def uses_mix(traffic: Traffic, profile: dict[str, Any]) -> bool:
    return bool(traffic.mix and profile.get("templates"))


def template_costs(
    shape: Shape, traffic: Traffic, profile: dict[str, Any], prices: dict[str, float]
) -> list[dict[str, Any]]:
    """Per template of the mix, most costly share first: its requests a day and share of them, its
    figures (WRU and RRU with the publisher's and the workers'), what 1M requests of it alone cost
    (every line that grows with the requests: the bill at this traffic with only that template,
    less the bill without requests) and its share of what the mix's requests cost."""
    from dataclasses import replace

    assert traffic.mix
    mix = traffic.mix
    figures = template_figures(profile, mix)
    unmeasured = set(mix) - set(profile.get("templates") or {}) | set(profile.get("unmeasured") or {})
    millions = traffic.requests_per_month / 1e6

    def bill(t: Traffic) -> float:
        return sum(line.monthly for line in price(shape, t, profile, prices))

    standing = bill(replace(traffic, requests_per_day=0.0))
    rows: list[dict[str, Any]] = []
    for template, n in mix.items():
        alone = bill(replace(traffic, mix={template: 1.0}))
        f = figures[template]
        rows.append(
            {
                "template": template,
                "per_day": n,
                "share": n / sum(mix.values()),
                "rru": f["rru"] + f["pub_rru"] + f["worker_rru"],
                "wru": f["wru"] + f["pub_wru"] + f["worker_wru"],
                "events": f["events"],
                "per_million": (alone - standing) / millions if millions else 0.0,
                "measured": template not in unmeasured,
            }
        )
    spent = sum(r["share"] * r["per_million"] for r in rows)
    for r in rows:
        r["cost_share"] = r["share"] * r["per_million"] / spent if spent else 0.0
    return sorted(rows, key=lambda r: -r["cost_share"])


def mix_report(
    shape: Shape, traffic: Traffic, profile: dict[str, Any], prices: dict[str, float], top: int | None = 5
) -> str:
    """Which model priced the requests; with the client mix, its costliest templates."""
    if not uses_mix(traffic, profile):
        why = (
            "the profile holds no per-template figures (re-measure: `--measure`)"
            if traffic.mix
            else "no client mix (given --write-share, or bench/client_mix.json absent)"
        )
        return f"Model: read/write share ({traffic.write_share:.1%} writes; {why})."
    assert traffic.mix
    rows = template_costs(shape, traffic, profile, prices)
    missing = [r["template"] for r in rows if not r["measured"]]
    out = [
        f"Model: the client mix per path template ({len(rows)} templates of bench/client_mix.json's "
        f"combined model, {traffic.write_share:.1%} writes; {len(rows) - len(missing)} measured, "
        f"{len(missing)} at their class's average" + (f": {', '.join(missing)}" if missing else "") + ").",
        "",
        f"{'Top ' + str(top) if top else 'All'} templates by their share of the requests' cost:",
        "",
        "| template | requests/day | of requests | RRU | WRU | events | $ per 1M of it | of cost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows[:top] if top else rows:
        out.append(
            f"| {r['template']}{'' if r['measured'] else ' (class average)'} | {r['per_day']:,.0f} "
            f"| {r['share']:.1%} | {r['rru']:.1f} | {r['wru']:.1f} | {r['events']:g} "
            f"| ${r['per_million']:.2f} | {r['cost_share']:.1%} |"
        )
    return "\n".join(out)


def goal_budget(shape: Shape, traffic: Traffic, profile: dict[str, Any], prices: dict[str, float]) -> str:
    """Where the goal stands against what no request can avoid: the standing (idle) cost spread
    over the month's requests, and the front door's fee per request (API Gateway's and Lambda's
    request prices). What is left is the budget for everything a request does (DynamoDB, Lambda's
    duration, logs, what it sets off); then what the requests spend, the cheapest one measured, and
    the largest write share (the mix's reads kept, its writes scaled) at which the goal is met."""
    from dataclasses import replace

    def per_m(t: Traffic) -> float:
        return summary(price(shape, t, profile, prices), t)[2]

    _, idle, now = summary(price(shape, traffic, profile, prices), traffic)
    millions = traffic.requests_per_month / 1e6
    standing = idle / millions if millions else 0.0
    door_key = "apigw_http_per_million" if shape.api == "http" else "apigw_rest_per_million"
    door = prices[door_key] + prices["lambda_requests_per_million"]
    left, spent = GOAL_PER_MILLION - standing - door, now - standing - door
    out = [
        f"The goal against what every request pays: ${GOAL_PER_MILLION:.2f} per 1M, less the standing "
        f"cost (${standing:.2f} per 1M at this traffic) and the front door's fee ({shape.api.upper()} "
        f"API ${prices[door_key]:.2f} + Lambda's request ${prices['lambda_requests_per_million']:.2f}), "
        f"leaves ${left:.2f} per 1M for all the requests do; they spend ${spent:.2f}."
    ]
    if uses_mix(traffic, profile):
        cheapest = min(template_costs(shape, traffic, profile, prices), key=lambda r: r["per_million"])
        out.append(
            f"The cheapest request measured ({cheapest['template']}: {cheapest['rru']:.1f} RRU) costs "
            f"${cheapest['per_million']:.2f} per 1M: ${cheapest['per_million'] + standing:.2f} with the "
            f"standing cost, were every request as cheap."
        )

    def at(share: float) -> Traffic:
        mix = mix_at_write_share(traffic.mix, share) if uses_mix(traffic, profile) and traffic.mix else None
        return replace(traffic, write_share=share, mix=mix)

    if per_m(at(0.0)) > GOAL_PER_MILLION:
        out.append(
            f"Reads alone (0% writes) cost ${per_m(at(0.0)):.2f} per 1M: no write share meets the goal."
        )
    else:
        low, high = 0.0, 1.0 - 1e-6
        for _ in range(40):  # the cost grows with the write share: bisect for where it crosses
            mid = (low + high) / 2
            low, high = (mid, high) if per_m(at(mid)) <= GOAL_PER_MILLION else (low, mid)
        out.append(f"The goal is met up to {low:.1%} writes (the mix's reads kept, its writes scaled).")
    return "\n".join(out)


def assumptions(traffic: Traffic, profile: dict[str, Any], write_share_source: str = "") -> str:
    return "\n".join(
        [
            f"Writes: {traffic.write_share:.1%} of API requests"
            + (f", {write_share_source}" if write_share_source else "")
            + ".",
            "Assumptions: list prices of bench/prices.json, no free tier but Cognito's; traffic spread "
            "evenly (X-Ray's 1/s + 5% sampling); a function's billed duration is the CPU time measured "
            f"here ({profile.get('machine', 'this machine')}) slowed by Lambda's CPU share below "
            f"{LAMBDA_FULL_VCPU_MB} MB, plus {traffic.ddb_latency_ms:g} ms per DynamoDB round trip; one "
            "publisher invocation per stream batch and one worker invocation per message, as measured "
            f"(low traffic: no batching); {traffic.cold_starts_per_day:g} SnapStart restores/day; the "
            f"table holds {traffic.table_gb:g} GB; logs held are counted uncompressed; "
            f"{PLATFORM_LOG_BYTES} B of Lambda's START/END/REPORT lines per invocation; the order is the "
            "demo provider's automatic one (an agent-driven order adds callbacks and the agent's API calls, "
            "which are API requests).",
            f"Measured ({profile.get('measured', '?')}, `--measure`): "
            + "; ".join(f"{k}={v}" for k, v in profile.get("summary", {}).items()),
        ]
    )


def levers(  # noqa: C901  (one variant per lever)
    shape: Shape, traffic: Traffic, profile: dict[str, Any], prices: dict[str, float]
) -> str:
    """What single settings would do to the cost per 1M requests, each applied alone, then all."""
    from copy import deepcopy
    from dataclasses import replace

    _, _, base = summary(price(shape, traffic, profile, prices), traffic)

    def per_m(s: Shape, t: Traffic, p: dict[str, Any]) -> float:
        return summary(price(s, t, p, prices), t)[2]

    def functions(s: Shape, **what: Any) -> Shape:
        s = deepcopy(s)
        for f in s.functions:
            for k, v in what.items():
                setattr(f, k, v)
        if what.get("tracing") is False:
            s.api_tracing = False
            for m in s.state_machines:
                m.tracing = False
        return s

    def api_memory(s: Shape, mb: int) -> Shape:
        s = deepcopy(s)
        s.api_function().memory_mb = mb
        return s

    def rows_of(p: dict[str, Any]) -> list[dict[str, Any]]:
        """Every measured request: the read/write model's and the per-template ones."""
        return [r for rows in p["requests"].values() for r in rows] + list(
            (p.get("templates") or {}).values()
        )

    def quiet_profile(p: dict[str, Any]) -> dict[str, Any]:
        p = deepcopy(p)
        for row in rows_of(p):
            row["log_bytes"] = 0
        return p

    def no_hook_dispatch(p: dict[str, Any]) -> dict[str, Any]:
        """The publisher queues no `hooks.dispatch` task for an event no hook subscribes to. (The
        read/write model's writes only: a template's worker tasks may be its order's, not hooks'.)"""
        p = deepcopy(p)
        for row in p["requests"]["writes"]:
            for key in [k for k in row if k.startswith("worker_")]:
                row[key] = 0
            row["pub_sqs_requests"] = 0
        return p

    def cached_caller(p: dict[str, Any]) -> dict[str, Any]:
        """A non-staff request reads its token (GetItem), the caller's grants (a gsi1 Query) and the
        roles (a Query of `ROLES`), each eventually consistent: 1.5 RRU and 3 round trips before
        any work, which a warm function could keep for a while (at the cost of a revoked token,
        grant or permission still working that long: not done)."""
        p = deepcopy(p)
        for row in rows_of(p):
            row["rru"] = max(0.0, float(row.get("rru", 0)) - 1.5)
            row["round_trips"] = max(0.0, float(row.get("round_trips", 0)) - 3)
        return p

    def no_access_log(s: Shape) -> Shape:
        s = deepcopy(s)
        s.access_log_bytes = 0
        return s

    def at_share(t: Traffic, share: float) -> Traffic:
        """Another write share: with the mix, its write templates scaled (the reads and the writes'
        proportions kept); else the read/write model's."""
        return replace(t, write_share=share, mix=mix_at_write_share(t.mix, share) if t.mix else None)

    quiet = replace(traffic, platform_log_bytes=0)
    variants: list[tuple[str, Shape, Traffic, dict[str, Any]]] = []
    if shape.api != "http":
        http = deepcopy(shape)
        http.api = "http"
        variants.append(("an HTTP API", http, traffic, profile))
    if any(f.architecture != "arm64" for f in shape.functions):
        variants.append(("arm64 functions", functions(shape, architecture="arm64"), traffic, profile))
    if any(f.tracing for f in shape.functions) or shape.api_tracing:
        variants.append(("no X-Ray", functions(shape, tracing=False), traffic, profile))
    for mb in (256, 512, 1769):
        if shape.api_function().memory_mb != mb:
            variants.append((f"the API function at {mb} MB", api_memory(shape, mb), traffic, profile))
    variants += [
        (
            "log level WARNING: no INFO line per request, Lambda's START/END/REPORT off "
            "(JSON log format, system log level WARN)",
            shape,
            quiet,
            quiet_profile(profile),
        ),
        ("no hooks.dispatch task for an event no hook wants", shape, traffic, no_hook_dispatch(profile)),
        (
            "the caller's token, grants and the roles cached in the warm function "
            "(every request a hit: an upper bound)",
            shape,
            traffic,
            cached_caller(profile),
        ),
    ]
    if shape.access_log_bytes:
        variants.append(("no access log", no_access_log(shape), traffic, profile))
    variants += [
        (
            f"5% writes instead of {traffic.write_share:.0%}",
            shape,
            at_share(traffic, 0.05),
            profile,
        ),
        ("2% writes", shape, at_share(traffic, 0.02), profile),
    ]
    rows = []
    for label, s, t, p in variants:
        value = per_m(s, t, p)
        if abs(value - base) >= 0.005:
            rows.append(f"- {label}: ${value:.2f} per 1M ({value - base:+.2f})")
    best = functions(shape, architecture="arm64", tracing=False)
    best.api = "http"
    best = api_memory(best, 256)
    lean = cached_caller(no_hook_dispatch(quiet_profile(profile)))
    rows.append(
        "- all of HTTP API, arm64, no X-Ray, 256 MB, WARNING logs, no idle hook dispatch, cached "
        f"caller: ${per_m(best, quiet, lean):.2f} per 1M at {traffic.write_share:.0%} writes, "
        f"${per_m(best, at_share(quiet, 0.05), lean):.2f} at 5%, "
        f"${per_m(best, at_share(quiet, 0.02), lean):.2f} at 2%"
    )
    return "Levers (each alone, from this template; then together):\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", help="a synthesized *.template.json (default: synthesize)")
    d = Traffic()
    write_share, write_share_source = measured_write_share(CLIENT_MIX)
    parser.add_argument("--requests-per-day", type=float, default=d.requests_per_day)
    parser.add_argument("--orders-per-month", type=float, default=d.orders_per_month)
    parser.add_argument(
        "--write-share",
        type=float,
        help=(
            "share of API requests that write (POST/PUT/PATCH/DELETE), priced as the profile's average "
            "read and write; without it, requests are priced per path template at the mix "
            f"bench/client_mix.py measured from HomePort and waldur-site-agent ({CLIENT_MIX.name}), "
            f"else at its combined write share, {GUESSED_WRITE_SHARE:.0%} without that file; now "
            f"{write_share:.1%}"
        ).replace("%", "%%"),
    )
    parser.add_argument(
        "--templates", action="store_true", help="list every path template of the mix, not the top 5"
    )
    parser.add_argument("--ddb-latency-ms", type=float, default=d.ddb_latency_ms)
    parser.add_argument(
        "--api-ms", type=float, help="the API function's billed ms per request (default: modelled)"
    )
    parser.add_argument("--table-gb", type=float, default=d.table_gb)
    parser.add_argument("--mau", type=float, default=d.mau, help="Cognito monthly active users")
    parser.add_argument("--cold-starts-per-day", type=float, default=d.cold_starts_per_day)
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if over ${GOAL_PER_MILLION}/1M requests"
    )
    parser.add_argument("--measure", action="store_true", help=f"re-measure {PROFILE.name} under moto first")
    args = parser.parse_args(argv)

    if args.measure:
        import subprocess

        done = subprocess.run([sys.executable, str(HERE / "cost_measure.py"), str(PROFILE)], check=False)
        if done.returncode:
            return done.returncode
    if args.template:
        path = Path(args.template)
        template, source = json.loads(path.read_text()), path.name
    else:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="cirrus-cost-") as tmp:
            path = synthesize(Path(tmp))
            template, source = json.loads(path.read_text()), "the default stack, synthesized"
    profile = load_profile(PROFILE)
    mix = measured_mix(CLIENT_MIX) if args.write_share is None else None
    if mix and profile.get("templates"):
        write_share = mix_write_share(mix)
    elif args.write_share is not None:
        write_share, write_share_source = args.write_share, "given with --write-share"
    traffic = Traffic(
        requests_per_day=args.requests_per_day,
        orders_per_month=args.orders_per_month,
        write_share=write_share,
        mix=mix,
        ddb_latency_ms=args.ddb_latency_ms,
        api_ms=args.api_ms,
        table_gb=args.table_gb,
        mau=args.mau,
        cold_starts_per_day=args.cold_starts_per_day,
    )
    shape = read_template(template)
    prices = load_prices()
    lines = price(shape, traffic, profile, prices)
    print(report(shape, traffic, lines, prices, source))
    print()
    print(mix_report(shape, traffic, profile, prices, top=None if args.templates else 5))
    print()
    print(levers(shape, traffic, profile, prices))
    print()
    print(goal_budget(shape, traffic, profile, prices))
    print()
    print(assumptions(traffic, profile, write_share_source))
    for note in shape.notes:
        print(f"Note: {note}")
    _, _, per_m = summary(lines, traffic)
    return 1 if args.check and per_m > GOAL_PER_MILLION else 0


if __name__ == "__main__":
    sys.exit(main())
