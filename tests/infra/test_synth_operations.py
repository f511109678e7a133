"""Operating the deployed stack (cirrus_infra/operations.py; README "Operating"): the alarms topic and
who may publish to it, every alarm notifying it on alarm and on recovery, the alarms on the API,
every function, every workflow and the table, the dashboard, the consumers' concurrency caps, the
data that outlives the stack (the table, the events archive), tags on every resource (including what
the SAM transform generates) and no role writing logs beyond its functions' own groups.

Two synths for the module (test_synth.py's helper): the defaults, and the options (an alarm e-mail,
a consumer's cap, deletion protection off). The SAM transform runs offline through samtranslator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store import schema
from chalicelib.workflows import stepfunctions
from chalicelib.workflows.registry import QUEUES
from tests.infra.test_synth import CDK_DIR, PREFIX, PUBLISHER, WORKERS, Synth, _assert_lint_clean, _synth

pytestmark = pytest.mark.infra

FUNCTIONS = {"APIHandler", *WORKERS.values(), PUBLISHER}
ALARM_EMAIL = "ops@example.org"
HEAVY_CAP = 2  # the lowest SQS allows
# The app's EMF metrics (chalicelib/metrics.py), as the dashboard must name them.
APP_METRICS = {
    "OrdersPlaced",
    "OrdersDone",
    "OrdersErred",
    "OrderTimeToDone",
    "HookDeliveryFailures",
    "BillingRuns",
}
LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
LOG_WRITES = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:*", "*"}


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(tmp_path_factory.mktemp("synth-ops"))


@pytest.fixture(scope="module")
def synth_with_options(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(
        tmp_path_factory.mktemp("synth-ops-options"),
        alarm_email=ALARM_EMAIL,
        worker_concurrency={"heavy": HEAVY_CAP},
        deletion_protection=False,
    )


def _sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """What CloudFormation deploys: the template after the SAM transform (samtranslator, offline; no
    SAM function here names a managed policy, so the policy loader is never asked)."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        return dict(transform(json.loads(json.dumps(template)), {}, NoManagedPolicies()))


@pytest.fixture(scope="module")
def deployed(synth: Synth) -> dict[str, dict[str, Any]]:
    return _sam_transform(synth.template)["Resources"]


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in synth.resources("AWS::CloudWatch::Alarm").items()}


def _simple_alarms(synth: Synth, namespace: str, metric: str) -> list[dict[str, Any]]:
    return [
        a
        for a in _alarms(synth).values()
        if a.get("Namespace") == namespace and a.get("MetricName") == metric
    ]


def _front_door(synth: Synth) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The API's metric dimensions and error metric names: an HTTP API's by its id and `$default`
    stage, else Chalice's REST API's by name and stage (REST metrics carry no id)."""
    http_apis = synth.resources("AWS::ApiGatewayV2::Api")
    if http_apis:
        [api_id] = http_apis
        return [{"Name": "ApiId", "Value": {"Ref": api_id}}, {"Name": "Stage", "Value": "$default"}], {
            "5xx": "5xx",
            "4xx": "4xx",
        }
    rest = [{"Name": "ApiName", "Value": "cirrus"}, {"Name": "Stage", "Value": "api"}]
    return rest, {"5xx": "5XXError", "4xx": "4XXError"}


def _dimension(alarm: dict[str, Any], name: str) -> Any:
    [value] = [d["Value"] for d in alarm["Dimensions"] if d["Name"] == name]
    return value


# The alarms topic -----------------------------------------------------------------------------------


def test_alarm_topic_is_encrypted_tls_only_and_open_to_this_accounts_alarms(synth: Synth) -> None:
    topic_id, topic = synth.named("AWS::SNS::Topic", "TopicName", f"{PREFIX}-alarms")
    # A key of the stack's own: CloudWatch can not use the AWS-managed alias/aws/sns key.
    key_ref = topic["Properties"]["KmsMasterKeyId"]
    key_id = key_ref["Fn::GetAtt"][0]
    key = synth.template["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    [for_cloudwatch] = [
        st
        for st in key["Properties"]["KeyPolicy"]["Statement"]
        if st.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(for_cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert for_cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}

    _, policy = synth.one("AWS::SNS::TopicPolicy")
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [deny] = [st for st in statements if st["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and deny["Principal"] == "*"
    [allow] = [st for st in statements if st["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = json.dumps(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":cloudwatch:" in source and ":alarm:*" in source
    # Nobody is subscribed unless asked; the ARN is an output to subscribe by hand.
    assert not synth.resources("AWS::SNS::Subscription")
    assert synth.template["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": topic_id}


def test_alarm_email_is_subscribed_to_the_topic(synth_with_options: Synth) -> None:
    topic_id, _ = synth_with_options.named("AWS::SNS::Topic", "TopicName", f"{PREFIX}-alarms")
    _, subscription = synth_with_options.one("AWS::SNS::Subscription")
    props = subscription["Properties"]
    assert (props["Protocol"], props["Endpoint"], props["TopicArn"]) == (
        "email",
        ALARM_EMAIL,
        {"Ref": topic_id},
    )


def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_recovers(synth: Synth) -> None:
    topic_id, _ = synth.named("AWS::SNS::Topic", "TopicName", f"{PREFIX}-alarms")
    alarms = _alarms(synth)
    assert len(alarms) > 20
    for alarm_id, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], alarm_id
        assert alarm["OKActions"] == [{"Ref": topic_id}], alarm_id
        # The on-call reads what it means and what to do.
        assert len(json.dumps(alarm["AlarmDescription"])) > 80, alarm_id
        assert alarm["TreatMissingData"] == "notBreaching", alarm_id


def test_an_alarm_made_without_the_alarm_construct_is_refused() -> None:
    """The topic reaches alarms through cloudwatch.Alarm: a bare CfnAlarm would page no one."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        mp.syspath_prepend(str(CDK_DIR))
        import aws_cdk as cdk
        from aws_cdk import aws_cloudwatch as cloudwatch
        from aws_cdk import aws_sns as sns

        from cirrus_infra.operations import AlarmActions

        stack = cdk.Stack(cdk.App(), "bare")
        topic = sns.Topic(stack, "Topic")
        cloudwatch.CfnAlarm(
            stack,
            "Bare",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            threshold=0,
            metric_name="Errors",
            namespace="AWS/Lambda",
            period=300,
            statistic="Sum",
        )
        cdk.Aspects.of(stack).add(AlarmActions(topic))
        with pytest.raises(Exception, match=r"cloudwatch\.Alarm"):
            cdk.assertions.Template.from_stack(stack)


# The alarms -----------------------------------------------------------------------------------------


def test_api_alarms_on_5xx_share_and_p90_latency(synth: Synth) -> None:
    alarms = _alarms(synth)
    [five_xx] = [a for a in alarms.values() if "Metrics" in a and "5xx" in json.dumps(a["Metrics"])]
    metrics = {m["Id"]: m for m in five_xx["Metrics"]}
    dimensions, names = _front_door(synth)
    assert metrics["requests"]["MetricStat"]["Metric"] == {
        "Dimensions": dimensions,
        "MetricName": "Count",
        "Namespace": "AWS/ApiGateway",
    }
    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == names["5xx"]
    [expression] = [m for m in five_xx["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "IF(requests >= 20, 100 * errors / requests, 0)"
    assert (five_xx["Threshold"], five_xx["ComparisonOperator"]) == (5, "GreaterThanThreshold")
    [latency] = _simple_alarms(synth, "AWS/ApiGateway", "Latency")
    assert latency["Dimensions"] == dimensions
    assert latency["ExtendedStatistic"] == "p90" and latency["Period"] == 300
    assert latency["Threshold"] == 2000 and latency["EvaluationPeriods"] == 3


def test_front_door_metrics_name_the_http_api_by_id_or_the_rest_api_by_name() -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        mp.syspath_prepend(str(CDK_DIR))
        from cirrus_infra.operations import FrontDoor

        http = FrontDoor(api_id="a1b2c3")
        errors = http.metric("5xx", "Sum")
        assert (errors.namespace, errors.metric_name) == ("AWS/ApiGateway", "5xx")
        assert errors.dimensions == {"ApiId": "a1b2c3", "Stage": "$default"}
        rest = FrontDoor(api_id=None)
        assert rest.metric("5xx", "Sum").metric_name == "5XXError"
        assert rest.metric("4xx", "Sum").metric_name == "4XXError"
        assert rest.metric("Latency", "p90").dimensions == {"ApiName": "cirrus", "Stage": "api"}


def test_every_function_alarms_once_on_errors_and_on_throttles(synth: Synth) -> None:
    for metric in ("Errors", "Throttles"):
        alarmed = [_dimension(a, "FunctionName") for a in _simple_alarms(synth, "AWS/Lambda", metric)]
        # The publisher's Errors alarm is events.py's; nothing is alarmed twice.
        assert sorted(alarmed, key=json.dumps) == sorted(({"Ref": f} for f in FUNCTIONS), key=json.dumps)
        for alarm in _simple_alarms(synth, "AWS/Lambda", metric):
            assert (alarm["Statistic"], alarm["Threshold"], alarm["Period"]) == ("Sum", 0, 300)


def test_every_state_machine_alarms_on_failed_timed_out_and_aborted_executions(synth: Synth) -> None:
    machines = {
        name: synth.named("AWS::StepFunctions::StateMachine", "StateMachineName", f"{PREFIX}-{name}")[0]
        for name in stepfunctions.names()
    }
    thresholds = {}
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
        alarms = _simple_alarms(synth, "AWS/States", metric)
        alarmed = {_dimension(a, "StateMachineArn")["Ref"] for a in alarms}
        assert alarmed == set(machines.values()), metric
        thresholds[metric] = {(a["Threshold"], a["Period"]) for a in alarms}
    # A failed execution is an order that erred or a step a provider refused (by design): many in an
    # hour page. A timed-out or aborted one never happens by design: one pages.
    assert thresholds == {
        "ExecutionsFailed": {(10, 3600)},
        "ExecutionsTimedOut": {(0, 300)},
        "ExecutionsAborted": {(0, 300)},
    }


def test_table_throttles_alarm_covers_reads_and_writes_on_the_table_and_each_index(synth: Synth) -> None:
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    [alarm] = [a for a in _alarms(synth).values() if "ThrottleEvents" in json.dumps(a.get("Metrics", []))]
    watched = set()
    for m in alarm["Metrics"]:
        if "MetricStat" not in m:
            assert m["Expression"] == "SUM(METRICS())"
            continue
        metric = m["MetricStat"]["Metric"]
        dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert dims.pop("TableName") == {"Ref": table_id}
        watched.add((metric["MetricName"], dims.get("GlobalSecondaryIndexName")))
    targets = [None, *(index.name for index in schema.GLOBAL_INDEXES)]
    assert watched == {(f"{kind}ThrottleEvents", t) for kind in ("Read", "Write") for t in targets}
    assert alarm["Threshold"] == 0


# The dashboard --------------------------------------------------------------------------------------


def _dashboard_body(synth: Synth) -> dict[str, Any]:
    """The dashboard's JSON, with each reference written as `@<logical id>@`."""
    _, dashboard = synth.one("AWS::CloudWatch::Dashboard")
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]

    def text(part: Any) -> str:
        if isinstance(part, str):
            return part
        if "Ref" in part:
            return f"@{part['Ref']}@"
        return f"@{'.'.join(part['Fn::GetAtt'])}@"

    return dict(json.loads("".join(text(p) for p in parts)))


def test_dashboard_shows_the_api_functions_queues_workflows_table_and_orders(synth: Synth) -> None:
    dashboard_id, dashboard = synth.one("AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == PREFIX
    body = _dashboard_body(synth)
    graphs = {w["properties"]["title"]: w["properties"] for w in body["widgets"] if w["type"] == "metric"}

    def plotted(title: str) -> list[list[Any]]:
        return [m for m in graphs[title]["metrics"] if isinstance(m[0], str)]

    _, names = _front_door(synth)
    assert {m[1] for m in plotted("API requests and errors")} == {"Count", names["4xx"], names["5xx"]}
    assert {m[-1]["stat"] for m in plotted("API latency (ms)")} == {"p50", "p90", "p99"}
    for title, metric in (
        ("Lambda invocations", "Invocations"),
        ("Lambda errors", "Errors"),
        ("Lambda throttles", "Throttles"),
        ("Lambda duration p90 (ms)", "Duration"),
        ("Lambda concurrency (max)", "ConcurrentExecutions"),
    ):
        functions = {m[3] for m in plotted(title) if m[1] == metric and len(m) > 3}
        assert functions == {f"@{f}@" for f in FUNCTIONS}, title
    assert [m[1:4] for m in plotted("Publisher iterator age (ms)")] == [
        ["IteratorAge", "FunctionName", f"@{PUBLISHER}@"]
    ]
    queues = {synth.queue(f"{PREFIX}-{q}")[0] for q in QUEUES}
    dead_letters = {
        synth.queue(f"{PREFIX}-{name}-dlq")[0] for name in (*QUEUES, "schedules", "events-publisher")
    }
    for title, expected in (
        ("Queue depth (visible)", queues),
        ("Oldest message (s)", queues),
        ("Dead letters", dead_letters),
    ):
        assert {m[3] for m in plotted(title)} == {f"@{q}.QueueName@" for q in expected}, title
    machines = {m[3] for m in plotted("Executions failed / timed out / aborted")}
    assert len(machines) == len(stepfunctions.names())
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    assert {m[1] for m in plotted("DynamoDB consumed capacity")} == {
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
    }
    assert {m[3] for m in plotted("DynamoDB consumed capacity")} == {f"@{table_id}@"}
    app = [m for g in graphs.values() for m in g["metrics"] if m[0] == "Cirrus"]
    assert {m[1] for m in app} == APP_METRICS
    assert all(m[2:4] == ["stage", "test"] for m in app)
    [alarm_widget] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(synth.resources("AWS::CloudWatch::Alarm"))
    assert synth.template["Outputs"]["DashboardName"]["Value"] == PREFIX
    assert dashboard_id


# Concurrency ----------------------------------------------------------------------------------------


def _caps(resources: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Each queue's MaximumConcurrency on the event source mapping SAM generates for its consumer."""
    mappings = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    caps = {}
    for queue, function in WORKERS.items():
        [mapping] = [m for m in mappings if m["FunctionName"] == {"Ref": function}]
        caps[queue] = mapping["ScalingConfig"]["MaximumConcurrency"]
    return caps


def test_queue_consumers_are_capped_so_they_cannot_take_the_apis_concurrency(
    deployed: dict[str, dict[str, Any]], synth_with_options: Synth
) -> None:
    assert _caps(deployed) == {"tasks": 10, "heavy": 5, "background": 5}
    # Far below the account's default 1000, which the API shares.
    assert sum(_caps(deployed).values()) <= 50
    options = _sam_transform(synth_with_options.template)["Resources"]
    assert _caps(options) == {"tasks": 10, "heavy": HEAVY_CAP, "background": 5}
    # No reserved concurrency: it would take from the pool while idle, and fail on a small account.
    functions = [r for r in deployed.values() if r["Type"] == "AWS::Lambda::Function"]
    assert not any("ReservedConcurrentExecutions" in f["Properties"] for f in functions)


def test_consumer_caps_are_checked() -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(CDK_DIR))
        from cirrus_infra.workers import max_concurrency

        assert max_concurrency({"background": 1000}) == {"tasks": 10, "heavy": 5, "background": 1000}
        for bad in ({"heavy": 1}, {"tasks": 1001}):
            with pytest.raises(ValueError, match="2 to 1000"):
                max_concurrency(bad)
        with pytest.raises(ValueError, match="unknown queues"):
            max_concurrency({"bulk": 5})


# Data that outlives the stack -----------------------------------------------------------------------


def test_table_is_protected_from_deletion_and_retained(synth: Synth, synth_with_options: Synth) -> None:
    for s, protected in ((synth, True), (synth_with_options, False)):
        _, table = s.one("AWS::DynamoDB::Table")
        assert table["Properties"]["DeletionProtectionEnabled"] is protected
        # Retained with the stack (and on a replacement) whether or not DynamoDB itself refuses.
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_events_archive_is_retained_and_can_be_recreated_beside_the_old_one(synth: Synth) -> None:
    _, archive = synth.one("AWS::Events::Archive")
    assert archive["DeletionPolicy"] == archive["UpdateReplacePolicy"] == "Retain"
    # No fixed name: a stage deployed again after `cdk destroy` does not collide with its old archive.
    assert "ArchiveName" not in archive["Properties"]


def test_every_log_group_expires(deployed: dict[str, dict[str, Any]]) -> None:
    groups = {k: r for k, r in deployed.items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert groups
    for group_id, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == 30, group_id
    # Every function logs to one of them (none to an implicit group that never expires).
    for function_id, function in deployed.items():
        if function["Type"] == "AWS::Lambda::Function":
            assert function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] in groups, function_id


# Tags -----------------------------------------------------------------------------------------------


def _tagging() -> dict[str, dict[str, Any]]:
    """Each resource type's tagging facts from the CloudFormation registry schemas cfn-lint ships."""
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    providers = json.loads((schemas / "providers" / "eu-west-1.json").read_text())
    cache: dict[str, dict[str, Any]] = {}

    class Lookup(dict[str, dict[str, Any]]):
        def __missing__(self, type_: str) -> dict[str, Any]:
            if type_ not in cache:
                schema_file = schemas / "resources" / f"{providers[type_]}.json"
                cache[type_] = json.loads(schema_file.read_text()).get("tagging", {"taggable": False})
            return cache[type_]

    return Lookup()


def _tags(resource: dict[str, Any], tag_property: str) -> dict[str, Any]:
    tags = resource["Properties"].get(tag_property.removeprefix("/properties/"))
    if isinstance(tags, list):
        return {tag["Key"]: tag["Value"] for tag in tags}
    return dict(tags or {})


def test_every_taggable_resource_is_tagged_with_project_and_stage(
    deployed: dict[str, dict[str, Any]],
) -> None:
    """After the SAM transform: the stack's own resources, those of Chalice's template and those SAM
    generates from them."""
    tagging = _tagging()
    untagged, checked = [], set()
    for resource_id, resource in deployed.items():
        facts = tagging[resource["Type"]]
        if not facts.get("taggable", True) or "tagProperty" not in facts:
            continue
        checked.add(resource["Type"])
        tags = _tags(resource, facts["tagProperty"])
        if tags.get("project") != "cirrus" or tags.get("stage") != "test":
            untagged.append((resource_id, resource["Type"]))
    # samtranslator gives the event source mappings it generates no tags (its model has none for
    # them); they cost nothing, so cost allocation loses nothing. Anything else untagged fails.
    sam_mappings = {
        (f"{function}{function}{kind}EventSource", "AWS::Lambda::EventSourceMapping")
        for function, kind in [*((w, "Sqs") for w in WORKERS.values()), (PUBLISHER, "Dynamodb")]
    }
    assert set(untagged) == sam_mappings
    # The check covered the kinds of resource that cost money or hold data.
    assert {
        "AWS::Lambda::Function",
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::StepFunctions::StateMachine",
        "AWS::Logs::LogGroup",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::SNS::Topic",
        "AWS::KMS::Key",
        "AWS::IAM::Role",
        "AWS::Events::EventBus",
        "AWS::Cognito::UserPool",
    } <= checked


# Logs permissions -----------------------------------------------------------------------------------


def _role_statements(resources: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every role's statements: its inline policies and the policies naming it."""
    statements: dict[str, list[dict[str, Any]]] = {}
    for role_id, role in resources.items():
        if role["Type"] == "AWS::IAM::Role":
            statements[role_id] = [
                st for p in role["Properties"].get("Policies", []) for st in p["PolicyDocument"]["Statement"]
            ]
    for policy in resources.values():
        if policy["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role_ref in policy["Properties"].get("Roles", []):
                # {"Ref": role}, or the name cut out of an imported role's ARN (Chalice's DefaultRole).
                [role_id] = [r for r in statements if f'"{r}"' in json.dumps(role_ref)]
                statements[role_id] += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_role_may_create_or_write_log_groups_beyond_its_functions_own(
    deployed: dict[str, dict[str, Any]],
) -> None:
    """Chalice's DefaultRole came with logs:CreateLogGroup/CreateLogStream/PutLogEvents on
    arn:*:logs:*:*:*; each role may now write exactly the stack's log groups, and create none."""
    statements = _role_statements(deployed)
    machine_roles = {
        r["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        for r in deployed.values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
    }
    writable: dict[str, set[str]] = {}
    for role_id, role_statements in statements.items():
        for st in role_statements:
            actions = set(_as_list(st["Action"]))
            if st["Resource"] == "*" and any(a.startswith("logs:") for a in actions):
                # A state machine sets up its own log delivery (CloudWatch Logs authorises those
                # calls on "*" only); it writes no log events itself.
                assert role_id in machine_roles and actions <= LOG_DELIVERY, (role_id, st)
            if not actions & LOG_WRITES:
                continue
            assert st["Effect"] == "Allow"
            assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}, (role_id, st)
            for resource in _as_list(st["Resource"]):
                # A log group's ARN (`...:log-group:<name>:*`, its streams), never a pattern.
                assert isinstance(resource, dict) and set(resource) == {"Fn::GetAtt"}, (role_id, resource)
                group_id, attribute = resource["Fn::GetAtt"]
                assert (deployed[group_id]["Type"], attribute) == ("AWS::Logs::LogGroup", "Arn")
                writable.setdefault(role_id, set()).add(group_id)
    # And every function can still write its own group.
    for function_id, function in deployed.items():
        if function["Type"] != "AWS::Lambda::Function":
            continue
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert group_id in writable.get(role_id, set()), (function_id, role_id)
    # No one else writes logs (the state machines deliver theirs through CloudWatch Logs' delivery).
    assert set(writable) == {
        function["Properties"]["Role"]["Fn::GetAtt"][0]
        for function in deployed.values()
        if function["Type"] == "AWS::Lambda::Function"
    }


def test_operations_template_passes_cfn_lint(synth_with_options: Synth) -> None:
    _assert_lint_clean(synth_with_options.path)


def test_operations_context_values_are_parsed() -> None:
    """`-c alarm_email=`, `-c worker_concurrency='{"heavy": 10}'`, `-c deletion_protection=false`
    (infra/cdk/app.py)."""
    import importlib.util

    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(CDK_DIR))  # sys.path is restored afterwards (the entry point adds to it)
        spec = importlib.util.spec_from_file_location("cdk_entry_point", CDK_DIR / "app.py")
        assert spec and spec.loader
        entry = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(entry)
        assert entry._concurrency('{"heavy": 10}') == {"heavy": 10}
        assert entry._concurrency({"tasks": "4"}) == {"tasks": 4}  # from cdk.json
        assert entry._concurrency(None) == {}
        with pytest.raises(ValueError, match="JSON object"):
            entry._concurrency("[10]")
        assert entry._flag("false", default=True) is False
        assert entry._flag("False", default=True) is False  # a JSON false in cdk.json, as a string
        assert entry._flag(None, default=True) is True
        with pytest.raises(ValueError, match="true or false"):
            entry._flag("no", default=True)
