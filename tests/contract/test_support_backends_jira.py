"""The Jira Service Management adapter against a fake Jira Cloud site on 127.0.0.1
(tests/support_fakes/jira.py): what Cirrus writes arrives in the desk with the right fields, what
an agent does in the desk comes back, webhooks are accepted only when signed with the secret, and
every remote failure becomes the port's exception quickly."""

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
from chalicelib.support_backends import jira as jira_adapter
from chalicelib.support_backends.http import Timeouts
from chalicelib.support_backends.jira import JiraServiceManagement
from tests.support_fakes import jira as fake_jira
from tests.support_fakes.jira import FakeJira, User
from tests.support_fakes.server import Received, serving, webhook_receiver

SECRET = "jira-webhook-secret"


def settings(url: str, **extra: str) -> dict[str, str]:
    return {
        "base_url": url,
        "email": fake_jira.EMAIL,
        "api_token": fake_jira.TOKEN,
        "project_key": fake_jira.PROJECT,
        "service_desk_id": fake_jira.SERVICE_DESK_ID,
        "request_type_id": "10",
        "request_types": "Incident=11, Service Request=10",
        "webhook_secret": SECRET,
        # generous: a loaded 2-core machine answers slowly, never wrongly (a timeout test sets its own)
        "connect_timeout": "5",
        "read_timeout": "5",
        **extra,
    }


@pytest.fixture
def desk() -> Iterator[FakeJira]:
    with serving(FakeJira()) as fake:
        yield fake


@pytest.fixture
def backend(desk: FakeJira) -> JiraServiceManagement:
    made = build("jira", settings(desk.url))
    assert isinstance(made, JiraServiceManagement)
    return made


def test_the_adapter_is_a_support_backend(backend: JiraServiceManagement) -> None:
    assert isinstance(backend, SupportBackend)


# --- Cirrus -> Jira ------------------------------------------------------------------------------


def test_a_new_issue_becomes_a_request_raised_on_behalf_of_a_new_customer(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    created = backend.create_issue(
        NewIssue(
            summary="VM does not boot",
            description="Since this morning.",
            issue_type="Incident",
            caller_email="alice@example.org",
            caller_name="Alice Liddell",
        )
    )

    (issue,) = desk.issues.values()
    assert (issue.summary, issue.description, issue.request_type_id) == (
        "VM does not boot",
        "Since this morning.",
        "11",
    )
    assert (issue.reporter.email, issue.reporter.display_name) == ("alice@example.org", "Alice Liddell")
    assert created.backend_id == issue.id and created.key == "SD-1"
    assert created.status == "Waiting for support" and created.resolution is None
    assert created.caller_email == "alice@example.org"
    assert created.link == f"{desk.url}/browse/SD-1"
    assert created.updated == issue.updated


def test_a_caller_who_has_an_account_is_not_created_again(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    known = User("qm:known", "bob@example.org", "Bob")
    desk.users[known.account_id] = known

    backend.create_issue(NewIssue("Quota", "More cores", caller_email="BOB@example.org"))

    (issue,) = desk.issues.values()
    assert issue.reporter is known
    assert not desk.requests("POST", "/rest/servicedeskapi/customer")


def test_an_issue_without_caller_is_raised_by_the_integration_account_with_its_priority(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    created = backend.create_issue(
        NewIssue("Question", "How do I resize?", issue_type="Other", priority="High")
    )

    (issue,) = desk.issues.values()
    assert issue.reporter is desk.agent and issue.request_type_id == "10"  # unknown type: the default
    assert issue.priority == created.priority == "High"


def test_summary_description_priority_and_status_updates_reach_the_desk(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    created = backend.create_issue(NewIssue("Old", "old text"))

    updated = backend.update_issue(
        created.backend_id, summary="New", description="new text", priority="Low", status="resolved"
    )

    issue = desk.issues[created.backend_id]
    assert (issue.summary, issue.description, issue.priority) == ("New", "new text", "Low")
    assert (issue.status, issue.resolution) == ("Resolved", "Done")
    assert (updated.summary, updated.description, updated.priority) == ("New", "new text", "Low")
    assert (updated.status, updated.resolution) == ("Resolved", "Done")

    reopened = backend.update_issue(created.key, status="Waiting for support")
    assert (reopened.status, reopened.resolution) == ("Waiting for support", None)


def test_asking_for_the_status_an_issue_already_has_changes_nothing(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    created = backend.create_issue(NewIssue("S", "D"))
    backend.update_issue(created.backend_id, status="Waiting for support")
    assert not desk.requests("POST", r".*/transitions")


def test_a_status_no_transition_reaches_and_an_unknown_priority_are_refused(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    created = backend.create_issue(NewIssue("S", "D"))

    with pytest.raises(BackendRefused, match="no transition"):
        backend.update_issue(created.backend_id, status="Escalated to Mars")
    with pytest.raises(BackendRefused, match="valid 'id' or 'name' for Priority") as refused:
        backend.update_issue(created.backend_id, priority="Urgent!!")
    assert refused.value.status == 400
    assert desk.issues[created.backend_id].priority == "Medium"


def test_public_and_internal_comments_arrive_with_their_visibility(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    created = backend.create_issue(NewIssue("S", "D"))

    public = backend.add_comment(created.backend_id, "We are on it.", is_public=True)
    internal = backend.add_comment(created.backend_id, "Host 7 is down.", is_public=False)

    stored = desk.issues[created.backend_id].comments
    assert [(c.id, c.body, c.public) for c in stored] == [
        (public.backend_id, "We are on it.", True),
        (internal.backend_id, "Host 7 is down.", False),
    ]
    assert public.is_public and not internal.is_public
    assert public.author_email == fake_jira.EMAIL and public.issue_backend_id == created.backend_id
    assert public.created == stored[0].created


# --- Jira -> Cirrus ------------------------------------------------------------------------------


def test_what_an_agent_does_in_jira_is_read_back(desk: FakeJira, backend: JiraServiceManagement) -> None:
    created = backend.create_issue(NewIssue("S", "D", caller_email="carol@example.org"))
    customer = desk.issues[created.backend_id].reporter
    before = desk.clock + timedelta(seconds=1)

    desk.agent_comment(created.key, "Fixed the host.", public=True)
    desk.agent_comment(created.key, "Root cause: disk", public=False)
    desk.agent_comment(created.key, "Thanks!", public=True, author=customer)
    desk.agent_transition(created.key, "Resolved")

    assert [(c.body, c.is_public, c.author_email) for c in backend.comments(created.backend_id)] == [
        ("Fixed the host.", True, fake_jira.EMAIL),
        ("Root cause: disk", False, fake_jira.EMAIL),
        ("Thanks!", True, "carol@example.org"),
    ]
    issue = backend.get_issue(created.backend_id)
    assert (issue.status, issue.resolution) == ("Resolved", "Done")
    assert [i.key for i in backend.changed_since(before)] == [created.key]
    assert backend.changed_since(desk.clock + timedelta(seconds=1)) == []


def test_comments_are_read_across_pages(
    desk: FakeJira, backend: JiraServiceManagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_adapter, "PAGE", 2)
    created = backend.create_issue(NewIssue("S", "D"))
    for n in range(5):
        desk.agent_comment(created.key, f"c{n}", public=True)

    assert [c.body for c in backend.comments(created.key)] == ["c0", "c1", "c2", "c3", "c4"]
    assert len(desk.requests("GET", r".*/comment")) == 3


def test_changes_are_pulled_in_order_across_pages_of_the_jql_search(
    desk: FakeJira, backend: JiraServiceManagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_adapter, "PAGE", 2)
    first, second, third = (backend.create_issue(NewIssue(f"S{n}", "D")) for n in range(3))
    since = second.updated - timedelta(seconds=30)  # inside the minute before `second` changed

    changed = backend.changed_since(since)

    assert [i.key for i in changed] == [second.key, third.key]
    (search, *_) = desk.requests("GET", "/rest/api/2/search/jql")
    assert search.query["jql"] == (
        f'project = "SD" AND updated >= "{since:%Y-%m-%d %H:%M}" ORDER BY updated ASC'
    )
    assert first.key not in [i.key for i in changed]


def test_jql_dates_are_written_in_the_accounts_time_zone(desk: FakeJira) -> None:
    desk.user_time_zone = "Europe/Helsinki"
    backend = build("jira", settings(desk.url, jql_time_zone="Europe/Helsinki"))
    created = backend.create_issue(NewIssue("S", "D"))

    assert [i.key for i in backend.changed_since(created.updated - timedelta(minutes=1))] == [created.key]
    (search,) = desk.requests("GET", "/rest/api/2/search/jql")
    assert '"2026-01-05 12:' in search.query["jql"]  # 10:00 UTC is 12:00 in Helsinki in January


# --- webhooks ------------------------------------------------------------------------------------


def _receive(backend: JiraServiceManagement) -> tuple[list[WebhookEvent], Callable[[Received], int]]:
    events: list[WebhookEvent] = []

    def respond(item: Received) -> int:
        try:
            events.append(backend.parse_webhook(item.headers, item.body))
        except WebhookRefused:
            return 401
        return 204

    return events, respond


def test_a_signed_comment_webhook_names_the_issue_and_carries_the_comment(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    created = backend.create_issue(NewIssue("S", "D"))
    comment = desk.agent_comment(created.key, "Internal only", public=False)
    events, respond = _receive(backend)

    with webhook_receiver(respond) as (url, _):
        status = desk.send_webhook(url, desk.webhook_payload(created.key, "comment_created", comment), SECRET)

    assert status == 204
    (event,) = events
    assert (event.event, event.issue_backend_id, event.issue_key) == (
        "comment_created",
        created.backend_id,
        "SD-1",
    )
    assert event.comment is not None
    assert (event.comment.backend_id, event.comment.body, event.comment.is_public) == (
        comment.id,
        "Internal only",
        False,
    )
    assert event.comment.created == comment.created


def test_an_issue_webhook_without_comment_names_the_issue(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    created = backend.create_issue(NewIssue("S", "D"))
    desk.agent_transition(created.key, "Resolved")
    events, respond = _receive(backend)

    with webhook_receiver(respond) as (url, _):
        assert desk.send_webhook(url, desk.webhook_payload(created.key, "jira:issue_updated"), SECRET) == 204

    assert [(e.event, e.issue_backend_id, e.comment) for e in events] == [
        ("jira:issue_updated", created.backend_id, None)
    ]


@pytest.mark.parametrize("secret", [None, "not-the-secret"], ids=["unsigned", "wrongly-signed"])
def test_unsigned_or_wrongly_signed_webhooks_are_refused(
    desk: FakeJira, backend: JiraServiceManagement, secret: str | None
) -> None:
    created = backend.create_issue(NewIssue("S", "D"))
    events, respond = _receive(backend)

    with webhook_receiver(respond) as (url, received):
        status = desk.send_webhook(url, desk.webhook_payload(created.key, "jira:issue_updated"), secret)

    assert (status, events, len(received)) == (401, [], 1)


def test_a_tampered_body_or_another_algorithm_is_refused(backend: JiraServiceManagement) -> None:
    from chalicelib.support_backends.base import sign_hub

    body = b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "10001", "key": "SD-1"}}'
    good = sign_hub(body, SECRET, "sha256")
    assert backend.parse_webhook({"x-hub-signature": good}, body).issue_backend_id == "10001"
    with pytest.raises(WebhookRefused, match="does not match"):
        backend.parse_webhook({"X-Hub-Signature": good}, body.replace(b"10001", b"10002"))
    with pytest.raises(WebhookRefused, match="sha256"):
        backend.parse_webhook({"X-Hub-Signature": sign_hub(body, SECRET, "sha1")}, body)
    signed_junk = b'{"webhookEvent": "x"}'
    with pytest.raises(WebhookRefused, match="not a Jira issue event"):
        backend.parse_webhook({"X-Hub-Signature": sign_hub(signed_junk, SECRET, "sha256")}, signed_junk)


def test_without_a_configured_secret_every_webhook_is_refused(desk: FakeJira) -> None:
    unsecured = build("jira", {k: v for k, v in settings(desk.url).items() if k != "webhook_secret"})
    body = b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1"}}'
    from chalicelib.support_backends.base import sign_hub

    with pytest.raises(WebhookRefused, match="no webhook secret"):
        unsecured.parse_webhook({"X-Hub-Signature": sign_hub(body, "", "sha256")}, body)


# --- failures ------------------------------------------------------------------------------------


def test_bad_credentials_are_refused_with_jiras_message(desk: FakeJira) -> None:
    backend = build("jira", settings(desk.url, api_token="wrong"))
    with pytest.raises(BackendRefused, match="Client must be authenticated") as refused:
        backend.get_issue("SD-1")
    assert refused.value.status == 401


def test_a_missing_issue_is_refused_with_jiras_message(backend: JiraServiceManagement) -> None:
    with pytest.raises(BackendRefused, match="Issue does not exist") as refused:
        backend.get_issue("SD-404")
    assert refused.value.status == 404


def test_an_id_that_is_not_a_path_segment_never_reaches_the_desk(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    with pytest.raises(BackendRefused):
        backend.get_issue("../../rest/api/2/myself")
    assert desk.log == []


def test_a_server_error_is_unavailable(desk: FakeJira, backend: JiraServiceManagement) -> None:
    desk.fail_next(503, {"errorMessages": ["maintenance"]})
    with pytest.raises(BackendUnavailable, match="503"):
        backend.get_issue("SD-1")


def test_a_stalled_desk_times_out_quickly(desk: FakeJira, backend: JiraServiceManagement) -> None:
    backend.http.timeouts = Timeouts(connect=0.5, read=0.5, total=1.0)
    desk.fail_next(200, {}, stall=3)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="timed out"):
        backend.get_issue("SD-1")
    assert time.monotonic() - started < 2


def test_a_desk_that_drips_its_answer_is_cut_off_at_the_request_deadline(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    backend.http.timeouts = Timeouts(connect=0.5, read=0.5, total=1.0)
    desk.fail_next(200, {"padding": "x" * 100}, drip=0.1)  # each byte in time, the whole in ~10 s
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="deadline"):
        backend.get_issue("SD-1")
    assert time.monotonic() - started < 2


def test_an_unreachable_desk_is_unavailable(desk: FakeJira) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = build("jira", settings(f"http://127.0.0.1:{port}"))
    with pytest.raises(BackendUnavailable):
        backend.get_issue("SD-1")


def test_answers_that_are_not_json_or_too_large_are_unavailable(
    desk: FakeJira, backend: JiraServiceManagement
) -> None:
    desk.fail_next(200, "<html>proxy login</html>")
    with pytest.raises(BackendUnavailable, match="not JSON"):
        backend.get_issue("SD-1")
    backend.http.max_answer_bytes = 1000
    desk.fail_next(200, {"padding": "x" * 5000})
    with pytest.raises(BackendUnavailable, match=r"too large|larger"):
        backend.get_issue("SD-1")


def test_a_long_remote_message_is_bounded(desk: FakeJira, backend: JiraServiceManagement) -> None:
    desk.fail_next(400, {"errorMessages": ["x\x00" * 10_000], "errors": {}})
    with pytest.raises(BackendRefused) as refused:
        backend.get_issue("SD-1")
    assert len(refused.value.message) <= 500 and "\x00" not in refused.value.message


# --- settings ------------------------------------------------------------------------------------


def test_missing_settings_are_named_without_revealing_secrets() -> None:
    with pytest.raises(SettingsError, match="lack: api_token, project_key") as error:
        build(
            "jira",
            {
                "base_url": "https://x.atlassian.net",
                "email": "a@b",
                "service_desk_id": "1",
                "request_type_id": "2",
                "webhook_secret": "s3cret",
            },
        )
    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("base_url", "http://jira.example.com", "https"),
        ("project_key", 'SD" OR project = "X', "project_key"),
        ("service_desk_id", "four", "service_desk_id"),
        ("request_types", "Incident", "request_types"),
        ("read_timeout", "soon", "read_timeout"),
        ("jql_time_zone", "Mars/Olympus", "jql_time_zone"),
    ],
)
def test_malformed_settings_are_refused(key: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        build("jira", settings("https://x.atlassian.net", **{key: value}))


def test_secrets_stay_out_of_reprs(backend: JiraServiceManagement) -> None:
    shown = repr(backend.settings) + repr(backend.http)
    assert fake_jira.TOKEN not in shown and SECRET not in shown


def test_a_webhook_comment_whose_visibility_is_not_stated_counts_as_internal(
    backend: JiraServiceManagement,
) -> None:
    from chalicelib.support_backends.base import sign_hub

    body = (
        b'{"webhookEvent": "comment_created", "issue": {"id": "10001", "key": "SD-1"}, "comment": '
        b'{"id": "7", "body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": '
        b'[{"type": "text", "text": "ADF "}, {"type": "text", "text": "body"}]}]}, '
        b'"created": "2026-01-05T10:01:00.000+0000"}}'
    )
    event = backend.parse_webhook({"X-Hub-Signature": sign_hub(body, SECRET, "sha256")}, body)
    assert event.comment is not None
    assert (event.comment.body, event.comment.is_public) == ("ADF body", False)
