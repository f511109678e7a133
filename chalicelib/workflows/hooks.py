"""Background work of hooks, on the `background` queue: dispatching each published event to the
hooks that want it, and each delivery try (see `services/hook_delivery.py`)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.context import EventContext
from chalicelib.workflows.registry import BACKGROUND_QUEUE, task


@task("hooks.dispatch", queue=BACKGROUND_QUEUE)
def dispatch_event(payload: dict[str, Any], ctx: EventContext) -> int:
    """Queue one `hooks.deliver` per hook that wants the event and whose owner may see it. The
    publisher keys this task by the event's uuid, so an event is dispatched once."""
    from chalicelib.services import hook_delivery

    return hook_delivery.dispatch(payload["event"])


@task("hooks.deliver", queue=BACKGROUND_QUEUE)
def deliver_event(payload: dict[str, Any], ctx: EventContext) -> str:
    """One try of one delivery; a failure queues the next try itself, so this task never fails
    because the receiver did."""
    from chalicelib.services import hook_delivery

    return hook_delivery.deliver(payload)
