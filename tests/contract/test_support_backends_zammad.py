"""The Zammad adapter against a fake Zammad on 127.0.0.1 (tests/support_fakes/zammad.py): tickets
and articles Cirrus writes arrive with the right fields and visibility, what an agent does comes
back by name (whether or not Zammad expands relations), webhooks are accepted only when signed
with the secret, and every remote failure becomes the port's exception quickly."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from chalicelib.support_backends import (
    BackendRefused,
    BackendUnavailable,
    NewIssue,
    SettingsError,
    SupportBackend,
    WebhookEvent,
    WebhookRefused,
    build,
)
from chalicelib.support_backends import zammad as zammad_adapter
from chalicelib.support_backends.base import sign_hub
from chalicelib.support_backends.http import Timeouts
from chalicelib.support_backends.zammad import Zammad
from tests.support_fakes import zammad as fake_zammad
from tests.support_fakes.server import Received, serving, webhook_receiver
from tests.support_fakes.zammad import FakeZammad, User

SECRET = "zammad-webhook-secret"


def settings(url: str, **extra: str) -> dict[str, str]:
    return {
        "base_url": url,
        "api_token": fake_zammad.TOKEN,
        "group": "2nd Level",
        "default_customer": "nicole.braun@zammad.org",
        "webhook_secret": SECRET,
        # generous: a loaded 2-core machine answers slowly, never wrongly (a timeout test sets its own)
        "connect_timeout": "5",
        "read_timeout": "5",
        **extra,
    }


@pytest.fixture
def desk() -> Iterator[FakeZammad]:
    with serving(FakeZammad()) as fake:
        yield fake


@pytest.fixture
def backend(desk: FakeZammad) -> Zammad:
    made = build("zammad", settings(desk.url))
    assert isinstance(made, Zammad)
    return made


def test_the_adapter_is_a_support_backend(backend: Zammad) -> None:
    assert isinstance(backend, SupportBackend)


# --- Cirrus -> Zammad ----------------------------------------------------------------------------


def test_a_new_issue_becomes_a_ticket_of_the_caller_with_a_visible_first_article(
    desk: FakeZammad, backend: Zammad
) -> None:
    created = backend.create_issue(
        NewIssue(
            "VM does not boot", "Since this morning.", priority="3 high", caller_email="alice@example.org"
        )
    )

    (ticket,) = desk.tickets.values()
    assert (ticket.title, fake_zammad.GROUPS[ticket.group_id], ticket.customer.email) == (
        "VM does not boot",
        "2nd Level",
        "alice@example.org",
    )
    assert fake_zammad.PRIORITIES[ticket.priority_id] == "3 high"
    (article,) = (desk.articles[i] for i in ticket.article_ids)
    assert (article.body, article.internal, article.type, article.subject) == (
        "Since this morning.",
        False,
        "note",
        "VM does not boot",
    )
    assert (created.backend_id, created.key, created.summary) == (
        str(ticket.id),
        ticket.number,
        "VM does not boot",
    )
    assert (created.status, created.priority, created.resolution) == ("new", "3 high", None)
    assert created.caller_email == "alice@example.org" and created.description == "Since this morning."
    assert created.link == f"{desk.url}/#ticket/zoom/{ticket.id}"
    assert created.updated == ticket.updated_at


def test_an_issue_without_caller_goes_to_the_default_customer(desk: FakeZammad, backend: Zammad) -> None:
    backend.create_issue(NewIssue("Question", "How do I resize?"))
    (ticket,) = desk.tickets.values()
    assert ticket.customer.email == "nicole.braun@zammad.org"


def test_title_state_priority_and_description_updates_reach_the_desk(
    desk: FakeZammad, backend: Zammad
) -> None:
    created = backend.create_issue(NewIssue("Old", "old text"))

    updated = backend.update_issue(
        created.backend_id, summary="New", status="closed", priority="1 low", description="new text"
    )

    ticket = desk.tickets[int(created.backend_id)]
    assert ticket.title == "New"
    assert (fake_zammad.STATES[ticket.state_id], fake_zammad.PRIORITIES[ticket.priority_id]) == (
        "closed",
        "1 low",
    )
    note = desk.articles[ticket.article_ids[-1]]
    assert (note.body, note.internal, note.subject) == ("new text", True, "Description changed")
    assert (updated.summary, updated.status, updated.priority) == ("New", "closed", "1 low")
    assert updated.description == "old text"  # the first article stays the description


def test_an_unknown_state_is_refused_with_zammads_message(desk: FakeZammad, backend: Zammad) -> None:
    created = backend.create_issue(NewIssue("S", "D"))
    with pytest.raises(BackendRefused, match="No lookup value found for 'state'") as refused:
        backend.update_issue(created.backend_id, status="on fire")
    assert refused.value.status == 422
    assert fake_zammad.STATES[desk.tickets[int(created.backend_id)].state_id] == "new"


def test_public_and_internal_comments_arrive_with_their_visibility(desk: FakeZammad, backend: Zammad) -> None:
    created = backend.create_issue(NewIssue("S", "D"))

    public = backend.add_comment(created.backend_id, "We are on it.", is_public=True)
    internal = backend.add_comment(created.backend_id, "Host 7 is down.", is_public=False)

    ticket = desk.tickets[int(created.backend_id)]
    stored = [desk.articles[i] for i in ticket.article_ids[1:]]
    assert [(str(a.id), a.body, a.internal, a.type) for a in stored] == [
        (public.backend_id, "We are on it.", False, "note"),
        (internal.backend_id, "Host 7 is down.", True, "note"),
    ]
    assert public.is_public and not internal.is_public
    assert (public.author_name, public.author_email) == ("Emma Taylor", "agent@example.com")
    assert public.issue_backend_id == created.backend_id


# --- Zammad -> Cirrus ----------------------------------------------------------------------------


def test_what_an_agent_does_in_zammad_is_read_back(desk: FakeZammad, backend: Zammad) -> None:
    created = backend.create_issue(NewIssue("S", "The description", caller_email="carol@example.org"))
    carol = desk.tickets[int(created.backend_id)].customer
    before = desk.clock + timedelta(seconds=1)

    desk.agent_article(created.backend_id, "Fixed the host.", internal=False)
    desk.agent_article(created.backend_id, "Root cause: disk", internal=True)
    desk.agent_article(created.backend_id, "Thanks!", internal=False, author=carol)
    desk.agent_set_state(created.backend_id, "closed")

    assert [(c.body, c.is_public, c.author_email) for c in backend.comments(created.backend_id)] == [
        ("Fixed the host.", True, "agent@example.com"),
        ("Root cause: disk", False, "agent@example.com"),
        ("Thanks!", True, "carol@example.org"),
    ]
    issue = backend.get_issue(created.backend_id)
    assert (issue.status, issue.description, issue.caller_email) == (
        "closed",
        "The description",
        "carol@example.org",
    )
    assert [i.backend_id for i in backend.changed_since(before)] == [created.backend_id]
    assert backend.changed_since(desk.clock + timedelta(seconds=1)) == []


def test_names_are_looked_up_when_zammad_answers_ids_only(desk: FakeZammad, backend: Zammad) -> None:
    desk.honour_expand = False
    created = backend.create_issue(NewIssue("S", "D", priority="3 high"))
    desk.agent_set_state(created.backend_id, "pending reminder")

    issue = backend.get_issue(created.backend_id)

    assert (created.status, created.priority) == ("new", "3 high")
    assert (issue.status, issue.priority) == ("pending reminder", "3 high")
    assert len(desk.requests("GET", "/api/v1/ticket_states")) == 1  # read once, then remembered
    assert len(desk.requests("GET", "/api/v1/ticket_priorities")) == 1


def test_changes_are_pulled_in_order_across_search_pages(
    desk: FakeZammad, backend: Zammad, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zammad_adapter, "PAGE", 2)
    first, second, third, fourth = (backend.create_issue(NewIssue(f"S{n}", "D")) for n in range(4))
    desk.agent_set_state(second.backend_id, "open")

    changed = backend.changed_since(third.updated - timedelta(seconds=30))

    assert [i.backend_id for i in changed] == [third.backend_id, fourth.backend_id, second.backend_id]
    assert first.backend_id not in {i.backend_id for i in changed}
    (search, *_) = desk.requests("GET", "/api/v1/tickets/search")
    assert search.query["query"] == r"updated_at:>=2026-01-05T10\:05\:30Z"
    assert (search.query["sort_by"], search.query["order_by"], search.query["expand"]) == (
        "updated_at",
        "asc",
        "true",
    )
    assert len(desk.requests("GET", "/api/v1/tickets/search")) == 2


# --- webhooks ------------------------------------------------------------------------------------


def _receive(backend: Zammad) -> tuple[list[WebhookEvent], Callable[[Received], int]]:
    events: list[WebhookEvent] = []

    def respond(item: Received) -> int:
        try:
            events.append(backend.parse_webhook(item.headers, item.body))
        except WebhookRefused:
            return 401
        return 204

    return events, respond


def test_a_signed_article_webhook_names_the_ticket_and_carries_the_article(
    desk: FakeZammad, backend: Zammad
) -> None:
    created = backend.create_issue(NewIssue("S", "D"))
    customer = User(50, "dave@example.org", "Dave", "Bell")
    article = desk.agent_article(created.backend_id, "Still broken", internal=False, author=customer)
    events, respond = _receive(backend)

    with webhook_receiver(respond) as (url, _):
        status = desk.send_webhook(url, desk.webhook_payload(created.backend_id, article), SECRET)

    assert status == 204
    (event,) = events
    assert (event.event, event.issue_backend_id, event.issue_key) == (
        "Cirrus sync",
        created.backend_id,
        created.key,
    )
    assert event.comment is not None
    assert (event.comment.backend_id, event.comment.body, event.comment.is_public) == (
        str(article.id),
        "Still broken",
        True,
    )
    assert (event.comment.author_name, event.comment.author_email) == ("Dave Bell", "dave@example.org")


def test_a_ticket_webhook_without_article_names_the_ticket(desk: FakeZammad, backend: Zammad) -> None:
    created = backend.create_issue(NewIssue("S", "D"))
    desk.agent_set_state(created.backend_id, "closed")
    events, respond = _receive(backend)

    with webhook_receiver(respond) as (url, _):
        assert desk.send_webhook(url, desk.webhook_payload(created.backend_id), SECRET) == 204

    assert [(e.issue_backend_id, e.comment) for e in events] == [(created.backend_id, None)]


@pytest.mark.parametrize("secret", [None, "not-the-secret"], ids=["unsigned", "wrongly-signed"])
def test_unsigned_or_wrongly_signed_webhooks_are_refused(
    desk: FakeZammad, backend: Zammad, secret: str | None
) -> None:
    created = backend.create_issue(NewIssue("S", "D"))
    events, respond = _receive(backend)

    with webhook_receiver(respond) as (url, received):
        status = desk.send_webhook(url, desk.webhook_payload(created.backend_id), secret)

    assert (status, events, len(received)) == (401, [], 1)


def test_a_sha256_signature_or_a_tampered_body_is_refused(backend: Zammad) -> None:
    body = b'{"ticket": {"id": 5, "number": "31005"}, "article": {}}'
    assert (
        backend.parse_webhook({"X-Hub-Signature": sign_hub(body, SECRET, "sha1")}, body).issue_key == "31005"
    )
    with pytest.raises(WebhookRefused, match="sha1"):
        backend.parse_webhook({"X-Hub-Signature": sign_hub(body, SECRET, "sha256")}, body)
    with pytest.raises(WebhookRefused, match="does not match"):
        backend.parse_webhook({"X-Hub-Signature": sign_hub(body, SECRET, "sha1")}, body.replace(b"5", b"6"))
    with pytest.raises(WebhookRefused, match="too large"):
        big = b" " * (1024 * 1024 + 1)
        backend.parse_webhook({"X-Hub-Signature": sign_hub(big, SECRET, "sha1")}, big)


# --- failures ------------------------------------------------------------------------------------


def test_a_wrong_token_is_refused(desk: FakeZammad) -> None:
    backend = build("zammad", settings(desk.url, api_token="wrong"))
    with pytest.raises(BackendRefused, match="Authentication failed") as refused:
        backend.get_issue("1")
    assert refused.value.status == 401


def test_a_missing_ticket_is_refused(backend: Zammad) -> None:
    with pytest.raises(BackendRefused, match="Couldn't find Ticket") as refused:
        backend.get_issue("404")
    assert refused.value.status == 404


def test_a_ticket_id_that_is_not_a_number_never_reaches_the_desk(desk: FakeZammad, backend: Zammad) -> None:
    with pytest.raises(BackendRefused):
        backend.add_comment("1/../../users", "x", is_public=True)
    assert desk.log == []


def test_a_server_error_is_unavailable(desk: FakeZammad, backend: Zammad) -> None:
    desk.fail_next(502)
    with pytest.raises(BackendUnavailable, match="502"):
        backend.get_issue("1")


def test_rate_limiting_is_unavailable_not_refused(desk: FakeZammad, backend: Zammad) -> None:
    desk.fail_next(429, {"error": "Too many requests"})
    with pytest.raises(BackendUnavailable, match="429"):
        backend.get_issue("1")


def test_a_stalled_desk_times_out_quickly(desk: FakeZammad, backend: Zammad) -> None:
    backend.http.timeouts = Timeouts(connect=0.5, read=0.5, total=1.0)
    desk.fail_next(200, [], stall=3)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="timed out"):
        backend.changed_since(desk.clock)
    assert time.monotonic() - started < 2


def test_an_answer_of_the_wrong_shape_is_unavailable(desk: FakeZammad, backend: Zammad) -> None:
    desk.fail_next(200, {"unexpected": True})
    with pytest.raises(BackendUnavailable, match="expected"):
        backend.get_issue("1")


# --- settings ------------------------------------------------------------------------------------


def test_missing_and_malformed_settings_are_refused() -> None:
    with pytest.raises(SettingsError, match="lack: api_token, group"):
        build("zammad", {"base_url": "https://desk.example.com", "default_customer": "a@b"})
    with pytest.raises(SettingsError, match="default_customer"):
        build("zammad", settings("https://desk.example.com", default_customer="nobody"))
    with pytest.raises(SettingsError, match="https"):
        build("zammad", settings("ftp://desk.example.com"))
    with pytest.raises(SettingsError, match="unknown support backend"):
        build("otrs", {})


def test_secrets_stay_out_of_reprs(backend: Zammad) -> None:
    shown = repr(backend.settings) + repr(backend.http)
    assert fake_zammad.TOKEN not in shown and SECRET not in shown
