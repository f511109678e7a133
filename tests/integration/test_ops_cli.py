"""The operator CLI (`python -m chalicelib.ops`) under moto: executions and their history, queue
depths, and moving dead letters back onto their queue."""

from __future__ import annotations

import io

import pytest

from chalicelib import ops
from chalicelib.workflows import queues, registry, stepfunctions
from chalicelib.workflows.aws import client
from chalicelib.workflows.envelope import TaskContext
from chalicelib.workflows.registry import BACKGROUND_QUEUE, HEAVY_QUEUE, TASKS_QUEUE
from tests.workflow_helpers import run_until_done

CONTEXT = TaskContext(user_uuid="u1", username="alice").model_dump()


def run(*argv: str) -> str:
    out = io.StringIO()
    assert ops.main(list(argv), out=out) == 0
    return out.getvalue()


def lines_with(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


@pytest.fixture
def echoed(runtime) -> str:
    """A finished provider_step execution named `ops-echo`; returns its ARN."""
    arn = stepfunctions.start_workflow(
        "provider_step", {"step": "cirrus.echo", "input": {"x": 1}, "context": CONTEXT}, "ops-echo"
    )
    assert run_until_done(arn, HEAVY_QUEUE)["status"] == "SUCCEEDED"
    return arn


def test_executions_lists_a_finished_execution_with_its_status(echoed):
    listed = run("executions")
    assert listed.splitlines()[0].split()[:3] == ["WORKFLOW", "EXECUTION", "STATUS"]
    [row] = lines_with(listed, "ops-echo")
    assert row.split()[:3] == ["provider_step", "ops-echo", "SUCCEEDED"]
    assert lines_with(run("executions", "--workflow", "provider_step", "--status", "succeeded"), "ops-echo")
    assert run("executions", "--status", "FAILED").strip() == "no executions"
    assert run("executions", "--workflow", "await_callback").strip() == "no executions"


def test_history_shows_each_event_by_name_or_arn(echoed):
    by_name = run("history", "ops-echo")
    assert run("history", echoed) == by_name
    assert run("history", "ops-echo", "--workflow", "provider_step") == by_name
    assert "status     SUCCEEDED" in by_name
    types = [line.split()[2] for line in by_name.split("\n\n", 1)[1].splitlines()[1:]]
    assert types[0] == "ExecutionStarted"
    assert "TaskSubmitted" in types or "TaskScheduled" in types
    assert types[-1] == "ExecutionSucceeded"
    assert "name=RunStep" in by_name


def test_history_shows_the_error_of_a_failed_step(runtime):
    arn = stepfunctions.start_workflow(
        "provider_step", {"step": "no.such.step", "input": {}, "context": CONTEXT}, "ops-broken"
    )
    assert run_until_done(arn, HEAVY_QUEUE)["status"] == "FAILED"
    shown = run("history", "ops-broken")
    [failed] = [line for line in shown.splitlines() if line.split()[2:3] == ["TaskFailed"]]
    # The worker's error and its cause, as SendTaskFailure gave them.
    cause = "PermanentStepError: No provider step named 'no.such.step'."
    assert failed.endswith(f"error=Cirrus.Permanent cause={cause}")
    assert "error      Cirrus.StepFailed" in shown
    assert lines_with(run("executions", "--status", "FAILED"), "ops-broken")


def test_history_of_an_unknown_execution_says_so(runtime):
    with pytest.raises(SystemExit, match="no execution named 'nope'"):
        ops.main(["history", "nope"], out=io.StringIO())


def depths(text: str) -> dict[str, list[int]]:
    rows = {}
    for line in text.splitlines()[1:]:
        name, *numbers = line.split()
        rows[name] = [int(n) for n in numbers]
    return rows


def test_queues_shows_each_queue_and_its_dead_letters(runtime):
    registry.load_all()
    queues.enqueue("maintenance.purge_expired_tokens", {})
    client("sqs").send_message(QueueUrl=queues.dead_letter_url(TASKS_QUEUE), MessageBody="{}")
    shown = depths(run("queues"))
    assert shown == {
        queues.queue_name(TASKS_QUEUE): [0, 0, 0, 1],
        queues.queue_name(HEAVY_QUEUE): [0, 0, 0, 0],
        queues.queue_name(BACKGROUND_QUEUE): [1, 0, 0, 0],
    }


def test_redrive_moves_dead_letters_back_onto_their_queue(runtime):
    registry.load_all()
    dlq = queues.dead_letter_url(BACKGROUND_QUEUE)
    bodies = [
        queues.envelope_for("maintenance.purge_login_lockouts", {}, idempotency_key=f"k{n}").model_dump_json()
        for n in range(12)
    ]
    for body in bodies:
        client("sqs").send_message(QueueUrl=dlq, MessageBody=body)
    assert run("redrive", "background", "--limit", "2").startswith("moved 2 message(s)")
    assert run("redrive", "background").strip() == (
        "moved 10 message(s) from cirrus-background-dlq to cirrus-background"
    )
    assert depths(run("queues"))[queues.queue_name(BACKGROUND_QUEUE)] == [12, 0, 0, 0]
    moved = []
    while (
        messages := client("sqs")
        .receive_message(QueueUrl=queues.queue_url(BACKGROUND_QUEUE), MaxNumberOfMessages=10)
        .get("Messages")
    ):
        moved += [m["Body"] for m in messages]
    assert sorted(moved) == sorted(bodies)  # unchanged: each keeps its idempotency key


def test_the_help_names_the_aws_native_redrive(capsys):
    with pytest.raises(SystemExit):
        ops.main(["redrive", "--help"])
    assert "aws sqs start-message-move-task" in capsys.readouterr().out


def test_queues_shows_the_schedulers_dead_letters_where_deployed(runtime):
    url = client("sqs").create_queue(QueueName="cirrus-schedules-dlq")["QueueUrl"]
    client("sqs").send_message(QueueUrl=url, MessageBody="{}")
    assert run("queues").splitlines()[-1].split() == ["cirrus-schedules-dlq", "-", "-", "-", "1"]


def test_a_prefix_names_another_deployment(runtime, monkeypatch, capsys):
    # monkeypatch restores the environment first, then `runtime` forgets the settings built from it
    monkeypatch.delenv("CIRRUS_RESOURCE_PREFIX", raising=False)
    assert queues.queue_name(TASKS_QUEUE) in run("--prefix", "cirrus", "queues")
    assert ops.main(["--prefix", "cirrus-elsewhere", "queues"], out=io.StringIO()) == 1
    assert capsys.readouterr().err.startswith("error: ")  # no such queue: said, not a traceback


def test_invoices_queues_a_months_run_in_batches_on_heavy(runtime, staff):
    from chalicelib.services import customers
    from tests.marketplace_helpers import ctx_of

    for name in ("Acme", "Initech", "Umbrella"):
        customers.create_customer(ctx_of(staff), {"name": name})
    said = run("invoices", "--year", "2026", "--month", "12", "--batch-size", "2")
    assert said.strip() == "queued 2 batch(es) of the 2026-12 invoice run on heavy"
    waiting = client("sqs").get_queue_attributes(
        QueueUrl=queues.queue_url(HEAVY_QUEUE), AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert waiting["Attributes"]["ApproximateNumberOfMessages"] == "2"
    with pytest.raises(SystemExit):
        ops.main(["invoices", "--year", "2026", "--month", "13"])


def test_backfill_slugs_gives_items_made_before_slugs_theirs_once(aws, staff):
    from dataclasses import replace

    from chalicelib.services import customers, projects
    from chalicelib.services.ports import customers as customer_store
    from chalicelib.services.ports import projects as project_store
    from chalicelib.services.ports import slugs as slug_store
    from chalicelib.services.ports import unit_of_work
    from tests.marketplace_helpers import ctx_of

    # GIVEN a customer and a project stored as they were before slugs (no slug, no guard)
    acme = customers.create_customer(ctx_of(staff), {"name": "Acme"})
    apollo = projects.create_project(ctx_of(staff), acme.id, {"name": "Apollo"})
    uow = unit_of_work()
    customer_store.save_changes(uow, acme, replace(acme, slug=""))
    slug_store.release(uow, "customer", acme.slug)
    uow.commit()
    uow = unit_of_work()
    project_store.save_changes(uow, apollo, replace(apollo, slug="", customer_slug=""))
    slug_store.release(uow, "project", apollo.slug)
    uow.commit()

    # WHEN the operator runs the backfill, twice
    said = run("backfill-slugs")
    again = run("backfill-slugs")

    # THEN each got a fresh slug, the project its customer's too, and the second run found nothing
    assert said.strip() == "slugs given or completed: 1 customer(s), 1 project(s), 0 resource(s)"
    assert again.strip() == "slugs given or completed: 0 customer(s), 0 project(s), 0 resource(s)"
    project = project_store.load(apollo.id)
    assert (customer_store.load(acme.id).slug, project.slug, project.customer_slug) == (
        "acme-2",
        "apollo-2",
        "acme-2",
    )


def test_providers_queues_a_pull_or_usage_collection_on_background(runtime):
    """`ops providers pull|usage` does now what the schedules do: a fan-out over the cloud offerings
    (none here), or one offering's task with `--offering`."""
    from chalicelib.workflows.registry import BACKGROUND_QUEUE

    assert run("providers", "pull").strip() == "queued 0 providers.pull_offering task(s) on background"
    said = run("providers", "usage", "--offering", "0123456789abcdef0123456789abcdef")
    assert said.strip() == "queued 1 providers.collect_offering_usage task(s) on background"
    waiting = client("sqs").get_queue_attributes(
        QueueUrl=queues.queue_url(BACKGROUND_QUEUE), AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert waiting["Attributes"]["ApproximateNumberOfMessages"] == "1"
    with pytest.raises(SystemExit):
        ops.main(["providers", "sync"])
