"""bench/cost.py reads the synthesized stack (the real template, not a fixture): the front door, the
five functions and their roles, the workflows' state counts, what is logged and alarmed; and it
prices it at the measured profile (bench/cost_profile.json) to a bill with every service in it."""

from __future__ import annotations

import json

import pytest

from chalicelib.workflows import stepfunctions
from tests.infra.test_synth import FUNCTIONS, Synth, _synth
from tests.scripts import load_bench

pytestmark = pytest.mark.infra

cost = load_bench("cost")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(tmp_path_factory.mktemp("synth-cost"))


def test_the_synthesized_template_is_read_whole(synth: Synth) -> None:
    template = json.loads(synth.path.read_text())  # what `cdk synth` writes, as the script reads it
    shape = cost.read_template(template)

    assert {f.name for f in shape.functions if f.role != "other"} == FUNCTIONS
    assert [f.role for f in shape.functions].count("api") == 1
    assert len(shape.by_role("publisher")) == 1 and shape.by_role("worker")
    api = shape.api_function()
    assert api.memory_mb > 0 and api.architecture in ("x86_64", "arm64") and api.runtime.startswith("python3")
    assert shape.api in ("http", "rest")
    machines = {m.name.rsplit("-", 1)[-1]: m for m in shape.state_machines}
    assert set(machines) == set(stepfunctions.names())
    for name, machine in machines.items():
        # The source the template's definition was rendered from.
        definition = json.loads(
            stepfunctions.render(name, dict.fromkeys(stepfunctions.placeholders(name), 1))
        )
        assert machine.states == cost.count_states(definition) > 0, name
    assert shape.polled_queues == len(shape.by_role("worker"))  # each worker polls its queue
    assert shape.alarms == len(synth.resources("AWS::CloudWatch::Alarm"))
    assert shape.schedules_per_month > 0 and shape.table_on_demand and shape.stream and shape.archive


def test_the_bill_prices_every_service_the_stack_uses(synth: Synth) -> None:
    shape = cost.read_template(json.loads(synth.path.read_text()))
    lines = cost.price(shape, cost.Traffic(), cost.load_profile(), cost.load_prices())
    by_service = {line.service: line for line in lines}

    for service in (
        "API Gateway",
        "Lambda",
        "DynamoDB",
        "SQS",
        "Step Functions",
        "EventBridge",
        "CloudWatch Logs",
    ):
        assert by_service[service].monthly > 0, service
    total, idle, per_million = cost.summary(lines, cost.Traffic())
    assert 0 < idle < total and per_million == pytest.approx(
        total / (cost.Traffic().requests_per_month / 1e6)
    )
