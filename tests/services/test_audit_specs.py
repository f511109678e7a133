"""The audit log and hooks as services, on the in-memory fakes (no AWS): who reads which feed, the
staff's log, event filters; creating, changing and deleting web and email hooks, who may; delivery
to an email hook and its bookkeeping; dispatch of an event about users."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from chalicelib.domain import clock
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import NotFound, TooBroad, ValidationError
from chalicelib.domain.events import Event
from chalicelib.domain.hooks import MAIL_NOT_SENT, HookKind
from chalicelib.domain.ids import new_id
from chalicelib.domain.rbac import Grant
from chalicelib.domain.roles import CUSTOMER_OWNER, SYSTEM_ROLES, ScopeType
from chalicelib.services import events, hook_delivery, hooks, ports
from chalicelib.services.effects import Enqueue, SendToDeadLetter
from chalicelib.services.events import EventFilters
from chalicelib.services.hooks import HookFilters
from chalicelib.services.paging import PageRequest
from tests.fakes import World
from tests.fakes.mail import FakeMailer, SentMail

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ACME, BETA = "a" * 32, "b" * 32
STAFF = Principal(user_id="5" * 32, username="staff", is_staff=True)
SUPPORT = Principal(user_id="6" * 32, username="support", is_support=True)
ALICE = Principal(user_id="1" * 32, username="alice")
BOB = Principal(user_id="2" * 32, username="bob")
CUSTOMER_UPDATED, PROJECT_CREATED = "customer_update_succeeded", "project_creation_succeeded"


@pytest.fixture
def world(fakes: World) -> World:
    clock.set_source(lambda: NOW)
    return fakes


Give = Callable[[Grant], None]


@pytest.fixture
def granted(world: World) -> Give:
    """Gives a grant (its customer made first, when new), as memberships' services would."""

    def give(grant: Grant) -> None:
        if ports.customers.get(grant.customer_id) is None:
            made = ports.unit_of_work()
            ports.customers.add(made, Customer(id=grant.customer_id, name=grant.customer_id[:8], created=NOW))
            made.commit()
        uow = ports.unit_of_work()
        ports.grants.add(uow, grant, ports.grants.member_grants(grant.customer_id, grant.user_id))
        uow.commit()

    return give


def _owner(customer_id: str, who: Principal) -> Grant:
    return Grant(
        id=new_id(),
        user_id=who.user_id,
        role_id=SYSTEM_ROLES[CUSTOMER_OWNER].id,
        scope_type=ScopeType.CUSTOMER,
        scope_id=customer_id,
        customer_id=customer_id,
        created=NOW,
    )


def _record(*recorded: Event) -> list[Event]:
    uow = ports.unit_of_work()
    for event in recorded:
        uow.record(event)
    uow.commit()
    return list(recorded)


_made = [0]


def _customer_event(
    customer_id: str, message: str, event_type: str = CUSTOMER_UPDATED, **context: str
) -> Event:
    """An event of `customer_id`, a second after the one made before (its id says when, as ids do)."""
    _made[0] += 1
    moment = NOW + timedelta(seconds=_made[0])
    ms = f"{int(moment.timestamp() * 1000):012x}"
    fields = {"customer_uuid": customer_id, **context}
    return Event(event_type, message, fields, customer_id, id=ms + new_id()[12:], created=moment)


def _messages(principal: Principal, filters: EventFilters, page: PageRequest | None = None) -> list[str]:
    return [e.message for e in events.list_events(principal, filters, page or PageRequest()).items]


# --- who reads which feed ---------------------------------------------------------------------------
def test_staff_and_support_read_the_whole_log_newest_first(world: World) -> None:
    _record(_customer_event(ACME, "one"), _customer_event(BETA, "two"))
    _record(_customer_event(ACME, "three"))
    for reader in (STAFF, SUPPORT):
        found = events.list_events(reader, EventFilters(), PageRequest(1, 2))
        assert ([e.message for e in found.items], found.total) == (["three", "two"], 3)
        assert _messages(reader, EventFilters(newest_first=False)) == ["one", "two", "three"]
        assert events.count_events(reader, EventFilters()) == 3


def test_without_a_scope_others_read_nothing_of_the_log(world: World, granted: Give) -> None:
    _record(_customer_event(ACME, "one"))
    granted(_owner(ACME, ALICE))
    found = events.list_events(ALICE, EventFilters(), PageRequest())
    assert (found.items, found.total) == ([], 0)
    assert events.count_events(ALICE, EventFilters()) == 0


def test_a_customer_owner_reads_their_customers_feed_and_nobody_elses(world: World, granted: Give) -> None:
    _record(_customer_event(ACME, "acme"), _customer_event(BETA, "beta"))
    granted(_owner(ACME, ALICE))
    assert _messages(ALICE, EventFilters(customer_uuid=ACME)) == ["acme"]
    assert _messages(ALICE, EventFilters(scope=f"https://cirrus.test/api/customers/{ACME}/")) == ["acme"]
    assert _messages(ALICE, EventFilters(customer_uuid=BETA)) == []
    assert _messages(BOB, EventFilters(customer_uuid=ACME)) == []
    assert events.count_events(BOB, EventFilters(customer_uuid=ACME)) == 0


def test_one_event_is_shown_only_to_who_may_read_a_feed_holding_it(world: World, granted: Give) -> None:
    (event,) = _record(_customer_event(ACME, "acme"))
    granted(_owner(ACME, ALICE))
    assert events.get_event(ALICE, event.id) == event
    assert events.get_event(SUPPORT, event.id) == event
    with pytest.raises(NotFound):
        events.get_event(BOB, event.id)
    with pytest.raises(NotFound):
        events.get_event(STAFF, new_id())


def test_a_users_feed_is_their_own(world: World) -> None:
    mine = Event("user_update_succeeded", "about alice", {"affected_user_uuid": ALICE.user_id})
    _record(mine, Event("user_update_succeeded", "about bob", {"affected_user_uuid": BOB.user_id}))
    scope = f"https://cirrus.test/api/users/{ALICE.user_id}/"
    assert _messages(ALICE, EventFilters(scope=scope)) == ["about alice"]
    assert _messages(BOB, EventFilters(scope=scope)) == []
    assert _messages(STAFF, EventFilters(scope=scope)) == ["about alice"]


def test_a_scope_that_names_nothing_readable_is_a_400_on_scope(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        events.list_events(STAFF, EventFilters(scope="https://cirrus.test/api/invoices/x/"), PageRequest())
    assert list(refused.value.errors) == ["scope"]


# --- filters ---------------------------------------------------------------------------------------
def test_filters_narrow_by_type_group_message_actor_and_time(world: World) -> None:
    first = _customer_event(ACME, "Customer renamed", user_uuid=ALICE.user_id)
    second = _customer_event(ACME, "Project made", PROJECT_CREATED, user_uuid=BOB.user_id)
    third = _customer_event(ACME, "Customer renamed again", user_uuid=BOB.user_id)
    _record(first, second, third)
    acme = EventFilters(customer_uuid=ACME)
    assert _messages(STAFF, EventFilters(event_types=(PROJECT_CREATED,))) == ["Project made"]
    assert _messages(STAFF, EventFilters(features=("projects",))) == ["Project made"]
    assert _messages(STAFF, EventFilters(message="RENAMED")) == ["Customer renamed again", "Customer renamed"]
    assert _messages(STAFF, EventFilters(customer_uuid=ACME, user_uuid=BOB.user_id)) == [
        "Customer renamed again",
        "Project made",
    ]
    since = second.created.timestamp()
    assert _messages(STAFF, EventFilters(customer_uuid=ACME, created_from=since)) == [
        "Customer renamed again",
        "Project made",
    ]
    assert _messages(STAFF, EventFilters(customer_uuid=ACME, created_to=since)) == [
        "Project made",
        "Customer renamed",
    ]
    assert events.count_events(STAFF, EventFilters(message="renamed")) == 2
    assert events.count_events(STAFF, acme) == 3


def test_a_filter_over_too_many_events_asks_to_narrow_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import reset_settings

    _record(*(_customer_event(ACME, f"event {n}") for n in range(3)))
    monkeypatch.setenv("CIRRUS_FILTER_READ_LIMIT", "2")
    reset_settings()
    try:
        with pytest.raises(TooBroad):
            events.list_events(STAFF, EventFilters(message="event"), PageRequest())
        assert events.count_events(STAFF, EventFilters()) == 3  # unfiltered: no bound
    finally:
        monkeypatch.delenv("CIRRUS_FILTER_READ_LIMIT")
        reset_settings()


# --- hooks: who may do what ------------------------------------------------------------------------
def _ctx(principal: Principal) -> EventContext:
    return EventContext(principal=principal, ip_address="192.0.2.1")


def _web_hook(owner: Principal, **sent: Any) -> hooks.HookView:
    fields = {"destination_url": "https://example.org/hook", "event_types": [PROJECT_CREATED], **sent}
    return hooks.create_hook(_ctx(owner), HookKind.WEB, fields)


def _email_hook(owner: Principal, **sent: Any) -> hooks.HookView:
    fields = {"email": f"{owner.username}@example.org", "event_types": [CUSTOMER_UPDATED], **sent}
    return hooks.create_hook(_ctx(owner), HookKind.EMAIL, fields)


def test_a_web_hook_is_made_with_a_secret_shown_once_and_writes_no_event(world: World) -> None:
    created = _web_hook(ALICE)
    assert created.secret is not None and len(created.secret) >= 16
    assert created.hook.user_id == ALICE.user_id and created.hook.version == 1
    shown = hooks.retrieve(ALICE, HookKind.WEB, created.hook.id)
    assert shown.secret is None and shown.hook.secret == created.secret  # kept, never shown again
    chosen = _web_hook(ALICE, secret="c" * 20)
    assert chosen.secret == "c" * 20
    assert _email_hook(ALICE).secret is None  # email hooks sign nothing
    assert world.events == []  # Waldur logs no hook changes


def test_a_hook_to_a_private_address_or_without_events_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        _web_hook(ALICE, destination_url="http://10.0.0.7/hook")
    with pytest.raises(ValidationError):
        hooks.create_hook(_ctx(ALICE), HookKind.WEB, {"destination_url": "https://example.org/hook"})
    assert hooks.list_hooks(STAFF, None, HookFilters(), PageRequest()).total == 0


def test_a_hook_is_its_owners_and_staffs_only(world: World) -> None:
    hook = _web_hook(ALICE).hook
    for outsider in (BOB, SUPPORT):
        with pytest.raises(NotFound):
            hooks.retrieve(outsider, HookKind.WEB, hook.id)
        with pytest.raises(NotFound):
            hooks.update_hook(_ctx(outsider), HookKind.WEB, hook.id, {"is_active": False})
        with pytest.raises(NotFound):
            hooks.delete_hook(_ctx(outsider), HookKind.WEB, hook.id)
    with pytest.raises(NotFound):
        hooks.retrieve(ALICE, HookKind.EMAIL, hook.id)  # the route names the kind
    assert hooks.retrieve(STAFF, HookKind.WEB, hook.id).hook == hook
    changed = hooks.update_hook(_ctx(STAFF), HookKind.WEB, hook.id, {"is_active": False}).hook
    assert (changed.is_active, changed.version) == (False, 2)


def test_changing_a_hook_moves_what_dispatch_finds_and_deleting_it_ends_it(world: World) -> None:
    hook = _web_hook(ALICE).hook
    assert [s.hook_id for s in ports.hooks.subscribers(PROJECT_CREATED)] == [hook.id]
    clock.set_source(lambda: NOW + timedelta(minutes=5))
    after = hooks.update_hook(_ctx(ALICE), HookKind.WEB, hook.id, {"event_types": [CUSTOMER_UPDATED]})
    assert (after.hook.event_types, after.hook.modified, after.hook.version) == (
        (CUSTOMER_UPDATED,),
        NOW + timedelta(minutes=5),
        2,
    )
    assert ports.hooks.subscribers(PROJECT_CREATED) == []
    assert [s.hook_id for s in ports.hooks.subscribers(CUSTOMER_UPDATED)] == [hook.id]
    hooks.delete_hook(_ctx(ALICE), HookKind.WEB, hook.id)
    assert ports.hooks.subscribers(CUSTOMER_UPDATED) == []
    with pytest.raises(NotFound):
        hooks.retrieve(ALICE, HookKind.WEB, hook.id)


def test_an_email_hook_keeps_no_secret_sent_to_it(world: World) -> None:
    hook = _email_hook(ALICE).hook
    after = hooks.update_hook(_ctx(ALICE), HookKind.EMAIL, hook.id, {"secret": "s" * 20, "email": "a@b.org"})
    assert (after.hook.secret, after.hook.email) == ("", "a@b.org")


def test_users_list_their_own_hooks_staff_everybodys_newest_first_filtered(world: World) -> None:
    alices = [_web_hook(ALICE).hook, _email_hook(ALICE).hook]
    bobs = _web_hook(BOB).hook
    mine = hooks.list_hooks(ALICE, None, HookFilters(), PageRequest())
    assert ([v.hook for v in mine.items], mine.total) == (alices[::-1], 2)
    every_web = hooks.list_hooks(STAFF, HookKind.WEB, HookFilters(), PageRequest(1, 1))
    assert ([v.hook for v in every_web.items], every_web.total) == ([bobs], 2)
    second = hooks.list_hooks(STAFF, HookKind.WEB, HookFilters(), PageRequest(2, 1))
    assert [v.hook for v in second.items] == [alices[0]]
    by_author = hooks.list_hooks(STAFF, None, HookFilters(author_uuid=BOB.user_id), PageRequest())
    assert [v.hook for v in by_author.items] == [bobs]
    emails = hooks.list_hooks(STAFF, None, HookFilters(email="alice@example.org"), PageRequest())
    assert [v.hook for v in emails.items] == [alices[1]]


# --- delivery -------------------------------------------------------------------------------------
def _document(event: Event) -> dict[str, Any]:
    """The event as the publisher hands it to the hooks."""
    from chalicelib.workflows.publisher import event_document

    return event_document(event)


def _try(hook_id: str, owner: Principal, event: Event, attempt: int = 1) -> dict[str, Any]:
    return {
        "kind": HookKind.EMAIL.value,
        "user_uuid": owner.user_id,
        "hook_uuid": hook_id,
        "event": _document(event),
        "try": attempt,
    }


def _mailer() -> FakeMailer:
    return cast(FakeMailer, ports.current().mailer)


def test_an_email_hook_gets_the_event_by_mail_and_notes_it(world: World) -> None:
    hook = _email_hook(ALICE).hook
    event = _customer_event(ACME, "Customer Acme renamed")
    assert hook_delivery.deliver(_try(hook.id, ALICE, event)) == hook_delivery.DELIVERED
    (sent,) = world.mail
    assert sent == SentMail("alice@example.org", "Customer Acme renamed", sent.body)
    assert f"Event type: {CUSTOMER_UPDATED}" in sent.body
    noted = ports.hooks.get(ALICE.user_id, HookKind.EMAIL, hook.id)
    assert noted is not None and (noted.last_published, noted.failure_count, noted.version) == (NOW, 0, 1)


def test_a_refused_mail_is_noted_and_tried_again_later_then_dead_lettered(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_HOOK_MAX_ATTEMPTS", "2")
    reset_settings()
    hook = _email_hook(ALICE).hook
    _mailer().refuse("alice@example.org")
    event = _customer_event(ACME, "Customer Acme renamed")
    try:
        assert hook_delivery.deliver(_try(hook.id, ALICE, event)) == hook_delivery.FAILED
        assert hook_delivery.deliver(_try(hook.id, ALICE, event, 2)) == hook_delivery.FAILED
    finally:
        monkeypatch.delenv("CIRRUS_HOOK_MAX_ATTEMPTS")
        reset_settings()
    assert world.mail == []
    failed = ports.hooks.get(ALICE.user_id, HookKind.EMAIL, hook.id)
    assert failed is not None
    assert (failed.failure_count, failed.last_error, failed.last_failure) == (2, MAIL_NOT_SENT, NOW)
    retry, dead = world.effects
    assert isinstance(retry, Enqueue) and retry.payload["try"] == 2 and retry.delay_seconds > 0
    assert retry.idempotency_key == hook_delivery.delivery_key(hook.id, event.id, 2)
    assert isinstance(dead, SendToDeadLetter) and dead.payload["try"] == 3


def test_a_hook_that_no_longer_wants_the_event_is_skipped(world: World) -> None:
    hook = _email_hook(ALICE).hook
    hooks.update_hook(_ctx(ALICE), HookKind.EMAIL, hook.id, {"is_active": False})
    event = _customer_event(ACME, "Customer Acme renamed")
    assert hook_delivery.deliver(_try(hook.id, ALICE, event)) == hook_delivery.SKIPPED
    assert world.mail == [] and world.effects == []


def test_an_event_about_a_user_is_dispatched_to_that_users_hooks_only(world: World) -> None:
    from chalicelib.domain.users import User

    for who in (ALICE, BOB):
        uow = ports.unit_of_work()
        ports.users.add(uow, User(id=who.user_id, username=who.username, date_joined=NOW))
        uow.commit()
    alices = _email_hook(ALICE, event_types=["user_update_succeeded"]).hook
    _email_hook(BOB, event_types=["user_update_succeeded"])
    event = Event("user_update_succeeded", "alice changed", {"affected_user_uuid": ALICE.user_id})
    assert hook_delivery.dispatch(_document(event)) == 1
    (queued,) = world.effects
    assert isinstance(queued, Enqueue) and queued.task == hook_delivery.DELIVER_TASK
    assert (queued.payload["hook_uuid"], queued.payload["try"]) == (alices.id, 1)


def test_only_signed_in_users_make_hooks(world: World) -> None:
    from chalicelib.domain.errors import NotAuthenticated

    with pytest.raises(NotAuthenticated):
        hooks.create_hook(EventContext(), HookKind.WEB, {"destination_url": "https://e.org/"})
