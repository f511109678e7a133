"""The rules of hooks without any AWS: subscriptions (Waldur's expansion of groups), what a delivery
sends and how it is signed, and the retry schedule."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from urllib.parse import parse_qs

import pytest

from chalicelib.domain import hooks
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.events import EVENT_GROUPS

DOCUMENT = {
    "uuid": "0190a1b2c3d4e5f60718293a4b5c6d7e",
    "created": "2025-03-04T05:06:07.123456+00:00",
    "event_type": "project_creation_succeeded",
    "message": "Project Apollo has been created.",
    "context": {"project_name": "Apollo", "user_username": "staff"},
    "customer_uuid": "c1",
    "scopes": [["customer", "c1"], ["project", "p1"]],
}


def test_a_signature_is_hmac_sha256_of_the_timestamp_and_the_body():
    body = b'{"a": 1}'
    expected = hmac.new(b"k" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert hooks.signature("k" * 16, 1700000000, body) == f"t=1700000000,v1={expected}"
    header = hooks.signature("k" * 16, 1700000000, body)
    assert hooks.verify("k" * 16, header, body)
    assert not hooks.verify("k" * 16, header, body + b"\n")
    assert not hooks.verify("x" * 16, header, body)
    assert not hooks.verify("k" * 16, header.replace("t=1700000000", "t=1700000001"), body)
    assert not hooks.verify("k" * 16, "garbage", body)


def test_the_payload_is_waldurs_four_fields():
    assert hooks.payload(DOCUMENT) == {
        "created": "2025-03-04T05:06:07.123456Z",
        "message": "Project Apollo has been created.",
        "context": {"project_name": "Apollo", "user_username": "staff"},
        "event_type": "project_creation_succeeded",
    }


def test_json_and_form_bodies():
    payload = hooks.payload(DOCUMENT)
    raw, media = hooks.encode(hooks.ContentType.JSON, payload)
    assert (json.loads(raw), media) == (payload, "application/json")
    raw, media = hooks.encode(hooks.ContentType.FORM, payload)
    assert media == "application/x-www-form-urlencoded"
    fields = {k: v for k, [v] in parse_qs(raw.decode()).items()}
    assert json.loads(fields.pop("context")) == payload["context"]
    assert fields == {k: payload[k] for k in ("created", "message", "event_type")}


def test_retries_double_from_the_base_up_to_sqs_longest_delay():
    assert [hooks.retry_delay(attempt, 30) for attempt in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert [hooks.retry_delay(attempt, 0) for attempt in range(1, 4)] == [0, 0, 0]


def test_a_new_hook_names_types_or_groups_and_groups_are_expanded():
    with pytest.raises(ValidationError) as refused:
        hooks.subscription_changes({"destination_url": "x"}, creating=True)
    assert refused.value.errors == {"non_field_errors": [hooks.SPECIFY_EVENTS]}
    assert hooks.subscription_changes({"event_types": []}, creating=True)["event_types"] == ()
    assert hooks.subscription_changes({"is_active": False}, creating=False) == {"is_active": False}

    both = hooks.subscription_changes(
        {"event_types": ["role_granted", "user_creation_succeeded"], "event_groups": ["projects"]},
        creating=True,
    )
    assert both["event_groups"] == ("projects",)
    wanted = {*EVENT_GROUPS["projects"], "role_granted", "user_creation_succeeded"}
    assert both["event_types"] == tuple(sorted(wanted))


def test_choices_are_drfs_multiple_choice_field():
    assert hooks.event_type_choices(["role_granted", "role_granted"]) == ["role_granted"]
    with pytest.raises(ValueError, match=re.escape('"nope" is not a valid choice.')):
        hooks.event_type_choices(["role_granted", "nope"])
    with pytest.raises(ValueError, match=re.escape('Expected a list of items but got type "str".')):
        hooks.event_group_choices("projects")
    with pytest.raises(ValueError, match=re.escape('"xml" is not a valid choice.')):
        hooks.content_type_choice("xml")


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://receiver.example/in?x=1", True),
        ("http://127.0.0.1:8080/", True),
        ("ftp://files.example/", False),
        ("receiver.example/in", False),
        ("http://", False),
        ("http://host:port/", False),
        ("https://has space.example/", False),
    ],
)
def test_destination_urls_are_absolute_http_or_https(url, valid):
    if valid:
        assert hooks.destination_url(url) == url
    else:
        with pytest.raises(ValueError, match=re.escape("Enter a valid URL.")):
            hooks.destination_url(url)


def test_an_email_hook_mails_the_message_with_its_context():
    subject, body = hooks.email_message(DOCUMENT)
    assert subject == "Project Apollo has been created."
    assert body.splitlines()[0] == subject
    assert "  project_name: Apollo" in body.splitlines()
    assert "Event type: project_creation_succeeded" in body


def test_the_readmes_verification_snippet_accepts_cirrus_signatures_only():
    import time
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    (snippet,) = [block for block in readme.split("```python\n")[1:] if "def verified(" in block]
    namespace: dict = {}
    exec(snippet.split("```")[0], namespace)  # the receiver's code, as the README prints it
    body = b'{"event_type": "role_granted"}'
    now = int(time.time())
    header = hooks.signature("a-secret-of-16+chars", now, body)
    assert namespace["verified"]("a-secret-of-16+chars", header, body)
    assert not namespace["verified"]("a-secret-of-16+chars", header, body + b" ")
    assert not namespace["verified"]("another-secret-16chars", header, body)
    stale = hooks.signature("a-secret-of-16+chars", now - 3600, body)
    assert not namespace["verified"]("a-secret-of-16+chars", stale, body)
