"""bench/cost.py prices what a template says: the API type, the functions' architecture and memory,
tracing, SnapStart, alarms and dashboards, at the list prices of bench/prices.json. Pure arithmetic
on a template fixture and a fixed profile: no synth, no moto."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store import capacity
from tests.scripts import load_bench

ROOT = Path(__file__).resolve().parents[2]


cost = load_bench("cost")
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

    from chalicelib.metrics import METRIC_NAMES

    snapstart_cache = 1.0 * cost.SECONDS_PER_MONTH * 0.0000015046  # 1 GB cached all month
    # The app's EMF metrics (chalicelib/metrics.py) stand too: each name is a custom metric the month
    # it is first emitted, and the alarms and the dashboard read them, so cost.py counts them whatever
    # the traffic ($0.30 each).
    metrics = len(METRIC_NAMES) * 0.30
    fixed = 4 * 0.10 + 3.00 + snapstart_cache + 5 * 0.25 + metrics  # alarms, dashboard, cache, table, metrics
    assert lines["Lambda SnapStart"].idle == pytest.approx(snapstart_cache)
    assert idle == pytest.approx(fixed)  # the fixture's worker polls no queue: no idle SQS receives


def test_the_goal_is_weighed_against_what_every_request_pays(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = cost.read_template(_new_shape(REST_TEMPLATE))
    tenth = cost.Traffic(requests_per_day=1_000_000, orders_per_month=0, write_share=0.1)
    _, idle, per_m = cost.summary(cost.price(shape, tenth, PROFILE, PRICES), tenth)
    standing = idle / (tenth.requests_per_month / 1e6)

    text = " ".join(cost.goal_budget(shape, tenth, PROFILE, PRICES).split())

    # The HTTP API's $1.00 and Lambda's $0.20 per 1M requests are paid whatever a request does.
    assert f"leaves ${2.10 - standing - 1.20:.2f} per 1M" in text
    assert f"they spend ${per_m - standing - 1.20:.2f}." in text
    no_writes = cost.Traffic(orders_per_month=0, write_share=0.0)
    reads = cost.summary(cost.price(shape, no_writes, PROFILE, PRICES), no_writes)[2]
    assert f"Reads alone (0% writes) cost ${reads:.2f} per 1M: no write share meets the goal." in text

    # A goal between the reads' cost and the tenth's: met up to the share where the bill crosses it.
    goal = (reads + per_m) / 2
    monkeypatch.setattr(cost, "GOAL_PER_MILLION", goal)
    text = cost.goal_budget(shape, tenth, PROFILE, PRICES)
    share = float(text.split("met up to ")[1].split("%")[0]) / 100
    at_share = cost.Traffic(orders_per_month=0, write_share=share)
    assert 0 < share < 0.1
    assert cost.summary(cost.price(shape, at_share, PROFILE, PRICES), at_share)[2] == pytest.approx(
        goal, abs=0.01
    )


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
    assert capacity.item_size(item) == 9 + 6 + 4 + 6 + 1
    assert capacity.read_units([100], consistent=False, summed=False) == 0.5  # at least one unit, halved
    assert capacity.read_units([5000], consistent=True, summed=False) == 2  # 4 KB units
    assert capacity.read_units([3000, 3000], consistent=True, summed=False) == 2  # per item (BatchGetItem)
    assert capacity.read_units([1000] * 10, consistent=False, summed=True) == 1.5  # a Query sums, then rounds
    assert capacity.write_units(700) == 1
    assert capacity.write_units(1500, indexes=2) == 2 + 2 * 2  # each GSI holding it: another write
    assert (
        capacity.write_units(700, indexes=1, factor=2) == 2 + 1
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


# --- the client mix, per path template --------------------------------------------------------------
def _mix_file() -> dict[str, Any]:
    """A client_mix.json as bench/client_mix.py writes it, without per-path totals in `combined`:
    two HomePort sessions, an agent with two modes and the order_process cycles one order adds to."""
    steady = {"GET /api/orders/": 1, "POST /api/sync/{id}/": 1}
    return {
        "date": "2026-12-06",
        "clients": {
            "homeport": {
                "sessions": {
                    "staff": {"by_path": {"GET /api/projects/": 4, "POST /api-auth/password/": 1}},
                    "owner": {"by_path": {"GET /api/projects/": 2, "POST /api-auth/password/": 1}},
                },
            },
            "site_agent": {
                "resources": 2,
                "default_period_minutes": {"order_process": 5.0, "report": 30.0},
                "modes": {
                    # the first cycle processed 2 orders: 2 GETs and 2 approvals more than the steady one
                    "order_process": {
                        "cycles": [
                            {
                                "by_path": {
                                    **steady,
                                    "GET /api/orders/": 3,
                                    "POST /api/orders/{id}/approve/": 2,
                                }
                            },
                            {"by_path": steady},
                        ],
                        "steady_cycle": {"by_path": steady},
                    },
                    "report": {"cycles": [], "steady_cycle": {"by_path": {"POST /api/usage/": 2}}},
                },
            },
        },
        "combined": {
            "weights": {
                "ui_sessions_per_day": 10.0,
                "agent_offerings": 2.0,
                "agent_orders_per_offering_per_day": 3.0,
                "agent_periods_minutes": {"order_process": 60.0, "report": 720.0},
            },
            "write_share": 0.5,
        },
    }


def test_the_mix_per_template_is_rebuilt_from_each_clients_counts() -> None:
    weights = cost.template_weights(_mix_file())

    assert weights == {
        # HomePort: the mean session (3 + 1) times 10 sessions a day.
        "GET /api/projects/": 30.0,
        "POST /api-auth/password/": 10.0,
        # order_process: 24 cycles a day on each of 2 offerings, plus per order (first over steady
        # cycle, per resource: 1 GET and 1 approval) times 3 orders a day on each.
        "GET /api/orders/": 24 * 2 + 1 * 2 * 3,
        "POST /api/sync/{id}/": 24 * 2,
        "POST /api/orders/{id}/approve/": 1 * 2 * 3,
        # report: 2 cycles a day on each of 2 offerings.
        "POST /api/usage/": 2 * 2 * 2,
    }
    assert cost.mix_write_share(weights) == pytest.approx((10 + 48 + 6 + 8) / (30 + 10 + 54 + 48 + 6 + 8))
    fewer = cost.mix_at_write_share(weights, 0.1)  # the levers' "5% writes": the writes scaled, not the reads
    assert cost.mix_write_share(fewer) == pytest.approx(0.1)
    assert fewer["GET /api/projects/"] == 30.0
    assert fewer["POST /api/usage/"] / fewer["POST /api-auth/password/"] == pytest.approx(8 / 10)


def test_the_measured_mixs_templates_add_up_to_what_client_mix_recorded() -> None:
    """Rebuilt per template, the repository's client_mix.json gives each client's requests a day
    and the write share its combined model recorded by method."""
    data = json.loads(cost.CLIENT_MIX.read_text())
    weights = cost.template_weights(data)
    combined = data["combined"]

    assert sum(weights.values()) == pytest.approx(sum(combined["requests_per_day"].values()), abs=1)
    assert cost.mix_write_share(weights) == pytest.approx(combined["write_share"], abs=1e-4)


TEMPLATED: dict[str, Any] = {
    **PROFILE,
    "templates": {
        "GET /api/cheap/": {"rru": 1, "wru": 0, "log_bytes": 100, "cpu_ms": 5, "round_trips": 2},
        "GET /api/dear/": {"rru": 5, "wru": 0, "log_bytes": 300, "cpu_ms": 15, "round_trips": 4},
        "POST /api/bookkeeping/": {"rru": 2, "wru": 4, "log_bytes": 200, "cpu_ms": 8, "round_trips": 3},
        "POST /api/audited/": {"rru": 3, "wru": 12, "pub_wru": 8, "events": 1, "pub_invocations": 1},
    },
}


def test_a_request_costs_the_mixs_weighted_average_over_its_templates() -> None:
    mix = {"GET /api/cheap/": 5.0, "GET /api/dear/": 3.0, "POST /api/bookkeeping/": 2.0}
    req = cost.per_request(TEMPLATED, 0.9, mix)  # the write share does not count with a mix

    assert req["rru"] == pytest.approx((5 * 1 + 3 * 5 + 2 * 2) / 10)
    assert req["wru"] == pytest.approx(2 * 4 / 10)  # at 90% writes of the profile's rows: 18
    assert req["cpu_ms"] == pytest.approx((5 * 5 + 3 * 15 + 2 * 8) / 10)
    assert req["events"] == 0  # the bookkeeping writes no audit event: nothing published

    # Priced: DynamoDB's request units are the mix's, not the profile's average write (20 WRU).
    traffic = cost.Traffic(requests_per_day=1_000_000, orders_per_month=0, write_share=0.2, mix=mix)
    dynamodb = cost.price(cost.read_template(REST_TEMPLATE), traffic, TEMPLATED, PRICES)
    [line] = [x for x in dynamodb if x.service == "DynamoDB"]
    assert line.monthly - 5 * 0.25 == pytest.approx(N * (2.4 * 0.125 + 0.8 * 0.625) / 1e6)


def test_a_template_not_measured_costs_its_class_average() -> None:
    profile = {**TEMPLATED, "unmeasured": {"POST /api/audited/": "not set up"}}
    mix = {
        "POST /api/bookkeeping/": 3.0,
        "POST /api/audited/": 1.0,
        "POST /api/new/": 1.0,
        "HEAD /api/x/": 1.0,
    }
    figures = cost.template_figures(profile, mix)

    assert figures["POST /api/new/"]["wru"] == 4  # the measured writes' average: bookkeeping's
    assert figures["POST /api/audited/"]["wru"] == 4  # listed unmeasured: its figures are not used
    assert figures["HEAD /api/x/"]["rru"] == 2  # no read measured in this mix: the profile's read row


def test_without_a_mix_or_per_template_figures_the_write_share_prices() -> None:
    read_write = cost.per_request(PROFILE, 0.25)
    assert read_write["wru"] == pytest.approx(0.25 * 20)
    assert cost.per_request(PROFILE, 0.25, {"GET /api/cheap/": 1.0}) == read_write  # no templates measured
    assert cost.per_request(TEMPLATED, 0.25, None) == read_write


def _cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    template, profile, mix = tmp_path / "t.template.json", tmp_path / "profile.json", tmp_path / "mix.json"
    template.write_text(json.dumps(_new_shape(REST_TEMPLATE)))
    profile.write_text(json.dumps(TEMPLATED))
    data = _mix_file()
    data["clients"]["homeport"]["sessions"]["staff"]["by_path"] = {"GET /api/cheap/": 8, "GET /api/dear/": 2}
    data["clients"]["homeport"]["sessions"]["owner"]["by_path"] = {"POST /api/bookkeeping/": 2}
    del data["clients"]["site_agent"]
    mix.write_text(json.dumps(data))
    monkeypatch.setattr(cost, "PROFILE", profile)
    monkeypatch.setattr(cost, "CLIENT_MIX", mix)
    assert cost.main([str(template), *args]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_the_cli_prices_the_client_mix_and_names_its_costliest_templates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _cli(monkeypatch, tmp_path, capsys)

    assert "Model: the client mix per path template (3 templates" in out
    assert "16.7% writes; 3 measured, 0 at their class's average" in out  # 10 of 60 a day write
    rows = [line for line in out.split("| ") if line.startswith(("GET /api/", "POST /api/"))]
    assert rows[0] == "GET /api/cheap/ "  # half the requests: the largest share of the cost
    assert "Writes: 16.7% of API requests" in out


def test_the_cli_given_a_write_share_prices_reads_and_writes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _cli(monkeypatch, tmp_path, capsys, "--write-share", "0.25")

    assert "Model: read/write share (25.0% writes; no client mix" in out
    assert "Writes: 25.0% of API requests, given with --write-share." in out
    assert "per path template" not in out
