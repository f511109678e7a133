#!/usr/bin/env python
"""DynamoDB round trips and items read per API request, at two table sizes.

    .venv/bin/python bench/request_costs.py            # the Markdown report
    .venv/bin/python bench/request_costs.py -v         # also every DynamoDB call of every measured request
    .venv/bin/python bench/request_costs.py --sizes 100 500

ARCHITECTURE.md ("Data"): a request costs a constant number of DynamoDB round trips, independent of
how much the table holds; a list page reads O(page size) items, plus keys-only reads to reach deep
pages. This script checks that with in-process moto and the Chalice test client: it seeds N projects
(over 20 customers, a quarter of them in the first), warms each endpoint up once, then counts the
DynamoDB calls the measured request makes, through botocore event hooks on every DynamoDB client
created in this process (pynamodb's connections, made lazily per model/thread, as well as boto3's),
cross-checked against a counter on botocore's `BaseClient._make_api_call`.

Counted per request:
- round trips: DynamoDB API calls (one HTTP request each; retries would be reported as extra sends);
- items read: items DynamoDB evaluates: `ScannedCount` of a Query/Scan (a `Select=COUNT` query reads
  every item it counts), 1 for a GetItem that found its item, the responses of a BatchGet/TransactGet;
- keys-only: Query/Scan calls whose projection holds only key attributes (how deep pages are reached),
  reported apart from the reads that return data.

Beyond the brief's endpoints, the report adds rows for the token-renewal write, customer updates and
the slow-path project filters, judged apart. Wall times are not reported: moto's Query cost grows
with the whole table (ARCHITECTURE.md).
"""

from __future__ import annotations

import os
import sys

# Run by path from anywhere: make the repository root importable.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from chalicelib.local.aws import use_offline_environment  # noqa: E402

use_offline_environment("cirrus-bench")  # as the tests: never a real AWS account

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

import botocore.client  # noqa: E402
import botocore.session  # noqa: E402

CUSTOMERS = 20
PAGE_SIZE = 10  # the API's default page size (config.Settings.default_page_size)
KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"})
READ_OPS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


# --- counting DynamoDB calls ------------------------------------------------------------------
@dataclass
class Call:
    op: str
    client: int
    keys_only: bool = False
    items: int = 0
    sends: int = 0
    target: str = ""  # Query/Scan: `<index or table>:<partition key prefix>`, e.g. `gsi1:USER`


@dataclass
class CallLog:
    """DynamoDB calls made while `active`, from every DynamoDB client of the process."""

    active: bool = False
    calls: list[Call] = field(default_factory=list)
    api_calls: int = 0  # independent count, from BaseClient._make_api_call
    clients: dict[int, str] = field(default_factory=dict)

    def start(self) -> None:
        self.calls, self.api_calls, self.active = [], 0, True

    def stop(self) -> list[Call]:
        self.active = False
        if self.api_calls != len(self.calls):
            raise RuntimeError(
                f"{self.api_calls} DynamoDB API calls but {len(self.calls)} seen by the event hooks: "
                "a client escaped the hooks"
            )
        return self.calls

    def attach(self, client: Any, origin: str) -> None:
        ident = id(client)
        self.clients[ident] = origin

        def before_build(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            if not self.active:
                return
            call = Call(model.name, ident, keys_only=_keys_only(model.name, params), target=_target(params))
            context["bench_call"] = call
            self.calls.append(call)

        def before_send(request: Any, **_: Any) -> None:
            call = (getattr(request, "context", None) or {}).get("bench_call")
            if call is not None:
                call.sends += 1

        def after_call(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            call = context.get("bench_call")
            if call is not None:
                call.items = _items_read(model.name, parsed)

        events = client.meta.events
        events.register("before-parameter-build.dynamodb", before_build)
        events.register_first("before-send.dynamodb", before_send)
        events.register("after-call.dynamodb", after_call)


def _keys_only(op: str, params: dict[str, Any]) -> bool:
    if op not in ("Query", "Scan"):
        return False
    projection = params.get("ProjectionExpression")
    if projection:
        names = params.get("ExpressionAttributeNames") or {}
        wanted = {names.get(part.strip(), part.strip()) for part in projection.split(",")}
    elif params.get("AttributesToGet"):
        wanted = set(params["AttributesToGet"])
    else:
        return False
    return wanted <= KEY_ATTRIBUTES


def _target(params: dict[str, Any]) -> str:
    """Which partition a Query reads: its index (or the table) and the key's prefix (`USER`, `ROLES`)."""
    if "KeyConditionExpression" not in params:
        return ""
    values = params.get("ExpressionAttributeValues") or {}
    first = next((v.get("S", "") for v in values.values() if isinstance(v, dict)), "")
    return f"{params.get('IndexName', 'table')}:{first.split('#')[0]}"


def _items_read(op: str, parsed: dict[str, Any]) -> int:
    if op in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", parsed.get("Count", len(parsed.get("Items", [])))))
    if op == "GetItem":
        return 1 if parsed.get("Item") else 0
    if op == "BatchGetItem":
        return sum(len(items) for items in (parsed.get("Responses") or {}).values())
    if op == "TransactGetItems":
        return sum(1 for r in parsed.get("Responses") or [] if r.get("Item"))
    return 0


LOG = CallLog()


def install_hooks() -> None:
    """Hook every DynamoDB client created from now on (pynamodb makes its own sessions and clients
    lazily, one per connection and thread), and count API calls independently as a cross-check."""
    create_client = botocore.session.Session.create_client

    def hooked_create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            import traceback

            origin = next(
                (
                    f"{os.path.relpath(f.filename, _ROOT)}:{f.lineno}"
                    for f in reversed(traceback.extract_stack()[:-1])
                    if "chalicelib" in f.filename or "pynamodb" in f.filename
                ),
                "?",
            )
            LOG.attach(client, origin)
        return client

    botocore.session.Session.create_client = hooked_create_client  # type: ignore[method-assign]

    make_api_call = botocore.client.BaseClient._make_api_call

    def counted(self: Any, operation_name: str, api_params: Any) -> Any:
        if LOG.active and self.meta.service_model.service_name == "dynamodb":
            LOG.api_calls += 1
        return make_api_call(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]


# --- measurements -----------------------------------------------------------------------------
@dataclass
class Result:
    label: str
    kind: str  # "retrieve", "estimate" (a retrieve with billing_price_estimate), "list", "deep",
    # "write", "caller" (non-staff), "extra"
    calls: list[Call]
    status: int
    note: str = ""

    @property
    def round_trips(self) -> int:
        return sum(1 for c in self.calls if not c.keys_only)

    @property
    def keys_round_trips(self) -> int:
        return sum(1 for c in self.calls if c.keys_only)

    @property
    def items(self) -> int:
        return sum(c.items for c in self.calls if not c.keys_only)

    @property
    def keys_items(self) -> int:
        return sum(c.items for c in self.calls if c.keys_only)

    @property
    def sends(self) -> int:
        return sum(c.sends for c in self.calls)

    @property
    def ops(self) -> str:
        """The calls in order, runs of the same call folded (`UpdateItem x198`)."""
        runs: list[list[Any]] = []
        for c in self.calls:
            name = f"{c.op}(keys)" if c.keys_only else c.op
            if runs and runs[-1][0] == name:
                runs[-1][1] += 1
            else:
                runs.append([name, 1])
        return ", ".join(name if n == 1 else f"{name} x{n}" for name, n in runs)

    def rt_text(self) -> str:
        extra = f" + {self.keys_round_trips} keys-only" if self.keys_round_trips else ""
        return f"{self.round_trips}{extra}"

    def items_text(self) -> str:
        extra = f" + {self.keys_items} keys" if self.keys_round_trips else ""
        return f"{self.items}{extra}"


@dataclass
class World:
    http: Any
    headers: dict[str, str]
    key_hash: str
    customers: list[str]  # ids
    per_customer: dict[str, int]
    projects: list[str]  # ids, oldest first
    total: int
    ctx: Any = None  # staff's event context, to seed more through the services


def seed(n_projects: int) -> World:
    from chalice.test import Client

    from app import app
    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.context import EventContext
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.projects import Project
    from chalicelib.domain.quotas import PROJECT_COUNT
    from chalicelib.domain.tokens import hash_key
    from chalicelib.services import auth, users
    from chalicelib.services import customers as customer_service
    from chalicelib.store import counters
    from chalicelib.store import customers as customer_store
    from chalicelib.store.items import CustomerItem, ProjectItem
    from chalicelib.store.projects import _item as project_item
    from chalicelib.store.unit_of_work import UnitOfWork

    # As tests/conftest.make_account: a staff user and a token.
    password = "bench-staff-secret-pw"
    users.register_user(
        EventContext(), {"username": "bench-staff", "is_staff": True, "full_name": "Bench Staff"}, password
    )
    key = auth.login("bench-staff", password, EventContext(ip_address="127.0.0.1"))
    principal = auth.authenticate(key).principal
    ctx = EventContext(principal=principal, ip_address="127.0.0.1")

    # Customers through the service (20 transactions), then projects written directly in the
    # store's own item shape (`store.projects._item`, version 1 as `store.projects.add` writes it),
    # 25 a BatchWriteItem; then the counters: each customer's nc_project_count (kept by the writers)
    # and the platform-wide ones the stream consumer would have counted by now (store/counters.py),
    # in one transaction, so list totals are right.
    customers = [
        customer_service.create_customer(
            ctx, {"name": f"Bench customer {i:02d}", "abbreviation": f"BC{i:02d}"}
        )
        for i in range(CUSTOMERS)
    ]
    per_customer = {c.id: 0 for c in customers}
    project_ids: list[str] = []
    start = utcnow() - timedelta(days=1)
    with ProjectItem.batch_write() as batch:
        for i in range(n_projects):
            # A quarter of the projects in the first customer (the one `?customer=` lists, so its
            # page is full at every size), the rest spread round-robin over the other 19.
            customer = (
                customers[0] if i % 4 == 0 else customers[1 + (i // 4 * 3 + i % 4 - 1) % (CUSTOMERS - 1)]
            )
            project = Project(
                id=new_id(),
                customer_id=customer.id,
                name=f"Project {i:05d}",
                created=start + timedelta(milliseconds=i),
                customer_name=customer.name,
                customer_abbreviation=customer.abbreviation,
                customer_native_name=customer.native_name,
                description=f"Benchmark project number {i}",
                version=1,
            )
            batch.save(project_item(project))
            per_customer[customer.id] += 1
            project_ids.append(project.id)
    uow = UnitOfWork()
    counters.add(uow, counters.PROJECTS, n_projects)
    counters.add(uow, counters.CUSTOMERS, CUSTOMERS)
    counters.add(uow, counters.USERS, 1)
    for customer_id, count in per_customer.items():
        uow.update(
            CustomerItem(pk=customer_store.keys.customer_pk(customer_id), sk=customer_store.keys.META),
            [CustomerItem.quota_usage[PROJECT_COUNT].add(count)],
            condition=CustomerItem.pk.exists(),
        )
    uow.commit()

    client = Client(app)
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json", "Host": "localhost"}
    return World(
        client.http,
        headers,
        hash_key(key),
        [c.id for c in customers],
        per_customer,
        project_ids,
        n_projects,
        ctx,
    )


class _Discard(list):  # type: ignore[type-arg]
    """A registry that keeps nothing."""

    def append(self, item: Any) -> None:
        pass


def release_moto_copies() -> None:
    """moto's TransactWriteItems deep-copies the whole table for each item of a transaction (its
    rollback copy), and moto's model registry (`instances_tracked`, read only by moto's dashboard)
    would keep every copy alive: at 5,000 projects a rename or a few grants hold gigabytes. Make the
    registry keep nothing (moto resets it when the mock stops)."""
    import gc

    from moto.core.model_instances import model_data

    for models in model_data.values():
        for model in models.values():
            model.instances_tracked = _Discard()  # type: ignore[attr-defined]
    gc.collect()


def refresh_token(world: World, *, due: bool = False) -> None:
    """Store a fresh expiry on the bench token, outside the counted window, so the sliding-expiry
    write (at most once a minute per token) does not land at random in a measured request under
    moto's slow Queries. `due=True` backdates the expiry so the next request renews it."""
    from chalicelib.domain.clock import utcnow
    from chalicelib.store import tokens

    token = tokens.get(world.key_hash)
    assert token is not None and token.lifetime is not None
    lifetime = timedelta(seconds=token.lifetime)
    expires = utcnow() + lifetime - (timedelta(minutes=5) if due else timedelta(0))
    from dataclasses import replace

    tokens.extend(replace(token, expires=expires))


def request(world: World, method: str, path: str, body: Any = None) -> Any:
    payload = json.dumps(body) if body is not None else b""
    return getattr(world.http, method.lower())(path, headers=world.headers, body=payload)


def measure(
    world: World,
    label: str,
    kind: str,
    method: str,
    path: str | Callable[[], str],
    body: Any | Callable[[], Any] = None,
    *,
    warm: bool = True,
    before: Callable[[], None] | None = None,
    check: Callable[[Any], str | None] | None = None,
    bounded: bool = False,
) -> Result:
    """One request's DynamoDB calls. `bounded`: a slow-path list, which may answer 400 "Too many ..."
    once its partition holds more than `filter_read_limit` items (its reads stop there)."""

    def resolve(value: Any) -> Any:
        return value() if callable(value) else value

    if warm:
        response = request(world, method, resolve(path), resolve(body))
        _expect_ok(label, response, bounded)
    refresh_token(world)
    if before is not None:
        before()
    release_moto_copies()
    the_path, the_body = resolve(path), resolve(body)
    LOG.start()
    try:
        response = request(world, method, the_path, the_body)
    finally:
        calls = LOG.stop()
    if _expect_ok(label, response, bounded):
        return Result(label, kind, calls, response.status_code, "400: over filter_read_limit")
    try:
        note = check(response) if check else ""
    except SystemExit as exc:
        raise SystemExit(f"{label}: {exc}") from None
    return Result(label, kind, calls, response.status_code, note or "")


def _expect_ok(label: str, response: Any, bounded: bool = False) -> bool:
    """True if a bounded list stopped at the bound (400 "Too many ..."); exits on any other error."""
    if 200 <= response.status_code < 300:
        return False
    if bounded and response.status_code == 400 and b"Too many" in response.body:
        return True
    raise SystemExit(f"{label}: HTTP {response.status_code} {response.body[:500]!r}")


def _count_is(expected: int) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        got = int(response.headers.get("X-Result-Count", -1))
        if got != expected:
            raise SystemExit(f"X-Result-Count {got}, expected {expected}: counters out of step")
        return None

    return check


def _rows_are(expected: int) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        got = len(json.loads(response.body))
        if got != expected:
            raise SystemExit(f"page holds {got} rows, expected {expected}")
        return None

    return check


def _ids_are(expected: list[str]) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        got = [row["uuid"] for row in json.loads(response.body)]
        if got != expected:
            raise SystemExit(f"page holds the wrong projects: {got[:2]}..., expected {expected[:2]}...")
        return None

    return check


def _both(*checks: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        for c in checks:
            c(response)
        return None

    return check


def run_size(n_projects: int, verbose: bool) -> tuple[list[Result], dict[str, Any]]:
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.local.aws import create_queues, create_table
    from chalicelib.store import table
    from chalicelib.workflows import queues

    reset_settings()
    queues._lookup_url.cache_clear()
    with mock_aws():
        create_table(get_settings().table_name)
        create_queues()  # a rename queues its projects' task (the SQS call is not counted here)
        release_moto_copies()
        table._bound[0] = None
        bootstrap.ensure_ready()
        world = seed(n_projects)
        results = measure_all(world)
        if verbose:
            _print_calls(n_projects, results)
    reset_settings()
    pages = math.ceil(n_projects / PAGE_SIZE)
    return results, {"deep_page": _deep_page(pages), "pages": pages}


def _deep_page(pages: int) -> int:
    return max(2, (pages * 4) // 5)


def measure_all(world: World) -> list[Result]:
    n = world.total
    customer = world.customers[0]
    project = world.projects[n // 2]
    deep = _deep_page(math.ceil(n / PAGE_SIZE))
    customer_url = f"http://localhost/api/customers/{customer}/"
    newest_first = world.projects[::-1]
    skip = (deep - 1) * PAGE_SIZE
    counter = iter(range(1, 10**6))
    renames = iter(range(1, 10**6))
    results = [
        measure(
            world,
            "GET /api/customers/",
            "list",
            "GET",
            "/api/customers/",
            check=_both(_count_is(CUSTOMERS), _rows_are(PAGE_SIZE)),
        ),
        measure(
            world,
            "GET /api/customers/<uuid>/",
            "estimate",
            "GET",
            f"/api/customers/{customer}/",
            check=lambda r: _check_projects_count(r, world.per_customer[customer]),
        ),
        measure(
            world,
            "GET /api/projects/",
            "list",
            "GET",
            "/api/projects/",
            check=_both(_count_is(n), _ids_are(newest_first[:PAGE_SIZE])),
        ),
        measure(
            world,
            "GET /api/projects/?page=<80% deep>",
            "deep",
            "GET",
            f"/api/projects/?page={deep}",
            check=_both(_count_is(n), _ids_are(newest_first[skip : skip + PAGE_SIZE])),
        ),
        measure(
            world,
            "GET /api/projects/?customer=<uuid>",
            "list",
            "GET",
            f"/api/projects/?customer={customer}",
            check=_both(
                _count_is(world.per_customer[customer]),
                _rows_are(min(PAGE_SIZE, world.per_customer[customer])),
            ),
        ),
        # Customers' and projects' retrieves carry this month's billing_price_estimate: one more Query.
        measure(world, "GET /api/projects/<uuid>/", "estimate", "GET", f"/api/projects/{project}/"),
        # `me` carries the `permissions` field: the caller's grants and the role definitions, 2 Queries.
        measure(world, "GET /api/users/me/", "me", "GET", "/api/users/me/"),
        measure(world, "HEAD /api/projects/", "list", "HEAD", "/api/projects/", check=_count_is(n)),
    ]
    # Beyond the brief's list: filters and orderings that take the slow path (measured before the
    # writes so they see exactly n projects; shown after them).
    other = world.customers[1]
    extra_reads = [
        measure(
            world,
            "GET /api/projects/?o=name",
            "extra",
            "GET",
            "/api/projects/?o=name",
            check=_both(_count_is(n), _rows_are(PAGE_SIZE)),
            bounded=True,
        ),
        measure(
            world,
            "GET /api/projects/?name=<matches 10>",
            "extra",
            "GET",
            "/api/projects/?name=project%200001",
            check=_count_is(10),
            bounded=True,
        ),
        measure(
            world,
            "GET /api/projects/?customer=<uuid>,<uuid>",
            "extra",
            "GET",
            f"/api/projects/?customer={customer},{other}",
            check=_count_is(world.per_customer[customer] + world.per_customer[other]),
            bounded=True,
        ),
    ]
    results += [
        # Writes last: the reads above see exactly n projects.
        measure(
            world,
            "POST /api/projects/",
            "write",
            "POST",
            "/api/projects/",
            lambda: {"name": f"Bench new {next(counter)}", "customer": customer_url},
        ),
        measure(
            world,
            "PATCH /api/projects/<uuid>/",
            "write",
            "PATCH",
            f"/api/projects/{project}/",
            lambda: {"name": f"Bench renamed {next(renames)}"},
        ),
        # Beyond the brief's list.
        measure(
            world,
            "GET /api/users/me/ (token renewal due)",
            "extra",
            "GET",
            "/api/users/me/",
            before=lambda: refresh_token(world, due=True),
        ),
        measure(
            world,
            "PATCH /api/customers/<uuid>/ (description)",
            "extra",
            "PATCH",
            f"/api/customers/{world.customers[1]}/",
            lambda: {"description": f"Bench description {next(renames)}"},
        ),
        measure(
            world,
            "PATCH /api/customers/<uuid>/ (rename)",
            "extra",
            "PATCH",
            f"/api/customers/{world.customers[1]}/",
            lambda: {"name": f"Bench customer renamed {next(renames)}"},
        ),
    ]
    return results + measure_callers(world) + extra_reads + measure_events(world)


# --- the audit log ------------------------------------------------------------------------------
def seed_events(world: World, n: int, customer: str) -> None:
    """`n` events concerning `customer` (its feed and the staff index grow with n), written in the
    items `UnitOfWork.record` writes (store.outbox.event_items), 25 to a BatchWriteItem, and their
    counts."""
    from chalicelib.domain.events import make_event
    from chalicelib.store.items import BaseItem
    from chalicelib.store.outbox import event_items, load_counts

    events = [
        make_event(
            "customer_update_succeeded",
            f"Customer Bench customer {i:05d} has been updated.",
            world.ctx,
            {"customer_uuid": customer, "customer_name": f"Bench customer {i:05d}"},
            customer,
        )
        for i in range(n)
    ]
    with BaseItem.batch_write() as batch:
        for event in events:
            for item in event_items(event, 365):
                batch.save(item)
    # The counts `UnitOfWork.record` keeps with them (per feed and staff index shard, per month).
    load_counts(events, 365)


def measure_events(world: World) -> list[Result]:
    """`/api/events/` over a customer whose feed holds as many events as the table has projects."""
    from chalicelib.domain.roles import ScopeType

    customer = world.customers[2]
    seed_events(world, world.total, customer)
    owner_id, owner = _sign_up(world, "bench-events-owner")
    _grant(world, owner_id, ScopeType.CUSTOMER, customer, "CUSTOMER.OWNER")
    scope = f"scope=http%3A%2F%2Flocalhost%2Fapi%2Fcustomers%2F{customer}%2F"
    rows = [
        measure(
            world,
            "GET /api/events/?scope=<customer>",
            "events",
            "GET",
            f"/api/events/?{scope}",
            check=_rows_are(PAGE_SIZE),
        ),
        measure(
            owner,
            "GET /api/events/?scope=<customer> (non-staff owner)",
            "events",
            "GET",
            f"/api/events/?{scope}",
            check=_rows_are(PAGE_SIZE),
        ),
        measure(world, "GET /api/events/ (staff, every event)", "events", "GET", "/api/events/"),
        measure(
            world,
            "GET /api/events/<uuid>/",
            "events",
            "GET",
            lambda: f"/api/events/{json.loads(request(world, 'GET', '/api/events/').body)[0]['uuid']}/",
        ),
        measure(
            world, "GET /api/events/count/?scope=<customer>", "events", "GET", f"/api/events/count/?{scope}"
        ),
        measure(
            world,
            "GET /api/events/?scope=<customer>&event_type=<rare>",
            "events",
            "GET",
            f"/api/events/?{scope}&event_type=role_granted",
            bounded=True,
        ),
    ]
    return rows


# --- a caller without staff rights ------------------------------------------------------------
OWNED_PROJECTS = 3  # projects of the customer the non-staff caller owns (the same at every size)


def _sign_up(world: World, username: str) -> tuple[str, World]:
    """A non-staff user, signed in: their id, and the world as they call it."""
    from dataclasses import replace

    from chalicelib.domain.context import EventContext
    from chalicelib.domain.tokens import hash_key
    from chalicelib.services import auth, users

    password = f"{username}-secret-pw"
    user = users.register_user(
        EventContext(), {"username": username, "full_name": username.title()}, password
    )
    key = auth.login(username, password, EventContext(ip_address="127.0.0.1"))
    headers = {**world.headers, "Authorization": f"Token {key}"}
    return user.id, replace(world, headers=headers, key_hash=hash_key(key))


def _grant(world: World, user_id: str, scope_type: Any, scope_id: str, role: str) -> None:
    from chalicelib.services import memberships

    scope = memberships.find_scope(scope_type, scope_id)
    assert scope is not None
    memberships.add_user(world.ctx, scope, user_id, role, None)


def _authorised_once(result: Result) -> Result:
    """A non-staff request reads the caller's grants (one gsi1 Query) and the roles (one Query of the
    ROLES partition) once, however many checks it makes."""
    grants = sum(1 for c in result.calls if c.op == "Query" and c.target == "gsi1:USER")
    roles = sum(1 for c in result.calls if c.op == "Query" and c.target == "table:ROLES")
    if (grants, roles) != (1, 1):
        raise SystemExit(f"{result.label}: {grants} grant reads and {roles} role reads, expected 1 and 1")
    return result


def measure_callers(world: World) -> list[Result]:
    """The same costs for a caller without staff rights: PROJECT.ADMIN of one project (in a customer
    of the seeded 20) and CUSTOMER.OWNER of a customer of their own with OWNED_PROJECTS projects.
    Seeded after the staff rows, which therefore see exactly the 20 customers."""
    from chalicelib.domain.roles import ScopeType
    from chalicelib.services import customers as customer_service
    from chalicelib.services import projects as project_service

    owned = customer_service.create_customer(
        world.ctx, {"name": "Bench owned customer", "abbreviation": "BOC"}
    )
    for i in range(OWNED_PROJECTS):
        project_service.create_project(world.ctx, owned.id, {"name": f"Bench owned project {i}"})
    admin_project = world.projects[world.total // 3]
    caller_id, caller = _sign_up(world, "bench-member")
    _grant(world, caller_id, ScopeType.CUSTOMER, owned.id, "CUSTOMER.OWNER")
    _grant(world, caller_id, ScopeType.PROJECT, admin_project, "PROJECT.ADMIN")
    newcomers = iter([_sign_up(world, f"bench-newcomer-{i}")[0] for i in range(2)])
    # Beyond the brief's list: an owner of the customer holding a quarter of the projects.
    big_id, big_owner = _sign_up(world, "bench-big-owner")
    _grant(world, big_id, ScopeType.CUSTOMER, world.customers[0], "CUSTOMER.OWNER")

    who = "(non-staff)"
    rows = [
        measure(
            caller,
            f"GET /api/projects/<uuid>/ {who}",
            "caller",
            "GET",
            f"/api/projects/{admin_project}/",
        ),
        measure(
            caller,
            f"GET /api/projects/ {who}",
            "caller",
            "GET",
            "/api/projects/",
            check=_count_is(OWNED_PROJECTS + 1),
        ),
        measure(caller, f"GET /api/customers/ {who}", "caller", "GET", "/api/customers/", check=_count_is(2)),
        measure(
            caller,
            f"GET /api/customers/<uuid>/list_users/ {who}",
            "caller",
            "GET",
            f"/api/customers/{owned.id}/list_users/",
            check=_count_is(1),
        ),
        measure(
            caller,
            f"POST /api/customers/<uuid>/add_user/ {who}",
            "caller",
            "POST",
            f"/api/customers/{owned.id}/add_user/",
            lambda: {"user": next(newcomers), "role": "CUSTOMER.SUPPORT"},
        ),
        measure(
            big_owner,
            "GET /api/projects/ (non-staff, owner of the customer with a quarter of the projects)",
            "extra",
            "GET",
            "/api/projects/",
            check=_rows_are(PAGE_SIZE),
        ),
    ]
    return [_authorised_once(r) for r in rows]


def _check_projects_count(response: Any, expected: int) -> str | None:
    got = json.loads(response.body)["projects_count"]
    if got != expected:
        raise SystemExit(f"projects_count {got}, expected {expected}: quota usage out of step")
    return None


def _print_calls(n: int, results: list[Result]) -> None:
    print(f"\n### DynamoDB calls per measured request, {n} projects\n")
    print("Clients seen (id: created at):")
    for ident, origin in LOG.clients.items():
        print(f"- {ident:#x}: {origin}")
    print()
    for r in results:
        print(f"- {r.label} -> HTTP {r.status}")
        for c in r.calls:
            tag = " keys-only" if c.keys_only else ""
            where = f" {c.target}" if c.target else ""
            print(f"    {c.op:<18} items={c.items:<5} sends={c.sends} client={c.client:#x}{tag}{where}")
    print()


# --- report -----------------------------------------------------------------------------------
TARGETS = {"retrieve": 2, "estimate": 3, "list": 3, "deep": 3}


def print_table(sizes: list[int], by_size: dict[int, list[Result]], info: dict[int, dict[str, Any]]) -> None:
    large = sizes[-1]
    head = ["endpoint"]
    for n in sizes:
        head += [f"round trips @{n}", f"items read @{n}"]
    head += ["DynamoDB calls (largest size)"]
    print("## DynamoDB round trips and items read per request\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for i, first in enumerate(by_size[sizes[0]]):
        row = [first.label]
        for n in sizes:
            r = by_size[n][i]
            stopped = " (400: over the bound)" if r.status == 400 else ""
            row += [r.rt_text(), r.items_text() + stopped]
        row.append(by_size[large][i].ops)
        print("| " + " | ".join(row) + " |")
    print()
    deep = ", ".join(f"page {info[n]['deep_page']} of {info[n]['pages']} @{n}" for n in sizes)
    print(
        f"Page size {PAGE_SIZE}; {CUSTOMERS} customers (`?customer=` lists the one holding a quarter of "
        f"the projects; the rename row renames another, holding 3/76 of them); the deep page is {deep}. "
        "Round trips and items read exclude keys-only Queries (shown as `+ k keys-only` / `+ m keys`). "
        "Every request above also pays 1 GetItem for the token (items read include it). Each endpoint "
        "was called once unmeasured first; the token's sliding expiry was refreshed before each measured "
        "call (its write, at most once a minute per token, is measured on its own in the renewal row)."
    )
    retries = [(n, r.label) for n in sizes for r in by_size[n] if r.sends != len(r.calls)]
    if retries:
        print(f"\nRetries (sends beyond calls): {retries}")
    print()


def problems(sizes: list[int], per_size: list[Result]) -> list[str]:
    """What one endpoint breaks: growth with the table size, or its round-trip target."""
    label, kind = per_size[0].label, per_size[0].kind
    found = []
    if len({r.round_trips for r in per_size}) != 1:
        found.append(
            f"{label}: round trips change with table size ({', '.join(r.rt_text() for r in per_size)})"
        )
    if len({r.items for r in per_size}) != 1 and kind != "write":
        found.append(
            f"{label}: items read change with table size ({', '.join(str(r.items) for r in per_size)})"
        )
    limit = TARGETS.get(kind)
    if limit is not None:
        found += [
            f"{label} @{n}: {r.round_trips} round trips > {limit}"
            for n, r in zip(sizes, per_size, strict=True)
            if r.round_trips > limit
        ]
    return found


def report(sizes: list[int], by_size: dict[int, list[Result]], info: dict[int, dict[str, Any]]) -> bool:
    print_table(sizes, by_size, info)
    failures: list[str] = []
    extra_failures: list[str] = []
    for i, first in enumerate(by_size[sizes[0]]):
        sink = extra_failures if first.kind in ("extra", "events") else failures
        sink += problems(sizes, [by_size[n][i] for n in sizes])
    ok = not failures
    print(
        f"**{'PASS' if ok else 'FAIL'}**: retrieve ≤ {TARGETS['retrieve']} round trips (customer and "
        f"project ≤ {TARGETS['estimate']}, with their billing estimate), list page ≤ "
        f"{TARGETS['list']} (deep pages: plus keys-only reads), round trips and items read identical at "
        f"{' and '.join(map(str, sizes))} projects."
    )
    for f in failures:
        print(f"- {f}")
    if extra_failures:
        print("\n**Beyond the brief's endpoints, not constant:**")
        for f in extra_failures:
            print(f"- {f}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 5000], help="projects in the table")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every DynamoDB call")
    args = parser.parse_args()
    install_hooks()
    by_size: dict[int, list[Result]] = {}
    info: dict[int, dict[str, Any]] = {}
    for n in args.sizes:
        by_size[n], info[n] = run_size(n, args.verbose)
    return 0 if report(args.sizes, by_size, info) else 1


if __name__ == "__main__":
    sys.exit(main())
