"""Hooks in their owner's partition, and the index dispatch reads.

- `USER#<u>` / `HOOK#<kind>#<h>`: the hook itself (a user's hooks of one kind are one Query).
- gsi1 `HOOKS` / `<kind>#<h>`: finds a hook from its kind and id alone (the URL carries only the
  id; the route names the kind) and lists every hook of a kind for staff, newest first.
- `HOOKSUB#<event type>` / `<h>`: one item per active hook and event type it wants, carrying the
  owner and kind. Dispatching an event is one Query of its type's partition, whatever the number
  of users and hooks; each hook costs one item per event type it wants, written with the hook.

The subscription items are an index of the hook items, kept a superset of the truth: what a change
adds is written no later than the hook, what it removes no earlier. When the changes do not fit in
the hook's transaction, additions go first and removals after the commit; a delivery re-reads its
hook and skips one that no longer wants the event, so an index entry left behind costs a read,
never a wrong delivery.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.domain.errors import Conflict
from chalicelib.domain.hooks import ContentType, Hook, HookKind, Subscription
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, HookItem, HookSubscriptionItem
from chalicelib.store.pages import Listing
from chalicelib.store.unit_of_work import LOST_RACE, MAX_ITEMS, transaction

# Every hook of a kind (the staff list's total without counting).
COUNTERS = counters.HOOKS  # kept by the stream consumer (store/counters.py)
# Index writes that ride in the hook's own transaction; beyond that they go around it.
_INDEX_BUDGET = MAX_ITEMS - 10


def _from_item(item: HookItem) -> Hook:
    return Hook(
        id=item.hook_id,
        user_id=item.user_id,
        kind=HookKind(item.kind),
        created=item.created,
        modified=item.modified,
        event_types=tuple(item.event_types or ()),
        event_groups=tuple(item.event_groups or ()),
        is_active=bool(item.is_active),
        destination_url=item.destination_url or "",
        content_type=ContentType(item.content_type or ContentType.JSON.value),
        email=item.email or "",
        secret=item.secret or "",
        last_published=item.last_published,
        last_failure=item.last_failure,
        last_error=item.last_error or "",
        failure_count=int(item.failure_count or 0),
        version=int(item.version),
    )


def _key(hook: Hook) -> HookItem:
    return HookItem(pk=keys.user_pk(hook.user_id), sk=keys.hook_sk(hook.kind.value, hook.id))


def _item(hook: Hook) -> HookItem:
    return HookItem(
        pk=keys.user_pk(hook.user_id),
        sk=keys.hook_sk(hook.kind.value, hook.id),
        gsi1pk=keys.HOOKS,
        gsi1sk=keys.hook_lookup_sk(hook.kind.value, hook.id),
        hook_id=hook.id,
        user_id=hook.user_id,
        kind=hook.kind.value,
        created=hook.created,
        modified=hook.modified,
        is_active=hook.is_active,
        event_types=list(hook.event_types),
        event_groups=list(hook.event_groups),
        destination_url=hook.destination_url,
        content_type=hook.content_type.value,
        email=hook.email,
        secret=hook.secret,
        last_published=hook.last_published,
        last_failure=hook.last_failure,
        last_error=hook.last_error,
        failure_count=hook.failure_count,
        version=hook.version,
    )


def _subscription(hook: Hook, event_type: str) -> HookSubscriptionItem:
    return HookSubscriptionItem(
        pk=keys.hook_subscription_pk(event_type),
        sk=hook.id,
        hook_id=hook.id,
        user_id=hook.user_id,
        kind=hook.kind.value,
    )


# --- reads ---------------------------------------------------------------------------------------
def get(user_id: str, kind: HookKind, hook_id: str) -> Hook | None:
    """Read consistently from the owner's partition."""
    try:
        item = HookItem.get(keys.user_pk(user_id), keys.hook_sk(kind.value, hook_id), consistent_read=True)
    except HookItem.DoesNotExist:
        return None
    return _from_item(item)


def load(kind: HookKind, hook_id: str) -> Hook | None:
    """By kind and id: gsi1 names the owner, then a consistent read of the hook (two round trips)."""
    lookup = BaseItem.gsi1.query(keys.HOOKS, BaseItem.gsi1sk == keys.hook_lookup_sk(kind.value, hook_id))
    for item in lookup:
        if isinstance(item, HookItem):
            return get(item.user_id, kind, hook_id)
    return None


def for_user(user_id: str, kind: HookKind | None = None) -> list[Hook]:
    """A user's hooks (of one kind, or all), oldest first: one Query of their partition."""
    prefix = keys.hook_kind_prefix(kind.value) if kind else keys.HOOK_PREFIX
    found = BaseItem.query(keys.user_pk(user_id), BaseItem.sk.startswith(prefix), consistent_read=True)
    return [_from_item(i) for i in found if isinstance(i, HookItem)]


def _listing_all(kind: HookKind) -> Listing:
    return Listing(
        partition=keys.HOOKS,
        prefix=keys.hook_lookup_prefix(kind.value),
        index="gsi1",
        forward=False,
        item_type=HookItem,
    )


def page_all(kind: HookKind, request: PageRequest) -> Page[Hook]:
    """Staff's unfiltered list of one kind, newest first: one Query of gsi1 and the counter (kept
    from the stream: it lags, so it never cuts a page short)."""
    listing = pages.platform_total(_listing_all(kind), COUNTERS[kind])
    found = pages.fetch_page(listing, request.page, request.page_size)
    return Page([_from_item(i) for i in found.items], found.total)


def read_all(kind: HookKind) -> list[Hook]:
    """Every hook of a kind (staff's filtered lists and the summary: a documented slow path)."""
    return [_from_item(i) for i in pages.read_all(_listing_all(kind))]


def subscribers(event_type: str) -> list[Subscription]:
    """The active hooks that want `event_type`: one Query (eventually consistent: a hook made or
    changed a moment ago may miss an event that happened in that moment)."""
    found = HookSubscriptionItem.query(keys.hook_subscription_pk(event_type))
    return [
        Subscription(i.hook_id, i.user_id, HookKind(i.kind))
        for i in found
        if isinstance(i, HookSubscriptionItem)
    ]


# --- writes --------------------------------------------------------------------------------------
def add(uow: Work, hook: Hook) -> None:
    transaction(uow).put(_item(hook), condition=HookItem.pk.does_not_exist())
    _reindex(uow, hook, set(), set(hook.subscriptions()))


def save_changes(uow: Work, before: Hook, after: Hook) -> None:
    """Write an edit, if nobody edited the hook meanwhile (else 409), and move its index entries."""
    actions: list[Action] = [
        HookItem.version.add(1),
        HookItem.modified.set(after.modified),
        HookItem.is_active.set(after.is_active),
        HookItem.event_types.set(list(after.event_types)),
        HookItem.event_groups.set(list(after.event_groups)),
        HookItem.destination_url.set(after.destination_url),
        HookItem.content_type.set(after.content_type.value),
        HookItem.email.set(after.email),
        HookItem.secret.set(after.secret),
    ]
    transaction(uow).update(
        _key(before),
        actions,
        condition=HookItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )
    _reindex(uow, after, set(before.subscriptions()), set(after.subscriptions()))


def remove(uow: Work, hook: Hook) -> None:
    transaction(uow).delete(_key(hook), condition=HookItem.pk.exists(), on_conflict=Conflict(LOST_RACE))
    _reindex(uow, hook, set(hook.subscriptions()), set())


def remove_all(uow: Work, hooks: list[Hook]) -> None:
    """Delete `hooks` in `uow` (with their owner): one write per hook (the stream consumer counts
    them out); their index entries are deleted after the commit (an entry left behind names an
    owner who is gone, and dispatch skips it)."""
    for hook in hooks:
        transaction(uow).delete(_key(hook))
    stale = [_subscription(h, t) for h in hooks for t in sorted(h.subscriptions())]
    if stale:
        transaction(uow).on_commit.append(lambda: _batch(stale, put=False))


def _reindex(uow: Work, hook: Hook, before: set[str], after: set[str]) -> None:
    added = [_subscription(hook, t) for t in sorted(after - before)]
    removed = [_subscription(hook, t) for t in sorted(before - after)]
    if len(added) + len(removed) <= _INDEX_BUDGET:
        for item in added:
            transaction(uow).put(item)
        for item in removed:
            transaction(uow).delete(item)
        return
    _batch(added, put=True)  # a superset first: an early entry is skipped at delivery
    transaction(uow).on_commit.append(lambda: _batch(removed, put=False))


def _batch(items: list[HookSubscriptionItem], *, put: bool) -> None:
    with HookSubscriptionItem.batch_write() as batch:
        for item in items:
            if put:
                batch.save(item)
            else:
                batch.delete(item)


def record_success(hook: Hook, when: datetime) -> None:
    """A delivery went through: `last_published`, and the failure streak ends (no version bump)."""
    _bookkeep(hook, [HookItem.last_published.set(when), HookItem.failure_count.set(0)])


def record_failure(hook: Hook, when: datetime, error: str) -> None:
    _bookkeep(
        hook,
        [
            HookItem.last_failure.set(when),
            HookItem.last_error.set(error),
            HookItem.failure_count.add(1),
        ],
    )


def _bookkeep(hook: Hook, actions: list[Action]) -> None:
    try:
        _key(hook).update(actions=actions, condition=HookItem.pk.exists(), add_version_condition=False)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise  # a deleted hook keeps no record; anything else is a real failure
