"""The task registry (`@task("name", queue="heavy")`), Celery's task decorator in Cirrus form."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.context import EventContext

TASKS_QUEUE, HEAVY_QUEUE, BACKGROUND_QUEUE = "tasks", "heavy", "background"
QUEUES: tuple[str, ...] = (TASKS_QUEUE, HEAVY_QUEUE, BACKGROUND_QUEUE)

# Modules whose import registers tasks; the consumer and the local stack load them all.
TASK_MODULES: tuple[str, ...] = (
    "chalicelib.workflows.maintenance",
    "chalicelib.workflows.steps",
    "chalicelib.workflows.invitations",
    "chalicelib.workflows.hooks",
    "chalicelib.workflows.marketplace",
    "chalicelib.workflows.marketplace_support",
    "chalicelib.workflows.order_sweep",
    "chalicelib.workflows.billing",
    "chalicelib.workflows.customers",
    "chalicelib.workflows.support",
    "chalicelib.workflows.support_sync",
    "chalicelib.workflows.analytics",
    "chalicelib.workflows.providers",
)

Handler = Callable[[dict[str, Any], EventContext], Any]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    queue: str
    handler: Handler


TASKS: dict[str, TaskSpec] = {}


def task(name: str, queue: str = TASKS_QUEUE) -> Callable[[Handler], Handler]:
    """Register `handler(payload, ctx)` as task `name`, delivered through `queue`."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; queues are {QUEUES}")

    def register(handler: Handler) -> Handler:
        existing = TASKS.get(name)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"task {name!r} is registered twice")
        TASKS[name] = TaskSpec(name, queue, handler)
        return handler

    return register


def load_all() -> dict[str, TaskSpec]:
    for module in TASK_MODULES:
        importlib.import_module(module)
    return TASKS


def get(name: str) -> TaskSpec:
    load_all()
    try:
        return TASKS[name]
    except KeyError:
        raise LookupError(f"no task named {name!r}") from None
