"""The support desk kept in step with an external service desk, end to end, against the fake Jira
Service Management and the fake Zammad on 127.0.0.1 (tests/support_fakes): requests through the
API, their events through the real publisher (the table's stream) and the follow-up tasks through
the real queue consumer, the remote's changes back through the scheduled pull and through a signed
webhook, and what a user then sees through the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.context import EventContext
from chalicelib.support_backends.base import BackendUnavailable, sign_hub
from chalicelib.workflows.registry import BACKGROUND_QUEUE
from tests.helpers import all_events, call
from tests.support_fakes import jira as fake_jira
from tests.support_fakes import zammad as fake_zammad
from tests.support_fakes.jira import FakeJira
from tests.support_fakes.server import FakeDesk, serving
from tests.support_fakes.zammad import FakeZammad
from tests.workflow_helpers import deliver_once

ISSUES = "/api/support-issues/"
COMMENTS = "/api/support-comments/"
SECRET = "webhook-secret-for-tests"
EVENTLESS = EventContext(correlation_id="test")


@pytest.fixture
def aws(stack):
    yield


# --- the two desks, as a test drives them ---------------------------------------------------------
@dataclass
class Desk:
    """One fake remote desk and how the tests act on it and read it, whichever desk it is."""

    kind: str
    fake: Any

    @property
    def webhook_path(self) -> str:
        return f"/api/support-{self.kind}-webhook/"

    def settings(self) -> dict[str, str]:
        if self.kind == "jira":
            return {
                "base_url": self.fake.url,
                "email": fake_jira.EMAIL,
                "api_token": fake_jira.TOKEN,
                "project_key": fake_jira.PROJECT,
                "service_desk_id": fake_jira.SERVICE_DESK_ID,
                "request_type_id": "10",
                "webhook_secret": SECRET,
                "connect_timeout": "0.5",
                "read_timeout": "1",
            }
        return {
            "base_url": self.fake.url,
            "api_token": fake_zammad.TOKEN,
            "group": "Users",
            "default_customer": "nicole.braun@zammad.org",
            "webhook_secret": SECRET,
            "connect_timeout": "0.5",
            "read_timeout": "1",
        }

    def tickets(self) -> list[dict[str, Any]]:
        """Every remote issue: id, key, summary, description, caller's email, status."""
        if self.kind == "jira":
            return [
                {
                    "id": i.id,
                    "key": i.key,
                    "summary": i.summary,
                    "description": i.description,
                    "caller": i.reporter.email,
                    "status": i.status,
                    "priority": i.priority,
                }
                for i in self.fake.issues.values()
            ]
        found = []
        for t in self.fake.tickets.values():
            first = self.fake.articles[t.article_ids[0]]
            found.append(
                {
                    "id": str(t.id),
                    "key": t.number,
                    "summary": t.title,
                    "description": first.body,
                    "caller": t.customer.email,
                    "status": fake_zammad.STATES[t.state_id],
                    "priority": fake_zammad.PRIORITIES[t.priority_id],
                }
            )
        return found

    def comments(self, backend_id: str) -> list[tuple[str, bool]]:
        """(body, public) of the remote issue's comments, the description excluded."""
        if self.kind == "jira":
            return [(c.body, c.public) for c in self.fake.issue(backend_id).comments]
        ids = self.fake.ticket(backend_id).article_ids[1:]
        return [(self.fake.articles[i].body, not self.fake.articles[i].internal) for i in ids]

    def agent_comment(self, backend_id: str, body: str, *, public: bool) -> Any:
        if self.kind == "jira":
            return self.fake.agent_comment(backend_id, body, public=public)
        return self.fake.agent_article(backend_id, body, internal=not public)

    def agent_resolves(self, backend_id: str) -> None:
        if self.kind == "jira":
            self.fake.agent_transition(backend_id, "Resolved")
        else:
            self.fake.agent_set_state(backend_id, "closed")

    def webhook(self, backend_id: str, comment: Any = None) -> bytes:
        if self.kind == "jira":
            event = "comment_created" if comment is not None else "jira:issue_updated"
            payload = self.fake.webhook_payload(backend_id, event, comment)
        else:
            payload = self.fake.webhook_payload(backend_id, comment)
        return json.dumps(payload).encode()

    def signature(self, body: bytes, secret: str = SECRET) -> str:
        return sign_hub(body, secret, "sha256" if self.kind == "jira" else "sha1")

    def fail_next(self, times: int = 1) -> None:
        for _ in range(times):
            self.fake.fail_next(503, {"error": "down for maintenance"})

    def requests(self) -> int:
        return len(self.fake.log)


def _fake(kind: str) -> FakeDesk:
    # The fake's clock near ours: the scheduled pull asks for changes since its watermark.
    now = datetime.now(UTC).replace(microsecond=0)
    return FakeJira(clock=now) if kind == "jira" else FakeZammad(clock=now)


@pytest.fixture(params=["jira", "zammad"])
def desk(request: pytest.FixtureRequest, aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    from chalicelib.config import reset_settings
    from chalicelib.local.stream import create_event_bus
    from chalicelib.support_backends import configured

    with serving(_fake(request.param)) as fake:
        found = Desk(request.param, fake)
        monkeypatch.setenv("CIRRUS_SUPPORT_BACKEND", found.kind)
        monkeypatch.setenv("CIRRUS_SUPPORT_BACKEND_SETTINGS", json.dumps(found.settings()))
        # The desk mails the caller about comments and status changes too (support_notifications):
        # into the local outbox here, as under `make run`.
        monkeypatch.setenv("CIRRUS_EMAIL_BACKEND", "local")
        reset_settings()
        configured.forget()
        create_event_bus()
        yield found
    configured.forget()


@pytest.fixture
def pump(aws: None) -> Any:
    """Publish what the table's stream holds (the publisher Lambda's handler) and run the queued
    background tasks (the consumer's), until both are quiet; returns the failed deliveries."""
    from chalicelib.local.stream import StreamReader

    reader = StreamReader()

    def run(rounds: int = 10) -> list[str]:
        failed: list[str] = []
        for _ in range(rounds):
            published = 0
            while read := reader.poll_once():
                published += read
            received, failures = deliver_once(BACKGROUND_QUEUE)
            failed += failures
            if not published and not received:
                return failed
        return failed

    return run


def pull() -> int:
    """What the schedule fires every 5 minutes: the registered task, as the consumer runs it;
    how many of our issues it applied."""
    from chalicelib.domain.context import EventContext
    from chalicelib.workflows import registry

    return int(registry.get("support_sync.pull_changes").handler({}, EventContext(correlation_id="pull")))


def open_issue(client, alice, **fields) -> dict[str, Any]:
    body = {"type": "Incident", "summary": "VM does not boot", "description": "Since noon.", **fields}
    reply = call(client, "POST", ISSUES, alice, body)
    assert reply.status == 201, reply.json
    return reply.json


def synced(client, alice, desk: Desk, pump) -> tuple[dict[str, Any], dict[str, Any]]:
    """An issue opened by alice through the API, once the tasks have run: (ours, the remote's)."""
    issue = open_issue(client, alice)
    assert pump() == []
    (ticket,) = desk.tickets()
    return call(client, "GET", issue["url"], alice).json, ticket


def comments_of(client, account, issue: dict[str, Any]) -> list[dict[str, Any]]:
    reply = call(client, "GET", f"{COMMENTS}?issue_uuid={issue['uuid']}&o=created", account)
    assert reply.status == 200, reply.json
    return list(reply.json)


# --- out ------------------------------------------------------------------------------------------
def test_an_issue_created_in_cirrus_appears_on_the_remote_desk_with_its_key(client, alice, desk, pump):
    issue = open_issue(client, alice)
    assert issue["key"] == "SUP-1" and desk.tickets() == []  # nothing yet: the tasks have not run

    assert pump() == []

    (ticket,) = desk.tickets()
    assert (ticket["summary"], ticket["description"], ticket["caller"]) == (
        "VM does not boot",
        "Since noon.",
        "alice@example.org",
    )
    shown = call(client, "GET", issue["url"], alice).json
    # Waldur's behaviour: the issue's key is the remote's; its link opens the remote issue.
    assert shown["key"] == ticket["key"] and shown["backend_id"] == ticket["id"]
    assert shown["link"].startswith(desk.fake.url)
    assert shown["status"] == "New"


def test_a_comment_goes_out_with_its_visibility_once(client, alice, staff, desk, pump):
    issue, ticket = synced(client, alice, desk, pump)

    reply = call(client, "POST", f"{issue['url']}comment/", alice, {"description": "Still down."})
    assert reply.status == 201, reply.json
    reply = call(
        client, "POST", f"{issue['url']}comment/", staff, {"description": "Agent note.", "is_public": False}
    )
    assert reply.status == 201, reply.json
    assert pump() == []

    assert desk.comments(ticket["id"]) == [("Still down.", True), ("Agent note.", False)]
    # The pull reads them back and knows them as ours: nothing is imported twice.
    pull()
    bodies = [c["description"] for c in comments_of(client, staff, issue)]
    assert bodies == ["Still down.", "Agent note."]


def test_a_change_made_in_cirrus_is_pushed_and_never_echoed(client, alice, staff, desk, pump):
    issue, _ = synced(client, alice, desk, pump)

    reply = call(client, "PATCH", issue["url"], staff, {"summary": "VM boots, network down"})
    assert reply.status == 200, reply.json
    reply = call(client, "POST", f"{issue['url']}set_status/", staff, {"status": "Resolved"})
    assert reply.status in (200, 202), reply.json
    assert pump() == []

    (remote,) = desk.tickets()
    expected = "Resolved" if desk.kind == "jira" else "closed"
    assert (remote["summary"], remote["status"]) == ("VM boots, network down", expected)
    before = desk.requests()
    pull()  # the remote answers what we pushed: nothing changes here, nothing goes out again
    assert pump() == []
    shown = call(client, "GET", issue["url"], alice).json
    assert (shown["summary"], shown["status"], shown["resolved"]) == (
        "VM boots, network down",
        "Resolved",
        True,
    )
    writes = [r for r in desk.fake.log[before:] if r.method in ("POST", "PUT")]
    assert writes == []


# --- in -------------------------------------------------------------------------------------------
def test_an_agents_comment_and_status_come_back_through_the_scheduled_pull(client, alice, desk, pump):
    issue, ticket = synced(client, alice, desk, pump)
    desk.agent_comment(ticket["id"], "Rebooted the host.", public=True)
    desk.agent_comment(ticket["id"], "Kernel panic, see logs.", public=False)
    desk.agent_resolves(ticket["id"])

    assert pull() == 1
    assert pump() == []

    shown = call(client, "GET", issue["url"], alice).json
    assert (shown["status"], shown["resolved"]) == ("Resolved", True)
    # alice sees the public answer; the internal one only the desk does.
    assert [c["description"] for c in comments_of(client, alice, issue)] == ["Rebooted the host."]
    events = [e.event_type for e in all_events() if e.context.get("issue_uuid") == issue["uuid"]]
    assert events.count("issue_comment_created") == 2 and "issue_update_succeeded" in events
    # Nothing of it went back out: the remote still has the agent's two comments only.
    assert [body for body, _ in desk.comments(ticket["id"])] == [
        "Rebooted the host.",
        "Kernel panic, see logs.",
    ]
    # A second pull (the overlap reads the same changes again) imports nothing twice.
    pull()
    assert pump() == []
    assert len(comments_of(client, alice, issue)) == 1


def test_a_signed_webhook_brings_the_change_back(client, alice, staff, desk, pump):
    issue, ticket = synced(client, alice, desk, pump)
    comment = desk.agent_comment(ticket["id"], "Fixed, please check.", public=True)
    desk.agent_resolves(ticket["id"])
    body = desk.webhook(ticket["id"], comment)

    reply = call(
        client,
        "POST",
        desk.webhook_path,
        None,
        headers={"X-Hub-Signature": desk.signature(body)},
        raw_body=body,
    )

    assert reply.status == 202, reply.json
    assert pump() == []
    shown = call(client, "GET", issue["url"], alice).json
    assert shown["status"] == "Resolved"
    assert [c["description"] for c in comments_of(client, alice, issue)] == ["Fixed, please check."]
    # The desk sends it again: one pull, nothing twice.
    reply = call(
        client,
        "POST",
        desk.webhook_path,
        None,
        headers={"X-Hub-Signature": desk.signature(body)},
        raw_body=body,
    )
    assert reply.status == 202
    assert pump() == []
    assert len(comments_of(client, staff, issue)) == 1


def test_a_wrongly_signed_webhook_is_403_and_changes_nothing(client, alice, staff, desk, pump):
    issue, ticket = synced(client, alice, desk, pump)
    desk.agent_comment(ticket["id"], "Forged?", public=True)
    body = desk.webhook(ticket["id"])
    other = "jira" if desk.kind == "zammad" else "zammad"

    for headers in ({"X-Hub-Signature": desk.signature(body, "not-the-secret")}, {}):
        reply = call(client, "POST", desk.webhook_path, None, headers=headers, raw_body=body)
        assert reply.status == 403, reply.json
    # The desk that is not configured has no webhook here.
    reply = call(
        client,
        "POST",
        f"/api/support-{other}-webhook/",
        None,
        headers={"X-Hub-Signature": desk.signature(body)},
        raw_body=body,
    )
    assert reply.status == 404
    # Too large a body is refused unread.
    big = b"{" + b" " * (1024 * 1024) + b"}"
    reply = call(
        client,
        "POST",
        desk.webhook_path,
        None,
        headers={"X-Hub-Signature": desk.signature(big)},
        raw_body=big,
    )
    assert reply.status == 413

    assert pump() == []
    assert comments_of(client, staff, issue) == []


# --- idempotency and failures -----------------------------------------------------------------------
def test_a_redelivered_task_creates_nothing_twice(client, alice, desk, pump):
    from chalicelib.workflows import publisher

    issue, ticket = synced(client, alice, desk, pump)
    call(client, "POST", f"{issue['url']}comment/", alice, {"description": "Once."})
    assert pump() == []
    # The stream delivers at least once: the same events published again queue the same tasks.
    for event in [e for e in all_events() if e.context.get("issue_uuid") == issue["uuid"]]:
        publisher.publish(event)
    assert pump() == []
    # And a task whose idempotency record is gone (another event, the same issue) finds it done.
    from chalicelib.services import support_sync
    from chalicelib.support_backends import configured

    assert (
        support_sync.push_new_issue(EVENTLESS, configured.backend(), desk.kind, issue["uuid"]).backend_id
        == ticket["id"]
    )
    comment = comments_of(client, alice, issue)[0]
    assert support_sync.push_comment(EVENTLESS, configured.backend(), desk.kind, comment["uuid"]) is False

    assert len(desk.tickets()) == 1
    assert desk.comments(ticket["id"]) == [("Once.", True)]


def test_the_remote_being_down_fails_the_task_which_is_retried_without_losing_the_change(
    client, alice, desk, pump
):
    issue = open_issue(client, alice)
    desk.fail_next(2)  # the create's first call fails, twice

    failed = pump(rounds=1)
    assert failed  # the task failed: back on its queue
    assert desk.tickets() == []
    assert call(client, "GET", issue["url"], alice).json["key"] == "SUP-1"

    pump()  # redelivered (failing once more) until the remote answers
    (ticket,) = desk.tickets()
    assert ticket["summary"] == "VM does not boot"
    assert call(client, "GET", issue["url"], alice).json["key"] == ticket["key"]


def test_a_pull_that_fails_keeps_its_watermark_and_the_next_one_catches_up(client, alice, desk, pump):
    from chalicelib.services.ports import support_links

    issue, ticket = synced(client, alice, desk, pump)
    pull()
    mark = support_links.watermark(desk.kind)
    desk.agent_comment(ticket["id"], "Answer.", public=True)
    desk.fail_next()

    with pytest.raises(BackendUnavailable):
        pull()
    assert support_links.watermark(desk.kind) == mark
    assert comments_of(client, alice, issue) == []

    pull()
    assert [c["description"] for c in comments_of(client, alice, issue)] == ["Answer."]
    assert support_links.watermark(desk.kind) > mark


def test_a_comment_waits_for_its_issue_to_reach_the_remote_but_not_forever(
    client, alice, desk, pump, monkeypatch
):
    from datetime import timedelta

    from chalicelib.domain import clock
    from chalicelib.services import support_sync
    from chalicelib.support_backends import configured

    monkeypatch.setenv("CIRRUS_SUPPORT_BACKEND", "basic")  # opened before the desk was configured
    reset()
    issue = open_issue(client, alice)
    assert pump() == []
    comment = call(client, "POST", f"{issue['url']}comment/", alice, {"description": "Hello?"}).json
    monkeypatch.setenv("CIRRUS_SUPPORT_BACKEND", desk.kind)
    reset()

    with pytest.raises(support_sync.NotYetOnRemote):  # its creation may still be on its way: retried
        support_sync.push_comment(EVENTLESS, configured.backend(), desk.kind, comment["uuid"])
    later = datetime.now(UTC) + timedelta(hours=2)
    clock.set_source(lambda: later)
    try:  # long after: an issue of the built-in desk alone, whose comments stay here
        assert support_sync.push_comment(EVENTLESS, configured.backend(), desk.kind, comment["uuid"]) is False
    finally:
        clock.set_source(None)
    assert desk.tickets() == []


def reset() -> None:
    from chalicelib.config import reset_settings
    from chalicelib.support_backends import configured

    reset_settings()
    configured.forget()


def test_with_the_built_in_desk_alone_nothing_is_queued_or_sent(client, alice, aws, pump, monkeypatch):
    from chalicelib.config import reset_settings
    from chalicelib.local.stream import create_event_bus
    from chalicelib.workflows.aws import client as aws_client
    from chalicelib.workflows.queues import queue_url

    monkeypatch.delenv("CIRRUS_SUPPORT_BACKEND", raising=False)
    reset_settings()
    create_event_bus()
    open_issue(client, alice)
    from chalicelib.local.stream import StreamReader

    reader = StreamReader()
    while reader.poll_once():
        pass
    attributes = aws_client("sqs").get_queue_attributes(
        QueueUrl=queue_url(BACKGROUND_QUEUE), AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert pull() == 0
    reply = call(client, "POST", "/api/support-jira-webhook/", None, raw_body=b"{}")
    assert reply.status == 404


def test_bad_settings_fail_the_task_with_a_clear_message_and_nothing_else(
    client, alice, desk, pump, monkeypatch
):
    from chalicelib.config import reset_settings
    from chalicelib.support_backends import SettingsError, configured

    monkeypatch.setenv("CIRRUS_SUPPORT_BACKEND_SETTINGS", json.dumps({"base_url": desk.fake.url}))
    reset_settings()
    configured.forget()
    with pytest.raises(SettingsError, match="settings lack: ") as raised:
        pull()
    assert "token" not in str(raised.value).replace("api_token", "")
    # Unrelated requests do not care; the webhook says the backend is misconfigured.
    assert call(client, "GET", ISSUES, alice).status == 200
    body = desk.webhook("1") if desk.tickets() else b"{}"
    reply = call(
        client,
        "POST",
        desk.webhook_path,
        None,
        headers={"X-Hub-Signature": desk.signature(body)},
        raw_body=body,
    )
    assert reply.status == 503
