"""EMF metrics (chalicelib/metrics.py): the line CloudWatch Logs turns into a metric, the switch
that keeps the local stack's and the tests' terminals quiet, and the capture tests assert with."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from chalicelib import metrics, observability


def test_a_metric_is_one_emf_line_in_namespace_cirrus_with_the_stage_as_its_only_dimension(
    capsys, monkeypatch
):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    with observability.invocation("api", correlation_id="corr-7"):
        metrics.order_placed("order-1")
    (line,) = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "Cirrus",
        "Dimensions": [["stage"]],
        "Metrics": [{"Name": "OrdersPlaced", "Unit": "Count"}],
    }
    assert document["stage"] == "local"  # CIRRUS_STAGE, as the stack sets it per stage
    assert document["OrdersPlaced"] == [1.0]
    # Searchable in Logs Insights, without a metric per value:
    assert (document["order_uuid"], document["correlation_id"]) == ("order-1", "corr-7")
    assert "service" not in document


def test_switched_off_nothing_is_printed_but_a_capture_still_sees_it(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")  # what the local stack and the tests run
    created = datetime(2026, 12, 1, tzinfo=UTC)
    with metrics.capture() as seen:
        metrics.order_done("order-1", created, created + timedelta(minutes=90))
    assert capsys.readouterr().out == ""
    assert seen.names() == ["OrdersDone", "OrderTimeToDone"]
    assert seen.values("OrderTimeToDone") == [5400.0]
    assert seen[1]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "OrderTimeToDone", "Unit": "Seconds"}
    ]
    metrics.order_erred("not captured")
    assert len(seen) == 2


def test_a_metric_that_cannot_be_built_is_logged_and_does_not_fail_the_work(monkeypatch):
    from tests.log_capture import captured_logs

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    with captured_logs() as lines:
        metrics.emit(metrics.Metric("Broken", "NotAUnit", "a unit CloudWatch does not know"))
    assert [(line["message"], line["metric"]) for line in lines] == [("metric not emitted", "Broken")]


def test_the_documented_names_are_unique_and_valid_cloudwatch_units():
    from aws_lambda_powertools.metrics import MetricUnit

    assert len(set(metrics.METRIC_NAMES)) == len(metrics.METRICS)
    assert {m.unit for m in metrics.METRICS} <= {u.value for u in MetricUnit}
    assert metrics.NAMESPACE == "Cirrus" and metrics.DIMENSION == "stage"
