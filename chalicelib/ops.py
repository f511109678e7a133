"""`python -m chalicelib.ops`: look into workflows and queues without the AWS console.

Works against AWS with the usual credentials (queue URLs and state machine ARNs come from the same
settings the functions use: CIRRUS_RESOURCE_PREFIX, CIRRUS_QUEUE_URL_<QUEUE>,
CIRRUS_STATE_MACHINE_ARN_<NAME>), and against the local stack with CIRRUS_AWS_ENDPOINT_URL set to
the moto endpoint `make run` prints.

  executions [--workflow NAME] [--status STATUS]   list executions, newest first
  history EXECUTION [--workflow NAME]              an execution's events, with errors and causes
  queues                                           messages waiting in each queue and its DLQ
  redrive QUEUE                                    move a queue's dead letters back onto it
  cognito-token USERNAME PASSWORD [--use id|access] a user pool user's JWT, for `Authorization: Bearer`
  backfill-slugs                                   slugs for customers, projects, resources made before them
  support-priorities list|add NAME|remove NAME      the support desk's issue priorities (read-only in the API)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.config import get_settings, reset_settings
from chalicelib.workflows import queues, stepfunctions
from chalicelib.workflows.aws import client
from chalicelib.workflows.registry import QUEUES

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")

REDRIVE_EPILOG = """\
redrive receives each message from the queue's dead-letter queue, sends its body back to the queue
and then deletes it from the DLQ (a message is never lost; a crash mid-way may send one twice, which
the tasks' idempotency keys absorb). On AWS the native alternative is a message move task:
  aws sqs start-message-move-task --source-arn <dlq-arn> [--destination-arn <queue-arn>]
  aws sqs list-message-move-tasks --source-arn <dlq-arn>
"""


def _when(value: Any, timespec: str = "seconds") -> str:
    return value.isoformat(timespec=timespec) if isinstance(value, datetime) else "-"


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out)


def _workflows(name: str | None) -> list[str]:
    known = stepfunctions.names()
    if name is None:
        return known
    if name not in known:
        raise SystemExit(f"no workflow named {name!r}; workflows are {', '.join(known)}")
    return [name]


def _executions(workflow: str, status: str | None) -> Iterator[dict[str, Any]]:
    sfn = client("stepfunctions")
    kwargs: dict[str, Any] = {"stateMachineArn": stepfunctions.state_machine_arn(workflow)}
    if status:
        kwargs["statusFilter"] = status
    while True:
        page = sfn.list_executions(**kwargs)
        yield from page["executions"]
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def cmd_executions(args: argparse.Namespace, out: TextIO) -> int:
    rows = [["WORKFLOW", "EXECUTION", "STATUS", "STARTED", "STOPPED"]]
    found = []
    for workflow in _workflows(args.workflow):
        found += [(workflow, e) for e in _executions(workflow, args.status)]
    found.sort(key=lambda pair: pair[1]["startDate"], reverse=True)
    for workflow, e in found[: args.limit]:
        rows.append([workflow, e["name"], e["status"], _when(e.get("startDate")), _when(e.get("stopDate"))])
    if len(rows) == 1:
        print("no executions", file=out)
        return 0
    _table(rows, out)
    return 0


def _resolve_execution(execution: str, workflow: str | None) -> dict[str, Any]:
    """describe_execution for an ARN, or for a name looked up in `workflow` (or in every one)."""
    sfn = client("stepfunctions")
    if execution.startswith("arn:"):
        return dict(sfn.describe_execution(executionArn=execution))
    for name in _workflows(workflow):
        arn = stepfunctions.execution_arn(stepfunctions.state_machine_arn(name), execution)
        try:
            return dict(sfn.describe_execution(executionArn=arn))
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
    raise SystemExit(f"no execution named {execution!r}")


def _details(event: dict[str, Any]) -> str:
    """The parts of an event that explain it: the state entered, an error and its cause."""
    details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
    parts = []
    for key in ("name", "resource", "error", "cause"):
        if details.get(key):
            parts.append(f"{key}={details[key]}")
    return " ".join(parts)


def _history(arn: str) -> Iterator[dict[str, Any]]:
    sfn = client("stepfunctions")
    kwargs: dict[str, Any] = {"executionArn": arn}
    while True:
        page = sfn.get_execution_history(**kwargs)
        yield from page["events"]
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def cmd_history(args: argparse.Namespace, out: TextIO) -> int:
    described = _resolve_execution(args.execution, args.workflow)
    print(f"execution  {described['executionArn']}", file=out)
    print(f"status     {described['status']}", file=out)
    print(f"started    {_when(described.get('startDate'))}", file=out)
    print(f"stopped    {_when(described.get('stopDate'))}", file=out)
    for key in ("error", "cause", "input", "output"):
        if described.get(key):
            print(f"{key:<10} {described[key]}", file=out)
    print(file=out)
    rows = [["ID", "TIMESTAMP", "TYPE", "DETAILS"]]
    for event in _history(described["executionArn"]):
        when = _when(event.get("timestamp"), "milliseconds")
        rows.append([str(event["id"]), when, event["type"], _details(event)])
    _table(rows, out)
    return 0


def _depth(url: str) -> tuple[int, int, int]:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    visible, in_flight, delayed = (int(attributes.get(n, 0)) for n in names)
    return visible, in_flight, delayed


def _schedules_dead_letters() -> tuple[str, int] | None:
    """On AWS, EventBridge Scheduler's dead-letter queue (deliveries it gave up on), if deployed."""
    sqs = client("sqs")
    name = f"{get_settings().resource_prefix}-schedules-dlq"
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return None
    return name, sum(_depth(url))


def cmd_queues(args: argparse.Namespace, out: TextIO) -> int:
    rows = [["QUEUE", "WAITING", "IN FLIGHT", "DELAYED", "DEAD LETTERS"]]
    for queue in QUEUES:
        visible, in_flight, delayed = _depth(queues.queue_url(queue))
        dead = sum(_depth(queues.dead_letter_url(queue)))
        rows.append([queues.queue_name(queue), str(visible), str(in_flight), str(delayed), str(dead)])
    scheduler = _schedules_dead_letters()
    if scheduler:
        rows.append([scheduler[0], "-", "-", "-", str(scheduler[1])])
    _table(rows, out)
    return 0


def redrive(queue: str, limit: int | None = None) -> int:
    """Move up to `limit` messages (all when None) from `queue`'s DLQ back to `queue`; returns how
    many moved. The body is sent unchanged, so a task keeps its idempotency key."""
    sqs = client("sqs")
    source, target = queues.dead_letter_url(queue), queues.queue_url(queue)
    moved = 0
    while limit is None or moved < limit:
        batch = min(10, limit - moved) if limit is not None else 10
        messages = sqs.receive_message(
            QueueUrl=source, MaxNumberOfMessages=batch, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        for m in messages:
            attributes = m.get("MessageAttributes") or {}
            sqs.send_message(QueueUrl=target, MessageBody=m["Body"], MessageAttributes=attributes)
            sqs.delete_message(QueueUrl=source, ReceiptHandle=m["ReceiptHandle"])
            moved += 1
    return moved


def cmd_redrive(args: argparse.Namespace, out: TextIO) -> int:
    moved = redrive(args.queue, args.limit)
    source, target = queues.dead_letter_name(args.queue), queues.queue_name(args.queue)
    print(f"moved {moved} message(s) from {source} to {target}", file=out)
    return 0


def cmd_cognito_token(args: argparse.Namespace, out: TextIO) -> int:
    """Sign in to the user pool with a password (the local stack's moto pool; on AWS the app client
    must allow USER_PASSWORD_AUTH) and print the token."""
    from chalicelib.local import cognito

    settings = get_settings()
    client_id = args.client_id or next(iter(settings.cognito.client_ids), "")
    if not client_id:
        raise SystemExit("no app client: pass --client-id or set CIRRUS_COGNITO_CLIENT_ID")
    jwt = cognito.token(
        args.username,
        args.password,
        client_id=client_id,
        endpoint=settings.aws_endpoint_url,
        region=settings.cognito.region,
        token_use=args.use,
    )
    print(jwt, file=out)
    return 0


def cmd_invoices(args: argparse.Namespace, out: TextIO) -> int:
    """Queue a month's invoice run (what the schedule does on the 1st): its batches go to `heavy`.
    Running it again for a month is safe: it finishes what an earlier run left undone."""
    from chalicelib import bootstrap
    from chalicelib.workflows import billing
    from chalicelib.workflows.envelope import TaskContext

    bootstrap.ensure_ready()
    payload = {"year": args.year, "month": args.month}
    if args.batch_size:
        payload["batch_size"] = args.batch_size
    batches = billing.create_monthly_invoices(payload, TaskContext().restore())
    print(
        f"queued {batches} batch(es) of the {args.year:04d}-{args.month:02d} invoice run on heavy", file=out
    )
    return 0


def cmd_providers(args: argparse.Namespace, out: TextIO) -> int:
    """Queue now what the `providers-pull` / `providers-usage` schedules queue (on `background`): for
    every offering of a cloud type, or only `--offering`. Safe to repeat: a pull changes only what
    drifted, a collection writes usage that differs."""
    import uuid

    from chalicelib import bootstrap
    from chalicelib.workflows import providers
    from chalicelib.workflows.envelope import TaskContext
    from chalicelib.workflows.queues import enqueue_many

    bootstrap.ensure_ready()
    ctx = TaskContext().restore()
    fan_out, one = {
        "pull": (providers.pull, providers.PULL_OFFERING),
        "usage": (providers.collect_usage, providers.COLLECT_OFFERING_USAGE),
    }[args.what]
    if args.offering:
        sent = enqueue_many(one, [({"offering": args.offering}, f"ops:{uuid.uuid4().hex}")], ctx)
    else:
        sent = fan_out({}, ctx)
    print(f"queued {sent} {one} task(s) on background", file=out)
    return 0


def cmd_backfill_slugs(args: argparse.Namespace, out: TextIO) -> int:
    from chalicelib import bootstrap
    from chalicelib.services import slugs

    bootstrap.ensure_ready()
    done = slugs.backfill()
    print(
        f"slugs given or completed: {done.customers} customer(s), {done.projects} project(s),"
        f" {done.resources} resource(s)",
        file=out,
    )
    return 0


def cmd_support_priorities(args: argparse.Namespace, out: TextIO) -> int:
    """List, add or remove the support desk's priorities: Waldur's API only reads them (its
    backends bring them), so operators keep Cirrus's built-in desk's here."""
    from chalicelib import bootstrap
    from chalicelib.domain.errors import NotFound, ValidationError
    from chalicelib.services import support_catalog

    bootstrap.ensure_ready()
    try:
        if args.action == "add":
            made = support_catalog.add_priority(args.name, args.description, args.icon_url)
            print(f"added priority {made.name} ({made.id})", file=out)
        elif args.action == "remove":
            gone = support_catalog.remove_priority(args.name)
            print(f"removed priority {gone.name} ({gone.id})", file=out)
        else:
            rows = [["UUID", "NAME", "DESCRIPTION"]]
            rows += [[p.id, p.name, p.description] for p in support_catalog.list_priorities()]
            _table(rows, out)
    except ValidationError as exc:
        print(f"error: {exc.errors}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    return 0


def cmd_analytics(args: argparse.Namespace, out: TextIO) -> int:
    """Rebuild the analytics aggregates from what is stored, write today's gauge points, or print a
    series (store/analytics.py)."""
    from chalicelib import bootstrap
    from chalicelib.domain import analytics as domain
    from chalicelib.domain.clock import utcnow
    from chalicelib.store import analytics

    bootstrap.ensure_ready()
    if args.action == "rebuild":
        report = analytics.rebuild(dry_run=args.dry_run)
        write, delete = ("would write", "would delete") if args.dry_run else ("wrote", "deleted")
        print(
            f"{report.objects} object(s) and event(s) added up; {write} {report.written} aggregate(s),"
            f" {delete} {report.deleted}, {report.unchanged} unchanged",
            file=out,
        )
    elif args.action == "snapshot":
        print(f"{analytics.snapshot(utcnow().date())} point(s) written", file=out)
    elif args.action == "export":
        from chalicelib.workflows.analytics import BadExportDay, export_day, export_payload_day

        try:
            day = export_payload_day({"day": args.day} if args.day else {}, utcnow().date())
        except BadExportDay as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(export_day(day)), file=out)
    else:
        start = args.start or "A"  # before every period (D#…, M#…, NOW)
        end = args.end or domain.NOW
        print(analytics.dump(analytics.read(args.series, start, end)), file=out)
    return 0


def _month(value: str) -> int:
    month = int(value)
    if not 1 <= month <= 12:
        raise argparse.ArgumentTypeError("a month is 1..12")
    return month


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m chalicelib.ops",
        description="Inspect Cirrus's workflows (Step Functions) and task queues (SQS).",
        epilog=(
            "Locally, point it at `make run`'s moto endpoint: CIRRUS_AWS_ENDPOINT_URL=http://127.0.0.1:<port>."
            " On AWS, name the deployment: --prefix cirrus-<stage> (or CIRRUS_RESOURCE_PREFIX)."
        ),
    )
    root.add_argument(
        "--prefix",
        help="resource name prefix: queues and state machines are <prefix>-<name>"
        " (default: $CIRRUS_RESOURCE_PREFIX, else 'cirrus', the local stack's; on AWS 'cirrus-<stage>')",
    )
    commands = root.add_subparsers(dest="command", required=True)
    executions = commands.add_parser("executions", help="list workflow executions, newest first")
    executions.add_argument("--workflow", choices=stepfunctions.names())
    executions.add_argument("--status", choices=STATUSES, type=str.upper)
    executions.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    executions.set_defaults(run=cmd_executions)
    history = commands.add_parser("history", help="an execution's event history, with errors and causes")
    history.add_argument("execution", help="execution ARN, or its name (an order's uuid)")
    history.add_argument("--workflow", choices=stepfunctions.names(), help="where to look the name up")
    history.set_defaults(run=cmd_history)
    depth = commands.add_parser("queues", help="approximate depth of each task queue and its DLQ")
    depth.set_defaults(run=cmd_queues)
    move = commands.add_parser(
        "redrive",
        help="move a queue's dead-lettered messages back onto it",
        epilog=REDRIVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    move.add_argument("queue", choices=QUEUES)
    move.add_argument("--limit", type=int, help="move at most this many (default: all)")
    move.set_defaults(run=cmd_redrive)
    jwt = commands.add_parser("cognito-token", help="sign in to the Cognito user pool and print a JWT")
    jwt.add_argument("username")
    jwt.add_argument("password")
    jwt.add_argument("--use", choices=("id", "access"), default="id", help="which token (default: id)")
    jwt.add_argument("--client-id", help="app client id (default: $CIRRUS_COGNITO_CLIENT_ID)")
    jwt.set_defaults(run=cmd_cognito_token)
    run = commands.add_parser("invoices", help="queue a month's invoice run (the 1st's schedule) on heavy")
    run.add_argument("--year", type=int, required=True)
    run.add_argument("--month", type=_month, required=True)
    run.add_argument(
        "--batch-size", type=int, help="customers per batch (default $CIRRUS_INVOICE_BATCH_SIZE, 50)"
    )
    run.set_defaults(run=cmd_invoices)
    clouds = commands.add_parser(
        "providers", help="queue the cloud providers' drift pull or usage collection now (as the schedules)"
    )
    clouds.add_argument("what", choices=("pull", "usage"))
    clouds.add_argument("--offering", help="only this offering's (uuid); default: every cloud offering's")
    clouds.set_defaults(run=cmd_providers)
    fill = commands.add_parser(
        "backfill-slugs",
        help="give a slug to each customer, project and resource made before slugs (idempotent)",
    )
    fill.set_defaults(run=cmd_backfill_slugs)
    priorities = commands.add_parser(
        "support-priorities",
        help="list, add or remove the support desk's issue priorities (the API only reads them)",
    )
    priority_actions = priorities.add_subparsers(dest="action", required=True)
    priority_actions.add_parser("list", help="every priority, by name (the defaults are written first)")
    add = priority_actions.add_parser("add", help="add a priority")
    add.add_argument("name")
    add.add_argument("--description", default="")
    add.add_argument("--icon-url", default="")
    remove = priority_actions.add_parser("remove", help="remove a priority (tickets keep its name)")
    remove.add_argument("name", help="its name, or its uuid")
    priorities.set_defaults(run=cmd_support_priorities)
    stats = commands.add_parser(
        "analytics", help="rebuild the analytics aggregates, write today's points, or read a series"
    )
    stats_actions = stats.add_subparsers(dest="action", required=True)
    rebuild = stats_actions.add_parser(
        "rebuild", help="add up every stored object's facts and write the difference (run it while quiet)"
    )
    rebuild.add_argument("--dry-run", action="store_true", help="only say what would change")
    stats_actions.add_parser("snapshot", help="write today's point of every gauge (the daily task)")
    export = stats_actions.add_parser(
        "export", help="write a day's aggregates and events to the BI export bucket (the daily task)"
    )
    export.add_argument("--day", help="the day (YYYY-MM-DD, before today); default: yesterday")
    read = stats_actions.add_parser("series", help="print a series' aggregates as JSON lines")
    read.add_argument("series", help="e.g. users#registration")
    read.add_argument("--start", help="first period (e.g. D#2026-12-01, M#2026-12); default: the first")
    read.add_argument("--end", help="last period; default: the last")
    stats.set_defaults(run=cmd_analytics)
    return root


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    if args.prefix:
        os.environ["CIRRUS_RESOURCE_PREFIX"] = args.prefix
        reset_settings()
    if get_settings().aws_endpoint_url and not os.environ.get("AWS_ACCESS_KEY_ID"):
        # A local endpoint (moto): dummy credentials, so no real ones are needed or sent.
        os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    stream = out or sys.stdout
    try:
        return int(args.run(args, stream))
    except (ClientError, BotoCoreError) as exc:  # no such queue, no permission, no credentials, ...
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
