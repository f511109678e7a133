"""Fakes of the audit log's reading side and of hooks (ports.Events, ports.Hooks).

`FakeEvents` reads what the fake units of work recorded (`world.events`): a scope's feed holds the
events whose `scopes` name it, the staff's log every event; newest first unless asked otherwise (ids
are time-ordered, as the store's sort keys are); a filter reads the id range with the store's bound
(`filter_read_limit`) and its 400. Totals are exact, as the store's are once the stream has counted
(the store's lagging totals are never smaller than what a page shows).

`FakeHooks` keeps hooks by (kind, id); the subscriptions dispatch reads are worked out from them
(the store keeps them as an index, a superset at worst, that delivery re-checks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from chalicelib.config import get_settings
from chalicelib.domain.errors import TooBroad
from chalicelib.domain.events import Event
from chalicelib.domain.hooks import Hook, HookKind, Subscription, sorted_newest_first
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import EventQuery, UnitOfWork
from chalicelib.store.events import NARROW_WITH
from chalicelib.store.pages import TOO_BROAD
from tests.fakes.world import World, lost_race, work


class FakeEvents:
    def __init__(self, world: World) -> None:
        self._world = world

    def _in_range(self, query: EventQuery) -> list[Event]:
        low, high = query.id_range
        found = [
            e
            for e in self._world.events
            if low <= e.id <= high and (query.feed is None or query.feed in e.scopes)
        ]
        return sorted(found, key=lambda e: e.id, reverse=query.newest_first)

    def _found(self, query: EventQuery) -> list[Event]:
        events = self._in_range(query)
        if query.predicate is None:
            return events
        limit = get_settings().filter_read_limit
        if len(events) > limit:
            raise TooBroad(TOO_BROAD.format(what="events", limit=limit, hint=f" with {NARROW_WITH}"))
        test = query.predicate
        return [e for e in events if test(e)]

    def page(self, query: EventQuery, request: PageRequest) -> Page[Event]:
        return paginate(self._found(query), request)

    def count(self, query: EventQuery) -> int:
        return len(self._found(query))

    def get(self, event_id: str) -> tuple[Event, list[tuple[str, str]]] | None:
        for event in self._world.events:
            if event.id == event_id:
                return event, list(event.scopes)
        return None


class FakeHooks:
    def __init__(self, world: World) -> None:
        self._hooks = world.table("hooks")  # (kind, id) -> Hook

    def get(self, user_id: str, kind: HookKind, hook_id: str) -> Hook | None:
        found = self._hooks.get((kind, hook_id))
        return found if found is not None and found.user_id == user_id else None

    def load(self, kind: HookKind, hook_id: str) -> Hook | None:
        return self._hooks.get((kind, hook_id))

    def for_user(self, user_id: str, kind: HookKind | None = None) -> list[Hook]:
        """Oldest first, the store's order within the owner's partition (by kind, then id)."""
        mine = [h for h in self._hooks.values() if h.user_id == user_id and kind in (None, h.kind)]
        return sorted(mine, key=lambda h: (h.kind.value, h.id))

    def read_all(self, kind: HookKind) -> list[Hook]:
        return sorted_newest_first([h for h in self._hooks.values() if h.kind is kind])

    def page_all(self, kind: HookKind, request: PageRequest) -> Page[Hook]:
        return paginate(self.read_all(kind), request)

    def subscribers(self, event_type: str) -> list[Subscription]:
        wanting = sorted((h for h in self._hooks.values() if h.wants(event_type)), key=lambda h: h.id)
        return [Subscription(h.id, h.user_id, h.kind) for h in wanting]

    def add(self, uow: UnitOfWork, hook: Hook) -> None:
        key = (hook.kind, hook.id)
        work(uow).stage(
            "hooks",
            key,
            lambda: lost_race() if key in self._hooks else None,
            lambda: self._hooks.__setitem__(key, hook),
        )

    def save_changes(self, uow: UnitOfWork, before: Hook, after: Hook) -> None:
        key = (before.kind, before.id)

        def unchanged() -> bool:
            found = self._hooks.get(key)
            return found is not None and found.version == before.version

        def apply() -> None:
            # An edit leaves the delivery bookkeeping as it is stored (the store sets edited fields only).
            found = self._hooks[key]
            self._hooks[key] = replace(
                after,
                version=before.version + 1,
                last_published=found.last_published,
                last_failure=found.last_failure,
                last_error=found.last_error,
                failure_count=found.failure_count,
            )

        work(uow).stage("hooks", key, lambda: None if unchanged() else lost_race(), apply)

    def remove(self, uow: UnitOfWork, hook: Hook) -> None:
        key = (hook.kind, hook.id)
        work(uow).stage(
            "hooks",
            key,
            lambda: None if key in self._hooks else lost_race(),
            lambda: self._hooks.pop(key, None) and None,
        )

    def remove_all(self, uow: UnitOfWork, hooks: list[Hook]) -> None:
        for hook in hooks:
            key = (hook.kind, hook.id)
            work(uow).stage("hooks", key, None, self._dropper(key))

    def _dropper(self, key: tuple[HookKind, str]) -> Callable[[], None]:
        return lambda: self._hooks.pop(key, None) and None

    def record_success(self, hook: Hook, when: datetime) -> None:
        self._bookkeep(hook, lambda h: replace(h, last_published=when, failure_count=0))

    def record_failure(self, hook: Hook, when: datetime, error: str) -> None:
        self._bookkeep(
            hook,
            lambda h: replace(h, last_failure=when, last_error=error, failure_count=h.failure_count + 1),
        )

    def _bookkeep(self, hook: Hook, change: Callable[[Hook], Hook]) -> None:
        """Not an edit (no version bump); a hook deleted meanwhile keeps no record."""
        key = (hook.kind, hook.id)
        found = self._hooks.get(key)
        if found is not None:
            self._hooks[key] = change(found)
