"""Invitations over HTTP: who may invite whom to what, the email going out from the background
queue, accepting (the role is granted), canceling, sending again, and expiry (at request time and
by the hourly job), with their events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib import mail
from chalicelib.domain import clock
from chalicelib.domain.context import EventContext
from chalicelib.domain.roles import SYSTEM_ROLES, ScopeType
from chalicelib.workflows.registry import BACKGROUND_QUEUE
from tests.conftest import make_account
from tests.workflow_helpers import deliver_once

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes

OWNER = SYSTEM_ROLES["CUSTOMER.OWNER"].id
ADMIN = SYSTEM_ROLES["PROJECT.ADMIN"].id
MEMBER = SYSTEM_ROLES["PROJECT.MEMBER"].id


def call(client, method, path, account, body=None):
    response = getattr(client, method)(
        path, headers=account.headers, body=json.dumps(body) if body is not None else None
    )
    payload = json.loads(response.body) if response.body else None
    return response.status_code, payload


@pytest.fixture
def mailbox(aws, monkeypatch):
    """The background queue (for the email task) and the local outbox, emptied."""
    from chalicelib.config import reset_settings
    from chalicelib.local.aws import create_queues
    from chalicelib.workflows import queues

    monkeypatch.setenv("CIRRUS_EMAIL_BACKEND", "local")
    reset_settings()
    queues._lookup_url.cache_clear()
    create_queues(visibility_timeout=30)
    mail.OUTBOX.clear()
    yield mail.OUTBOX
    mail.OUTBOX.clear()
    queues._lookup_url.cache_clear()


@pytest.fixture
def boss(aws):
    """Staff whose token never lapses (the tests move the clock by a week)."""
    return make_account("boss", is_staff=True, full_name="Big Boss", token_lifetime=None)


@pytest.fixture
def world(client, boss, mailbox):
    _, acme = call(client, "post", "/api/customers/", boss, {"name": "Acme", "description": "Rockets"})
    _, globex = call(client, "post", "/api/customers/", boss, {"name": "Globex"})
    _, apollo = call(client, "post", "/api/projects/", boss, {"customer": acme["url"], "name": "Apollo"})
    _, zeus = call(client, "post", "/api/projects/", boss, {"customer": globex["url"], "name": "Zeus"})
    return {"acme": acme, "globex": globex, "apollo": apollo, "zeus": zeus}


def person(username, **fields):
    return make_account(username, token_lifetime=None, **fields)


def give_role(boss, scope_type, scope_id, account, role):
    from chalicelib.services import memberships

    staff = EventContext(principal=memberships.user_store.get(boss.id).principal())
    scope = memberships.visible_scope(staff.actor, scope_type, scope_id)
    memberships.add_user(staff, scope, account.id, role, None)


def invite(client, who, scope, role, email="newcomer@example.org", **extra):
    return call(
        client,
        "post",
        "/api/user-invitations/",
        who,
        {"scope": scope["url"], "role": role, "email": email, **extra},
    )


def events_of(customer_id, prefix="invitation_"):
    from tests.helpers import feed

    return [e for e in feed("customer", customer_id) if e.event_type.startswith(prefix)]


@pytest.mark.moto
def test_staff_invite_the_invitee_gets_mail_accepts_and_sees_the_customer(client, boss, world, mailbox):
    from waldur_api_client.models.invitation import Invitation as ClientInvitation

    alice = person("alice", email="alice@example.org")
    status, created = invite(
        client, boss, world["acme"], "CUSTOMER.OWNER", "alice@example.org",
        full_name="Alice Example", extra_invitation_text="Welcome aboard!",
    )  # fmt: skip
    assert status == 201, created
    ClientInvitation.from_dict(created)  # waldur-api-client's strict parser accepts it
    assert created["url"].endswith(f"/api/user-invitations/{created['uuid']}/")
    assert (created["role"], created["role_name"]) == (OWNER, "CUSTOMER.OWNER")
    assert (created["scope_type"], created["scope_uuid"], created["scope_name"]) == (
        "customer",
        world["acme"]["uuid"],
        "Acme",
    )
    assert (created["customer_uuid"], created["customer_name"], created["scope_description"]) == (
        world["acme"]["uuid"],
        "Acme",
        "Rockets",
    )
    assert (created["state"], created["execution_state"], created["error_message"]) == (
        "pending",
        "Scheduled",
        "",
    )
    assert (created["created_by_username"], created["created_by_full_name"]) == ("boss", "Big Boss")
    assert (created["full_name"], created["extra_invitation_text"]) == ("Alice Example", "Welcome aboard!")
    assert clock.parse_iso(created["expires"]) - clock.parse_iso(created["created"]) == timedelta(days=7)

    # The email leaves from the background queue, not from the request.
    assert mailbox == []
    assert deliver_once(BACKGROUND_QUEUE) == (1, [])
    (message,) = mailbox
    assert message.to == "alice@example.org" and message.subject == "Invitation to Acme"
    accept_url = f"/api/user-invitations/{created['uuid']}/accept/"
    assert accept_url in message.body and "Welcome aboard!" in message.body
    assert (
        call(client, "get", f"/api/user-invitations/{created['uuid']}/", boss)[1]["execution_state"] == "OK"
    )

    # Before accepting, alice sees neither the customer nor the invitation.
    assert call(client, "get", "/api/customers/", alice)[1] == []
    assert call(client, "get", f"/api/user-invitations/{created['uuid']}/", alice)[0] == 404
    assert call(client, "post", accept_url, alice) == (
        200,
        {"detail": "Invitation has been successfully accepted."},
    )
    assert [c["name"] for c in call(client, "get", "/api/customers/", alice)[1]] == ["Acme"]
    assert call(client, "get", f"/api/customers/{world['acme']['uuid']}/", boss)[1]["users_count"] == 1
    _, after = call(client, "get", f"/api/user-invitations/{created['uuid']}/", boss)
    assert after["state"] == "accepted"
    # Accepting twice: the invitation is no longer there to accept (Waldur: 404).
    assert call(client, "post", accept_url, alice)[0] == 404
    assert call(client, "post", accept_url, person("bob"))[0] == 404

    granted = events_of(world["acme"]["uuid"], "role_granted")
    assert [(e.context["affected_user_uuid"], e.context["role_name"]) for e in granted] == [
        (alice.id, "CUSTOMER.OWNER")
    ]
    assert [e.event_type for e in events_of(world["acme"]["uuid"])] == [
        "invitation_created",
        "invitation_accepted",
    ]
    accepted = events_of(world["acme"]["uuid"])[1]
    assert (
        accepted.context["user_uuid"] == alice.id
        and accepted.context["customer_uuid"] == world["acme"]["uuid"]
    )


def test_an_owner_invites_to_their_customer_and_projects_only(client, boss, world):
    owner = person("owner")
    give_role(boss, ScopeType.CUSTOMER, world["acme"]["uuid"], owner, "CUSTOMER.OWNER")

    status, to_project = invite(client, owner, world["apollo"], "PROJECT.ADMIN")
    assert status == 201, to_project
    assert (to_project["scope_type"], to_project["scope_name"], to_project["customer_name"]) == (
        "project",
        "Apollo",
        "Acme",
    )
    assert invite(client, owner, world["acme"], "CUSTOMER.SUPPORT")[0] == 201
    # Owners do not make owners.
    assert invite(client, owner, world["acme"], OWNER)[0] == 403
    # Another tenant's customer or project reads as a missing one.
    for other in (world["globex"], world["zeus"]):
        assert invite(client, owner, other, "PROJECT.ADMIN") == (
            400,
            {"scope": [f"Can't restore object from url: {other['url']}"]},
        )
    _, elsewhere = invite(client, boss, world["globex"], "CUSTOMER.SUPPORT")

    status, mine = call(client, "get", "/api/user-invitations/", owner)
    assert status == 200 and sorted(i["scope_name"] for i in mine) == ["Acme", "Apollo"]
    assert call(client, "get", f"/api/user-invitations/{elsewhere['uuid']}/", owner)[0] == 404
    assert call(client, "post", f"/api/user-invitations/{elsewhere['uuid']}/cancel/", owner)[0] == 404
    assert call(client, "post", f"/api/user-invitations/{elsewhere['uuid']}/send/", owner)[0] == 404
    assert len(call(client, "get", "/api/user-invitations/", boss)[1]) == 3
    assert [
        i["scope_name"] for i in call(client, "get", "/api/user-invitations/?scope_type=project", boss)[1]
    ] == ["Apollo"]
    filtered = call(client, "get", f"/api/user-invitations/?customer_uuid={world['globex']['uuid']}", boss)[1]
    assert [i["uuid"] for i in filtered] == [elsewhere["uuid"]]


def test_a_project_member_may_not_invite_nor_see_invitations(client, boss, world):
    member = person("member")
    give_role(boss, ScopeType.PROJECT, world["apollo"]["uuid"], member, "PROJECT.MEMBER")
    assert invite(client, boss, world["apollo"], "PROJECT.ADMIN")[0] == 201
    assert invite(client, member, world["apollo"], "PROJECT.MEMBER") == (
        403,
        {"detail": "You do not have permission to perform this action."},
    )
    assert call(client, "get", "/api/user-invitations/", member) == (200, [])
    # A project manager may invite to their project, but only roles within their own rights.
    manager = person("manager")
    give_role(boss, ScopeType.PROJECT, world["apollo"]["uuid"], manager, "PROJECT.MANAGER")
    assert invite(client, manager, world["apollo"], MEMBER)[0] == 201
    assert invite(client, manager, world["acme"], "CUSTOMER.SUPPORT")[0] == 403
    assert len(call(client, "get", "/api/user-invitations/", manager)[1]) == 2


def test_bad_input_is_refused_and_changes_nothing(client, boss, world):
    assert invite(client, boss, world["acme"], "PROJECT.ADMIN") == (
        400,
        {"non_field_errors": ["Role and scope should belong to the same content type."]},
    )
    assert invite(client, boss, world["acme"], "NO.SUCH") == (
        400,
        {"role": ["Object with name=NO.SUCH does not exist."]},
    )
    bad = call(
        client, "post", "/api/user-invitations/", boss, {"scope": "http://x/api/users/1/", "role": "x"}
    )
    assert bad == (
        400,
        {"email": ["This field is required."]},
    )
    assert call(
        client, "post", "/api/user-invitations/", boss,
        {"scope": "http://x/api/users/0f0e/", "role": ADMIN, "email": "a@b.org"},
    ) == (400, {"scope": ["Can't restore object from url: http://x/api/users/0f0e/"]})  # fmt: skip
    assert invite(client, boss, world["acme"], OWNER, email="not-an-email") == (
        400,
        {"email": ["Enter a valid email address."]},
    )
    assert call(client, "get", "/api/user-invitations/?state=nonsense", boss)[0] == 400
    assert call(client, "get", "/api/user-invitations/", boss) == (200, [])
    assert call(client, "get", "/api/user-invitations/not-a-uuid/", boss)[0] == 404


@pytest.mark.moto
def test_cancel_then_send_again(client, boss, world, mailbox):
    _, created = invite(client, boss, world["apollo"], ADMIN)
    path = f"/api/user-invitations/{created['uuid']}/"
    assert call(client, "post", path + "cancel/", boss) == (
        200,
        {"detail": "Invitation has been successfully canceled."},
    )
    assert call(client, "get", path, boss)[1]["state"] == "canceled"
    assert call(client, "post", path + "cancel/", boss) == (400, ["Only pending invitation can be canceled."])
    assert call(client, "post", path + "accept/", person("carol"))[0] == 404
    # The email queued before the cancel finds nothing to send.
    assert deliver_once(BACKGROUND_QUEUE) == (1, [])
    assert mailbox == []
    # Sending again makes it pending for a new week (Waldur resets its creation time).
    assert call(client, "post", path + "send/", boss) == (
        200,
        {"detail": "Invitation sending has been successfully scheduled."},
    )
    _, revived = call(client, "get", path, boss)
    assert revived["state"] == "pending" and revived["created"] > created["created"]
    assert deliver_once(BACKGROUND_QUEUE) == (1, [])
    assert [m.to for m in mailbox] == ["newcomer@example.org"]
    assert [e.event_type for e in events_of(world["acme"]["uuid"])] == [
        "invitation_created",
        "invitation_canceled",
        "invitation_updated",
    ]


@pytest.mark.moto
def test_send_puts_another_message_in_the_local_outbox_once_per_send(client, boss, world, mailbox):
    from chalicelib.workflows import queues
    from chalicelib.workflows.consumer import run

    _, created = invite(client, boss, world["acme"], "CUSTOMER.SUPPORT", "dora@example.org")
    assert call(client, "post", f"/api/user-invitations/{created['uuid']}/send/", boss)[0] == 200
    assert deliver_once(BACKGROUND_QUEUE) == (2, [])
    assert [m.to for m in mailbox] == ["dora@example.org", "dora@example.org"]
    # A redelivered message (same idempotency key) sends nothing twice.
    envelope = queues.envelope_for(
        "invitations.send_email",
        {"customer_uuid": world["acme"]["uuid"], "invitation_uuid": created["uuid"]},
        idempotency_key="once",
    )
    assert run(envelope) is True
    assert run(envelope) is False
    assert len(mailbox) == 3


def test_the_role_already_held_is_refused_and_the_invitation_stays_pending(client, boss, world):
    alice = person("alice", email="newcomer@example.org")
    give_role(boss, ScopeType.PROJECT, world["apollo"]["uuid"], alice, "PROJECT.ADMIN")
    _, created = invite(client, boss, world["apollo"], ADMIN)
    path = f"/api/user-invitations/{created['uuid']}/"
    assert call(client, "post", path + "accept/", alice) == (
        400,
        ["User has already the same role in this scope."],
    )
    assert call(client, "get", path, boss)[1]["state"] == "pending"
    # Someone else at the same address may still take it; it names the role on its scope only.
    bob = person("bob", email="Newcomer@Example.org")
    assert call(client, "post", path + "accept/", bob)[0] == 200
    assert [p["name"] for p in call(client, "get", "/api/projects/", bob)[1]] == ["Apollo"]


def test_a_civil_number_restricts_who_may_accept(client, boss, world):
    _, created = invite(client, boss, world["apollo"], ADMIN, civil_number="EE-123")
    path = f"/api/user-invitations/{created['uuid']}/accept/"
    assert call(client, "post", path, person("eve", email="newcomer@example.org"))[0] == 404
    assert call(client, "post", path, person("frank", civil_number="EE-123"))[0] == 404  # not its address
    frank = person("frank2", civil_number="EE-123", email="newcomer@example.org")
    assert call(client, "post", path, frank)[0] == 200


def test_an_invitation_expires_at_request_time_and_the_job_marks_it(client, boss, world):
    from chalicelib.workflows import invitations as jobs

    alice = person("alice", email="newcomer@example.org")
    _, created = invite(client, boss, world["apollo"], ADMIN)
    path = f"/api/user-invitations/{created['uuid']}/"
    week_ends = clock.parse_iso(created["expires"])
    try:
        clock.set_source(lambda: week_ends - timedelta(seconds=1))
        assert jobs.expire_invitations({}, EventContext()) == 0
        assert call(client, "get", path, boss)[1]["state"] == "pending"
        clock.set_source(lambda: week_ends + timedelta(seconds=1))
        # Before any job ran: expired for every rule.
        assert call(client, "get", path, boss)[1]["state"] == "expired"
        assert call(client, "get", "/api/user-invitations/?state=pending", boss)[1] == []
        assert call(client, "post", path + "accept/", alice)[0] == 404
        assert call(client, "post", path + "cancel/", boss) == (
            400,
            ["Only pending invitation can be canceled."],
        )
        assert events_of(world["acme"]["uuid"], "invitation_expired") == []
        # The hourly job writes the state and the event, once.
        assert jobs.expire_invitations({}, EventContext()) == 1
        assert jobs.expire_invitations({}, EventContext()) == 0
        (expired,) = events_of(world["acme"]["uuid"], "invitation_expired")
        assert expired.context["customer_uuid"] == world["acme"]["uuid"]
        assert expired.context["project_uuid"] == world["apollo"]["uuid"]
        assert created["uuid"] not in str(expired.context) and "newcomer" not in str(expired.context)
        assert call(client, "get", path, boss)[1]["state"] == "expired"
        # Sent again, it is pending for a week from now and may be accepted.
        assert call(client, "post", path + "send/", boss)[0] == 200
        _, revived = call(client, "get", path, boss)
        assert revived["state"] == "pending"
        assert clock.parse_iso(revived["expires"]) == week_ends + timedelta(seconds=1) + timedelta(days=7)
        assert call(client, "post", path + "accept/", alice)[0] == 200
    finally:
        clock.set_source(None)


@pytest.mark.moto
def test_the_expiry_schedule_runs_on_the_background_queue(client, boss, world):
    from chalicelib.workflows import queues, registry
    from chalicelib.workflows.schedules import SCHEDULES

    (entry,) = [s for s in SCHEDULES if s.name == "expire-invitations"]
    assert entry.expression == "rate(1 hour)"
    assert registry.get(entry.task).queue == BACKGROUND_QUEUE
    _, created = invite(client, boss, world["acme"], "CUSTOMER.SUPPORT")
    deliver_once(BACKGROUND_QUEUE)  # the email
    try:
        clock.set_source(lambda: clock.parse_iso(created["expires"]) + timedelta(minutes=1))
        queues.enqueue(entry.task, {})
        assert deliver_once(BACKGROUND_QUEUE) == (1, [])
    finally:
        clock.set_source(None)
    assert [e.event_type for e in events_of(world["acme"]["uuid"])][-1] == "invitation_expired"


@pytest.mark.moto
def test_ses_sends_from_the_configured_address(client, boss, world, monkeypatch):
    from chalicelib.config import reset_settings
    from chalicelib.workflows.aws import client as aws_client

    monkeypatch.setenv("CIRRUS_EMAIL_BACKEND", "ses")
    monkeypatch.setenv("CIRRUS_EMAIL_FROM", "invites@cirrus.example")
    reset_settings()
    _, created = invite(client, boss, world["acme"], "CUSTOMER.SUPPORT")
    path = f"/api/user-invitations/{created['uuid']}/"
    # SES refuses a sender it has not verified: the task fails (and will be retried), the
    # invitation says why.
    received, failed = deliver_once(BACKGROUND_QUEUE)
    assert (received, len(failed)) == (1, 1)
    _, shown = call(client, "get", path, boss)
    assert shown["execution_state"] == "Erred" and "invites@cirrus.example" in shown["error_message"]
    aws_client("ses").verify_email_identity(EmailAddress="invites@cirrus.example")
    assert deliver_once(BACKGROUND_QUEUE) == (1, [])
    assert aws_client("ses").get_send_quota()["SentLast24Hours"] == 1
    _, shown = call(client, "get", path, boss)
    assert (shown["execution_state"], shown["error_message"]) == ("OK", "")


def test_staff_pages_every_invitation_newest_first(client, boss, world):
    emails = [f"p{n}@example.org" for n in range(3)]
    for email in emails:
        assert invite(client, boss, world["acme"], "CUSTOMER.SUPPORT", email)[0] == 201
    response = client.get("/api/user-invitations/?page_size=2&page=2", headers=boss.headers)
    assert response.status_code == 200
    assert response.headers["X-Result-Count"] == "3"
    assert [i["email"] for i in json.loads(response.body)] == ["p0@example.org"]
    _, first = call(client, "get", "/api/user-invitations/?page_size=2", boss)
    assert [i["email"] for i in first] == ["p2@example.org", "p1@example.org"]
    _, by_email = call(client, "get", "/api/user-invitations/?o=email&email=p", boss)
    assert [i["email"] for i in by_email] == emails
    assert call(client, "get", "/api/user-invitations/?o=nonsense", boss)[0] == 400


def mailed_token(mailbox, to):
    """The accept token in the latest mail to `to` (what only the invitee's mailbox holds)."""
    import re

    (body,) = [m.body for m in mailbox if m.to == to][-1:]
    return re.search(r'"token": "([A-Za-z0-9_-]+)"', body).group(1)


@pytest.mark.moto
def test_members_reading_feeds_and_hooks_learn_no_invitation_and_only_the_invitee_accepts(
    client, boss, world, mailbox
):
    """Issue 13, finding 1: a PROJECT.MEMBER and a CUSTOMER.SUPPORT read the project's and customer's
    feeds (and a hook would carry the same events), yet never see an invitation's uuid or address,
    cannot list it, and holding its uuid lets neither them nor an outsider accept it."""
    from chalicelib.domain import hooks
    from chalicelib.workflows.publisher import event_document

    member, support = person("member"), person("support")
    give_role(boss, ScopeType.PROJECT, world["apollo"]["uuid"], member, "PROJECT.MEMBER")
    give_role(boss, ScopeType.CUSTOMER, world["acme"]["uuid"], support, "CUSTOMER.SUPPORT")
    _, to_project = invite(client, boss, world["apollo"], "PROJECT.MANAGER", "Invitee@Example.org")
    _, to_customer = invite(client, boss, world["acme"], "CUSTOMER.MANAGER", "other@example.org")
    assert deliver_once(BACKGROUND_QUEUE) == (2, [])
    secrets = [to_project["uuid"], to_customer["uuid"], "invitee@example.org", "other@example.org"]

    def shown(raw):
        return [s for s in secrets if s in raw.lower()]

    for reader, scope in ((member, world["apollo"]), (support, world["acme"])):
        reply = client.get(f"/api/events/?scope={scope['url']}&feature=invitations", headers=reader.headers)
        assert reply.status_code == 200
        assert "invitation_created" in reply.body.decode()  # they do read the invitations' events
        assert shown(reply.body.decode()) == []
        # Nor does the invitations API show them anything.
        assert call(client, "get", "/api/user-invitations/", reader) == (200, [])
        for invitation in (to_project, to_customer):
            assert call(client, "get", f"/api/user-invitations/{invitation['uuid']}/", reader)[0] == 404
    # A web hook gets these events as Waldur's payload: nothing more.
    documents = [event_document(e) for e in events_of(world["acme"]["uuid"])]
    assert documents and shown(json.dumps([hooks.payload(d) for d in documents])) == []

    # Holding the uuid (as the old events gave it away) accepts nothing: not for a member, not for
    # the customer's support, not for an outsider, whatever their role would become.
    outsider = person("outsider", email="outsider@example.org")
    for caller in (member, support, outsider):
        for invitation in (to_project, to_customer):
            path = f"/api/user-invitations/{invitation['uuid']}/accept/"
            assert call(client, "post", path, caller) == (
                404,
                {"detail": "No Invitation matches the given query."},
            )
            assert call(client, "post", path, caller, {"token": "guessed"})[0] == 404
    pending = call(client, "get", "/api/user-invitations/?state=pending", boss)[1]
    assert len(pending) == 2
    for caller, held in ((member, ["PROJECT.MEMBER"]), (support, ["CUSTOMER.SUPPORT"]), (outsider, [])):
        assert [
            r["role_name"] for r in call(client, "get", "/api/users/me/", caller)[1]["permissions"]
        ] == held

    # The token the customer's invitation mailed lets a member of the tenant accept nothing either:
    # whoever is already inside accepts only what was sent to their own address.
    token = mailed_token(mailbox, "other@example.org")
    path = f"/api/user-invitations/{to_customer['uuid']}/accept/"
    assert call(client, "post", path, member, {"token": token}) == (
        400,
        ["User\u2019s email and email of the invitation are not equal."],
    )
    # The invitee signed in with another address accepts with the mail's token ...
    newcomer = person("newcomer", email="newcomer@elsewhere.example")
    assert call(client, "post", path, newcomer, {"token": token})[0] == 200
    # ... and the project's invitee by their address (compared case-insensitively).
    invitee = person("invitee", email="invitee@example.org")
    accepted = call(client, "post", f"/api/user-invitations/{to_project['uuid']}/accept/", invitee)
    assert accepted == (200, {"detail": "Invitation has been successfully accepted."})
    assert [p["name"] for p in call(client, "get", "/api/projects/", invitee)[1]] == ["Apollo"]
    assert shown(json.dumps([(e.message, e.context) for e in events_of(world["acme"]["uuid"])])) == []


@pytest.mark.moto
def test_a_newer_mail_replaces_the_token_and_links_come_from_the_public_url(
    client, boss, world, mailbox, monkeypatch
):
    """Issue 13, finding 12: the mail's links come from CIRRUS_PUBLIC_URL, whatever Host and
    X-Forwarded-Proto the inviting request carried; each mail's token replaces the previous one."""
    from chalicelib.config import reset_settings

    forged = {**boss.headers, "Host": "evil.example", "X-Forwarded-Proto": "javascript"}
    assert (
        client.post(
            "/api/user-invitations/",
            headers=forged,
            body=json.dumps(
                {"scope": world["acme"]["url"], "role": "CUSTOMER.SUPPORT", "email": "dora@example.org"}
            ),
        ).status_code
        == 400
    )  # a Host nobody allowed is refused before anything is written
    assert call(client, "get", "/api/user-invitations/", boss) == (200, [])

    monkeypatch.setenv("CIRRUS_PUBLIC_URL", "https://cirrus.example.org")
    reset_settings()
    forged = {**boss.headers, "X-Forwarded-Proto": "javascript"}
    body = json.dumps(
        {"scope": world["acme"]["url"], "role": "CUSTOMER.SUPPORT", "email": "dora@example.org"}
    )
    created = json.loads(client.post("/api/user-invitations/", headers=forged, body=body).body)
    assert created["url"].startswith("https://cirrus.example.org/api/user-invitations/")
    assert deliver_once(BACKGROUND_QUEUE) == (1, [])
    first = mailed_token(mailbox, "dora@example.org")
    (message,) = mailbox
    assert f"https://cirrus.example.org/api/user-invitations/{created['uuid']}/accept/" in message.body
    assert "javascript" not in message.body and "evil" not in message.body

    assert call(client, "post", f"/api/user-invitations/{created['uuid']}/send/", boss)[0] == 200
    assert deliver_once(BACKGROUND_QUEUE) == (1, [])
    second = mailed_token(mailbox, "dora@example.org")
    assert second != first
    path = f"/api/user-invitations/{created['uuid']}/accept/"
    dora = person("dora", email="dora@elsewhere.example")
    assert call(client, "post", path, dora, {"token": first})[0] == 404
    assert call(client, "post", path, dora, {"token": second})[0] == 200
    assert call(client, "post", path, person("eve"), {"token": second})[0] == 404  # single use
