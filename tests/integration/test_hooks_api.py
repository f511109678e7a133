"""Hooks over HTTP: `/api/hooks-web/`, `/api/hooks-email/` and `/api/hooks/` in Waldur's fields and
errors; a user's own hooks only (staff: everybody's); a web hook's secret shown once; the
subscription index following every change."""

from __future__ import annotations

import pytest

from chalicelib.domain.events import EVENT_GROUPS
from tests.conftest import make_account
from tests.helpers import call

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes

WEB, EMAIL, SUMMARY = "/api/hooks-web/", "/api/hooks-email/", "/api/hooks/"
RECEIVER = "https://receiver.example/cirrus"
PROJECT_CREATED = "project_creation_succeeded"

WALDUR_FIELDS = {
    "url", "uuid", "is_active", "author_uuid", "event_types", "event_groups", "created", "modified",
    "hook_type", "author_fullname", "author_username", "author_email",
}  # fmt: skip
HEALTH_FIELDS = {"last_published", "last_failure", "last_error", "failure_count"}


def web_hook(client, account, **fields):
    body = {"destination_url": RECEIVER, "event_types": [PROJECT_CREATED], **fields}
    reply = call(client, "POST", WEB, account, body)
    assert reply.status == 201, reply.json
    return reply.json


def email_hook(client, account, **fields):
    body = {"email": "alerts@example.org", "event_groups": ["customers"], **fields}
    reply = call(client, "POST", EMAIL, account, body)
    assert reply.status == 201, reply.json
    return reply.json


def subscribed(event_type):
    """The hook ids the subscription index files under `event_type` (what dispatch reads)."""
    from chalicelib.services.ports import hooks

    return sorted(s.hook_id for s in hooks.subscribers(event_type))


def test_a_user_creates_a_web_hook_in_waldurs_shape_and_sees_its_secret_once(client, alice):
    created = web_hook(client, alice, event_groups=["projects"])

    assert set(created) == WALDUR_FIELDS | HEALTH_FIELDS | {"destination_url", "content_type", "secret"}
    assert created["url"].endswith(f"/api/hooks-web/{created['uuid']}/")
    assert (created["hook_type"], created["destination_url"], created["content_type"]) == (
        "webhook",
        RECEIVER,
        "json",
    )
    assert (created["author_uuid"], created["author_username"]) == (alice.id, "alice")
    assert (created["author_fullname"], created["author_email"]) == ("Alice Example", "alice@example.org")
    assert created["is_active"] is True and created["created"] == created["modified"]
    # Waldur stores the groups' types with the types given, and shows the groups as given.
    assert created["event_groups"] == ["projects"]
    assert created["event_types"] == sorted(set(EVENT_GROUPS["projects"]) | {PROJECT_CREATED})
    assert (created["last_published"], created["last_failure"], created["last_error"]) == (None, None, "")
    assert created["failure_count"] == 0
    assert len(created["secret"]) >= 40  # secrets.token_urlsafe(32)

    shown = call(client, "GET", f"{WEB}{created['uuid']}/", alice).json
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    (listed,) = call(client, "GET", WEB, alice).json
    assert listed == shown
    assert "secret" not in call(client, "PATCH", f"{WEB}{created['uuid']}/", alice, {"is_active": True}).json


@pytest.mark.moto
def test_a_secret_sent_on_create_is_the_one_kept(client, alice):
    chosen = "s3cret-of-sixteen-or-more"
    created = web_hook(client, alice, secret=chosen)
    assert created["secret"] == chosen
    from chalicelib.domain.hooks import HookKind
    from chalicelib.store import hooks

    assert hooks.load(HookKind.WEB, created["uuid"]).secret == chosen


def test_an_email_hook_has_waldurs_fields(client, alice):
    created = email_hook(client, alice)
    assert set(created) == WALDUR_FIELDS | HEALTH_FIELDS | {"email"}
    assert (created["hook_type"], created["email"]) == ("email", "alerts@example.org")
    assert created["url"].endswith(f"/api/hooks-email/{created['uuid']}/")
    assert created["event_types"] == sorted(EVENT_GROUPS["customers"])


BAD_BODIES = [
    ("web", {}, {"destination_url": ["This field is required."]}),
    (
        "web",
        {"destination_url": RECEIVER},
        {"non_field_errors": ["Please specify list of event_types or event_groups."]},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_types": ["nope"]},
        {"event_types": ['"nope" is not a valid choice.']},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_types": PROJECT_CREATED},
        {"event_types": ['Expected a list of items but got type "str".']},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_types": None},
        {"event_types": ["This field may not be null."]},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_groups": ["projects", "nope"]},
        {"event_groups": ['"nope" is not a valid choice.']},
    ),
    (
        "web",
        {"destination_url": "not a url", "event_types": [PROJECT_CREATED]},
        {"destination_url": ["Enter a valid URL."]},
    ),
    (
        "web",
        {"destination_url": "ftp://files.example/", "event_types": []},
        {"destination_url": ["Enter a valid URL."]},
    ),
    ("web", {"destination_url": "http://", "event_types": []}, {"destination_url": ["Enter a valid URL."]}),
    (
        "web",
        {"destination_url": "http://user:pw@receiver.example/", "event_types": []},
        {"destination_url": ["Enter a URL without a user name or password."]},
    ),
    (
        "web",
        {"destination_url": "", "event_types": []},
        {"destination_url": ["This field may not be blank."]},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_types": [], "content_type": "xml"},
        {"content_type": ['"xml" is not a valid choice.']},
    ),
    # Not a string at all (once a 500: an unhashable value met the choices' set). DRF quotes str(value).
    (
        "web",
        {"destination_url": RECEIVER, "event_types": [], "content_type": {}},
        {"content_type": ['"{}" is not a valid choice.']},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_types": [], "content_type": ["json"]},
        {"content_type": ["\"['json']\" is not a valid choice."]},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_types": [], "secret": "short"},
        {"secret": ["Ensure this field has at least 16 characters."]},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_types": [], "secret": "x" * 257},
        {"secret": ["Ensure this field has no more than 256 characters."]},
    ),
    (
        "web",
        {"destination_url": RECEIVER, "event_types": [], "is_active": "maybe"},
        {"is_active": ["Must be a valid boolean."]},
    ),
    ("email", {"event_types": [PROJECT_CREATED]}, {"email": ["This field is required."]}),
    (
        "email",
        {"email": "nope", "event_types": [PROJECT_CREATED]},
        {"email": ["Enter a valid email address."]},
    ),
    (
        "email",
        {"email": "a@example.org"},
        {"non_field_errors": ["Please specify list of event_types or event_groups."]},
    ),
]


@pytest.mark.parametrize(("kind", "body", "expected"), BAD_BODIES, ids=[str(b[2]) for b in BAD_BODIES])
def test_a_bad_hook_is_refused_in_drfs_shape_and_nothing_is_stored(client, alice, kind, body, expected):
    path = WEB if kind == "web" else EMAIL
    reply = call(client, "POST", path, alice, body)
    assert (reply.status, reply.json) == (400, expected)
    assert call(client, "GET", path, alice).json == []
    assert subscribed(PROJECT_CREATED) == []


# One of each kind of internal address a URL may name by itself (tests/unit has them all).
INTERNAL_URLS = [
    "http://127.0.0.1:8000/api/",
    "http://localhost/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
]


def test_a_web_hook_naming_an_internal_address_is_refused_and_nothing_is_stored(client, alice, monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_HOOK_ALLOWED_NETWORKS", "")  # a deployment's default: none
    reset_settings()
    refused = {
        "destination_url": [
            "Web hooks may not be sent to loopback, private, link-local, multicast, reserved or "
            "unspecified addresses."
        ]
    }
    for url in INTERNAL_URLS:
        reply = call(client, "POST", WEB, alice, {"destination_url": url, "event_types": [PROJECT_CREATED]})
        assert (reply.status, reply.json) == (400, refused), url
    assert call(client, "GET", WEB, alice).json == []
    assert subscribed(PROJECT_CREATED) == []

    hook = web_hook(client, alice)
    path = f"{WEB}{hook['uuid']}/"
    before = call(client, "GET", path, alice).json
    for url in INTERNAL_URLS:
        for method, body in (
            ("PATCH", {"destination_url": url}),
            ("PUT", {"destination_url": url, "event_types": []}),
        ):
            reply = call(client, method, path, alice, body)
            assert (reply.status, reply.json) == (400, refused), (method, url)
    assert call(client, "GET", path, alice).json == before


def test_the_operators_allowed_networks_admit_their_addresses_only(client, alice, monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.setenv("CIRRUS_HOOK_ALLOWED_NETWORKS", "10.1.0.0/16")
    reset_settings()
    assert web_hook(client, alice, destination_url="http://10.1.2.3:8080/in")["destination_url"]
    assert (
        call(client, "POST", WEB, alice, {"destination_url": "http://10.2.0.1/", "event_types": []}).status
        == 400
    )
    assert (
        call(client, "POST", WEB, alice, {"destination_url": "http://127.0.0.1/", "event_types": []}).status
        == 400
    )


def test_put_and_patch_change_what_they_name_and_the_index_follows(client, alice):
    hook = web_hook(client, alice)
    path = f"{WEB}{hook['uuid']}/"
    assert subscribed(PROJECT_CREATED) == [hook["uuid"]]

    # Groups sent again are expanded again (into exactly their types and the types sent with them).
    patched = call(client, "PATCH", path, alice, {"event_groups": ["customers"]}).json
    assert patched["event_groups"] == ["customers"]
    assert patched["event_types"] == sorted(EVENT_GROUPS["customers"])
    assert patched["modified"] > hook["modified"] and patched["created"] == hook["created"]
    assert subscribed(PROJECT_CREATED) == [] and subscribed("customer_update_succeeded") == [hook["uuid"]]

    # An inactive hook leaves the index; active again, it is back.
    assert call(client, "PATCH", path, alice, {"is_active": False}).json["is_active"] is False
    assert subscribed("customer_update_succeeded") == []
    call(client, "PATCH", path, alice, {"is_active": True})
    assert subscribed("customer_update_succeeded") == [hook["uuid"]]

    put = call(
        client,
        "PUT",
        path,
        alice,
        {
            "destination_url": "http://other.example/in",
            "content_type": "form",
            "event_types": [PROJECT_CREATED],
        },
    ).json
    assert (put["destination_url"], put["content_type"]) == ("http://other.example/in", "form")
    # Only types were sent: they are the hook's types now; its groups stay as they were (Waldur).
    assert (put["event_types"], put["event_groups"]) == ([PROJECT_CREATED], ["customers"])
    assert subscribed(PROJECT_CREATED) == [hook["uuid"]] and subscribed("customer_update_succeeded") == []

    # A hook need not name types after creation; bad values are refused and change nothing.
    assert call(client, "PATCH", path, alice, {"content_type": "xml"}).status == 400
    assert call(client, "PATCH", path, alice, {"destination_url": None}).json == {
        "destination_url": ["This field may not be null."]
    }
    assert call(client, "PUT", path, alice, {"event_types": []}).json == {
        "destination_url": ["This field is required."]
    }
    assert call(client, "GET", path, alice).json == put

    assert call(client, "DELETE", path, alice).status == 204
    assert call(client, "GET", path, alice).status == 404
    assert subscribed(PROJECT_CREATED) == []


def test_others_hooks_are_404_and_staff_manage_everybodys(client, staff, alice):
    bob = make_account("bob")
    mine = web_hook(client, alice)
    path = f"{WEB}{mine['uuid']}/"
    not_found = {"detail": "No WebHook matches the given query."}
    attempts = [
        ("GET", None),
        ("PUT", {"destination_url": RECEIVER}),
        ("PATCH", {"is_active": False}),
        ("DELETE", None),
    ]
    for method, body in attempts:
        reply = call(client, method, path, bob, body)
        assert (reply.status, reply.json) == (404, not_found), method
    assert call(client, "GET", WEB, bob).json == []
    assert call(client, "GET", SUMMARY, bob).json == []
    # The same uuid under the other kind is no hook at all.
    assert call(client, "GET", f"{EMAIL}{mine['uuid']}/", alice).status == 404
    assert call(client, "GET", f"{WEB}not-a-uuid/", alice).status == 404

    assert [h["uuid"] for h in call(client, "GET", WEB, staff).json] == [mine["uuid"]]
    changed = call(client, "PATCH", path, staff, {"is_active": False}).json
    assert (changed["is_active"], changed["author_username"]) == (False, "alice")  # still alice's
    assert call(client, "DELETE", path, staff).status == 204
    assert call(client, "GET", path, alice).status == 404


def test_the_summary_lists_both_kinds_newest_first_with_their_own_fields(client, staff, alice):
    web = web_hook(client, alice)
    email = email_hook(client, alice, is_active=False)
    theirs = web_hook(client, make_account("bob", email="bob@example.org"))

    summary = call(client, "GET", SUMMARY, alice).json
    assert [(h["uuid"], h["hook_type"]) for h in summary] == [
        (email["uuid"], "email"),
        (web["uuid"], "webhook"),
    ]
    assert summary[0] == {k: v for k, v in email.items()}
    assert summary[1] == {k: v for k, v in web.items() if k != "secret"}

    everybody = call(client, "GET", SUMMARY, staff)
    assert [h["uuid"] for h in everybody.json] == [theirs["uuid"], email["uuid"], web["uuid"]]
    assert everybody.headers["X-Result-Count"] == "3"
    assert [h["uuid"] for h in call(client, "GET", f"{SUMMARY}?author_username=bob", staff).json] == [
        theirs["uuid"]
    ]
    assert [h["uuid"] for h in call(client, "GET", f"{SUMMARY}?is_active=false", staff).json] == [
        email["uuid"]
    ]
    assert [h["uuid"] for h in call(client, "GET", f"{SUMMARY}?query=BOB@", staff).json] == [theirs["uuid"]]


def test_lists_filter_and_page_as_waldurs(client, staff, alice, settle):
    json_hook = web_hook(client, alice)
    form_hook = web_hook(client, alice, content_type="form", destination_url="http://form.example/")
    mail = email_hook(client, alice)

    def uuids(path, who=alice):
        return [h["uuid"] for h in call(client, "GET", path, who).json]

    assert uuids(f"{WEB}?content_type=2") == uuids(f"{WEB}?content_type=form") == [form_hook["uuid"]]
    assert uuids(f"{WEB}?destination_url={RECEIVER}") == [json_hook["uuid"]]
    assert uuids(f"{EMAIL}?email=alerts@example.org") == [mail["uuid"]]
    assert uuids(f"{WEB}?author_uuid={alice.id}", staff) == [form_hook["uuid"], json_hook["uuid"]]
    assert uuids(f"{WEB}?author_fullname=alice ex", staff) == [form_hook["uuid"], json_hook["uuid"]]
    settle()  # the staff's total is counted from the stream
    first = call(client, "GET", f"{WEB}?page_size=1", staff)
    assert [h["uuid"] for h in first.json] == [form_hook["uuid"]]
    assert first.headers["X-Result-Count"] == "2" and 'rel="next"' in first.headers["Link"]
    assert uuids(f"{WEB}?page_size=1&page=2", staff) == [json_hook["uuid"]]
    assert call(client, "GET", f"{WEB}?content_type=xml", alice).json == {
        "content_type": ["Select a valid choice. xml is not one of the available choices."]
    }
    assert call(client, "GET", f"{WEB}?author_uuid=nope", alice).json == {
        "author_uuid": ["Enter a valid UUID."]
    }
    assert call(client, "HEAD", WEB, alice).headers["X-Result-Count"] == "2"


def test_anonymous_callers_are_refused(client, alice):
    web_hook(client, alice)
    for path in (WEB, EMAIL, SUMMARY):
        assert call(client, "GET", path).status == 401
    assert call(client, "POST", WEB, None, {"destination_url": RECEIVER, "event_types": []}).status == 401
