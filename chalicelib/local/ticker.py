"""The local stand-in for EventBridge Scheduler: one thread that fires the schedule registry.

moto never fires EventBridge schedules, so the local stack runs this instead. Every few seconds it
enqueues each entry that is due, with the idempotency key `<schedule name>:<fire time>`: a fire that
is enqueued twice (a retried send) runs once. `rate(...)` entries fire once right away at start (so
work shows up as soon as the stack is up) and then every interval; `cron(...)` entries fire at their
times (UTC). Missed fires (the machine slept) are not replayed: the next one is taken from now, as
EventBridge does after an outage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from chalicelib import observability
from chalicelib.domain.clock import utcnow
from chalicelib.workflows import expressions
from chalicelib.workflows.schedules import SCHEDULES, Schedule

Enqueue = Callable[..., str]


def _default_enqueue(task: str, payload: dict[str, Any], *, idempotency_key: str) -> str:
    from chalicelib.workflows import queues

    return queues.enqueue(task, payload, idempotency_key=idempotency_key)


class Ticker:
    """`tick(now)` fires what is due at `now`; `start()` runs it every `interval` seconds in a
    thread until `stop()`."""

    def __init__(
        self,
        schedules: Iterable[Schedule] = SCHEDULES,
        *,
        interval: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
        enqueue: Enqueue = _default_enqueue,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.schedules = tuple(schedules)
        self._parsed = {s.name: expressions.parse(s.expression) for s in self.schedules}
        self._due: dict[str, datetime | None] = {}
        self.interval = interval
        self._clock = clock
        self._enqueue = enqueue
        self._announce = announce
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cirrus-ticker", daemon=True)

    def next_fires(self) -> dict[str, datetime | None]:
        """When each schedule fires next (None: never again); empty before the first tick."""
        return dict(self._due)

    def tick(self, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Enqueue every schedule due at `now`; returns (schedule name, fire time) for each fired."""
        now = now or self._clock()
        if not self._due:
            self._due = {s.name: self._first_fire(s, now) for s in self.schedules}
        fired = []
        for schedule in self.schedules:
            due = self._due[schedule.name]
            if due is None or due > now:
                continue
            if self._fire(schedule, due):
                fired.append((schedule.name, due))
                self._due[schedule.name] = self._after(schedule, due, now)
        return fired

    def _first_fire(self, schedule: Schedule, now: datetime) -> datetime | None:
        expression = self._parsed[schedule.name]
        return now if isinstance(expression, expressions.Rate) else expression.next_after(now)

    def _after(self, schedule: Schedule, fired: datetime, now: datetime) -> datetime | None:
        expression = self._parsed[schedule.name]
        if isinstance(expression, expressions.Rate):
            following = expression.next_after(fired)
            return following if following > now else expression.next_after(now)
        return expression.next_after(now)

    def _fire(self, schedule: Schedule, due: datetime) -> bool:
        key = f"{schedule.name}:{due.isoformat()}"
        try:
            self._enqueue(schedule.task, dict(schedule.payload), idempotency_key=key)
        except Exception:  # the endpoint may be briefly unavailable: keep it due, try next tick
            observability.logger().exception("schedule could not be enqueued", extra={"schedule": key})
            return False
        log = observability.logger()
        log.info("schedule fired", extra={"schedule": schedule.name, "task": schedule.task})
        if self._announce:
            self._announce(f"ticker: {schedule.name} ({schedule.expression}) -> {schedule.task}")
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                observability.logger().exception("ticker failed")
            self._stop.wait(self.interval)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
