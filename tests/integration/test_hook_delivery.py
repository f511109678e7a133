"""Delivering events to hooks, end to end: a change made through the API, its event handed to
`hooks.dispatch` (as the publisher does, or by the publisher itself from a stream record), the
background queue run by the consumer the Lambdas run, and a real HTTP receiver on loopback.

Retries are driven by receiving from the moto queue (the backoff base is 0 here, so no test waits)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import mail, metrics
from chalicelib.domain import hooks as hook_rules
from chalicelib.workflows.aws import client as aws_client
from chalicelib.workflows.registry import BACKGROUND_QUEUE
from tests.conftest import Account, make_account
from tests.helpers import call, create_customer, create_project, feed
from tests.workflow_helpers import deliver_once

PROJECT_CREATED = "project_creation_succeeded"


# --- a receiver on loopback ----------------------------------------------------------------------
@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP endpoint that records each POST and answers the next status of `plan` (then 200)."""

    plan: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    url: str = ""


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Received(dict(self.headers.items()), body))
            self.send_response(receiver.plan.pop(0) if receiver.plan else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receivers() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(*plan: int) -> Receiver:
        receiver = Receiver(list(plan))
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/cirrus-events"
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- the queues ----------------------------------------------------------------------------------
@pytest.fixture
def queued(aws, monkeypatch):
    """The work queues, retries without backoff, and the local mail outbox."""
    from chalicelib.config import reset_settings
    from chalicelib.local.aws import create_queues
    from chalicelib.workflows import queues

    monkeypatch.setenv("CIRRUS_HOOK_RETRY_BASE_SECONDS", "0")
    monkeypatch.setenv("CIRRUS_EMAIL_BACKEND", "local")
    reset_settings()
    queues._lookup_url.cache_clear()
    create_queues(visibility_timeout=30)
    mail.OUTBOX.clear()
    yield
    mail.OUTBOX.clear()
    queues._lookup_url.cache_clear()


def drain(limit: int = 30) -> None:
    """Run the background queue until nothing in it is visible (delayed retries stay queued)."""
    for _ in range(limit):
        if not _waiting():
            return
        assert not deliver_once(BACKGROUND_QUEUE)[1], "a hooks task failed"
    raise AssertionError("the background queue never emptied")


def _waiting() -> int:
    attributes = aws_client("sqs").get_queue_attributes(
        QueueUrl=_background_url(), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def dead_letters() -> list[dict[str, Any]]:
    from chalicelib.workflows import queues

    found = aws_client("sqs").receive_message(
        QueueUrl=queues.dead_letter_url(BACKGROUND_QUEUE), MaxNumberOfMessages=10
    )
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


# --- the world -----------------------------------------------------------------------------------
def web_hook(client: Any, owner: Account, url: str, **fields: Any) -> dict[str, Any]:
    body = {"destination_url": url, "event_types": [PROJECT_CREATED], **fields}
    reply = call(client, "POST", "/api/hooks-web/", owner, body)
    assert reply.status == 201, reply.json
    return reply.json  # type: ignore[no-any-return]


def shown(client: Any, owner: Account, hook: dict[str, Any]) -> dict[str, Any]:
    path = f"/api/{'hooks-web' if hook['hook_type'] == 'webhook' else 'hooks-email'}/{hook['uuid']}/"
    reply = call(client, "GET", path, owner)
    assert reply.status == 200, reply.json
    return reply.json  # type: ignore[no-any-return]


def published(project: dict[str, Any], event_type: str = PROJECT_CREATED) -> dict[str, Any]:
    """The document the publisher makes of a project's event, and hands to `hooks.dispatch`."""
    from chalicelib.workflows.publisher import event_document

    (event,) = [e for e in feed("project", project["uuid"]) if e.event_type == event_type]
    return event_document(event)


def dispatch(document: dict[str, Any]) -> None:
    """Queue the event's dispatch as the publisher does, then run the background queue dry."""
    from chalicelib.workflows.publisher import DISPATCH_TASK
    from chalicelib.workflows.queues import enqueue

    enqueue(DISPATCH_TASK, {"event": document}, idempotency_key=f"hooks:{document['uuid']}")
    drain()


def give_role(client: Any, staff: Account, collection: str, scope: dict[str, Any], user: Account, role: str):
    path = f"/api/{collection}/{scope['uuid']}/add_user/"
    reply = call(client, "POST", path, staff, {"user": user.id, "role": role})
    assert reply.status == 201, reply.json


# --- delivery ------------------------------------------------------------------------------------
def test_a_web_hook_gets_the_event_signed_with_its_secret(client, staff, queued, receivers):
    receiver = receivers()
    hook = web_hook(client, staff, receiver.url)
    project = create_project(client, staff, create_customer(client, staff))
    document = published(project)

    dispatch(document)

    (request,) = receiver.requests
    assert request.json == {
        "created": hook_rules.payload(document)["created"],
        "message": "Project Apollo has been created.",
        "context": document["context"],
        "event_type": PROJECT_CREATED,
    }
    assert request.json["context"]["project_uuid"] == project["uuid"]
    assert request.json["created"].endswith("Z")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Cirrus-Hooks/0.1.0"
    assert request.headers["X-Cirrus-Event-Uuid"] == document["uuid"]
    signature = request.headers["X-Cirrus-Signature"]
    assert hook_rules.verify(hook["secret"], signature, request.body)
    assert not hook_rules.verify("another-secret-of-some-length", signature, request.body)
    assert not hook_rules.verify(hook["secret"], signature, request.body + b" ")

    after = shown(client, staff, hook)
    assert after["last_published"] is not None and after["failure_count"] == 0
    assert (after["last_failure"], after["last_error"]) == (None, "")


def test_a_form_hook_gets_the_event_as_form_fields(client, staff, queued, receivers):
    receiver = receivers()
    hook = web_hook(client, staff, receiver.url, content_type="form")
    project = create_project(client, staff, create_customer(client, staff))

    dispatch(published(project))

    (request,) = receiver.requests
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = {k: v for k, [v] in parse_qs(request.body.decode()).items()}
    assert set(fields) == {"created", "message", "context", "event_type"}
    assert (fields["event_type"], fields["message"]) == (PROJECT_CREATED, "Project Apollo has been created.")
    assert json.loads(fields["context"])["project_uuid"] == project["uuid"]
    assert hook_rules.verify(hook["secret"], request.headers["X-Cirrus-Signature"], request.body)


def test_the_publisher_hands_a_new_event_to_the_hooks(client, staff, queued, receivers):
    """A stream record of the event's insert, through the publisher Lambda's handler."""
    from chalicelib.config import get_settings
    from chalicelib.local.aws import dynamodb_client
    from chalicelib.store import keys
    from chalicelib.workflows.publisher import handle_stream_event

    receiver = receivers()
    web_hook(client, staff, receiver.url)
    project = create_project(client, staff, create_customer(client, staff))
    document = published(project)
    settings = get_settings()
    aws_client("events").create_event_bus(Name=settings.event_bus_name)
    key = {
        "pk": {"S": keys.event_pk(document["customer_uuid"], _created(document))},
        "sk": {"S": document["uuid"]},
    }
    image = dynamodb_client(None).get_item(TableName=settings.table_name, Key=key)["Item"]
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/cirrus/stream/now",
        "dynamodb": {"Keys": key, "NewImage": image, "SequenceNumber": "1", "StreamViewType": "NEW_IMAGE"},
    }

    assert handle_stream_event({"Records": [record]}) == {"batchItemFailures": []}
    drain()

    (request,) = receiver.requests
    assert request.headers["X-Cirrus-Event-Uuid"] == document["uuid"]


def _created(document: dict[str, Any]) -> Any:
    from chalicelib.domain.clock import parse_iso

    return parse_iso(document["created"])


def test_a_failing_receiver_is_retried_until_it_answers_then_never_again(client, staff, queued, receivers):
    from chalicelib.services.hook_delivery import DELIVER_TASK, delivery_key
    from chalicelib.workflows import queues

    receiver = receivers(500, 503, 404)  # three failures, then 200
    hook = web_hook(client, staff, receiver.url)
    document = published(create_project(client, staff, create_customer(client, staff)))

    with metrics.capture() as seen:
        dispatch(document)
    assert [d["attempt"] for d in seen if d.get("HookDeliveryFailures")] == [1, 2, 3]

    assert len(receiver.requests) == 4
    assert {r.headers["X-Cirrus-Event-Uuid"] for r in receiver.requests} == {document["uuid"]}
    after = shown(client, staff, hook)
    assert after["last_published"] is not None and after["failure_count"] == 0
    assert after["last_failure"] is not None and after["last_error"] == "HTTP 4xx"  # the last one, coarsely

    # Each try's message delivered again (SQS delivers at least once), and the dispatch too: no POST.
    url = queues.queue_url(BACKGROUND_QUEUE)
    for attempt in range(1, 5):
        payload = {"kind": "webhook", "user_uuid": staff.id, "hook_uuid": hook["uuid"], "event": document}
        envelope = queues.envelope_for(
            DELIVER_TASK,
            {**payload, "try": attempt},
            idempotency_key=delivery_key(hook["uuid"], document["uuid"], attempt),
        )
        aws_client("sqs").send_message(QueueUrl=url, MessageBody=envelope.model_dump_json())
    with metrics.capture() as again:
        dispatch(document)
    assert len(receiver.requests) == 4
    assert dead_letters() == []
    assert list(again) == []  # a redelivered try is not another failure


def test_a_receiver_that_keeps_failing_ends_in_the_dead_letter_queue(client, staff, queued, receivers):
    receiver = receivers(*[500] * 10)
    hook = web_hook(client, staff, receiver.url)
    document = published(create_project(client, staff, create_customer(client, staff)))

    with metrics.capture() as seen:
        dispatch(document)
    assert seen.names() == ["HookDeliveryFailures"] * 5 + ["HookDeliveriesAbandoned"]
    assert {d["hook_uuid"] for d in seen} == {hook["uuid"]}

    assert len(receiver.requests) == 5  # hook_max_attempts
    (dead,) = dead_letters()
    assert dead["task"] == "hooks.deliver"
    assert (dead["payload"]["hook_uuid"], dead["payload"]["try"]) == (hook["uuid"], 6)  # a redrive's try
    assert dead["payload"]["event"]["uuid"] == document["uuid"]
    after = shown(client, staff, hook)
    assert (after["failure_count"], after["last_error"]) == (5, "HTTP 5xx")
    assert after["last_failure"] is not None and after["last_published"] is None
    assert after["is_active"] is True  # the hook stays; its owner sees why it fails


def test_an_unreachable_receiver_is_a_failure_told_coarsely(client, staff, queued, monkeypatch):
    from chalicelib.config import reset_settings
    from chalicelib.local.aws import free_port

    monkeypatch.setenv("CIRRUS_HOOK_MAX_ATTEMPTS", "2")
    reset_settings()
    hook = web_hook(client, staff, f"http://127.0.0.1:{free_port()}/nobody-listens")
    dispatch(published(create_project(client, staff, create_customer(client, staff))))

    after = shown(client, staff, hook)
    assert after["failure_count"] == 2 and after["last_error"] == "connection failed"  # no port, no reason
    assert len(dead_letters()) == 1


def test_a_retry_waits_its_backoff(client, staff, queued, receivers, monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_HOOK_RETRY_BASE_SECONDS", "30")
    reset_settings()
    receiver = receivers(500)
    web_hook(client, staff, receiver.url)
    dispatch(published(create_project(client, staff, create_customer(client, staff))))

    assert len(receiver.requests) == 1  # the second try is queued, 30 s away
    attributes = aws_client("sqs").get_queue_attributes(
        QueueUrl=_background_url(), AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def _background_url() -> str:
    from chalicelib.workflows import queues

    return queues.queue_url(BACKGROUND_QUEUE)


# --- who gets what -------------------------------------------------------------------------------
def test_a_hook_fires_only_for_events_its_owner_may_see(client, staff, queued, receivers):
    acme, globex = create_customer(client, staff, "Acme"), create_customer(client, staff, "Globex")
    bob = make_account("bob")  # owner of Globex only
    give_role(client, staff, "customers", globex, bob, "CUSTOMER.OWNER")
    carol = make_account("carol")  # member of one Acme project only
    watched = create_project(client, staff, acme, "Watched")
    give_role(client, staff, "projects", watched, carol, "PROJECT.MEMBER")
    staff_in, bob_in, carol_in, idle_in = receivers(), receivers(), receivers(), receivers()
    web_hook(client, staff, staff_in.url)
    web_hook(client, bob, bob_in.url, event_types=[], event_groups=["projects"])  # by group
    web_hook(client, carol, carol_in.url, event_types=["project_update_succeeded", PROJECT_CREATED])
    web_hook(client, bob, idle_in.url, is_active=False)

    dispatch(published(watched))
    in_acme = create_project(client, staff, acme, "Acme Two")
    dispatch(published(in_acme))
    in_globex = create_project(client, staff, globex, "Globex One")
    dispatch(published(in_globex))
    renamed = call(client, "PATCH", f"/api/projects/{watched['uuid']}/", staff, {"name": "Watched Too"})
    assert renamed.status == 200
    dispatch(published(watched, "project_update_succeeded"))

    def messages(receiver: Receiver) -> list[str]:
        return [r.json["message"] for r in receiver.requests]

    assert messages(staff_in) == [
        "Project Watched has been created.",
        "Project Acme Two has been created.",
        "Project Globex One has been created.",
    ]
    assert messages(bob_in) == ["Project Globex One has been created."]
    assert messages(carol_in) == [
        "Project Watched has been created.",
        "Project Watched Too has been updated.",
    ]
    assert messages(idle_in) == []


def test_an_event_about_a_user_reaches_that_users_hooks_and_staffs_only(client, staff, queued, receivers):
    from chalicelib.workflows.publisher import event_document

    alice, bob = make_account("alice"), make_account("bob")
    alice_in, bob_in, staff_in = receivers(), receivers(), receivers()
    for owner, receiver in ((alice, alice_in), (bob, bob_in), (staff, staff_in)):
        web_hook(client, owner, receiver.url, event_types=["user_update_succeeded"])
    assert call(client, "PATCH", f"/api/users/{alice.id}/", staff, {"full_name": "Alice A."}).status == 200
    (event,) = [e for e in feed("user", alice.id) if e.event_type == "user_update_succeeded"]

    dispatch(event_document(event))

    assert [len(r.requests) for r in (alice_in, bob_in, staff_in)] == [1, 0, 1]
    assert alice_in.requests[0].json["context"]["affected_user_uuid"] == alice.id


def test_an_event_beyond_one_tenants_scopes_is_checked_owner_by_owner(client, staff, queued, receivers):
    """Events naming an offering (the marketplace's) are decided by each owner's own grants."""
    acme = create_customer(client, staff, "Acme")
    bob, carol = make_account("bob"), make_account("carol")
    give_role(client, staff, "customers", acme, bob, "CUSTOMER.OWNER")
    bob_in, carol_in = receivers(), receivers()
    web_hook(client, bob, bob_in.url)
    web_hook(client, carol, carol_in.url)
    document = published(create_project(client, staff, acme))
    document["scopes"] = [["offering", "0" * 32], *document["scopes"]]

    dispatch(document)

    assert (len(bob_in.requests), len(carol_in.requests)) == (1, 0)


def test_a_hook_stops_matching_when_its_owner_loses_sight_and_goes_with_the_owner(
    client, staff, queued, receivers
):
    from chalicelib.store import hooks

    acme = create_customer(client, staff, "Acme")
    bob = make_account("bob")
    give_role(client, staff, "customers", acme, bob, "CUSTOMER.OWNER")
    receiver = receivers()
    hook = web_hook(client, bob, receiver.url)
    dispatch(published(create_project(client, staff, acme, "One")))
    assert len(receiver.requests) == 1

    revoke = {"user": bob.id, "role": "CUSTOMER.OWNER"}
    removed = call(client, "POST", f"/api/customers/{acme['uuid']}/delete_user/", staff, revoke)
    assert removed.status == 200, removed.json
    dispatch(published(create_project(client, staff, acme, "Two")))
    assert len(receiver.requests) == 1
    assert shown(client, bob, hook)["is_active"] is True  # the hook stays valid

    assert call(client, "DELETE", f"/api/users/{bob.id}/", staff).status == 204
    assert call(client, "GET", "/api/hooks/", staff).json == []
    assert hooks.subscribers(PROJECT_CREATED) == []


def test_an_email_hook_mails_the_event(client, staff, queued):
    alice = make_account("alice", email="alice@example.org")
    acme = create_customer(client, staff, "Acme")
    give_role(client, staff, "customers", acme, alice, "CUSTOMER.OWNER")
    body = {"email": "ops@example.org", "event_types": [PROJECT_CREATED]}
    hook = call(client, "POST", "/api/hooks-email/", alice, body).json
    project = create_project(client, staff, acme)

    dispatch(published(project))

    (message,) = mail.OUTBOX
    assert (message.to, message.subject) == ("ops@example.org", "Project Apollo has been created.")
    assert message.body.startswith("Project Apollo has been created.")
    assert f"project_uuid: {project['uuid']}" in message.body
    assert shown(client, alice, hook)["last_published"] is not None


# --- where a delivery may connect ----------------------------------------------------------------
LOOPBACK = (ip_network("127.0.0.0/8"), ip_network("::1/128"))


@dataclass
class FakeDns:
    """A resolver answering from a table, and noting what it was asked."""

    answers: dict[str, list[str]]
    asked: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return self.answers[host]


def _port(receiver: Receiver) -> int:
    return int(urlsplit(receiver.url).port or 0)


def test_a_name_resolving_to_an_internal_address_is_refused_without_connecting(receivers):
    from chalicelib import webhooks

    receiver = receivers()
    url = f"http://hooks.example:{_port(receiver)}/in"
    for answer in (["127.0.0.1"], ["8.8.8.8", "127.0.0.1"], ["::1"], ["169.254.169.254"]):  # any of them
        dns = FakeDns({"hooks.example": answer})
        outcome = webhooks.post(url, b"{}", {}, 5, allowed=(), resolver=dns)
        assert outcome.error == "address not allowed", answer
        assert dns.asked == [("hooks.example", _port(receiver))]
    assert receiver.requests == []
    # An address in the URL is not resolved: it is vetted as it is.
    literal = f"http://2130706433:{_port(receiver)}/in"
    assert webhooks.post(literal, b"{}", {}, 5, resolver=FakeDns({})).error == "address not allowed"
    assert receiver.requests == []


def test_an_allowed_name_is_delivered_to_the_vetted_address_under_its_own_name(receivers):
    """hooks.example resolves nowhere but in the fake table: the POST reaching the receiver went to
    the address vetted, with the name in its Host header. A 3xx is a failure, not followed."""
    from chalicelib import webhooks

    receiver = receivers(302)
    url = f"http://hooks.example:{_port(receiver)}/in?x=1"
    dns = FakeDns({"hooks.example": ["127.0.0.1"]})

    assert webhooks.post(url, b'{"a": 1}', {"X-Test": "1"}, 5, LOOPBACK, dns).error == "HTTP 3xx"
    assert webhooks.post(url, b'{"a": 1}', {"X-Test": "1"}, 5, LOOPBACK, dns) == webhooks.Outcome()

    assert len(receiver.requests) == 2
    assert receiver.requests[1].headers["Host"] == f"hooks.example:{_port(receiver)}"
    assert (receiver.requests[1].headers["X-Test"], receiver.requests[1].body) == ("1", b'{"a": 1}')


def test_https_verifies_the_certificate_against_the_name_not_the_address(tmp_path):
    from chalicelib import webhooks

    authority = _tls_authority(tmp_path)
    client_tls = ssl.create_default_context(cafile=str(authority / "ca.pem"))
    dns = FakeDns({"hooks.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    with _tls_receiver(authority) as port:
        good = webhooks.post(f"https://hooks.example:{port}/", b"{}", {}, 5, LOOPBACK, dns, client_tls)
        wrong = webhooks.post(f"https://other.example:{port}/", b"{}", {}, 5, LOOPBACK, dns, client_tls)
    assert good == webhooks.Outcome()
    assert wrong.error == "connection failed" and "CERTIFICATE_VERIFY_FAILED" in wrong.detail


def test_a_hook_whose_name_resolves_to_loopback_fails_as_address_not_allowed_unless_allowed(
    client, staff, queued, receivers, monkeypatch
):
    """The delivery use case with the resolver passed in: refused under a deployment's default (the
    hook says "address not allowed", nothing else), delivered once loopback is allowed."""
    from chalicelib.config import reset_settings
    from chalicelib.services import hook_delivery

    receiver = receivers()
    hook = web_hook(client, staff, f"http://hooks.example:{_port(receiver)}/in")  # a name: vetted later
    document = published(create_project(client, staff, create_customer(client, staff)))
    payload = {"kind": "webhook", "user_uuid": staff.id, "hook_uuid": hook["uuid"], "event": document}
    dns = FakeDns({"hooks.example": ["127.0.0.1"]})

    monkeypatch.setenv("CIRRUS_HOOK_ALLOWED_NETWORKS", "")
    reset_settings()
    assert hook_delivery.deliver({**payload, "try": 1}, resolver=dns) == hook_delivery.FAILED
    assert receiver.requests == []
    after = shown(client, staff, hook)
    assert (after["failure_count"], after["last_error"]) == (1, "address not allowed")

    monkeypatch.setenv("CIRRUS_HOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    reset_settings()
    assert hook_delivery.deliver({**payload, "try": 2}, resolver=dns) == hook_delivery.DELIVERED
    (request,) = receiver.requests
    assert request.headers["X-Cirrus-Event-Uuid"] == document["uuid"]
    assert shown(client, staff, hook)["failure_count"] == 0


def _tls_authority(folder: Path) -> Path:
    """A certificate authority (ca.pem) and a server certificate for hooks.example it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def certificate(subject: str, key: Any, issuer: str, signer: Any, extensions: list[Any]) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate(
        "Test CA", ca_key, "Test CA", ca_key, [(x509.BasicConstraints(ca=True, path_length=None), True)]
    )
    server = certificate(
        "hooks.example", server_key, "Test CA", ca_key,
        [(x509.SubjectAlternativeName([x509.DNSName("hooks.example")]), False)],
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(server.public_bytes(pem))
    key = server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (folder / "server.key").write_bytes(key)
    return folder


@contextmanager
def _tls_receiver(authority: Path) -> Iterator[int]:
    """An HTTPS receiver on loopback answering 200 with the hooks.example certificate."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver()))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(authority / "server.pem"), str(authority / "server.key"))
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
