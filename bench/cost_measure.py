#!/usr/bin/env python
"""Measure what one API request and one order cost, under in-process moto, for bench/cost.py.

    .venv/bin/python bench/cost_measure.py [bench/cost_profile.json]   (or: bench/cost.py --measure)

API requests: bench/request_costs.py's harness (100 projects, 20 customers, a staff token and a
non-staff caller), each endpoint called once unmeasured, then measured 3 times (the median run by
CPU time). Per request: DynamoDB request units computed from the items' sizes (reads: ceil(size /
4 KB) per item for GetItem and BatchGetItem, summed then rounded for a Query, halved unless strongly
consistent, doubled in a transaction; writes: ceil(size / 1 KB) of each item written, doubled in a
transaction, plus one standard write per GSI holding the item), the log bytes the app writes at
INFO, the CPU time this process spends outside moto (botocore's stubber timed and subtracted), the
audit events written (`EVT#` records: one EventBridge event each) and the SQS requests made. Then
what the request sets off, measured apart: the events publisher on the table's stream (the same
handler the Lambda runs, fed by the local stack's stream reader: `pub_*`) and the workers serving
the queues it fills (`worker_*`).

One order: the demo provider's automatic order, placed by the consumer's owner and served by the
same consumer the workers run, moto executing the state machine: the same figures, plus executions,
state transitions and the execution history's bytes (what a machine logging ALL writes).
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (_ROOT, os.path.join(_ROOT, "bench")):
    if path not in sys.path:
        sys.path.insert(0, path)

import request_costs  # noqa: E402,F401  (sets the offline environment at import: before ours)

from chalicelib.local.aws import use_offline_environment  # noqa: E402

use_offline_environment("cirrus-cost")
os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"  # what a deployment logs

import io  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date  # noqa: E402
from typing import Any  # noqa: E402

import botocore.session  # noqa: E402
from cost import CLIENT_MIX, template_weights  # noqa: E402

from chalicelib.store.capacity import item_size, read_units, write_units  # noqa: E402

REPEATS = 3  # measured runs of each request
GSI_KEYS = {"gsi1": ("gsi1pk", "gsi1sk"), "gsi2": ("gsi2pk", "gsi2sk")}


# --- DynamoDB item sizes and request units -----------------------------------------------------
@dataclass
class Meter:
    active: bool = False
    rru: float = 0.0
    wru: float = 0.0
    round_trips: int = 0
    events: int = 0
    event_bytes: int = 0
    calls: dict[str, int] = field(default_factory=dict)  # "sqs.SendMessage": n
    moto_s: float = 0.0

    def reset(self) -> None:
        self.rru = self.wru = self.moto_s = 0.0
        self.round_trips = self.events = self.event_bytes = 0
        self.calls = {}


METER = Meter()
MOTO_ACCOUNT = os.environ.get("MOTO_ACCOUNT_ID", "123456789012")  # moto's default account


def _stored(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item as moto holds it after a write (an update's size is the whole item's)."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[MOTO_ACCOUNT][os.environ.get("AWS_DEFAULT_REGION", "us-east-1")]
    found = backend.get_table(table).get_item(
        hash_key=_moto_value(key["pk"]),
        range_key=_moto_value(key["sk"]) if "sk" in key else None,
    )
    return dict(found.to_json()["Attributes"]) if found else None


def _moto_value(value: dict[str, Any]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType(value)


def _write_units(table: str, key: dict[str, Any], item: dict[str, Any] | None, factor: int = 1) -> float:
    """WRU of one item written (an update's or a delete's: the item as moto holds it)."""
    stored = item if item is not None else _stored(table, key)
    size = max(item_size(stored), item_size(key), 1)
    indexes = sum(1 for attrs in GSI_KEYS.values() if stored and all(a in stored for a in attrs))
    if stored and str(stored.get("pk", {}).get("S", "")).startswith("EVT#") and item is not None:
        METER.events += 1
        METER.event_bytes += size
    return write_units(size, indexes, factor)


def account(op: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:  # noqa: C901  (one branch per call)
    METER.round_trips += 1
    strong = bool(params.get("ConsistentRead"))
    if op == "GetItem":
        METER.rru += read_units([item_size(parsed.get("Item"))], strong, summed=False)
    elif op in ("Query", "Scan"):
        items = parsed.get("Items") or []
        sizes = [item_size(i) for i in items]
        scanned = int(parsed.get("ScannedCount", len(items)))
        if scanned > len(items) and items:  # filtered out: read all the same, at the average size
            sizes += [sum(sizes) // len(items)] * (scanned - len(items))
        METER.rru += read_units(sizes, strong, summed=True)
    elif op == "BatchGetItem":
        for table, items in (parsed.get("Responses") or {}).items():
            strong_t = bool(params["RequestItems"][table].get("ConsistentRead"))
            METER.rru += read_units([item_size(i) for i in items], strong_t, summed=False)
    elif op == "TransactGetItems":
        sizes = [item_size(r.get("Item")) for r in parsed.get("Responses") or []]
        METER.rru += 2 * read_units(sizes, consistent=True, summed=False)
    elif op == "PutItem":
        METER.wru += _write_units(params["TableName"], {}, params["Item"])
    elif op in ("UpdateItem", "DeleteItem"):
        METER.wru += _write_units(params["TableName"], params["Key"], None)
    elif op == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for r in requests:
                put = r.get("PutRequest")
                METER.wru += _write_units(table, {}, put["Item"]) if put else 1
    elif op == "TransactWriteItems":
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            if kind == "Put":
                METER.wru += _write_units(body["TableName"], {}, body["Item"], factor=2)
            elif kind == "Update":
                METER.wru += _write_units(body["TableName"], body["Key"], None, factor=2)
            else:  # Delete, ConditionCheck
                METER.wru += 2


def install() -> None:
    """Hook every client made from now on; time moto's stubber (its CPU is not Cirrus's)."""
    from moto.core import botocore_stubber

    stub_call = botocore_stubber.BotocoreStubber.__call__

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return stub_call(self, *args, **kwargs)
        finally:
            METER.moto_s += time.process_time() - start

    botocore_stubber.BotocoreStubber.__call__ = timed  # type: ignore[method-assign]
    create_client = botocore.session.Session.create_client

    def hooked(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)

        def after_call(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            if not METER.active:
                return
            name = f"{service_name}.{model.name}"
            METER.calls[name] = METER.calls.get(name, 0) + 1
            if service_name == "dynamodb":
                account(model.name, context.get("cost_params", {}), parsed)

        def before_call(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["cost_params"] = params

        client.meta.events.register("before-parameter-build", before_call)
        client.meta.events.register("after-call", after_call)
        return client

    botocore.session.Session.create_client = hooked


class LogBytes(io.TextIOBase):
    def __init__(self) -> None:
        self.bytes = 0
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        self.lines.append(text)
        return len(text)


LOGS = LogBytes()


def capture_logs() -> None:
    """Point every logging handler at the counter (powertools' Logger writes JSON to stdout)."""
    from chalicelib import observability

    observability.logger()  # built on first use: build it now, at INFO
    for name in [None, *logging.root.manager.loggerDict]:
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(LOGS)
    observability.logger().info("cost probe")  # the counter sees what the app logs
    if not LOGS.bytes:
        raise SystemExit("the app's log lines escape the counter")
    LOGS.bytes, LOGS.lines = 0, []


def emf_metrics() -> int:
    names = set()
    for line in "".join(LOGS.lines).splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        for directive in (doc.get("_aws") or {}).get("CloudWatchMetrics") or []:
            dims = tuple(tuple(d) for d in directive.get("Dimensions") or [])
            for metric in directive.get("Metrics") or []:
                names.add((directive.get("Namespace"), metric.get("Name"), dims))
    return len(names)


# --- running things -----------------------------------------------------------------------------
def metered(run: Any) -> dict[str, float]:
    """What `run` costs: request units, DynamoDB round trips, log bytes, CPU time outside moto,
    audit events written, SQS requests the code makes (sends, deletes), worker messages received."""
    before = (METER.rru, METER.wru, METER.round_trips, METER.events, METER.event_bytes, METER.moto_s)
    calls, logs = dict(METER.calls), LOGS.bytes
    active, METER.active = METER.active, True
    start = time.process_time()
    try:
        run()
    finally:
        METER.active = active
    cpu = time.process_time() - start - (METER.moto_s - before[5])

    def new(name: str) -> int:
        return METER.calls.get(name, 0) - calls.get(name, 0)

    sqs = sum(
        new(f"sqs.{op}")
        for op in (
            "SendMessage",
            "SendMessageBatch",
            "DeleteMessage",
            "DeleteMessageBatch",
            "ChangeMessageVisibility",
        )
    )
    return {
        "rru": round(METER.rru - before[0], 2),
        "wru": round(METER.wru - before[1], 2),
        "round_trips": METER.round_trips - before[2],
        "log_bytes": LOGS.bytes - logs,
        "cpu_ms": round(cpu * 1000, 2),
        "events": METER.events - before[3],
        "event_bytes": METER.event_bytes - before[4],
        "sqs_requests": sqs,
    }


class Downstream:
    """What follows a request out of it: the events publisher on the table's stream (the same
    handler the Lambda runs, through the local stack's stream reader) and the queues' workers."""

    def __init__(self) -> None:
        from chalicelib.local.stream import StreamReader, create_event_bus
        from chalicelib.workflows.publisher import handle_stream_event

        create_event_bus()

        def handler(event: dict[str, Any]) -> dict[str, Any]:
            # One Lambda invocation per batch; the stream reads are the event source mapping's.
            result: list[dict[str, Any]] = []
            self._add("pub", metered(lambda: result.append(handle_stream_event(event))))
            self.figures["pub_invocations"] = self.figures.get("pub_invocations", 0) + 1
            return result[0]

        self.reader = StreamReader(handler=handler, trim=False)
        self.reset()

    def reset(self) -> None:
        self.figures: dict[str, float] = {}

    def _add(self, prefix: str, figures: dict[str, float]) -> None:
        for key in ("rru", "wru", "round_trips", "log_bytes", "cpu_ms", "sqs_requests"):
            name = f"{prefix}_{key}"
            self.figures[name] = round(self.figures.get(name, 0) + figures[key], 2)

    def publish(self) -> int:
        """Hand what is new on the stream to the publisher (its handler is metered)."""
        return self.reader.poll_once()

    def work(self, queues: tuple[str, ...] | None = None) -> int:
        """Deliver every queue's messages, a batch at a time, until none is left."""
        from chalicelib.workflows.registry import QUEUES
        from tests.workflow_helpers import deliver_once

        total = 0
        for queue in queues or tuple(QUEUES):
            while True:
                received = [0]
                figures = metered(lambda q=queue, r=received: r.__setitem__(0, deliver_once(q)[0]))
                if not received[0]:
                    break
                self._add("worker", figures)
                self.figures["worker_messages"] = self.figures.get("worker_messages", 0) + received[0]
                total += received[0]
        return total

    def settle(self) -> dict[str, float]:
        """Publish and work until nothing moves; what it cost."""
        self.reset()
        for _ in range(20):
            if not self.publish() + self.work():
                break
        return dict(self.figures)


def measure_requests(downstream: Downstream) -> dict[str, list[dict[str, Any]]]:
    import request_costs as rc

    from chalicelib.domain.roles import ScopeType

    world = rc.seed(100)
    customer, project = world.customers[0], world.projects[50]
    _, caller = rc._sign_up(world, "cost-member")
    member_id = json.loads(rc.request(caller, "GET", "/api/users/me/").body)["uuid"]
    rc._grant(world, member_id, ScopeType.PROJECT, project, "PROJECT.ADMIN")
    downstream.settle()  # the seed's records: not measured
    counter = iter(range(10**6))
    customer_url = f"http://localhost/api/customers/{customer}/"
    reads = [
        (world, "GET", "/api/projects/", None),
        (world, "GET", f"/api/projects/{project}/", None),
        (world, "GET", "/api/customers/", None),
        (world, "GET", f"/api/customers/{customer}/", None),
        (world, "GET", "/api/users/me/", None),
        (caller, "GET", "/api/projects/", None),
        (caller, "GET", f"/api/projects/{project}/", None),
        (world, "GET", f"/api/projects/?customer={customer}", None),
    ]
    writes = [
        (
            world,
            "POST",
            "/api/projects/",
            lambda: {"name": f"Cost {next(counter)}", "customer": customer_url},
        ),
        (world, "PATCH", f"/api/projects/{project}/", lambda: {"name": f"Cost renamed {next(counter)}"}),
        (
            world,
            "PATCH",
            f"/api/customers/{world.customers[1]}/",
            lambda: {"description": f"Cost {next(counter)}"},
        ),
    ]
    out: dict[str, list[dict[str, Any]]] = {"reads": [], "writes": []}
    for kind, rows in (("reads", reads), ("writes", writes)):
        for who, method, path, body in rows:
            rc.request(who, method, path, body() if callable(body) else body)  # type: ignore[no-untyped-call]
            rc.refresh_token(who)
            downstream.settle()
            runs = []
            for _ in range(REPEATS):  # CPU time on a shared machine is noisy: the median run
                payload = body() if callable(body) else body  # type: ignore[no-untyped-call]
                replies: list[Any] = []
                figures = metered(
                    lambda w=who, m=method, p=path, b=payload, r=replies: r.append(rc.request(w, m, p, b))
                )
                if replies[0].status_code >= 300:
                    raise SystemExit(
                        f"{method} {path}: HTTP {replies[0].status_code} {replies[0].body[:300]!r}"
                    )
                runs.append((figures, downstream.settle()))
                rc.refresh_token(who)
            figures, after = sorted(runs, key=lambda run: run[0]["cpu_ms"])[len(runs) // 2]
            label = f"{method} {re.sub('[0-9a-f]{32}', '<uuid>', path)}"
            out[kind].append({"request": label, **figures, **after})
    return out


def measure_order(downstream: Downstream, market: Any) -> dict[str, Any]:
    """The demo provider's automatic order, placed by the customer's owner (no approval), served
    until its execution ends, then everything it set off published and worked."""
    from chalicelib.services import orders
    from chalicelib.workflows import stepfunctions
    from chalicelib.workflows.aws import client
    from tests.marketplace_helpers import DEMO, ctx_of, make_offering, order_request

    options = {"delay_seconds": 0}
    offering = make_offering(market.staff, market.provider.id, DEMO, name="Demo", plugin_options=options)
    downstream.settle()
    sfn = client("stepfunctions")
    started = {
        m["stateMachineArn"]: {
            e["executionArn"] for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
        }
        for m in sfn.list_state_machines()["stateMachines"]
    }
    downstream.reset()

    def place_and_serve() -> None:
        order = orders.create_order(ctx_of(market.owner), order_request(market, offering))
        arn = stepfunctions.execution_arn(stepfunctions.state_machine_arn("order"), order.execution_name)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            downstream.publish()
            downstream.work()
            if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                for _ in range(20):
                    if not downstream.publish() + downstream.work():
                        return
            time.sleep(0.1)
        raise SystemExit("the demo order's execution did not end in 30 s")

    figures = metered(place_and_serve)
    for key in ("rru", "wru", "round_trips", "log_bytes", "cpu_ms", "sqs_requests"):
        # The order's own call (create_order), apart from the publisher's and the workers' share.
        figures[key] = round(
            figures[key]
            - downstream.figures.get(f"pub_{key}", 0)
            - downstream.figures.get(f"worker_{key}", 0),
            2,
        )
    history: list[dict[str, Any]] = []
    executions = 0
    for machine in sfn.list_state_machines()["stateMachines"]:
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            if execution["executionArn"] in started.get(machine["stateMachineArn"], set()):
                continue
            executions += 1
            history += sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    no_data = [{k: v for k, v in e.items() if not k.endswith("EventDetails")} for e in history]
    return {
        **figures,
        **downstream.figures,
        "executions": executions,
        "transitions": sum(1 for e in history if str(e["type"]).endswith("StateEntered")),
        "sfn_log_bytes": sum(len(json.dumps(e, default=str)) for e in history),
        "sfn_log_bytes_no_data": sum(len(json.dumps(e, default=str)) for e in no_data),
    }


# --- per path template: what Waldur's clients send (bench/client_mix.json) ------------------------
@dataclass
class Caller:
    """Who sends a request: the Chalice test client and a token's headers (request_costs.World's
    fields that `request` and `refresh_token` read)."""

    http: Any
    headers: dict[str, str]
    key_hash: str = ""


@dataclass
class MixWorld:
    market: Any
    offering: Any  # the agent's offering (usage components), a resource in it, its offering users
    ids: dict[str, str]  # the path segment before `{id}` -> the id put there
    queries: dict[str, str]  # template -> the query the client sends with it
    callers: dict[str, Caller]  # "seller" (the agent, the provider's owner), "owner", "anonymous"
    counter: Any


AGENT_LISTS = {  # the filters waldur-site-agent sends with its lists (tests/site_agent's recordings)
    "GET /api/marketplace-orders/": "offering_uuid={offering}&state=pending-provider&state=executing",
    "GET /api/marketplace-site-agent-identities/": "name={agent}",
    "GET /api/marketplace-service-providers/": "customer_uuid={provider}",
    "GET /api/marketplace-component-usages/": "resource_uuid={resource}&billing_period={month}",
    "GET /api/marketplace-component-user-usages/": "resource_uuid={resource}",
    "GET /api/marketplace-offering-users/": "offering_uuid={offering}",
    "GET /api/marketplace-provider-resources/": "offering_uuid={offering}&state=OK",
    "GET /api/component-user-usage-limits/": "resource_uuid={resource}",
}


def _caller(http: Any, account: Any) -> Caller:
    from chalicelib.domain.tokens import hash_key

    headers = {"Authorization": f"Token {account.token}", "Content-Type": "application/json"}
    return Caller(http, {**headers, "Host": "localhost"}, hash_key(account.token))


def _send(who: Caller, method: str, path: str, body: Any = None) -> Any:
    import request_costs as rc

    return rc.request(who, method, path, body)  # type: ignore[arg-type]  # World's fields


def _ok(reply: Any, what: str) -> Any:
    if reply.status_code >= 300:
        raise RuntimeError(f"{what}: HTTP {reply.status_code} {reply.body[:300]!r}")
    try:
        return json.loads(reply.body) if reply.body else None
    except ValueError:  # an icon
        return None


def mix_world(market: Any) -> MixWorld:
    """What the clients' calls need, made through the API as the tests make it: an offering with a
    limit and two usage components (tests/integration/test_marketplace_user_usages_api.py), an order
    placed by the consumer's owner, approved and done by the provider (a resource, its member's
    offering user), a usage reported, the agent's identity, service and processor registered
    (tests/compat/test_site_agent_identities_clients.py's start sequence)."""
    from chalice.test import Client

    from app import app
    from chalicelib.services import categories
    from tests.integration.test_marketplace_user_usages_api import COMPONENTS
    from tests.marketplace_helpers import ctx_of, make_offering

    http = Client(app).http
    category = categories.create_category(ctx_of(market.staff), {"title": "HPC"})
    offering = make_offering(
        market.staff, market.provider.id, name="HPC", components=COMPONENTS, category_id=category.id
    )
    seller, owner = _caller(http, market.seller), _caller(http, market.owner)
    anonymous = Caller(http, {"Content-Type": "application/json", "Host": "localhost"})
    counter = iter(range(10**6))

    def place() -> str:
        reply = _send(owner, "POST", "/api/marketplace-orders/", _order_body(market, offering))
        return str(_ok(reply, "an order")["uuid"])

    order = place()
    _ok(_send(seller, "POST", f"/api/marketplace-orders/{order}/approve_by_provider/"), "approve")
    _ok(_send(seller, "POST", f"/api/marketplace-orders/{order}/set_state_done/"), "done")
    resource = _ok(_send(owner, "GET", f"/api/marketplace-orders/{order}/"), "the order")[
        "marketplace_resource_uuid"
    ]
    usage_body = {"resource": resource, "usages": [{"type": "cpu_hours", "amount": "10"}]}
    _ok(_send(seller, "POST", "/api/marketplace-component-usages/set_usage/", usage_body), "usage")
    [usage] = _ok(
        _send(seller, "GET", f"/api/marketplace-component-usages/?resource_uuid={resource}&type=cpu_hours"),
        "usages",
    )
    agent = f"agent-{offering.id}"
    identity = _ok(
        _send(seller, "POST", "/api/marketplace-site-agent-identities/", _identity(offering.id, agent)),
        "identity",
    )["uuid"]
    service = _ok(
        _send(
            seller,
            "POST",
            f"/api/marketplace-site-agent-identities/{identity}/register_service/",
            {"name": "order_process", "mode": "order_process"},
        ),
        "service",
    )["uuid"]
    [provider] = _ok(
        _send(seller, "GET", f"/api/marketplace-service-providers/?customer_uuid={market.provider.id}"),
        "service provider",
    )
    ids = {
        "customers": market.consumer.id,
        "projects": market.project.id,
        "marketplace-public-offerings": offering.id,
        "marketplace-provider-offerings": offering.id,
        "marketplace-orders": order,
        "marketplace-resources": resource,
        "marketplace-provider-resources": resource,
        "marketplace-plans": offering.plans[0].id,
        "marketplace-service-providers": provider["uuid"],
        "marketplace-site-agent-identities": identity,
        "marketplace-site-agent-services": service,
        "marketplace-component-usages": usage["uuid"],
        "marketplace-categories": category.id,
    }
    values = {
        "offering": offering.id,
        "agent": agent,
        "provider": market.provider.id,
        "resource": resource,
        "month": str(usage["billing_period"]),
    }
    queries = {t: q.format(**values) for t, q in AGENT_LISTS.items()}
    return MixWorld(
        market, offering, ids, queries, {"seller": seller, "owner": owner, "anonymous": anonymous}, counter
    )


def _order_body(market: Any, offering: Any) -> Any:
    """An order for `offering` in the market's project (the orders API tests' body)."""
    from tests.integration.test_marketplace_orders_api import body

    return body(market, offering)  # type: ignore[no-untyped-call]


def _identity(offering_id: str, name: str) -> dict[str, Any]:
    from chalicelib.domain.clock import utcnow

    return {
        "offering": f"http://localhost/api/marketplace-provider-offerings/{offering_id}/",
        "name": name,
        "version": "1.0.7",
        "dependencies": [{"package": "waldur-api-client", "version": "8.1.2"}],
        "config_file_path": "",
        "config_file_content": "",
        "last_restarted": utcnow().isoformat(),
    }


def _concrete(world: MixWorld, template: str, agent_paths: set[str]) -> tuple[Caller, str, str, Any]:
    """(who, method, path, prepare) for a template; prepare() -> (path, body) of one run, made
    outside the meter (a fresh order for the order actions). KeyError: a template the world cannot
    serve."""

    method, path = template.split(" ", 1)
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part == "{id}":
            parts[i] = world.ids[parts[i - 1]]  # KeyError: no such thing in the world
    concrete = "/".join(parts)
    if template in world.queries:
        concrete += "?" + world.queries[template]
    n = world.counter
    seller, owner = world.callers["seller"], world.callers["owner"]
    who = seller if template in agent_paths or "/marketplace-provider-" in path else owner
    market = world.market

    def place() -> str:
        reply = _send(owner, "POST", "/api/marketplace-orders/", _order_body(market, world.offering))
        return str(_ok(reply, "an order")["uuid"])

    def fixed(body: Any = None) -> Any:
        return lambda: (concrete, body() if callable(body) else body)

    bodies: dict[str, Any] = {
        "POST /api-auth/password/": fixed(
            {"username": market.owner.username, "password": market.owner.password}
        ),
        "POST /api/marketplace-orders/": fixed(lambda: _order_body(market, world.offering)),
        "POST /api/marketplace-orders/{id}/approve_by_provider/": lambda: (
            f"/api/marketplace-orders/{place()}/approve_by_provider/",
            None,
        ),
        "POST /api/marketplace-orders/{id}/set_state_done/": lambda: _approved(world, place()),
        "POST /api/marketplace-provider-resources/{id}/set_backend_id/": fixed(
            lambda: {"backend_id": f"alloc-{next(n)}"}
        ),
        "POST /api/marketplace-provider-resources/{id}/set_limits/": fixed(
            lambda: {"limits": {"cpu": 2 + next(n) % 5}}
        ),
        # The agent posts its backend's view of the resource every membership sync; between two syncs
        # it is the same (bench/client_mix.py's runs: the stock agent resends identical metadata).
        "POST /api/marketplace-provider-resources/{id}/set_backend_metadata/": fixed(
            {"backend_metadata": {"slurm_account": "alloc-1", "partition": "batch"}}
        ),
        "POST /api/marketplace-provider-resources/{id}/refresh_last_sync/": fixed(None),
        "POST /api/marketplace-site-agent-identities/": fixed(
            lambda: _identity(world.offering.id, f"agent-{next(n)}")
        ),
        "PUT /api/marketplace-site-agent-identities/{id}/": fixed(
            lambda: _identity(world.offering.id, f"agent-{world.offering.id}")
        ),
        "POST /api/marketplace-site-agent-identities/{id}/register_service/": fixed(
            {"name": "order_process", "mode": "order_process"}
        ),
        "POST /api/marketplace-site-agent-services/{id}/register_processor/": fixed(
            {"name": "OfferingOrderProcessor", "backend_type": "mock", "backend_version": "1.0"}
        ),
        "POST /api/marketplace-component-usages/{id}/set_user_usages/": fixed(
            lambda: {"usages": [{"username": u, "usage": str(next(n) % 7)} for u in ("pi", "bob", "carol")]}
        ),
        "POST /api/marketplace-component-usages/set_usage/": fixed(
            lambda: {
                "resource": world.ids["marketplace-resources"],
                "usages": [{"type": "cpu_hours", "amount": str(10 + next(n))}],
            }
        ),
    }
    if template == "POST /api-auth/password/":
        who = world.callers["anonymous"]
    prepare = bodies.get(template, fixed() if method in ("GET", "HEAD") else None)
    if prepare is None:
        raise KeyError(f"no body for {template}")
    return who, method, concrete, prepare


def _approved(world: MixWorld, order: str) -> tuple[str, Any]:

    _ok(
        _send(world.callers["seller"], "POST", f"/api/marketplace-orders/{order}/approve_by_provider/"),
        "approve",
    )
    return f"/api/marketplace-orders/{order}/set_state_done/", None


def quiesce(downstream: Downstream, limit_s: float = 60) -> None:
    """Wait until no workflow runs: moto runs executions in threads, and an order left pending times
    out (ApprovalTimeoutSeconds, a few seconds here) writing while a later request is metered (the
    meter counts every thread's calls). Publish and work meanwhile; what it costs is nobody's."""
    from chalicelib.workflows.aws import client

    sfn = client("stepfunctions")
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        running = [
            e
            for m in sfn.list_state_machines()["stateMachines"]
            for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"], statusFilter="RUNNING")[
                "executions"
            ]
        ]
        moved = downstream.publish() + downstream.work()
        if not running and not moved:
            return
        time.sleep(0.2)
    raise RuntimeError(f"workflows still running after {limit_s:g} s")


def measure_templates(
    downstream: Downstream, market: Any, weights: dict[str, float], agent_paths: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Each template's figures (as `measure_requests`' rows: the request's own, the publisher's
    and the workers' after it), and the templates that could not be measured, with why."""
    import request_costs as rc

    world = mix_world(market)
    downstream.settle()
    measured: dict[str, dict[str, Any]] = {}
    unmeasured: dict[str, str] = {}
    for template in weights:
        try:
            who, method, _, prepare = _concrete(world, template, agent_paths)
        except KeyError as missing:
            unmeasured[template] = f"not set up in the cost world ({missing})"
            continue
        try:
            path, payload = prepare()
            _ok(_send(who, method, path, payload), template)  # warm
            runs = []
            for _ in range(REPEATS):
                quiesce(downstream)
                if who.key_hash:
                    rc.refresh_token(who)  # type: ignore[arg-type]  # World's fields
                path, payload = prepare()
                downstream.settle()
                replies: list[Any] = []
                figures = metered(
                    lambda w=who, m=method, p=path, b=payload, r=replies: r.append(_send(w, m, p, b))
                )
                _ok(replies[0], template)
                runs.append((figures, downstream.settle(), path))
        except Exception as error:  # measure on; the profile says why not
            unmeasured[template] = f"{type(error).__name__}: {error}"[:300]
            continue
        figures, after, path = sorted(runs, key=lambda run: run[0]["cpu_ms"])[len(runs) // 2]
        label = f"{method} {re.sub('[0-9a-f]{32}', '<uuid>', path)}"
        measured[template] = {"request": label, **figures, **after}
        print(f"  {template}: {figures['rru']} RRU {figures['wru']}+{after.get('pub_wru', 0)}+"
              f"{after.get('worker_wru', 0)} WRU", file=sys.stderr)  # fmt: skip
    return measured, unmeasured


def main() -> int:
    import request_costs as rc

    from tests.workflow_helpers import embedded_stack

    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(_ROOT, "bench", "cost_profile.json")
    install()
    with embedded_stack(execute=True):
        rc.release_moto_copies()
        capture_logs()
        downstream = Downstream()
        requests = measure_requests(downstream)
        from tests.conftest import make_account  # after capture_logs: tests/conftest.py sets logging up
        from tests.marketplace_helpers import build_market

        staff = make_account("cost-staff", is_staff=True, full_name="Cost Staff")
        market = build_market(staff)
        order = measure_order(downstream, market)
        mix = json.loads(CLIENT_MIX.read_text()) if CLIENT_MIX.is_file() else {}
        weights = template_weights(mix) if mix else {}
        agent = (mix.get("clients") or {}).get("site_agent") or {}
        agent_paths = {
            p for run in (agent.get("modes") or {}).values() for c in run["cycles"] for p in c["by_path"]
        }
        templates, unmeasured = measure_templates(downstream, market, weights, agent_paths)
    metrics = emf_metrics()
    reads, writes = requests["reads"], requests["writes"]

    def avg(rows: list[dict[str, Any]], key: str) -> float:
        return round(sum(float(r.get(key, 0)) for r in rows) / len(rows), 2)

    profile = {
        "measured": str(date.today()),
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "requests": requests,
        "order": order,
        # Per `METHOD /path/{id}/` template of bench/client_mix.json (its date and weights), the
        # same figures; what could not be set up here, with why (cost.py: the class's average).
        "templates": templates,
        "templates_mix": {"date": mix.get("date"), "weights": (mix.get("combined") or {}).get("weights")},
        "unmeasured": unmeasured,
        "emf_metrics": metrics,
        "summary": {
            "read RRU": avg(reads, "rru"),
            "write WRU (request)": avg(writes, "wru"),
            "write WRU (publisher)": avg(writes, "pub_wru"),
            "write WRU (workers)": avg(writes, "worker_wru"),
            "write worker messages": avg(writes, "worker_messages"),
            "read log B": avg(reads, "log_bytes"),
            "write log B": avg(writes, "log_bytes"),
            "read CPU ms": avg(reads, "cpu_ms"),
            "write CPU ms": avg(writes, "cpu_ms"),
            "order transitions": order["transitions"],
            "order SQS requests": order["sqs_requests"]
            + order.get("pub_sqs_requests", 0)
            + order.get("worker_sqs_requests", 0),
            "order worker messages": order.get("worker_messages", 0),
            "order WRU": order["wru"] + order.get("pub_wru", 0) + order.get("worker_wru", 0),
            "order events": order["events"],
            "EMF metrics": metrics,
        },
    }
    with open(target, "w") as handle:
        json.dump(profile, handle, indent=1)
        handle.write("\n")
    print(json.dumps(profile["summary"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
