"""Business metrics as CloudWatch embedded metric format (EMF): one JSON line on stdout per
emission, which CloudWatch Logs turns into a metric of namespace `Cirrus` with the dimension
`stage` (nothing to call, no IAM: Lambda's stdout is the function's log group).

Each metric is emitted where its change commits, right after the transaction (or, for a task, the
work) it counts, so a delivery that changes nothing emits nothing: an order transition is a
conditional write that a repeat or a race loses (Conflict) before anything is emitted, and the
task consumer runs a delivery of a task once (its idempotency claim). What can still miss or
repeat: a process that dies between its commit and the print loses that one emission; a hook try
whose worker dies after the POST and before its bookkeeping is tried, and counted, again.

`POWERTOOLS_METRICS_DISABLED=true` (the local stack and the tests set it; `POWERTOOLS_DEV` too)
prints nothing. `capture()` hands the tests every EMF document emitted meanwhile, printed or not.

The operations side (alarms, the dashboard) reads the names from `METRICS`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

NAMESPACE = "Cirrus"
# The one dimension every metric has: the stage (CIRRUS_STAGE: `prod`, `dev`; `local` locally).
DIMENSION = "stage"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # CloudWatch's unit names
    description: str


ORDERS_PLACED = Metric("OrdersPlaced", "Count", "orders placed (Create, Update and Terminate)")
ORDERS_DONE = Metric("OrdersDone", "Count", "orders that reached done")
ORDERS_ERRED = Metric("OrdersErred", "Count", "orders that erred (the provider, or the workflow gave up)")
ORDER_TIME_TO_DONE = Metric(
    "OrderTimeToDone", "Seconds", "seconds from an order's creation to done, one value per order done"
)
HOOK_DELIVERY_FAILURES = Metric(
    "HookDeliveryFailures", "Count", "tries of a web or email hook that failed (each is retried)"
)
HOOK_DELIVERIES_ABANDONED = Metric(
    "HookDeliveriesAbandoned", "Count", "hook deliveries whose last try failed (next one dead-lettered)"
)
BILLING_RUNS = Metric("BillingRuns", "Count", "monthly invoice runs fanned out into batches")
BILLING_BATCHES = Metric("BillingBatches", "Count", "batches of customers invoiced")
BILLING_BATCH_FAILURES = Metric(
    "BillingBatchFailures", "Count", "tries of a batch that failed (SQS retries it, then its DLQ)"
)

METRICS: tuple[Metric, ...] = (
    ORDERS_PLACED,
    ORDERS_DONE,
    ORDERS_ERRED,
    ORDER_TIME_TO_DONE,
    HOOK_DELIVERY_FAILURES,
    HOOK_DELIVERIES_ABANDONED,
    BILLING_RUNS,
    BILLING_BATCHES,
    BILLING_BATCH_FAILURES,
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)

_captures: list[list[dict[str, Any]]] = []
_lock = threading.Lock()


def emit(metric: Metric, value: float = 1, **properties: Any) -> None:
    """Emit one value of `metric`. `properties` (an order's uuid, ...) and the current log scope's
    correlation id go into the line as EMF properties: searchable in Logs Insights, not dimensions
    (which would make a metric per value). Never raises: a metric is not worth failing the work."""
    try:
        with _lock:
            capturing = bool(_captures)
        if not capturing and _disabled():
            return
        document = _document(metric, value, properties)
        with _lock:
            for sink in _captures:
                sink.append(document)
        if not _disabled():
            print(json.dumps(document, separators=(",", ":"), default=str), flush=True)
    except Exception:
        from chalicelib import observability

        observability.logger().exception("metric not emitted", extra={"metric": metric.name})


def order_placed(order_id: str) -> None:
    emit(ORDERS_PLACED, order_uuid=order_id)


def order_done(order_id: str, created: datetime, done: datetime) -> None:
    emit(ORDERS_DONE, order_uuid=order_id)
    emit(ORDER_TIME_TO_DONE, max(0.0, (done - created).total_seconds()), order_uuid=order_id)


def order_erred(order_id: str) -> None:
    emit(ORDERS_ERRED, order_uuid=order_id)


def _disabled() -> bool:
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    return bool(is_metrics_disabled())


def _document(metric: Metric, value: float, properties: dict[str, Any]) -> dict[str, Any]:
    """The EMF document, built by powertools (its validation of names, units and values)."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    from chalicelib import observability
    from chalicelib.config import get_settings

    # No service (powertools would add it as a second dimension, from POWERTOOLS_SERVICE_NAME).
    provider = AmazonCloudWatchEMFProvider(namespace=NAMESPACE, service="")
    provider.add_metric(name=metric.name, unit=metric.unit, value=value)
    provider.add_dimension(name=DIMENSION, value=get_settings().stage)
    correlation_id = observability.correlation_id()
    for key, item in {**properties, "correlation_id": correlation_id}.items():
        if item is not None:
            provider.add_metadata(key=key, value=item)
    return dict(provider.serialize_metric_set())


class Captured(list[dict[str, Any]]):
    """EMF documents emitted while capturing, in order."""

    def values(self, name: str) -> list[float]:
        """Every value emitted of metric `name`."""
        found: list[float] = []
        for document in self:
            value = document.get(name)
            if value is not None:
                found.extend(value if isinstance(value, list) else [value])
        return found

    def names(self) -> list[str]:
        """The metric of each document, in emission order."""
        return [d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] for d in self]


@contextmanager
def capture() -> Iterator[Captured]:
    """Collect every EMF document emitted meanwhile (by any thread), printed or not."""
    sink = Captured()
    with _lock:
        _captures.append(sink)
    try:
        yield sink
    finally:
        with _lock:
            _captures.remove(sink)
