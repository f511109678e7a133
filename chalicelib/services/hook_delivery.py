"""Delivering published events to hooks.

`dispatch(event)` (task `hooks.dispatch`, one per event, queued by the publisher) finds the active
hooks that want the event's type (one Query of the subscription index), keeps those whose owner is
active and may see the event now, and queues one `hooks.deliver` per hook.

`deliver(...)` (task `hooks.deliver`) makes one try: a signed POST for a web hook (to allowed
addresses only, see `webhooks.py`), an email for an email hook, and records the outcome on the hook:
a coarse `last_error` for its owner, the full reason in the log for the operator. A failed try
queues the next one with exponential backoff (base * 2^(try-1) seconds, at most 900) until
`hook_max_attempts`; after the last, the next try's envelope goes to the background queue's
dead-letter queue, so redriving it makes one more try. Both are effects (`services/effects.py`)
the workflow layer carries out. Each try is its own message with its own
idempotency key (`hook:<hook>:<event>:<try>`), and the task succeeds whatever the receiver said, so
SQS never repeats a finished try: a redelivered message of a try that already ran posts nothing.
Receivers still dedupe by `X-Cirrus-Event-Uuid`, since a worker that dies between the POST and its
bookkeeping makes SQS run that try again.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib import metrics, observability, webhooks
from chalicelib.config import get_settings
from chalicelib.domain import hooks as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.hooks import Hook, HookKind
from chalicelib.domain.rbac import Access, Grant
from chalicelib.domain.users import User
from chalicelib.services import access as access_service
from chalicelib.services import effects
from chalicelib.services.effects import Enqueue, SendToDeadLetter
from chalicelib.services.ports import grants as grant_store
from chalicelib.services.ports import hooks as store
from chalicelib.services.ports import mailer
from chalicelib.services.ports import users as user_store

DISPATCH_TASK = "hooks.dispatch"
DELIVER_TASK = "hooks.deliver"
DELIVERED, FAILED, SKIPPED = "delivered", "failed", "skipped"
# Scope types whose visibility rests only on grants in the event's customer (or on being the user).
_TENANT_SCOPES = frozenset({"customer", "project", "user"})


def delivery_key(hook_id: str, event_id: str, attempt: int) -> str:
    return f"hook:{hook_id}:{event_id}:{attempt}"


# --- dispatch --------------------------------------------------------------------------------------
def dispatch(document: Mapping[str, Any]) -> int:
    """Queue a delivery to every hook that should get this event; returns how many were queued.

    Runs in a copy of the context with a fresh per-request memo, so the owners' rights are read now
    and nothing memoised here outlives the event."""
    return contextvars.copy_context().run(_dispatch, document)


def _dispatch(document: Mapping[str, Any]) -> int:
    access_service.begin_request()
    subscriptions = store.subscribers(str(document["event_type"]))
    if not subscriptions:
        return 0
    owners = user_store.get_many([s.user_id for s in subscriptions])
    sees = _visibility(document, [u for u in owners.values() if u.is_active])
    deliveries: list[Enqueue] = []
    for sub in subscriptions:
        owner = owners.get(sub.user_id)
        if owner is None or not owner.is_active or not sees(owner):
            continue
        payload = {
            "kind": sub.kind.value,
            "user_uuid": sub.user_id,
            "hook_uuid": sub.hook_id,
            "event": dict(document),
            "try": 1,
        }
        key = delivery_key(sub.hook_id, str(document["uuid"]), 1)
        deliveries.append(Enqueue(DELIVER_TASK, payload, idempotency_key=key))
    effects.execute(*deliveries)
    queued = len(deliveries)
    observability.logger().info(
        "hooks dispatched",
        extra={"event_uuid": document["uuid"], "subscribed": len(subscriptions), "queued": queued},
    )
    return queued


def _visibility(document: Mapping[str, Any], owners: list[User]) -> Callable[[User], bool]:
    """Whether each owner may see the event now (`Access.sees_event`, as `/api/events/` decides).

    An event only about users needs no grants (a user's log is their own). An event of one tenant
    whose scopes are its customer, its projects and users is decided by the grants in that customer
    alone, so one Query of the customer's grants serves every owner (cost bounded by the tenant,
    not by the subscribers). Any other event reads each non-staff owner's grants (one gsi1 Query
    per owner)."""
    scopes = [(str(t), str(i)) for t, i in document.get("scopes") or []]
    customer_id = document.get("customer_uuid")
    in_customer: dict[str, list[Grant]] = {}
    if any(t != "user" for t, _ in scopes) and not all(o.is_staff or o.is_support for o in owners):
        if customer_id is None or any(t not in _TENANT_SCOPES for t, _ in scopes):
            return lambda owner: access_service.access(owner.principal()).sees_event(scopes, customer_id)
        for grant in grant_store.for_customer(str(customer_id)):
            in_customer.setdefault(grant.user_id, []).append(grant)
    roles, now = (access_service.all_roles() if in_customer else {}), utcnow()

    def sees(owner: User) -> bool:
        rights = Access(owner.principal(), tuple(in_customer.get(owner.id, ())), roles, now)
        return rights.sees_event(scopes, customer_id)

    return sees


# --- one try ---------------------------------------------------------------------------------------
def deliver(payload: Mapping[str, Any], resolver: webhooks.Resolver = webhooks.resolve) -> str:
    """Make try `payload["try"]` of one delivery; returns delivered, failed or skipped. `resolver`
    turns a web hook's host name into the addresses vetted and connected to."""
    document = payload["event"]
    attempt = int(payload.get("try", 1))
    hook = store.get(str(payload["user_uuid"]), HookKind(payload["kind"]), str(payload["hook_uuid"]))
    if hook is None or not hook.wants(str(document["event_type"])):
        observability.logger().info(
            "hook delivery skipped", extra={"hook": payload["hook_uuid"], "event_uuid": document["uuid"]}
        )
        return SKIPPED
    outcome = _send(hook, document, resolver)
    now = utcnow()
    if outcome.error is None:
        _bookkeep(store.record_success, hook, now)
        return DELIVERED
    observability.logger().warning(
        "hook delivery failed",
        extra={"hook": hook.id, "event_uuid": document["uuid"], "try": attempt, "reason": outcome.detail},
    )
    metrics.emit(
        metrics.HOOK_DELIVERY_FAILURES, hook_uuid=hook.id, event_uuid=document["uuid"], attempt=attempt
    )
    _bookkeep(store.record_failure, hook, now, domain.short_error(outcome.error))
    _schedule_next(hook, payload, attempt, outcome.error)
    return FAILED


def _send(hook: Hook, document: Mapping[str, Any], resolver: webhooks.Resolver) -> webhooks.Outcome:
    """One try."""
    if hook.kind is HookKind.EMAIL:
        subject, body = domain.email_message(document)
        try:
            mailer.send_email(hook.email, subject, body)
        except Exception as exc:  # any mailer failure is this try's failure, recorded on the hook
            return webhooks.Outcome(domain.MAIL_NOT_SENT, f"{type(exc).__name__}: {exc}")
        return webhooks.Outcome()
    settings = get_settings()
    raw, media_type = domain.encode(hook.content_type, domain.payload(document))
    timestamp = int(utcnow().timestamp())
    headers = {
        "Content-Type": media_type,
        "User-Agent": f"Cirrus-Hooks/{settings.version}",
        domain.SIGNATURE_HEADER: domain.signature(hook.secret, timestamp, raw),
        domain.EVENT_UUID_HEADER: str(document["uuid"]),
    }
    timeout, allowed = settings.hook_timeout_seconds, settings.hook_allowed_networks
    return webhooks.post(hook.destination_url, raw, headers, timeout, allowed, resolver)


def _bookkeep(record: Any, *args: Any) -> None:
    """The try happened; failing to note it must not make SQS repeat it (a second POST)."""
    try:
        record(*args)
    except Exception:
        observability.logger().exception("hook delivery not recorded", extra={"hook": args[0].id})


def _schedule_next(hook: Hook, payload: Mapping[str, Any], attempt: int, error: str) -> None:
    settings = get_settings()
    event_id = str(payload["event"]["uuid"])
    following = {**payload, "try": attempt + 1}
    key = delivery_key(hook.id, event_id, attempt + 1)
    if attempt < settings.hook_max_attempts:
        delay = domain.retry_delay(attempt, settings.hook_retry_base_seconds)
        effects.execute(Enqueue(DELIVER_TASK, following, idempotency_key=key, delay_seconds=delay))
        return
    effects.execute(SendToDeadLetter(DELIVER_TASK, following, idempotency_key=key))
    metrics.emit(metrics.HOOK_DELIVERIES_ABANDONED, hook_uuid=hook.id, event_uuid=event_id, tries=attempt)
    observability.logger().error(
        "hook delivery gave up; its next try is in the dead-letter queue",
        extra={"hook": hook.id, "event_uuid": event_id, "tries": attempt, "error": error},
    )
