"""The monthly invoice run (Waldur's `create_monthly_invoices`, at 00:00 UTC on the 1st).

The schedule fires `billing.create_monthly_invoices` on the `heavy` queue. That task does no
billing itself: it reads the customers' ids (keys only; about 1,100 per Query, as the 1 MB read
limit counts whole items) and sends one `billing.invoice_customers` message per batch of
`CIRRUS_INVOICE_BATCH_SIZE` customers (default 50), ten messages per SendMessageBatch call. Each
batch runs on its own heavy worker (`run_month`: earlier pending invoices issued, this month's
opened with its items), so 100,000 customers are 2,000 messages and no worker handles more than
one batch. Every step is idempotent, so a batch that fails is simply delivered again (the queue's
redrive), and the whole run may be fired again for the same month
(`python -m chalicelib.ops invoices --year Y --month M`) to finish what a crash left undone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib import metrics, observability
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.workflows.registry import HEAVY_QUEUE, task

START_TASK = "billing.create_monthly_invoices"
BATCH_TASK = "billing.invoice_customers"
DEFAULT_BATCH_SIZE = 50


def batch_size() -> int:
    import os

    raw = os.environ.get("CIRRUS_INVOICE_BATCH_SIZE", "")
    return max(1, int(raw)) if raw.strip().isdigit() else DEFAULT_BATCH_SIZE


def _period(payload: dict[str, Any]) -> tuple[int, int]:
    now = utcnow()
    year = int(payload.get("year") or now.year)
    month = int(payload.get("month") or now.month)
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    return year, month


def customer_ids() -> Iterator[str]:
    """Every customer's id, read keys-only (ids only, in id order): the store's access pattern."""
    from chalicelib.store import customers

    return customers.every_id()


def batches(ids: Iterator[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for customer_id in ids:
        batch.append(customer_id)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@task(START_TASK, queue=HEAVY_QUEUE)
def create_monthly_invoices(payload: dict[str, Any], ctx: EventContext) -> int:
    """Fan the month's run out into batches of customers on `heavy`; returns how many batches."""
    from chalicelib.workflows.queues import enqueue_many

    year, month = _period(payload)
    size = int(payload.get("batch_size") or batch_size())
    period = f"{year:04d}-{month:02d}"
    messages = (
        (
            {"year": year, "month": month, "customer_ids": batch},
            f"invoices:{period}:{batch[0]}:{batch[-1]}:{len(batch)}",
        )
        for batch in batches(customer_ids(), size)
    )
    sent = enqueue_many(BATCH_TASK, messages, ctx)
    observability.logger().info("monthly invoice run queued", extra={"period": period, "batches": sent})
    metrics.emit(metrics.BILLING_RUNS, period=period, batches=sent)
    return sent


@task(BATCH_TASK, queue=HEAVY_QUEUE)
def invoice_customers(payload: dict[str, Any], ctx: EventContext) -> dict[str, int]:
    """One batch of the month's run."""
    from chalicelib.services import billing

    year, month = _period(payload)
    ids = [str(i) for i in payload.get("customer_ids") or []]
    period = f"{year:04d}-{month:02d}"
    try:
        report = billing.run_month(ctx, year, month, ids)
    except Exception:  # the consumer reports it and SQS retries the batch (its DLQ after the last)
        metrics.emit(metrics.BILLING_BATCH_FAILURES, period=period, customers=len(ids))
        raise
    billing.log_run(report, year, month)
    metrics.emit(metrics.BILLING_BATCHES, period=period, customers=report.customers, issued=report.issued)
    return {
        "customers": report.customers,
        "issued": report.issued,
        "invoices_made": report.invoices_made,
        "items_made": report.items_made,
    }
