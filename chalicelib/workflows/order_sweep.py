"""The hourly sweep of stranded orders (`marketplace.restart_stranded_orders`).

An order's workflow can end, or never start, while the order is still waiting: the request's start
and its queued retry both failed, or a Task state's SQS send kept failing past its retries into the
alarmed `Stranded` state (`statemachines/order.asl.json`). The sweep reads the open marks of
non-final orders (`store.orders.open_orders`: never the table) made more than `GRACE` ago, and for
each order the workflow waits on (pending-consumer, pending-provider, executing) that has not
changed for `GRACE` either, asks Step Functions about its execution:

- RUNNING (or PENDING_REDRIVE): nothing to do;
- none (never started, or its history expired): started under the order's execution name;
- FAILED with `Cirrus.OrderErred` while the order still executes: the workflow gave up on it, but
  its fire-and-forget `marketplace.fail_order` was lost (dead-lettered): the order is erred now,
  as the workflow decided (not processed again);
- ended otherwise (SUCCEEDED, FAILED, TIMED_OUT, ABORTED) with the order still open: the order's
  execution count is bumped (a versioned write of the order, no event) and the next execution
  started, as a retry after `erred` does, so the order's state stays the truth and the name says
  which run it is.

After a restart of the local stack (`make run` with a data directory, chalicelib/local/datadir.py)
no execution exists at all: `resume` runs the same sweep with no grace and no per-run bound, so
every waiting order gets its execution back at once.

Starting goes through `order_workflow.ensure_started` (it re-reads the order and starts nothing for
a final one); a start of a name that exists is a no-op, and two sweeps racing on one order bump its
count once (the write is conditioned on the version they read). So a second run restarts nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib import observability
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import id_bounds
from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import OrderState
from chalicelib.services import orders
from chalicelib.services.ports import unit_of_work
from chalicelib.store import keys
from chalicelib.store import orders as store
from chalicelib.workflows import order_workflow, stepfunctions
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task

TASK = "marketplace.restart_stranded_orders"
WORKFLOW = "order"
# An order made or changed this recently may have its start in flight (the request's, or the tasks
# queue's retry a few seconds later): left to the next run.
GRACE = timedelta(minutes=15)
PAGE_SIZE = 100  # open marks read per Query
# Orders looked at per run (a GetItem and a DescribeExecution each): a run stays within a worker's
# timeout and Step Functions' DescribeExecution rate; the first shard rotates with the hour, so a
# backlog larger than this is still covered within a few runs.
MAX_CHECKED = 1_000
# The states the workflow waits on; any other non-final state (pending-project, unused) is left.
WAITED = frozenset({OrderState.PENDING_CONSUMER, OrderState.PENDING_PROVIDER, OrderState.EXECUTING})
LIVE = frozenset({"RUNNING", "PENDING_REDRIVE"})
ERRED = "Cirrus.OrderErred"  # the order workflow's Failed state: it gave up on the order
LOST_ERRING = "The provider failed to process the order; its workflow gave up on it."


@task(TASK, queue=BACKGROUND_QUEUE)
def restart_stranded_orders(payload: dict[str, Any], ctx: EventContext) -> dict[str, int]:
    return sweep(utcnow(), ctx)


def resume(now: datetime, ctx: EventContext | None = None) -> dict[str, int]:
    """The sweep for a Step Functions that lost every execution (the local stack restarted from its
    data directory): every open order, however recent, whose execution is gone is started again.
    Nothing can be in flight then, so no grace is needed; all open orders are checked in one run."""
    return sweep(now, ctx, grace=timedelta(0), limit=None)


def sweep(
    now: datetime,
    ctx: EventContext | None = None,
    *,
    grace: timedelta = GRACE,
    limit: int | None = MAX_CHECKED,
) -> dict[str, int]:
    """Restart the workflow of every open order older than `grace` whose execution is gone or ended;
    returns (and logs) how many orders were checked, found running, restarted, erred (the workflow's
    lost erring), skipped (too recent, changed meanwhile, or not waited on), forgotten (final: a
    stale mark) or failed. At most `limit` orders are checked (None: all)."""
    cutoff = now - grace
    created_before = id_bounds(None, int(cutoff.timestamp() * 1000))[1]
    counts: Counter[str] = Counter()
    first_shard = now.hour % keys.OPEN_ORDER_SHARDS
    for customer_id, order_id in store.open_orders(created_before, PAGE_SIZE, first_shard):
        if limit is not None and counts["checked"] >= limit:
            counts["left_for_next_run"] = 1
            break
        counts["checked"] += 1
        counts[_settle(ctx or EventContext(), customer_id, order_id, cutoff)] += 1
    names = ("checked", "running", "restarted", "erred", "skipped", "forgotten")
    result = {name: counts[name] for name in names}
    result |= {name: n for name, n in counts.items() if name not in result}
    log = observability.logger()
    noteworthy = counts["restarted"] or counts["erred"] or counts["failed"]
    (log.warning if noteworthy else log.info)("stranded orders swept", extra=result)
    return result


def _settle(ctx: EventContext, customer_id: str, order_id: str, cutoff: datetime) -> str:
    """What the sweep did with one open order (a count's name)."""
    try:
        order = store.load(customer_id, order_id)
        if order is None or order.is_final:
            store.forget_open(order_id)
            return "forgotten"
        if order.state not in WAITED or order.modified > cutoff:
            return "skipped"
        status, error = stepfunctions.execution_status(WORKFLOW, order.execution_name)
        if status in LIVE:
            return "running"
        if error == ERRED and order.state is OrderState.EXECUTING:
            return "erred" if _err(ctx, order) else "skipped"
        if status is not None and _next_execution(order) is None:
            return "skipped"
        return "restarted" if _start(order) else "skipped"
    except Exception:  # one order's failure must not stop the sweep of the others
        observability.logger().exception("stranded order not restarted", extra={"order_uuid": order_id})
        return "failed"


def _next_execution(order: Order) -> Order | None:
    """Count one more execution of `order` (its next execution's name); None if it changed
    since it was read (a concurrent sweep, or a user's action: its own start follows)."""
    uow = unit_of_work()
    stored = store.save_transition(uow, order, replace(order, executions=order.executions + 1))
    try:
        uow.commit()
    except Conflict:
        return None
    return stored


def _err(ctx: EventContext, order: Order) -> bool:
    observability.logger().warning("erring an order its workflow gave up on", extra={"order_uuid": order.id})
    return orders.fail_executing(ctx, order.customer_id, order.id, LOST_ERRING) is not None


def _start(order: Order) -> bool:
    observability.logger().warning(
        "restarting a stranded order's workflow", extra={"order_uuid": order.id, "state": order.state.value}
    )
    context = {"customer_uuid": order.customer_id, "order_uuid": order.id}
    return order_workflow.ensure_started({"context": context})
