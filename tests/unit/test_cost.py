"""bench/cost.py prices what a template says: the API type, the functions' architecture and memory,
tracing, SnapStart, alarms and dashboards, at the list prices of bench/prices.json. Pure arithmetic
on a template fixture and a fixed profile: no synth, no moto."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("cirrus_bench_cost", ROOT / "bench" / "cost.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


cost = _load()
PRICES = cost.load_prices()
MILLION_PER_DAY = cost.Traffic(requests_per_day=1_000_000, orders_per_month=0, write_share=0.0)
N = MILLION_PER_DAY.requests_per_month

# One read request: 2 RRU, 10 ms of CPU, 3 round trips, 200 bytes of logs; an order that costs nothing.
PROFILE: dict[str, Any] = {
    "requests": {
        "reads": [{"rru": 2, "wru": 0, "log_bytes": 200, "cpu_ms": 10, "round_trips": 3}],
        "writes": [{"rru": 2, "wru": 20, "log_bytes": 200, "cpu_ms": 10, "round_trips": 5, "events": 1}],
    },
    "order": {
        k: 0
        for k in [
            "rru",
            "wru",
            "events",
            "event_bytes",
            "executions",
            "transitions",
            "sfn_log_bytes",
            "sfn_log_bytes_no_data",
            "sqs_requests",
            "worker_messages",
            "worker_cpu_ms_per_message",
            "worker_log_bytes_per_message",
            "worker_round_trips_per_message",
        ]
    },
    "emf_metrics": 0,
}


def _function(handler: str, **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Handler": handler,
            "Runtime": "python3.11",
            "MemorySize": 1024,
            "Timeout": 29,
            "Architectures": ["x86_64"],
            "Tracing": "Active",
            **props,
        },
    }


# Main's shape before issue 19: Chalice's REST API with tracing, x86_64 functions traced.
REST_TEMPLATE: dict[str, Any] = {
    "Resources": {
        "RestAPI": {
            "Type": "AWS::Serverless::Api",
            "Properties": {"StageName": "api", "TracingEnabled": True},
        },
        "APIHandler": _function("app.app"),
        "TasksWorker": _function("app.tasks_worker", Timeout=150),
        "Alarm1": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors"}},
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            },
        },
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineType": "STANDARD",
                "DefinitionString": {
                    "Fn::Join": [
                        "",
                        [
                            '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "Comment": "',
                            {"Ref": "X"},
                            '"},'
                            ' "B": {"Type": "Parallel", "End": true, "Branches": '
                            '[{"StartAt": "C", "States": {"C": {"Type": "Succeed"}}}]}}}',
                        ],
                    ]
                },
            },
        },
    }
}


def _new_shape(template: dict[str, Any]) -> dict[str, Any]:
    """The shape issue 19 moves to: an HTTP API, arm64 python3.12, SnapStart on the API, no X-Ray,
    an SNS topic with an e-mail subscription, a dashboard and more alarms."""
    new = copy.deepcopy(template)
    resources = new["Resources"]
    del resources["RestAPI"]
    resources["HttpApi"] = {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}}
    resources["HttpStage"] = {
        "Type": "AWS::ApiGatewayV2::Stage",
        "Properties": {
            "StageName": "$default",
            "AccessLogSettings": {"Format": '{"requestId":"$context.requestId"}'},
        },
    }
    for function in ("APIHandler", "TasksWorker"):
        props = resources[function]["Properties"]
        props.update(Architectures=["arm64"], Runtime="python3.12")
        del props["Tracing"]
    resources["APIHandler"]["Properties"].update(
        Handler="app.api_handler", SnapStart={"ApplyOn": "PublishedVersions"}, AutoPublishAlias="live"
    )
    resources["Topic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    resources["Mail"] = {"Type": "AWS::SNS::Subscription", "Properties": {"Protocol": "email"}}
    resources["Board"] = {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}}
    for i in range(2, 5):
        resources[f"Alarm{i}"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "x"}}
    return new


def _lines(template: dict[str, Any], traffic: Any = MILLION_PER_DAY) -> dict[str, Any]:
    shape = cost.read_template(template)
    return {line.service: line for line in cost.price(shape, traffic, PROFILE, PRICES)}


def test_the_template_is_read_for_what_the_bill_depends_on() -> None:
    old, new = cost.read_template(REST_TEMPLATE), cost.read_template(_new_shape(REST_TEMPLATE))

    assert (old.api, old.api_tracing, old.api_function().architecture) == ("rest", True, "x86_64")
    assert old.api_function().tracing and not old.api_function().snapstart
    assert old.state_machines[0].states == 3  # A, B and the branch's C
    assert (new.api, new.api_function().architecture, new.api_function().runtime) == (
        "http",
        "arm64",
        "python3.12",
    )
    assert new.api_function().snapstart and not new.api_function().tracing
    assert (new.alarms, new.dashboards, new.topics, new.email_subscriptions) == (4, 1, 1, 1)
    assert new.access_log_bytes > 0


def test_an_http_api_costs_a_dollar_a_million_and_rest_three_fifty() -> None:
    rest, http = _lines(REST_TEMPLATE), _lines(_new_shape(REST_TEMPLATE))

    assert rest["API Gateway"].monthly == pytest.approx(N / 1e6 * 3.50)
    assert http["API Gateway"].monthly == pytest.approx(N / 1e6 * 1.00)


def test_lambda_is_billed_per_gb_second_of_its_architecture() -> None:
    x86 = copy.deepcopy(REST_TEMPLATE)
    arm = copy.deepcopy(REST_TEMPLATE)
    arm["Resources"]["APIHandler"]["Properties"]["Architectures"] = ["arm64"]

    # 10 ms of CPU at 1024 MB (a 1769/1024 share of a vCPU) + 3 round trips of 5 ms.
    ms = 10 * 1769 / 1024 + 3 * 5
    gb_s = N * ms / 1000 * 1.0
    requests = N / 1e6 * 0.20
    assert _lines(x86)["Lambda"].monthly == pytest.approx(requests + gb_s * 0.0000166667)
    assert _lines(arm)["Lambda"].monthly == pytest.approx(requests + gb_s * 0.0000133334)


def test_x_ray_is_billed_only_when_tracing_is_on_at_its_sampling_rate() -> None:
    traced = _lines(REST_TEMPLATE)
    untraced = copy.deepcopy(REST_TEMPLATE)
    untraced["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] = False
    for function in ("APIHandler", "TasksWorker"):
        del untraced["Resources"][function]["Properties"]["Tracing"]

    # 1M/day is 11.6 requests/s: the default rule records 1/s plus 5% of the rest.
    rate = N / cost.SECONDS_PER_MONTH
    traces = cost.SECONDS_PER_MONTH * (1 + 0.05 * (rate - 1))
    assert traced["X-Ray"].monthly == pytest.approx(traces / 1e6 * 5.0, rel=0.01)
    assert "X-Ray" not in _lines(untraced)


def test_dynamodb_request_units_and_the_write_mix() -> None:
    reads_only = _lines(REST_TEMPLATE)["DynamoDB"].monthly - 5 * 0.25
    assert reads_only == pytest.approx(N * 2 / 1e6 * 0.125)
    tenth = cost.Traffic(requests_per_day=1_000_000, orders_per_month=0, write_share=0.1)
    mixed = _lines(REST_TEMPLATE, tenth)["DynamoDB"].monthly - 5 * 0.25
    assert mixed == pytest.approx(N * 2 / 1e6 * 0.125 + N * 0.1 * 20 / 1e6 * 0.625)


def test_the_idle_cost_is_what_stands_without_traffic() -> None:
    idle_traffic = cost.Traffic(requests_per_day=0.001, orders_per_month=0, write_share=0.0)
    lines = _lines(_new_shape(REST_TEMPLATE), idle_traffic)
    _, idle, _ = cost.summary(list(lines.values()), idle_traffic)

    snapstart_cache = 1.0 * cost.SECONDS_PER_MONTH * 0.0000015046  # 1 GB cached all month
    fixed = 4 * 0.10 + 3.00 + snapstart_cache + 5 * 0.25  # alarms, dashboard, cache, table storage
    assert lines["Lambda SnapStart"].idle == pytest.approx(snapstart_cache)
    assert idle == pytest.approx(fixed)  # the fixture's worker polls no queue: no idle SQS receives


def test_the_price_data_names_a_source_and_a_date_for_every_item() -> None:
    data = json.loads((ROOT / "bench" / "prices.json").read_text())
    assert data["taken"] and data["region"] == "us-east-1"
    for name, item in data["items"].items():
        assert item["source"] and item["verified"], name


def test_check_fails_over_the_goal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "t.template.json"
    template.write_text(json.dumps(REST_TEMPLATE))

    assert cost.main([str(template), "--check"]) == 1  # REST alone is $3.50 per 1M
    assert "misses the goal" in capsys.readouterr().out


def test_request_units_follow_dynamodbs_size_rules() -> None:
    item = {"pk": {"S": "CUST#1"}, "n": {"N": "12345"}, "tags": {"L": [{"S": "ab"}]}, "ok": {"BOOL": True}}
    # names 2+1+4+2, values 6 + (3 digits-pairs + 1) + (3 + 1 + 2) + 1
    assert cost.item_size(item) == 9 + 6 + 4 + 6 + 1
    assert cost.read_units([100], consistent=False, summed=False) == 0.5  # at least one unit, halved
    assert cost.read_units([5000], consistent=True, summed=False) == 2  # 4 KB units
    assert cost.read_units([3000, 3000], consistent=True, summed=False) == 2  # per item (BatchGetItem)
    assert cost.read_units([1000] * 10, consistent=False, summed=True) == 1.5  # a Query sums, then rounds
    assert cost.write_units(700) == 1
    assert cost.write_units(1500, indexes=2) == 2 + 2 * 2  # each GSI holding it: another write
    assert (
        cost.write_units(700, indexes=1, factor=2) == 2 + 1
    )  # a transaction doubles the item, not its copies


def test_the_write_share_comes_from_the_measured_client_mix(tmp_path: Path) -> None:
    """bench/client_mix.py's combined write share is cost.py's default, said in the assumptions;
    without the file (or with a broken one) the old guess stands, said as a guess."""
    mix = tmp_path / "client_mix.json"
    mix.write_text(
        json.dumps(
            {
                "date": "2026-12-06",
                "combined": {
                    "write_share": 0.0421,
                    "weights": {"ui_sessions_per_day": 200, "agent_offerings": 5},
                },
            }
        )
    )
    share, source = cost.measured_write_share(mix)
    assert share == 0.0421
    assert "client_mix.py (2026-12-06)" in source and "200 UI sessions/day" in source
    traffic = cost.Traffic(write_share=share)
    assert "Writes: 4.2% of API requests, measured by bench/client_mix.py" in cost.assumptions(
        traffic, PROFILE, source
    )

    assert cost.measured_write_share(tmp_path / "absent.json") == (
        0.10,
        "a guess (absent.json is absent or unreadable)",
    )
    mix.write_text(json.dumps({"combined": {"write_share": 7, "weights": {}}}))
    assert cost.measured_write_share(mix)[0] == cost.GUESSED_WRITE_SHARE


def test_the_cli_default_write_share_is_the_measured_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mix = tmp_path / "client_mix.json"
    weights = {"ui_sessions_per_day": 1, "agent_offerings": 1}
    mix.write_text(json.dumps({"combined": {"write_share": 0.03, "weights": weights}}))
    monkeypatch.setattr(cost, "CLIENT_MIX", mix)
    with pytest.raises(SystemExit):
        cost.main(["--help"])
    assert "now 3.0%" in " ".join(capsys.readouterr().out.split())
